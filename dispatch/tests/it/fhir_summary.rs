//! The patient's summary for the crew en route, read from a real FHIR R4 server (Medplum's
//! engine, see `fhir_push.rs`) seeded here with a patient's record through its own REST API:
//! what the crew sees is what the record holds as active, and only that crew (while it works
//! on the call) and dispatchers see it; a record system that is down or does not answer
//! gives "not available" with the reason.

use serde_json::{json, Value};

use crate::fhir_push::{free_port, Fhir};
use crate::helpers::{client, crew_steps, get, TestDb, CREW_A1, DISPATCHER};
use crate::process::Service;

/// Creates `resource` on the FHIR server: its `Type/id`.
async fn create(fhir: &Fhir, resource: Value) -> String {
    let kind = resource["resourceType"].as_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .post(format!("{}/{kind}", fhir.base))
        .header("content-type", "application/fhir+json")
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    format!("{kind}/{}", v["id"].as_str().unwrap())
}

fn concept(text: &str) -> Value {
    json!({"text": text})
}

/// A patient with active and resolved allergies and conditions, medications and
/// observations.
async fn seed(fhir: &Fhir) {
    let p = create(
        fhir,
        json!({"resourceType": "Patient",
               "identifier": [{"system": "http://fhir.ru/core/systems/OMS", "value": "7700000000000018"}],
               "name": [{"family": "Сидоров", "given": ["Иван", "Петрович"]}],
               "birthDate": "1956-03-02", "gender": "male"}),
    )
    .await;
    let subject = json!({"reference": p});
    let clinical = |code: &str, system: &str| json!({"coding": [{"system": system, "code": code}]});
    let allergy = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
    let cond = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    for (text, status) in [("Пенициллин", "active"), ("Пыльца", "resolved")] {
        let mut a = json!({"resourceType": "AllergyIntolerance", "patient": subject,
                           "clinicalStatus": clinical(status, allergy), "code": concept(text)});
        if status == "active" {
            a["criticality"] = json!("high");
            a["reaction"] = json!([{"manifestation": [concept("анафилаксия")]}]);
        }
        create(fhir, a).await;
    }
    for (text, status) in [
        ("Сахарный диабет 2 типа", "active"),
        ("Пневмония", "resolved"),
    ] {
        create(
            fhir,
            json!({"resourceType": "Condition", "subject": subject,
                   "clinicalStatus": clinical(status, cond), "code": concept(text)}),
        )
        .await;
    }
    create(
        fhir,
        json!({"resourceType": "MedicationStatement", "status": "active", "subject": subject,
               "medicationCodeableConcept": concept("Метформин 850 мг"),
               "dosage": [{"text": "2 раза в день"}]}),
    )
    .await;
    create(
        fhir,
        json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
               "subject": subject, "medicationCodeableConcept": concept("Варфарин 5 мг")}),
    )
    .await;
    create(
        fhir,
        json!({"resourceType": "MedicationStatement", "status": "stopped", "subject": subject,
               "medicationCodeableConcept": concept("Аспирин")}),
    )
    .await;
    for (value, at) in [(6.1, "2026-10-01T08:00:00Z"), (9.4, "2026-11-20T08:00:00Z")] {
        create(
            fhir,
            json!({"resourceType": "Observation", "status": "final", "subject": subject,
                   "code": concept("Глюкоза"), "effectiveDateTime": at,
                   "valueQuantity": {"value": value, "unit": "ммоль/л"}}),
        )
        .await;
    }
}

fn texts(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect()
}

async fn the_crew_on_the_call_sees_the_patients_summary(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let recorded = tempfile::tempdir().unwrap();
    let Some(fhir) = Fhir::start(0, None, recorded.path()) else {
        return;
    };
    seed(&fhir).await;
    let svc = Service::start_with(&db.url(), dir.path(), &["--fhir-url", &fhir.base]);
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    let crew = client(CREW_A1);
    for (id, lat, lon) in [("A1", 49.4106, 8.6946), ("A2", 49.3900, 8.6700)] {
        let (code, v) = crate::helpers::post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": id, "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let mut calls = Vec::new();
    for (lat, lon, want) in [(49.410, 8.694, "A1"), (49.390, 8.671, "A2")] {
        let (code, call) = crate::helpers::post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": lat, "lon": lon, "priority": "emergency"}),
        )
        .await;
        assert_eq!(
            (code, call["crew_id"].as_str()),
            (201, Some(want)),
            "{call}"
        );
        calls.push(call["id"].as_u64().unwrap());
    }
    let (own, other) = (calls[0], calls[1]);
    let summary = |who: &reqwest::Client, call: u64| {
        let r = who
            .get(format!("{base}/api/calls/{call}/patient/summary"))
            .send();
        async move {
            let r = r.await.unwrap();
            let code = r.status().as_u16();
            (code, r.json::<Value>().await.unwrap())
        }
    };

    // No identifier yet.
    let (code, s) = summary(&crew, own).await;
    assert_eq!((code, s["available"].as_bool()), (200, Some(false)), "{s}");
    assert_eq!(s["reason"], "no_identifier");

    // The call-taker enters the ОМС policy; the crew sees the record's active items.
    let r = c
        .put(format!("{base}/api/calls/{own}/patient"))
        .json(&json!({"identifiers": [{"kind": "oms", "value": "7700 0000 0000 0018"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ids: Value = r.json().await.unwrap();
    assert_eq!(ids["identifiers"][0]["value"], "7700000000000018");
    let (code, s) = summary(&crew, own).await;
    assert_eq!((code, s["available"].as_bool()), (200, Some(true)), "{s}");
    assert_eq!(s["patient"]["name"], "Иван Петрович Сидоров");
    assert_eq!(s["patient"]["birth_date"], "1956-03-02");
    assert_eq!(texts(&s["allergies"]), ["Пенициллин"]);
    assert_eq!(s["allergies"][0]["detail"], "анафилаксия");
    assert_eq!(s["allergies"][0]["critical"], true);
    assert_eq!(texts(&s["conditions"]), ["Сахарный диабет 2 типа"]);
    assert_eq!(
        texts(&s["medications"]),
        ["Метформин 850 мг", "Варфарин 5 мг"]
    );
    assert_eq!(s["medications"][0]["detail"], "2 раза в день");
    assert_eq!(texts(&s["observations"]), ["Глюкоза"]);
    assert_eq!(s["observations"][0]["detail"], "9.4 ммоль/л", "the latest");
    // A dispatcher sees the same.
    assert_eq!(summary(&c, own).await, (200, s.clone()));

    // Not another crew's call; a wrong number is refused, naming it.
    let (code, _) = summary(&crew, other).await;
    assert_eq!(code, 403);
    let r = crew
        .put(format!("{base}/api/calls/{other}/patient"))
        .json(&json!({"identifiers": [{"kind": "oms", "value": "7700000000000018"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = crew
        .put(format!("{base}/api/calls/{own}/patient"))
        .json(&json!({"identifiers": [{"kind": "snils", "value": "112-233-445 96"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["field"], "identifiers[0].value", "{v}");
    // The log says they were entered, and which kind, not the number.
    let audit = get(&c, format!("{base}/api/audit?since=0")).await;
    let entered: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == "patient_identified")
        .collect();
    assert_eq!(entered.len(), 1, "{audit}");
    assert_eq!(entered[0]["event"]["kinds"], json!(["oms"]));
    assert_eq!(entered[0]["actor"]["role"], "dispatcher");
    assert!(!audit.to_string().contains("7700000000000018"));

    // Once the crew's part is done, the crew no longer sees it.
    crew_steps(&crew, &base, "A1", &["en_route", "on_scene", "available"]).await;
    let (code, _) = summary(&crew, own).await;
    assert_eq!(code, 403);
    assert_eq!(summary(&c, own).await.0, 200);
    svc.kill();
}

async fn a_record_system_down_or_silent_is_not_available(db: TestDb) {
    // One that accepts connections and never answers, and a port nobody listens on.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_at = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let down = free_port();
    for (url, reason) in [
        (format!("http://{silent_at}/fhir/R4"), "timeout"),
        (format!("http://127.0.0.1:{down}/fhir/R4"), "unreachable"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = match &db {
            TestDb::Sqlite(_) => TestDb::sqlite(),
            TestDb::Postgres(_) => TestDb::postgres().await.unwrap(),
        };
        let svc = Service::start_with(&db.url(), dir.path(), &["--fhir-url", &url]);
        let base = svc.base.clone();
        let c = client(DISPATCHER);
        let (code, _) = crate::helpers::post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
        )
        .await;
        assert_eq!(code, 201);
        let (code, call) = crate::helpers::post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.405, "lon": 8.685, "priority": "urgent"}),
        )
        .await;
        assert_eq!(code, 201);
        let id = call["id"].as_u64().unwrap();
        let r = c
            .put(format!("{base}/api/calls/{id}/patient"))
            .json(&json!({"identifiers": [{"kind": "local", "value": "МО-17/42"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let s = get(
            &client(CREW_A1),
            format!("{base}/api/calls/{id}/patient/summary"),
        )
        .await;
        assert_eq!(s["available"], false, "{s}");
        assert_eq!(s["reason"], reason, "{s}");
        // Dispatch is not held up meanwhile.
        let (code, v) = crate::helpers::post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.41, "lon": 8.66, "priority": "emergency"}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        svc.kill();
    }
}

crate::on_both_stores!(
    the_crew_on_the_call_sees_the_patients_summary,
    a_record_system_down_or_silent_is_not_available,
);
