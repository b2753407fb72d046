//! A change is all or nothing: a failure injected in the middle of a change (a panic after
//! the core applied it in memory, or the store failing after it wrote the change's events)
//! leaves memory and database exactly as they were, on both backends; the client gets 500 or
//! 503 and the service keeps serving.

use serde_json::{json, Value};

use crate::helpers::{client, get, own_router, post, start_on, TestDb, TestServer, DISPATCHER};
use crate::rules::a_restart_rebuilds_the_same_state;

/// Everything a client or the database can tell about the state: calls, crews and closures
/// as the API shows them, the whole log, and the entity snapshots in the store.
async fn everything(s: &TestServer) -> Value {
    let c = client(DISPATCHER);
    let store = dispatch::store::Store::open(&s.db().url()).await.unwrap();
    let mut entities = json!({});
    for kind in ["call", "crew", "handover"] {
        entities[kind] = json!(store.entities(kind).await.unwrap());
    }
    let log = store.events_since(0, i64::MAX).await.unwrap();
    store.close().await;
    json!({
        "calls": get(&c, format!("{}/api/calls", s.base)).await,
        "crews": get(&c, format!("{}/api/crews", s.base)).await,
        "closures": get(&c, format!("{}/api/closures", s.base)).await,
        "log": log.iter().map(|e| json!([e.seq, e.event])).collect::<Vec<_>>(),
        "entities": entities,
    })
}

/// A request that changes something, by method, path and body.
struct Change {
    method: reqwest::Method,
    path: &'static str,
    body: Option<Value>,
}

fn change(method: reqwest::Method, path: &'static str, body: Option<Value>) -> Change {
    Change { method, path, body }
}

async fn send(s: &TestServer, ch: &Change) -> (u16, Value) {
    let c = client(DISPATCHER);
    let mut r = c.request(ch.method.clone(), format!("{}{}", s.base, ch.path));
    if let Some(b) = &ch.body {
        r = r.json(b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn a_failed_change_leaves_no_trace(db: TestDb) {
    let router = own_router();
    let s = start_on(router.clone(), db).await;
    let c = client(DISPATCHER);
    for (id, lat, lon) in [("A1", 49.4093, 8.6937), ("A2", 49.4180, 8.6750)] {
        let (code, v) = post(
            &c,
            format!("{}/api/crews", s.base),
            json!({"id": id, "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let (code, v) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.4122, "lon": 8.7100, "priority": "urgent"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let (code, closure) = post(
        &c,
        format!("{}/api/closures", s.base),
        json!({"point": {"lat": 49.4100, "lon": 8.6900}, "radius_m": 50}),
    )
    .await;
    assert_eq!(code, 201, "{closure}");
    let closure_path: &'static str =
        Box::leak(format!("/api/closures/{}", closure["id"]).into_boxed_str());

    let changes = [
        change(
            reqwest::Method::POST,
            "/api/calls",
            Some(json!({"lat": 49.4000, "lon": 8.6800, "priority": "emergency"})),
        ),
        change(
            reqwest::Method::PATCH,
            "/api/calls/1",
            Some(json!({"priority": "emergency", "lat": 49.4050, "lon": 8.6850})),
        ),
        change(
            reqwest::Method::POST,
            "/api/crews/A1/status",
            Some(json!({"status": "out_of_service"})),
        ),
        change(
            reqwest::Method::POST,
            "/api/closures",
            Some(json!({"point": {"lat": 49.4093, "lon": 8.6937}, "radius_m": 300})),
        ),
        change(reqwest::Method::DELETE, closure_path, None),
        change(
            reqwest::Method::POST,
            "/api/calls/1/cancel",
            Some(json!({"reason": "duplicate"})),
        ),
    ];
    for (failure, expected) in [("panic", 500), ("store", 503)] {
        for ch in &changes {
            let before = everything(&s).await;
            match failure {
                "panic" => s.state.panic_next_change(),
                _ => s.state.0.store.fail_next_commit(),
            }
            let (code, v) = send(&s, ch).await;
            assert_eq!(
                code, expected,
                "{failure} in {} {}: {v}",
                ch.method, ch.path
            );
            assert!(v["message"].is_string(), "{v}");
            assert_eq!(
                everything(&s).await,
                before,
                "{failure} in {} {} left a trace",
                ch.method,
                ch.path
            );
        }
    }
    // The service goes on: the same changes now go through, with the ids they would have
    // had (nothing was used up by the failed tries).
    let (code, v) = send(&s, &changes[0]).await;
    assert_eq!((code, v["id"].as_u64()), (201, Some(2)), "{v}");
    let (code, v) = send(&s, &changes[3]).await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(
        v["id"].as_u64(),
        closure["id"].as_u64().map(|i| i + 1),
        "{v}"
    );
    // A restart replays the log into a fresh router: its closure ids must come back the
    // same, which they would not had a failed closure used one up.
    let fresh = own_router();
    let store = dispatch::store::Store::open(&s.db().url()).await.unwrap();
    let restored =
        dispatch::journal::restore(&store, fresh.clone(), Default::default(), 0, true).await;
    assert!(restored.is_ok(), "{:?}", restored.err());
    assert_eq!(
        fresh.closures().iter().map(|c| c.id).collect::<Vec<_>>(),
        router.closures().iter().map(|c| c.id).collect::<Vec<_>>()
    );
    store.close().await;
    a_restart_rebuilds_the_same_state(&s, router).await;
}

crate::on_both_stores!(a_failed_change_leaves_no_trace);
