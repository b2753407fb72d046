//! The JSON bodies of the OSRM v5 services, as typed structs with their OpenAPI schemas
//! (see [`osrm_openapi`](super::osrm_openapi)).
//!
//! Each body is what `osrm-routed` answers, less what this router does not compute (no
//! `hint` worth reusing, no lanes, no classes). Durations are seconds, distances metres,
//! coordinates `[lon, lat]` rounded to 6 decimals; the members of an object are written in
//! alphabetical order. A member that OSRM leaves out when it was not asked for (`geometry`
//! with `overview=false`, `annotation`, a table's `durations` or `distances`) is absent, not
//! `null`; the only `null`s are the cells of a table between points with no route.

use serde::Serialize;
use utoipa::ToSchema;

/// `code` of an answer that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum SuccessCode {
    /// The request succeeded.
    Ok,
}

/// `code` of an OSRM error, answered with HTTP 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ErrorCode {
    /// The URL is malformed: coordinates, or a parameter that is not of its type.
    InvalidQuery,
    /// A coordinate is out of range (longitude -180..180, latitude -90..90).
    InvalidValue,
    /// An option is invalid: unknown value, a list of the wrong length, an index beyond
    /// the coordinates, too few coordinates.
    InvalidOptions,
    /// A coordinate has no road within its snapping radius; the message names its index.
    NoSegment,
    /// No route joins two consecutive coordinates.
    NoRoute,
    /// The request is beyond a limit of the service (coordinates, table cells, results).
    TooBig,
    /// The routing task failed unexpectedly.
    InternalError,
}

impl ErrorCode {
    /// The code as written in the JSON (`"NoSegment"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidQuery => "InvalidQuery",
            ErrorCode::InvalidValue => "InvalidValue",
            ErrorCode::InvalidOptions => "InvalidOptions",
            ErrorCode::NoSegment => "NoSegment",
            ErrorCode::NoRoute => "NoRoute",
            ErrorCode::TooBig => "TooBig",
            ErrorCode::InternalError => "InternalError",
        }
    }
}

/// The body of every OSRM error (HTTP 400).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OsrmErrorBody {
    /// What went wrong.
    pub code: ErrorCode,
    /// A sentence for a person, e.g. `Could not find a matching segment for coordinate 1`.
    pub message: String,
}

/// A coordinate snapped to the road network: a `waypoints` entry of `route`, a `sources` or
/// `destinations` entry of `table`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Waypoint {
    /// Great-circle distance from the requested coordinate to `location`, metres.
    pub distance: f64,
    /// OSRM's hint for snapping the coordinate again; always empty (hints are ignored).
    pub hint: String,
    /// The snapped point, `[lon, lat]`.
    #[schema(min_items = 2, max_items = 2)]
    pub location: [f64; 2],
    /// Name of the street snapped to; empty when it has none.
    pub name: String,
}

/// A `nearest` result: a `Waypoint` with the junctions of its segment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NearestWaypoint {
    /// Great-circle distance from the requested coordinate to `location`, metres.
    pub distance: f64,
    /// OSRM's hint for snapping the coordinate again; always empty (hints are ignored).
    pub hint: String,
    /// The snapped point, `[lon, lat]`.
    #[schema(min_items = 2, max_items = 2)]
    pub location: [f64; 2],
    /// Name of the street snapped to; empty when it has none.
    pub name: String,
    /// OSM ids of the two junctions that end the road segment snapped to, in its drawing
    /// direction (empty when the segment carries no arc).
    pub nodes: Vec<i64>,
}

/// `type` of a GeoJSON `LineString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum LineStringType {
    /// A GeoJSON LineString.
    LineString,
}

/// A GeoJSON LineString (`geometries=geojson`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LineString {
    /// The points, `[lon, lat]` each.
    pub coordinates: Vec<[f64; 2]>,
    /// Always `LineString`.
    #[serde(rename = "type")]
    pub kind: LineStringType,
}

/// A line as `geometries` asked for it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Geometry {
    /// An encoded polyline (`geometries=polyline`, precision 5, the default; or
    /// `geometries=polyline6`, precision 6), latitude first as in Google's format.
    Polyline(String),
    /// A GeoJSON LineString (`geometries=geojson`).
    GeoJson(LineString),
}

/// The values of `annotations` for each pair of consecutive points of a leg's geometry;
/// only those asked for are present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Annotation {
    /// Great-circle length of each pair, metres (1 decimal).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub distance: Option<Vec<f64>>,
    /// Driving time of each pair, seconds (1 decimal): the leg's time shared by length.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub duration: Option<Vec<f64>>,
    /// OSM ids of the junctions the leg passes, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nodes: Option<Vec<i64>>,
    /// Speed over each pair, metres per second (1 decimal; 0 where the time is 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub speed: Option<Vec<f64>>,
    /// Weight of each pair: the same as `duration` (the weight is the duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub weight: Option<Vec<f64>>,
}

/// `type` of a `StepManeuver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ManeuverType {
    /// The first step of a leg.
    #[serde(rename = "depart")]
    Depart,
    /// A turn onto another street.
    #[serde(rename = "turn")]
    Turn,
    /// A turn that stays on the same street.
    #[serde(rename = "continue")]
    Continue,
    /// The street's name changes without a turn.
    #[serde(rename = "new name")]
    NewName,
    /// The last step of a leg, of no length.
    #[serde(rename = "arrive")]
    Arrive,
}

/// `modifier` of a `StepManeuver`: the change of direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum Modifier {
    /// Less than 20° either way.
    #[serde(rename = "straight")]
    Straight,
    /// 20° to 60° to the right.
    #[serde(rename = "slight right")]
    SlightRight,
    /// 60° to 140° to the right.
    #[serde(rename = "right")]
    Right,
    /// 140° to 170° to the right.
    #[serde(rename = "sharp right")]
    SharpRight,
    /// 170° or more.
    #[serde(rename = "uturn")]
    Uturn,
    /// 140° to 170° to the left.
    #[serde(rename = "sharp left")]
    SharpLeft,
    /// 60° to 140° to the left.
    #[serde(rename = "left")]
    Left,
    /// 20° to 60° to the left.
    #[serde(rename = "slight left")]
    SlightLeft,
}

impl Modifier {
    /// The modifier as written in the JSON (`"slight right"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::Straight => "straight",
            Modifier::SlightRight => "slight right",
            Modifier::Right => "right",
            Modifier::SharpRight => "sharp right",
            Modifier::Uturn => "uturn",
            Modifier::SharpLeft => "sharp left",
            Modifier::Left => "left",
            Modifier::SlightLeft => "slight left",
        }
    }
}

/// Where and how a `RouteStep` begins.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StepManeuver {
    /// Bearing of the road after the maneuver, whole degrees clockwise from north (0 on
    /// `arrive`).
    pub bearing_after: f64,
    /// Bearing of the road before the maneuver, whole degrees clockwise from north (0 on
    /// `depart`).
    pub bearing_before: f64,
    /// Where the maneuver is, `[lon, lat]`.
    #[schema(min_items = 2, max_items = 2)]
    pub location: [f64; 2],
    /// The change of direction; absent on `depart` and `arrive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub modifier: Option<Modifier>,
    /// What the maneuver is.
    #[serde(rename = "type")]
    pub kind: ManeuverType,
}

/// The junction where a `RouteStep` begins (only that one is listed).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Intersection {
    /// Bearings of the roads at the junction that the route uses, whole degrees.
    pub bearings: Vec<f64>,
    /// Whether each road of `bearings` may be entered.
    pub entry: Vec<bool>,
    /// Index in `bearings` of the road the route arrives on; present on `arrive` only.
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub in_index: Option<u32>,
    /// Where the junction is, `[lon, lat]`.
    #[schema(min_items = 2, max_items = 2)]
    pub location: [f64; 2],
    /// Index in `bearings` of the road the route leaves on; absent on `arrive`.
    #[serde(rename = "out", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub out_index: Option<u32>,
}

/// A stretch of a leg on one street (`steps=true`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RouteStep {
    /// Length, metres (1 decimal).
    pub distance: f64,
    /// Always `right`.
    pub driving_side: String,
    /// Driving time, seconds (1 decimal).
    pub duration: f64,
    /// The step's line, in the format `geometries` asked for.
    pub geometry: Geometry,
    /// The junction where the step begins.
    pub intersections: Vec<Intersection>,
    /// How the step begins.
    pub maneuver: StepManeuver,
    /// Always `driving`.
    pub mode: String,
    /// Name of the street; empty when it has none.
    pub name: String,
    /// Weight: the same as `duration`.
    pub weight: f64,
}

/// The route between two consecutive coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RouteLeg {
    /// Per-segment values asked for with `annotations`; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub annotation: Option<Annotation>,
    /// Length, metres (1 decimal).
    pub distance: f64,
    /// Driving time, seconds (1 decimal).
    pub duration: f64,
    /// Turn-by-turn steps with `steps=true` (the last one `arrive`); empty without it.
    pub steps: Vec<RouteStep>,
    /// The names of the (up to) two longest named streets of the leg, in driving order,
    /// joined by `, `.
    pub summary: String,
    /// Weight: the same as `duration`.
    pub weight: f64,
}

/// A route through all the coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Route {
    /// Length, metres (1 decimal).
    pub distance: f64,
    /// Driving time, seconds (1 decimal).
    pub duration: f64,
    /// The whole line (`overview=simplified`, the default, or `full`); absent with
    /// `overview=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub geometry: Option<Geometry>,
    /// One leg per pair of consecutive coordinates.
    pub legs: Vec<RouteLeg>,
    /// Weight: the same as `duration`.
    pub weight: f64,
    /// Always `duration`.
    pub weight_name: String,
}

/// The answer of `route`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RouteResponse {
    /// Always `Ok`.
    pub code: SuccessCode,
    /// The fastest route (alternatives are not computed: always one).
    pub routes: Vec<Route>,
    /// The coordinates as snapped, one per coordinate.
    pub waypoints: Vec<Waypoint>,
}

/// The answer of `table`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TableResponse {
    /// Always `Ok`.
    pub code: SuccessCode,
    /// The `destinations` as snapped, one per column.
    pub destinations: Vec<Waypoint>,
    /// Driving distance from each source (row) to each destination (column), metres
    /// (1 decimal), `null` where there is no route; present with `annotations=distance` or
    /// `duration,distance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub distances: Option<Vec<Vec<Option<f64>>>>,
    /// Driving time from each source (row) to each destination (column), seconds
    /// (1 decimal), `null` where there is no route; present unless `annotations` leaves it
    /// out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub durations: Option<Vec<Vec<Option<f64>>>>,
    /// The `sources` as snapped, one per row.
    pub sources: Vec<Waypoint>,
}

/// The answer of `nearest`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NearestResponse {
    /// Always `Ok`.
    pub code: SuccessCode,
    /// The nearest road points, nearest first, up to `number`.
    pub waypoints: Vec<NearestWaypoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_of_the_codes_are_those_serialized() {
        use ErrorCode::*;
        for code in [
            InvalidQuery,
            InvalidValue,
            InvalidOptions,
            NoSegment,
            NoRoute,
            TooBig,
            InternalError,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        use Modifier::*;
        for m in [
            Straight,
            SlightRight,
            Right,
            SharpRight,
            Uturn,
            SharpLeft,
            Left,
            SlightLeft,
        ] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
    }
}
