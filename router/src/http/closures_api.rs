//! `POST /api/closures`, `GET /api/closures`, `GET|DELETE /api/closures/{id}`: live road
//! closures and slow-downs.
//!
//! A closure is created with `{"polygon": <GeoJSON Polygon>}`, `{"way_ids": [...]}` or
//! `{"point": {"lat": .., "lon": ..}, "radius_m": ..}`, optionally `"factor"` (a travel-time
//! multiplier instead of a full closure), `"from"`/`"until"` (RFC 3339) and `"reason"`, and
//! answers `201` with its `id`. Errors are `{"error": .., "message": ..}`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::closures::{Closure, ClosureArea, ClosureSpec};
use crate::{Router, RouterError};

use super::now_ms;

/// An API error as JSON.
pub(super) struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "bad_request", message.into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewClosure {
    polygon: Option<Value>,
    way_ids: Option<Vec<i64>>,
    point: Option<Point>,
    radius_m: Option<f64>,
    factor: Option<f64>,
    from: Option<String>,
    until: Option<String>,
    #[allow(dead_code)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Point {
    lat: f64,
    lon: f64,
}

fn parse_time(field: &str, v: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            bad_request(format!(
                "{field} must be an RFC 3339 time such as 2026-11-25T01:10:00Z, not {v:?}"
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

/// Reads the exterior ring of a GeoJSON Polygon (or a Feature holding one).
fn polygon_ring(v: &Value) -> Result<Vec<(f64, f64)>, ApiError> {
    let geometry = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        v.get("geometry")
            .ok_or_else(|| bad_request("the Feature has no geometry"))?
    } else {
        v
    };
    if geometry.get("type").and_then(Value::as_str) != Some("Polygon") {
        return Err(bad_request("polygon must be a GeoJSON Polygon"));
    }
    let ring = geometry
        .get("coordinates")
        .and_then(|c| c.get(0))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            bad_request("polygon.coordinates must hold a ring of [lon, lat] positions")
        })?;
    ring.iter()
        .map(|p| {
            match (
                p.get(0).and_then(Value::as_f64),
                p.get(1).and_then(Value::as_f64),
            ) {
                (Some(lon), Some(lat)) => Ok((lon, lat)),
                _ => Err(bad_request("each polygon position must be [lon, lat]")),
            }
        })
        .collect()
}

fn area_json(area: &ClosureArea) -> Value {
    match area {
        ClosureArea::Ways(ids) => json!({"way_ids": ids}),
        ClosureArea::Polygon(ring) => {
            json!({"polygon": {"type": "Polygon", "coordinates": [ring.iter().map(|&(lon, lat)| json!([lon, lat])).collect::<Vec<_>>()]}})
        }
        ClosureArea::Near { lat, lon, radius_m } => {
            json!({"point": {"lat": lat, "lon": lon}, "radius_m": radius_m})
        }
    }
}

/// A closure as the API shows it at `now` (Unix ms): its id, area, factor, window, whether
/// it is in force and how many arcs it covers.
pub fn closure_json(c: &Closure, now: i64) -> Value {
    let area = area_json(&c.spec.area);
    let mut v = json!({
        "id": c.id,
        "factor": c.spec.factor,
        "closed": c.spec.factor.is_none(),
        "from": c.spec.from_ms.map(format_time),
        "until": c.spec.until_ms.map(format_time),
        "active": c.spec.active_at(now),
        "arcs": c.arcs.len(),
    });
    if let (Value::Object(m), Value::Object(a)) = (&mut v, area) {
        m.extend(a);
    }
    v
}

/// Reads the JSON body of `POST /api/closures` (see the module docs); the message says
/// what is wrong.
pub fn parse_closure_request(body: Value) -> Result<ClosureSpec, String> {
    let req: NewClosure = serde_json::from_value(body).map_err(|e| e.to_string())?;
    spec_of(req).map_err(|e| e.2)
}

/// The request body that gives back `spec` through [`parse_closure_request`].
pub fn closure_request_json(spec: &ClosureSpec) -> Value {
    let mut v = area_json(&spec.area);
    if let Value::Object(m) = &mut v {
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
    v
}

fn spec_of(req: NewClosure) -> Result<ClosureSpec, ApiError> {
    let area = match (req.polygon, req.way_ids, req.point) {
        (Some(p), None, None) => ClosureArea::Polygon(polygon_ring(&p)?),
        (None, Some(ids), None) => ClosureArea::Ways(ids),
        (None, None, Some(p)) => ClosureArea::Near {
            lat: p.lat,
            lon: p.lon,
            radius_m: req.radius_m.unwrap_or(30.0),
        },
        _ => return Err(bad_request("give exactly one of polygon, way_ids or point")),
    };
    Ok(ClosureSpec {
        area,
        factor: req.factor,
        from_ms: req
            .from
            .as_deref()
            .map(|v| parse_time("from", v))
            .transpose()?,
        until_ms: req
            .until
            .as_deref()
            .map(|v| parse_time("until", v))
            .transpose()?,
    })
}

/// `POST /api/closures`.
pub(super) async fn create(
    State(router): State<Arc<Router>>,
    body: Result<Json<NewClosure>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) = body.map_err(|e| bad_request(e.body_text()))?;
    let spec = spec_of(req)?;
    let now = now_ms();
    let r = router.clone();
    let closure = tokio::task::spawn_blocking(move || r.add_closure(spec, now))
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            )
        })?
        .map_err(|e| match e {
            RouterError::InvalidClosure(m) => {
                ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_closure", m)
            }
            other => ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                other.to_string(),
            ),
        })?;
    if closure.arcs.is_empty() {
        tracing::info!(id = closure.id, "closure covers no road of the map");
    }
    Ok((StatusCode::CREATED, Json(closure_json(&closure, now))))
}

/// `GET /api/closures`.
pub(super) async fn list(State(router): State<Arc<Router>>) -> Json<Value> {
    let now = now_ms();
    Json(json!(router
        .closures()
        .iter()
        .map(|c| closure_json(c, now))
        .collect::<Vec<_>>()))
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| {
        ApiError(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no closure with id {id:?}"),
        )
    })
}

/// `GET /api/closures/{id}`.
pub(super) async fn get_one(
    State(router): State<Arc<Router>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    router
        .closures()
        .iter()
        .find(|c| c.id == id)
        .map(|c| Json(closure_json(c, now_ms())))
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no closure with id {id}"),
            )
        })
}

/// `DELETE /api/closures/{id}`.
pub(super) async fn remove(
    State(router): State<Arc<Router>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let r = router.clone();
    tokio::task::spawn_blocking(move || r.remove_closure(id, now_ms()))
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            )
        })?
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(|_| {
            ApiError(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no closure with id {id}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = parse_closure_request(json!({"way_ids": [1], "colour": "red"})).unwrap_err();
        assert!(err.contains("colour"), "{err}");
        let err = parse_closure_request(json!({"way_ids": [1], "from": "yesterday"})).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
    }
}
