//! `json_bodies`: arbitrary bytes as the JSON body of the dispatch API's writes, through the
//! whole service (`dispatch::server::app`) over the Moscow fragment with a SQLite store. The
//! first byte picks the route; the rest is the body. No request may be answered with a 5xx
//! (nor panic), and every 4xx body is the service's JSON error (`error` and `message`).
//!
//! The service is opened once, with one crew (`F1`) and one call (id 1) so that the routes
//! about call 1 get past "not found". State carries over between inputs (as in a running
//! service), so a finding is replayed on a fresh service, where it may need its predecessors.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

/// The dispatcher's token the harness sends.
pub const TOKEN: &str = "fuzz-dispatcher-token-0001";

/// The routes, picked by the first byte of an input (modulo their number).
pub const ROUTES: [(&str, &str); 5] = [
    ("POST", "/api/calls"),
    ("POST", "/api/crews"),
    ("POST", "/api/closures"),
    ("POST", "/api/calls/1/handover"),
    ("PATCH", "/api/calls/1"),
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    // The database's directory lives as long as the process.
    _dir: tempfile::TempDir,
}

fn map_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/moscow-fragment.osm.pbf")
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let graph = osm_data::import(&map_path(), &osm_data::Profile::default(), &mut |_| {})
            .expect("the shipped map imports")
            .graph;
        let (first, last) = (
            graph.node_coord[0],
            graph.node_coord[graph.node_count() - 1],
        );
        let router = router::Router::new(graph, router::RouterOptions::default())
            .expect("the shipped graph prepares");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("d.db").display());
        let app = runtime.block_on(async {
            let store = dispatch::store::Store::open(&url)
                .await
                .expect("the store opens");
            let config = dispatch::state::ServiceConfig {
                tokens: dispatch::auth::Tokens::from_pairs([(TOKEN, "dispatcher")])
                    .expect("valid tokens"),
                ..Default::default()
            };
            let state = dispatch::state::AppState::open(Arc::new(router), config, store)
                .await
                .expect("the service opens");
            dispatch::server::app(state)
        });
        let h = Harness {
            runtime,
            app,
            _dir: dir,
        };
        let crew = json!({"id": "F1", "lat": first.lat(), "lon": first.lon(), "station": "S1"});
        let call = json!({"lat": last.lat(), "lon": last.lon(), "priority": "emergency"});
        for (i, body) in [(1, crew), (0, call)] {
            let (status, body) = h.send(i, body.to_string().as_bytes());
            assert_eq!(
                status,
                StatusCode::CREATED,
                "setup: {}",
                String::from_utf8_lossy(&body)
            );
        }
        h
    })
}

impl Harness {
    fn send(&self, route: usize, body: &[u8]) -> (StatusCode, Vec<u8>) {
        let (method, path) = ROUTES[route % ROUTES.len()];
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec()))
            .expect("a request");
        self.runtime.block_on(async {
            let response = self
                .app
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|e| match e {});
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            (status, body.to_vec())
        })
    }
}

/// Checks one input; returns the status it got (`None`: skipped, the input is empty).
pub fn check(data: &[u8]) -> Option<u16> {
    let (&route, body) = data.split_first()?;
    let (method, path) = ROUTES[usize::from(route) % ROUTES.len()];
    let (status, answer) = harness().send(usize::from(route), body);
    let answer_text = String::from_utf8_lossy(&answer);
    assert!(
        !status.is_server_error(),
        "{method} {path} with {:?} answered {status}: {answer_text}",
        String::from_utf8_lossy(body)
    );
    if status.is_client_error() {
        let v: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| {
            panic!("{method} {path}: {status} with a body that is not JSON ({e}): {answer_text}")
        });
        assert!(
            v["error"].is_string() && v["message"].is_string(),
            "{method} {path}: {status} without error and message: {answer_text}"
        );
    }
    Some(status.as_u16())
}
