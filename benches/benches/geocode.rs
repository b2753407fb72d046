//! The address index (`osm_data::address`) on Heidelberg and the Moscow fragment: its build
//! time and size, and the time of a search for a fixed set of realistic queries (full
//! addresses, the prefixes a call-taker types on the way, one typo, street names, reverse
//! searches), with p50 and p99 per kind of query; beside it, the peer a user would write
//! first: a linear scan of every address's text by normalised Damerau–Levenshtein
//! similarity (`strsim`).
//!
//! The queries are the real addresses nearest to a fixed grid of points on each map, so
//! they exist and are the same every run. The target is p99 ≤ 5 ms a query on Heidelberg.
//!
//! Run: `cargo bench -p benches --bench geocode`.

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use osm_data::address::{AddressIndex, MatchKind};
use simulator::stats::percentile;

/// The maps, with the middle of their town.
const MAPS: [(&str, f64, f64); 2] = [
    ("heidelberg", 49.408, 8.690),
    ("moscow-fragment", 55.757, 37.615),
];

use test_support::map_path;

/// The queries of one kind.
struct Kind {
    name: &'static str,
    queries: Vec<String>,
}

/// Real addresses near a 7 × 7 grid of points 600 m apart, written as typed.
fn queries(index: &AddressIndex, lat: f64, lon: f64) -> Vec<Kind> {
    let mut full = Vec::new();
    for i in 0..7 {
        for j in 0..7 {
            let p = (
                lat + (i as f64 - 3.0) * 0.0054,
                lon + (j as f64 - 3.0) * 0.0054 / lat.to_radians().cos(),
            );
            if let Some(m) = index.nearest(p.0, p.1) {
                if !full.contains(&m) {
                    full.push(m);
                }
            }
        }
    }
    let street = |m: &osm_data::address::Match| m.address.street.clone().unwrap_or_default();
    let house = |m: &osm_data::address::Match| m.address.housenumber.clone().unwrap_or_default();
    let typo = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        let k = c.len() / 2;
        if k + 1 < c.len() {
            c.swap(k, k + 1);
        }
        c.into_iter().collect::<String>()
    };
    let mut prefixes = Vec::new();
    for m in &full {
        let text = format!("{} {}", street(m), house(m));
        let chars: Vec<char> = text.chars().collect();
        for n in [2, 4, 7, 10, chars.len()] {
            prefixes.push(chars[..n.min(chars.len())].iter().collect());
        }
    }
    vec![
        Kind {
            name: "full",
            queries: full.iter().map(|m| m.display.clone()).collect(),
        },
        Kind {
            name: "lowercase",
            queries: full
                .iter()
                .map(|m| format!("{} {}", street(m).to_lowercase(), house(m)))
                .collect(),
        },
        Kind {
            name: "as_you_type",
            queries: prefixes,
        },
        Kind {
            name: "typo",
            queries: full
                .iter()
                .map(|m| format!("{} {}", typo(&street(m)), house(m)))
                .collect(),
        },
        Kind {
            name: "street",
            queries: full.iter().map(street).collect(),
        },
    ]
}

/// Times every query of every kind 50 times and prints p50, p99 and the share found.
fn report(map: &str, index: &AddressIndex, kinds: &[Kind]) {
    for k in kinds {
        let mut times = Vec::new();
        let mut found = 0;
        for q in &k.queries {
            let first = index.search(q, 10);
            found += usize::from(first.first().is_some_and(|m| m.kind != MatchKind::Place));
            for _ in 0..50 {
                let t = Instant::now();
                std::hint::black_box(index.search(q, 10));
                times.push(t.elapsed());
            }
        }
        times.sort();
        println!(
            "geocode {map:>16} {:>12}: {:>4} queries, p50 {:>9.1?}, p99 {:>9.1?}, max {:>9.1?}, {found} answered",
            k.name,
            k.queries.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or_default(),
        );
    }
}

fn geocode(c: &mut Criterion) {
    for (map, lat, lon) in MAPS {
        let path = map_path(map);
        let t = Instant::now();
        let Ok(index) = AddressIndex::from_pbf(&path) else {
            eprintln!("{map}: cannot build the index");
            continue;
        };
        let build = t.elapsed();
        let s = index.stats();
        println!(
            "index {map}: built in {build:.2?}: {} addresses, {} streets, {} places, {} words ({} relations not indexed)",
            s.addresses, s.streets, s.places, s.words, s.relations_skipped
        );
        let kinds = queries(&index, lat, lon);
        report(map, &index, &kinds);

        // The peer: every address's text scored against the query.
        let all_texts: Vec<String> = index
            .addresses()
            .map(|m| m.display.to_lowercase())
            .collect();
        let mut group = c.benchmark_group(format!("geocode/{map}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(3));
        for k in &kinds {
            group.bench_with_input(BenchmarkId::new("index", k.name), &k.queries, |b, qs| {
                b.iter(|| qs.iter().map(|q| index.search(q, 10).len()).sum::<usize>())
            });
        }
        group.bench_with_input(
            BenchmarkId::new("linear_strsim", "full"),
            &kinds[0].queries,
            |b, qs| {
                b.iter(|| {
                    qs.iter()
                        .map(|q| {
                            let q = q.to_lowercase();
                            all_texts
                                .iter()
                                .map(|t| strsim::normalized_damerau_levenshtein(&q, t))
                                .fold(0.0, f64::max)
                        })
                        .sum::<f64>()
                })
            },
        );
        group.bench_function("reverse", |b| {
            b.iter(|| index.nearest(std::hint::black_box(lat), std::hint::black_box(lon)))
        });
        group.finish();
        let mut build_group = c.benchmark_group("geocode_build");
        build_group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5));
        build_group.bench_with_input(BenchmarkId::from_parameter(map), &path, |b, p| {
            b.iter(|| AddressIndex::from_pbf(p).map(|i| i.stats().addresses))
        });
        build_group.finish();
    }
}

criterion_group!(benches, geocode);
criterion_main!(benches);
