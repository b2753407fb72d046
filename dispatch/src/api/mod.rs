//! The dispatch REST API: calls, crews, handovers, and the map the pages draw. Every
//! handler carries its OpenAPI description (`#[utoipa::path]`) and is registered with it (see
//! [`crate::openapi`]); bodies are typed structs.
//!
//! * calls (`calls.rs`): `POST /api/calls`, `GET /api/calls[?status=&since=&limit=&cursor=]`
//!   (a page at a time, the next page's cursor in `X-Next-Cursor`), `GET|PATCH
//!   /api/calls/{id}` (re-triage and corrections), `POST /api/calls/{id}/assign`
//!   (override), `POST /api/calls/{id}/cancel` (`{"reason"}`);
//! * duplicate calls (`duplicates.rs`): `GET /api/calls/duplicates?lat=&lon=`, `POST
//!   /api/calls/{id}/link`;
//! * the handover (`handover.rs`): `POST|GET /api/calls/{id}/handover`, `GET
//!   /api/calls/{id}/handover/fhir`, `GET /api/calls/{id}/handover/delivery`, `POST
//!   /api/calls/{id}/handover/delivery/retry`;
//! * the patient (`patient.rs`): `PUT|GET /api/calls/{id}/patient` (identifiers), `GET
//!   /api/calls/{id}/patient/summary` (from the patient's record);
//! * crews (`crews.rs`): `POST /api/crews`, `GET /api/crews`, `GET|PATCH|DELETE
//!   /api/crews/{id}`, `PUT /api/crews/{id}/position`, `POST /api/crews/{id}/status`, `GET
//!   /api/crews/{id}/hospital[?capability=]`;
//! * the map (`map.rs`): `GET /api/me`, `GET /api/map`, `GET /api/map/roads`, `GET
//!   /api/map/streets`, `GET /api/hospitals`;
//! * stations (`stations.rs`): `GET /api/stations`;
//! * addresses (`geocode.rs`): `GET /api/geocode?q=`, `GET /api/reverse?lat=&lon=`.
//!
//! Dispatchers and admins may do everything; a crew token sees and changes only its own crew
//! and its own call. `POST /api/calls` retried with the same `Idempotency-Key` creates one
//! call. Every change is logged with its actor (see [`crate::audit`]).

mod calls;
mod crews;
mod duplicates;
mod geocode;
mod handover;
mod map;
mod patient;
mod stations;

use dispatch_core::CrewStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::state::{AppState, Effect};

pub(crate) use calls::find_call;
pub use calls::{CallResponse, CallView, CrewCallView};
pub use handover::{FhirBundle, HandoverRecord, HandoverVersion};
pub use map::{MapInfo, Me, RoadFeature, Roads, StreetMatch};
pub(crate) use patient::entered_ids;
pub use patient::PatientIds;

/// The API routes, each with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calls::create, calls::list))
        .routes(routes!(calls::get_one, calls::edit))
        .routes(routes!(calls::assign))
        .routes(routes!(calls::cancel))
        .routes(routes!(handover::post_handover, handover::get_handover))
        .routes(routes!(handover::get_fhir))
        .routes(routes!(handover::get_delivery))
        .routes(routes!(handover::retry_delivery))
        .routes(routes!(patient::put_patient, patient::get_patient))
        .routes(routes!(patient::get_summary))
        .routes(routes!(crews::create, crews::list))
        .routes(routes!(crews::get_one, crews::edit, crews::remove))
        .routes(routes!(crews::move_to))
        .routes(routes!(crews::status))
        .routes(routes!(crews::hospital))
        .merge(map::routes())
        .merge(geocode::routes())
        .merge(stations::routes())
        .merge(duplicates::routes())
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
