//! Calls: intake, listing, re-triage and corrections, the dispatcher's override and
//! cancellation.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use dispatch_core::{
    CallEdit, CallId, CallStatus, CrewType, Dispatcher, Event, NewCall, Position, Priority,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{body, check_coordinates, check_text, parse_call_id, run_op};
use crate::auth::{Auth, Caller, Role};
use crate::error::ApiError;
use crate::journal;
use crate::state::{AppState, Applied, Effect};

/// Longest complaint, address or notes (characters).
const TEXT_MAX: usize = 2_000;
/// Longest cancellation reason (characters).
const REASON_MAX: usize = 500;

/// A new 112 call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallRequest {
    lat: f64,
    lon: f64,
    priority: Priority,
    #[serde(default)]
    needs: Vec<CrewType>,
    #[serde(default)]
    complaint: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    notes: String,
}

/// A call as the API shows it: the core's call, the first crew and its ETA, and when it is
/// late by its priority's norm (`late_at`, Unix ms).
pub(crate) fn call_value(core: &Dispatcher, id: CallId) -> Option<Value> {
    let call = core.call(id)?;
    let mut v = serde_json::to_value(call).ok()?;
    // The first assigned crew and its ETA, for clients that want one answer.
    let first = call.assignments.first();
    v["crew_id"] = json!(first.map(|a| a.crew_id.clone()));
    v["eta_s"] = json!(first.map(|a| f64::from(a.eta_ms) / 1000.0));
    v["late_at"] = json!(call
        .times
        .received
        .map(|r| r + i64::from(core.config().norms.of(call.priority))));
    Some(v)
}

/// A call as the API shows it, or 404.
async fn call_json(state: &AppState, id: CallId) -> Result<Value, ApiError> {
    call_value(&*state.core().await, id)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    headers: HeaderMap,
    req: Result<Json<CallRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    role.require_staff()?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req = body(req)?;
    check_coordinates(req.lat, req.lon)?;
    for (field, text) in [
        ("complaint", &req.complaint),
        ("address", &req.address),
        ("notes", &req.notes),
    ] {
        check_text(field, text, TEXT_MAX)?;
    }
    let new = NewCall {
        needs: req.needs,
        complaint: req.complaint,
        address: req.address,
        phone: req.phone,
        notes: req.notes,
        ..NewCall::at(req.lat, req.lon, req.priority)
    };
    let applied = state
        .apply(&actor, key, |core, now| {
            let events = core.new_call(new, now)?;
            let id = events
                .iter()
                .find_map(|e| match e {
                    Event::CallCreated { call_id, .. } => Some(*call_id),
                    _ => None,
                })
                .ok_or_else(|| ApiError::internal("no call_created event"))?;
            let v = call_value(core, id).ok_or_else(|| ApiError::internal("call vanished"))?;
            Ok(Effect {
                response: Some(v.clone()),
                ..Effect::new(events, v)
            })
        })
        .await?;
    // A retry with the same key gets the first answer (the call as it was then).
    let v = match applied {
        Applied::Done(v) | Applied::Replayed(v) => v,
    };
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize)]
pub(super) struct StatusFilter {
    status: Option<CallStatus>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Auth(role): Auth,
    filter: Result<Query<StatusFilter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let core = state.core().await;
    let calls: Vec<Value> = core
        .calls()
        .filter(|c| filter.status.is_none_or(|s| c.status == s))
        .filter(|c| match &role {
            Role::Crew(own) => c.assignments.iter().any(|a| &a.crew_id == own),
            _ => true,
        })
        .filter_map(|c| call_value(&core, c.id))
        .collect();
    Ok(Json(json!(calls)))
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_call_id(&id)?;
    let v = call_json(&state, id).await?;
    if let Role::Crew(own) = &role {
        let mine = v["assignments"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["crew_id"] == own.as_str()));
        if !mine {
            return Err(ApiError::forbidden("a crew sees only its own calls"));
        }
    }
    Ok(Json(v))
}

/// `PATCH /api/calls/{id}`: what changes (every field optional; `lat` and `lon` together).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallPatch {
    priority: Option<Priority>,
    lat: Option<f64>,
    lon: Option<f64>,
    needs: Option<Vec<CrewType>>,
    complaint: Option<String>,
    address: Option<String>,
    notes: Option<String>,
}

impl CallPatch {
    /// The core's edit, checked.
    fn into_edit(self) -> Result<CallEdit, ApiError> {
        let position = match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                check_coordinates(lat, lon)?;
                Some(Position { lat, lon })
            }
            (None, None) => None,
            _ => return Err(ApiError::bad_request("lat and lon go together")),
        };
        if self.needs.as_ref().is_some_and(Vec::is_empty) {
            return Err(ApiError::bad_request("needs: at least one crew"));
        }
        for (field, text) in [
            ("complaint", &self.complaint),
            ("address", &self.address),
            ("notes", &self.notes),
        ] {
            if let Some(t) = text {
                check_text(field, t, TEXT_MAX)?;
            }
        }
        let edit = CallEdit {
            priority: self.priority,
            position,
            needs: self.needs,
            complaint: self.complaint,
            address: self.address,
            notes: self.notes,
        };
        if edit.is_empty() {
            return Err(ApiError::bad_request(
                "nothing to change: give priority, lat and lon, needs, complaint, address or notes",
            ));
        }
        Ok(edit)
    }
}

/// Re-triage and corrections: the core decides again where it matters (see
/// `Dispatcher::edit_call`); crews still driving to a moved call get their new route.
pub(super) async fn edit(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<CallPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let edit = body(req)?.into_edit()?;
    let router = state.0.router.clone();
    state
        .apply(&actor, None, move |core, now| {
            let before = journal::driving_etas(&router, core);
            let events = core.edit_call(id, edit, now)?;
            let entries = journal::reroutes(&router, core, &before, "call_moved", now);
            Ok(Effect {
                entries,
                ..Effect::new(events, ())
            })
        })
        .await?;
    call_json(&state, id).await.map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignRequest {
    crew_id: String,
}

pub(super) async fn assign(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<AssignRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let req = body(req)?;
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.assign_override(id, &req.crew_id, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}

/// `POST /api/calls/{id}/cancel`: why (required).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelRequest {
    reason: String,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    req: Result<Json<CancelRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let reason = body(req)?.reason.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "reason: say why the call is cancelled",
        ));
    }
    check_text("reason", &reason, REASON_MAX)?;
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.cancel_call(id, &reason, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}
