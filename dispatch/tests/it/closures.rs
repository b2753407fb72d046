//! Closures through the dispatch service: a closure across a crew's route sends the crew its
//! new route at once, consoles see it, and removing it brings the old route back.

use serde_json::{json, Value};

use crate::helpers::{
    client, get, next_json, own_router, post, start_on, ws, TestDb, CREW_A1, DISPATCHER,
};

/// Distance in metres between two `[lon, lat]` points (equirectangular; fine for metres).
fn metres(a: &Value, b: (f64, f64)) -> f64 {
    let (lon, lat) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
    let dy = (lat - b.1).to_radians() * 6_371_000.0;
    let dx = (lon - b.0).to_radians() * 6_371_000.0 * lat.to_radians().cos();
    (dx * dx + dy * dy).sqrt()
}

/// The next message of `types` on `socket`, skipping others.
async fn next_of(socket: &mut crate::helpers::Ws, types: &[&str]) -> Value {
    loop {
        let m = next_json(socket).await;
        if types.contains(&m["type"].as_str().unwrap_or_default()) {
            return m;
        }
    }
}

async fn a_closure_on_the_route_reroutes_the_crew_at_once(db: TestDb) {
    let s = start_on(own_router(), db).await;
    let c = client(DISPATCHER);
    let (code, v) = post(
        &c,
        format!("{}/api/crews", s.base),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let mut tablet = ws(&s.base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    let mut console = ws(&s.base, &format!("/ws/console?token={DISPATCHER}&since=1")).await;
    let (code, call) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.3935, "lon": 8.6725, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{call}");
    let first = next_of(&mut tablet, &["assignment"]).await;
    let line = first["route"]["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .clone();
    let eta0 = first["route"]["eta_s"].as_f64().unwrap();
    // Close the roads around the middle of the route.
    let mid = &line[line.len() / 2];
    let point = (mid[0].as_f64().unwrap(), mid[1].as_f64().unwrap());
    let (code, closure) = post(
        &c,
        format!("{}/api/closures", s.base),
        json!({"point": {"lat": point.1, "lon": point.0}, "radius_m": 40.0}),
    )
    .await;
    assert_eq!(code, 201, "{closure}");
    assert!(closure["arcs"].as_u64().unwrap() > 0, "{closure}");
    // The tablet gets its new route: slower, and away from the closed spot.
    let re = next_of(&mut tablet, &["reroute"]).await;
    assert_eq!(re["reason"], "closure");
    assert_eq!(re["call"]["id"], call["id"]);
    let eta1 = re["route"]["eta_s"].as_f64().unwrap();
    assert!(eta1 > eta0, "a detour is slower: {eta0} s then {eta1} s");
    let near = re["route"]["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| metres(p, point))
        .fold(f64::INFINITY, f64::min);
    assert!(
        near > 20.0,
        "the new route keeps off the closed spot ({near:.0} m)"
    );
    // The console sees the closure, then the re-route.
    let seen = next_of(&mut console, &["closure_added"]).await;
    assert_eq!(seen["closure"]["id"], closure["id"]);
    let seen = next_of(&mut console, &["reroute"]).await;
    assert_eq!(seen["crew_id"], "A1");
    // A crew may not change closures.
    let (code, _) = post(
        &client(CREW_A1),
        format!("{}/api/closures", s.base),
        json!({"way_ids": [1]}),
    )
    .await;
    assert_eq!(code, 403);
    // Reopened: the original route comes back.
    let r = c
        .delete(format!("{}/api/closures/{}", s.base, closure["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let back = next_of(&mut tablet, &["reroute"]).await;
    assert_eq!(back["route"]["eta_s"].as_f64().unwrap(), eta0);
    let seen = next_of(&mut console, &["closure_removed"]).await;
    assert_eq!(seen["id"], closure["id"]);
    // Bad requests change nothing.
    let (code, v) = post(
        &c,
        format!("{}/api/closures", s.base),
        json!({"way_ids": [1], "factor": -2}),
    )
    .await;
    assert_eq!(code, 422, "{v}");
    let (code, v) = post(&c, format!("{}/api/closures", s.base), json!({"colour": 1})).await;
    assert_eq!(code, 422, "{v}");
    let list = get(&c, format!("{}/api/closures", s.base)).await;
    assert_eq!(list, json!([]));
}

crate::on_both_stores!(a_closure_on_the_route_reroutes_the_crew_at_once);
