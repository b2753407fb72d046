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

use axum::routing::{get, post, put};
use dispatch_core::CrewStatus;

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
