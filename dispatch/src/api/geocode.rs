//! Addresses from the map's own OpenStreetMap data (a valid token of any role), searched in
//! the index built when the service started from the map's `.osm.pbf`
//! ([`osm_data::address`]):
//!
//! * `GET /api/geocode?q=TEXT[&limit=N]`: the addresses, streets and places that match a
//!   typed address (`ул. Гончарова, д. 4, стр. 3`, `Hauptstr 100`), best first, each with
//!   its parts, its point and the point on the road where a crew stops;
//! * `GET /api/reverse?lat=&lon=`: the address nearest a point (a click on the map).
//!
//! A service started on a `.graph` file has no index: both answer 503 `unavailable` saying
//! so.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use osm_data::address::{AddressIndex, Match};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::edge::{Lat, Lon, QueryParams, Text};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The geocoding routes, each with its OpenAPI description.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(geocode))
        .routes(routes!(reverse))
}

/// The longest `q`, characters.
const Q_MAX: usize = osm_data::address::normalize::MAX_QUERY_CHARS;
/// The most matches one search answers.
const LIMIT_MAX: u32 = 50;

/// `?q=&limit=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct GeocodeQuery {
    /// The address as typed: street and house in any order and common abbreviation
    /// (`ул. Гончарова, д. 4, стр. 3`, `Гончарова 4с3`), or a place's name. At most 200
    /// characters, no control characters.
    #[param(value_type = String, max_length = 200, example = "ул. Гончарова, д. 4, стр. 3")]
    q: Text<Q_MAX>,
    /// How many matches at most (1 to 50, default 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// `?lat=&lon=`: a point (the reverse search's, a new call's place).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PointQuery {
    /// Latitude, degrees (−90 to 90).
    #[param(minimum = -90, maximum = 90, example = 55.7522)]
    lat: f64,
    /// Longitude, degrees (−180 to 180).
    #[param(minimum = -180, maximum = 180, example = 37.6156)]
    lon: f64,
}

impl PointQuery {
    /// The point, checked: 422 naming `lat` or `lon` when out of range.
    pub(super) fn point(&self) -> Result<(f64, f64), ApiError> {
        let Lat(lat) =
            Lat::try_from(self.lat).map_err(|e| ApiError::invalid("lat", format!("lat: {e}")))?;
        let Lon(lon) =
            Lon::try_from(self.lon).map_err(|e| ApiError::invalid("lon", format!("lon: {e}")))?;
        Ok((lat, lon))
    }
}

/// An address in its parts, as mapped.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AddressParts {
    /// The street (`addr:street`), or the place an address names instead (`addr:place`).
    pub street: Option<String>,
    /// The house number with its letter or fraction (`27А`, `12/2`).
    pub housenumber: Option<String>,
    /// Корпус (`2` of `4к2`).
    pub block: Option<String>,
    /// Строение (`3` of `4 с3`).
    pub building: Option<String>,
    /// Подъезд (`addr:entrance`).
    pub entrance: Option<String>,
    /// `addr:unit`.
    pub unit: Option<String>,
    /// The named place (a hospital's, a station's name).
    pub place: Option<String>,
    /// What the place is: `hospital`, `clinic`, `school`, `station`, `metro`, `shop`,
    /// `place`, ...
    pub place_kind: Option<String>,
    /// `addr:city`, when mapped.
    pub city: Option<String>,
}

/// A point, degrees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct GeoPoint {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// A found address, street or place.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct GeocodeMatch {
    /// `address` (a house), `street` or `place`.
    #[schema(example = "address")]
    pub kind: String,
    /// The address as one line.
    #[schema(example = "улица Гончарова, 4 стр. 3")]
    pub display: String,
    /// Its parts.
    pub address: AddressParts,
    /// Its point (a building's middle, an entrance, a street's middle).
    pub point: GeoPoint,
    /// The point on the road nearest to it, where a crew stops; `null` when no road is
    /// within the router's snapping distance (1 km).
    pub road: Option<GeoPoint>,
    /// The OpenStreetMap object (`n123`, `w456`; empty for a street).
    pub osm_id: String,
    /// Lower is better: 0 the street and house as typed, up to 599 (see the README).
    pub rank: u32,
}

/// The address nearest a point.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ReverseAnswer {
    /// The address; `null` when the map has none.
    pub address: Option<GeocodeMatch>,
    /// How far it is from the point, metres.
    pub distance_m: Option<f64>,
}

/// The index, or 503 when the service has none.
fn index(state: &AppState) -> Result<std::sync::Arc<AddressIndex>, ApiError> {
    state.0.addresses.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "no address index: the service was started with a .graph map; start it with the \
             map's .osm.pbf to search addresses",
        )
    })
}

/// Degrees rounded to 1e-7 (about 1 cm), as OpenStreetMap stores them.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// The answer for a match, with the road point from the router.
fn answer(router: &router::Router, m: Match) -> GeocodeMatch {
    let road = router.snap(m.lat, m.lon).ok().map(|s| GeoPoint {
        lat: round7(s.point.lat()),
        lon: round7(s.point.lon()),
    });
    let a = m.address;
    GeocodeMatch {
        kind: m.kind.as_str().into(),
        display: m.display,
        address: AddressParts {
            street: a.street,
            housenumber: a.housenumber,
            block: a.block,
            building: a.building,
            entrance: a.entrance,
            unit: a.unit,
            place: a.place,
            place_kind: a.place_kind,
            city: a.city,
        },
        point: GeoPoint {
            lat: round7(m.lat),
            lon: round7(m.lon),
        },
        road,
        osm_id: m.osm_id,
        rank: m.rank,
    }
}

/// The addresses, streets and places matching a typed address, best first: the street
/// and house as typed, then houses of that street that say more (корпус, строение) or
/// whose number starts with the typed digits, then the street, then places; a typo in the
/// street's name costs rank. Text with no name in it finds nothing (an empty list).
#[utoipa::path(
    get,
    path = "/api/geocode",
    tag = "map",
    params(GeocodeQuery),
    responses(
        (status = 200, description = "The matches, best first (at most `limit`)", body = Vec<GeocodeMatch>),
        (status = 400, description = "No q, q longer than 200 characters or with control characters, or a limit that is not a number", body = ErrorBody),
        (status = 422, description = "limit not between 1 and 50", body = ErrorBody),
        (status = 503, description = "The service has no address index (started on a .graph map)", body = ErrorBody),
    )
)]
async fn geocode(
    State(state): State<AppState>,
    Auth(_role): Auth,
    QueryParams(q): QueryParams<GeocodeQuery>,
) -> Result<Json<Vec<GeocodeMatch>>, ApiError> {
    let limit = q.limit.unwrap_or(10);
    if !(1..=LIMIT_MAX).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit: between 1 and {LIMIT_MAX} (got {limit})"),
        ));
    }
    let index = index(&state)?;
    let router = state.0.router.clone();
    let text = q.q.into_inner();
    let found = tokio::task::spawn_blocking(move || {
        index
            .search(&text, limit as usize)
            .into_iter()
            .map(|m| answer(&router, m))
            .collect()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(found))
}

/// The address nearest a point, and how far it is.
#[utoipa::path(
    get,
    path = "/api/reverse",
    tag = "map",
    params(PointQuery),
    responses(
        (status = 200, description = "The nearest address", body = ReverseAnswer),
        (status = 400, description = "lat or lon missing or not a number", body = ErrorBody),
        (status = 422, description = "lat or lon out of range", body = ErrorBody),
        (status = 503, description = "The service has no address index (started on a .graph map)", body = ErrorBody),
    )
)]
async fn reverse(
    State(state): State<AppState>,
    Auth(_role): Auth,
    QueryParams(q): QueryParams<PointQuery>,
) -> Result<Json<ReverseAnswer>, ApiError> {
    let (lat, lon) = q.point()?;
    let index = index(&state)?;
    let router = state.0.router.clone();
    let found = tokio::task::spawn_blocking(move || {
        index.nearest(lat, lon).map(|m| {
            let d = osm_data::haversine_m(
                osm_data::Coord::from_degrees(lat, lon),
                osm_data::Coord::from_degrees(m.lat, m.lon),
            );
            (answer(&router, m), (d * 10.0).round() / 10.0)
        })
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(ReverseAnswer {
        distance_m: found.as_ref().map(|f| f.1),
        address: found.map(|f| f.0),
    }))
}
