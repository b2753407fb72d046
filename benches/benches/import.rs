//! Import throughput (PBF MB/s, OSM nodes/s) and graph-file load time on every shipped map.
//!
//! Run: `cargo bench -p benches --bench import`.

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use test_support::{map_path, MAPS};

fn import(c: &mut Criterion) {
    let profile = osm_data::Profile::default();
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for name in MAPS {
        let path = map_path(name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        group.throughput(Throughput::Bytes(size));
        group.bench_with_input(BenchmarkId::from_parameter(name), &path, |b, path| {
            b.iter(|| osm_data::import(path, &profile, &mut |_| {}).map(|i| i.graph.node_count()))
        });
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let profile = osm_data::Profile::default();
    let dir = std::env::temp_dir().join(format!("ambulance-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut group = c.benchmark_group("graph_load");
    for name in MAPS {
        let Ok(imported) = osm_data::import(&map_path(name), &profile, &mut |_| {}) else {
            continue;
        };
        let file = dir.join(format!("{name}.graph"));
        if osm_data::graph_file::save(&imported.graph, &file).is_err() {
            continue;
        }
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        group.throughput(Throughput::Bytes(size));
        group.bench_with_input(BenchmarkId::from_parameter(name), &file, |b, file| {
            b.iter(|| osm_data::graph_file::load(file).map(|g| g.node_count()))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, import, load);
criterion_main!(benches);
