//! Randomised end-to-end tests of the CCH against plain Dijkstra.
//!
//! Every random test prints its seed (`cargo test -- --nocapture` shows it).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::order::{is_permutation, nested_dissection_order, order_to_rank};
use super::topology::{DOWN, UP};
use super::*;
use crate::dijkstra::{dijkstra_all_to_one, dijkstra_one_to_all, one_to_one, tail_of};

/// A test graph in CSR form with coordinates.
#[derive(Debug, Clone)]
struct TestGraph {
    first_out: Vec<u32>,
    head: Vec<u32>,
    weight: Vec<u32>,
    lat: Vec<f64>,
    lon: Vec<f64>,
}

impl TestGraph {
    fn n(&self) -> usize {
        self.lat.len()
    }

    fn from_arcs(n: usize, mut arcs: Vec<(u32, u32, u32)>, lat: Vec<f64>, lon: Vec<f64>) -> Self {
        arcs.sort_by_key(|&(u, _, _)| u);
        let mut first_out = vec![0u32; n + 1];
        for &(u, _, _) in &arcs {
            first_out[u as usize + 1] += 1;
        }
        for v in 0..n {
            first_out[v + 1] += first_out[v];
        }
        TestGraph {
            first_out,
            head: arcs.iter().map(|a| a.1).collect(),
            weight: arcs.iter().map(|a| a.2).collect(),
            lat,
            lon,
        }
    }

    fn build(&self) -> (CchTopology, CchMetric) {
        let order = nested_dissection_order(&self.first_out, &self.head, &self.lat, &self.lon);
        assert!(is_permutation(&order));
        let topo = CchTopology::new(&self.first_out, &self.head, &order).expect("valid graph");
        check_topology(&topo);
        let metric = CchMetric::customize(&topo, &self.weight);
        (topo, metric)
    }
}

fn random_weight(rng: &mut StdRng) -> u32 {
    match rng.gen_range(0..20) {
        0 | 1 => INF,
        2 => 0,
        _ => rng.gen_range(1..10_000),
    }
}

/// Jittered grid with local arcs, some long arcs, INF arcs, parallel arcs,
/// self-loops, one-ways and (sometimes) a missing band that disconnects it.
fn random_graph(rng: &mut StdRng, n: usize) -> TestGraph {
    let side = (n as f64).sqrt().ceil().max(1.0) as usize;
    let mut lat = Vec::with_capacity(n);
    let mut lon = Vec::with_capacity(n);
    for i in 0..n {
        lat.push(49.4 + 0.001 * (i / side) as f64 + rng.gen_range(-0.0004..0.0004));
        lon.push(8.7 + 0.0015 * (i % side) as f64 + rng.gen_range(-0.0004..0.0004));
    }
    let cut_row = if rng.gen_bool(0.3) {
        Some(rng.gen_range(0..side))
    } else {
        None
    };
    let mut arcs = Vec::new();
    let add_arc = |arcs: &mut Vec<(u32, u32, u32)>, rng: &mut StdRng, u: usize, v: usize| {
        if let Some(r) = cut_row {
            if (u / side <= r) != (v / side <= r) {
                return;
            }
        }
        arcs.push((u as u32, v as u32, random_weight(rng)));
        if rng.gen_bool(0.75) {
            arcs.push((v as u32, u as u32, random_weight(rng)));
        }
    };
    for u in 0..n {
        if u % side + 1 < side && u + 1 < n && rng.gen_bool(0.8) {
            add_arc(&mut arcs, rng, u, u + 1);
        }
        if u + side < n && rng.gen_bool(0.8) {
            add_arc(&mut arcs, rng, u, u + side);
        }
        if rng.gen_bool(0.05) {
            let v = rng.gen_range(0..n);
            add_arc(&mut arcs, rng, u, v);
        }
        if rng.gen_bool(0.03) {
            arcs.push((u as u32, u as u32, random_weight(rng)));
        }
    }
    // Parallel copies of some arcs with other weights.
    for i in 0..arcs.len() / 10 {
        let (u, v, _) = arcs[i * 7 % arcs.len()];
        arcs.push((u, v, random_weight(rng)));
    }
    TestGraph::from_arcs(n, arcs, lat, lon)
}

/// `w × h` grid with random one-ways and the occasional missing street.
fn grid_graph(rng: &mut StdRng, w: usize, h: usize) -> TestGraph {
    let n = w * h;
    let mut lat = Vec::with_capacity(n);
    let mut lon = Vec::with_capacity(n);
    for i in 0..n {
        lat.push(49.4 + 0.001 * (i / w) as f64);
        lon.push(8.7 + 0.0015 * (i % w) as f64);
    }
    let mut arcs = Vec::new();
    for u in 0..n {
        let mut street = |v: usize, arcs: &mut Vec<(u32, u32, u32)>| {
            if rng.gen_bool(0.05) {
                return;
            }
            let t = rng.gen_range(1_000..20_000);
            match rng.gen_range(0..6) {
                0 => arcs.push((u as u32, v as u32, t)),
                1 => arcs.push((v as u32, u as u32, t)),
                _ => {
                    arcs.push((u as u32, v as u32, t));
                    arcs.push((v as u32, u as u32, t + rng.gen_range(0..500)));
                }
            }
        };
        if u % w + 1 < w {
            street(u + 1, &mut arcs);
        }
        if u + w < n {
            street(u + w, &mut arcs);
        }
    }
    TestGraph::from_arcs(n, arcs, lat, lon)
}

/// Structural invariants of the chordal supergraph and elimination tree.
fn check_topology(t: &CchTopology) {
    let n = t.node_count() as u32;
    for x in 0..n {
        let heads: Vec<u32> = t.up_edges(x).map(|e| t.edge_head(e)).collect();
        assert!(
            heads.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(heads.iter().all(|&y| y > x && y < n));
        assert_eq!(t.parent(x), heads.first().copied());
        // Chordality: upper neighbours are pairwise adjacent, and ancestors.
        for (i, &a) in heads.iter().enumerate() {
            for &b in &heads[i + 1..] {
                assert!(t.edge(a, b).is_some(), "missing fill-in edge {a}-{b}");
            }
            let mut p = t.parent(x);
            while p.is_some_and(|p| p < a) {
                p = p.and_then(|p| t.parent(p));
            }
            assert_eq!(p, Some(a), "upper neighbour is an ancestor");
        }
    }
    for e in 0..t.edge_count() as u32 {
        for (z, e_zx, e_zy) in t.lower_triangles(e) {
            assert!(z < t.edge_tail(e));
            assert_eq!((t.edge_tail(e_zx), t.edge_head(e_zx)), (z, t.edge_tail(e)));
            assert_eq!((t.edge_tail(e_zy), t.edge_head(e_zy)), (z, t.edge_head(e)));
        }
    }
}

/// Checks that `path` is a valid path of the claimed length.
fn check_path(g: &TestGraph, sources: &[(u32, u32)], targets: &[(u32, u32)], p: &CchPath) {
    let (s, so) = sources[p.source];
    let (t, to) = targets[p.target];
    let mut at = s;
    let mut len = so;
    for &a in &p.arcs {
        assert_eq!(tail_of(&g.first_out, a), at, "path is connected");
        assert_ne!(g.weight[a as usize], INF, "path uses a closed arc");
        len = add(len, g.weight[a as usize]);
        at = g.head[a as usize];
    }
    assert_eq!(at, t, "path ends at the chosen target");
    assert_eq!(add(len, to), p.distance, "arc weights sum to the distance");
}

/// Reference: best offset-sum distance from `sources` to `targets`.
fn reference(g: &TestGraph, sources: &[(u32, u32)], targets: &[(u32, u32)]) -> Option<u32> {
    let d = dijkstra_one_to_all(&g.first_out, &g.head, &g.weight, sources);
    let best = targets
        .iter()
        .map(|&(t, o)| add(d[t as usize], o))
        .min()
        .unwrap_or(INF);
    (best != INF).then_some(best)
}

#[test]
fn random_graphs_all_pairs_match_dijkstra() {
    for (seed, n) in [1usize, 2, 3, 4, 5, 7, 10, 16, 30, 50, 100, 150]
        .into_iter()
        .enumerate()
    {
        let seed = 1000 + seed as u64;
        println!("seed = {seed}, n = {n}");
        let mut rng = StdRng::seed_from_u64(seed);
        let g = random_graph(&mut rng, n);
        let (topo, metric) = g.build();
        let mut q = CchQuery::new(&topo);
        for s in 0..n as u32 {
            let d = dijkstra_one_to_all(&g.first_out, &g.head, &g.weight, &[(s, 0)]);
            for t in 0..n as u32 {
                let expected = (d[t as usize] != INF).then_some(d[t as usize]);
                assert_eq!(
                    q.run(&topo, &metric, &[(s, 0)], &[(t, 0)]),
                    expected,
                    "seed {seed}: {s} -> {t}"
                );
                if (s + t) % 3 == 0 {
                    let p = q.path(&topo, &metric, &[(s, 0)], &[(t, 0)]);
                    assert_eq!(
                        p.as_ref().map(|p| p.distance),
                        expected,
                        "seed {seed}: path {s} -> {t}"
                    );
                    if let Some(p) = p {
                        check_path(&g, &[(s, 0)], &[(t, 0)], &p);
                    }
                }
            }
        }
    }
}

#[test]
fn larger_random_graph_sampled_pairs() {
    let seed = 77;
    println!("seed = {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let g = random_graph(&mut rng, 300);
    let (topo, metric) = g.build();
    let mut q = CchQuery::new(&topo);
    for s in (0..300u32).step_by(7) {
        let d = dijkstra_one_to_all(&g.first_out, &g.head, &g.weight, &[(s, 0)]);
        for t in 0..300u32 {
            let expected = (d[t as usize] != INF).then_some(d[t as usize]);
            let p = q.path(&topo, &metric, &[(s, 0)], &[(t, 0)]);
            assert_eq!(p.as_ref().map(|p| p.distance), expected, "{s} -> {t}");
            assert_eq!(q.run(&topo, &metric, &[(s, 0)], &[(t, 0)]), expected);
            if let Some(p) = p {
                check_path(&g, &[(s, 0)], &[(t, 0)], &p);
            }
        }
    }
}

#[test]
fn tiny_graphs_match_floyd_warshall() {
    for seed in 0..40u64 {
        println!("seed = {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.gen_range(1..12);
        // Dense random arcs, including loops and parallel arcs.
        let mut arcs = Vec::new();
        for _ in 0..rng.gen_range(0..3 * n) {
            arcs.push((
                rng.gen_range(0..n) as u32,
                rng.gen_range(0..n) as u32,
                random_weight(&mut rng),
            ));
        }
        let lat = (0..n).map(|_| rng.gen_range(49.0..50.0)).collect();
        let lon = (0..n).map(|_| rng.gen_range(8.0..9.0)).collect();
        let g = TestGraph::from_arcs(n, arcs.clone(), lat, lon);
        let mut fw = vec![vec![INF; n]; n];
        for (v, row) in fw.iter_mut().enumerate() {
            row[v] = 0;
        }
        for &(u, v, w) in &arcs {
            let c = &mut fw[u as usize][v as usize];
            *c = (*c).min(w);
        }
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    let c = add(fw[i][k], fw[k][j]);
                    if c < fw[i][j] {
                        fw[i][j] = c;
                    }
                }
            }
        }
        let (topo, metric) = g.build();
        let mut q = CchQuery::new(&topo);
        for (s, row) in fw.iter().enumerate() {
            for (t, &d) in row.iter().enumerate() {
                let expected = (d != INF).then_some(d);
                let got = q.run(&topo, &metric, &[(s as u32, 0)], &[(t as u32, 0)]);
                assert_eq!(got, expected, "seed {seed}: {s} -> {t}");
                let p = q.path(&topo, &metric, &[(s as u32, 0)], &[(t as u32, 0)]);
                assert_eq!(p.as_ref().map(|p| p.distance), expected);
                if let Some(p) = p {
                    check_path(&g, &[(s as u32, 0)], &[(t as u32, 0)], &p);
                }
            }
        }
    }
}

fn random_points(rng: &mut StdRng, n: usize) -> Vec<(u32, u32)> {
    (0..rng.gen_range(1..4))
        .map(|_| (rng.gen_range(0..n) as u32, rng.gen_range(0..5_000)))
        .collect()
}

#[test]
fn multi_source_multi_target_with_offsets() {
    for seed in 0..6u64 {
        println!("seed = {seed}");
        let mut rng = StdRng::seed_from_u64(500 + seed);
        let n = rng.gen_range(20..200);
        let g = random_graph(&mut rng, n);
        let (topo, metric) = g.build();
        let mut q = CchQuery::new(&topo);
        for _ in 0..300 {
            let sources = random_points(&mut rng, n);
            let targets = random_points(&mut rng, n);
            let expected = reference(&g, &sources, &targets);
            assert_eq!(
                q.run(&topo, &metric, &sources, &targets),
                expected,
                "seed {seed}"
            );
            let p = q.path(&topo, &metric, &sources, &targets);
            assert_eq!(p.as_ref().map(|p| p.distance), expected, "seed {seed}");
            if let Some(p) = p {
                check_path(&g, &sources, &targets, &p);
            }
        }
        // Ignored points: out of range nodes and infinite offsets.
        assert_eq!(
            q.run(&topo, &metric, &[(n as u32, 0), (0, INF)], &[(0, 0)]),
            None
        );
        assert_eq!(q.run(&topo, &metric, &[], &[(0, 0)]), None);
        assert_eq!(q.run(&topo, &metric, &[(0, 5), (0, 3)], &[(0, 4)]), Some(7));
    }
}

#[test]
fn partial_update_is_bit_identical_to_full_customization() {
    for seed in 0..12u64 {
        println!("seed = {seed}");
        let mut rng = StdRng::seed_from_u64(900 + seed);
        let n = rng.gen_range(10..250);
        let mut g = random_graph(&mut rng, n);
        // Odd seeds use tiny weights: many equal sums exercise tie-breaking.
        let tiny = seed % 2 == 1;
        if tiny {
            g.weight
                .iter_mut()
                .filter(|w| **w != INF)
                .for_each(|w| *w %= 3);
        }
        let (topo, mut metric) = g.build();
        let m = g.head.len();
        if m == 0 {
            continue;
        }
        let mut q = CchQuery::new(&topo);
        for round in 0..15 {
            let count = rng.gen_range(1..=(m / 10).clamp(1, 20));
            let mut changed = Vec::new();
            for _ in 0..count {
                let a = rng.gen_range(0..m);
                let old = g.weight[a];
                g.weight[a] = match rng.gen_range(0..5) {
                    0 => INF,
                    1 => old / 2,
                    2 => old.saturating_mul(3).min(50_000),
                    3 => rng.gen_range(0..10_000),
                    _ => old,
                };
                if tiny && g.weight[a] != INF {
                    g.weight[a] %= 3;
                }
                changed.push(a as u32);
            }
            let version = metric.version();
            metric.update(&topo, &g.weight, &changed);
            assert_ne!(metric.version(), version);
            let full = CchMetric::customize(&topo, &g.weight);
            assert!(
                metric == full,
                "seed {seed} round {round}: update differs from customize"
            );
            for _ in 0..20 {
                let (s, t) = (rng.gen_range(0..n) as u32, rng.gen_range(0..n) as u32);
                let expected = reference(&g, &[(s, 0)], &[(t, 0)]);
                assert_eq!(q.run(&topo, &metric, &[(s, 0)], &[(t, 0)]), expected);
            }
        }
        // Re-open everything that was closed: back from INF.
        let mut rng2 = StdRng::seed_from_u64(seed);
        let reopened: Vec<u32> = (0..m as u32)
            .filter(|&a| g.weight[a as usize] == INF)
            .collect();
        for &a in &reopened {
            g.weight[a as usize] = rng2.gen_range(1..10_000);
        }
        metric.update(&topo, &g.weight, &reopened);
        assert!(
            metric == CchMetric::customize(&topo, &g.weight),
            "seed {seed}: reopening"
        );
    }
}

/// Reference distances from every slot's points to `targets`.
fn reference_many_to_one(
    g: &TestGraph,
    slots: &[Option<Vec<(u32, u32)>>],
    targets: &[(u32, u32)],
) -> Vec<u32> {
    let to = dijkstra_all_to_one(&g.first_out, &g.head, &g.weight, targets);
    slots
        .iter()
        .map(|s| match s {
            None => INF,
            Some(points) => points
                .iter()
                .map(|&(v, o)| add(o, to[v as usize]))
                .min()
                .unwrap_or(INF),
        })
        .collect()
}

/// Reference distances from `sources` to every slot's points.
fn reference_one_to_many(
    g: &TestGraph,
    slots: &[Option<Vec<(u32, u32)>>],
    sources: &[(u32, u32)],
) -> Vec<u32> {
    let from = dijkstra_one_to_all(&g.first_out, &g.head, &g.weight, sources);
    slots
        .iter()
        .map(|s| match s {
            None => INF,
            Some(points) => points
                .iter()
                .map(|&(v, o)| add(from[v as usize], o))
                .min()
                .unwrap_or(INF),
        })
        .collect()
}

#[test]
fn buckets_match_dijkstra_under_churn_and_updates() {
    // Slots' spaces are merged of single nodes' cached spaces; a small cache starts over
    // often (on a graph of 30 to 250 nodes, most nodes' spaces are over 40 entries).
    for (seed, limit) in (0..5u64).zip([usize::MAX, 40, usize::MAX, 40, 200]) {
        println!("seed = {seed}, cache limit {limit}");
        let mut rng = StdRng::seed_from_u64(3000 + seed);
        let n = rng.gen_range(30..250);
        let mut g = random_graph(&mut rng, n);
        let (topo, mut metric) = g.build();
        let mut sb = Buckets::sources(&topo).with_space_limit(limit);
        let mut query = CchQuery::new(&topo);
        let mut tb = Buckets::targets(&topo).with_space_limit(limit);
        let mut cached = 0;
        let mut slots: Vec<Option<Vec<(u32, u32)>>> = vec![None; 25];
        let mut out = Vec::new();
        for step in 0..60 {
            // Churn: insert, move, remove.
            for _ in 0..rng.gen_range(1..6) {
                let slot = rng.gen_range(0..slots.len());
                if rng.gen_bool(0.25) {
                    sb.remove(slot as u32);
                    tb.remove(slot as u32);
                    slots[slot] = None;
                } else {
                    let points = random_points(&mut rng, n);
                    sb.set(slot as u32, &points);
                    tb.set(slot as u32, &points);
                    slots[slot] = Some(points);
                }
            }
            if step % 10 == 9 {
                // Metric change: buckets rebuild themselves.
                let m = g.head.len();
                let changed: Vec<u32> = (0..3)
                    .filter(|_| m > 0)
                    .map(|_| rng.gen_range(0..m) as u32)
                    .collect();
                for &a in &changed {
                    g.weight[a as usize] = random_weight(&mut rng);
                }
                metric.update(&topo, &g.weight, &changed);
                assert!(sb.is_stale(&metric) && tb.is_stale(&metric));
            }
            let points = random_points(&mut rng, n);
            let used = slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
            sb.distances(&topo, &metric, &points, &mut out);
            cached = cached.max(sb.cached_spaces());
            let mut expected = reference_many_to_one(&g, &slots, &points);
            expected.truncate(out.len());
            assert!(out.len() >= used);
            assert_eq!(out, expected, "seed {seed} step {step}: many-to-one");
            // One to one too, on the metric's walk arcs (built again after each change).
            let sources = random_points(&mut rng, n);
            assert_eq!(
                query.run(&topo, &metric, &sources, &points),
                reference(&g, &sources, &points),
                "seed {seed} step {step}: one-to-one"
            );
            tb.distances(&topo, &metric, &points, &mut out);
            let mut expected = reference_one_to_many(&g, &slots, &points);
            expected.truncate(out.len());
            assert_eq!(out, expected, "seed {seed} step {step}: one-to-many");
        }
        // Nodes repeat among 25 slots' points moved 200 times: spaces were reused.
        assert!(cached > 1, "seed {seed}: no space cached");
        let total = sb.entry_count();
        sb.rebuild(&topo, &metric);
        assert_eq!(sb.entry_count(), total);
        for slot in 0..slots.len() as u32 {
            sb.remove(slot);
        }
        assert_eq!(sb.entry_count(), 0);
    }
}

#[test]
fn grid_with_one_ways() {
    let seed = 4242;
    println!("seed = {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut g = grid_graph(&mut rng, 60, 60);
    let order = nested_dissection_order(&g.first_out, &g.head, &g.lat, &g.lon);
    assert_eq!(
        order,
        nested_dissection_order(&g.first_out, &g.head, &g.lat, &g.lon),
        "deterministic"
    );
    let (topo, mut metric) = g.build();
    // Nested dissection keeps the CCH small (a bad order gives ~n²/2 edges).
    assert!(
        topo.edge_count() < 40 * g.n(),
        "{} CCH edges",
        topo.edge_count()
    );
    let mut q = CchQuery::new(&topo);
    let n = g.n() as u32;
    for s in (0..n).step_by(397) {
        let d = dijkstra_one_to_all(&g.first_out, &g.head, &g.weight, &[(s, 0)]);
        for t in (0..n).step_by(13) {
            let expected = (d[t as usize] != INF).then_some(d[t as usize]);
            let p = q.path(&topo, &metric, &[(s, 0)], &[(t, 0)]);
            assert_eq!(p.as_ref().map(|p| p.distance), expected, "{s} -> {t}");
            if let Some(p) = p {
                check_path(&g, &[(s, 0)], &[(t, 0)], &p);
                let reference = one_to_one(&g.first_out, &g.head, &g.weight, &[(s, 0)], &[(t, 0)]);
                assert_eq!(reference.map(|r| r.0), Some(p.distance));
            }
        }
    }
    // Close a few streets and re-customize partially.
    let changed: Vec<u32> = (0..40)
        .map(|_| rng.gen_range(0..g.head.len()) as u32)
        .collect();
    for &a in &changed {
        g.weight[a as usize] = INF;
    }
    metric.update(&topo, &g.weight, &changed);
    assert!(metric == CchMetric::customize(&topo, &g.weight));
    for _ in 0..100 {
        let (s, t) = (rng.gen_range(0..n), rng.gen_range(0..n));
        assert_eq!(
            q.run(&topo, &metric, &[(s, 0)], &[(t, 0)]),
            reference(&g, &[(s, 0)], &[(t, 0)])
        );
    }
}

#[test]
fn order_is_deterministic_and_a_permutation() {
    for seed in 0..5u64 {
        println!("seed = {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.gen_range(1..400);
        let g = random_graph(&mut rng, n);
        let a = nested_dissection_order(&g.first_out, &g.head, &g.lat, &g.lon);
        let b = nested_dissection_order(&g.first_out, &g.head, &g.lat, &g.lon);
        assert_eq!(a, b);
        assert!(is_permutation(&a));
        assert_eq!(order_to_rank(&a).len(), n);
    }
    // Degenerate coordinates (all equal, NaN) still give a valid order.
    let mut rng = StdRng::seed_from_u64(99);
    let mut g = random_graph(&mut rng, 100);
    g.lat.iter_mut().for_each(|x| *x = 0.0);
    g.lon
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = if i % 2 == 0 { f64::NAN } else { 0.0 });
    let order = nested_dissection_order(&g.first_out, &g.head, &g.lat, &g.lon);
    assert!(is_permutation(&order));
}

#[test]
fn topology_rejects_bad_input() {
    assert!(matches!(
        CchTopology::new(&[], &[], &[]),
        Err(CchError::MalformedGraph(_))
    ));
    assert!(matches!(
        CchTopology::new(&[0, 1], &[0, 0], &[0]),
        Err(CchError::MalformedGraph(_))
    ));
    assert!(matches!(
        CchTopology::new(&[0, 1], &[3], &[0]),
        Err(CchError::HeadOutOfRange { .. })
    ));
    assert!(matches!(
        CchTopology::new(&[0, 0, 0], &[], &[0, 0]),
        Err(CchError::InvalidOrder(2))
    ));
    let t = CchTopology::new(&[0, 0], &[], &[0]).expect("single node");
    assert_eq!(t.edge_count(), 0);
}

#[test]
fn origins_and_arc_mapping() {
    // 0 -> 1 (two parallel arcs), 1 -> 0, self-loop at 1.
    let first_out = [0, 2, 4];
    let head = [1, 1, 0, 1];
    let order = [0, 1];
    let t = CchTopology::new(&first_out, &head, &order).expect("valid");
    assert_eq!(t.edge_count(), 1);
    assert_eq!(t.input_arcs(0, UP), &[0, 1]);
    assert_eq!(t.input_arcs(0, DOWN), &[2]);
    assert_eq!(t.arc_slot(3), None);
    let m = CchMetric::customize(&t, &[7, 5, INF, 0]);
    assert_eq!(m.weight(0, UP), 5);
    assert_eq!(m.origin(&t, 0, UP), metric::EdgeOrigin::Arc(1));
    assert_eq!(m.origin(&t, 0, DOWN), metric::EdgeOrigin::Unreachable);
    let mut q = CchQuery::new(&t);
    let p = q.path(&t, &m, &[(0, 1)], &[(1, 2)]).expect("reachable");
    assert_eq!(
        (p.distance, p.arcs.as_slice(), p.source, p.target),
        (8, &[1u32][..], 0, 0)
    );
    assert_eq!(q.run(&t, &m, &[(1, 0)], &[(0, 0)]), None);
}

#[test]
fn shortcut_origin_and_reuse_across_metrics() {
    // 1 -> 0 -> 2 is shorter than 1 -> 2; with order [0, 1, 2] the edge
    // (1, 2) gets its weight through the middle node 0.
    let first_out = [0, 1, 3, 3];
    let head = [2, 0, 2];
    let t = CchTopology::new(&first_out, &head, &[0, 1, 2]).expect("valid");
    let cheap = CchMetric::customize(&t, &[1, 1, 10]);
    let e = t.edge(1, 2).expect("edge (1, 2)");
    assert_eq!(cheap.weight(e, UP), 2);
    assert_eq!(cheap.origin(&t, e, UP), metric::EdgeOrigin::Middle(0));
    let direct = CchMetric::customize(&t, &[5, 5, 3]);
    assert_eq!(direct.origin(&t, e, UP), metric::EdgeOrigin::Arc(2));
    // One scratch space serves both metrics.
    let mut q = CchQuery::new(&t);
    for _ in 0..2 {
        let p = q.path(&t, &cheap, &[(1, 0)], &[(2, 0)]).expect("reachable");
        assert_eq!((p.distance, p.arcs), (2, vec![1, 0]));
        let p = q
            .path(&t, &direct, &[(1, 0)], &[(2, 0)])
            .expect("reachable");
        assert_eq!((p.distance, p.arcs), (3, vec![2]));
    }
    // Buckets notice the metric change and rebuild.
    let mut sb = Buckets::sources(&t);
    sb.set(3, &[(1, 0)]);
    let mut out = Vec::new();
    sb.distances(&t, &cheap, &[(2, 0)], &mut out);
    assert_eq!(out, vec![INF, INF, INF, 2]);
    assert!(sb.is_stale(&direct));
    sb.distances(&t, &direct, &[(2, 0)], &mut out);
    assert_eq!(out, vec![INF, INF, INF, 3]);
    let mut tb = Buckets::targets(&t);
    tb.set(0, &[(2, 100)]);
    tb.set(1, &[(0, 0)]);
    tb.distances(&t, &direct, &[(1, 0)], &mut out);
    assert_eq!(out, vec![103, 5]);
    tb.remove(0);
    tb.distances(&t, &direct, &[(1, 0)], &mut out);
    assert_eq!(out, vec![INF, 5]);
}

/// Every upward walk over the kept arcs ([`walk_arcs`]) settles the same nodes at the same
/// distances as over all the CCH's arcs (the walk before any was left out), on random
/// graphs (zero and infinite weights, parallel arcs) and on grids of equal-ish weights
/// (many ties), and some arcs are left out.
#[test]
fn walks_over_kept_arcs_equal_walks_over_all_arcs() {
    use super::many::EtreeWalk;
    use super::walk_arcs::{ArcList, WalkArcs};
    let all = |t: &CchTopology, weights: &[u32]| ArcList {
        first: t.up_first.clone(),
        head: t.up_head.clone(),
        weight: weights.to_vec(),
    };
    let (mut kept_total, mut all_total) = (0usize, 0usize);
    for seed in 0..8u64 {
        let mut rng = StdRng::seed_from_u64(4000 + seed);
        let g = if seed % 2 == 0 {
            let n = rng.gen_range(50..400);
            random_graph(&mut rng, n)
        } else {
            let (w, h) = (rng.gen_range(5..20), rng.gen_range(5..20));
            grid_graph(&mut rng, w, h)
        };
        let (topo, metric) = g.build();
        let kept = WalkArcs::new(&topo, &metric);
        assert_eq!(kept.version, metric.version());
        let full = [
            all(&topo, &metric.up_weight),
            all(&topo, &metric.down_weight),
        ];
        kept_total += kept.up.head.len() + kept.down.head.len();
        all_total += 2 * topo.up_head.len();
        let mut walk = EtreeWalk::new(topo.node_count());
        for step in 0..100 {
            let points = random_points(&mut rng, g.n());
            for (ours, reference) in [(&kept.up, &full[0]), (&kept.down, &full[1])] {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                walk.run(&topo, ours, &points, |x, d| a.push((x, d)));
                walk.run(&topo, reference, &points, |x, d| b.push((x, d)));
                assert_eq!(a, b, "seed {seed} step {step} points {points:?}");
            }
        }
    }
    println!("walk arcs: {kept_total} of {all_total} kept");
    assert!(kept_total < all_total);
}

/// The merged ancestor chains are the union of every start's chain, ascending, each node
/// once, also with repeated starts and starts on one chain.
#[test]
fn ancestors_are_the_union_of_the_chains() {
    for seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(4300 + seed);
        let n = rng.gen_range(20..300);
        let g = random_graph(&mut rng, n);
        let (topo, _) = g.build();
        let mut out = Vec::new();
        for _ in 0..200 {
            let mut starts: Vec<u32> = (0..rng.gen_range(0..5))
                .map(|_| rng.gen_range(0..topo.node_count() as u32))
                .collect();
            let mut expected = std::collections::BTreeSet::new();
            for &s in &starts {
                let mut x = Some(s);
                while let Some(y) = x {
                    expected.insert(y);
                    x = topo.parent(y);
                }
            }
            topo.ancestors_into(&mut starts, &mut out);
            assert_eq!(out, expected.into_iter().collect::<Vec<_>>(), "seed {seed}");
        }
    }
}
