//! The router's travel times equal plain Dijkstra's, on every shipped map, on 10,000
//! random pairs each, before and after random closures; many-to-one too.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::cch::INF;
use router::dijkstra::{dijkstra_all_to_one, dijkstra_one_to_all};
use router::{ClosureArea, ClosureSpec, EtaIndex};

use crate::helpers::{router, seed, MAPS};

/// 100 sources × 100 targets = 10,000 node pairs, checked against one Dijkstra per source.
fn check_pairs(r: &router::Router, rng: &mut StdRng, label: &str) -> (usize, usize) {
    let g = r.graph();
    let live = r.live();
    let n = g.node_count() as u32;
    let mut q = router::cch::CchQuery::new(r.topology());
    let (mut checked, mut unreachable) = (0, 0);
    for _ in 0..100 {
        let s = rng.gen_range(0..n);
        let dist = dijkstra_one_to_all(&g.first_out, &g.arc_head, &live.weights, &[(s, 0)]);
        for _ in 0..100 {
            let t = rng.gen_range(0..n);
            let got = q.run(r.topology(), &live.metric, &[(s, 0)], &[(t, 0)]);
            let want = (dist[t as usize] != INF).then_some(dist[t as usize]);
            assert_eq!(got, want, "{label}: {s} -> {t}");
            if want.is_none() {
                unreachable += 1;
            }
            checked += 1;
        }
    }
    (checked, unreachable)
}

#[test]
fn cch_equals_dijkstra_on_10000_pairs_per_map_before_and_after_closures() {
    let mut rng = StdRng::seed_from_u64(seed("cch_equals_dijkstra"));
    for name in MAPS {
        let r = router(name);
        let (checked, unreachable) = check_pairs(&r, &mut rng, name);
        assert_eq!(checked, 10_000);
        assert_eq!(unreachable, 0, "{name}: the graph is strongly connected");
        // Close 2 % of the ways and slow down another 5 %, then check again.
        let ways: Vec<i64> = {
            let mut w = r.graph().seg_way_id.clone();
            w.sort_unstable();
            w.dedup();
            w
        };
        let pick = |rng: &mut StdRng, share: f64| -> Vec<i64> {
            ways.iter()
                .copied()
                .filter(|_| rng.gen_bool(share))
                .collect()
        };
        let closed = pick(&mut rng, 0.02);
        let slow = pick(&mut rng, 0.05);
        for (ways, factor) in [(closed, None), (slow, Some(3.0))] {
            if !ways.is_empty() {
                r.add_closure(
                    ClosureSpec {
                        area: ClosureArea::Ways(ways),
                        factor,
                        from_ms: None,
                        until_ms: None,
                    },
                    0,
                )
                .unwrap();
            }
        }
        // The incremental weights equal a full recomputation.
        let full = router::closures::effective_weights(&r.graph().arc_time_ms, &r.closures(), 0);
        assert_eq!(
            r.live().weights,
            full,
            "{name}: incremental closure weights"
        );
        let (checked, unreachable) = check_pairs(&r, &mut rng, &format!("{name} with closures"));
        println!("{name}: 10000 pairs exact; with closures {checked} pairs exact, {unreachable} unreachable");
    }
}

#[test]
fn many_to_one_and_one_to_many_equal_dijkstra() {
    let mut rng = StdRng::seed_from_u64(seed("many_to_one"));
    for name in MAPS {
        let r = router(name);
        let g = r.graph().clone();
        let bb = g.bounding_box().unwrap();
        let random_point = |rng: &mut StdRng| loop {
            let lat = rng.gen_range(bb.min_lat..bb.max_lat);
            let lon = rng.gen_range(bb.min_lon..bb.max_lon);
            if let Ok(p) = r.snap(lat, lon) {
                return p;
            }
        };
        let crews: Vec<_> = (0..200).map(|_| random_point(&mut rng)).collect();
        let mut index = EtaIndex::many_to_one(&r);
        let mut hospitals = EtaIndex::one_to_many(&r);
        for (slot, p) in crews.iter().enumerate() {
            index.set(&r, slot as u32, *p);
            hospitals.set(&r, slot as u32, *p);
        }
        for round in 0..10 {
            let call = random_point(&mut rng);
            let live = r.live();
            let target_points = r.target_points(&call);
            let to_call =
                dijkstra_all_to_one(&g.first_out, &g.arc_head, &live.weights, &target_points);
            let etas = index.etas(&r, &call);
            for (slot, &eta) in etas.iter().enumerate().take(crews.len()) {
                let Some(crew) = index.get(slot as u32) else {
                    assert_eq!(eta, None);
                    continue;
                };
                let crew = &crew;
                let via = r
                    .source_points(crew)
                    .iter()
                    .map(|&(v, d)| d.saturating_add(to_call[v as usize]))
                    .min()
                    .filter(|&d| d != INF);
                let one_to_one = r.eta(crew, &call);
                let want = match (via, one_to_one) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                assert_eq!(eta, want, "{name} round {round} crew {slot}");
                assert_eq!(
                    one_to_one, want,
                    "{name} round {round} crew {slot} one-to-one"
                );
            }
            // One-to-many: from the call's position to every "hospital".
            let from_call = r.source_points(&call);
            let dist = dijkstra_one_to_all(&g.first_out, &g.arc_head, &live.weights, &from_call);
            let etas = hospitals.etas(&r, &call);
            for (slot, h) in crews.iter().enumerate() {
                let via = r
                    .target_points(h)
                    .iter()
                    .map(|&(v, d)| dist[v as usize].saturating_add(d))
                    .min()
                    .filter(|&d| d != INF);
                let direct = r.eta(&call, h);
                let want = match (via, direct) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                assert_eq!(etas[slot], want, "{name} round {round} hospital {slot}");
            }
            // Crews move between calls; some go off duty.
            for _ in 0..20 {
                let slot = rng.gen_range(0..crews.len()) as u32;
                index.set(&r, slot, random_point(&mut rng));
            }
            let gone = rng.gen_range(0..crews.len()) as u32;
            index.remove(gone);
            let etas = index.etas(&r, &call);
            assert_eq!(etas[gone as usize], None);
            for slot in 0..crews.len() as u32 {
                if let Some(p) = index.get(slot) {
                    assert_eq!(
                        etas[slot as usize],
                        r.eta(&p, &call),
                        "{name}: moved crew {slot}"
                    );
                }
            }
        }
        println!("{name}: many-to-one and one-to-many exact for 200 points x 10 calls");
    }
}

/// What [`EtaIndex::best_etas`] must return, from the full answer of [`EtaIndex::etas`]: the
/// exact time of every admitted slot at or below the `k`-th best admitted time and of every
/// slot in `also`, by slot.
fn expected_best(
    full: &[Option<u32>],
    k: usize,
    admit: impl Fn(u32) -> bool,
    also: &[u32],
) -> Vec<(u32, u32)> {
    let mut admitted: Vec<u32> = (0..full.len() as u32)
        .filter(|&s| admit(s))
        .filter_map(|s| full[s as usize])
        .collect();
    admitted.sort_unstable();
    let kth = if k == 0 {
        None
    } else {
        Some(admitted.get(k - 1).copied().unwrap_or(u32::MAX))
    };
    (0..full.len() as u32)
        .filter_map(|s| {
            let e = full[s as usize];
            let best = admit(s) && kth.is_some_and(|t| e.is_some_and(|e| e <= t));
            if also.contains(&s) || best { e } else { None }.map(|e| (s, e))
        })
        .collect()
}

#[test]
fn best_etas_equal_the_full_answer_for_the_best_and_the_asked() {
    let mut rng = StdRng::seed_from_u64(seed("best_etas"));
    let mut skipped_total = 0usize;
    for name in MAPS {
        let r = router(name);
        let bb = r.graph().bounding_box().unwrap();
        let random_point = |rng: &mut StdRng| loop {
            let lat = rng.gen_range(bb.min_lat..bb.max_lat);
            let lon = rng.gen_range(bb.min_lon..bb.max_lon);
            if let Ok(p) = r.snap(lat, lon) {
                return p;
            }
        };
        let mut many = EtaIndex::many_to_one(&r);
        let mut one = EtaIndex::one_to_many(&r);
        let n = 300u32;
        let mut points: Vec<_> = (0..n).map(|_| random_point(&mut rng)).collect();
        // A few points share a road with the next call (the direct times seed the walk).
        for (slot, p) in points.iter().enumerate() {
            many.set(&r, slot as u32, *p);
            one.set(&r, slot as u32, *p);
        }
        for round in 0..200 {
            let call = random_point(&mut rng);
            if round % 10 == 0 {
                for slot in 0..3u32 {
                    let mut p = call;
                    p.fraction = rng.gen_range(0.0..1.0);
                    many.set(&r, slot, p);
                    one.set(&r, slot, p);
                    points[slot as usize] = p;
                }
            }
            let k = rng.gen_range(0..8usize);
            let modulus = rng.gen_range(1..4u32);
            let admit = |s: u32| s % modulus != 1 || modulus == 1;
            let also: Vec<u32> = (0..rng.gen_range(0..3))
                .map(|_| rng.gen_range(0..n))
                .collect();
            for index in [&mut many, &mut one] {
                let full = index.etas(&r, &call);
                let best = index.best_etas(&r, &call, k, admit, &also);
                let want = expected_best(&full, k, admit, &also);
                assert_eq!(best, want, "{name} round {round} k {k} mod {modulus}");
                skipped_total += full.iter().flatten().count() - best.len();
            }
            // Points move and leave between calls.
            for _ in 0..10 {
                let slot = rng.gen_range(0..n);
                let p = random_point(&mut rng);
                many.set(&r, slot, p);
                one.set(&r, slot, p);
            }
            let gone = rng.gen_range(0..n);
            many.remove(gone);
            one.remove(gone);
            let back = rng.gen_range(0..n);
            many.set(&r, back, points[back as usize]);
            one.set(&r, back, points[back as usize]);
        }
    }
    println!("best_etas: {skipped_total} times left out as not among the best");
    assert!(skipped_total > 0);
}
