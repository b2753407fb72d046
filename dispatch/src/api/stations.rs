//! `GET /api/stations`: the stations crews start from and go back to (a valid token of any
//! role), for the console's map and the crew tablet's route back.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::state::AppState;
use crate::stations::Station;

/// The station routes, each with its OpenAPI description.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The stations, in the order of the settings file (a crew's `station` names one by its id).
#[utoipa::path(
    get,
    path = "/api/stations",
    tag = "map",
    responses((status = 200, description = "The stations", body = Vec<Station>))
)]
async fn list(State(state): State<AppState>, Auth(_role): Auth) -> Json<Vec<Station>> {
    Json(state.0.stations.clone())
}
