//! Calls: intake, listing, re-triage and corrections, the dispatcher's override and
//! cancellation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dispatch_core::{
    CallEdit, CallId, CallStatus, CrewType, Dispatcher, Event, NewCall, Position, Priority,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::run_op;
use crate::auth::{Auth, Caller, Role};
use crate::edge::{parse_call_id, IdempotencyKey, JsonBody, Lat, Lon, QueryParams, Text};
use crate::error::ApiError;
use crate::journal;
use crate::state::{AppState, Applied, Effect};

/// A complaint, address or notes: at most 2,000 characters.
type LongText = Text<2_000>;
/// A cancellation reason: at most 500 characters.
type Reason = Text<500>;
/// A caller's phone number: at most 40 characters.
type Phone = Text<40>;
/// The most crews one call may need.
const NEEDS_MAX: usize = 8;

/// A new 112 call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallRequest {
    lat: Lat,
    lon: Lon,
    priority: Priority,
    #[serde(default)]
    needs: Vec<CrewType>,
    #[serde(default)]
    complaint: LongText,
    #[serde(default)]
    address: LongText,
    #[serde(default)]
    phone: Option<Phone>,
    #[serde(default)]
    notes: LongText,
}

/// `needs` of at most [`NEEDS_MAX`] crews.
fn check_needs(needs: &[CrewType]) -> Result<(), ApiError> {
    if needs.len() > NEEDS_MAX {
        return Err(ApiError::invalid(
            "needs",
            format!("needs: at most {NEEDS_MAX} crews (got {})", needs.len()),
        ));
    }
    Ok(())
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

/// The call crew `crew` is on now, if any.
pub(crate) fn current_call<'a>(
    core: &'a Dispatcher,
    crew: &str,
) -> Option<&'a dispatch_core::Call> {
    core.crew(crew)
        .and_then(|c| c.call)
        .and_then(|id| core.call(id))
}

/// A call as crew `crew` sees it: where, what, how urgent, its own assignment and the call's
/// times; not the caller's phone, nor the dispatch decisions (other crews' ETAs), nor other
/// crews' assignments.
pub(crate) fn crew_view(core: &Dispatcher, id: CallId, crew: &str) -> Option<Value> {
    let call = core.call(id)?;
    let own: Vec<&dispatch_core::Assignment> = call
        .assignments
        .iter()
        .filter(|a| a.crew_id == crew)
        .collect();
    let first = own.first();
    Some(json!({
        "id": call.id,
        "position": call.position,
        "priority": call.priority,
        "needs": call.needs,
        "complaint": call.complaint,
        "address": call.address,
        "notes": call.notes,
        "status": call.status,
        "assignments": own,
        "times": call.times,
        "crew_id": first.map(|a| a.crew_id.clone()),
        "eta_s": first.map(|a| f64::from(a.eta_ms) / 1000.0),
    }))
}

/// A call as the API shows it, or 404.
async fn call_json(state: &AppState, id: CallId) -> Result<Value, ApiError> {
    call_value(&*state.core().await, id)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(req): JsonBody<CallRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    role.require_staff()?;
    check_needs(&req.needs)?;
    let new = NewCall {
        needs: req.needs,
        complaint: req.complaint.0,
        address: req.address.0,
        phone: req.phone.map(Text::into_inner),
        notes: req.notes.0,
        ..NewCall::at(req.lat.0, req.lon.0, req.priority)
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
    QueryParams(filter): QueryParams<StatusFilter>,
) -> Result<Json<Value>, ApiError> {
    let core = state.core().await;
    let calls: Vec<Value> = match &role {
        // A crew sees its current call only, as a crew sees it.
        Role::Crew(own) => current_call(&core, own)
            .filter(|c| filter.status.is_none_or(|s| c.status == s))
            .and_then(|c| crew_view(&core, c.id, own))
            .into_iter()
            .collect(),
        _ => core
            .calls()
            .filter(|c| filter.status.is_none_or(|s| c.status == s))
            .filter_map(|c| call_value(&core, c.id))
            .collect(),
    };
    Ok(Json(json!(calls)))
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_call_id(&id)?;
    if let Role::Crew(own) = &role {
        let core = state.core().await;
        return match current_call(&core, own) {
            Some(c) if c.id == id => crew_view(&core, id, own)
                .map(Json)
                .ok_or_else(|| ApiError::not_found(format!("no call with id {id}"))),
            _ => Err(ApiError::forbidden("a crew sees only its current call")),
        };
    }
    call_json(&state, id).await.map(Json)
}

/// `PATCH /api/calls/{id}`: what changes (every field optional; `lat` and `lon` together).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallPatch {
    priority: Option<Priority>,
    lat: Option<Lat>,
    lon: Option<Lon>,
    needs: Option<Vec<CrewType>>,
    complaint: Option<LongText>,
    address: Option<LongText>,
    notes: Option<LongText>,
}

impl CallPatch {
    /// The core's edit, checked.
    fn into_edit(self) -> Result<CallEdit, ApiError> {
        let position = match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => Some(Position {
                lat: lat.0,
                lon: lon.0,
            }),
            (None, None) => None,
            (None, Some(_)) => return Err(ApiError::invalid("lat", "lat and lon go together")),
            (Some(_), None) => return Err(ApiError::invalid("lon", "lat and lon go together")),
        };
        if let Some(needs) = &self.needs {
            if needs.is_empty() {
                return Err(ApiError::invalid("needs", "needs: at least one crew"));
            }
            check_needs(needs)?;
        }
        let edit = CallEdit {
            priority: self.priority,
            position,
            needs: self.needs,
            complaint: self.complaint.map(Text::into_inner),
            address: self.address.map(Text::into_inner),
            notes: self.notes.map(Text::into_inner),
        };
        if edit.is_empty() {
            return Err(ApiError::invalid(
                "body",
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
    JsonBody(req): JsonBody<CallPatch>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let edit = req.into_edit()?;
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
    crew_id: crate::edge::CrewId,
}

pub(super) async fn assign(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AssignRequest>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.assign_override(id, &req.crew_id.0, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}

/// `POST /api/calls/{id}/cancel`: why (required).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelRequest {
    reason: Reason,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CancelRequest>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let reason = req.reason.0.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::invalid(
            "reason",
            "reason: say why the call is cancelled",
        ));
    }
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.cancel_call(id, &reason, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}
