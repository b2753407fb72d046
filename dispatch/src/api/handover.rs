//! The hospital handover of a call: `POST /api/calls/{id}/handover` (the call's crew until
//! the call closes, or staff), `GET /api/calls/{id}/handover[?version=N]` and `GET
//! /api/calls/{id}/handover/fhir` (an HL7 FHIR R4 Bundle of the latest version; staff only:
//! medical data).
//!
//! With a FHIR server (`--fhir-url`), each version is also sent to the patient's record
//! through an outbox written with it ([`crate::fhir`]): `GET
//! /api/calls/{id}/handover/delivery` says how that went, and `POST
//! …/delivery/retry` sends it again.
//!
//! Every version is kept: each post is stored as a new `handover_version` entity
//! (`{call}:{n}`, never overwritten), and the `handover` entity is the latest with the list
//! of versions (number, time, who).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatch_core::{CallId, CallStatus};
use serde::{Deserialize, Serialize};

use crate::auth::{Actor, Auth, Caller, Role};
use crate::edge::{parse_call_id, JsonBody, QueryParams};
use crate::error::{ApiError, ErrorBody};
use crate::fhir::bundle;
use crate::fhir::outbox::{self, Delivery, DELIVERY, OUTBOX};
use crate::fhir::push::{read, write};
use crate::handover::Handover;
use crate::state::{AppState, Applied, Effect};

/// One recorded version of a handover.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HandoverRecord {
    /// The call.
    pub call_id: u64,
    /// Its number: 1 for the first.
    pub version: u64,
    /// When it was recorded (Unix ms).
    pub recorded_at: i64,
    /// Who recorded it.
    pub by: Actor,
    /// The handover.
    pub handover: Handover,
    /// Every version so far, oldest first (in the latest only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<HandoverVersion>>,
}

/// A version of a handover: its number, when and who.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HandoverVersion {
    /// Its number.
    pub version: u64,
    /// When it was recorded (Unix ms).
    pub recorded_at: i64,
    /// Who recorded it.
    pub by: Actor,
}

/// An HL7 FHIR R4 `Bundle` (type `document`): Composition, Patient, Encounter, Observations
/// (LOINC) and a Condition (ICD-10). Its schema is FHIR's, not repeated here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct FhirBundle(serde_json::Value);

/// The crews of a call, when it was received, and whether it is over (completed or
/// cancelled).
async fn crew_of_call(state: &AppState, id: CallId) -> Result<(Vec<String>, i64, bool), ApiError> {
    let call = super::calls::find_call(state, id).await?;
    Ok((
        call.assignments.iter().map(|a| a.crew_id.clone()).collect(),
        call.times.received.unwrap_or_default(),
        matches!(call.status, CallStatus::Completed | CallStatus::Cancelled),
    ))
}

/// Records a new version of the call's handover (earlier versions are kept). A crew token:
/// only its own call, and only until the call closes.
#[utoipa::path(
    post,
    path = "/api/calls/{id}/handover",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    request_body = Handover,
    responses(
        (status = 201, description = "The version recorded", body = HandoverRecord),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not this call's crew, or the call is closed", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 409, description = "The call had no crew at the hospital", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "An impossible date or vital sign, or text too long", body = ErrorBody),
    )
)]
pub(super) async fn post_handover(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(mut handover): JsonBody<Handover>,
) -> Result<Response, ApiError> {
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
    handover.check()?;
    // One handover post at a time, so version numbers are read and written without a race.
    let _one = state.0.handovers.lock().await;
    // With a FHIR server, its delivery so far (what was sent is kept).
    let delivered: Option<Option<Delivery>> = match state.0.fhir_server {
        Some(_) => Some(read(&state, DELIVERY, &id.0.to_string()).await?),
        None => None,
    };
    let latest = state
        .0
        .store
        .entity("handover", &id.0.to_string())
        .await
        .map_err(ApiError::unavailable)?;
    let mut versions: Vec<HandoverVersion> = match latest {
        Some(v) => {
            serde_json::from_value::<HandoverRecord>(v)
                .map_err(ApiError::internal)?
                .versions
        }
        None => None,
    }
    .unwrap_or_default();
    let version = versions.len() as u64 + 1;
    let applied = state
        .apply(&actor, None, |core, now| {
            let events = core.handover_recorded(id, now)?;
            versions.push(HandoverVersion {
                version,
                recorded_at: now,
                by: actor.clone(),
            });
            let record = HandoverRecord {
                call_id: id.0,
                version,
                recorded_at: now,
                by: actor.clone(),
                handover,
                versions: None,
            };
            let latest = HandoverRecord {
                versions: Some(versions),
                ..record.clone()
            };
            let json = |r: &HandoverRecord| serde_json::to_value(r).map_err(ApiError::internal);
            let mut upserts = vec![
                (
                    "handover_version".into(),
                    format!("{}:{version}", id.0),
                    json(&record)?,
                ),
                ("handover".into(), id.0.to_string(), json(&latest)?),
            ];
            // The outbox row, in the same transaction: it is sent once stored.
            if let Some(before) = delivered {
                let (row, delivery) = outbox::recorded(before, id.0, version, now);
                let value =
                    |v: serde_json::Result<serde_json::Value>| v.map_err(ApiError::internal);
                upserts.push((
                    OUTBOX.into(),
                    id.0.to_string(),
                    value(serde_json::to_value(&row))?,
                ));
                upserts.push((
                    DELIVERY.into(),
                    id.0.to_string(),
                    value(serde_json::to_value(&delivery))?,
                ));
            }
            Ok(Effect {
                upserts,
                ..Effect::new(events, record)
            })
        })
        .await?;
    state.wake_fhir();
    Ok(match applied {
        Applied::Done(record) => (StatusCode::CREATED, Json(record)).into_response(),
        Applied::Replayed(v) => (StatusCode::CREATED, Json(v)).into_response(),
    })
}

/// The latest handover recorded for a call, or version `version` (from the store: medical
/// data is not kept in memory).
async fn stored_handover(
    state: &AppState,
    id: CallId,
    version: Option<u64>,
) -> Result<HandoverRecord, ApiError> {
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
        .and_then(|v| serde_json::from_value(v).map_err(ApiError::internal))
}

/// `?version=N`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct VersionQuery {
    /// A version (1 for the first); the latest when absent.
    #[param(minimum = 1)]
    version: Option<u64>,
}

/// The call's latest handover with the list of its versions, or one version (staff only:
/// medical data).
#[utoipa::path(
    get,
    path = "/api/calls/{id}/handover",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1), VersionQuery),
    responses(
        (status = 200, description = "The handover", body = HandoverRecord),
        (status = 400, description = "A bad query parameter", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call, handover or version", body = ErrorBody),
    )
)]
pub(super) async fn get_handover(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<VersionQuery>,
) -> Result<Json<HandoverRecord>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    stored_handover(&state, id, q.version).await.map(Json)
}

/// The call's latest handover as an HL7 FHIR R4 Bundle, for the patient's electronic
/// record (staff only: medical data).
#[utoipa::path(
    get,
    path = "/api/calls/{id}/handover/fhir",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 200, description = "The FHIR R4 Bundle", body = FhirBundle, content_type = "application/fhir+json"),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call, or no handover", body = ErrorBody),
    )
)]
pub(super) async fn get_fhir(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<
    (
        [(axum::http::HeaderName, &'static str); 1],
        Json<FhirBundle>,
    ),
    ApiError,
> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let (_, received, _) = crew_of_call(&state, id).await?;
    let mut record = stored_handover(&state, id, None).await?;
    if record.handover.patient.identifiers.is_empty() {
        record.handover.patient.identifiers = super::entered_ids(&state, id).await?;
    }
    let source = bundle::Source {
        call_id: id.0,
        handover: &record.handover,
        version: record.version,
        received_ms: received,
        handover_ms: record.recorded_at,
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        Json(FhirBundle(bundle::collection(
            &source,
            &state.0.fhir_systems,
        ))),
    ))
}

/// The delivery of the call's handover to the patient's record (staff only).
#[utoipa::path(
    get,
    path = "/api/calls/{id}/handover/delivery",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 200, description = "Where the delivery stands", body = Delivery),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call, or no handover sent or to send (none recorded, or no FHIR server)", body = ErrorBody),
    )
)]
pub(super) async fn get_delivery(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    read(&state, DELIVERY, &id.0.to_string())
        .await?
        .map(Json)
        .ok_or_else(|| no_delivery(&state, id))
}

fn no_delivery(state: &AppState, id: CallId) -> ApiError {
    match state.0.fhir_server {
        Some(_) => ApiError::not_found(format!(
            "no handover of call {id} was sent or is to be sent"
        )),
        None => ApiError::not_found(
            "handovers are not sent anywhere: the service has no FHIR server (--fhir-url)",
        ),
    }
}

/// Sends the call's latest handover to the patient's record again, now (after the server
/// refused it, or sooner than its next attempt): staff only.
#[utoipa::path(
    post,
    path = "/api/calls/{id}/handover/delivery/retry",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 202, description = "Due now", body = Delivery),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call, or no handover to send (none recorded, or no FHIR server)", body = ErrorBody),
    )
)]
pub(super) async fn retry_delivery(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let _one = state.0.handovers.lock().await;
    let delivery: Delivery = read(&state, DELIVERY, &id.0.to_string())
        .await?
        .filter(|_| state.0.fhir_server.is_some())
        .ok_or_else(|| no_delivery(&state, id))?;
    let (row, delivery) = outbox::retried(delivery, crate::state::now_ms());
    write(&state, &actor, Some(row), delivery.clone()).await?;
    drop(_one);
    state.wake_fhir();
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
