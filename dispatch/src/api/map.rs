//! The read-only map APIs the console and the tablet draw from (a valid token of any role):
//!
//! * `GET /api/map`: the map's name, bounds, the view where most of its roads are, and its
//!   attribution;
//! * `GET /api/map/roads?bbox=minLon,minLat,maxLon,maxLat[&zoom=Z]`: the road segments in a
//!   box as a GeoJSON `FeatureCollection` of `LineString`s (properties `class`, `name`,
//!   `way_id`), simplified to about a pixel at zoom `Z` (minor roads left out when zoomed far
//!   out);
//! * `GET /api/map/streets?q=TEXT`: street names containing `TEXT` with a point on each, to
//!   place a call by its address;
//! * `GET /api/hospitals`: the hospitals the dispatcher knows;
//! * `GET /api/me`: the caller's role (and crew), and the sequence number of the newest log
//!   entry, from which a console starts its `/ws/console?since=` stream.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatch_core::Hospital;
use osm_data::tags::RoadClass;
use osm_data::{Coord, RoadGraph};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Role};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The map routes, each with its OpenAPI description.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(map_info))
        .routes(routes!(roads))
        .routes(routes!(streets))
        .routes(routes!(hospitals))
}

/// Who the caller is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `admin`, `dispatcher` or `crew`.
    #[schema(example = "dispatcher")]
    pub role: String,
    /// The crew, for a crew token.
    pub crew_id: Option<String>,
    /// Whether the role may dispatch (admin or dispatcher).
    pub staff: bool,
    /// The sequence number of the newest log entry: a console streams from it
    /// (`/ws/console?since=`).
    pub last_seq: u64,
}

/// The caller's role (and crew), and where the event stream is.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "map",
    responses((status = 200, description = "Who the caller is", body = Me))
)]
async fn me(State(state): State<AppState>, Auth(role): Auth) -> Json<Me> {
    let (name, crew) = match &role {
        Role::Admin => ("admin", None),
        Role::Dispatcher => ("dispatcher", None),
        Role::Crew(id) => ("crew", Some(id.clone())),
    };
    Json(Me {
        role: name.into(),
        crew_id: crew,
        staff: role.is_staff(),
        last_seq: state.0.hub.last_seq(),
    })
}

/// The map the service routes on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MapInfo {
    /// The extract's name.
    pub name: String,
    /// `[[south, west], [north, east]]`, degrees.
    pub bounds: [[f64; 2]; 2],
    /// Where most of its junctions are (5th to 95th percentile each way), `[[south, west],
    /// [north, east]]`: the town rather than the long roads an extract's edge cuts.
    pub view: [[f64; 2]; 2],
    /// `[lat, lon]` of the bounds' middle.
    pub center: [f64; 2],
    /// Its road segments.
    pub segments: usize,
    /// The map data's attribution, to show with it.
    pub attribution: String,
}

/// The map: name, bounds, the view where most of its roads are, and its attribution.
#[utoipa::path(
    get,
    path = "/api/map",
    tag = "map",
    responses((status = 200, description = "The map", body = MapInfo))
)]
async fn map_info(
    State(state): State<AppState>,
    Auth(_role): Auth,
) -> Result<Json<MapInfo>, ApiError> {
    let g = state.0.router.graph();
    let b = g
        .bounding_box()
        .ok_or_else(|| ApiError::internal("the map has no nodes"))?;
    // Where most junctions are (the 5th to 95th percentile each way): the town rather than
    // the long roads an extract's edge cuts.
    let quantiles = |mut v: Vec<f64>, lo: f64, hi: f64| {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            v.get(((v.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
        };
        (at(0.05).unwrap_or(lo), at(0.95).unwrap_or(hi))
    };
    let (s, n) = quantiles(
        g.node_coord.iter().map(|c| c.lat()).collect(),
        b.min_lat,
        b.max_lat,
    );
    let (w, e) = quantiles(
        g.node_coord.iter().map(|c| c.lon()).collect(),
        b.min_lon,
        b.max_lon,
    );
    Ok(Json(MapInfo {
        name: g.meta.source_name.clone(),
        bounds: [[b.min_lat, b.min_lon], [b.max_lat, b.max_lon]],
        view: [[s, w], [n, e]],
        center: [(b.min_lat + b.max_lat) / 2.0, (b.min_lon + b.max_lon) / 2.0],
        segments: g.segment_count(),
        attribution: crate::ATTRIBUTION.into(),
    }))
}

/// `?bbox=&zoom=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RoadsQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees (default: the whole map).
    #[param(example = "8.68,49.40,8.70,49.42")]
    bbox: Option<String>,
    /// The map's zoom: roads are simplified to about a pixel, and minor roads left out
    /// below 14 (service roads) and 12 (residential streets).
    #[param(minimum = 0, maximum = 24)]
    zoom: Option<f64>,
}

/// A GeoJSON `FeatureCollection` of road segments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Roads {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    /// The box asked for: `[west, south, east, north]`.
    pub bbox: [f64; 4],
    /// How many points the lines have in all.
    pub points: usize,
    /// The segments.
    pub features: Vec<RoadFeature>,
}

/// The GeoJSON type of a feature collection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum FeatureCollectionType {
    /// The only value.
    FeatureCollection,
}

/// The GeoJSON type of a feature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum FeatureType {
    /// The only value.
    Feature,
}

/// The GeoJSON type of a line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum LineStringType {
    /// The only value.
    LineString,
}

/// One road segment (between junctions) as a GeoJSON `Feature`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoadFeature {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// Its line.
    pub geometry: LineString,
    /// What road it is.
    pub properties: RoadProperties,
}

/// A GeoJSON `LineString`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineString {
    /// `LineString`.
    #[serde(rename = "type")]
    pub kind: LineStringType,
    /// `[lon, lat]` points, degrees (rounded to 1e-6).
    pub coordinates: Vec<[f64; 2]>,
}

/// What road a segment is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoadProperties {
    /// Its OpenStreetMap `highway` class (`primary`, `residential`, ...), or `road`.
    pub class: String,
    /// Its name (empty when it has none).
    pub name: String,
    /// Its OpenStreetMap way.
    pub way_id: i64,
}

/// `minLon,minLat,maxLon,maxLat`.
fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "bbox must be minLon,minLat,maxLon,maxLat in degrees, not {s:?}"
        ))
    };
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [w, south, e, n]: [f64; 4] = parts.try_into().map_err(|_| bad())?;
    let ok = [w, south, e, n].iter().all(|v| v.is_finite())
        && (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&south)
        && (-90.0..=90.0).contains(&n)
        && w <= e
        && south <= n;
    if ok {
        Ok([w, south, e, n])
    } else {
        Err(bad())
    }
}

/// Whether a road class is drawn at `zoom`: everything from 14 on, no service roads below,
/// only through roads below 12.
fn drawn_at(class: Option<RoadClass>, zoom: f64) -> bool {
    use RoadClass::*;
    match class {
        _ if zoom >= 14.0 => true,
        Some(Service | Pedestrian | Busway) => false,
        Some(Residential | LivingStreet | Unclassified | Road) => zoom >= 12.0,
        _ => true,
    }
}

/// Douglas–Peucker (`geo::SimplifyIdx`) on points projected to metres: the indexes kept,
/// first and last always.
fn simplify(p: &[[f64; 2]], tolerance_m: f64) -> Vec<usize> {
    use geo::SimplifyIdx;
    if p.len() <= 2 || tolerance_m <= 0.0 {
        return (0..p.len()).collect();
    }
    let line: geo::LineString<f64> = p.iter().map(|&[x, y]| (x, y)).collect();
    line.simplify_idx(tolerance_m)
}

/// The road segments in a box, as GeoJSON, simplified for a zoom.
#[utoipa::path(
    get,
    path = "/api/map/roads",
    tag = "map",
    params(RoadsQuery),
    responses(
        (status = 200, description = "The roads", body = Roads, content_type = "application/geo+json"),
        (status = 400, description = "A bad bbox or zoom", body = ErrorBody),
    )
)]
async fn roads(
    State(state): State<AppState>,
    Auth(_role): Auth,
    q: Result<Query<RoadsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let router = state.0.router.clone();
    let g = router.graph();
    let [w, s, e, n] = match &q.bbox {
        Some(b) => parse_bbox(b)?,
        None => {
            let b = g
                .bounding_box()
                .ok_or_else(|| ApiError::internal("the map has no nodes"))?;
            [b.min_lon, b.min_lat, b.max_lon, b.max_lat]
        }
    };
    let zoom = match q.zoom {
        Some(z) if z.is_finite() && (0.0..=24.0).contains(&z) => Some(z),
        Some(z) => {
            return Err(ApiError::bad_request(format!(
                "zoom must be between 0 and 24, not {z}"
            )))
        }
        None => None,
    };
    let body = tokio::task::spawn_blocking(move || {
        let index = router.snap_index();
        let g: &RoadGraph = router.graph();
        let lo = index.project(Coord::from_degrees(s, w));
        let hi = index.project(Coord::from_degrees(n, e));
        // About one screen pixel at this zoom (Web Mercator at the box's latitude).
        let tolerance = zoom.map_or(0.5, |z| {
            156_543.03 * ((s + n) / 2.0).to_radians().cos() / 2f64.powf(z)
        });
        let mut features = Vec::new();
        let mut points = 0usize;
        for seg in index.segments_in_box(lo, hi) {
            let class = RoadClass::from_u8(g.seg_class[seg as usize]);
            if zoom.is_some_and(|z| !drawn_at(class, z)) {
                continue;
            }
            let pts = g.segment_points(seg);
            let projected: Vec<[f64; 2]> = pts.iter().map(|&c| index.project(c)).collect();
            let kept = simplify(&projected, tolerance);
            points += kept.len();
            features.push(RoadFeature {
                kind: FeatureType::Feature,
                geometry: LineString {
                    kind: LineStringType::LineString,
                    coordinates: kept
                        .iter()
                        .map(|&i| {
                            [
                                osm_data::round6(pts[i].lon()),
                                osm_data::round6(pts[i].lat()),
                            ]
                        })
                        .collect(),
                },
                properties: RoadProperties {
                    class: class.map_or("road", RoadClass::as_str).into(),
                    name: g.segment_name(seg).into(),
                    way_id: g.seg_way_id[seg as usize],
                },
            });
        }
        serde_json::to_string(&Roads {
            kind: FeatureCollectionType::FeatureCollection,
            bbox: [w, s, e, n],
            points,
            features,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// `?q=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StreetQuery {
    /// At least 2 characters of a street's name.
    #[param(min_length = 2, example = "Haupt")]
    q: String,
}

/// A street and a point on it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StreetMatch {
    /// Its name.
    pub name: String,
    /// Latitude of a point on it (the middle of its segment nearest its middle).
    pub lat: f64,
    /// Longitude of that point.
    pub lon: f64,
}

/// How many streets `/api/map/streets` answers at most.
const STREETS: usize = 10;

/// Street names containing the text, names starting with it first, each with a point on
/// it: to place a call by its street.
#[utoipa::path(
    get,
    path = "/api/map/streets",
    tag = "map",
    params(StreetQuery),
    responses(
        (status = 200, description = "At most 10 streets", body = Vec<StreetMatch>),
        (status = 400, description = "No q, or shorter than 2 characters", body = ErrorBody),
    )
)]
async fn streets(
    State(state): State<AppState>,
    Auth(_role): Auth,
    q: Result<Query<StreetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<StreetMatch>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let needle = q.q.trim().to_lowercase();
    if needle.chars().count() < 2 {
        return Err(ApiError::bad_request(
            "q must have at least 2 characters of a street name",
        ));
    }
    let router = state.0.router.clone();
    let found = tokio::task::spawn_blocking(move || street_matches(router.graph(), &needle))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(found))
}

/// Street names containing `needle` (lower case), names starting with it first, each with
/// the middle of its segment nearest to the middle of all its segments.
fn street_matches(g: &RoadGraph, needle: &str) -> Vec<StreetMatch> {
    let mut names: Vec<(bool, &str, u32)> = g
        .names
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, name)| {
            let lower = name.to_lowercase();
            lower
                .contains(needle)
                .then(|| (!lower.starts_with(needle), name.as_str(), i as u32))
        })
        .collect();
    names.sort();
    names.truncate(STREETS);
    let wanted: HashMap<u32, usize> = names
        .iter()
        .enumerate()
        .map(|(k, &(_, _, id))| (id, k))
        .collect();
    let mut mids: Vec<Vec<Coord>> = vec![Vec::new(); names.len()];
    for seg in 0..g.segment_count() as u32 {
        if let Some(&k) = wanted.get(&g.seg_name[seg as usize]) {
            let pts = g.segment_points(seg);
            mids[k].push(pts[pts.len() / 2]);
        }
    }
    names
        .iter()
        .zip(mids)
        .filter(|(_, m)| !m.is_empty())
        .map(|(&(_, name, _), m)| {
            let (la, lo) = m
                .iter()
                .fold((0.0, 0.0), |(a, b), c| (a + c.lat(), b + c.lon()));
            let centre = Coord::from_degrees(la / m.len() as f64, lo / m.len() as f64);
            let best = m
                .iter()
                .copied()
                .min_by(|a, b| {
                    osm_data::haversine_m(*a, centre).total_cmp(&osm_data::haversine_m(*b, centre))
                })
                .unwrap_or(centre);
            StreetMatch {
                name: name.to_string(),
                lat: osm_data::round6(best.lat()),
                lon: osm_data::round6(best.lon()),
            }
        })
        .collect()
}

/// The hospitals the dispatcher knows, and what each can treat.
#[utoipa::path(
    get,
    path = "/api/hospitals",
    tag = "map",
    responses((status = 200, description = "The hospitals", body = Vec<Hospital>))
)]
async fn hospitals(State(state): State<AppState>, Auth(_role): Auth) -> Json<Vec<Hospital>> {
    let core = state.core().await;
    Json(core.hospitals().cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_is_validated() {
        assert_eq!(
            parse_bbox("8.6,49.3,8.8,49.5").unwrap(),
            [8.6, 49.3, 8.8, 49.5]
        );
        for bad in [
            "",
            "8.6,49.3,8.8",
            "8.8,49.3,8.6,49.5",
            "a,b,c,d",
            "8,95,9,96",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn simplification_keeps_ends_and_corners_and_drops_straight_points() {
        let line = [[0.0, 0.0], [5.0, 0.1], [10.0, 0.0], [10.0, 10.0]];
        assert_eq!(simplify(&line, 1.0), vec![0, 2, 3]);
        assert_eq!(simplify(&line, 0.01), vec![0, 1, 2, 3]);
        assert_eq!(simplify(&line[..2], 100.0), vec![0, 1]);
    }

    #[test]
    fn minor_roads_are_left_out_when_zoomed_out() {
        assert!(drawn_at(Some(RoadClass::Service), 15.0));
        assert!(!drawn_at(Some(RoadClass::Service), 13.0));
        assert!(drawn_at(Some(RoadClass::Residential), 13.0));
        assert!(!drawn_at(Some(RoadClass::Residential), 11.0));
        assert!(drawn_at(Some(RoadClass::Primary), 8.0));
    }
}
