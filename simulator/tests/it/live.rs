//! Live mode against the real dispatch service on an ephemeral port (SQLite store in a
//! temporary directory): calls over HTTP, tablets over websockets, routed drives.

use std::sync::Arc;

use dispatch_core::{Capability, NewHospital, Priority};
use serde_json::Value;
use simulator::live::{run_live, LiveOptions};

use crate::helpers::{call, place, router, world};

const STATION: (f64, f64) = (43.7352, 7.4213);
const STATION_2: (f64, f64) = (43.7480, 7.4370);
const HOSPITAL: (f64, f64) = (43.7283, 7.4148);
pub(crate) const TOKEN: &str = "live-test-dispatcher";

/// Starts the service on `router` with one hospital; returns its address and the runtime
/// that serves it (dropping the runtime stops the service).
pub(crate) fn start_service(
    router: Arc<router::Router>,
    db: &std::path::Path,
) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = dispatch::state::ServiceConfig {
            tokens: dispatch::auth::Tokens::from_pairs([(TOKEN, "dispatcher")]).unwrap(),
            ..Default::default()
        };
        let store = dispatch::store::Store::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let state = dispatch::state::AppState::open(router, config, store)
            .await
            .unwrap();
        let hospital = NewHospital {
            id: "H1".into(),
            name: "Centre Hospitalier Princesse Grace".into(),
            lat: HOSPITAL.0,
            lon: HOSPITAL.1,
            capabilities: vec![Capability::General],
        };
        dispatch::hospitals::register(&state, vec![hospital])
            .await
            .unwrap();
        tokio::spawn(dispatch::server::serve(
            state,
            listener,
            std::future::pending(),
        ));
        format!("http://{addr}")
    });
    (base, rt)
}

#[test]
fn live_mode_drives_the_service_and_follows_its_routes() {
    let r = router("monaco");
    let dir = tempfile::tempdir().unwrap();
    let (base, rt) = start_service(r.clone(), &dir.path().join("dispatch.db"));
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", STATION.0, STATION.1),
            place(&r, "S2", STATION_2.0, STATION_2.1),
        ],
        vec![place(&r, "H1", HOSPITAL.0, HOSPITAL.1)],
    );
    // Two calls taken to the hospital, one treated on scene; a few simulated minutes each.
    let at =
        |id, t_s, lat, lon, p, transport| call(id, t_s, lat, lon, p, 20.0, 60.0, transport, 60.0);
    let calls = vec![
        at(1, 0.0, 43.7310, 7.4205, Priority::Emergency, true),
        at(2, 30.0, 43.7400, 7.4270, Priority::Urgent, false),
        at(3, 60.0, 43.7440, 7.4300, Priority::Emergency, true),
    ];
    let opts = LiveOptions {
        server: base.clone(),
        token: TOKEN.into(),
        speed: 200.0,
        report_s: 5.0,
        crew_prefix: "LT".into(),
        drain_s: 3600.0,
        addresses: None,
    };
    let report = run_live(&w, &calls, &opts).expect("live run");
    assert_eq!(report.crews, 2);
    assert_eq!(report.calls_posted, 3);
    assert_eq!(report.calls_refused, 0);
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(report.assigned_on_tablet, 3, "{report:?}");
    assert_eq!(report.response_s.n, 3, "every call reached: {report:?}");
    // The two transports (at least) drove the service's route; none fell back to a line.
    assert!(report.routed_drives >= 2, "{report:?}");
    assert_eq!(report.straight_drives, 0, "{report:?}");

    // The service saw every call through to the end, with the crews' reports.
    let calls_seen: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/api/calls"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let list = calls_seen
        .as_array()
        .or_else(|| calls_seen.get("calls").and_then(Value::as_array))
        .expect("a list of calls");
    assert_eq!(list.len(), 3, "{calls_seen}");
    for c in list {
        assert_eq!(c["status"], "completed", "{c}");
    }
    drop(rt);
}
