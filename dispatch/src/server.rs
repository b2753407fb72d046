//! The HTTP service: the dispatch API and websockets, closures, the router's OSRM-compatible
//! API (behind the same tokens), a health check, and the background task that applies
//! closure time windows as they open and close.

use std::future::Future;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::edge::BODY_LIMIT;
use crate::error::ApiError;
use crate::state::AppState;

/// Routing needs a valid token.
async fn guard_routing(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(e) =
        <Auth as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
            .await
    {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The service's health.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The map's name.
    pub map: String,
    /// Its junctions and shape points.
    pub nodes: usize,
    /// Its arcs (one-way road pieces).
    pub arcs: usize,
    /// The map data's attribution.
    pub attribution: String,
    /// `leader` or `standby` (see [`crate::cluster`]; a single instance is its own leader).
    pub role: crate::cluster::Role,
    /// The leadership epoch (0 for a single instance).
    pub epoch: i64,
    /// Events of the log a standby has yet to apply (0 on the leader).
    pub lag: i64,
    /// The log's last sequence number this instance has.
    pub last_seq: u64,
}

/// Whether the service is up, and on which map (no token needed).
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    security(()),
    responses((status = 200, description = "Up", body = Health))
)]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let g = state.0.router.graph();
    let standing = state.standing();
    Json(Health {
        status: "ok".into(),
        map: g.meta.source_name.clone(),
        nodes: g.node_count(),
        arcs: g.arc_count(),
        attribution: crate::ATTRIBUTION.into(),
        role: standing.role,
        epoch: standing.epoch,
        lag: standing.lag,
        last_seq: state.0.hub.last_seq(),
    })
}

/// This description of the HTTP API, OpenAPI 3.1 (no token needed).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "service",
    security(()),
    responses((status = 200, description = "The OpenAPI description", content_type = "application/json", body = Object))
)]
async fn openapi_json(Extension(doc): Extension<Described>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
        .into_response()
}

/// The OpenAPI description, written once.
#[derive(Clone)]
struct Described(Arc<str>);

/// The axum application.
pub fn app(state: AppState) -> axum::Router {
    let routing = router::http::osrm_routes_with(state.0.router.clone(), state.0.osrm)
        .layer(middleware::from_fn_with_state(state.clone(), guard_routing));
    let (api, doc) = OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .merge(crate::api::routes())
        .merge(crate::audit::routes())
        .merge(crate::closures::routes())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .routes(routes!(crate::metrics::metrics))
        .split_for_parts();
    let described = Described(crate::openapi::json(&crate::openapi::complete(doc)).into());
    api.layer(Extension(described))
        .merge(crate::ws::routes())
        .merge(crate::web::routes())
        .with_state(state.clone())
        .merge(routing)
        .layer(
            tower::ServiceBuilder::new()
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(span_without_query)
                        .on_failure(()),
                )
                .layer(middleware::from_fn(crate::error::log_answered_errors))
                .layer(CatchPanicLayer::custom(panicked))
                .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
                .layer(middleware::from_fn(timeout))
                .layer(middleware::from_fn_with_state(
                    state,
                    crate::cluster::route_changes,
                )),
        )
}

/// How long a request may take before it is answered 503 (websockets: only until the
/// upgrade).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers 503 when the handler takes longer than [`REQUEST_TIMEOUT`].
async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("a request took longer than {REQUEST_TIMEOUT:?}: answered 503");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long: try again",
            )
            .into_response()
        }
    }
}

/// A handler that panicked answers 500 (its cause is logged, not sent); the service goes on.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = crate::state::panic_text(&*cause);
    ApiError::internal(format!("a request handler panicked: {what}")).into_response()
}

/// The request's span: method and path, never the query (it may carry `?token=`).
fn span_without_query(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// Serves the service on `listener` until `shutdown` completes, then drains open requests.
/// Closure time windows are re-evaluated every second meanwhile, a snapshot is stored when
/// due, closed calls past their retention leave memory, position reports past the
/// track's retention are compacted, and handovers are pushed to the FHIR server, if any.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), crate::Error> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "its socket".to_string(), |a| a.to_string());
    let ticker = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            let mut led = false;
            for tick in 0u64.. {
                every.tick().await;
                // Every 10 s, and at once on taking the lead (a standby keeps them longer).
                let leads = state.is_leader();
                if tick % 10 == 0 || (leads && !led) {
                    state.drop_closed().await;
                }
                let took_lead = leads && !led;
                led = leads;
                if state.is_leader() {
                    // A failure is logged where it happens; the next tick tries again.
                    let _ = crate::closures::tick(&state).await;
                    let stored = match state.snapshot(false).await {
                        Ok(stored) => stored.is_some(),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot store a snapshot; the next tick tries again");
                            false
                        }
                    };
                    // After a snapshot (the compaction may go up to it), every minute (the
                    // retention moves on), and on taking the lead.
                    if stored || took_lead || tick % 60 == 30 {
                        if let Err(e) = state.compact_track(Duration::from_millis(250)).await {
                            tracing::warn!(error = %e, "cannot compact the crews' tracks; it is tried again later");
                        }
                    }
                } else {
                    // A standby's routes follow the closures' time windows too; what the
                    // leader logs of them changes nothing when followed.
                    state.0.router.refresh(crate::state::now_ms());
                }
            }
        })
    };
    let cluster = tokio::spawn(crate::cluster::run(state.clone()));
    let fhir = state
        .0
        .fhir_server
        .clone()
        .map(|server| tokio::spawn(crate::fhir::push::run(state.clone(), server)));
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    cluster.abort();
    if let Some(f) = fhir {
        // What it had not sent is still in the outbox, for the next start.
        f.abort();
    }
    // The next start replays nothing (still the leader: the lease is released below).
    if let Err(e) = state.snapshot(true).await {
        tracing::warn!(error = %e, "cannot store a snapshot at shutdown");
    }
    if let Some(c) = &state.0.cluster {
        if c.role() == crate::cluster::Role::Leader {
            // A standby takes over at once rather than when the lease runs out.
            state.0.store.fence(None);
            if let Err(e) = state.0.store.release(&c.id, c.epoch()).await {
                tracing::warn!(error = %e, "cannot release the leadership");
            }
        }
    }
    result.map_err(|source| crate::Error::Serve { addr, source })
}
