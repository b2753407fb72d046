//! The OSRM v5 services: `route`, `table`, `nearest`, with OSRM's response shapes and codes.
//!
//! Snapping is OSRM's: each coordinate goes to the nearest road at any distance
//! ([`Router::snap_within`] with an infinite radius), unless `radiuses=r1;r2;...` (one entry
//! per coordinate: metres, `unlimited`, or empty for the default) limits it; a coordinate
//! with no road within its radius is `NoSegment` naming its index. A `radiuses` list of the
//! wrong length is `InvalidOptions`, an entry that is not a number `InvalidQuery`, a
//! negative one `InvalidOptions`. `bearings` (and `approaches`, `hints`) are accepted and
//! ignored: a snapped point carries no direction of travel for the route to respect.
//!
//! Limits are [`OsrmOptions`], counted as `osrm-routed` counts them; a request beyond one is
//! `TooBig`.
//!
//! The handlers answer the typed bodies of [`super::osrm_json`] (an [`OsrmError`] is an
//! [`OsrmErrorBody`] with HTTP 400), and each one's `#[utoipa::path]` describes its
//! parameters and answers for [`super::osrm_openapi`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use osm_data::Coord;

use super::osrm_json::{
    Annotation, ErrorCode, Geometry, LineString, LineStringType, NearestResponse, NearestWaypoint,
    OsrmErrorBody, Route, RouteLeg, RouteResponse, SuccessCode, TableResponse, Waypoint,
};
use super::steps;
use crate::snap::Snapped;
use crate::{Router, RouterError};

/// Limits and defaults of the OSRM routes, named and counted after `osrm-routed`'s options.
/// A limit of 0 is no limit, as in `osrm-routed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OsrmOptions {
    /// `table`: at most `max_table_size²` cells, sources × destinations (`osrm-routed
    /// --max-table-size`, counted as in its table plugin). Default 100: a 100 × 100 table,
    /// or 1 call × 10,000 crews, or any other shape of at most 10,000 cells.
    pub max_table_size: usize,
    /// `route`: at most this many coordinates (`--max-viaroute-size`; default 500).
    pub max_route_size: usize,
    /// `nearest`: at most this `number` of results (`--max-nearest-size`; default 100).
    pub max_nearest: usize,
    /// The snapping radius of a coordinate without a `radiuses` entry (metres, great-circle;
    /// `--default-radius`). Default `f64::INFINITY`: the nearest road at any distance.
    pub default_radius_m: f64,
}

/// `osrm-routed`'s default `--max-table-size`.
pub const DEFAULT_MAX_TABLE_SIZE: usize = 100;

impl Default for OsrmOptions {
    fn default() -> Self {
        OsrmOptions {
            max_table_size: DEFAULT_MAX_TABLE_SIZE,
            max_route_size: 500,
            max_nearest: 100,
            default_radius_m: f64::INFINITY,
        }
    }
}

impl OsrmOptions {
    /// Whether a table of `sources × destinations` cells is within
    /// [`OsrmOptions::max_table_size`].
    pub fn table_fits(&self, sources: usize, destinations: usize) -> bool {
        self.max_table_size == 0
            || sources.saturating_mul(destinations)
                <= self.max_table_size.saturating_mul(self.max_table_size)
    }
}

/// The state of the OSRM routes.
#[derive(Clone)]
pub(super) struct Service {
    pub(super) router: Arc<Router>,
    pub(super) options: OsrmOptions,
}

/// An OSRM error: code and message, always HTTP 400 as OSRM answers.
pub(super) struct OsrmError {
    code: ErrorCode,
    message: String,
}

impl OsrmError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        OsrmError {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for OsrmError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(OsrmErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// The query string. (Through this alias, not `Query<HashMap<..>>` in the handlers' own
/// signatures: `utoipa::path` would take a `Query<T>` argument for an `IntoParams` `T`; the
/// query parameters are listed in its `params(...)` instead.)
type Params = Query<HashMap<String, String>>;

/// The description of the `profile` path parameter.
const PROFILE_DOC: &str = "Any name, e.g. `driving`: the router has one profile, the one \
    its graph was built with, and answers it whatever the name.";
/// The description of the `coordinates` path parameter, `what` saying what they are.
macro_rules! coordinates_doc {
    ($what:literal) => {
        concat!(
            $what,
            ": `lon,lat;lon,lat;...` in degrees (WGS 84), or `polyline(...)` with a \
            polyline of precision 5; a `.json` suffix is allowed."
        )
    };
}
/// The description of the `radiuses` query parameter.
const RADIUSES_DOC: &str = "Snapping radius of each coordinate, `;`-separated, one entry \
    per coordinate: metres, `unlimited`, or empty for the service's default (unlimited \
    unless configured). A coordinate with no road within its radius is `NoSegment`.";
/// The description of the `bearings` query parameter.
const BEARINGS_DOC: &str = "Accepted for compatibility with OSRM clients and ignored.";
/// The description of the `approaches` query parameter.
const APPROACHES_DOC: &str = "Accepted for compatibility with OSRM clients and ignored.";
/// The description of the `hints` query parameter.
const HINTS_DOC: &str = "Accepted for compatibility with OSRM clients and ignored \
    (the waypoints' `hint` is always empty).";
/// The description of every 400 answer.
const ERROR_DOC: &str = "An OSRM error (`application/json`): the request is malformed, \
    beyond a limit, or cannot be answered (`NoSegment`, `NoRoute`), or the routing task \
    failed (`InternalError`). A path that is not UTF-8 once percent-decoded is refused \
    with a line of text (`text/plain`) before the service sees it.";

/// Parses `lon,lat;lon,lat;...` as OSRM does.
fn parse_coordinates(text: &str) -> Result<Vec<(f64, f64)>, OsrmError> {
    let text = text.strip_suffix(".json").unwrap_or(text);
    if text.starts_with("polyline(") {
        let inner = text
            .strip_prefix("polyline(")
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| {
                OsrmError::new(
                    ErrorCode::InvalidQuery,
                    "Query string malformed close to position 9",
                )
            })?;
        let line = polyline::decode_polyline(inner, 5).map_err(|_| {
            OsrmError::new(
                ErrorCode::InvalidQuery,
                "Query string malformed close to position 9",
            )
        })?;
        return Ok(line.0.iter().map(|c| (c.x, c.y)).collect());
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    for pair in text.split(';') {
        let malformed = || {
            OsrmError::new(
                ErrorCode::InvalidQuery,
                format!("Query string malformed close to position {pos}"),
            )
        };
        let (lon, lat) = pair.split_once(',').ok_or_else(malformed)?;
        let lon: f64 = lon.trim().parse().map_err(|_| malformed())?;
        let lat: f64 = lat.trim().parse().map_err(|_| malformed())?;
        if !(lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        {
            return Err(OsrmError::new(
                ErrorCode::InvalidValue,
                "Invalid coordinate value.",
            ));
        }
        out.push((lon, lat));
        pos += pair.len() + 1;
    }
    Ok(out)
}

fn invalid_options(message: impl Into<String>) -> OsrmError {
    OsrmError::new(ErrorCode::InvalidOptions, message)
}

fn bool_param(
    params: &HashMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, OsrmError> {
    match params.get(key).map(String::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(invalid_options(format!(
            "{key} must be true or false, not {v:?}"
        ))),
    }
}

/// Parses `0;2;5` index lists, checking each index is below `n`.
fn index_list(
    params: &HashMap<String, String>,
    key: &str,
    n: usize,
) -> Result<Option<Vec<usize>>, OsrmError> {
    let Some(v) = params.get(key) else {
        return Ok(None);
    };
    if v == "all" {
        return Ok(None);
    }
    v.split(';')
        .map(|s| {
            s.parse::<usize>().ok().filter(|&i| i < n).ok_or_else(|| {
                invalid_options(format!(
                    "{key}: index {s:?} is not a coordinate index below {n}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The snapping radius of each coordinate (metres; infinite: unlimited) from `radiuses`,
/// as OSRM reads it: one entry per coordinate, each a number of metres, `unlimited`, or empty
/// for `default_radius_m`.
fn radiuses(
    params: &HashMap<String, String>,
    n: usize,
    default_radius_m: f64,
) -> Result<Vec<f64>, OsrmError> {
    let Some(v) = params.get("radiuses") else {
        return Ok(vec![default_radius_m; n]);
    };
    let entries: Vec<&str> = v.split(';').collect();
    if entries.len() != n {
        return Err(invalid_options(format!(
            "Number of elements in radiuses size {} does not match coordinate size {n}",
            entries.len()
        )));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| match *e {
            "" => Ok(default_radius_m),
            "unlimited" => Ok(f64::INFINITY),
            text => match text.parse::<f64>() {
                Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
                Ok(r) if r.is_finite() => Err(invalid_options(format!(
                    "radiuses: entry {i} must be at least 0 metres (got {text})"
                ))),
                _ => Err(OsrmError::new(
                    ErrorCode::InvalidQuery,
                    format!(
                        "radiuses: entry {i} must be a number of metres or unlimited (got {text:?})"
                    ),
                )),
            },
        })
        .collect()
}

/// Snaps each coordinate within its radius or answers OSRM's `NoSegment` naming the first
/// that has no road that near.
fn snap_all(
    router: &Router,
    coords: &[(f64, f64)],
    radii: &[f64],
) -> Result<Vec<Snapped>, OsrmError> {
    coords
        .iter()
        .zip(radii)
        .enumerate()
        .map(|(i, (&(lon, lat), &radius))| {
            router.snap_within(lat, lon, radius).map_err(|e| match e {
                RouterError::InvalidCoordinate { .. } => {
                    OsrmError::new(ErrorCode::InvalidValue, "Invalid coordinate value.")
                }
                _ => OsrmError::new(
                    ErrorCode::NoSegment,
                    format!("Could not find a matching segment for coordinate {i}"),
                ),
            })
        })
        .collect()
}

fn lonlat(c: Coord) -> [f64; 2] {
    [osm_data::round6(c.lon()), osm_data::round6(c.lat())]
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn waypoint(router: &Router, s: &Snapped) -> Waypoint {
    Waypoint {
        distance: osm_data::round6(s.distance_m),
        hint: String::new(),
        location: lonlat(s.point),
        name: router.graph().segment_name(s.segment).to_string(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Geometries {
    Polyline,
    Polyline6,
    GeoJson,
}

fn encode_geometry(points: &[Coord], kind: Geometries) -> Geometry {
    match kind {
        Geometries::GeoJson => Geometry::GeoJson(LineString {
            coordinates: points.iter().map(|&c| lonlat(c)).collect(),
            kind: LineStringType::LineString,
        }),
        Geometries::Polyline | Geometries::Polyline6 => {
            let precision = if kind == Geometries::Polyline { 5 } else { 6 };
            let line: geo::LineString<f64> = points.iter().map(|c| (c.lon(), c.lat())).collect();
            Geometry::Polyline(polyline::encode_coordinates(line, precision).unwrap_or_default())
        }
    }
}

fn simplify(points: &[Coord]) -> Vec<Coord> {
    use geo::Simplify;
    let line: geo::LineString<f64> = points.iter().map(|c| (c.lon(), c.lat())).collect();
    line.simplify(0.000_05)
        .0
        .iter()
        .map(|c| Coord::from_degrees(c.y, c.x))
        .collect()
}

/// What `annotations` asked for.
#[derive(Default, Clone, Copy)]
struct Annotations {
    duration: bool,
    distance: bool,
    speed: bool,
    weight: bool,
    nodes: bool,
}

fn parse_annotations(v: Option<&String>, table: bool) -> Result<Annotations, OsrmError> {
    let mut a = Annotations::default();
    match v.map(String::as_str) {
        None | Some("false") => {
            if table {
                a.duration = true;
            }
        }
        Some("true") if !table => {
            a = Annotations {
                duration: true,
                distance: true,
                speed: true,
                weight: true,
                nodes: true,
            };
        }
        Some(list) => {
            for item in list.split(',') {
                match item {
                    "duration" => a.duration = true,
                    "distance" => a.distance = true,
                    "speed" if !table => a.speed = true,
                    "weight" if !table => a.weight = true,
                    "nodes" if !table => a.nodes = true,
                    other => {
                        return Err(invalid_options(format!("unsupported annotation {other:?}")))
                    }
                }
            }
        }
    }
    Ok(a)
}

/// Per coordinate-pair annotation of a leg, OSRM style.
fn annotation(router: &Router, leg: &crate::Route, points: &[Coord], a: Annotations) -> Annotation {
    let g = router.graph();
    let lengths: Vec<f64> = points
        .windows(2)
        .map(|w| osm_data::haversine_m(w[0], w[1]))
        .collect();
    let total: f64 = lengths.iter().sum();
    let seconds = leg.duration_s();
    let durations: Vec<f64> = lengths
        .iter()
        .map(|l| {
            if total > 0.0 {
                round1(seconds * l / total)
            } else {
                0.0
            }
        })
        .collect();
    let mut out = Annotation::default();
    if a.distance {
        out.distance = Some(lengths.iter().map(|l| round1(*l)).collect());
    }
    if a.speed {
        out.speed = Some(
            lengths
                .iter()
                .zip(&durations)
                .map(|(l, d)| if *d > 0.0 { round1(l / d) } else { 0.0 })
                .collect(),
        );
    }
    if a.weight {
        out.weight = Some(durations.clone());
    }
    if a.duration {
        out.duration = Some(durations);
    }
    if a.nodes {
        // OSM ids of the junctions the leg passes (shape points carry no ids in the graph).
        let mut nodes: Vec<i64> = Vec::new();
        for p in &leg.pieces {
            for v in [router.arc_tail(p.arc), g.arc_head[p.arc as usize]] {
                let id = g.node_osm_id[v as usize];
                if nodes.last() != Some(&id) {
                    nodes.push(id);
                }
            }
        }
        out.nodes = Some(nodes);
    }
    out
}

/// The fastest route through the coordinates, in order.
///
/// `GET /route/v1/{profile}/{coordinates}`: one route (alternatives are not computed), one
/// leg per pair of consecutive coordinates. Other OSRM parameters are accepted and ignored.
#[utoipa::path(
    get,
    path = "/route/v1/{profile}/{coordinates}",
    tag = "osrm",
    params(
        ("profile" = String, Path, description = PROFILE_DOC, example = "driving"),
        ("coordinates" = String, Path,
            description = coordinates_doc!("At least two coordinates, visited in order"),
            example = "8.6946,49.4106;8.6765,49.4034"),
        ("overview" = Option<String>, Query, description = "The route's `geometry`: \
            `simplified` (the default), `full`, or `false` (no `geometry`)."),
        ("geometries" = Option<String>, Query, description = "Format of the lines: \
            `polyline` (precision 5, the default), `polyline6` or `geojson`."),
        ("steps" = Option<String>, Query, description = "`true` for turn-by-turn \
            `steps` in each leg; `false` (the default) leaves them empty."),
        ("alternatives" = Option<String>, Query, description = "`true`, `false` or a \
            number: accepted, but only the fastest route is answered."),
        ("annotations" = Option<String>, Query, description = "`true` for every \
            annotation, or a `,`-separated list of `duration`, `distance`, `speed`, \
            `weight`, `nodes`; `false` (the default): no `annotation`."),
        ("radiuses" = Option<String>, Query, description = RADIUSES_DOC),
        ("bearings" = Option<String>, Query, description = BEARINGS_DOC),
        ("approaches" = Option<String>, Query, description = APPROACHES_DOC),
        ("hints" = Option<String>, Query, description = HINTS_DOC),
    ),
    responses(
        (status = 200, description = "The route.", body = RouteResponse),
        (status = 400, description = ERROR_DOC, content(
            (OsrmErrorBody = "application/json"),
            (String = "text/plain"),
        )),
    ),
)]
pub(super) async fn route(
    State(Service { router, options }): State<Service>,
    Path((_profile, coordinates)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Json<RouteResponse>, OsrmError> {
    let coords = parse_coordinates(&coordinates)?;
    if coords.len() < 2 {
        return Err(invalid_options(
            "Number of coordinates needs to be at least two.",
        ));
    }
    if options.max_route_size > 0 && coords.len() > options.max_route_size {
        return Err(OsrmError::new(
            ErrorCode::TooBig,
            format!(
                "Number of entries {} is higher than current maximum ({})",
                coords.len(),
                options.max_route_size
            ),
        ));
    }
    let radii = radiuses(&params, coords.len(), options.default_radius_m)?;
    let overview = match params.get("overview").map(String::as_str) {
        None | Some("simplified") => Some(true),
        Some("full") => Some(false),
        Some("false") => None,
        Some(v) => {
            return Err(invalid_options(format!(
                "overview must be simplified, full or false, not {v:?}"
            )))
        }
    };
    let geometries = match params.get("geometries").map(String::as_str) {
        None | Some("polyline") => Geometries::Polyline,
        Some("polyline6") => Geometries::Polyline6,
        Some("geojson") => Geometries::GeoJson,
        Some(v) => {
            return Err(invalid_options(format!(
                "geometries must be polyline, polyline6 or geojson, not {v:?}"
            )))
        }
    };
    let want_steps = bool_param(&params, "steps", false)?;
    match params.get("alternatives").map(String::as_str) {
        None | Some("false") | Some("true") => {}
        Some(v) if v.parse::<u32>().is_ok() => {}
        Some(v) => {
            return Err(invalid_options(format!(
                "alternatives must be true, false or a number, not {v:?}"
            )))
        }
    }
    let annotations = parse_annotations(params.get("annotations"), false)?;
    let any_annotation = params.get("annotations").is_some_and(|v| v != "false");

    let router2 = router.clone();
    let legs = tokio_blocking(move || {
        let snapped = snap_all(&router2, &coords, &radii)?;
        let mut legs = Vec::with_capacity(snapped.len() - 1);
        for w in snapped.windows(2) {
            match router2.route(&w[0], &w[1]) {
                Ok(Some(r)) => legs.push(r),
                _ => {
                    return Err(OsrmError::new(
                        ErrorCode::NoRoute,
                        "Impossible route between points",
                    ))
                }
            }
        }
        Ok((snapped, legs))
    })
    .await?;
    let (snapped, legs) = legs;

    let mut full: Vec<Coord> = Vec::new();
    let mut route_legs = Vec::with_capacity(legs.len());
    for leg in &legs {
        for &c in &leg.geometry {
            if full.last() != Some(&c) {
                full.push(c);
            }
        }
        route_legs.push(RouteLeg {
            annotation: any_annotation
                .then(|| annotation(&router, leg, &leg.geometry, annotations)),
            distance: round1(leg.distance_m),
            duration: round1(leg.duration_s()),
            steps: if want_steps {
                steps::steps(&router, leg, |p| encode_geometry(p, geometries))
            } else {
                Vec::new()
            },
            summary: steps::summary(&router, leg),
            weight: round1(leg.duration_s()),
        });
    }
    let duration: f64 = legs.iter().map(|l| l.duration_s()).sum();
    let distance: f64 = legs.iter().map(|l| l.distance_m).sum();
    let geometry = overview.map(|simplified| {
        let points = if simplified { simplify(&full) } else { full };
        encode_geometry(&points, geometries)
    });
    Ok(Json(RouteResponse {
        code: SuccessCode::Ok,
        routes: vec![Route {
            distance: round1(distance),
            duration: round1(duration),
            geometry,
            legs: route_legs,
            weight: round1(duration),
            weight_name: "duration".into(),
        }],
        waypoints: snapped.iter().map(|s| waypoint(&router, s)).collect(),
    }))
}

/// Runs CPU-bound routing off the async workers.
async fn tokio_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OsrmError> + Send + 'static,
) -> Result<T, OsrmError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(OsrmError::new(ErrorCode::InternalError, "internal error")))
}

/// Driving times (and distances) from every source to every destination.
///
/// `GET /table/v1/{profile}/{coordinates}`: a row per source, a column per destination, a
/// `null` cell where there is no route. Other OSRM parameters are accepted and ignored.
#[utoipa::path(
    get,
    path = "/table/v1/{profile}/{coordinates}",
    tag = "osrm",
    params(
        ("profile" = String, Path, description = PROFILE_DOC, example = "driving"),
        ("coordinates" = String, Path,
            description = coordinates_doc!("At least one coordinate, the sources and \
                destinations picked by index"),
            example = "8.6946,49.4106;8.6765,49.4034;8.70,49.40"),
        ("sources" = Option<String>, Query, description = "Indices of the coordinates \
            that are sources (rows), `;`-separated, or `all` (the default)."),
        ("destinations" = Option<String>, Query, description = "Indices of the \
            coordinates that are destinations (columns), `;`-separated, or `all` (the \
            default)."),
        ("annotations" = Option<String>, Query, description = "`duration` (the \
            default), `distance`, or `duration,distance`: which of `durations` and \
            `distances` to answer."),
        ("radiuses" = Option<String>, Query, description = RADIUSES_DOC),
        ("bearings" = Option<String>, Query, description = BEARINGS_DOC),
        ("approaches" = Option<String>, Query, description = APPROACHES_DOC),
        ("hints" = Option<String>, Query, description = HINTS_DOC),
    ),
    responses(
        (status = 200, description = "The table.", body = TableResponse),
        (status = 400, description = ERROR_DOC, content(
            (OsrmErrorBody = "application/json"),
            (String = "text/plain"),
        )),
    ),
)]
pub(super) async fn table(
    State(Service { router, options }): State<Service>,
    Path((_profile, coordinates)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Json<TableResponse>, OsrmError> {
    let coords = parse_coordinates(&coordinates)?;
    if coords.is_empty() {
        return Err(invalid_options(
            "Number of coordinates needs to be at least one.",
        ));
    }
    let n = coords.len();
    let sources = index_list(&params, "sources", n)?.unwrap_or_else(|| (0..n).collect());
    let destinations = index_list(&params, "destinations", n)?.unwrap_or_else(|| (0..n).collect());
    if !options.table_fits(sources.len(), destinations.len()) {
        return Err(OsrmError::new(
            ErrorCode::TooBig,
            "Too many table coordinates",
        ));
    }
    let radii = radiuses(&params, n, options.default_radius_m)?;
    let annotations = parse_annotations(params.get("annotations"), true)?;
    let r = router.clone();
    let (sources_idx, dest_idx) = (sources.clone(), destinations.clone());
    let (snapped, durations, distances) = tokio_blocking(move || {
        let snapped = snap_all(&r, &coords, &radii)?;
        let mut index = crate::EtaIndex::many_to_one(&r);
        for (slot, &i) in sources.iter().enumerate() {
            index.set(&r, slot as u32, snapped[i]);
        }
        let mut durations = vec![vec![None; destinations.len()]; sources.len()];
        let mut distances = vec![vec![None; destinations.len()]; sources.len()];
        for (col, &j) in destinations.iter().enumerate() {
            let etas = index.etas(&r, &snapped[j]);
            for (row, &i) in sources.iter().enumerate() {
                if let Some(ms) = etas.get(row).copied().flatten() {
                    durations[row][col] = Some(round1(f64::from(ms) / 1000.0));
                    if annotations.distance {
                        if let Ok(Some(route)) = r.route(&snapped[i], &snapped[j]) {
                            distances[row][col] = Some(round1(route.distance_m));
                        }
                    }
                }
            }
        }
        Ok((snapped, durations, distances))
    })
    .await?;
    Ok(Json(TableResponse {
        code: SuccessCode::Ok,
        destinations: dest_idx
            .iter()
            .map(|&i| waypoint(&router, &snapped[i]))
            .collect(),
        distances: annotations.distance.then_some(distances),
        durations: annotations.duration.then_some(durations),
        sources: sources_idx
            .iter()
            .map(|&i| waypoint(&router, &snapped[i]))
            .collect(),
    }))
}

/// The nearest road points to a coordinate.
///
/// `GET /nearest/v1/{profile}/{lon},{lat}`: up to `number` points on distinct road
/// segments, nearest first. Other OSRM parameters are accepted and ignored.
#[utoipa::path(
    get,
    path = "/nearest/v1/{profile}/{coordinates}",
    tag = "osrm",
    params(
        ("profile" = String, Path, description = PROFILE_DOC, example = "driving"),
        ("coordinates" = String, Path,
            description = coordinates_doc!("Exactly one coordinate"),
            example = "8.6946,49.4106"),
        ("number" = Option<String>, Query, description = "How many points to answer, \
            at least 1; default 1."),
        ("radiuses" = Option<String>, Query, description = RADIUSES_DOC),
        ("bearings" = Option<String>, Query, description = BEARINGS_DOC),
        ("approaches" = Option<String>, Query, description = APPROACHES_DOC),
        ("hints" = Option<String>, Query, description = HINTS_DOC),
    ),
    responses(
        (status = 200, description = "The nearest points.", body = NearestResponse),
        (status = 400, description = ERROR_DOC, content(
            (OsrmErrorBody = "application/json"),
            (String = "text/plain"),
        )),
    ),
)]
pub(super) async fn nearest(
    State(Service { router, options }): State<Service>,
    Path((_profile, coordinates)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Json<NearestResponse>, OsrmError> {
    let coords = parse_coordinates(&coordinates)?;
    if coords.len() != 1 {
        return Err(invalid_options("Number of coordinates needs to be one."));
    }
    let number = match params.get("number") {
        None => 1,
        Some(v) => v.parse::<usize>().map_err(|_| {
            OsrmError::new(
                ErrorCode::InvalidQuery,
                format!("number must be a whole number of results, not {v:?}"),
            )
        })?,
    };
    if number == 0 {
        return Err(invalid_options("number must be at least 1"));
    }
    if options.max_nearest > 0 && number > options.max_nearest {
        return Err(OsrmError::new(
            ErrorCode::TooBig,
            format!(
                "Number of results {number} is higher than current maximum ({})",
                options.max_nearest
            ),
        ));
    }
    let radius = radiuses(&params, 1, options.default_radius_m)?[0];
    let (lon, lat) = coords[0];
    let found = router
        .snap_n_within(lat, lon, number, radius)
        .map_err(|_| OsrmError::new(ErrorCode::InvalidValue, "Invalid coordinate value."))?;
    if found.is_empty() {
        return Err(OsrmError::new(
            ErrorCode::NoSegment,
            "Could not find a matching segment for coordinate 0",
        ));
    }
    let g = router.graph();
    let waypoints = found
        .iter()
        .map(|s| {
            let ends: Vec<i64> = router
                .segment_arcs(s.segment)
                .first()
                .map(|&a| {
                    let (tail, head) = (router.arc_tail(a), g.arc_head[a as usize]);
                    let reversed = g.arc_segment(a).1;
                    let (first, last) = if reversed { (head, tail) } else { (tail, head) };
                    vec![g.node_osm_id[first as usize], g.node_osm_id[last as usize]]
                })
                .unwrap_or_default();
            let Waypoint {
                distance,
                hint,
                location,
                name,
            } = waypoint(&router, s);
            NearestWaypoint {
                distance,
                hint,
                location,
                name,
                nodes: ends,
            }
        })
        .collect();
    Ok(Json(NearestResponse {
        code: SuccessCode::Ok,
        waypoints,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_parse_like_osrm() {
        assert_eq!(
            parse_coordinates("8.69,49.41;8.67,49.40").ok().unwrap(),
            vec![(8.69, 49.41), (8.67, 49.40)]
        );
        let e = parse_coordinates("8.69,49.41;8.67").err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidQuery);
        assert!(e.message.contains("position 11"), "{}", e.message);
        assert_eq!(
            parse_coordinates("200,49").err().unwrap().code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            parse_coordinates("8,95").err().unwrap().code,
            ErrorCode::InvalidValue
        );
        assert_eq!(
            parse_coordinates("abc").err().unwrap().code,
            ErrorCode::InvalidQuery
        );
        // polyline(...) as OSRM accepts it: "_p~iF~ps|U_ulLnnqC" is (38.5,-120.2),(40.7,-120.95).
        let p = parse_coordinates("polyline(_p~iF~ps|U_ulLnnqC)")
            .ok()
            .unwrap();
        assert!((p[0].0 + 120.2).abs() < 1e-9 && (p[0].1 - 38.5).abs() < 1e-9);
    }

    fn params(radiuses: &str) -> HashMap<String, String> {
        HashMap::from([("radiuses".to_string(), radiuses.to_string())])
    }

    #[test]
    fn radiuses_read_as_osrm_reads_them() {
        let inf = f64::INFINITY;
        assert_eq!(radiuses(&HashMap::new(), 2, inf).ok().unwrap(), [inf, inf]);
        assert_eq!(radiuses(&HashMap::new(), 1, 50.0).ok().unwrap(), [50.0]);
        assert_eq!(
            radiuses(&params("10;unlimited;;0;2.5"), 5, 7.0)
                .ok()
                .unwrap(),
            [10.0, inf, 7.0, 0.0, 2.5]
        );
        assert_eq!(radiuses(&params(""), 1, 7.0).ok().unwrap(), [7.0]);
        let e = radiuses(&params("10"), 2, inf).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidOptions);
        assert_eq!(
            e.message,
            "Number of elements in radiuses size 1 does not match coordinate size 2"
        );
        assert_eq!(
            radiuses(&params("10;20;30"), 2, inf).err().unwrap().code,
            ErrorCode::InvalidOptions
        );
        assert_eq!(
            radiuses(&params("10;-1"), 2, inf).err().unwrap().code,
            ErrorCode::InvalidOptions
        );
        for bad in ["abc", "NaN", "inf", "1e999", "10m"] {
            let e = radiuses(&params(&format!("5;{bad}")), 2, inf)
                .err()
                .unwrap();
            assert_eq!(e.code, ErrorCode::InvalidQuery, "{bad}");
            assert!(e.message.starts_with("radiuses: entry 1 "), "{}", e.message);
        }
    }

    #[test]
    fn the_table_limit_counts_cells_as_osrm_does() {
        let o = OsrmOptions::default();
        assert_eq!(o.max_table_size, 100);
        assert!(o.table_fits(100, 100));
        assert!(o.table_fits(1, 1_000) && o.table_fits(1_000, 1));
        assert!(o.table_fits(1, 10_000));
        assert!(!o.table_fits(1, 10_001));
        assert!(!o.table_fits(101, 100));
        let unlimited = OsrmOptions {
            max_table_size: 0,
            ..o
        };
        assert!(unlimited.table_fits(usize::MAX, usize::MAX));
        let huge = OsrmOptions {
            max_table_size: usize::MAX,
            ..o
        };
        assert!(huge.table_fits(usize::MAX, 2));
    }
}
