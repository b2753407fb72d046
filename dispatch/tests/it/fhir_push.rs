//! The push of handovers to the patient's record, against a real FHIR R4 server: Medplum's
//! FHIR engine from npm (`dispatch/tests/fhir-server`, installed by `.ci/run`), run as a
//! process, with the real `dispatch serve` process. What the record holds is read back from
//! the FHIR server with its own searches; every bundle it received is validated with
//! `fhir.resources`, an independent validator.
//!
//! Without `node` or the server's packages these tests say so and pass, except in CI (`CI`
//! set), which must run them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{client, crew_steps, get, post, validate_fhir, TestDb, CREW_A1, DISPATCHER};
use crate::process::{console_log, Service};

/// The FHIR server, a child process killed when dropped.
pub struct Fhir {
    child: Child,
    /// Its base URL (`http://127.0.0.1:PORT/fhir/R4`).
    pub base: String,
    bearer: Option<String>,
    recorded: PathBuf,
}

impl Drop for Fhir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fhir {
    /// Starts the server on `port` (0: any), requiring `bearer` if given, recording what it
    /// receives in `recorded`; `None` (said) when it cannot run here and CI is not set.
    pub fn start(port: u16, bearer: Option<&str>, recorded: &Path) -> Option<Fhir> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-server");
        if !dir.join("node_modules/@medplum/fhir-router").exists() {
            let why = "the FHIR server's packages are not installed (npm ci --prefix dispatch/tests/fhir-server)";
            assert!(
                std::env::var_os("CI").is_none(),
                "{why}: CI must run the FHIR tests"
            );
            println!("{why}: skipped");
            return None;
        }
        let mut cmd = Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("FHIR_RECORD_DIR", recorded)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(b) = bearer {
            cmd.env("FHIR_BEARER", b);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "node: {e}: CI must run the FHIR tests"
                );
                println!("node cannot run ({e}): skipped");
                return None;
            }
        };
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next()
            .expect("the FHIR server says where it listens")
            .unwrap();
        let base = line.rsplit(' ').next().unwrap().to_string();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        std::thread::spawn(move || for _ in lines {});
        Some(Fhir {
            child,
            base,
            bearer: bearer.map(str::to_string),
            recorded: recorded.to_path_buf(),
        })
    }

    /// The resources a search finds (`Patient?identifier=…`).
    async fn search(&self, query: &str) -> Vec<Value> {
        let mut r = reqwest::Client::new().get(format!("{}/{query}", self.base));
        if let Some(b) = &self.bearer {
            r = r.bearer_auth(b);
        }
        let bundle: Value = r.send().await.unwrap().json().await.unwrap();
        assert_eq!(bundle["resourceType"], "Bundle", "{query}: {bundle}");
        bundle["entry"]
            .as_array()
            .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
            .unwrap_or_default()
    }

    /// How many of each kind the record holds.
    async fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut out = Vec::new();
        for kind in [
            "Patient",
            "Location",
            "Encounter",
            "Observation",
            "Condition",
            "Composition",
        ] {
            out.push((kind, self.search(kind).await.len()));
        }
        out
    }

    /// Every bundle the server received, in order, each validated.
    fn received(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.recorded)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
                validate_fhir(&v);
                v
            })
            .collect()
    }
}

/// A port nothing listens on (for now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Crew A1 takes a call and brings its patient to hospital: the call's id.
async fn at_hospital(base: &str) -> u64 {
    let c = client(DISPATCHER);
    let (code, v) = post(
        &c,
        format!("{base}/api/crews"),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let (code, call) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(
        (code, call["crew_id"].as_str()),
        (201, Some("A1")),
        "{call}"
    );
    crew_steps(
        &client(CREW_A1),
        base,
        "A1",
        &["en_route", "on_scene", "transporting", "at_hospital"],
    )
    .await;
    call["id"].as_u64().unwrap()
}

fn handover(heart_rate: f64) -> Value {
    json!({
        "patient": {
            "name": "Иван Петрович Сидоров",
            "birth_date": "1956-03-02",
            "sex": "male",
            "identifiers": [
                {"kind": "snils", "value": "11223344595"},
                {"kind": "oms", "value": "7700 0000 0000 0018"},
            ],
        },
        "hospital": "ГКБ № 15",
        "vitals": {"heart_rate": heart_rate, "systolic_bp": 150, "diastolic_bp": 90, "spo2": 93,
                   "respiratory_rate": 20, "temperature_c": 36.9, "gcs": 15},
        "diagnosis_icd10": "I21.9",
        "notes": "ST elevation",
    })
}

/// The call's delivery once `done` holds of it (10 s at most).
async fn delivery_when(base: &str, call: u64, done: impl Fn(&Value) -> bool) -> Value {
    let c = client(DISPATCHER);
    let waited = Instant::now();
    loop {
        let r = c
            .get(format!("{base}/api/calls/{call}/handover/delivery"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let d: Value = r.json().await.unwrap();
            if done(&d) {
                return d;
            }
            assert!(waited.elapsed() < Duration::from_secs(15), "still {d}");
        } else {
            assert!(waited.elapsed() < Duration::from_secs(15), "{}", r.status());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sent(version: u64) -> impl Fn(&Value) -> bool {
    move |d| d["state"] == "sent" && d["sent"]["version"] == version
}

fn kinds(ids: &Value) -> Vec<&str> {
    ids.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().split('/').next().unwrap())
        .collect()
}

const ONE_OF_EACH: [(&str, usize); 6] = [
    ("Patient", 1),
    ("Location", 1),
    ("Encounter", 1),
    ("Observation", 6),
    ("Condition", 1),
    ("Composition", 1),
];

/// The service on `db`, pushing to `fhir` with the bearer token `token` (written to a file in
/// `dir`, as an operator would).
fn pushing(db: &TestDb, dir: &Path, fhir: &Fhir, token: &str) -> Service {
    let file = dir.join(format!("fhir-token-{}", token.len()));
    std::fs::write(&file, format!("{token}\n")).unwrap();
    Service::start_with(
        &db.url(),
        dir,
        &[
            "--fhir-url",
            &fhir.base,
            "--fhir-token-file",
            file.to_str().unwrap(),
        ],
    )
}

async fn a_handover_reaches_the_record_and_a_correction_updates_it(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let recorded = tempfile::tempdir().unwrap();
    let Some(fhir) = Fhir::start(0, Some("fhir-secret-token"), recorded.path()) else {
        return;
    };
    let svc = pushing(&db, dir.path(), &fhir, "fhir-secret-token");
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    let id = at_hospital(&base).await;
    let (code, v) = post(
        &client(CREW_A1),
        format!("{base}/api/calls/{id}/handover"),
        handover(96.0),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    // The identifiers as their registers write them.
    assert_eq!(
        v["handover"]["patient"]["identifiers"][0]["value"],
        "112-233-445 95"
    );
    assert_eq!(
        v["handover"]["patient"]["identifiers"][1]["value"],
        "7700000000000018"
    );

    let d = delivery_when(&base, id, sent(1)).await;
    assert_eq!(
        (d["version"].as_u64(), d["attempts"].as_u64()),
        (Some(1), Some(1)),
        "{d}"
    );
    let ids = &d["sent"]["resources"];
    let mut expected = vec!["Patient", "Location", "Encounter"];
    expected.extend(["Observation"; 6]);
    expected.extend(["Condition", "Composition"]);
    assert_eq!(kinds(ids), expected, "{d}");

    // What the record holds, by its own searches.
    assert_eq!(fhir.counts().await, ONE_OF_EACH);
    let patients = fhir
        .search("Patient?identifier=http://fhir.ru/core/systems/snils|112-233-445%2095")
        .await;
    assert_eq!(patients.len(), 1);
    let patient = format!("Patient/{}", patients[0]["id"].as_str().unwrap());
    assert_eq!(ids[0], patient.as_str());
    assert_eq!(patients[0]["name"][0]["family"], "Сидоров");
    let encounters = fhir
        .search(&format!(
            "Encounter?identifier=urn:ambulance-dispatch:call|{id}"
        ))
        .await;
    assert_eq!(encounters.len(), 1);
    let enc = &encounters[0];
    assert_eq!(enc["class"]["code"], "EMER");
    assert_eq!(enc["subject"]["reference"], patient.as_str());
    assert_eq!(enc["hospitalization"]["destination"]["reference"], ids[1]);
    let encounter = format!("Encounter/{}", enc["id"].as_str().unwrap());
    let observations = fhir
        .search(&format!("Observation?encounter={encounter}"))
        .await;
    assert_eq!(observations.len(), 6);
    let composition = &fhir.search("Composition").await[0];
    assert_eq!(composition["subject"]["reference"], patient.as_str());
    let vitals: Vec<&str> = composition["section"][0]["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reference"].as_str().unwrap())
        .collect();
    assert_eq!(vitals.len(), 6);
    for o in &observations {
        assert!(vitals.contains(&format!("Observation/{}", o["id"].as_str().unwrap()).as_str()));
    }

    // A correction is sent as an update: the same resources, the new value.
    let (code, v) = post(
        &c,
        format!("{base}/api/calls/{id}/handover"),
        handover(120.0),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let d2 = delivery_when(&base, id, sent(2)).await;
    assert_eq!(d2["sent"]["resources"], *ids, "the same resources, updated");
    assert_eq!(fhir.counts().await, ONE_OF_EACH);
    let heart = fhir
        .search(&format!(
            "Observation?encounter={encounter}&code=http://loinc.org|8867-4"
        ))
        .await;
    assert_eq!(heart.len(), 1);
    assert_eq!(heart[0]["valueQuantity"]["value"], 120.0);

    // Each bundle sent is a valid transaction: two per version (11 entries, at most 8 in
    // one transaction).
    let got = fhir.received();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|b| b["type"] == "transaction"));

    // Consoles saw the deliveries; a crew may not read them.
    let log = console_log(&base, 0).await;
    let states: Vec<&str> = log
        .iter()
        .filter(|e| e["type"] == "fhir_delivery")
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["sent", "sent"], "the worker's, one per version");
    let r = client(CREW_A1)
        .get(format!("{base}/api/calls/{id}/handover/delivery"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    svc.kill();
}

async fn a_server_that_was_down_gets_the_handover_after_a_kill(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let recorded = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/fhir/R4");
    let args = ["--fhir-url", url.as_str()];
    let svc = Service::start_with(&db.url(), dir.path(), &args);
    let base = svc.base.clone();
    let id = at_hospital(&base).await;
    let (code, v) = post(
        &client(CREW_A1),
        format!("{base}/api/calls/{id}/handover"),
        handover(96.0),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let d = delivery_when(&base, id, |d| d["attempts"].as_u64() >= Some(2)).await;
    assert_eq!(d["state"], "pending", "{d}");
    assert!(
        d["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{d}"
    );
    assert!(
        d["next_attempt_at"].as_i64() > d["error"]["at"].as_i64(),
        "{d}"
    );
    // Dispatch goes on meanwhile.
    let (code, v) = post(
        &client(DISPATCHER),
        format!("{base}/api/calls"),
        json!({"lat": 49.41, "lon": 8.66, "priority": "urgent"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    svc.kill();

    // The server comes up; the service, killed with the handover unsent, starts again.
    let Some(fhir) = Fhir::start(port, None, recorded.path()) else {
        return;
    };
    let svc = Service::start_with(&db.url(), dir.path(), &args);
    let d = delivery_when(&svc.base, id, sent(1)).await;
    assert!(d["attempts"].as_u64() >= Some(3), "{d}");
    assert_eq!(d["error"], Value::Null);
    assert_eq!(fhir.counts().await, ONE_OF_EACH);
    assert_eq!(fhir.received().len(), 2);
    svc.kill();
}

/// A relay to `upstream` that holds the first answer back for `hold` (the request goes
/// through at once); later connections pass freely. Its address.
async fn slow_first_answer(upstream: String, hold: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first = Arc::new(AtomicBool::new(true));
    tokio::spawn(async move {
        loop {
            let Ok((inbound, _)) = listener.accept().await else {
                return;
            };
            let upstream = upstream.clone();
            let slow = first.swap(false, Ordering::AcqRel);
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut ri, mut wi) = inbound.into_split();
                let (mut ro, mut wo) = outbound.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut ri, &mut wo).await;
                });
                if slow {
                    tokio::time::sleep(hold).await;
                }
                let _ = tokio::io::copy(&mut ro, &mut wi).await;
                up.abort();
            });
        }
    });
    addr.to_string()
}

async fn a_timeout_then_a_retry_makes_no_duplicate(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let recorded = tempfile::tempdir().unwrap();
    let Some(fhir) = Fhir::start(0, None, recorded.path()) else {
        return;
    };
    let upstream = fhir
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let relay = slow_first_answer(upstream, Duration::from_millis(2_500)).await;
    let url = format!("http://{relay}/fhir/R4");
    let svc = Service::start_with(
        &db.url(),
        dir.path(),
        &["--fhir-url", &url, "--fhir-timeout-ms", "500"],
    );
    let base = svc.base.clone();
    let id = at_hospital(&base).await;
    let (code, v) = post(
        &client(CREW_A1),
        format!("{base}/api/calls/{id}/handover"),
        handover(96.0),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let d = delivery_when(&base, id, sent(1)).await;
    // The first attempt's first transaction reached the server and timed out; the second
    // attempt found what it made there, and sent the rest.
    assert_eq!(d["attempts"], 2, "{d}");
    assert_eq!(
        fhir.received().len(),
        3,
        "the first part twice, then the second"
    );
    assert_eq!(fhir.counts().await, ONE_OF_EACH, "no duplicate");
    svc.kill();
}

async fn a_refusal_waits_for_a_dispatchers_retry(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let recorded = tempfile::tempdir().unwrap();
    let Some(fhir) = Fhir::start(0, Some("the-right-token"), recorded.path()) else {
        return;
    };
    let svc = pushing(&db, dir.path(), &fhir, "not-the-token");
    let base = svc.base.clone();
    let id = at_hospital(&base).await;
    let (code, v) = post(
        &client(CREW_A1),
        format!("{base}/api/calls/{id}/handover"),
        handover(96.0),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let d = delivery_when(&base, id, |d| d["state"] == "failed").await;
    assert_eq!(d["error"]["status"], 401, "{d}");
    assert_eq!(
        d["error"]["outcome"]["resourceType"], "OperationOutcome",
        "{d}"
    );
    assert_eq!(d["attempts"], 1, "a refusal is not retried: {d}");
    let retry = format!("{base}/api/calls/{id}/handover/delivery/retry");
    let (code, _) = post(&client(CREW_A1), retry.clone(), json!({})).await;
    assert_eq!(code, 403, "a crew may not");
    svc.kill();

    // With the right token, a dispatcher's retry sends it.
    let svc = pushing(&db, dir.path(), &fhir, "the-right-token");
    let base = svc.base.clone();
    let still = get(
        &client(DISPATCHER),
        format!("{base}/api/calls/{id}/handover/delivery"),
    )
    .await;
    assert_eq!(still["state"], "failed", "not retried by itself: {still}");
    let retry = format!("{base}/api/calls/{id}/handover/delivery/retry");
    let (code, v) = post(&client(DISPATCHER), retry, json!({})).await;
    assert_eq!((code, v["state"].as_str()), (202, Some("pending")), "{v}");
    let d = delivery_when(&base, id, sent(1)).await;
    assert_eq!(d["attempts"], 1, "{d}");
    assert_eq!(fhir.counts().await, ONE_OF_EACH);
    // The log says who asked for the retry, and that the worker sent it.
    let audit = get(&client(DISPATCHER), format!("{base}/api/audit?since=0")).await;
    let actors: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "fhir_delivery")
        .map(|e| {
            (
                e["event"]["state"].as_str().unwrap(),
                e["actor"]["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actors,
        [
            ("failed", "system"),
            ("pending", "dispatcher"),
            ("sent", "system")
        ],
        "{audit}"
    );
    svc.kill();
}

crate::on_both_stores!(
    a_handover_reaches_the_record_and_a_correction_updates_it,
    a_server_that_was_down_gets_the_handover_after_a_kill,
    a_timeout_then_a_retry_makes_no_duplicate,
    a_refusal_waits_for_a_dispatchers_retry,
);
