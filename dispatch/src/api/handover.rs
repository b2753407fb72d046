//! The hospital handover of a call: `POST /api/calls/{id}/handover` (the call's crew or
//! staff), `GET /api/calls/{id}/handover` and `GET /api/calls/{id}/handover/fhir` (an HL7
//! FHIR R4 Bundle; staff only: medical data).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::CallId;
use serde_json::{json, Value};

use crate::auth::{Auth, Caller, Role};
use crate::edge::{parse_call_id, JsonBody};
use crate::error::ApiError;
use crate::state::{AppState, Applied, Effect};

async fn crew_of_call(state: &AppState, id: CallId) -> Result<(Vec<String>, i64), ApiError> {
    let core = state.core().await;
    let call = core
        .call(id)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))?;
    Ok((
        call.assignments.iter().map(|a| a.crew_id.clone()).collect(),
        call.times.received.unwrap_or_default(),
    ))
}

pub(super) async fn post_handover(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(handover): JsonBody<crate::handover::Handover>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_call_id(&id)?;
    let (crews, _) = crew_of_call(&state, id).await?;
    if let Role::Crew(own) = &role {
        if !crews.contains(own) {
            return Err(ApiError::forbidden(
                "only the crew of this call or a dispatcher may record its handover",
            ));
        }
    }
    handover.validate()?;
    let record = json!({"call_id": id, "handover": handover});
    let applied = state
        .apply(&actor, None, |core, now| {
            let events = core.handover_recorded(id, now)?;
            let mut record = record;
            record["recorded_at"] = json!(now);
            Ok(Effect {
                upserts: vec![("handover".into(), id.0.to_string(), record.clone())],
                ..Effect::new(events, record)
            })
        })
        .await?;
    match applied {
        Applied::Done(record) => Ok((StatusCode::CREATED, Json(record))),
        Applied::Replayed(v) => Ok((StatusCode::CREATED, Json(v))),
    }
}

/// The handover recorded for a call and when (from the store: medical data is not kept in
/// memory).
async fn stored_handover(
    state: &AppState,
    id: CallId,
) -> Result<(crate::handover::Handover, i64), ApiError> {
    let record = state
        .0
        .store
        .entity("handover", &id.0.to_string())
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("no handover recorded for call {id}")))?;
    let at = record["recorded_at"].as_i64().unwrap_or_default();
    let h = serde_json::from_value(record["handover"].clone()).map_err(ApiError::internal)?;
    Ok((h, at))
}

pub(super) async fn get_handover(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let (h, at) = stored_handover(&state, id).await?;
    Ok(Json(
        json!({"call_id": id, "recorded_at": at, "handover": h}),
    ))
}

pub(super) async fn get_fhir(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], Json<Value>), ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let (_, received) = crew_of_call(&state, id).await?;
    let (h, at) = stored_handover(&state, id).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        Json(crate::handover::fhir_bundle(id.0, &h, received, at)),
    ))
}
