//! The dispatch API over real HTTP and websockets: calls go to the truly fastest crew,
//! queue and release, tablets get their route, consoles resume with no gap, roles and bad
//! input are refused cleanly.

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    client, crew_steps, get, next_json, post, shared_router, start_on, validate_fhir, ws, TestDb,
    CREW_A1, DISPATCHER,
};

/// Heidelberg spots: (lat, lon).
const SPOTS: [(f64, f64); 5] = [
    (49.4106, 8.6946),
    (49.4034, 8.6765),
    (49.40, 8.70),
    (49.41, 8.65),
    (49.395, 8.68),
];

async fn add_crews(c: &reqwest::Client, base: &str, n: usize) {
    for (i, (lat, lon)) in SPOTS.iter().take(n).enumerate() {
        let (status, v) = post(
            c,
            format!("{base}/api/crews"),
            json!({"id": format!("A{}", i + 1), "lat": lat, "lon": lon, "station": "S1"}),
        )
        .await;
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["status"], "available");
    }
}

async fn a_call_goes_to_the_crew_with_the_smallest_road_eta(db: TestDb) {
    let router = shared_router("heidelberg");
    let s = start_on(router.clone(), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 5).await;
    let (lat, lon) = (49.405, 8.685);
    let (status, v) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": lat, "lon": lon, "priority": "emergency", "complaint": "chest pain"}),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["status"], "assigned");
    // The truly fastest crew, checked against the router.
    let call = router.snap(lat, lon).unwrap();
    let best = SPOTS
        .iter()
        .enumerate()
        .map(|(i, &(la, lo))| {
            (
                router.eta(&router.snap(la, lo).unwrap(), &call).unwrap(),
                format!("A{}", i + 1),
            )
        })
        .min()
        .unwrap();
    assert_eq!(v["crew_id"], best.1.as_str());
    assert!((v["eta_s"].as_f64().unwrap() - f64::from(best.0) / 1000.0).abs() < 0.001);
    let decision = &v["decisions"][0];
    assert_eq!(
        decision["candidates"].as_array().unwrap().len(),
        5,
        "the five best are recorded: {decision}"
    );
    let id = v["id"].as_u64().unwrap();
    let (status, got) = {
        let r = c
            .get(format!("{}/api/calls/{id}", s.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(got["crew_id"], best.1.as_str());
    let r = c
        .get(format!("{}/api/calls?status=assigned", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        1
    );
    let r = c
        .get(format!("{}/api/calls?status=queued", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        0
    );
}

async fn a_second_call_queues_and_goes_to_the_crew_when_it_is_free_and_the_tablet_gets_both_routes(
    db: TestDb,
) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 1).await;
    let mut tablet = ws(&s.base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    let (_, first) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(first["status"], "assigned");
    // (Urgent: an emergency would divert the crew from a less urgent call.)
    let (_, second) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.40, "lon": 8.70, "priority": "urgent"}),
    )
    .await;
    assert_eq!(second["status"], "queued");
    assert!(second["crew_id"].is_null());
    // The tablet receives the assignment with its route.
    let msg = loop {
        let m = next_json(&mut tablet).await;
        if m["type"] == "assignment" {
            break m;
        }
    };
    assert_eq!(msg["call"]["id"], first["id"]);
    assert!(msg["route"]["eta_s"].as_f64().unwrap() > 0.0);
    assert!(
        msg["route"]["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    // The crew drives its statuses from the tablet; when free it takes the queued call.
    for status in ["en_route", "on_scene", "available"] {
        tablet
            .send(Message::Text(
                json!({"type": "status", "status": status})
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
    }
    let msg = loop {
        let m = next_json(&mut tablet).await;
        assert_ne!(m["type"], "error", "{m}");
        if m["type"] == "assignment" {
            break m;
        }
    };
    assert_eq!(msg["call"]["id"], second["id"]);
    let r = c
        .get(format!("{}/api/calls/{}", s.base, first["id"]))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "completed");
    assert!(
        v["times"]["on_scene"].is_i64() && v["times"]["crew_available"].is_i64(),
        "{v}"
    );
    // An illegal step from the tablet is answered with an error, nothing changes.
    tablet
        .send(Message::Text(
            json!({"type": "status", "status": "at_hospital"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    // Events of the second assignment may come first; the error follows.
    let mut got_error = false;
    for _ in 0..20 {
        let m = next_json(&mut tablet).await;
        if m["type"] == "error" {
            assert_eq!(m["error"], "conflict", "{m}");
            got_error = true;
            break;
        }
    }
    assert!(got_error);
}

async fn a_console_that_reconnects_with_since_gets_every_missed_event_in_order(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    let mut console = ws(&s.base, &format!("/ws/console?token={DISPATCHER}")).await;
    add_crews(&c, &s.base, 2).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let e = next_json(&mut console).await;
        seen.push(e["seq"].as_u64().unwrap());
        assert_eq!(e["type"], "crew_added");
    }
    drop(console);
    // Missed while away.
    post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    c.put(format!("{}/api/crews/A2/position", s.base))
        .json(&json!({"lat": 49.401, "lon": 8.69}))
        .send()
        .await
        .unwrap();
    let last = *seen.last().unwrap();
    let mut console = ws(
        &s.base,
        &format!("/ws/console?token={DISPATCHER}&since={last}"),
    )
    .await;
    // Then live ones.
    post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.40, "lon": 8.70, "priority": "urgent"}),
    )
    .await;
    let mut types = Vec::new();
    let mut expect = last + 1;
    loop {
        let e = next_json(&mut console).await;
        assert_eq!(e["seq"].as_u64().unwrap(), expect, "no gap, no repeat: {e}");
        expect += 1;
        types.push(e["type"].as_str().unwrap().to_string());
        if types.iter().filter(|t| *t == "call_created").count() == 2
            && e["type"] != "call_created"
            && types.len() > 4
        {
            break;
        }
        if types.len() > 30 {
            break;
        }
    }
    assert!(types.contains(&"call_assigned".to_string()), "{types:?}");
    assert!(types.contains(&"crew_moved".to_string()), "{types:?}");
    assert_eq!(
        types.iter().filter(|t| *t == "call_created").count(),
        2,
        "{types:?}"
    );
}

async fn roles_are_enforced(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 2).await;
    let crew = client(CREW_A1);
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .get(format!("{}/api/calls", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "unauthorized");
    let r = client("wrong-token")
        .get(format!("{}/api/crews", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (status, _) = post(
        &crew,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "urgent"}),
    )
    .await;
    assert_eq!(status, 403, "a crew does not create calls");
    let r = crew
        .put(format!("{}/api/crews/A2/position", s.base))
        .json(&json!({"lat": 49.4, "lon": 8.69}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "a crew moves only itself");
    let r = crew
        .put(format!("{}/api/crews/A1/position", s.base))
        .json(&json!({"lat": 49.4, "lon": 8.69}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = crew
        .get(format!("{}/api/crews", s.base))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "a crew sees only itself");
    let url = format!(
        "{}/ws/crews/A2?token={CREW_A1}",
        s.base.replace("http://", "ws://")
    );
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "not another crew's tablet"
    );
    let url = format!(
        "{}/ws/console?token={CREW_A1}",
        s.base.replace("http://", "ws://")
    );
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "no console for crews"
    );
}

async fn bad_input_is_refused_with_the_right_status_and_changes_nothing(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 1).await;
    let cases = [
        (
            "/api/crews",
            json!({"id": "A1", "lat": 49.41, "lon": 8.69}),
            409,
            "conflict",
        ),
        (
            "/api/crews",
            json!({"id": "B1", "lat": 95.0, "lon": 8.69}),
            422,
            "invalid",
        ),
        (
            "/api/crews",
            json!({"id": "B1", "lat": 49.41}),
            422,
            "invalid",
        ),
        (
            "/api/calls",
            json!({"lat": 48.85, "lon": 2.35, "priority": "emergency"}),
            422,
            "off_map",
        ),
        (
            "/api/calls",
            json!({"lat": 49.41, "lon": 8.69, "priority": "whenever"}),
            422,
            "invalid",
        ),
        (
            "/api/crews/ZZ/status",
            json!({"status": "en_route"}),
            404,
            "not_found",
        ),
        (
            "/api/crews/A1/status",
            json!({"status": "at_hospital"}),
            409,
            "conflict",
        ),
        (
            "/api/calls/999/cancel",
            json!({"reason": "duplicate"}),
            404,
            "not_found",
        ),
        ("/api/calls/1/cancel", json!({}), 422, "invalid"),
        (
            "/api/calls/1/cancel",
            json!({"reason": "  "}),
            422,
            "invalid",
        ),
        (
            "/api/calls/999/assign",
            json!({"crew_id": "A1"}),
            404,
            "not_found",
        ),
    ];
    for (path, body, status, code) in cases {
        let (got, v) = post(&c, format!("{}{path}", s.base), body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {v}");
        assert_eq!(v["error"], code, "{path}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = c
        .post(format!("{}/api/calls", s.base))
        .header("content-type", "application/json")
        .body("{\"lat\": 49.4,")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c.get(format!("{}/api/calls", s.base)).send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    let r = c
        .get(format!("{}/api/crews/A1", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "available");
}

async fn a_retried_call_with_the_same_idempotency_key_is_created_once(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 2).await;
    let body = json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"});
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = c
            .post(format!("{}/api/calls", s.base))
            .header("Idempotency-Key", "call-2026-11-25-0001")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let r = c.get(format!("{}/api/calls", s.base)).send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        1
    );
    // Override and cancel.
    let id = ids[0].as_u64().unwrap();
    let (status, v) = post(
        &c,
        format!("{}/api/calls/{id}/assign", s.base),
        json!({"crew_id": "A2"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["crew_id"] == "A2"),
        "{v}"
    );
    let (status, v) = post(
        &c,
        format!("{}/api/calls/{id}/cancel", s.base),
        json!({"reason": "caller called back"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "cancelled");
}

async fn the_crew_records_the_handover_and_the_record_exports_as_fhir(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 1).await;
    let (_, call) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency", "complaint": "chest pain"}),
    )
    .await;
    let id = call["id"].as_u64().unwrap();
    let crew = client(CREW_A1);
    crew_steps(
        &crew,
        &s.base,
        "A1",
        &["en_route", "on_scene", "transporting", "at_hospital"],
    )
    .await;
    let handover = json!({
        "patient": {"name": "Иван Петрович Сидоров", "birth_date": "1956-03-02", "sex": "male"},
        "hospital": "Universitätsklinikum Heidelberg",
        "vitals": {"heart_rate": 96, "systolic_bp": 150, "diastolic_bp": 90, "spo2": 93, "respiratory_rate": 20, "temperature_c": 36.9, "gcs": 15},
        "diagnosis_icd10": "I21.9",
        "notes": "STEMI, aspirin given"
    });
    let (code, v) = post(
        &crew,
        format!("{}/api/calls/{id}/handover", s.base),
        handover.clone(),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    // Medical data only to dispatchers and admins.
    let r = crew
        .get(format!("{}/api/calls/{id}/handover/fhir", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = c
        .get(format!("{}/api/calls/{id}/handover/fhir", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    let bundle: Value = r.json().await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let kinds: Vec<String> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "Observation").count(),
        6,
        "{kinds:?}"
    );
    validate_fhir(&bundle);
    let r = c
        .get(format!("{}/api/calls/{id}", s.base))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["times"]["handover"].is_i64(), "{v}");
    // A bad handover is refused and names the field; an unknown call is 404.
    let (code, v) = post(
        &crew,
        format!("{}/api/calls/{id}/handover", s.base),
        json!({"hospital": "X", "vitals": {"spo2": 140}}),
    )
    .await;
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["field"], "vitals.spo2", "{v}");
    let (code, _) = post(
        &c,
        format!("{}/api/calls/4242/handover", s.base),
        handover.clone(),
    )
    .await;
    assert_eq!(code, 404);

    // A correction is a second version; the first is kept, and the export takes the latest.
    let mut corrected = handover.clone();
    corrected["diagnosis_icd10"] = json!("I21.0");
    let (code, v) = post(
        &crew,
        format!("{}/api/calls/{id}/handover", s.base),
        corrected.clone(),
    )
    .await;
    assert_eq!((code, v["version"].as_u64()), (201, Some(2)), "{v}");
    assert_eq!(v["by"]["role"], "crew:A1", "{v}");
    let first = get(&c, format!("{}/api/calls/{id}/handover?version=1", s.base)).await;
    assert_eq!(first["handover"]["diagnosis_icd10"], "I21.9", "{first}");
    let latest = get(&c, format!("{}/api/calls/{id}/handover", s.base)).await;
    assert_eq!(latest["handover"]["diagnosis_icd10"], "I21.0", "{latest}");
    assert_eq!(latest["versions"].as_array().unwrap().len(), 2, "{latest}");
    let bundle = get(&c, format!("{}/api/calls/{id}/handover/fhir", s.base)).await;
    assert!(
        bundle.to_string().contains("I21.0"),
        "the export takes the latest version"
    );
    // Once the call is closed, the crew may no longer write it; a dispatcher may.
    let (code, v) = post(
        &crew,
        format!("{}/api/crews/A1/status", s.base),
        json!({"status": "available"}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let call = get(&c, format!("{}/api/calls/{id}", s.base)).await;
    assert_eq!(call["status"], "completed", "{call}");
    let (code, v) = post(
        &crew,
        format!("{}/api/calls/{id}/handover", s.base),
        handover.clone(),
    )
    .await;
    assert_eq!(code, 403, "{v}");
    let (code, v) = post(&c, format!("{}/api/calls/{id}/handover", s.base), handover).await;
    assert_eq!((code, v["version"].as_u64()), (201, Some(3)), "{v}");
    let r = c
        .get(format!("{}/api/calls/{id}/handover?version=4", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // The versions are in the store, each its own entity.
    let store = dispatch::store::Store::open(&s.db().url()).await.unwrap();
    let versions = store.entities("handover_version").await.unwrap();
    assert_eq!(versions.len(), 3, "{versions:?}");
    store.close().await;
}

/// A crew token sees its current call only: no caller's phone, no other crews' ETAs, no past
/// calls; its tablet gets decisions without their candidates.
async fn a_crew_sees_only_its_current_call(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let c = client(DISPATCHER);
    add_crews(&c, &s.base, 2).await;
    let mut tablet = ws(&s.base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    let crew = client(CREW_A1);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (code, call) = post(
            &c,
            format!("{}/api/calls", s.base),
            json!({"lat": SPOTS[0].0, "lon": SPOTS[0].1, "priority": "urgent", "phone": "+7 916 123-45-67"}),
        )
        .await;
        assert_eq!(code, 201, "{call}");
        ids.push(call["id"].as_u64().unwrap());
    }
    let staff_view = get(&c, format!("{}/api/calls/{}", s.base, ids[0])).await;
    assert_eq!(
        staff_view["crew_id"], "A1",
        "the first call goes to A1: {staff_view}"
    );
    assert!(staff_view["decisions"][0]["candidates"]
        .as_array()
        .is_some_and(|a| a.len() == 2));
    // The tablet's copy of the decision has no candidates.
    loop {
        let e = next_json(&mut tablet).await;
        if e["type"] == "call_assigned" {
            assert!(e["decision"].get("candidates").is_none(), "{e}");
            assert!(e["decision"].get("divertible").is_none(), "{e}");
            break;
        }
    }
    let list = get(&crew, format!("{}/api/calls", s.base)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let mine = &list[0];
    assert_eq!(mine["id"].as_u64(), Some(ids[0]));
    let text = mine.to_string();
    for hidden in ["phone", "123-45-67", "decisions", "candidates", "\"A2\""] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
    let one = get(&crew, format!("{}/api/calls/{}", s.base, ids[0])).await;
    assert_eq!(&one, mine);
    // The other crew's call is not A1's.
    let r = crew
        .get(format!("{}/api/calls/{}", s.base, ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Once A1 is done, its past call is no longer shown.
    crew_steps(&crew, &s.base, "A1", &["en_route", "on_scene", "available"]).await;
    let list = get(&crew, format!("{}/api/calls", s.base)).await;
    assert_eq!(list, json!([]));
    let r = crew
        .get(format!("{}/api/calls/{}", s.base, ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

crate::on_both_stores!(
    a_call_goes_to_the_crew_with_the_smallest_road_eta,
    a_second_call_queues_and_goes_to_the_crew_when_it_is_free_and_the_tablet_gets_both_routes,
    a_console_that_reconnects_with_since_gets_every_missed_event_in_order,
    roles_are_enforced,
    bad_input_is_refused_with_the_right_status_and_changes_nothing,
    a_retried_call_with_the_same_idempotency_key_is_created_once,
    the_crew_records_the_handover_and_the_record_exports_as_fhir,
    a_crew_sees_only_its_current_call,
);
