//! HTTP API of the router (feature `http`): the OSRM v5 `route`, `table` and `nearest`
//! services, so existing OSRM clients and map widgets work unchanged, and the live
//! closures API (`/api/closures`).
//!
//! Mount [`routes`] into the service's axum `Router`. Durations are seconds, distances
//! metres, coordinates `lon,lat` as in OSRM. As in OSRM, a coordinate is snapped to the
//! nearest road however far it is, unless the request limits it with `radiuses` (or the
//! routes with [`OsrmOptions::default_radius_m`]).

mod closures_api;
mod osrm;
mod steps;

use std::sync::Arc;

use axum::routing::{delete, get};

use crate::Router;

pub use osrm::{OsrmOptions, DEFAULT_MAX_TABLE_SIZE};

pub use closures_api::{closure_json, closure_request_json, parse_closure_request};

/// The OSRM routes (`route`, `table`, `nearest`) with the default [`OsrmOptions`] (those of
/// `osrm-routed`: tables of up to 100 × 100, 1 × 10,000 or any other shape of at most 10,000
/// cells, routes of up to 500 coordinates, up to 100 `nearest` results, unlimited snapping),
/// for a service that handles closures itself.
pub fn osrm_routes(router: Arc<Router>) -> axum::Router {
    osrm_routes_with(router, OsrmOptions::default())
}

/// The OSRM routes (`route`, `table`, `nearest`) with their limits.
pub fn osrm_routes_with(router: Arc<Router>, options: OsrmOptions) -> axum::Router {
    axum::Router::new()
        .route("/route/v1/{profile}/{coordinates}", get(osrm::route))
        .route("/table/v1/{profile}/{coordinates}", get(osrm::table))
        .route("/nearest/v1/{profile}/{coordinates}", get(osrm::nearest))
        .with_state(osrm::Service { router, options })
}

/// The axum routes of the router's HTTP API, over a shared [`Router`]: the OSRM routes and
/// the closures API.
pub fn routes(router: Arc<Router>) -> axum::Router {
    let closures = axum::Router::new()
        .route(
            "/api/closures",
            get(closures_api::list).post(closures_api::create),
        )
        .route(
            "/api/closures/{id}",
            delete(closures_api::remove).get(closures_api::get_one),
        )
        .with_state(router.clone());
    osrm_routes(router).merge(closures)
}

/// Current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
