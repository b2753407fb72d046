//! The patient of a call: the identifiers the call-taker or the crew entered (`PUT|GET
//! /api/calls/{id}/patient`), and the patient's summary from the record for the crew en
//! route (`GET /api/calls/{id}/patient/summary`, see [`crate::fhir::summary`]).
//!
//! Both are medical data: only dispatchers and the crew working on the call (until its part
//! is done) may read them; the identifiers are read from the store, never kept in memory,
//! and the summary is read from the record each time, never stored. The log records that
//! identifiers were entered, and of which kinds, not the numbers.

use axum::extract::{Path, State};
use axum::Json;
use dispatch_core::CallId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Auth, Caller, Role};
use crate::edge::{parse_call_id, JsonBody};
use crate::error::{ApiError, ErrorBody};
use crate::fhir::push::read;
use crate::fhir::summary::{self, Summary, Unavailable};
use crate::handover::{normalize_ids, PatientId};
use crate::journal::Entry;
use crate::state::{AppState, Effect};

/// The entity kind of a call's patient identifiers.
const KIND: &str = "call_patient";

/// The identifiers of a call's patient.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientIds {
    /// At most one of each kind (ОМС, СНИЛС, local).
    pub identifiers: Vec<PatientId>,
}

/// The identifiers entered for call `id` (none: empty): a handover without identifiers of
/// its own takes these to the patient's record.
pub(crate) async fn entered_ids(state: &AppState, id: CallId) -> Result<Vec<PatientId>, ApiError> {
    Ok(read::<PatientIds>(state, KIND, &id.0.to_string())
        .await?
        .map(|p| p.identifiers)
        .unwrap_or_default())
}

/// Refuses unless staff, or the crew working on the open call `id`.
async fn may_see(state: &AppState, role: &Role, id: CallId) -> Result<(), ApiError> {
    let call = super::find_call(state, id).await?;
    match role {
        r if r.is_staff() => Ok(()),
        Role::Crew(own)
            if !call.status.is_closed()
                && call
                    .assignments
                    .iter()
                    .any(|a| a.crew_id == *own && a.finished_at.is_none()) =>
        {
            Ok(())
        }
        _ => Err(ApiError::forbidden(
            "only a dispatcher or the crew working on this call may see its patient",
        )),
    }
}

/// Sets the identifiers of the call's patient (the call-taker, or the crew on the call).
#[utoipa::path(
    put,
    path = "/api/calls/{id}/patient",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    request_body = PatientIds,
    responses(
        (status = 200, description = "The identifiers, as their registers write them", body = PatientIds),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher or the crew on this call", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A number that is not one of its register, or two of one kind", body = ErrorBody),
    )
)]
pub(super) async fn put_patient(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(mut ids): JsonBody<PatientIds>,
) -> Result<Json<PatientIds>, ApiError> {
    let id = parse_call_id(&id)?;
    may_see(&state, &role, id).await?;
    normalize_ids("identifiers", &mut ids.identifiers)?;
    let body = serde_json::to_value(&ids).map_err(ApiError::internal)?;
    let kinds: Vec<_> = ids.identifiers.iter().map(|i| i.kind).collect();
    let entry = json!({"type": "patient_identified", "call_id": id.0, "kinds": kinds});
    state
        .apply(&actor, None, move |_, _| {
            Ok(Effect {
                upserts: vec![(KIND.into(), id.0.to_string(), body)],
                entries: vec![Entry {
                    stored: entry.clone(),
                    published: entry,
                    crew: None,
                    by_caller: true,
                }],
                ..Effect::new(Vec::new(), ())
            })
        })
        .await?;
    Ok(Json(ids))
}

/// The identifiers entered for the call's patient (none: an empty list).
#[utoipa::path(
    get,
    path = "/api/calls/{id}/patient",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 200, description = "The identifiers", body = PatientIds),
        (status = 403, description = "Not a dispatcher or the crew on this call", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
    )
)]
pub(super) async fn get_patient(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<PatientIds>, ApiError> {
    let id = parse_call_id(&id)?;
    may_see(&state, &role, id).await?;
    Ok(Json(
        read(&state, KIND, &id.0.to_string())
            .await?
            .unwrap_or_default(),
    ))
}

/// The patient's summary from the record (allergies, conditions, medications, latest
/// observations), or why it is not available, within 2 s.
#[utoipa::path(
    get,
    path = "/api/calls/{id}/patient/summary",
    tag = "handover",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 200, description = "The summary, or `available: false` and why", body = Summary),
        (status = 403, description = "Not a dispatcher or the crew on this call", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
    )
)]
pub(super) async fn get_summary(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<Summary>, ApiError> {
    let id = parse_call_id(&id)?;
    may_see(&state, &role, id).await?;
    let Some(server) = state.0.fhir_server.clone() else {
        return Ok(Json(Summary::unavailable(Unavailable::NoServer)));
    };
    // The identifiers entered for the call, else those of its latest handover.
    let mut ids = entered_ids(&state, id).await?;
    if ids.is_empty() {
        let latest: Option<super::HandoverRecord> =
            read(&state, "handover", &id.0.to_string()).await?;
        ids = latest
            .map(|h| h.handover.patient.identifiers)
            .unwrap_or_default();
    }
    ids.sort_by_key(|i| i.kind);
    let systems = &state.0.fhir_systems;
    let ids: Vec<(String, String)> = ids
        .into_iter()
        .map(|i| (systems.patient(i.kind), i.value))
        .collect();
    Ok(Json(
        summary::fetch(&state.0.fhir_client, &server, &ids).await,
    ))
}
