//! The OSRM-compatible API and the closures API over real HTTP.

use serde_json::{json, Value};

use crate::helpers::{client, shared_router, start, DISPATCHER};

async fn get(url: &str) -> (u16, Value) {
    let r = client(DISPATCHER).get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

const A: &str = "8.6946,49.4106";
const B: &str = "8.6765,49.4034";

#[tokio::test]
async fn route_answers_like_osrm_and_matches_the_router() {
    let router = shared_router("heidelberg");
    let s = start(router.clone()).await;
    let (status, v) = get(&format!(
        "{}/route/v1/driving/{A};{B}?steps=true&geometries=geojson&overview=full&annotations=true",
        s.base
    ))
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["code"], "Ok");
    let route = &v["routes"][0];
    let from = router.snap(49.4106, 8.6946).unwrap();
    let to = router.snap(49.4034, 8.6765).unwrap();
    let expected = router.route(&from, &to).unwrap().unwrap();
    let duration = route["duration"].as_f64().unwrap();
    assert!(
        (duration - expected.duration_s()).abs() < 0.06,
        "{duration} vs {}",
        expected.duration_s()
    );
    assert!((route["distance"].as_f64().unwrap() - expected.distance_m).abs() < 0.06);
    let coords = route["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(coords.len(), expected.geometry.len());
    let steps = route["legs"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.first().unwrap()["maneuver"]["type"], "depart");
    assert_eq!(steps.last().unwrap()["maneuver"]["type"], "arrive");
    let step_sum: f64 = steps.iter().map(|s| s["duration"].as_f64().unwrap()).sum();
    assert!((step_sum - duration).abs() < 0.1 * steps.len() as f64);
    let ann = &route["legs"][0]["annotation"];
    assert_eq!(ann["duration"].as_array().unwrap().len(), coords.len() - 1);
    assert_eq!(v["waypoints"].as_array().unwrap().len(), 2);
    assert!(v["waypoints"][0]["location"].is_array());
    // Default geometry is an encoded polyline; polyline6 and overview=false work.
    let (_, v) = get(&format!("{}/route/v1/driving/{A};{B}", s.base)).await;
    assert!(v["routes"][0]["geometry"].is_string());
    let (_, v) = get(&format!(
        "{}/route/v1/driving/{A};{B}?overview=false&geometries=polyline6",
        s.base
    ))
    .await;
    assert!(v["routes"][0].get("geometry").is_none());
    // Three waypoints give two legs.
    let (_, v) = get(&format!("{}/route/v1/driving/{A};{B};8.70,49.40", s.base)).await;
    assert_eq!(v["routes"][0]["legs"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn routing_needs_a_token_and_closures_need_a_dispatcher() {
    let s = start(shared_router("heidelberg")).await;
    let r = reqwest::get(format!("{}/route/v1/driving/{A};{B}", s.base))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = reqwest::get(format!(
        "{}/route/v1/driving/{A};{B}?token={}",
        s.base,
        crate::helpers::CREW_A1
    ))
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200, "a crew tablet may route");
    let r = client(crate::helpers::CREW_A1)
        .post(format!("{}/api/closures", s.base))
        .json(&json!({"way_ids": [1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = reqwest::get(format!("{}/health", s.base)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "health is open");
}

#[tokio::test]
async fn errors_have_osrm_codes() {
    let s = start(shared_router("heidelberg")).await;
    let cases = [
        (format!("/route/v1/driving/{A}"), "InvalidOptions"),
        (format!("/route/v1/driving/{A};8.67"), "InvalidQuery"),
        (
            "/route/v1/driving/8.69,49.41;181,49".to_string(),
            "InvalidValue",
        ),
        (
            format!("/route/v1/driving/2.35,48.85;{B}?radiuses=1000;unlimited"),
            "NoSegment",
        ),
        (
            format!("/route/v1/driving/{A};{B}?radiuses=1000"),
            "InvalidOptions",
        ),
        (
            format!("/route/v1/driving/{A};{B}?geometries=wkt"),
            "InvalidOptions",
        ),
        (
            format!("/route/v1/driving/{A};{B}?overview=some"),
            "InvalidOptions",
        ),
        (
            format!("/table/v1/driving/{A};{B}?sources=5"),
            "InvalidOptions",
        ),
        (
            format!("/nearest/v1/driving/{A}?number=0"),
            "InvalidOptions",
        ),
        (
            format!("/table/v1/driving/{}", vec![A; 101].join(";")),
            "TooBig",
        ),
    ];
    // As OSRM: a point far from every road snaps to the nearest anyway (here Paris, to the
    // edge of the Heidelberg map), and a table is limited by its cells, so the dispatch case of
    // one destination and a thousand sources is allowed.
    let (status, v) = get(&format!("{}/nearest/v1/driving/2.35,48.85", s.base)).await;
    assert_eq!((status, v["code"].as_str()), (200, Some("Ok")), "{v}");
    assert!(
        v["waypoints"][0]["distance"].as_f64().unwrap() > 300_000.0,
        "{v}"
    );
    let (status, v) = get(&format!(
        "{}/table/v1/driving/{B};{}?destinations=0",
        s.base,
        vec![A; 1000].join(";")
    ))
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (200, Some("Ok")),
        "{}",
        &v.to_string()[..200]
    );
    assert_eq!(v["durations"].as_array().unwrap().len(), 1001);
    for (path, code) in cases {
        let (status, v) = get(&format!("{}{path}", s.base)).await;
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(v["code"], code, "{path}: {v}");
        assert!(v["message"].is_string());
    }
}

#[tokio::test]
async fn table_matches_routes_and_nearest_returns_n_points() {
    let router = shared_router("heidelberg");
    let s = start(router.clone()).await;
    let pts = [
        (8.6946, 49.4106),
        (8.6765, 49.4034),
        (8.70, 49.40),
        (8.65, 49.41),
    ];
    let coords: Vec<String> = pts
        .iter()
        .map(|(lon, lat)| format!("{lon},{lat}"))
        .collect();
    let (status, v) = get(&format!(
        "{}/table/v1/driving/{}?sources=0;1&destinations=2;3;0&annotations=duration,distance",
        s.base,
        coords.join(";")
    ))
    .await;
    assert_eq!(status, 200, "{v}");
    for (row, &i) in [0usize, 1].iter().enumerate() {
        for (col, &j) in [2usize, 3, 0].iter().enumerate() {
            let a = router.snap(pts[i].1, pts[i].0).unwrap();
            let b = router.snap(pts[j].1, pts[j].0).unwrap();
            let r = router.route(&a, &b).unwrap().unwrap();
            let d = v["durations"][row][col].as_f64().unwrap();
            assert!(
                (d - r.duration_s()).abs() < 0.06,
                "{row},{col}: {d} vs {}",
                r.duration_s()
            );
            let m = v["distances"][row][col].as_f64().unwrap();
            assert!((m - r.distance_m).abs() < 0.06);
        }
    }
    assert_eq!(v["sources"].as_array().unwrap().len(), 2);
    assert_eq!(v["destinations"].as_array().unwrap().len(), 3);
    let (_, v) = get(&format!("{}/nearest/v1/driving/{A}?number=3", s.base)).await;
    let w = v["waypoints"].as_array().unwrap();
    assert_eq!(w.len(), 3);
    let d: Vec<f64> = w.iter().map(|x| x["distance"].as_f64().unwrap()).collect();
    assert!(d.windows(2).all(|p| p[0] <= p[1]), "nearest first: {d:?}");
    assert_eq!(w[0]["nodes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn closures_change_routes_at_once_and_reopen() {
    // Its own router: closures must not leak into the other tests.
    let router = crate::helpers::own_router();
    let s = start(router.clone()).await;
    let client = client(DISPATCHER);
    let url = format!("{}/route/v1/driving/{A};{B}", s.base);
    let (_, before) = get(&url).await;
    let before = before["routes"][0]["duration"].as_f64().unwrap();
    // Close a polygon across the middle of the trip.
    let poly = json!({"type": "Polygon", "coordinates": [[[8.683, 49.400], [8.690, 49.400], [8.690, 49.412], [8.683, 49.412], [8.683, 49.400]]]});
    let r = client
        .post(format!("{}/api/closures", s.base))
        .json(&json!({"polygon": poly, "until": "2099-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert!(created["arcs"].as_u64().unwrap() > 0);
    let (_, after) = get(&url).await;
    let after = after["routes"][0]["duration"].as_f64().unwrap();
    assert!(after > before, "{after} vs {before}");
    let (_, list) = get(&format!("{}/api/closures", s.base)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["active"], true);
    let r = client
        .delete(format!("{}/api/closures/{id}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, again) = get(&url).await;
    assert_eq!(again["routes"][0]["duration"].as_f64().unwrap(), before);
    let r = client
        .delete(format!("{}/api/closures/{id}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Bad input.
    for (body, status) in [
        (json!({"way_ids": []}), 422),
        (json!({"way_ids": [1], "factor": -2}), 422),
        (json!({"way_ids": [1], "factor": 0.5}), 422),
        (json!({"way_ids": [1], "from": "yesterday"}), 422),
        (
            json!({"point": {"lat": 49.41, "lon": 8.69}, "radius_m": 5001}),
            422,
        ),
        (
            json!({"polygon": {"type": "Point", "coordinates": [8.6, 49.4]}}),
            422,
        ),
        (json!({"nothing": true}), 422),
    ] {
        let r = client
            .post(format!("{}/api/closures", s.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].is_string(), "{v}");
    }
    let r = client
        .post(format!("{}/api/closures", s.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// `--max-table-size N` (here 2): at most N² = 4 cells.
#[tokio::test]
async fn the_table_limit_is_a_setting() {
    let s = crate::helpers::start_with(
        shared_router("heidelberg"),
        crate::helpers::TestDb::sqlite(),
        |c| c.osrm.max_table_size = 2,
    )
    .await;
    let (status, v) = get(&format!(
        "{}/table/v1/driving/{A};{B};{A};{B}?destinations=0",
        s.base
    ))
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (200, Some("Ok")),
        "4 × 1: {v}"
    );
    let (status, v) = get(&format!("{}/table/v1/driving/{A};{B};{A}", s.base)).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("TooBig")),
        "3 × 3: {v}"
    );
}
