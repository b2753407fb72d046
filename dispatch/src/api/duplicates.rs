//! Duplicate calls (a second caller about a patient already on an open call), for
//! dispatchers:
//!
//! * `GET /api/calls/duplicates?lat=&lon=`: the open calls a new call at that place may
//!   repeat (within the `[duplicates]` radius and window, 150 m and 30 min by default),
//!   nearest first: the console shows them beside the new call before it is sent;
//! * `POST /api/calls/{id}/link`: the new caller's report joins open call `id` instead of
//!   becoming a call: no crew is sent for it, and it shares that call's timeline
//!   (`call_linked`). A second crew is asked for as one more need of the call
//!   (`PATCH /api/calls/{id}` with `needs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::{LinkedReport, PossibleDuplicate};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::calls::{call_value, CallView};
use super::geocode::PointQuery;
use crate::auth::{Auth, Caller};
use crate::edge::{parse_call_id, IdempotencyKey, JsonBody, Lat, Lon, QueryParams, Text};
use crate::error::{ApiError, ErrorBody};
use crate::state::{AppState, Applied, Effect};

/// The duplicate-call routes, each with its OpenAPI description.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(duplicates))
        .routes(routes!(link))
}

/// An open call a new call may repeat.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DuplicateView {
    /// The open call, as dispatchers see it.
    pub call: CallView,
    /// How far its place is from the new call's, metres.
    pub distance_m: f64,
    /// How long ago it was received, seconds.
    pub age_s: f64,
}

/// The open calls a new call at this place may repeat: received within the duplicates
/// window and placed within its radius (settings `[duplicates] radius_m`, `window_s`),
/// nearest first.
#[utoipa::path(
    get,
    path = "/api/calls/duplicates",
    tag = "calls",
    params(PointQuery),
    responses(
        (status = 200, description = "The possible duplicates, nearest first", body = Vec<DuplicateView>),
        (status = 400, description = "lat or lon missing or not a number", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 422, description = "lat or lon out of range", body = ErrorBody),
    )
)]
async fn duplicates(
    State(state): State<AppState>,
    Auth(role): Auth,
    QueryParams(q): QueryParams<PointQuery>,
) -> Result<Json<Vec<DuplicateView>>, ApiError> {
    role.require_staff()?;
    let (lat, lon) = q.point()?;
    let core = state.core().await;
    let found = core
        .possible_duplicates(lat, lon, crate::state::now_ms())
        .into_iter()
        .filter_map(
            |PossibleDuplicate {
                 call_id,
                 distance_m,
                 age_ms,
             }| {
                Some(DuplicateView {
                    call: call_value(&core, call_id)?,
                    distance_m,
                    age_s: age_ms as f64 / 1000.0,
                })
            },
        )
        .collect();
    Ok(Json(found))
}

/// Another caller's report about an open call's patient.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkRequest {
    lat: Lat,
    lon: Lon,
    #[serde(default)]
    complaint: Text<2_000>,
    #[serde(default)]
    address: Text<2_000>,
    #[serde(default)]
    phone: Option<Text<40>>,
}

/// Links another caller's report to open call `id`: no crew is sent for it, and it joins
/// the call's timeline. A retry with the same `Idempotency-Key` links it once.
#[utoipa::path(
    post,
    path = "/api/calls/{id}/link",
    tag = "calls",
    params(("id" = u64, Path, description = "The open call", example = 1), IdempotencyKey),
    request_body = LinkRequest,
    responses(
        (status = 200, description = "The call with the report linked", body = CallView),
        (status = 400, description = "Not JSON, or a bad Idempotency-Key", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 409, description = "The call is closed", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody),
    )
)]
async fn link(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(req): JsonBody<LinkRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let report = LinkedReport {
        received: 0,
        lat: req.lat.0,
        lon: req.lon.0,
        complaint: req.complaint.0.trim().to_string(),
        address: req.address.0.trim().to_string(),
        phone: req
            .phone
            .map(Text::into_inner)
            .filter(|p| !p.trim().is_empty()),
    };
    let applied = state
        .apply(&actor, key, move |core, now| {
            let events = core.link_call(id, report, now)?;
            let v = call_value(core, id).ok_or_else(|| ApiError::internal("call vanished"))?;
            let stored = serde_json::to_value(&v).map_err(ApiError::internal)?;
            Ok(Effect {
                response: Some(stored.clone()),
                ..Effect::new(events, stored)
            })
        })
        .await?;
    let (Applied::Done(v) | Applied::Replayed(v)) = applied;
    Ok((StatusCode::OK, Json(v)))
}
