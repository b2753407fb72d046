//! `osrm_url`: arbitrary path and query strings against the router's OSRM HTTP API
//! (`router::http::osrm_routes`) over the small shipped Moscow fragment. No request may be
//! answered with a 5xx (nor panic).

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request};
use tower::ServiceExt;

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
}

/// The map the OSRM API serves: the smallest shipped extract (imported: the .graph files in
/// data/ are build products, not in the repository).
pub fn map_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/moscow-fragment.osm.pbf")
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let graph = osm_data::import(&map_path(), &osm_data::Profile::default(), &mut |_| {})
            .expect("the shipped map imports")
            .graph;
        let router = router::Router::new(graph, router::RouterOptions::default())
            .expect("the shipped graph prepares");
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            app: router::http::osrm_routes(Arc::new(router)),
        }
    })
}

/// Checks one input: the bytes (UTF-8, `/` added in front when missing) as the URI of a
/// `GET`; inputs that are not a valid URI are skipped. Returns the status (`None`: skipped).
pub fn check(data: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(data).ok()?;
    let uri = if text.starts_with('/') {
        text.to_owned()
    } else {
        format!("/{text}")
    };
    let Ok(request) = Request::builder()
        .method(Method::GET)
        .uri(uri.as_str())
        .body(Body::empty())
    else {
        return None;
    };
    let h = harness();
    let (status, body) = h.runtime.block_on(async {
        let response = h
            .app
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, body)
    });
    assert!(
        !status.is_server_error(),
        "GET {uri:?} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Some(status.as_u16())
}
