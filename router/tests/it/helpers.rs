//! Shared helpers: prepared routers for the shipped maps (built once per test binary).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use osm_data::RoadGraph;
use router::{Router, RouterOptions};

/// Every map shipped in `data/`.
pub const MAPS: [&str; 6] = [
    "heidelberg",
    "monaco",
    "liechtenstein",
    "helsinki",
    "baltimore",
    "moscow-fragment",
];

/// Path of a shipped map.
pub fn map_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(format!("{name}.osm.pbf"))
}

/// The imported graph of a shipped map.
pub fn graph(name: &str) -> RoadGraph {
    osm_data::import(&map_path(name), &osm_data::Profile::default(), &mut |_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .graph
}

/// A fresh router for a map (closures in tests must not leak into other tests).
pub fn router(name: &str) -> Router {
    static ORDERS: OnceLock<Mutex<HashMap<String, Arc<Vec<u32>>>>> = OnceLock::new();
    let g = graph(name);
    let orders = ORDERS.get_or_init(Default::default);
    let cached = orders.lock().unwrap().get(name).cloned();
    let order = match cached {
        Some(o) => o,
        None => {
            let o = Arc::new(router::engine::compute_order(&g));
            orders.lock().unwrap().insert(name.to_string(), o.clone());
            o
        }
    };
    Router::with_order(g, &order, RouterOptions::default()).unwrap()
}

/// A seed from `TEST_SEED` or a fixed default, printed so any failure can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125);
    println!("{test}: seed {seed} (set TEST_SEED to replay)");
    seed
}

/// Answers `GET path` from the OSRM routes `app` in-process: the status and the JSON body.
pub fn get_json(
    rt: &tokio::runtime::Runtime,
    app: &axum::Router,
    path: &str,
) -> (u16, serde_json::Value) {
    use tower::ServiceExt;
    rt.block_on(async {
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&bytes)));
        (status, body)
    })
}
