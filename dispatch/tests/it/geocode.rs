//! `GET /api/geocode` and `GET /api/reverse` on the Moscow fragment: a typed Russian
//! address answers its parts, its point, and a road point that is the router's snap of it
//! and the nearest point of the road network by a brute-force scan of every segment; the
//! reverse search finds the address back; bad input is refused naming the field.

use std::sync::{Arc, OnceLock};

use osm_data::address::AddressIndex;
use osm_data::{haversine_m, Coord};
use serde_json::Value;

use crate::helpers::{
    client, data, shared_router, start_with, TestDb, TestServer, CREW_A1, DISPATCHER,
};

fn moscow_index() -> Arc<AddressIndex> {
    static INDEX: OnceLock<Arc<AddressIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| Arc::new(AddressIndex::from_pbf(&data("moscow-fragment.osm.pbf")).unwrap()))
        .clone()
}

async fn moscow() -> TestServer {
    start_with(shared_router("moscow-fragment"), TestDb::sqlite(), |c| {
        c.addresses = Some(moscow_index())
    })
    .await
}

async fn get_any(c: &reqwest::Client, url: String) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn point(v: &Value) -> (f64, f64) {
    (v["lat"].as_f64().unwrap(), v["lon"].as_f64().unwrap())
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    haversine_m(Coord::from_degrees(a.0, a.1), Coord::from_degrees(b.0, b.1))
}

/// The nearest point of the road network to `p`, by a scan of every segment (each piece
/// projected locally in metres).
fn nearest_road_m(router: &router::Router, p: (f64, f64)) -> f64 {
    let g = router.graph();
    let kx = p.0.to_radians().cos() * 111_320.0;
    let ky = 110_540.0;
    let xy = |c: &Coord| ((c.lon() - p.1) * kx, (c.lat() - p.0) * ky);
    let mut best = f64::INFINITY;
    for seg in 0..g.segment_count() as u32 {
        for w in g.segment_points(seg).windows(2) {
            let (a, b) = (xy(&w[0]), xy(&w[1]));
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len2 = dx * dx + dy * dy;
            let t = if len2 == 0.0 {
                0.0
            } else {
                (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
            };
            best = best.min((a.0 + t * dx).hypot(a.1 + t * dy));
        }
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_russian_address_answers_its_parts_point_and_road_point() {
    let s = moscow().await;
    let c = client(DISPATCHER);
    let url = format!(
        "{}/api/geocode?q={}&limit=3",
        s.base, "ул. Добролюбова, д. 27А, стр. 1"
    );
    let (code, v) = get_any(&c, url).await;
    assert_eq!(code, 200, "{v}");
    let found = v.as_array().expect("a list");
    assert!(!found.is_empty() && found.len() <= 3, "{v}");
    let top = &found[0];
    assert_eq!(top["kind"], "address", "{top}");
    assert_eq!(top["address"]["street"], "улица Добролюбова", "{top}");
    assert_eq!(top["address"]["housenumber"], "27А", "{top}");
    assert_eq!(top["address"]["building"], "1", "{top}");
    assert_eq!(top["rank"], 0, "{top}");
    // The same house typed another way.
    let (_, again) = get_any(&c, format!("{}/api/geocode?q=добролюбова 27ас1", s.base)).await;
    assert_eq!(again[0]["osm_id"], top["osm_id"], "{again}");

    let at = point(&top["point"]);
    let road = point(&top["road"]);
    let router = shared_router("moscow-fragment");
    let snapped = router.snap(at.0, at.1).unwrap().point;
    assert!(dist(road, (snapped.lat(), snapped.lon())) < 0.05, "{top}");
    let to_road = dist(at, road);
    let brute = nearest_road_m(&router, at);
    assert!(to_road < 100.0, "the road is {to_road:.1} m away");
    assert!(
        (to_road - brute).abs() < 0.5,
        "road point {to_road:.2} m away, the nearest road by brute force {brute:.2} m"
    );

    // The reverse search finds the house back.
    let (code, rev) = get_any(
        &c,
        format!("{}/api/reverse?lat={}&lon={}", s.base, at.0, at.1),
    )
    .await;
    assert_eq!(code, 200, "{rev}");
    assert!(rev["distance_m"].as_f64().unwrap() < 1.0, "{rev}");
    assert!(dist(point(&rev["address"]["point"]), at) < 1.0, "{rev}");
    assert_eq!(rev["address"]["kind"], "address");

    // Any valid token; a crew's too.
    let (code, _) = get_any(
        &client(CREW_A1),
        format!("{}/api/geocode?q=Добролюбова", s.base),
    )
    .await;
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_naming_the_field_and_odd_text_answered() {
    let s = moscow().await;
    let c = client(DISPATCHER);
    let base = &s.base;
    let long = "д".repeat(201);
    for (query, status, field) in [
        ("/api/geocode", 400, "q"),
        ("/api/geocode?q=x&limit=abc", 400, "limit"),
        ("/api/geocode?q=x&limit=0", 422, "limit"),
        ("/api/geocode?q=x&limit=51", 422, "limit"),
        ("/api/geocode?q=%01%02", 400, "q"),
        ("/api/reverse?lat=55.7", 400, "lon"),
        ("/api/reverse?lat=abc&lon=37.6", 400, "lat"),
        ("/api/reverse?lat=91&lon=37.6", 422, "lat"),
        ("/api/reverse?lat=55.7&lon=-181", 422, "lon"),
        ("/api/reverse?lat=NaN&lon=37.6", 422, "lat"),
    ] {
        let (code, v) = get_any(&c, format!("{base}{query}")).await;
        assert_eq!(code, status, "{query}: {v}");
        assert_eq!(v["field"], field, "{query}: {v}");
    }
    let (code, v) = get_any(&c, format!("{base}/api/geocode?q={long}")).await;
    assert_eq!((code, v["field"].as_str()), (400, Some("q")), "{v}");
    for q in ["", "%20%20", ",.;!", "д.%20к.%20с.", "12/"] {
        let (code, v) = get_any(&c, format!("{base}/api/geocode?q={q}")).await;
        assert_eq!(code, 200, "{q}: {v}");
        assert!(v.as_array().is_some(), "{q}: {v}");
    }
    let (code, v) = get_any(&c, format!("{base}/api/geocode?q=Добролюбова&limit=50")).await;
    assert_eq!(code, 200, "{v}");
    assert!(v.as_array().unwrap().len() <= 50);
    // No token.
    for path in ["/api/geocode?q=x", "/api/reverse?lat=55.7&lon=37.6"] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_index_the_search_says_so() {
    let s = start_with(shared_router("moscow-fragment"), TestDb::sqlite(), |_| {}).await;
    let c = client(DISPATCHER);
    for path in ["/api/geocode?q=x", "/api/reverse?lat=55.7&lon=37.6"] {
        let (code, v) = get_any(&c, format!("{}{path}", s.base)).await;
        assert_eq!(
            (code, v["error"].as_str()),
            (503, Some("unavailable")),
            "{v}"
        );
        assert!(v["message"].as_str().unwrap().contains(".osm.pbf"), "{v}");
    }
}
