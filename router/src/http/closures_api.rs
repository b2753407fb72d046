//! The JSON of the closures API (`POST /api/closures` and what `GET /api/closures` shows),
//! for the service that serves it behind its own authentication.
//!
//! A closure is created with `{"polygon": <GeoJSON Polygon>}`, `{"way_ids": [...]}` or
//! `{"point": {"lat": .., "lon": ..}, "radius_m": ..}` (default radius 30 m), optionally
//! `"factor"` (a travel-time multiplier instead of a full closure), `"from"`/`"until"`
//! (RFC 3339) and `"reason"`. A `null` field is an absent one.
//!
//! [`parse_closure_request`] reads such a body and holds it to the limits of a request
//! ([`ClosureSpec::validate_request`]: a factor of at least 1, a radius of at most 5 km, at
//! most 1,000 polygon vertices, ...); [`read_closure_request`] only reads it, for bodies
//! accepted before (a log being replayed). Every message names the field it is about.

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::closures::{Closure, ClosureArea, ClosureSpec};
use crate::RouterError;

/// The radius of a `point` closure that gives none.
const DEFAULT_RADIUS_M: f64 = 30.0;

const FIELDS: [&str; 8] = [
    "polygon", "way_ids", "point", "radius_m", "factor", "from", "until", "reason",
];

fn malformed(message: impl Into<String>) -> RouterError {
    RouterError::MalformedClosure(message.into())
}

fn parse_time(field: &str, v: &Value) -> Result<i64, RouterError> {
    let text = v.as_str().ok_or_else(|| {
        malformed(format!(
            "{field}: must be an RFC 3339 time such as 2026-11-25T01:10:00Z (got {v})"
        ))
    })?;
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            malformed(format!(
                "{field}: must be an RFC 3339 time such as 2026-11-25T01:10:00Z (got {text:?})"
            ))
        })
}

fn format_time(ms: i64) -> Value {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn number(field: &str, v: &Value) -> Result<f64, RouterError> {
    v.as_f64()
        .ok_or_else(|| malformed(format!("{field}: must be a number (got {v})")))
}

/// Reads the exterior ring of a GeoJSON Polygon (or a Feature holding one).
fn polygon_ring(v: &Value) -> Result<Vec<(f64, f64)>, RouterError> {
    let geometry = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        v.get("geometry")
            .ok_or_else(|| malformed("polygon: the Feature has no geometry"))?
    } else {
        v
    };
    if geometry.get("type").and_then(Value::as_str) != Some("Polygon") {
        return Err(malformed("polygon: must be a GeoJSON Polygon"));
    }
    let ring = geometry
        .get("coordinates")
        .and_then(|c| c.get(0))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            malformed("polygon: coordinates must hold a ring of [lon, lat] positions")
        })?;
    ring.iter()
        .enumerate()
        .map(|(i, p)| {
            match (
                p.get(0).and_then(Value::as_f64),
                p.get(1).and_then(Value::as_f64),
            ) {
                (Some(lon), Some(lat)) => Ok((lon, lat)),
                _ => Err(malformed(format!(
                    "polygon: position {i} must be [lon, lat] (got {p})"
                ))),
            }
        })
        .collect()
}

fn point(v: &Value) -> Result<(f64, f64), RouterError> {
    let obj = v.as_object().ok_or_else(|| {
        malformed(format!(
            "point: must be {{\"lat\": .., \"lon\": ..}} (got {v})"
        ))
    })?;
    if let Some(k) = obj.keys().find(|k| !["lat", "lon"].contains(&k.as_str())) {
        return Err(malformed(format!(
            "point: unknown field {k:?}, expected lat and lon"
        )));
    }
    let get = |k: &str| {
        obj.get(k)
            .ok_or_else(|| malformed(format!("point.{k}: missing")))
            .and_then(|x| number(&format!("point.{k}"), x))
    };
    Ok((get("lat")?, get("lon")?))
}

/// A closure as the API shows it: its id, area, factor, window, whether it is in force and
/// how many arcs it covers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClosureView {
    /// Its id.
    pub id: u64,
    /// The travel-time multiplier of a slow-down; `null` for a closure.
    pub factor: Option<f64>,
    /// Whether the roads are closed (no factor).
    pub closed: bool,
    /// When it starts (RFC 3339); `null`: in force from its creation.
    pub from: Option<String>,
    /// When it ends (RFC 3339); `null`: until removed.
    pub until: Option<String>,
    /// Whether it is in force now.
    pub active: bool,
    /// How many arcs (one-way road pieces) it covers.
    pub arcs: usize,
    /// Its roads.
    #[serde(flatten)]
    pub area: AreaView,
}

/// The roads of a closure: OSM ways, a polygon, or the roads near a point.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AreaView {
    /// Every road of these OSM ways.
    Ways {
        /// The ways.
        way_ids: Vec<i64>,
    },
    /// Every road crossing or inside a polygon.
    Polygon {
        /// The polygon.
        polygon: PolygonView,
    },
    /// Every road within `radius_m` of a point.
    Near {
        /// The point.
        point: PointView,
        /// The radius, metres.
        radius_m: f64,
    },
}

/// A GeoJSON `Polygon` (its exterior ring).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolygonView {
    /// `Polygon`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "Polygon")]
    pub kind: &'static str,
    /// One ring of `[lon, lat]` positions, degrees.
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

/// A point, degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PointView {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// The body of `POST /api/closures` (see the module docs): one of `polygon`, `way_ids` or
/// `point` (with `radius_m`), and optionally `factor`, `from`, `until`, `reason`. A `null`
/// field is an absent one. Read by [`parse_closure_request`], whose messages name the field;
/// this type describes it.
#[derive(Debug, Clone, PartialEq, utoipa::ToSchema)]
#[schema(example = json!({"point": {"lat": 49.41, "lon": 8.69}, "radius_m": 50, "factor": 2,
                          "until": "2099-01-01T00:00:00Z", "reason": "roadworks"}))]
pub struct ClosureRequest {
    /// A GeoJSON `Polygon` (or a `Feature` holding one): at most 1,000 vertices, simple.
    #[schema(value_type = Option<Object>)]
    pub polygon: Option<Value>,
    /// OSM way ids.
    pub way_ids: Option<Vec<i64>>,
    /// A point: the roads near it.
    pub point: Option<PointView>,
    /// The radius around `point`, metres: more than 0, at most 5,000 (default 30).
    #[schema(maximum = 5000)]
    pub radius_m: Option<f64>,
    /// A travel-time multiplier of at least 1 (2 = half speed) instead of a closure.
    #[schema(minimum = 1)]
    pub factor: Option<f64>,
    /// When it starts, RFC 3339.
    #[schema(example = "2026-11-25T01:10:00Z")]
    pub from: Option<String>,
    /// When it ends, RFC 3339.
    pub until: Option<String>,
    /// Why (kept in the log only).
    pub reason: Option<String>,
}

fn area_view(area: &ClosureArea) -> AreaView {
    match area {
        ClosureArea::Ways(ids) => AreaView::Ways {
            way_ids: ids.clone(),
        },
        ClosureArea::Polygon(ring) => AreaView::Polygon {
            polygon: PolygonView {
                kind: "Polygon",
                coordinates: vec![ring.iter().map(|&(lon, lat)| [lon, lat]).collect()],
            },
        },
        &ClosureArea::Near { lat, lon, radius_m } => AreaView::Near {
            point: PointView { lat, lon },
            radius_m,
        },
    }
}

/// A closure as the API shows it at `now` (Unix ms).
pub fn closure_json(c: &Closure, now: i64) -> ClosureView {
    let time = |ms: Option<i64>| {
        ms.map(format_time)
            .and_then(|v| v.as_str().map(String::from))
    };
    ClosureView {
        id: c.id,
        factor: c.spec.factor,
        closed: c.spec.factor.is_none(),
        from: time(c.spec.from_ms),
        until: time(c.spec.until_ms),
        active: c.spec.active_at(now),
        arcs: c.arcs.len(),
        area: area_view(&c.spec.area),
    }
}

/// Reads the JSON body of `POST /api/closures` (see the module docs) and holds it to the
/// limits of a request ([`ClosureSpec::validate_request`]). The message names the field,
/// e.g. `factor: must be at least 1, a travel-time multiplier (got 0.5)`.
///
/// The same checks as [`read_closure_request`] followed by
/// [`ClosureSpec::validate_request`]: [`RouterError::MalformedClosure`] or
/// [`RouterError::InvalidClosure`], whose [`RouterError::closure_field_message`] names the
/// field.
pub fn parse_closure_request(body: Value) -> Result<ClosureSpec, RouterError> {
    let spec = read_closure_request(body)?;
    spec.validate_request()?;
    Ok(spec)
}

/// Reads the JSON body of `POST /api/closures` without the limits of a request: a body that
/// is not an object of the known fields with the right types is
/// [`RouterError::MalformedClosure`] naming the field. For bodies accepted before, such as
/// a log being replayed (the router still checks what it needs when the closure is added,
/// [`ClosureSpec::validate`]); a service taking a new request answers a malformed body
/// (this error) apart from values out of bounds ([`ClosureSpec::validate_request`],
/// [`RouterError::InvalidClosure`]).
pub fn read_closure_request(body: Value) -> Result<ClosureSpec, RouterError> {
    let Value::Object(fields) = body else {
        return Err(malformed(format!(
            "the body must be a JSON object (got {})",
            kind(&body)
        )));
    };
    if let Some(k) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(malformed(format!(
            "unknown field {k:?}, expected one of {}",
            FIELDS.join(", ")
        )));
    }
    // `null` is as good as absent.
    let field = |k: &str| fields.get(k).filter(|v| !v.is_null());
    if let Some(v) = field("reason") {
        if !v.is_string() {
            return Err(malformed(format!("reason: must be a string (got {v})")));
        }
    }
    let area = match (field("polygon"), field("way_ids"), field("point")) {
        (Some(p), None, None) => ClosureArea::Polygon(polygon_ring(p)?),
        (None, Some(ids), None) => ClosureArea::Ways(way_ids(ids)?),
        (None, None, Some(p)) => {
            let (lat, lon) = point(p)?;
            let radius_m = field("radius_m")
                .map(|v| number("radius_m", v))
                .transpose()?
                .unwrap_or(DEFAULT_RADIUS_M);
            ClosureArea::Near { lat, lon, radius_m }
        }
        _ => return Err(malformed("give exactly one of polygon, way_ids or point")),
    };
    if field("radius_m").is_some() && !matches!(area, ClosureArea::Near { .. }) {
        return Err(malformed("radius_m: only goes with point"));
    }
    Ok(ClosureSpec {
        area,
        factor: field("factor").map(|v| number("factor", v)).transpose()?,
        from_ms: field("from").map(|v| parse_time("from", v)).transpose()?,
        until_ms: field("until").map(|v| parse_time("until", v)).transpose()?,
    })
}

fn way_ids(v: &Value) -> Result<Vec<i64>, RouterError> {
    let list = v.as_array().ok_or_else(|| {
        malformed(format!(
            "way_ids: must be a list of OSM way ids (got {})",
            kind(v)
        ))
    })?;
    list.iter()
        .enumerate()
        .map(|(i, id)| {
            id.as_i64().ok_or_else(|| {
                malformed(format!(
                    "way_ids: entry {i} must be an OSM way id (got {id})"
                ))
            })
        })
        .collect()
}

/// What a JSON value is, for messages that should not echo a whole body.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The request body that gives back `spec` through [`parse_closure_request`] (and
/// [`read_closure_request`]).
pub fn closure_request_json(spec: &ClosureSpec) -> Value {
    let mut v = serde_json::to_value(area_view(&spec.area)).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        insert_window(m, spec);
    }
    v
}

fn insert_window(m: &mut Map<String, Value>, spec: &ClosureSpec) {
    if let Some(f) = spec.factor {
        m.insert("factor".into(), json!(f));
    }
    if let Some(t) = spec.from_ms {
        m.insert("from".into(), format_time(t));
    }
    if let Some(t) = spec.until_ms {
        m.insert("until".into(), format_time(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field-naming message of a refused request.
    fn refusal(body: Value) -> String {
        let e = parse_closure_request(body).expect_err("refused");
        e.closure_field_message()
            .unwrap_or_else(|| panic!("not a refused closure: {e}"))
            .to_string()
    }

    #[test]
    fn a_closure_request_survives_the_round_trip_through_its_json() {
        for body in [
            json!({"way_ids": [23646019, 5], "factor": 2.5, "from": "2026-11-25T01:10:00Z", "until": "2026-11-25T02:50:00Z"}),
            json!({"point": {"lat": 49.41, "lon": 8.69}, "radius_m": 50.0}),
            json!({"polygon": {"type": "Polygon", "coordinates": [[[8.68, 49.40], [8.69, 49.40], [8.69, 49.41], [8.68, 49.40]]]}}),
        ] {
            let spec = parse_closure_request(body.clone()).unwrap();
            let again = closure_request_json(&spec);
            assert_eq!(again, body);
            assert_eq!(parse_closure_request(again).unwrap(), spec);
        }
        let err = refusal(json!({"way_ids": [1], "colour": "red"}));
        assert!(err.contains("colour"), "{err}");
        let err = refusal(json!({"way_ids": [1], "from": "yesterday"}));
        assert!(
            err.starts_with("from: ") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn every_message_names_its_field() {
        for (body, start) in [
            (
                json!({"way_ids": [1], "factor": 0.5}),
                "factor: must be at least 1",
            ),
            (
                json!({"way_ids": [1], "factor": "2"}),
                "factor: must be a number",
            ),
            (json!({"way_ids": [1], "factor": -2}), "factor: "),
            (
                json!({"point": {"lat": 49.4, "lon": 8.7}, "radius_m": 6000}),
                "radius_m: must be at most 5000 m (got 6000)",
            ),
            (
                json!({"point": {"lat": 49.4, "lon": 8.7}, "radius_m": -1}),
                "radius_m: ",
            ),
            (json!({"point": {"lat": 49.4}}), "point.lon: missing"),
            (
                json!({"point": {"lat": 49.4, "lon": "8.7"}}),
                "point.lon: must be a number",
            ),
            (json!({"point": {"lat": 91, "lon": 8.7}}), "point: "),
            (json!({"point": [49.4, 8.7]}), "point: "),
            (
                json!({"way_ids": [1], "radius_m": 50}),
                "radius_m: only goes with point",
            ),
            (json!({"way_ids": "1"}), "way_ids: must be a list"),
            (json!({"way_ids": [1, 2.5]}), "way_ids: entry 1 "),
            (json!({"way_ids": []}), "way_ids: "),
            (
                json!({"way_ids": [1], "until": 5}),
                "until: must be an RFC 3339 time",
            ),
            (
                json!({"way_ids": [1], "from": "2026-11-25T02:00:00Z", "until": "2026-11-25T01:00:00Z"}),
                "until: must be after from",
            ),
            (json!({"way_ids": [1], "reason": 7}), "reason: "),
            (
                json!({"polygon": {"type": "Point", "coordinates": [8.6, 49.4]}}),
                "polygon: must be a GeoJSON Polygon",
            ),
            (
                json!({"polygon": {"type": "Polygon", "coordinates": [[[8.6, 49.4], [8.7]]]}}),
                "polygon: position 1 ",
            ),
            (
                json!({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}),
                "polygon: must be a simple polygon",
            ),
            (
                json!({"polygon": {"type": "Polygon", "coordinates": [[[8.6, 49.4], [8.7, 49.4], [8.6, 49.4]]]}}),
                "polygon: needs at least 3 distinct vertices",
            ),
        ] {
            let err = refusal(body.clone());
            assert!(err.starts_with(start), "{body}: {err}");
        }
        for body in [
            json!([1]),
            json!({}),
            json!({"way_ids": [1], "point": {"lat": 1, "lon": 1}}),
        ] {
            assert!(parse_closure_request(body).is_err());
        }
        // Nulls are absent fields; the reason is accepted and not kept.
        let spec = parse_closure_request(
            json!({"way_ids": [1], "polygon": null, "factor": null, "reason": "parade"}),
        )
        .unwrap();
        assert_eq!(spec.area, ClosureArea::Ways(vec![1]));
        assert_eq!(spec.factor, None);
        let spec = parse_closure_request(json!({"point": {"lat": 49.4, "lon": 8.7}})).unwrap();
        assert!(matches!(spec.area, ClosureArea::Near { radius_m, .. } if radius_m == 30.0));
    }

    #[test]
    fn reading_a_logged_request_skips_the_request_limits_only() {
        // A speed-up or a wide radius accepted before this version still replays.
        let body = json!({"point": {"lat": 49.4, "lon": 8.7}, "radius_m": 20000, "factor": 0.8});
        assert!(parse_closure_request(body.clone()).is_err());
        let spec = read_closure_request(body).unwrap();
        assert!(spec.validate().is_ok());
        assert!(matches!(
            read_closure_request(json!({"way_ids": [1], "colour": 1})),
            Err(RouterError::MalformedClosure(m)) if m.contains("colour")
        ));
        assert!(matches!(
            spec.validate_request(),
            Err(RouterError::InvalidClosure(m)) if m.starts_with("factor: ")
        ));
    }
}
