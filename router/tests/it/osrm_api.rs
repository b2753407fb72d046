//! The OSRM routes in-process: snapping as OSRM does (any distance, or within `radiuses`),
//! the table limit counted as sources × destinations, and OSRM's codes for what is refused.

use std::sync::{Arc, OnceLock};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::http::{osrm_routes, osrm_routes_with, OsrmOptions};
use router::Router;
use serde_json::Value;

use crate::helpers::{get_json, router, seed};

/// Two points in Heidelberg's old town, `lon,lat`.
const A: &str = "8.6946,49.4106";
const B: &str = "8.6765,49.4034";
/// Paris: 450 km from Heidelberg.
const PARIS: (f64, f64) = (2.3522, 48.8566);

fn heidelberg() -> Arc<Router> {
    static R: OnceLock<Arc<Router>> = OnceLock::new();
    R.get_or_init(|| Arc::new(router("heidelberg"))).clone()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

#[test]
fn a_coordinate_off_the_map_snaps_to_the_nearest_road_unless_radiuses_forbid_it() {
    let (r, rt) = (heidelberg(), rt());
    let app = osrm_routes(r.clone());
    let paris = format!("{},{}", PARIS.0, PARIS.1);
    // The router's own snapping (the dispatch service's) refuses Paris...
    assert!(r.snap(PARIS.1, PARIS.0).is_err());
    // ... and the OSRM API routes from the nearest road, as OSRM does.
    let expected = r.snap_within(PARIS.1, PARIS.0, f64::INFINITY).unwrap();
    assert!(expected.distance_m > 300_000.0, "{}", expected.distance_m);
    let (status, v) = get_json(&rt, &app, &format!("/route/v1/driving/{paris};{A}"));
    assert_eq!(status, 200, "{v}");
    let d = v["waypoints"][0]["distance"].as_f64().unwrap();
    assert!(
        (d - expected.distance_m).abs() < 1e-3,
        "{d} vs {}",
        expected.distance_m
    );
    assert!(v["routes"][0]["duration"].as_f64().unwrap() > 0.0);
    // `unlimited` and an empty entry say the same.
    for radiuses in ["unlimited;unlimited", ";", "unlimited;50"] {
        let (status, v) = get_json(
            &rt,
            &app,
            &format!("/route/v1/driving/{paris};{A}?radiuses={radiuses}"),
        );
        assert_eq!(status, 200, "{radiuses}: {v}");
    }
    // A radius refuses the coordinate beyond it, naming it.
    for (path, index) in [
        (format!("/route/v1/driving/{paris};{A}?radiuses=1000;"), 0),
        (format!("/route/v1/driving/{A};{paris}?radiuses=;1000"), 1),
        (
            format!("/route/v1/driving/{A};{B};{paris}?radiuses=50;50;300000"),
            2,
        ),
        (format!("/table/v1/driving/{A};{paris}?radiuses=;1000"), 1),
        (format!("/nearest/v1/driving/{paris}?radiuses=1000"), 0),
    ] {
        let (status, v) = get_json(&rt, &app, &path);
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(code(&v), "NoSegment", "{path}: {v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains(&format!("coordinate {index}")),
            "{path}: {v}"
        );
    }
    // The routes' own default radius applies where `radiuses` gives none.
    let strict = osrm_routes_with(
        r.clone(),
        OsrmOptions {
            default_radius_m: 1_000.0,
            ..OsrmOptions::default()
        },
    );
    let (_, v) = get_json(&rt, &strict, &format!("/route/v1/driving/{paris};{A}"));
    assert_eq!(code(&v), "NoSegment", "{v}");
    let (status, v) = get_json(
        &rt,
        &strict,
        &format!("/route/v1/driving/{paris};{A}?radiuses=unlimited;"),
    );
    assert_eq!(status, 200, "{v}");
}

#[test]
fn radiuses_must_match_the_coordinates_and_be_metres() {
    let rt = rt();
    let app = osrm_routes(heidelberg());
    for (path, expected) in [
        (
            format!("/route/v1/driving/{A};{B}?radiuses=100"),
            "InvalidOptions",
        ),
        (
            format!("/route/v1/driving/{A};{B}?radiuses=1;2;3"),
            "InvalidOptions",
        ),
        (
            format!("/table/v1/driving/{A};{B}?radiuses=100"),
            "InvalidOptions",
        ),
        (
            format!("/nearest/v1/driving/{A}?radiuses=1;2"),
            "InvalidOptions",
        ),
        (
            format!("/route/v1/driving/{A};{B}?radiuses=100;-5"),
            "InvalidOptions",
        ),
        (
            format!("/route/v1/driving/{A};{B}?radiuses=100;far"),
            "InvalidQuery",
        ),
        (
            format!("/route/v1/driving/{A};{B}?radiuses=100;NaN"),
            "InvalidQuery",
        ),
    ] {
        let (status, v) = get_json(&rt, &app, &path);
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(code(&v), expected, "{path}: {v}");
    }
    let (status, v) = get_json(
        &rt,
        &app,
        &format!("/route/v1/driving/{A};{B}?radiuses=100;100"),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = get_json(
        &rt,
        &app,
        &format!("/nearest/v1/driving/{A}?number=3&radiuses=200"),
    );
    assert_eq!(status, 200, "{v}");
    for w in v["waypoints"].as_array().unwrap() {
        assert!(w["distance"].as_f64().unwrap() <= 200.0, "{v}");
    }
}

#[test]
fn a_table_of_one_call_and_a_thousand_crews_is_allowed_and_the_limit_counts_cells() {
    let (r, rt) = (heidelberg(), rt());
    let app = osrm_routes(r.clone());
    let g = r.graph().clone();
    let bb = g.bounding_box().unwrap();
    let mut rng = StdRng::seed_from_u64(seed("table_limit"));
    let points: Vec<(f64, f64)> = (0..1_001)
        .map(|_| {
            (
                rng.gen_range(bb.min_lon..bb.max_lon),
                rng.gen_range(bb.min_lat..bb.max_lat),
            )
        })
        .collect();
    let coords = points
        .iter()
        .map(|(lon, lat)| format!("{lon:.6},{lat:.6}"))
        .collect::<Vec<_>>()
        .join(";");
    let all_but_0 = (1..1_001)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(";");
    // 1,000 crews to one call, and one crew to 1,000 places.
    let (status, v) = get_json(
        &rt,
        &app,
        &format!("/table/v1/driving/{coords}?sources={all_but_0}&destinations=0"),
    );
    assert_eq!(status, 200, "{}", v["message"]);
    let rows = v["durations"].as_array().unwrap();
    assert_eq!(rows.len(), 1_000);
    // The cells are the router's ETAs.
    let snap = |i: usize| {
        r.snap_within(points[i].1, points[i].0, f64::INFINITY)
            .unwrap()
    };
    let call = snap(0);
    for i in [1, 2, 500, 1_000] {
        let eta = r.eta(&snap(i), &call).map(|ms| ms as f64 / 1000.0);
        let cell = rows[i - 1][0].as_f64();
        match (eta, cell) {
            (Some(e), Some(c)) => assert!((e - c).abs() <= 0.051, "row {i}: {e} vs {c}"),
            (e, c) => assert_eq!(e.is_none(), c.is_none(), "row {i}"),
        }
    }
    let (status, v) = get_json(
        &rt,
        &app,
        &format!("/table/v1/driving/{coords}?sources=0&destinations={all_but_0}"),
    );
    assert_eq!(status, 200, "{}", v["message"]);
    assert_eq!(v["durations"][0].as_array().unwrap().len(), 1_000);
    // 1,001 × 1,001 (no sources or destinations: all of them) is too big, and so is 101 × 100.
    let (status, v) = get_json(&rt, &app, &format!("/table/v1/driving/{coords}"));
    assert_eq!((status, code(&v)), (400, "TooBig"), "{v}");
    let first = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(";");
    let (status, v) = get_json(
        &rt,
        &app,
        &format!(
            "/table/v1/driving/{coords}?sources={}&destinations={}",
            first(101),
            first(100)
        ),
    );
    assert_eq!((status, code(&v)), (400, "TooBig"), "{v}");
    // The limit is a setting of the routes.
    let small = osrm_routes_with(
        r.clone(),
        OsrmOptions {
            max_table_size: 10,
            ..OsrmOptions::default()
        },
    );
    let eleven: Vec<&str> = coords.split(';').take(11).collect();
    let eleven = eleven.join(";");
    for (query, expected) in [
        (
            format!("sources={}&destinations={}", first(10), first(10)),
            200,
        ),
        ("sources=0".to_string(), 200),
        (format!("sources={}", first(10)), 400),
        (String::new(), 400),
    ] {
        let (status, v) = get_json(&rt, &small, &format!("/table/v1/driving/{eleven}?{query}"));
        assert_eq!(status, expected, "{query}: {v}");
    }
}

#[test]
fn a_table_beyond_the_limit_and_other_limits_are_too_big() {
    let (r, rt) = (heidelberg(), rt());
    let small = osrm_routes_with(
        r.clone(),
        OsrmOptions {
            max_table_size: 3,
            max_route_size: 3,
            max_nearest: 2,
            ..OsrmOptions::default()
        },
    );
    let four = [A, B, A, B].join(";");
    for (path, expected) in [
        (format!("/table/v1/driving/{A};{B};{A}"), "Ok"),
        (
            format!("/table/v1/driving/{four}?sources=0;1&destinations=0;1;2;3"),
            "Ok",
        ),
        (format!("/table/v1/driving/{four}"), "TooBig"),
        (format!("/table/v1/driving/{four}?sources=0;1;2"), "TooBig"),
        (format!("/route/v1/driving/{A};{B};{A}"), "Ok"),
        (format!("/route/v1/driving/{four}"), "TooBig"),
        (format!("/nearest/v1/driving/{A}?number=2"), "Ok"),
        (format!("/nearest/v1/driving/{A}?number=3"), "TooBig"),
        (
            format!("/nearest/v1/driving/{A}?number=0"),
            "InvalidOptions",
        ),
        (
            format!("/nearest/v1/driving/{A}?number=two"),
            "InvalidQuery",
        ),
    ] {
        let (status, v) = get_json(&rt, &small, &path);
        assert_eq!(code(&v), expected, "{path}: {v}");
        assert_eq!(status, if expected == "Ok" { 200 } else { 400 }, "{path}");
    }
    let (_, v) = get_json(&rt, &small, &format!("/route/v1/driving/{four}"));
    assert_eq!(
        v["message"],
        "Number of entries 4 is higher than current maximum (3)"
    );
}
