//! Snapping against a brute-force oracle on every shipped map.
//!
//! The exactness tests route from the router's own snapped points, so a snapping bug would
//! pass them unseen. Here the nearest road of random points (on the roads, beside them, off
//! the network and hundreds of kilometres away) is found by a plain scan over every piece of
//! every segment, with a point-to-arc distance on the sphere written here (unit vectors and
//! cross products; nothing of the router's snapping code or projections), and compared with
//! what the router's snapping entry points and the OSRM API (`/nearest`, `/table`) answer.

use std::sync::Arc;
use std::time::Instant;

use osm_data::graph::EARTH_RADIUS_M;
use osm_data::{Coord, RoadGraph};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::RouterError;

use crate::helpers::{get_json, router, seed, MAPS};

type V3 = [f64; 3];

fn unit(c: Coord) -> V3 {
    let (lat, lon) = (c.lat().to_radians(), c.lon().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// The angle between two unit vectors, accurate for tiny and large angles alike.
fn angle(a: V3, b: V3) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

/// One piece of road: the great-circle arc between consecutive shape points.
struct Arc3 {
    segment: u32,
    a: V3,
    b: V3,
    /// The unit normal of the arc's great circle (`None`: the two points coincide).
    n: Option<V3>,
}

fn pieces(g: &RoadGraph) -> Vec<Arc3> {
    let mut out = Vec::with_capacity(g.points.len());
    for s in 0..g.segment_count() as u32 {
        for w in g.segment_points(s).windows(2) {
            let (a, b) = (unit(w[0]), unit(w[1]));
            let n = cross(a, b);
            let len = norm(n);
            out.push(Arc3 {
                segment: s,
                a,
                b,
                n: (len > 1e-15).then(|| [n[0] / len, n[1] / len, n[2] / len]),
            });
        }
    }
    out
}

/// Great-circle distance (metres) from the point `p` to the arc.
fn distance_to(arc: &Arc3, p: V3) -> f64 {
    let ends = angle(p, arc.a).min(angle(p, arc.b));
    let Some(n) = arc.n else {
        return ends * EARTH_RADIUS_M;
    };
    // The foot of `p` on the arc's great circle lies on the arc when it is between the ends.
    let h = dot(p, n);
    let foot = [p[0] - h * n[0], p[1] - h * n[1], p[2] - h * n[2]];
    let inside = dot(cross(arc.a, foot), n) >= 0.0 && dot(cross(foot, arc.b), n) >= 0.0;
    if inside && norm(foot) > 0.0 {
        h.abs().clamp(-1.0, 1.0).asin().min(ends) * EARTH_RADIUS_M
    } else {
        ends * EARTH_RADIUS_M
    }
}

/// The brute-force nearest distance, and each segment's own nearest distance.
fn scan(pieces: &[Arc3], c: Coord, per_segment: &mut [f64]) -> f64 {
    per_segment.fill(f64::INFINITY);
    let p = unit(c);
    let mut best = f64::INFINITY;
    for arc in pieces {
        let d = distance_to(arc, p);
        let s = &mut per_segment[arc.segment as usize];
        *s = s.min(d);
        best = best.min(d);
    }
    best
}

/// The point `distance_m` from `c` along the initial bearing `bearing` (radians).
fn destination(c: Coord, bearing: f64, distance_m: f64) -> Coord {
    let (lat1, lon1) = (c.lat().to_radians(), c.lon().to_radians());
    let d = distance_m / EARTH_RADIUS_M;
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * bearing.cos()).asin();
    let lon2 =
        lon1 + (bearing.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    let lon2 = (lon2 + 3.0 * std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
        - std::f64::consts::PI;
    Coord::from_degrees(lat2.to_degrees(), lon2.to_degrees())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Anywhere in the map's bounding box.
    InBox,
    /// Up to 3 km outside the box: off the network.
    NearBox,
    /// Within 40 m of a random shape point: beside a road.
    BesideRoad,
    /// A shape point itself: on a road, often where several segments meet (ties).
    OnVertex,
    /// 5 to 1,500 km from the map.
    Far,
}

fn random_point(rng: &mut StdRng, g: &RoadGraph) -> (Kind, Coord) {
    let bb = g.bounding_box().unwrap();
    let centre = Coord::from_degrees(
        (bb.min_lat + bb.max_lat) / 2.0,
        (bb.min_lon + bb.max_lon) / 2.0,
    );
    let kind = match rng.gen_range(0..10) {
        0..=2 => Kind::InBox,
        3..=4 => Kind::NearBox,
        5..=6 => Kind::BesideRoad,
        7 => Kind::OnVertex,
        _ => Kind::Far,
    };
    let c = match kind {
        Kind::InBox => Coord::from_degrees(
            rng.gen_range(bb.min_lat..bb.max_lat),
            rng.gen_range(bb.min_lon..bb.max_lon),
        ),
        Kind::NearBox => {
            let (dlat, dlon) = (0.027, 0.027 / bb.min_lat.to_radians().cos());
            Coord::from_degrees(
                rng.gen_range(bb.min_lat - dlat..bb.max_lat + dlat),
                rng.gen_range(bb.min_lon - dlon..bb.max_lon + dlon),
            )
        }
        Kind::BesideRoad | Kind::OnVertex => {
            let v = g.points[rng.gen_range(0..g.points.len())];
            if kind == Kind::OnVertex {
                v
            } else {
                destination(
                    v,
                    rng.gen_range(0.0..std::f64::consts::TAU),
                    rng.gen_range(0.0..40.0),
                )
            }
        }
        Kind::Far => destination(
            centre,
            rng.gen_range(0.0..std::f64::consts::TAU),
            rng.gen_range(5_000.0..1_500_000.0),
        ),
    };
    (kind, c)
}

/// How far apart the router's and the oracle's distances may be: a centimetre, plus the
/// rounding of a far point's distance.
fn tolerance(d: f64) -> f64 {
    0.01 + 1e-6 * d
}

/// The same distance as `best`, and the router's segment one of those at that distance.
fn check_snapped(
    label: &str,
    s: &router::Snapped,
    best: f64,
    per_segment: &[f64],
    pieces: &[Arc3],
) {
    let tol = tolerance(best);
    assert!(
        (s.distance_m - best).abs() <= tol,
        "{label}: snapped {} m away, the nearest road is {best} m away",
        s.distance_m
    );
    let own = per_segment[s.segment as usize];
    assert!(
        own <= best + tol,
        "{label}: snapped to segment {} ({own} m away), the nearest road is {best} m away",
        s.segment
    );
    // The snapped point lies on that segment (up to the 1e-7° of a coordinate), as far from
    // the input as said.
    let p = unit(s.point);
    let on_segment = pieces
        .iter()
        .filter(|a| a.segment == s.segment)
        .map(|a| distance_to(a, p))
        .fold(f64::INFINITY, f64::min);
    assert!(
        on_segment < 0.02,
        "{label}: the snapped point is {on_segment} m off its segment"
    );
    let between = angle(unit(s.input), p) * EARTH_RADIUS_M;
    assert!(
        (between - s.distance_m).abs() <= 0.02 + 1e-6 * best,
        "{label}: the snapped point is {between} m away, not {}",
        s.distance_m
    );
}

#[test]
fn snapping_finds_the_nearest_road_as_a_scan_over_every_piece_does() {
    let mut rng = StdRng::seed_from_u64(seed("snapping_oracle"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in MAPS {
        let r = Arc::new(router(name));
        let g = r.graph().clone();
        let pieces = pieces(&g);
        let app = router::http::osrm_routes(r.clone());
        let mut per_segment = vec![0.0; g.segment_count()];
        let (mut counts, mut refused, mut far_time, mut far_n) = ([0usize; 5], 0, 0.0, 0);
        // The largest gaps between the router's distance and the scan's: near the map
        // (metres) and far from it (relative).
        let (mut gap_near, mut gap_far) = (0.0f64, 0.0f64);
        let mut table_points: Vec<(Coord, f64)> = Vec::new();
        for i in 0..300 {
            let (kind, c) = random_point(&mut rng, &g);
            counts[kind as usize] += 1;
            let label = format!("{name} point {i} ({kind:?}, {:.7},{:.7})", c.lat(), c.lon());
            let best = scan(&pieces, c, &mut per_segment);
            let tol = tolerance(best);

            // Unlimited: the nearest road at any distance.
            let started = Instant::now();
            let s = r.snap_within(c.lat(), c.lon(), f64::INFINITY).unwrap();
            if kind == Kind::Far {
                far_time += started.elapsed().as_secs_f64();
                far_n += 1;
            }
            check_snapped(&label, &s, best, &per_segment, &pieces);
            if kind == Kind::Far {
                gap_far = gap_far.max((s.distance_m - best).abs() / best);
            } else {
                gap_near = gap_near.max((s.distance_m - best).abs());
            }
            let n3 = r.snap_n_within(c.lat(), c.lon(), 3, f64::INFINITY).unwrap();
            assert_eq!(n3[0].segment, s.segment, "{label}: nearest of 3");
            for w in n3.windows(2) {
                assert!(
                    w[0].distance_m <= w[1].distance_m,
                    "{label}: 3 nearest in order"
                );
                assert_ne!(w[0].segment, w[1].segment);
            }
            for x in &n3 {
                assert!(
                    (x.distance_m - per_segment[x.segment as usize]).abs() <= tol,
                    "{label}: one of 3 nearest"
                );
            }

            // The router's own snapping keeps its 1 km limit.
            match r.snap(c.lat(), c.lon()) {
                Ok(t) => {
                    assert!(best <= 1_000.0 + tol, "{label}: snapped at {best} m");
                    assert_eq!(t, s, "{label}: the 1 km snap is the unlimited one");
                }
                Err(RouterError::NoSegment { max_distance_m, .. }) => {
                    assert_eq!(max_distance_m, 1_000.0);
                    assert!(best >= 1_000.0 - tol, "{label}: refused at {best} m");
                    refused += 1;
                }
                Err(e) => panic!("{label}: {e}"),
            }
            // A radius around the nearest distance: refused exactly beyond it.
            let radius = best * rng.gen_range(0.5..1.5);
            match r.snap_within(c.lat(), c.lon(), radius) {
                Ok(t) => {
                    assert!(best <= radius + tol, "{label}: radius {radius}");
                    check_snapped(&label, &t, best, &per_segment, &pieces);
                }
                Err(_) => assert!(best >= radius - tol, "{label}: radius {radius}"),
            }

            // The OSRM API: `/nearest` with and without a radius.
            let (lon, lat) = (c.lon(), c.lat());
            let (status, v) = get_json(&rt, &app, &format!("/nearest/v1/driving/{lon},{lat}"));
            assert_eq!(status, 200, "{label}: {v}");
            let w = &v["waypoints"][0];
            let d = w["distance"].as_f64().unwrap();
            assert!(
                (d - best).abs() <= tol + 1e-6,
                "{label}: /nearest {d} m vs {best} m"
            );
            let loc = Coord::from_degrees(
                w["location"][1].as_f64().unwrap(),
                w["location"][0].as_f64().unwrap(),
            );
            let off = angle(unit(loc), unit(s.point)) * EARTH_RADIUS_M;
            assert!(
                off < 0.15,
                "{label}: /nearest location {off} m from the snapped point"
            );
            let (status, v) = get_json(
                &rt,
                &app,
                &format!("/nearest/v1/driving/{lon},{lat}?radiuses={radius}"),
            );
            if best > radius + tol {
                assert_eq!(status, 400, "{label}: radius {radius}: {v}");
                assert_eq!(v["code"], "NoSegment");
            } else if best < radius - tol {
                assert_eq!(status, 200, "{label}: radius {radius}: {v}");
            }
            table_points.push((c, best));
        }
        // `/table` snaps through the same entry point as `/route`: every point in one request
        // (n sources × 1 destination).
        let coords: Vec<String> = table_points
            .iter()
            .map(|(c, _)| format!("{},{}", c.lon(), c.lat()))
            .collect();
        let (status, v) = get_json(
            &rt,
            &app,
            &format!("/table/v1/driving/{}?destinations=0", coords.join(";")),
        );
        assert_eq!(status, 200, "{name} table: {v}");
        for (i, (w, (_, best))) in v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&table_points)
            .enumerate()
        {
            let d = w["distance"].as_f64().unwrap();
            assert!(
                (d - best).abs() <= tolerance(*best) + 1e-6,
                "{name} table source {i}: {d} m vs {best} m"
            );
        }
        println!(
            "{name}: {} pieces; 300 points ({} in the box, {} near it, {} beside a road, {} on a \
             shape point, {} far) agree with the scan; {refused} beyond 1 km refused by snap; \
             far points snapped in {:.1} µs on average; largest gap {gap_near:.1e} m near the \
             map, {gap_far:.1e} relative far from it",
            pieces.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            counts[4],
            far_time / far_n.max(1) as f64 * 1e6,
        );
    }
}
