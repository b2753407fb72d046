//! Shared helpers: the shipped maps and a fresh router for each (from the workspace's
//! `test-support`), and in-process requests to the OSRM routes.

pub use test_support::{graph, router, seed, MAPS};

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
