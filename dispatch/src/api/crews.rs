//! Crews: adding, listing, changing (type, station, call sign, shift end), removing, and
//! what a crew reports (position, status), and the hospital it reaches soonest.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::{CrewEdit, CrewStatus, CrewType, NewCrew};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, check_coordinates, check_text, run_op};
use crate::auth::{Auth, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// Longest station or call sign (characters).
const NAME_MAX: usize = 100;

/// A new crew; `crew_type` defaults to `general`. `shift_end` is Unix milliseconds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CrewRequest {
    id: String,
    lat: f64,
    lon: f64,
    #[serde(default)]
    station: Option<String>,
    #[serde(default)]
    call_sign: Option<String>,
    #[serde(default)]
    shift_end: Option<i64>,
    #[serde(default = "general")]
    crew_type: CrewType,
}

fn general() -> CrewType {
    CrewType::General
}

/// A crew id: 1 to 64 letters (any script), digits, `-`, `_` or `.` (it appears in URLs
/// and in tokens' `crew:<id>`).
fn check_crew_id(id: &str) -> Result<(), ApiError> {
    let n = id.chars().count();
    if (1..=64).contains(&n)
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "id: 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// A crew as the API shows it, or 404.
async fn crew_json(state: &AppState, id: &str) -> Result<Value, ApiError> {
    state
        .core()
        .await
        .crew(id)
        .and_then(|c| serde_json::to_value(c).ok())
        .ok_or_else(|| ApiError::not_found(format!("no crew with id {id:?}")))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    req: Result<Json<CrewRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    role.require_staff()?;
    let req = body(req)?;
    check_coordinates(req.lat, req.lon)?;
    check_crew_id(&req.id)?;
    for (field, text) in [("station", &req.station), ("call_sign", &req.call_sign)] {
        if let Some(t) = text {
            check_text(field, t, NAME_MAX)?;
        }
    }
    let id = req.id.clone();
    let new = NewCrew {
        id: req.id,
        crew_type: req.crew_type,
        station: req.station,
        call_sign: req.call_sign,
        shift_end: req.shift_end,
        lat: req.lat,
        lon: req.lon,
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

pub(super) async fn list(State(state): State<AppState>, Auth(role): Auth) -> Json<Value> {
    let core = state.core().await;
    Json(json!(core
        .crews()
        .filter(|c| role.may_act_for(&c.id))
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect::<Vec<_>>()))
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    crew_json(&state, &id).await.map(Json)
}

/// `PATCH /api/crews/{id}`: `crew_type`, `station`, `call_sign`, `shift_end` (Unix ms);
/// `null` clears the last three.
pub(super) async fn edit(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<CrewEdit>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let changes = body(req)?;
    if changes.is_empty() {
        return Err(ApiError::bad_request(
            "nothing to change: give crew_type, station, call_sign or shift_end",
        ));
    }
    for (field, text) in [
        ("station", &changes.station),
        ("call_sign", &changes.call_sign),
    ] {
        if let Some(Some(t)) = text {
            check_text(field, t, NAME_MAX)?;
        }
    }
    run_op(&state, &actor, None, |core, now| {
        Ok(core.update_crew(&id, changes, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

/// `DELETE /api/crews/{id}`: a crew on a call is refused (409); take it off the call
/// first (override, stand down, or out of service, which hands the call back).
pub(super) async fn remove(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    role.require_staff()?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PositionRequest {
    lat: f64,
    lon: f64,
}

pub(super) async fn move_to(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<PositionRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let req = body(req)?;
    check_coordinates(req.lat, req.lon)?;
    run_op(&state, &actor, None, |core, now| {
        Ok(core.move_crew(&id, req.lat, req.lon, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusRequest {
    status: CrewStatus,
}

pub(super) async fn status(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<StatusRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let req = body(req)?;
    let own = Some((id.clone(), req.status));
    run_op(&state, &actor, own, |core, now| {
        Ok(core.set_crew_status(&id, req.status, now)?)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize)]
pub(super) struct CapabilityQuery {
    capability: Option<dispatch_core::Capability>,
}

pub(super) async fn hospital(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    q: Result<Query<CapabilityQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let capability = q.capability.unwrap_or(dispatch_core::Capability::General);
    crate::hospitals::nearest_for(&state, &id, capability)
        .await
        .map(Json)
}
