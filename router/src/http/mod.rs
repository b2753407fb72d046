//! HTTP API of the router (feature `http`): the OSRM v5 `route`, `table` and `nearest`
//! services, so existing OSRM clients and map widgets work unchanged, and the JSON of the
//! closures API for a service that serves it.
//!
//! Mount [`osrm_routes`] (or [`osrm_routes_with`] and its [`OsrmOptions`]) into the
//! service's axum `Router`, behind the service's own authentication. Durations are seconds,
//! distances metres, coordinates `lon,lat` as in OSRM. As in OSRM, a coordinate is snapped
//! to the nearest road however far it is, unless the request limits it with `radiuses`
//! (or the routes with [`OsrmOptions::default_radius_m`]).
//!
//! The answers are the typed bodies of [`osrm_json`]; [`osrm_openapi`] describes the three
//! services in OpenAPI 3.1, their parameters, answers and schemas generated from the code
//! (`utoipa`), for the service to merge into its own description.
//!
//! The closures API itself (`/api/closures`) is the service's: it changes the roads every
//! crew is routed on, so it goes with the service's roles and its log. This module gives it
//! [`parse_closure_request`], [`closure_json`] and [`closure_request_json`].

mod closures_api;
mod osrm;
pub mod osrm_json;
mod steps;

use std::sync::Arc;

use axum::routing::get;

use crate::Router;

pub use closures_api::{
    closure_json, closure_request_json, parse_closure_request, read_closure_request, AreaView,
    ClosureRequest, ClosureView, PointView, PolygonView,
};
pub use osrm::{OsrmOptions, DEFAULT_MAX_TABLE_SIZE};

/// The OSRM routes (`route`, `table`, `nearest`) with the default [`OsrmOptions`] (those of
/// `osrm-routed`: tables of up to 100 × 100, 1 × 10,000 or any other shape of at most 10,000
/// cells, routes of up to 500 coordinates, up to 100 `nearest` results, unlimited snapping).
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

/// The OpenAPI description of the OSRM routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "OSRM v5 API",
        description = "The OSRM v5 `route`, `table` and `nearest` services of the router."
    ),
    paths(osrm::route, osrm::table, osrm::nearest),
    tags((name = "osrm", description = "OSRM v5 compatible routing services"))
)]
struct OsrmApi;

/// The OpenAPI 3.1 description of the routes of [`osrm_routes`] (paths relative to where
/// they are mounted; tag `osrm`): each service's path and query parameters, its answers
/// (200 and 400), and the schemas of [`osrm_json`] under `components.schemas`. It says
/// nothing of the authentication and limits of the service that mounts them.
pub fn osrm_openapi() -> utoipa::openapi::OpenApi {
    <OsrmApi as utoipa::OpenApi>::openapi()
}

/// Current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
