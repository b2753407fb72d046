//! Routes between snapped coordinates: exact against Dijkstra with partial segments,
//! geometry from point to point, and clear errors off the map.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::cch::INF;
use router::dijkstra::dijkstra_one_to_all;
use router::RouterError;

use crate::helpers::{graph, router, seed, MAPS};

#[test]
fn snapped_routes_equal_dijkstra_and_their_pieces_add_up() {
    let mut rng = StdRng::seed_from_u64(seed("snapped_routes"));
    for name in MAPS {
        let r = router(name);
        let g = r.graph().clone();
        let bb = g.bounding_box().unwrap();
        let live = r.live();
        let mut same_segment = 0;
        for i in 0..300 {
            let mut pick = || loop {
                let p = (
                    rng.gen_range(bb.min_lat..bb.max_lat),
                    rng.gen_range(bb.min_lon..bb.max_lon),
                );
                if let Ok(s) = r.snap(p.0, p.1) {
                    return s;
                }
            };
            let s = pick();
            // Every tenth pair lies on one segment, to exercise the direct case.
            let t = if i % 10 == 0 {
                let mut t = s;
                t.fraction = rng.gen_range(0.0..1.0);
                let mut at = Vec::new();
                r.snap_index()
                    .subline(&g, t.segment, t.fraction, t.fraction, &mut at);
                t.point = at[0];
                same_segment += 1;
                t
            } else {
                pick()
            };
            let dist = dijkstra_one_to_all(
                &g.first_out,
                &g.arc_head,
                &live.weights,
                &r.source_points(&s),
            );
            let via = r
                .target_points(&t)
                .iter()
                .map(|&(v, d)| dist[v as usize].saturating_add(d))
                .min()
                .filter(|&d| d != INF);
            let route = r.route(&s, &t).unwrap();
            let eta = r.eta(&s, &t);
            assert_eq!(
                route.as_ref().map(|x| x.duration_ms),
                eta,
                "{name} pair {i}"
            );
            let Some(route) = route else {
                assert_eq!(via, None);
                continue;
            };
            if s.segment != t.segment {
                assert_eq!(Some(route.duration_ms), via, "{name} pair {i}");
            } else {
                assert!(via.is_none_or(|v| route.duration_ms <= v));
            }
            let sum: u32 = route.pieces.iter().map(|p| p.duration_ms).sum();
            assert_eq!(sum, route.duration_ms, "{name} pair {i}: pieces add up");
            for w in route.pieces.windows(2) {
                assert_eq!(
                    g.arc_head[w[0].arc as usize],
                    r.arc_tail(w[1].arc),
                    "{name} pair {i}: pieces connect"
                );
            }
            let first = route.geometry.first().unwrap();
            let last = route.geometry.last().unwrap();
            let near =
                |a: &osm_data::Coord, b: &osm_data::Coord| osm_data::haversine_m(*a, *b) < 1.0;
            assert!(
                near(first, &s.point) && near(last, &t.point),
                "{name} pair {i}: geometry ends"
            );
            let along: f64 = route
                .geometry
                .windows(2)
                .map(|w| osm_data::haversine_m(w[0], w[1]))
                .sum();
            assert!(
                (along - route.distance_m).abs() <= 1.0 + 0.01 * route.distance_m,
                "{name} pair {i}: geometry {along} m vs distance {} m",
                route.distance_m
            );
        }
        println!("{name}: 300 snapped routes exact ({same_segment} on one segment)");
    }
}

#[test]
fn coordinates_off_the_map_are_refused() {
    let r = router("monaco");
    match r.snap(48.8566, 2.3522) {
        Err(RouterError::NoSegment { max_distance_m, .. }) => assert_eq!(max_distance_m, 1000.0),
        other => panic!("Paris is not in Monaco: {other:?}"),
    }
    assert!(matches!(
        r.snap(91.0, 7.42),
        Err(RouterError::InvalidCoordinate { .. })
    ));
    assert!(matches!(
        r.snap(f64::NAN, 7.42),
        Err(RouterError::InvalidCoordinate { .. })
    ));
    // A point 300 m out to sea is snapped; 5 km out is not.
    assert!(r.snap(43.7300, 7.4300).is_ok());
    assert!(r.snap(43.70, 7.50).is_err());
}

#[test]
fn preprocessing_is_cached_next_to_the_graph_and_damage_only_costs_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moscow.graph");
    osm_data::graph_file::save(&graph("moscow-fragment"), &path).unwrap();
    let a = router::Router::open(&path).unwrap();
    let cache = router::engine::cache_path(&path);
    assert!(cache.exists());
    let b = router::Router::open(&path).unwrap();
    assert_eq!(a.topology().order(), b.topology().order());
    let mut bytes = std::fs::read(&cache).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cache, &bytes).unwrap();
    let c = router::Router::open(&path).unwrap();
    assert_eq!(a.topology().order(), c.topology().order());
}

#[test]
fn snapping_near_a_known_segment_gives_the_same_point_as_snapping() {
    // Points on the roads (snapped points, shape points where segments meet, so ties),
    // near them, and far off, each with its own segment, a neighbour's and a random one.
    let mut rng = StdRng::seed_from_u64(seed("snap_near"));
    for name in ["monaco", "heidelberg"] {
        let r = router(name);
        let g = r.graph().clone();
        let bb = g.bounding_box().unwrap();
        let mut fast = 0;
        for i in 0..2_000 {
            let c = osm_data::Coord::from_degrees(
                rng.gen_range(bb.min_lat..bb.max_lat),
                rng.gen_range(bb.min_lon..bb.max_lon),
            );
            let Ok(s) = r.snap(c.lat(), c.lon()) else {
                continue;
            };
            let pts = g.segment_points(s.segment);
            let vertex = pts[rng.gen_range(0..pts.len())];
            let random = rng.gen_range(0..g.segment_count() as u32);
            for (p, hint) in [
                (s.point, s.segment),
                (s.point, random),
                (c, s.segment),
                (vertex, s.segment),
                (vertex, random),
                (s.point, u32::MAX),
            ] {
                let exact = r.snap(p.lat(), p.lon());
                let near = r.snap_near(p.lat(), p.lon(), hint);
                match (&exact, &near) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{name} case {i}: {p:?} near {hint}"),
                    (Err(_), Err(_)) => {}
                    _ => panic!("{name} case {i}: {exact:?} vs {near:?}"),
                }
                fast += usize::from(hint == s.segment);
            }
        }
        assert!(fast > 0);
        assert!(r.snap_near(91.0, 7.42, 0).is_err());
        println!("{name}: snap_near equals snap");
    }
}

#[test]
fn route_pieces_is_the_route_without_its_geometry() {
    let mut rng = StdRng::seed_from_u64(seed("route_pieces"));
    let r = router("monaco");
    let bb = r.graph().bounding_box().unwrap();
    let point = |rng: &mut StdRng| loop {
        if let Ok(p) = r.snap(
            rng.gen_range(bb.min_lat..bb.max_lat),
            rng.gen_range(bb.min_lon..bb.max_lon),
        ) {
            return p;
        }
    };
    for _ in 0..200 {
        let (a, b) = (point(&mut rng), point(&mut rng));
        let full = r.route(&a, &b).unwrap();
        let pieces = r.route_pieces(&a, &b).unwrap();
        match (full, pieces) {
            (Some(mut f), Some(p)) => {
                assert!(p.geometry.is_empty());
                f.geometry.clear();
                assert_eq!(f, p);
            }
            (f, p) => assert_eq!(f.is_none(), p.is_none()),
        }
    }
}

#[test]
fn point_at_is_the_first_point_of_the_subline() {
    let mut rng = StdRng::seed_from_u64(seed("point_at"));
    let r = router("monaco");
    let g = r.graph().clone();
    let idx = r.snap_index();
    for _ in 0..2_000 {
        let seg = rng.gen_range(0..g.segment_count() as u32);
        let f = match rng.gen_range(0..4) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.gen_range(0.0..1.0),
        };
        let mut line = Vec::new();
        idx.subline(&g, seg, f, f, &mut line);
        assert_eq!(idx.point_at(&g, seg, f), line[0], "segment {seg} at {f}");
    }
}
