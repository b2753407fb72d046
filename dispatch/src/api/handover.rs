//! The hospital handover of a call: `POST /api/calls/{id}/handover` (the call's crew until
//! the call closes, or staff), `GET /api/calls/{id}/handover[?version=N]` and `GET
//! /api/calls/{id}/handover/fhir` (an HL7 FHIR R4 Bundle of the latest version; staff only:
//! medical data).
//!
//! Every version is kept: each post is stored as a new `handover_version` entity
//! (`{call}:{n}`, never overwritten), and the `handover` entity is the latest with the list
//! of versions (number, time, who).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::{CallId, CallStatus};
use serde_json::{json, Value};

use crate::auth::{Auth, Caller, Role};
use crate::edge::{parse_call_id, JsonBody, QueryParams};
use crate::error::ApiError;
use crate::state::{AppState, Applied, Effect};

/// The crews of a call, when it was received, and whether it is over (completed or
/// cancelled).
async fn crew_of_call(state: &AppState, id: CallId) -> Result<(Vec<String>, i64, bool), ApiError> {
    let core = state.core().await;
    let call = core
        .call(id)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))?;
    Ok((
        call.assignments.iter().map(|a| a.crew_id.clone()).collect(),
        call.times.received.unwrap_or_default(),
        matches!(call.status, CallStatus::Completed | CallStatus::Cancelled),
    ))
}

pub(super) async fn post_handover(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(handover): JsonBody<crate::handover::Handover>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_call_id(&id)?;
    let (crews, _, closed) = crew_of_call(&state, id).await?;
    if let Role::Crew(own) = &role {
        if !crews.contains(own) {
            return Err(ApiError::forbidden(
                "only the crew of this call or a dispatcher may record its handover",
            ));
        }
        if closed {
            return Err(ApiError::forbidden(
                "the call is closed: only a dispatcher may add to its handover",
            ));
        }
    }
    handover.validate()?;
    // One handover post at a time, so version numbers are read and written without a race.
    let _one = state.0.handovers.lock().await;
    let latest = state
        .0
        .store
        .entity("handover", &id.0.to_string())
        .await
        .map_err(ApiError::unavailable)?;
    let mut versions: Vec<Value> = latest
        .as_ref()
        .and_then(|v| v["versions"].as_array().cloned())
        .unwrap_or_default();
    let version = versions.len() as u64 + 1;
    let applied = state
        .apply(&actor, None, |core, now| {
            let events = core.handover_recorded(id, now)?;
            versions.push(json!({"version": version, "recorded_at": now, "by": actor}));
            let record = json!({
                "call_id": id,
                "version": version,
                "recorded_at": now,
                "by": actor,
                "handover": handover,
            });
            let mut latest = record.clone();
            latest["versions"] = json!(versions);
            Ok(Effect {
                upserts: vec![
                    (
                        "handover_version".into(),
                        format!("{}:{version}", id.0),
                        record.clone(),
                    ),
                    ("handover".into(), id.0.to_string(), latest),
                ],
                ..Effect::new(events, record)
            })
        })
        .await?;
    match applied {
        Applied::Done(record) => Ok((StatusCode::CREATED, Json(record))),
        Applied::Replayed(v) => Ok((StatusCode::CREATED, Json(v))),
    }
}

/// The latest handover recorded for a call, or version `version` (from the store: medical
/// data is not kept in memory).
async fn stored_handover(
    state: &AppState,
    id: CallId,
    version: Option<u64>,
) -> Result<Value, ApiError> {
    let (kind, key) = match version {
        Some(n) => ("handover_version", format!("{}:{n}", id.0)),
        None => ("handover", id.0.to_string()),
    };
    state
        .0
        .store
        .entity(kind, &key)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| match version {
            Some(n) => ApiError::not_found(format!("no version {n} of the handover of call {id}")),
            None => ApiError::not_found(format!("no handover recorded for call {id}")),
        })
}

/// `?version=N` (1 for the first).
#[derive(serde::Deserialize)]
pub(super) struct VersionQuery {
    version: Option<u64>,
}

pub(super) async fn get_handover(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    stored_handover(&state, id, q.version).await.map(Json)
}

pub(super) async fn get_fhir(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], Json<Value>), ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let (_, received, _) = crew_of_call(&state, id).await?;
    let record = stored_handover(&state, id, None).await?;
    let at = record["recorded_at"].as_i64().unwrap_or_default();
    let h = serde_json::from_value(record["handover"].clone()).map_err(ApiError::internal)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        Json(crate::handover::fhir_bundle(id.0, &h, received, at)),
    ))
}
