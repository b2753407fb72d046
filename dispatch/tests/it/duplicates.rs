//! Over HTTP: a call keeps its address in parts (and its crew reads them), the open calls
//! a new call may repeat (distances from a haversine written here), and a second caller
//! linked to an open call (no crew sent, no second call, once per idempotency key).

use serde_json::{json, Value};

use crate::helpers::{client, get, post, shared_router, start, CREW_A1, DISPATCHER};

/// Great-circle distance (m), the test's own.
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

const CALL: (f64, f64) = (49.405, 8.685);

async fn send(c: &reqwest::Client, method: &str, url: String, body: Value) -> (u16, Value) {
    let r = c
        .request(method.parse().unwrap(), url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_call_keeps_its_address_in_parts_and_its_crew_reads_them() {
    let server = start(shared_router("heidelberg")).await;
    let (base, c) = (&server.base, client(DISPATCHER));
    let (s, _) = post(
        &c,
        format!("{base}/api/crews"),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, call) = post(
        &c,
        format!("{base}/api/calls"),
        json!({
            "lat": CALL.0, "lon": CALL.1, "priority": "emergency",
            "address": "улица Гончарова, 4 стр. 3, подъезд 2, кв. 15",
            "place": {"street": " улица Гончарова ", "housenumber": "4", "building": "3",
                      "entrance": "2", "apartment": "15", "floor": "  "},
        }),
    )
    .await;
    assert_eq!(s, 201, "{call}");
    assert_eq!(
        call["place"],
        json!({"street": "улица Гончарова", "housenumber": "4", "building": "3",
               "entrance": "2", "apartment": "15"}),
        "trimmed, the blank floor dropped"
    );
    let id = call["id"].as_u64().unwrap();
    assert_eq!(call["crew_id"], "A1");

    // The crew's own view carries the parts.
    let mine = get(&client(CREW_A1), format!("{base}/api/calls/{id}")).await;
    assert_eq!(mine["place"]["entrance"], "2");
    assert_eq!(mine["place"]["street"], "улица Гончарова");

    // A correction replaces the parts; `{}` clears them.
    let (s, v) = send(
        &c,
        "PATCH",
        format!("{base}/api/calls/{id}"),
        json!({"place": {"street": "Hauptstraße", "housenumber": "100"}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["place"],
        json!({"street": "Hauptstraße", "housenumber": "100"})
    );
    let (s, v) = send(
        &c,
        "PATCH",
        format!("{base}/api/calls/{id}"),
        json!({"place": {}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["place"], Value::Null);

    // Unknown parts and parts over 200 characters are refused, and create nothing.
    let before = get(&c, format!("{base}/api/calls"))
        .await
        .as_array()
        .unwrap()
        .len();
    for place in [
        json!({"porch": "2"}),
        json!({"street": "x".repeat(201)}),
        json!("ул. Ленина"),
    ] {
        let (s, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": CALL.0, "lon": CALL.1, "priority": "urgent", "place": place}),
        )
        .await;
        assert!(s == 400 || s == 422, "{place}: {s} {v}");
        assert!(v["error"].is_string(), "{v}");
    }
    let after = get(&c, format!("{base}/api/calls"))
        .await
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_second_caller_nearby_is_offered_as_a_duplicate_and_linked_without_a_crew() {
    let server = start(shared_router("heidelberg")).await;
    let (base, c) = (&server.base, client(DISPATCHER));
    for (id, lat, lon) in [("A1", 49.4106, 8.6946), ("A2", 49.4034, 8.6765)] {
        let (s, _) = post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": id, "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(s, 201);
    }
    let (_, call) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": CALL.0, "lon": CALL.1, "priority": "emergency", "complaint": "боль в груди"}),
    )
    .await;
    let id = call["id"].as_u64().unwrap();

    // About 80 m north-east: a possible duplicate; about 400 m away: none.
    let near = (49.4055, 8.6858);
    let far = (49.4085, 8.6850);
    assert!(metres(near, CALL) < 150.0 && metres(far, CALL) > 150.0);
    let found = get(
        &c,
        format!("{base}/api/calls/duplicates?lat={}&lon={}", near.0, near.1),
    )
    .await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["call"]["id"], id);
    let d = found[0]["distance_m"].as_f64().unwrap();
    assert!((d - metres(near, CALL)).abs() <= 1.0, "{d}");
    assert!(found[0]["age_s"].as_f64().unwrap() < 60.0);
    let none = get(
        &c,
        format!("{base}/api/calls/duplicates?lat={}&lon={}", far.0, far.1),
    )
    .await;
    assert_eq!(none, json!([]));

    // Crews may not ask; bad coordinates are refused.
    let r = client(CREW_A1)
        .get(format!("{base}/api/calls/duplicates?lat=49.4&lon=8.6"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = c
        .get(format!("{base}/api/calls/duplicates?lat=91&lon=8.6"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);

    // Linked twice with one key: one report, no second call, the other crew still free.
    let link = |key: &'static str| {
        let c = c.clone();
        let url = format!("{base}/api/calls/{id}/link");
        async move {
            let r = c
                .post(url)
                .header("Idempotency-Key", key)
                .json(
                    &json!({"lat": near.0, "lon": near.1, "complaint": "сосед: без сознания",
                              "phone": "+7 900 111-22-33"}),
                )
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = link("link-1").await;
    assert_eq!(s, 200, "{v}");
    let (s, again) = link("link-1").await;
    assert_eq!(s, 200);
    assert_eq!(again["linked"], v["linked"]);
    let call = get(&c, format!("{base}/api/calls/{id}")).await;
    let linked = call["linked"].as_array().unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["complaint"], "сосед: без сознания");
    assert_eq!(linked[0]["phone"], "+7 900 111-22-33");
    assert_eq!(
        get(&c, format!("{base}/api/calls"))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let crews = get(&c, format!("{base}/api/crews")).await;
    let free = crews
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "available")
        .count();
    assert_eq!(free, 1, "no crew sent for the linked caller");

    // The link is on the call's timeline, by the dispatcher.
    let audit = get(
        &client(crate::helpers::ADMIN),
        format!("{base}/api/audit?limit=50"),
    )
    .await;
    let text = audit.to_string();
    assert!(text.contains("call_linked"), "{text}");

    // Unknown and closed calls refuse a link.
    let (s, _) = post(
        &c,
        format!("{base}/api/calls/999/link"),
        json!({"lat": near.0, "lon": near.1}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = post(
        &c,
        format!("{base}/api/calls/{id}/cancel"),
        json!({"reason": "test"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = post(
        &c,
        format!("{base}/api/calls/{id}/link"),
        json!({"lat": near.0, "lon": near.1}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
}
