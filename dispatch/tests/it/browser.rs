//! The console and the crew tablet in a real browser: Debian's Chromium driven by
//! playwright-core (the scripts in `dispatch/tests/browser/`) against the real service on an
//! ephemeral port; and the pages' assets and map APIs over plain HTTP.
//!
//! Without `/usr/bin/chromium` or `dispatch/tests/browser/node_modules/playwright-core` the
//! browser tests say so and pass, except in CI (`CI` set), which installs both (`.ci/run`) and
//! so must run them.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{
    client, data, get, shared_router, start, start_with, TestDb, ADMIN, CREW_A1, DISPATCHER,
};

const CHROMIUM: &str = "/usr/bin/chromium";

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_string());
    if !std::path::Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing (apt-get install chromium)"));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is missing (apt-get install nodejs npm)".into());
    }
    if !scripts().join("node_modules/playwright-core").is_dir() {
        return Some(
            "dispatch/tests/browser/node_modules/playwright-core is missing \
             (npm ci --prefix dispatch/tests/browser)"
                .into(),
        );
    }
    None
}

/// One browser at a time: Chromium is heavy for a 2-core machine.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `node dispatch/tests/browser/<script> <base-url> <tokens...>` against a fresh service.
async fn run(script: &str) {
    run_with(script, Setup::default()).await
}

/// What the service of a browser test has beyond the defaults.
#[derive(Default)]
struct Setup {
    /// The hospitals of the Heidelberg map, as `dispatch serve` adds them.
    hospitals: bool,
    /// The emergency norm (ms) instead of 20 minutes.
    emergency_norm_ms: Option<u32>,
    /// [`PLACES`]' stations and hospitals (instead of the map's hospitals).
    places: bool,
    /// The Moscow fragment with its address index, instead of Heidelberg.
    moscow: bool,
    /// A FHIR server (see `fhir_push.rs`) the service reads and writes patients' records
    /// on; its base URL is the script's fifth argument.
    fhir: bool,
}

/// The stations and hospitals of the tablet's route tests (Heidelberg): `S1`, where the
/// browser tests' crews are based, and a second station; hospitals of differing
/// capabilities.
const PLACES: &str = r#"{
  "stations": [
    {"id": "S1", "name": "Rettungswache Bergheim", "lat": 49.4093, "lon": 8.6862},
    {"id": "S2", "name": "Rettungswache Süd", "lat": 49.3872, "lon": 8.6741}
  ],
  "hospitals": [
    {"id": "H1", "name": "Universitätsklinikum", "lat": 49.4175, "lon": 8.6668, "capabilities": ["general", "pci", "stroke", "trauma"]},
    {"id": "H2", "name": "St. Josefskrankenhaus", "lat": 49.4019, "lon": 8.6870, "capabilities": ["general"]},
    {"id": "H3", "name": "Krankenhaus Salem", "lat": 49.4125, "lon": 8.6985, "capabilities": ["general", "pci"]},
    {"id": "H4", "name": "Kinderklinik", "lat": 49.4165, "lon": 8.6700, "capabilities": ["general", "paediatric"]}
  ]
}"#;

/// [`PLACES`]: its stations and hospitals.
fn places() -> (
    Vec<dispatch::stations::Station>,
    Vec<dispatch_core::NewHospital>,
) {
    let places: Value = serde_json::from_str(PLACES).unwrap();
    (
        serde_json::from_value(places["stations"].clone()).unwrap(),
        serde_json::from_value(places["hospitals"].clone()).unwrap(),
    )
}

/// Like [`run`], with a service set up as `setup` says.
async fn run_with(script: &str, setup: Setup) {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}: CI must run the browser tests (see .ci/run)"
        );
        eprintln!("{why}: the browser test {script} is skipped");
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let map = if setup.moscow {
        "moscow-fragment"
    } else {
        "heidelberg"
    };
    let addresses = setup.moscow.then(|| {
        std::sync::Arc::new(
            osm_data::address::AddressIndex::from_pbf(&data("moscow-fragment.osm.pbf")).unwrap(),
        )
    });
    let recorded = tempfile::tempdir().unwrap();
    let fhir = match setup.fhir {
        true => match crate::fhir_push::Fhir::start(0, None, recorded.path()) {
            Some(f) => Some(f),
            None => return,
        },
        false => None,
    };
    let fhir_base = fhir.as_ref().map(|f| f.base.clone()).unwrap_or_default();
    let server = start_with(shared_router(map), TestDb::sqlite(), |config| {
        if setup.fhir {
            config.fhir_server = Some(std::sync::Arc::new(dispatch::fhir::FhirServer {
                url: fhir_base.clone(),
                auth: None,
                timeout: Duration::from_secs(5),
            }));
        }
        config.addresses = addresses;
        if let Some(ms) = setup.emergency_norm_ms {
            config.dispatch.norms.emergency_ms = ms;
        }
        if setup.places {
            config.stations = places().0;
        }
    })
    .await;
    if setup.places {
        let added = dispatch::hospitals::register(&server.state, places().1)
            .await
            .unwrap();
        assert_eq!(added, 4, "the hospitals of PLACES");
    }
    if setup.hospitals {
        let places = osm_data::hospitals(&data("heidelberg.osm.pbf")).unwrap();
        dispatch::hospitals::register(&server.state, dispatch::hospitals::from_places(&places))
            .await
            .unwrap();
    }
    let child = tokio::process::Command::new("node")
        .arg(scripts().join(script))
        .args([
            server.base.as_str(),
            DISPATCHER,
            ADMIN,
            CREW_A1,
            fhir_base.as_str(),
        ])
        .current_dir(scripts())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), child)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within 4 minutes"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_signs_in_by_token_draws_the_roads_and_dispatches_overrides_queues_and_cancels() {
    run("console.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_closure_picked_or_drawn_on_the_map_changes_the_route() {
    run("closures.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_resumes_after_a_dropped_socket_without_losing_an_event() {
    run("resume.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_follows_its_assignment_sends_offline_steps_in_order_and_records_the_handover() {
    run("tablet.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_manages_crews_edits_calls_and_shows_hand_backs_and_diversions() {
    run("crews.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_tablet_speak_the_browsers_language_remember_the_switch_and_translate_errors() {
    run("i18n.mjs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_map_names_streets_shows_hospitals_crew_types_call_timers_and_sounds_alerts() {
    // The map's hospitals and the stations and hospitals of PLACES; a 12 s emergency norm:
    // the call timers turn amber (9 s) and red (12 s) within the test.
    let setup = Setup {
        hospitals: true,
        emergency_norm_ms: Some(12_000),
        places: true,
        ..Default::default()
    };
    run_with("map.mjs", setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_works_offline_after_a_reload_and_sends_its_steps_in_order_when_back() {
    let setup = Setup {
        places: true,
        ..Default::default()
    };
    run_with("offline.mjs", setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_reads_the_patients_record_by_the_identifier_the_crew_or_the_call_taker_enters() {
    let setup = Setup {
        fhir: true,
        ..Default::default()
    };
    run_with("patient.mjs", setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablet_shows_the_suggested_hospital_a_picked_one_and_the_way_back_to_the_station() {
    let setup = Setup {
        places: true,
        ..Default::default()
    };
    run_with("tablet_routes.mjs", setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_takes_a_typed_russian_address_to_a_crew_and_links_a_second_caller() {
    let setup = Setup {
        moscow: true,
        ..Default::default()
    };
    run_with("address.mjs", setup).await;
}

/// The README's first command: the real `dispatch serve --demo` binary, started from the
/// workspace on the bundled map, its printed link opened in the browser (`demo.mjs`): crews
/// move within 10 s of the link being printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_command_shows_crews_moving_in_the_browser_within_10_s() {
    use tokio::io::AsyncBufReadExt;
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}: CI must run the browser tests"
        );
        eprintln!("{why}: the browser test demo.mjs is skipped");
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut service = tokio::process::Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(&workspace)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dispatch serve --demo starts");
    let mut lines = tokio::io::BufReader::new(service.stdout.take().unwrap()).lines();
    let link = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("open ") {
                return url.to_string();
            }
        }
        panic!("the demo ended without printing its link");
    })
    .await
    .expect("the demo printed its link within 60 s");
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Keep reading what the service prints, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = link.split("/?").next().unwrap().to_string();
    let token = link.rsplit("token=").next().unwrap().to_string();
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("node")
            .arg(scripts().join("demo.mjs"))
            .args([base.as_str(), &token, &token, &token])
            .env("DEMO_URL", &link)
            .env("DEMO_T0", t0.to_string())
            .current_dir(scripts())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("demo.mjs finished within 3 minutes")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "demo.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A clean stop (SIGTERM), so the demo removes its temporary database.
    let pid = service.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(20), service.wait()).await;
    assert!(stopped.is_ok(), "the demo did not stop on SIGTERM");
}

/// The pages and their assets are served without a token, with their types and validators;
/// the map APIs need a token.
#[tokio::test]
async fn pages_assets_and_map_apis_are_served() {
    let s = start(shared_router("heidelberg")).await;
    let anonymous = reqwest::Client::new();
    for (path, kind) in [
        ("/", "text/html"),
        ("/tablet", "text/html"),
        ("/assets/app/console.js", "text/javascript"),
        ("/assets/app/i18n.js", "text/javascript"),
        ("/assets/app/i18n/ru.js", "text/javascript"),
        ("/assets/app/address.js", "text/javascript"),
        ("/tablet-sw.js", "text/javascript"),
        ("/assets/vendor/leaflet/leaflet.css", "text/css"),
        ("/assets/vendor/leaflet/images/marker-icon.png", "image/png"),
    ] {
        let r = anonymous
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let headers = r.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}: {headers:?}"
        );
        assert!(headers.contains_key("cache-control"), "{path}");
        let etag = headers["etag"].to_str().unwrap().to_string();
        let again = anonymous
            .get(format!("{}{path}", s.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path} revalidates");
    }
    let r = anonymous.get(format!("{}/", s.base)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let r = anonymous
        .get(format!("{}/assets/nope.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let r = anonymous
        .get(format!("{}/api/map/roads", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "the roads need a token");
    let crew = client(CREW_A1);
    let r = crew
        .get(format!(
            "{}/api/map/roads?bbox=8.68,49.40,8.70,49.41&zoom=16",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let fc: Value = r.json().await.unwrap();
    let features = fc["features"].as_array().unwrap();
    assert!(features.len() > 100, "{} roads", features.len());
    for f in features {
        let line = f["geometry"]["coordinates"].as_array().unwrap();
        assert!(line.len() >= 2);
        assert!(f["properties"]["class"].is_string());
    }
    // Zoomed out, minor roads are left out and lines simplified.
    let r = crew
        .get(format!(
            "{}/api/map/roads?bbox=8.68,49.40,8.70,49.41&zoom=11",
            s.base
        ))
        .send()
        .await
        .unwrap();
    let far: Value = r.json().await.unwrap();
    assert!(far["features"].as_array().unwrap().len() < features.len() / 2);
    assert!(far["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(
            |f| f["properties"]["class"] != "service" && f["properties"]["class"] != "residential"
        ));
    let r = crew
        .get(format!("{}/api/map/roads?bbox=8.7,49.4,8.6", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    let map = get(&crew, format!("{}/api/map", s.base)).await;
    let (b, v) = (&map["bounds"], &map["view"]);
    assert!(b[0][0].as_f64() <= v[0][0].as_f64() && v[1][1].as_f64() <= b[1][1].as_f64());
    let me = get(&crew, format!("{}/api/me", s.base)).await;
    assert_eq!(me["role"], "crew");
    assert_eq!(me["crew_id"], "A1");
    let streets = get(
        &client(DISPATCHER),
        format!("{}/api/map/streets?q=hauptstr", s.base),
    )
    .await;
    let first = &streets[0];
    assert_eq!(first["name"], "Hauptstraße", "{streets}");
    assert!(first["lat"].as_f64().unwrap() > 49.3 && first["lon"].as_f64().unwrap() > 8.5);
}
