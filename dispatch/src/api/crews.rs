//! Crews: adding, listing, changing (type, station, call sign, shift end), removing, and
//! what a crew reports (position, status), and the hospital it reaches soonest.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::{Crew, CrewEdit, CrewStatus, CrewType, NewCrew};
use serde::Deserialize;

use super::run_op;
use crate::auth::{Auth, Caller};
use crate::edge::{
    crew_path, double_option, CrewId, JsonBody, Lat, Lon, QueryParams, Text, UnixMs,
};
use crate::error::{ApiError, ErrorBody};
use crate::hospitals::NearestHospital;
use crate::state::AppState;

/// A station or call sign: at most 100 characters.
type Name = Text<100>;

/// A new crew; `crew_type` defaults to `general`. `shift_end` is Unix milliseconds.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CrewRequest {
    id: CrewId,
    lat: Lat,
    lon: Lon,
    #[serde(default)]
    station: Option<Name>,
    #[serde(default)]
    call_sign: Option<Name>,
    #[serde(default)]
    shift_end: Option<UnixMs>,
    #[serde(default = "general")]
    #[schema(default = "general")]
    crew_type: CrewType,
}

fn general() -> CrewType {
    CrewType::General
}

/// `PATCH /api/crews/{id}`: what changes; `null` clears `station`, `call_sign` or
/// `shift_end`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CrewPatch {
    #[serde(default)]
    crew_type: Option<CrewType>,
    #[serde(default, deserialize_with = "double_option")]
    station: Option<Option<Name>>,
    #[serde(default, deserialize_with = "double_option")]
    call_sign: Option<Option<Name>>,
    #[serde(default, deserialize_with = "double_option")]
    shift_end: Option<Option<UnixMs>>,
}

impl CrewPatch {
    fn into_edit(self) -> CrewEdit {
        CrewEdit {
            crew_type: self.crew_type,
            station: self.station.map(|s| s.map(Text::into_inner)),
            call_sign: self.call_sign.map(|s| s.map(Text::into_inner)),
            shift_end: self.shift_end.map(|s| s.map(|t| t.0)),
        }
    }
}

/// A crew as the API shows it, or 404.
async fn crew_json(state: &AppState, id: &str) -> Result<Crew, ApiError> {
    state
        .core()
        .await
        .crew(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no crew with id {id:?}")))
}

/// Adds a crew; it starts available where it is.
#[utoipa::path(
    post,
    path = "/api/crews",
    tag = "crews",
    request_body = CrewRequest,
    responses(
        (status = 201, description = "The crew", body = Crew),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 409, description = "A crew with this id exists", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range, or off the map", body = ErrorBody),
    )
)]
pub(super) async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    JsonBody(req): JsonBody<CrewRequest>,
) -> Result<(StatusCode, Json<Crew>), ApiError> {
    role.require_staff()?;
    let id = req.id.0.clone();
    let new = NewCrew {
        id: req.id.0,
        crew_type: req.crew_type,
        station: req.station.map(Text::into_inner),
        call_sign: req.call_sign.map(Text::into_inner),
        shift_end: req.shift_end.map(|t| t.0),
        lat: req.lat.0,
        lon: req.lon.0,
    };
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.add_crew(new, now)?)
    })
    .await?;
    let v = crew_json(&state, &id)
        .await
        .map_err(|_| ApiError::internal("crew vanished"))?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The crews: every crew for dispatchers, its own for a crew token.
#[utoipa::path(
    get,
    path = "/api/crews",
    tag = "crews",
    responses((status = 200, description = "The crews, by id", body = Vec<Crew>))
)]
pub(super) async fn list(State(state): State<AppState>, Auth(role): Auth) -> Json<Vec<Crew>> {
    let core = state.core().await;
    Json(
        core.crews()
            .filter(|c| role.may_act_for(&c.id))
            .cloned()
            .collect(),
    )
}

/// One crew (a crew token: its own).
#[utoipa::path(
    get,
    path = "/api/crews/{id}",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1")),
    responses(
        (status = 200, description = "The crew", body = Crew),
        (status = 403, description = "A crew asking for another crew", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
    )
)]
pub(super) async fn get_one(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Crew>, ApiError> {
    let id = crew_path(id)?;
    role.require_crew(&id)?;
    crew_json(&state, &id).await.map(Json)
}

/// Changes a crew: `crew_type`, `station`, `call_sign`, `shift_end` (Unix ms); `null`
/// clears the last three.
#[utoipa::path(
    patch,
    path = "/api/crews/{id}",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1")),
    request_body = CrewPatch,
    responses(
        (status = 200, description = "The crew", body = Crew),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
        (status = 409, description = "The change conflicts with the crew's call", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range, or nothing to change", body = ErrorBody),
    )
)]
pub(super) async fn edit(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CrewPatch>,
) -> Result<Json<Crew>, ApiError> {
    role.require_staff()?;
    let id = crew_path(id)?;
    let changes = req.into_edit();
    if changes.is_empty() {
        return Err(ApiError::invalid(
            "body",
            "nothing to change: give crew_type, station, call_sign or shift_end",
        ));
    }
    run_op(&state, &actor, None, |core, now| {
        Ok(core.update_crew(&id, changes, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

/// Removes a crew. A crew on a call is refused (409): take it off the call first
/// (override, stand down, or out of service, which hands the call back).
#[utoipa::path(
    delete,
    path = "/api/crews/{id}",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
        (status = 409, description = "The crew is on a call", body = ErrorBody),
    )
)]
pub(super) async fn remove(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    role.require_staff()?;
    let id = crew_path(id)?;
    let own = Some((id.clone(), CrewStatus::OutOfService));
    run_op(&state, &actor, own, |core, now| {
        let crew = core
            .crew(&id)
            .ok_or_else(|| ApiError::not_found(format!("no crew with id {id:?}")))?;
        if let Some(call) = crew.call {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "crew {id:?} is on call {call}: take it off the call first (another crew, or out of service)"
                ),
            ));
        }
        Ok(core.remove_crew(&id, now)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PositionRequest {
    lat: Lat,
    lon: Lon,
}

/// A crew's position report (its tablet's GPS).
#[utoipa::path(
    put,
    path = "/api/crews/{id}/position",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1")),
    request_body = PositionRequest,
    responses(
        (status = 200, description = "The crew", body = Crew),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Another crew's token", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range, or off the map", body = ErrorBody),
    )
)]
pub(super) async fn move_to(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PositionRequest>,
) -> Result<Json<Crew>, ApiError> {
    let id = crew_path(id)?;
    role.require_crew(&id)?;
    run_op(&state, &actor, None, |core, now| {
        Ok(core.move_crew(&id, req.lat.0, req.lon.0, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusRequest {
    status: CrewStatus,
}

/// A crew's status report (en route, on scene, transporting, at hospital, available, out of
/// service); the rules decide what follows (the next call, a handed-back call).
#[utoipa::path(
    post,
    path = "/api/crews/{id}/status",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "The crew", body = Crew),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Another crew's token", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
        (status = 409, description = "Not a step of the crew's work cycle from where it is", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "No such status", body = ErrorBody),
    )
)]
pub(super) async fn status(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<StatusRequest>,
) -> Result<Json<Crew>, ApiError> {
    let id = crew_path(id)?;
    role.require_crew(&id)?;
    let own = Some((id.clone(), req.status));
    run_op(&state, &actor, own, |core, now| {
        Ok(core.set_crew_status(&id, req.status, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

/// `?capability=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CapabilityQuery {
    /// What the patient needs (default `general`).
    capability: Option<dispatch_core::Capability>,
}

/// The capable hospital the crew reaches soonest, and its ETA.
#[utoipa::path(
    get,
    path = "/api/crews/{id}/hospital",
    tag = "crews",
    params(("id" = CrewId, Path, description = "The crew's id", example = "A1"), CapabilityQuery),
    responses(
        (status = 200, description = "The hospital, or `null` when none is reachable", body = NearestHospital),
        (status = 400, description = "A bad query parameter", body = ErrorBody),
        (status = 403, description = "Another crew's token", body = ErrorBody),
        (status = 404, description = "No such crew", body = ErrorBody),
    )
)]
pub(super) async fn hospital(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<CapabilityQuery>,
) -> Result<Json<NearestHospital>, ApiError> {
    let id = crew_path(id)?;
    role.require_crew(&id)?;
    let capability = q.capability.unwrap_or(dispatch_core::Capability::General);
    crate::hospitals::nearest_for(&state, &id, capability)
        .await
        .map(Json)
}
