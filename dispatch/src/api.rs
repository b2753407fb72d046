//! The dispatch REST API: calls and crews.
//!
//! * `POST /api/calls`, `GET /api/calls[?status=]`, `GET /api/calls/{id}`,
//!   `POST /api/calls/{id}/assign` (override), `POST /api/calls/{id}/cancel`;
//! * `POST /api/calls/{id}/handover` (the crew of the call or staff), `GET /api/calls/{id}/handover`
//!   and `GET /api/calls/{id}/handover/fhir` (an HL7 FHIR R4 Bundle; staff only: medical data);
//! * `POST /api/crews`, `GET /api/crews`, `GET /api/crews/{id}`, `PUT /api/crews/{id}/position`,
//!   `POST /api/crews/{id}/status`, `GET /api/crews/{id}/hospital[?capability=]` (the capable
//!   hospital the crew reaches soonest; `general` by default).
//!
//! Dispatchers and admins may do everything; a crew token sees and changes only its own crew
//! and its own call. `POST /api/calls` retried with the same `Idempotency-Key` creates one call.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::Json;
use dispatch_core::{
    CallId, CallStatus, CrewStatus, CrewType, Dispatcher, Event, NewCall, NewCrew, Priority,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Auth, Role};
use crate::error::ApiError;
use crate::state::{AppState, Applied, Effect};

/// The API routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/calls", post(create_call).get(list_calls))
        .route("/api/calls/{id}", get(get_call))
        .route("/api/calls/{id}/assign", post(assign_call))
        .route("/api/calls/{id}/cancel", post(cancel_call))
        .route(
            "/api/calls/{id}/handover",
            post(post_handover).get(get_handover),
        )
        .route("/api/calls/{id}/handover/fhir", get(get_fhir))
        .route("/api/crews", post(create_crew).get(list_crews))
        .route("/api/crews/{id}", get(get_crew))
        .route("/api/crews/{id}/position", put(move_crew))
        .route("/api/crews/{id}/status", post(crew_status))
        .route("/api/crews/{id}/hospital", get(crew_hospital))
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// Runs one dispatch-core operation: decided, committed, published.
async fn run_op(
    state: &AppState,
    op: impl FnOnce(&mut dispatch_core::Dispatcher, i64) -> dispatch_core::Outcome + Send,
) -> Result<(), ApiError> {
    state
        .apply(None, |core, now| Ok(Effect::new(op(core, now)?, ())))
        .await
        .map(|_| ())
}

fn parse_call_id(id: &str) -> Result<CallId, ApiError> {
    id.parse::<u64>()
        .map(CallId)
        .map_err(|_| ApiError::not_found(format!("no call with id {id:?}")))
}

fn check_coordinates(lat: f64, lon: f64) -> Result<(), ApiError> {
    if lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid coordinate ({lat}, {lon})"
        )))
    }
}

/// A new 112 call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
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
}

/// A call as the API shows it.
fn call_value(core: &Dispatcher, id: CallId) -> Option<Value> {
    let call = core.call(id)?;
    let mut v = serde_json::to_value(call).ok()?;
    // The first assigned crew and its ETA, for clients that want one answer.
    let first = call.assignments.first();
    v["crew_id"] = json!(first.map(|a| a.crew_id.clone()));
    v["eta_s"] = json!(first.map(|a| f64::from(a.eta_ms) / 1000.0));
    Some(v)
}

/// A call as the API shows it, or 404.
async fn call_json(state: &AppState, id: CallId) -> Result<Value, ApiError> {
    call_value(&*state.core().await, id)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))
}

async fn create_call(
    State(state): State<AppState>,
    Auth(role): Auth,
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
    let new = NewCall {
        needs: req.needs,
        complaint: req.complaint,
        address: req.address,
        phone: req.phone,
        ..NewCall::at(req.lat, req.lon, req.priority)
    };
    let applied = state
        .apply(key, |core, now| {
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
struct StatusFilter {
    status: Option<CallStatus>,
}

async fn list_calls(
    State(state): State<AppState>,
    Auth(role): Auth,
    filter: Result<Query<StatusFilter>, axum::extract::rejection::QueryRejection>,
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

async fn get_call(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    crew_id: String,
}

async fn assign_call(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    req: Result<Json<AssignRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let req = body(req)?;
    run_op(&state, move |core, now| {
        core.assign_override(id, &req.crew_id, now)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}

async fn cancel_call(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    run_op(&state, move |core, now| core.cancel_call(id, "", now)).await?;
    call_json(&state, id).await.map(Json)
}

/// A new crew; `crew_type` defaults to `general`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CrewRequest {
    id: String,
    lat: f64,
    lon: f64,
    #[serde(default)]
    station: Option<String>,
    #[serde(default = "general")]
    crew_type: CrewType,
}

fn general() -> CrewType {
    CrewType::General
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

async fn create_crew(
    State(state): State<AppState>,
    Auth(role): Auth,
    req: Result<Json<CrewRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    role.require_staff()?;
    let req = body(req)?;
    check_coordinates(req.lat, req.lon)?;
    if req.id.trim().is_empty() || req.id.len() > 64 {
        return Err(ApiError::bad_request("crew id must be 1 to 64 characters"));
    }
    let id = req.id.clone();
    let new = NewCrew {
        id: req.id,
        crew_type: req.crew_type,
        station: req.station,
        call_sign: None,
        shift_end: None,
        lat: req.lat,
        lon: req.lon,
    };
    run_op(&state, move |core, now| core.add_crew(new, now)).await?;
    let v = crew_json(&state, &id)
        .await
        .map_err(|_| ApiError::internal("crew vanished"))?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn list_crews(State(state): State<AppState>, Auth(role): Auth) -> Json<Value> {
    let core = state.core().await;
    Json(json!(core
        .crews()
        .filter(|c| role.may_act_for(&c.id))
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect::<Vec<_>>()))
}

async fn get_crew(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionRequest {
    lat: f64,
    lon: f64,
}

async fn move_crew(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    req: Result<Json<PositionRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let req = body(req)?;
    check_coordinates(req.lat, req.lon)?;
    run_op(&state, |core, now| {
        core.move_crew(&id, req.lat, req.lon, now)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    status: CrewStatus,
}

async fn crew_status(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    req: Result<Json<StatusRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let req = body(req)?;
    run_op(&state, |core, now| {
        core.set_crew_status(&id, req.status, now)
    })
    .await?;
    crew_json(&state, &id).await.map(Json)
}

#[derive(Deserialize)]
struct CapabilityQuery {
    capability: Option<dispatch_core::Capability>,
}

async fn crew_hospital(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    q: Result<Query<CapabilityQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    role.require_crew(&id)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let capability = q.capability.unwrap_or(dispatch_core::Capability::General);
    crate::hospitals::nearest_for(&state, &id, capability)
        .await
        .map(Json)
}

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

async fn post_handover(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    req: Result<Json<crate::handover::Handover>, JsonRejection>,
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
    let handover = body(req)?;
    handover
        .validate()
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_handover", m))?;
    let record = json!({"call_id": id, "handover": handover});
    let applied = state
        .apply(None, |core, now| {
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

async fn get_handover(
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

async fn get_fhir(
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
