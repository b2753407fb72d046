//! Live road closures and slow-downs through the dispatch service: `POST /api/closures`,
//! `GET /api/closures`, `GET|DELETE /api/closures/{id}` (the request and answer shapes are the
//! router's, see `router::http`), and the time-window ticker.
//!
//! A closure is an operation like any other: it is written to the event log
//! (`closure_added`, `closure_removed`; restored on start), shown to consoles, and every crew
//! driving to a call whose ETA changes gets its new route on its tablet at once (a `reroute`
//! message). A crew the closure cuts off from its call hands the call back, which is decided
//! again at once (`Dispatcher::check_routes`: both tablets and the consoles see it). When a
//! closure's time window opens or closes, consoles get `closures_changed`, the same check
//! runs, and every driving crew gets a `reroute`. The ticker also sends crews whose shift
//! has ended off duty.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use router::http::{ClosureRequest, ClosureView};
use router::RouterError;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Actor, Auth, Caller};
use crate::edge::JsonBody;
use crate::error::{ApiError, ErrorBody};
use crate::journal::{self, Entry};
use crate::state::{AppState, Effect};

/// The closure routes, each with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, remove))
}

/// An entry the caller asked for (a closure added or removed).
fn entry(v: Value) -> Entry {
    Entry {
        stored: v.clone(),
        published: v,
        crew: None,
        by_caller: true,
    }
}

/// A refused closure request: 422 naming the field when the message starts with it
/// (`factor: ...`).
fn closure_error(message: &str) -> ApiError {
    let field = message
        .split_once(':')
        .map(|(f, _)| f.trim())
        .filter(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
        })
        .unwrap_or("body");
    ApiError::invalid(field, message)
}

fn router_error(e: RouterError) -> ApiError {
    match e {
        RouterError::InvalidClosure(m) | RouterError::MalformedClosure(m) => closure_error(&m),
        RouterError::UnknownClosure(id) => ApiError::not_found(format!("no closure with id {id}")),
        other => ApiError::internal(other),
    }
}

/// Closes roads, or slows them down, now or in a time window; crews driving to calls get
/// their new routes, and calls cut off are decided again.
#[utoipa::path(
    post,
    path = "/api/closures",
    tag = "closures",
    request_body = ClosureRequest,
    responses(
        (status = 201, description = "The closure", body = ClosureView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A malformed or out-of-bounds closure", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    if !role.is_staff() {
        return Err(ApiError::forbidden(
            "only dispatchers and admins may change closures",
        ));
    }
    let spec = router::http::parse_closure_request(body).map_err(router_error)?;
    let router = state.0.router.clone();
    let applied = state
        .apply(&actor, None, move |core, now| {
            let before = journal::driving_etas(&router, core);
            let closure = router.add_closure(spec, now).map_err(router_error)?;
            if closure.arcs.is_empty() {
                tracing::info!(id = closure.id, "closure covers no road of the map");
            }
            let shown = router::http::closure_json(&closure, now);
            let stored = serde_json::to_value(&shown).map_err(ApiError::internal)?;
            let mut entries = vec![entry(json!({
                "type": "closure_added",
                "closure": stored,
                "request": router::http::closure_request_json(&closure.spec),
                "at": now,
            }))];
            let events = core.check_routes(now)?;
            entries.extend(journal::reroutes(&router, core, &before, "closure", now));
            Ok(Effect {
                entries,
                ..Effect::new(events, shown)
            })
        })
        .await?;
    Ok(match applied {
        crate::state::Applied::Done(v) => (StatusCode::CREATED, Json(v)).into_response(),
        crate::state::Applied::Replayed(v) => (StatusCode::CREATED, Json(v)).into_response(),
    })
}

/// The closures, in force or waiting for their window.
#[utoipa::path(
    get,
    path = "/api/closures",
    tag = "closures",
    responses((status = 200, description = "The closures", body = Vec<ClosureView>))
)]
async fn list(State(state): State<AppState>, Auth(_role): Auth) -> Json<Vec<ClosureView>> {
    let now = crate::state::now_ms();
    Json(
        state
            .0
            .router
            .closures()
            .iter()
            .map(|c| router::http::closure_json(c, now))
            .collect(),
    )
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::not_found(format!("no closure with id {id:?}")))
}

/// One closure.
#[utoipa::path(
    get,
    path = "/api/closures/{id}",
    tag = "closures",
    params(("id" = u64, Path, description = "The closure's id", example = 1)),
    responses(
        (status = 200, description = "The closure", body = ClosureView),
        (status = 404, description = "No such closure", body = ErrorBody),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Auth(_role): Auth,
    Path(id): Path<String>,
) -> Result<Json<ClosureView>, ApiError> {
    let id = parse_id(&id)?;
    state
        .0
        .router
        .closures()
        .iter()
        .find(|c| c.id == id)
        .map(|c| Json(router::http::closure_json(c, crate::state::now_ms())))
        .ok_or_else(|| ApiError::not_found(format!("no closure with id {id}")))
}

/// Lifts a closure; crews driving to calls get their new routes.
#[utoipa::path(
    delete,
    path = "/api/closures/{id}",
    tag = "closures",
    params(("id" = u64, Path, description = "The closure's id", example = 1)),
    responses(
        (status = 204, description = "Lifted"),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such closure", body = ErrorBody),
    )
)]
async fn remove(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !role.is_staff() {
        return Err(ApiError::forbidden(
            "only dispatchers and admins may change closures",
        ));
    }
    let id = parse_id(&id)?;
    let router = state.0.router.clone();
    state
        .apply(&actor, None, move |core, now| {
            let before = journal::driving_etas(&router, core);
            router.remove_closure(id, now).map_err(router_error)?;
            let mut entries = vec![entry(json!({
                "type": "closure_removed",
                "id": id,
                "at": now,
            }))];
            let events = core.check_routes(now)?;
            entries.extend(journal::reroutes(&router, core, &before, "closure", now));
            Ok(Effect {
                entries,
                ..Effect::new(events, ())
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends crews whose shift has ended off duty, and applies the closures' time windows at
/// the current time: when a window opened or closed, consoles get `closures_changed` (the
/// closures in force), crews cut off hand their calls back, and every driving crew gets
/// its route.
pub async fn tick(state: &AppState) -> Result<(), ApiError> {
    let router = state.0.router.clone();
    state
        .apply(&Actor::system(), None, move |core, now| {
            let mut events = core.end_shifts(now)?;
            if !router.refresh(now) {
                return Ok(Effect::new(events, ()));
            }
            events.extend(core.check_routes(now)?);
            let active: Vec<u64> = router
                .closures()
                .iter()
                .filter(|c| c.spec.active_at(now))
                .map(|c| c.id)
                .collect();
            let mut entries = vec![entry(json!({
                "type": "closures_changed",
                "active": active,
                "at": now,
            }))];
            entries.extend(
                journal::driving(core)
                    .into_iter()
                    .filter_map(|(crew, call)| {
                        journal::reroute_entry(&router, core, &crew, call, "closure_window", now)
                    }),
            );
            Ok(Effect {
                entries,
                ..Effect::new(events, ())
            })
        })
        .await
        .map(|_| ())
}
