//! The dispatch REST API: calls and crews.
//!
//! * calls (`calls.rs`): `POST /api/calls`, `GET /api/calls[?status=]`, `GET|PATCH
//!   /api/calls/{id}` (re-triage and corrections), `POST /api/calls/{id}/assign`
//!   (override), `POST /api/calls/{id}/cancel` (`{"reason"}`);
//! * the handover (`handover.rs`): `POST|GET /api/calls/{id}/handover`, `GET
//!   /api/calls/{id}/handover/fhir`;
//! * crews (`crews.rs`): `POST /api/crews`, `GET /api/crews`, `GET|PATCH|DELETE
//!   /api/crews/{id}`, `PUT /api/crews/{id}/position`, `POST /api/crews/{id}/status`, `GET
//!   /api/crews/{id}/hospital[?capability=]`.
//!
//! Dispatchers and admins may do everything; a crew token sees and changes only its own crew
//! and its own call. `POST /api/calls` retried with the same `Idempotency-Key` creates one
//! call. Every change is logged with its actor (see [`crate::audit`]).

mod calls;
mod crews;
mod handover;

use axum::extract::rejection::JsonRejection;
use axum::routing::{get, post, put};
use axum::Json;
use dispatch_core::{CallId, CrewStatus};

use crate::auth::Actor;
use crate::error::ApiError;
use crate::state::{AppState, Effect};

/// The API routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/calls", post(calls::create).get(calls::list))
        .route("/api/calls/{id}", get(calls::get_one).patch(calls::edit))
        .route("/api/calls/{id}/assign", post(calls::assign))
        .route("/api/calls/{id}/cancel", post(calls::cancel))
        .route(
            "/api/calls/{id}/handover",
            post(handover::post_handover).get(handover::get_handover),
        )
        .route("/api/calls/{id}/handover/fhir", get(handover::get_fhir))
        .route("/api/crews", post(crews::create).get(crews::list))
        .route(
            "/api/crews/{id}",
            get(crews::get_one).patch(crews::edit).delete(crews::remove),
        )
        .route("/api/crews/{id}/position", put(crews::move_to))
        .route("/api/crews/{id}/status", post(crews::status))
        .route("/api/crews/{id}/hospital", get(crews::hospital))
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// Runs one dispatch-core operation for `actor`: decided, committed, published.
/// `own_status` is the crew status change the request asked for (see
/// [`crate::journal::requested`]).
async fn run_op(
    state: &AppState,
    actor: &Actor,
    own_status: Option<(String, CrewStatus)>,
    op: impl FnOnce(&mut dispatch_core::Dispatcher, i64) -> Result<Vec<dispatch_core::Event>, ApiError>
        + Send,
) -> Result<(), ApiError> {
    state
        .apply(actor, None, |core, now| {
            Ok(Effect {
                own_status,
                ..Effect::new(op(core, now)?, ())
            })
        })
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

/// A free-text field of at most `max` characters.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(())
}
