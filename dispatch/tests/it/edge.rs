//! Bad input at the edge: each is answered 400, 413, 422 or 429 with JSON naming the field,
//! changes nothing, and costs the service nothing (no rebuild, no stall); websockets have a
//! message size and rate limit.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    client, get, next_json, post, shared_router, start, ws, TestServer, CREW_A1, DISPATCHER,
};

async fn server_with_a_crew() -> TestServer {
    let s = start(shared_router("heidelberg")).await;
    let (code, v) = post(
        &client(DISPATCHER),
        format!("{}/api/crews", s.base),
        json!({"id": "A1", "lat": 49.4093, "lon": 8.6937}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    s
}

/// Sends raw bytes as a POST with the given content type.
async fn post_raw(s: &TestServer, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = client(DISPATCHER)
        .post(format!("{}{path}", s.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bodies_are_checked_into_domain_types_and_errors_name_the_field() {
    let s = server_with_a_crew().await;
    let call = |extra: Value| {
        let mut v = json!({"lat": 49.41, "lon": 8.69, "priority": "urgent"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("/api/calls", call(json!({"lat": 91.0})), 422, "lat"),
        ("/api/calls", call(json!({"lon": -180.5})), 422, "lon"),
        (
            "/api/calls",
            call(json!({"priority": "soon"})),
            422,
            "priority",
        ),
        (
            "/api/calls",
            call(json!({"needs": ["general", 7]})),
            422,
            "needs[1]",
        ),
        (
            "/api/calls",
            call(json!({"complaint": "x".repeat(2_001)})),
            422,
            "complaint",
        ),
        (
            "/api/calls",
            call(json!({"address": "ул. Гончарова\u{0}"})),
            422,
            "address",
        ),
        (
            "/api/calls",
            call(json!({"phone": 89161234567_u64})),
            422,
            "phone",
        ),
        (
            "/api/calls",
            call(json!({"surprise": true})),
            422,
            "surprise",
        ),
        (
            "/api/calls",
            br#"{"lat": 49.41, "lon": 8.69}"#.to_vec(),
            422,
            "priority",
        ),
        (
            "/api/calls",
            br#"{"lat": 49.41, "lon": "#.to_vec(),
            400,
            "body",
        ),
        (
            "/api/calls",
            br#"{"lat": 1e999, "lon": 8.69, "priority": "urgent"}"#.to_vec(),
            400,
            "body",
        ),
        ("/api/calls", b"[]".to_vec(), 422, "body"),
        (
            "/api/crews",
            br#"{"id": "<img src=x>", "lat": 49.41, "lon": 8.69}"#.to_vec(),
            422,
            "id",
        ),
        (
            "/api/crews",
            br#"{"id": "B2", "lat": 49.41, "lon": 8.69, "shift_end": -5}"#.to_vec(),
            422,
            "shift_end",
        ),
        (
            "/api/crews",
            br#"{"id": "B2", "lat": 49.41, "lon": 8.69, "station": "a\u0007"}"#.to_vec(),
            422,
            "station",
        ),
        (
            "/api/calls/1/cancel",
            br#"{"reason": 5}"#.to_vec(),
            422,
            "reason",
        ),
    ];
    for (path, body, status, field) in cases {
        let text = String::from_utf8_lossy(&body)
            .chars()
            .take(80)
            .collect::<String>();
        let (code, v) = post_raw(&s, path, "application/json", body).await;
        assert_eq!(code, status, "{path} {text}: {v}");
        assert_eq!(v["field"], field, "{path} {text}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    // The body must be JSON and say so, and be at most 256 KiB.
    let (code, v) = post_raw(&s, "/api/calls", "text/plain", call(json!({}))).await;
    assert_eq!(
        (code, v["field"].as_str()),
        (400, Some("Content-Type")),
        "{v}"
    );
    let big = call(json!({"notes": "x".repeat(300 * 1024)}));
    let (code, v) = post_raw(&s, "/api/calls", "application/json", big).await;
    assert_eq!((code, v["error"].as_str()), (413, Some("too_large")), "{v}");
    // A handover with a date that does not exist, and vitals out of range.
    let (code, v) = post(
        &client(DISPATCHER),
        format!("{}/api/calls", s.base),
        json!({"lat": 49.41, "lon": 8.69, "priority": "urgent"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_u64().unwrap();
    for (handover, field) in [
        (
            json!({"hospital": "X", "patient": {"birth_date": "1970-02-30"}}),
            "patient.birth_date",
        ),
        (
            json!({"hospital": "X", "vitals": {"heart_rate": 900}}),
            "vitals.heart_rate",
        ),
        (
            json!({"hospital": "X", "vitals": {"gcs": "fine"}}),
            "vitals.gcs",
        ),
        (json!({"hospital": ""}), "hospital"),
    ] {
        let (code, v) = post(
            &client(DISPATCHER),
            format!("{}/api/calls/{id}/handover", s.base),
            handover.clone(),
        )
        .await;
        assert_eq!(
            (code, v["field"].as_str()),
            (422, Some(field)),
            "{handover}: {v}"
        );
    }
    // Nothing but the one good call was created.
    let calls = get(&client(DISPATCHER), format!("{}/api/calls", s.base)).await;
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    let crews = get(&client(DISPATCHER), format!("{}/api/crews", s.base)).await;
    assert_eq!(crews.as_array().unwrap().len(), 1, "{crews}");
}

#[tokio::test]
async fn a_bad_idempotency_key_is_refused_and_costs_nothing() {
    let s = server_with_a_crew().await;
    let c = client(DISPATCHER);
    let body = json!({"lat": 49.41, "lon": 8.69, "priority": "urgent"});
    for key in ["", " ", "a b", "ключ", &"k".repeat(201)] {
        let r = c
            .post(format!("{}/api/calls", s.base))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{key:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["field"], "Idempotency-Key", "{v}");
    }
    // Many empty keys in a row: each answered at once, none a 503 (no rebuild from the store).
    for _ in 0..50 {
        let r = c
            .post(format!("{}/api/calls", s.base))
            .header("idempotency-key", "")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
    let calls = get(&c, format!("{}/api/calls", s.base)).await;
    assert_eq!(calls, json!([]));
    // A good key of 200 characters works, once.
    let key = "k".repeat(200);
    for _ in 0..2 {
        let r = c
            .post(format!("{}/api/calls", s.base))
            .header("idempotency-key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let calls = get(&c, format!("{}/api/calls", s.base)).await;
    assert_eq!(calls.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn query_parameters_and_path_ids_are_checked() {
    let s = server_with_a_crew().await;
    let c = client(DISPATCHER);
    for (path, status, field) in [
        ("/api/calls?status=lost", 400, Some("status")),
        ("/api/audit?since=18446744073709551615", 400, Some("since")),
        (
            "/api/crews/A1/hospital?capability=magic",
            400,
            Some("capability"),
        ),
        ("/api/calls/18446744073709551615", 404, None),
        ("/api/calls/-1", 404, None),
        ("/api/crews/%3Cimg%3E", 404, None),
    ] {
        let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        let code = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(code, status, "{path}: {v}");
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{path}: {v}");
        }
    }
    // A console asking for a position past the end of any log is refused before the upgrade.
    let url = format!(
        "{}/ws/console?token={DISPATCHER}&since=18446744073709551615",
        s.base.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 400)
        }
        other => panic!("expected 400, got {:?}", other.map(|(_, r)| r.status())),
    }
}

/// The close frame a websocket gets (code and reason), within 10 s.
async fn closed_with(socket: &mut crate::helpers::Ws) -> (u16, String) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("closed within 10 s");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.to_string())
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn websockets_limit_message_size_and_rate() {
    let s = server_with_a_crew().await;
    // A message of 64 KiB + 1 closes the tablet with 1009.
    let mut tablet = ws(&s.base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    let huge = format!(
        "{{\"type\":\"position\",\"lat\":49.41,\"lon\":8.69,\"x\":\"{}\"}}",
        "x".repeat(64 * 1024)
    );
    tablet.send(Message::Text(huge.into())).await.unwrap();
    let (code, _) = closed_with(&mut tablet).await;
    assert_eq!(code, 1009);
    // A bad message gets an error naming the field, and the socket stays open.
    let mut tablet = ws(&s.base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    tablet
        .send(Message::Text(
            r#"{"type":"position","lat":95,"lon":8.69}"#.into(),
        ))
        .await
        .unwrap();
    let e = next_json(&mut tablet).await;
    assert_eq!(
        (e["type"].as_str(), e["field"].as_str()),
        (Some("error"), Some("lat")),
        "{e}"
    );
    // A flood: far more than the burst at once closes it with 1008 and a reason.
    for _ in 0..200 {
        if tablet
            .send(Message::Text(
                r#"{"type":"position","lat":49.41,"lon":8.69}"#.into(),
            ))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, reason) = closed_with(&mut tablet).await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("too many messages"), "{reason}");
    // The service is fine, and the crew's last accepted position is where the flood put it.
    let crew = get(&client(DISPATCHER), format!("{}/api/crews/A1", s.base)).await;
    assert!(
        (crew["position"]["lat"].as_f64().unwrap() - 49.41).abs() < 1e-6,
        "{crew}"
    );
}
