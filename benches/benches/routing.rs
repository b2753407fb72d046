//! Routing benchmarks: this engine's CCH against its peers, on every shipped map.
//!
//! Groups (all workloads drawn with fixed seeds, fixtures built once):
//! * `one_to_one/<map>`: 1,000 random node pairs, cycled through, answered by the CCH
//!   distance query, the CCH query with path, `fast_paths` (a classic CH, path included)
//!   and petgraph's Dijkstra stopping at the target. The answers of the CCH, fast_paths and
//!   petgraph are checked to agree exactly on the first 100 pairs before timing.
//! * `many_to_one/heidelberg/<crews>`: the ETAs of 100 or 1,000 crews (random snapped
//!   points) to one call: the cached-bucket [`router::EtaIndex`] against one fast_paths query
//!   per crew and one reverse Dijkstra; plus the cost of one crew moving.
//! * `prepare/<map>`: nested-dissection order, CCH contraction, customization, and
//!   fast_paths' preparation.
//! * `closure/heidelberg`: adding and removing a closure of 10 random ways (partial
//!   re-customization), against a full customization.
//! * `scaling_tiled_heidelberg/k=<k>`: the same on *synthetic* k×k tilings of the Heidelberg
//!   graph (see `benches::tiling`), k = 2, 4, 7; `BENCH_LARGE=1` adds k = 10 (≈1.1M nodes).
//!
//! Graph sizes and one-off preparation times go to stderr. fast_paths gets every weight
//! scaled so that its answers stay exact despite arcs of 0 ms (see `benches::peers`).
//! Slow items (the order of the large tilings) run 10 single-iteration samples; criterion
//! warns that it cannot finish them in the target time, which is expected.
//!
//! Run: `cargo bench -p benches --bench routing` (about 7 minutes on 2 shared cores;
//! `BENCH_LARGE=1` adds about 5 more).

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::maps::{import_map, random_pairs, random_points, random_way_sets, MAPS};
use benches::peers::{
    arc_quirks, fast_paths_input, fast_paths_ms, fast_paths_points, petgraph_distance,
    petgraph_graph,
};
use benches::tiling::tile;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use fast_paths::FastGraph;
use osm_data::RoadGraph;
use petgraph::graph::DiGraph;
use router::cch::{CchMetric, CchQuery, CchTopology};
use router::dijkstra::{dijkstra_all_to_one_with, ReverseGraph, INF};
use router::engine::compute_order;
use router::{ClosureArea, ClosureSpec, EtaIndex, Router, RouterOptions, Snapped};

/// Seed of every random workload.
const SEED: u64 = 0x0A3B_0112;
/// Node pairs per map in `one_to_one`.
const PAIRS: usize = 1_000;
/// Pairs on which all engines must agree before timing.
const CHECKED_PAIRS: usize = 100;
/// Calls cycled through in `many_to_one`.
const CALLS: usize = 100;
/// Ways per closure.
const CLOSED_WAYS: usize = 10;
/// Different closures cycled through.
const CLOSURE_SETS: usize = 20;

/// A map prepared for every engine.
struct Fixture {
    name: String,
    router: Router,
    pairs: Vec<(u32, u32)>,
    fast: FastGraph,
    pet: DiGraph<(), u32>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn prepare_fixture(name: &str) -> Fixture {
    let t = Instant::now();
    let graph = import_map(name);
    let import_time = t.elapsed();
    let (zero, loops) = arc_quirks(&graph.first_out, &graph.arc_head, &graph.arc_time_ms);
    let t = Instant::now();
    let fast = fast_paths::prepare(&fast_paths_input(
        &graph.first_out,
        &graph.arc_head,
        &graph.arc_time_ms,
    ));
    let fast_time = t.elapsed();
    let pet = petgraph_graph(&graph.first_out, &graph.arc_head, &graph.arc_time_ms);
    let pairs = random_pairs(graph.node_count(), PAIRS, SEED);
    let (n, m, s) = (graph.node_count(), graph.arc_count(), graph.segment_count());
    let t = Instant::now();
    let router = Router::new(graph, RouterOptions::default()).expect("the map prepares");
    let router_time = t.elapsed();
    eprintln!(
        "map {name}: {n} nodes, {m} arcs, {s} segments, {} CCH edges, {} fast_paths out-edges; \
         {zero} arcs of 0 ms, {loops} self-loops; import {:.2} s, Router::new {:.2} s, fast_paths::prepare {:.2} s",
        router.topology().edge_count(),
        fast.get_num_out_edges(),
        secs(import_time),
        secs(router_time),
        secs(fast_time),
    );
    Fixture {
        name: name.to_string(),
        router,
        pairs,
        fast,
        pet,
    }
}

/// Asserts that the CCH, fast_paths and petgraph agree on the first pairs.
fn check_one_to_one(f: &Fixture) {
    let topo = f.router.topology();
    let live = f.router.live();
    let mut q = CchQuery::new(topo);
    let mut calc = fast_paths::create_calculator(&f.fast);
    for &(s, t) in &f.pairs[..CHECKED_PAIRS] {
        let cch = q.run(topo, &live.metric, &[(s, 0)], &[(t, 0)]);
        let path = q
            .path(topo, &live.metric, &[(s, 0)], &[(t, 0)])
            .map(|p| p.distance);
        let fast = calc
            .calc_path(&f.fast, s as usize, t as usize)
            .map(|p| fast_paths_ms(p.get_weight()));
        let pet = petgraph_distance(&f.pet, s, t);
        assert!(
            cch.is_some() && cch == path && cch == fast && cch == pet,
            "{}: {s} -> {t}: CCH {cch:?}, CCH path {path:?}, fast_paths {fast:?}, petgraph {pet:?}",
            f.name
        );
    }
}

/// Cycles through `items`, one per call.
fn cycle<T: Copy>(items: &[T]) -> impl FnMut() -> T + '_ {
    let mut i = 0;
    move || {
        let x = items[i % items.len()];
        i += 1;
        x
    }
}

fn one_to_one(c: &mut Criterion, fixtures: &[Fixture]) {
    for f in fixtures {
        check_one_to_one(f);
        let topo = f.router.topology();
        let live = f.router.live();
        let mut group = c.benchmark_group(format!("one_to_one/{}", f.name));
        group
            .sample_size(50)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        group.bench_function("cch_distance", |b| {
            let mut q = CchQuery::new(topo);
            let mut next = cycle(&f.pairs);
            b.iter(|| {
                let (s, t) = next();
                q.run(topo, &live.metric, &[(s, 0)], &[(t, 0)])
            })
        });
        group.bench_function("cch_path", |b| {
            let mut q = CchQuery::new(topo);
            let mut next = cycle(&f.pairs);
            b.iter(|| {
                let (s, t) = next();
                q.path(topo, &live.metric, &[(s, 0)], &[(t, 0)])
            })
        });
        group.bench_function("fast_paths_path", |b| {
            let mut calc = fast_paths::create_calculator(&f.fast);
            let mut next = cycle(&f.pairs);
            b.iter(|| {
                let (s, t) = next();
                calc.calc_path(&f.fast, s as usize, t as usize)
            })
        });
        group.bench_function("petgraph_dijkstra", |b| {
            let mut next = cycle(&f.pairs);
            b.iter(|| {
                let (s, t) = next();
                petgraph_distance(&f.pet, s, t)
            })
        });
        group.finish();
    }
}

/// ETAs of every crew to a call by reverse Dijkstra from the call.
fn etas_by_reverse_dijkstra(
    router: &Router,
    reverse: &ReverseGraph,
    weights: &[u32],
    crews: &[Vec<(u32, u32)>],
    call: &Snapped,
) -> Vec<Option<u32>> {
    let dist = dijkstra_all_to_one_with(reverse, weights, &router.target_points(call));
    crews
        .iter()
        .map(|points| {
            points
                .iter()
                .map(|&(v, o)| dist[v as usize].saturating_add(o))
                .min()
                .filter(|&d| d != INF)
        })
        .collect()
}

/// ETAs of every crew to a call by one fast_paths query per crew.
fn etas_by_fast_paths(
    router: &Router,
    fast: &FastGraph,
    calc: &mut fast_paths::PathCalculator,
    crews: &[Vec<(usize, usize)>],
    call: &Snapped,
) -> Vec<Option<u32>> {
    let call = fast_paths_points(&router.target_points(call));
    crews
        .iter()
        .map(|points| {
            calc.calc_path_multiple_sources_and_targets(fast, points.clone(), call.clone())
                .map(|p| fast_paths_ms(p.get_weight()))
        })
        .collect()
}

fn many_to_one(c: &mut Criterion, f: &Fixture) {
    let router = &f.router;
    let graph = router.graph();
    let live = router.live();
    let reverse = ReverseGraph::new(&graph.first_out, &graph.arc_head);
    let calls = random_points(router, CALLS, SEED + 1);
    let moves = random_points(router, CALLS, SEED + 2);
    for crews_n in [100usize, 1_000] {
        let crews = random_points(router, crews_n, SEED + 3 + crews_n as u64);
        let mut index = EtaIndex::many_to_one(router);
        for (slot, &p) in crews.iter().enumerate() {
            index.set(router, slot as u32, p);
        }
        let crew_points: Vec<Vec<(u32, u32)>> =
            crews.iter().map(|p| router.source_points(p)).collect();
        let crew_fast: Vec<Vec<(usize, usize)>> =
            crew_points.iter().map(|p| fast_paths_points(p)).collect();
        let mut calc = fast_paths::create_calculator(&f.fast);

        // The three must agree wherever crew and call are on different segments (on the same
        // segment only the index also looks at the direct drive along it).
        for call in &calls[..10] {
            let ours = index.etas(router, call);
            let fast = etas_by_fast_paths(router, &f.fast, &mut calc, &crew_fast, call);
            let dijkstra =
                etas_by_reverse_dijkstra(router, &reverse, &live.weights, &crew_points, call);
            for (i, crew) in crews.iter().enumerate() {
                if crew.segment != call.segment {
                    assert!(
                        ours[i] == fast[i] && ours[i] == dijkstra[i],
                        "crew {i}: index {:?}, fast_paths {:?}, reverse Dijkstra {:?}",
                        ours[i],
                        fast[i],
                        dijkstra[i]
                    );
                }
            }
        }

        let mut group = c.benchmark_group(format!("many_to_one/{}/{crews_n}", f.name));
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        group.bench_function("eta_index", |b| {
            let mut next = cycle(&calls);
            b.iter(|| index.etas(router, &next()))
        });
        group.bench_function(format!("fast_paths_x{crews_n}"), |b| {
            let mut next = cycle(&calls);
            b.iter(|| etas_by_fast_paths(router, &f.fast, &mut calc, &crew_fast, &next()))
        });
        group.bench_function("reverse_dijkstra", |b| {
            let mut next = cycle(&calls);
            b.iter(|| {
                etas_by_reverse_dijkstra(router, &reverse, &live.weights, &crew_points, &next())
            })
        });
        group.bench_function("move_one_crew_then_eta_index", |b| {
            let mut next_call = cycle(&calls);
            let mut next_move = cycle(&moves);
            let mut slot = 0u32;
            b.iter(|| {
                index.set(router, slot, next_move());
                slot = (slot + 1) % crews_n as u32;
                index.etas(router, &next_call())
            })
        });
        group.finish();
    }
}

/// Benchmarks the preparation steps of a graph into `group`.
fn bench_preparation(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    router: &Router,
    with_fast_paths: bool,
) {
    let graph = router.graph();
    let topo = router.topology();
    group.bench_function("order", |b| b.iter(|| compute_order(graph)));
    group.bench_function("cch_contraction", |b| {
        b.iter(|| CchTopology::new(&graph.first_out, &graph.arc_head, topo.order()))
    });
    group.bench_function("customize", |b| {
        b.iter(|| CchMetric::customize(topo, &graph.arc_time_ms))
    });
    if with_fast_paths {
        let input = fast_paths_input(&graph.first_out, &graph.arc_head, &graph.arc_time_ms);
        group.bench_function("fast_paths_prepare", |b| {
            b.iter(|| fast_paths::prepare(&input))
        });
    }
}

fn prepare(c: &mut Criterion, fixtures: &[Fixture]) {
    for f in fixtures {
        let mut group = c.benchmark_group(format!("prepare/{}", f.name));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        bench_preparation(&mut group, &f.router, true);
        group.finish();
    }
}

/// Benchmarks adding and removing closures of 10 random ways into `group` (and a full
/// customization for reference if `with_full`).
fn bench_closures(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    router: &Router,
    with_full: bool,
) {
    let sets = random_way_sets(router.graph(), CLOSURE_SETS, CLOSED_WAYS, SEED + 4);
    let spec = |ids: Vec<i64>| ClosureSpec {
        area: ClosureArea::Ways(ids),
        factor: None,
        from_ms: None,
        until_ms: None,
    };
    group.bench_function("add_closure_10_ways", |b| {
        let mut i = 0;
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let ids = sets[i % sets.len()].clone();
                i += 1;
                let t = Instant::now();
                let closure = router.add_closure(spec(ids), 0).expect("a valid closure");
                total += t.elapsed();
                black_box(router.remove_closure(closure.id, 0).expect("just added"));
            }
            total
        })
    });
    group.bench_function("add_and_remove_closure_10_ways", |b| {
        let mut i = 0;
        b.iter(|| {
            let ids = sets[i % sets.len()].clone();
            i += 1;
            let closure = router.add_closure(spec(ids), 0).expect("a valid closure");
            router.remove_closure(closure.id, 0).expect("just added")
        })
    });
    if with_full {
        group.bench_function("full_customize", |b| {
            let topo = router.topology();
            let weights = &router.graph().arc_time_ms;
            b.iter(|| CchMetric::customize(topo, weights))
        });
    }
    assert!(router.closures().is_empty());
}

fn closure(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group(format!("closure/{}", f.name));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    bench_closures(&mut group, &f.router, true);
    group.finish();
}

fn scaling(c: &mut Criterion, base: &RoadGraph) {
    let mut ks = vec![2usize, 4, 7];
    if std::env::var("BENCH_LARGE").is_ok_and(|v| v == "1") {
        ks.push(10);
    }
    for k in ks {
        let t = Instant::now();
        let graph = tile(base, k);
        let tile_time = t.elapsed();
        let (n, m) = (graph.node_count(), graph.arc_count());
        let t = Instant::now();
        let order = compute_order(&graph);
        let order_time = t.elapsed();
        let t = Instant::now();
        let router = Router::with_order(graph, &order, RouterOptions::default())
            .expect("the tiling prepares");
        let router_time = t.elapsed();
        eprintln!(
            "scaling_tiled_heidelberg/k={k} (synthetic {k}x{k} tiling): {n} nodes, {m} arcs, {} CCH edges; \
             tile {:.2} s, order {:.2} s, Router::with_order {:.2} s",
            router.topology().edge_count(),
            secs(tile_time),
            secs(order_time),
            secs(router_time),
        );
        let pairs = random_pairs(n, PAIRS, SEED + 5);
        let graph = router.graph();
        let topo = router.topology();
        let live = router.live();
        let mut q = CchQuery::new(topo);
        for &(s, t) in &pairs[..10] {
            let cch = q.run(topo, &live.metric, &[(s, 0)], &[(t, 0)]);
            let reference = router::dijkstra::one_to_one(
                &graph.first_out,
                &graph.arc_head,
                &graph.arc_time_ms,
                &[(s, 0)],
                &[(t, 0)],
            )
            .map(|(d, _)| d);
            assert!(
                cch.is_some() && cch == reference,
                "k={k}: {s} -> {t}: CCH {cch:?}, Dijkstra {reference:?}"
            );
        }

        let mut group = c.benchmark_group(format!("scaling_tiled_heidelberg/k={k}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(Duration::from_secs(if k >= 7 { 1 } else { 2 }));
        bench_preparation(&mut group, &router, false);
        group.bench_function("cch_one_to_one", |b| {
            let mut next = cycle(&pairs);
            b.iter(|| {
                let (s, t) = next();
                q.run(topo, &live.metric, &[(s, 0)], &[(t, 0)])
            })
        });
        group.bench_function("dijkstra_one_to_one", |b| {
            let mut next = cycle(&pairs);
            b.iter(|| {
                let (s, t) = next();
                router::dijkstra::one_to_one(
                    &graph.first_out,
                    &graph.arc_head,
                    &graph.arc_time_ms,
                    &[(s, 0)],
                    &[(t, 0)],
                )
            })
        });
        bench_closures(&mut group, &router, false);
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let fixtures: Vec<Fixture> = MAPS.iter().map(|name| prepare_fixture(name)).collect();
    let heidelberg = fixtures
        .iter()
        .find(|f| f.name == "heidelberg")
        .expect("Heidelberg is bundled");
    one_to_one(&mut c, &fixtures);
    many_to_one(&mut c, heidelberg);
    prepare(&mut c, &fixtures);
    closure(&mut c, heidelberg);
    scaling(&mut c, heidelberg.router.graph());
    c.final_summary();
}
