//! The OpenAPI description (`GET /api/openapi.json`) against the live service:
//!
//! * every operation it describes is served (none answers axum's own empty 404 or 405), and
//!   every route of the API is described;
//! * schemathesis (PyPI), an independent property-based tester, sends generated requests to
//!   every operation (examples, boundary values, random and invalid data) and checks that no
//!   answer is a 5xx, and that every status, content type and body is one the description
//!   gives.
//!
//! Without the `schemathesis` command the second test says so and passes, except in CI
//! (`CI` set), which installs it (`.ci/run`) and so must run it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{
    client, crew_steps, data, get, post, shared_router, start_with, TestDb, TestServer, ADMIN,
    CREW_A1,
};

/// A service with something in it: two crews, a call its crew took to hospital with a
/// handover, a queued call, and a closure, and the map's addresses; so that lists and
/// examples answer real bodies.
async fn seeded() -> TestServer {
    let addresses =
        osm_data::address::AddressIndex::from_pbf(&data("heidelberg.osm.pbf")).expect("indexed");
    let s = start_with(shared_router("heidelberg"), TestDb::sqlite(), |c| {
        c.addresses = Some(std::sync::Arc::new(addresses))
    })
    .await;
    let c = client(ADMIN);
    for (id, lat, lon) in [("A1", 49.4093, 8.6937), ("A2", 49.3988, 8.6724)] {
        let (code, v) = post(
            &c,
            format!("{}/api/crews", s.base),
            json!({"id": id, "lat": lat, "lon": lon, "station": "S1", "call_sign": id}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let (code, call) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency", "complaint": "chest pain", "phone": "+49 6221 000"}),
    )
    .await;
    assert_eq!(code, 201, "{call}");
    let id = call["id"].as_u64().expect("a call id");
    let crew = client(CREW_A1);
    let own = call["crew_id"]
        .as_str()
        .expect("a crew was sent")
        .to_string();
    let crew = if own == "A1" { crew } else { c.clone() };
    crew_steps(
        &crew,
        &s.base,
        &own,
        &["en_route", "on_scene", "transporting", "at_hospital"],
    )
    .await;
    let (code, v) = post(
        &crew,
        format!("{}/api/calls/{id}/handover", s.base),
        json!({"patient": {"name": "Иван Сидоров", "birth_date": "1956-03-02", "sex": "male"},
               "hospital": "Universitätsklinikum", "vitals": {"heart_rate": 96, "gcs": 15},
               "diagnosis_icd10": "I21.9"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    for priority in ["urgent", "non_urgent"] {
        let (code, v) = post(
            &c,
            format!("{}/api/calls", s.base),
            json!({"lat": 49.41, "lon": 8.70, "priority": priority, "needs": ["general", "paediatric"]}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let (code, v) = post(
        &c,
        format!("{}/api/closures", s.base),
        json!({"point": {"lat": 49.41, "lon": 8.69}, "radius_m": 40, "factor": 2,
               "until": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    s
}

/// The description, fetched without a token.
async fn description(base: &str) -> Value {
    let r = reqwest::get(format!("{base}/api/openapi.json"))
        .await
        .expect("the service answers");
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.expect("the description is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_described_operation_is_served_and_every_api_route_is_described() {
    let s = seeded().await;
    let doc = description(&s.base).await;
    assert_eq!(
        doc["openapi"].as_str().map(|v| &v[..2]),
        Some("3."),
        "{doc}"
    );
    let paths = doc["paths"].as_object().expect("paths");

    // The routes of the service, written out here (not read from the code): each must be
    // described with its methods.
    let expected: &[(&str, &[&str])] = &[
        ("/health", &["get"]),
        ("/api/openapi.json", &["get"]),
        ("/metrics", &["get"]),
        ("/api/calls", &["get", "post"]),
        ("/api/calls/{id}", &["get", "patch"]),
        ("/api/calls/{id}/assign", &["post"]),
        ("/api/calls/{id}/cancel", &["post"]),
        ("/api/calls/duplicates", &["get"]),
        ("/api/calls/{id}/link", &["post"]),
        ("/api/calls/{id}/handover", &["get", "post"]),
        ("/api/calls/{id}/handover/fhir", &["get"]),
        ("/api/calls/{id}/handover/delivery", &["get"]),
        ("/api/calls/{id}/handover/delivery/retry", &["post"]),
        ("/api/calls/{id}/patient", &["get", "put"]),
        ("/api/calls/{id}/patient/summary", &["get"]),
        ("/api/crews", &["get", "post"]),
        ("/api/crews/{id}", &["delete", "get", "patch"]),
        ("/api/crews/{id}/position", &["put"]),
        ("/api/crews/{id}/status", &["post"]),
        ("/api/crews/{id}/hospital", &["get"]),
        ("/api/closures", &["get", "post"]),
        ("/api/closures/{id}", &["delete", "get"]),
        ("/api/audit", &["get"]),
        ("/api/me", &["get"]),
        ("/api/map", &["get"]),
        ("/api/map/roads", &["get"]),
        ("/api/map/streets", &["get"]),
        ("/api/hospitals", &["get"]),
        ("/api/stations", &["get"]),
        ("/api/geocode", &["get"]),
        ("/api/reverse", &["get"]),
        ("/route/v1/{profile}/{coordinates}", &["get"]),
        ("/table/v1/{profile}/{coordinates}", &["get"]),
        ("/nearest/v1/{profile}/{coordinates}", &["get"]),
    ];
    let methods = |item: &Value| -> Vec<String> {
        let mut m: Vec<String> = item
            .as_object()
            .map(|o| {
                o.keys()
                    .filter(|k| ["get", "put", "post", "delete", "patch"].contains(&k.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        m.sort();
        m
    };
    for (path, want) in expected {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not described"));
        assert_eq!(methods(item), *want, "{path}");
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "described but not expected here: {:?}",
        paths
            .keys()
            .filter(|p| !expected.iter().any(|(e, _)| e == p))
            .collect::<Vec<_>>()
    );

    // Every described operation is served: with its parameters filled, no answer is axum's
    // own "no such route" (an empty 404) or "no such method" (405); every operation that
    // needs a token says 401 without one; every answer described with a body has one.
    let admin = client(ADMIN);
    let anonymous = reqwest::Client::new();
    for (path, item) in paths {
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{id}", "1")
                .replace("{profile}", "driving")
                .replace("{coordinates}", "8.69,49.41;8.70,49.40")
        );
        for method in methods(item) {
            let op = &item[&method];
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = admin
                .request(m.clone(), &url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                status != 404 || !body.is_empty(),
                "{method} {path}: axum's own 404"
            );
            assert!(
                op["responses"][status.to_string()].is_object(),
                "{method} {path} answered {status}, which is not described: {}",
                String::from_utf8_lossy(&body)
            );
            let public = op["security"] == json!([{}]);
            let r = anonymous.request(m, &url).send().await.unwrap();
            if public {
                assert_eq!(r.status().as_u16(), 200, "{method} {path}");
            } else {
                assert_eq!(r.status().as_u16(), 401, "{method} {path}");
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
    }
    // The dispatcher's calls list answers real calls in the described shape.
    let calls = get(&admin, format!("{}/api/calls", s.base)).await;
    assert_eq!(calls.as_array().map(Vec::len), Some(3), "{calls}");
}

/// The `schemathesis` command, if there is one.
fn schemathesis() -> Option<std::path::PathBuf> {
    let ok = std::process::Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| "schemathesis".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_description() {
    let Some(program) = schemathesis() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemathesis is missing: CI must run this test (see .ci/run)"
        );
        eprintln!(
            "schemathesis is missing (pip install schemathesis): the schemathesis test is skipped"
        );
        return;
    };
    let s = seeded().await;
    let reports = tempfile::tempdir().unwrap();
    let junit = reports.path().join("junit.xml");
    let child = tokio::process::Command::new(program)
        .args([
            "run",
            &format!("{}/api/openapi.json", s.base),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,negative_data_rejection",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "20261203",
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--header",
            &format!("Authorization: Bearer {ADMIN}"),
            "--report",
            "junit",
            "--report-junit-path",
        ])
        .arg(&junit)
        // Its caches go to the temporary directory, not the source tree.
        .current_dir(reports.path())
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), child)
        .await
        .expect("schemathesis finishes within 10 minutes")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "schemathesis found failures ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let report = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(
        report.contains("<testcase"),
        "schemathesis ran no operation:\n{stdout}"
    );
    drop(s);
}
