//! The dispatch rules for the everyday exceptions, end to end over real HTTP and websockets
//! on both stores: a breakdown hands the call to another crew, an emergency diverts a crew
//! from a less urgent call, re-triage and corrections, cancelling with a reason, crews
//! changed and removed, and the audit trail of who did what; a restart rebuilds exactly the
//! same state from the log.

use std::sync::Arc;

use futures_util::SinkExt;
use router::Router;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    client, get, next_json, post, shared_router, start_on, ws, TestDb, TestServer, Ws, CREW_A1,
    DESK3, DISPATCHER,
};

/// PATCHes JSON; the status and the JSON answer.
async fn patch(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = c.patch(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn add_crew(c: &reqwest::Client, base: &str, id: &str, at: (f64, f64)) {
    let (status, v) = post(
        c,
        format!("{base}/api/crews"),
        json!({"id": id, "lat": at.0, "lon": at.1}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
}

async fn set_status(c: &reqwest::Client, base: &str, crew: &str, status: &str) -> Value {
    let (code, v) = post(
        c,
        format!("{base}/api/crews/{crew}/status"),
        json!({ "status": status }),
    )
    .await;
    assert_eq!(code, 200, "{crew} {status}: {v}");
    v
}

/// Console entries until one of `kind` for which `pick` holds.
async fn until_entry(console: &mut Ws, kind: &str, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let e = next_json(console).await;
        if e["type"] == kind && pick(&e) {
            return e;
        }
    }
}

/// Road ETA (ms) between two points on the router.
fn eta(r: &Router, from: (f64, f64), to: (f64, f64)) -> u32 {
    let (a, b) = (r.snap(from.0, from.1).unwrap(), r.snap(to.0, to.1).unwrap());
    r.eta(&a, &b).unwrap()
}

/// The state rebuilt from the store's log, as the API shows calls and crews, equals what
/// the running service shows.
pub(crate) async fn a_restart_rebuilds_the_same_state(s: &TestServer, router: Arc<Router>) {
    let c = client(DISPATCHER);
    let store = dispatch::store::Store::open(&s.db().url()).await.unwrap();
    let core = dispatch::journal::restore(&store, router, Default::default(), 0, false)
        .await
        .unwrap()
        .core;
    let mut live_calls = get(&c, format!("{}/api/calls", s.base)).await;
    for v in live_calls.as_array_mut().unwrap() {
        let m = v.as_object_mut().unwrap();
        for derived in ["crew_id", "eta_s", "late_at"] {
            m.remove(derived);
        }
    }
    let restored_calls = serde_json::to_value(core.calls().collect::<Vec<_>>()).unwrap();
    assert_eq!(restored_calls, live_calls);
    let live_crews = get(&c, format!("{}/api/crews", s.base)).await;
    let restored_crews = serde_json::to_value(core.crews().collect::<Vec<_>>()).unwrap();
    assert_eq!(restored_crews, live_crews);
    // The entity snapshots written with each change say the same.
    let snapshot = |kind: &'static str| {
        let store = &store;
        async move {
            Value::Array(
                store
                    .entities(kind)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
            )
        }
    };
    assert_eq!(snapshot("crew").await, live_crews);
    let mut calls = snapshot("call").await;
    calls
        .as_array_mut()
        .unwrap()
        .sort_by_key(|c| c["id"].as_u64());
    assert_eq!(calls, live_calls);
    store.close().await;
}

/// A breakdown on scene, re-triage and a corrected address, a cancellation with its reason,
/// crews changed and removed; then the audit trail names who did each.
async fn breakdown_edits_cancellation_crews_and_the_audit_trail(db: TestDb) {
    let router = shared_router("heidelberg");
    let s = start_on(router.clone(), db).await;
    let (base, c, desk3) = (s.base.clone(), client(DISPATCHER), client(DESK3));
    let mut console = ws(&base, &format!("/ws/console?token={DISPATCHER}")).await;
    let scene = (49.405, 8.685);
    let (near, far) = ((49.4034, 8.6765), (49.41, 8.65));
    assert!(eta(&router, near, scene) < eta(&router, far, scene));
    add_crew(&c, &base, "A1", near).await;
    add_crew(&c, &base, "B2", far).await;

    // desk-3 takes the call; A1, the nearer, goes; then breaks down on scene.
    let (code, call) = post(
        &desk3,
        format!("{base}/api/calls"),
        json!({"lat": scene.0, "lon": scene.1, "priority": "emergency", "complaint": "fall"}),
    )
    .await;
    assert_eq!(code, 201, "{call}");
    assert_eq!(call["crew_id"], "A1");
    let id = call["id"].as_u64().unwrap();
    set_status(&c, &base, "A1", "en_route").await;
    set_status(&c, &base, "A1", "on_scene").await;
    set_status(&c, &base, "A1", "out_of_service").await;
    let back = until_entry(&mut console, "call_handed_back", |_| true).await;
    assert_eq!(back["reason"], "breakdown");
    assert_eq!(back["call_id"], id);
    assert_eq!(back["actor"]["role"], "system");
    let v = get(&c, format!("{base}/api/calls/{id}")).await;
    assert_eq!(v["status"], "assigned", "{v}");
    let crews: Vec<&str> = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["crew_id"].as_str().unwrap())
        .collect();
    assert_eq!(crews, ["B2"]);
    assert!(v["times"]["on_scene"].is_i64(), "the timeline is kept: {v}");

    // Re-triage and a corrected address: recorded; bad edits refused.
    let (code, v) = patch(
        &desk3,
        format!("{base}/api/calls/{id}"),
        json!({"address": "Hauptstraße 1", "notes": "second caller: conscious"}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["address"], "Hauptstraße 1");
    assert_eq!(v["notes"], "second caller: conscious");
    for (bad, status, field) in [
        (json!({"lat": 49.4}), 422, "lon"),
        (json!({"needs": []}), 422, "needs"),
        (json!({"needs": ["general", "pilot"]}), 422, "needs[1]"),
        (json!({}), 422, "body"),
        (json!({"colour": "red"}), 422, "colour"),
        (json!({"priority": "whenever"}), 422, "priority"),
        (json!({"lat": 10.0, "lon": 10.0}), 422, ""),
    ] {
        let (code, v) = patch(&c, format!("{base}/api/calls/{id}"), bad.clone()).await;
        assert_eq!(code, status, "{bad}: {v}");
        if !field.is_empty() {
            assert_eq!(v["field"], field, "{bad}: {v}");
        }
    }
    let (code, _) = patch(&c, format!("{base}/api/calls/999"), json!({"notes": "x"})).await;
    assert_eq!(code, 404);

    // A second call waits (no crew free), is re-triaged, then cancelled with a reason.
    let (_, second) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.40, "lon": 8.70, "priority": "non_urgent"}),
    )
    .await;
    let second = second["id"].as_u64().unwrap();
    let (code, v) = patch(
        &c,
        format!("{base}/api/calls/{second}"),
        json!({"priority": "urgent", "needs": ["general", "resuscitation"]}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["priority"], "urgent");
    assert_eq!(v["status"], "queued");
    let (code, v) = post(
        &desk3,
        format!("{base}/api/calls/{second}/cancel"),
        json!({"reason": "caller called back: not needed"}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "cancelled");

    // Crews: a crew on a call is not removed; one out of service is; a call sign is set.
    let r = c
        .delete(format!("{base}/api/crews/B2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("on call"), "{v}");
    let r = c
        .delete(format!("{base}/api/crews/A1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = c
        .delete(format!("{base}/api/crews/A1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let (code, v) = patch(
        &c,
        format!("{base}/api/crews/B2"),
        json!({"call_sign": "Neckar 2/83-1", "station": null}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["call_sign"], "Neckar 2/83-1");
    let (code, _) = patch(
        &c,
        format!("{base}/api/crews/B2"),
        json!({"crew_type": "paediatric"}),
    )
    .await;
    assert_eq!(code, 409, "B2 serves a general need");
    let crews = get(&c, format!("{base}/api/crews")).await;
    assert_eq!(crews.as_array().unwrap().len(), 1);

    // The audit trail: who did each change.
    let log = get(&c, format!("{base}/api/audit")).await;
    let entries = log.as_array().unwrap();
    let who = |kind: &str, pick: &dyn Fn(&Value) -> bool| -> (String, String) {
        let e = entries
            .iter()
            .find(|e| e["type"] == kind && pick(e))
            .unwrap_or_else(|| panic!("no {kind} in the audit trail"));
        (
            e["actor"]["name"].as_str().unwrap().to_string(),
            e["actor"]["role"].as_str().unwrap().to_string(),
        )
    };
    let any = |_: &Value| true;
    let desk = ("desk-3".to_string(), "dispatcher".to_string());
    let dispatcher = ("dispatcher".to_string(), "dispatcher".to_string());
    let system = ("system".to_string(), "system".to_string());
    assert_eq!(who("call_created", &|e| e["call_id"] == id), desk);
    assert_eq!(who("call_assigned", &|e| e["call_id"] == id), system);
    assert_eq!(
        who("crew_status", &|e| e["event"]["to"] == "out_of_service"),
        dispatcher
    );
    assert_eq!(who("call_handed_back", &any), system);
    assert_eq!(who("call_edited", &|e| e["call_id"] == id), desk);
    assert_eq!(who("call_cancelled", &any), desk);
    assert_eq!(who("crew_removed", &any), dispatcher);
    assert_eq!(who("crew_updated", &any), dispatcher);
    let cancelled = entries
        .iter()
        .find(|e| e["type"] == "call_cancelled")
        .unwrap();
    assert_eq!(
        cancelled["event"]["reason"],
        "caller called back: not needed"
    );
    assert!(entries
        .windows(2)
        .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()));
    // Paged, and as CSV.
    let page = get(&c, format!("{base}/api/audit?since=2&limit=3")).await;
    let seqs: Vec<i64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
    let r = c
        .get(format!("{base}/api/audit"))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rows.headers().unwrap(),
        vec!["seq", "time", "actor", "role", "type", "call_id", "crew_id", "event"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), entries.len());
    assert!(rows
        .iter()
        .any(|r| &r[2] == "desk-3" && &r[4] == "call_created" && r[5] == id.to_string()));
    // Only staff, and bad paging is refused.
    let r = client(CREW_A1)
        .get(format!("{base}/api/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    for (bad, field) in [
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("since=-1", "since"),
        ("since=x", "since"),
        ("since=18446744073709551615", "since"),
    ] {
        let r = c
            .get(format!("{base}/api/audit?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{bad}");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], field, "{bad}");
    }
    let r = c
        .get(format!("{base}/api/audit?since=9223372036854775807"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));

    a_restart_rebuilds_the_same_state(&s, router).await;
}

/// A new emergency takes a crew on its way to a non-urgent call when that crew arrives at
/// least 180 s sooner than the best free crew: both tablets and the consoles are told.
async fn an_emergency_diverts_a_crew_from_a_less_urgent_call(db: TestDb) {
    let router = shared_router("heidelberg");
    let s = start_on(router.clone(), db).await;
    let (base, c) = (s.base.clone(), client(DISPATCHER));
    let emergency = (49.405, 8.685);
    let (near, far, elsewhere) = ((49.4060, 8.6860), (49.41, 8.65), (49.4106, 8.6946));
    let gain = i64::from(eta(&router, far, emergency)) - i64::from(eta(&router, near, emergency));
    assert!(
        gain >= 180_000,
        "the layout must give A1 a 3-minute lead: {gain} ms"
    );
    add_crew(&c, &base, "A1", near).await;
    let mut tablet = ws(&base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    let mut console = ws(&base, &format!("/ws/console?token={DISPATCHER}")).await;
    let (_, low) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": elsewhere.0, "lon": elsewhere.1, "priority": "non_urgent"}),
    )
    .await;
    assert_eq!(low["crew_id"], "A1");
    let low = low["id"].as_u64().unwrap();
    tablet
        .send(Message::Text(
            json!({"type": "status", "status": "en_route"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    until_entry(&mut console, "crew_status", |e| e["to"] == "en_route").await;
    add_crew(&c, &base, "F2", far).await;

    let (code, v) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": emergency.0, "lon": emergency.1, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_u64().unwrap();
    assert_eq!(v["crew_id"], "A1", "{v}");
    let decision = &v["decisions"][0];
    assert_eq!(decision["reason"]["kind"], "diverted");
    assert_eq!(decision["reason"]["from_call"], low);
    assert_eq!(decision["reason"]["gain_ms"].as_i64(), Some(gain));
    assert_eq!(decision["candidates"][0]["crew_id"], "F2");
    assert_eq!(decision["divertible"][0]["crew_id"], "A1");
    // A1's tablet: taken off the first call, then sent to the emergency.
    let released = loop {
        let m = next_json(&mut tablet).await;
        if m["type"] == "crew_released" {
            break m;
        }
    };
    assert_eq!(released["call_id"], low);
    let assignment = loop {
        let m = next_json(&mut tablet).await;
        if m["type"] == "assignment" && m["call"]["id"] == id {
            break m;
        }
    };
    assert!(assignment["route"]["eta_s"].as_f64().unwrap() > 0.0);
    // The console: the hand-back, and the non-urgent call goes to F2.
    let back = until_entry(&mut console, "call_handed_back", |_| true).await;
    assert_eq!(
        (back["call_id"].as_u64(), back["reason"].as_str()),
        (Some(low), Some("diverted"))
    );
    let again = until_entry(&mut console, "call_assigned", |e| {
        e["decision"]["call_id"] == low
    })
    .await;
    assert_eq!(again["decision"]["crew_id"], "F2");
    a_restart_rebuilds_the_same_state(&s, router).await;
}

crate::on_both_stores!(
    breakdown_edits_cancellation_crews_and_the_audit_trail,
    an_emergency_diverts_a_crew_from_a_less_urgent_call,
);
