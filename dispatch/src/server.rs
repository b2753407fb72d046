//! The HTTP service: the router's OSRM-compatible API and closures, a health check, and
//! the background task that applies closure time windows as they open and close.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Json;
use router::Router;
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

/// The axum application over a prepared router.
pub fn app(router: Arc<Router>) -> axum::Router {
    let g = router.graph().clone();
    let health = move || {
        let g = g.clone();
        async move {
            Json(json!({
                "status": "ok",
                "map": g.meta.source_name,
                "nodes": g.node_count(),
                "arcs": g.arc_count(),
                "attribution": "© OpenStreetMap contributors, ODbL 1.0",
            }))
        }
    };
    router::http::routes(router)
        .route("/health", get(health))
        .layer(TraceLayer::new_for_http())
}

/// Serves the application on `listener` until `shutdown` completes, then drains open
/// requests. Closure time windows are re-evaluated every second meanwhile.
pub async fn serve(
    router: Arc<Router>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ticker = {
        let router = router.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let r = router.clone();
                let _ =
                    tokio::task::spawn_blocking(move || r.refresh(router::http::now_ms())).await;
            }
        })
    };
    let result = axum::serve(listener, app(router))
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    result
}
