//! Live road closures and slow-downs, each with an optional time window.
//!
//! A closure names a set of arcs (by OSM way id, by a polygon the roads cross, or by a
//! radius around a point) and either closes them (travel time infinite) or multiplies
//! their travel time by a factor. The effective weight of an arc is its base time times
//! every active factor, or infinite if any active closure closes it. The [`crate::Router`]
//! turns a change of effective weights into a partial CCH re-customization.

use crate::cch::INF;
use crate::error::RouterError;

/// Which roads a closure applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum ClosureArea {
    /// Every arc of these OSM ways.
    Ways(Vec<i64>),
    /// Every arc whose road crosses or lies inside this polygon (exterior ring, `(lon, lat)`
    /// in degrees, as in GeoJSON).
    Polygon(Vec<(f64, f64)>),
    /// Every arc whose road passes within `radius_m` of a point.
    Near {
        /// Latitude, degrees.
        lat: f64,
        /// Longitude, degrees.
        lon: f64,
        /// Radius, metres.
        radius_m: f64,
    },
}

/// A closure or slow-down as requested.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureSpec {
    /// The roads.
    pub area: ClosureArea,
    /// `None`: closed. `Some(f)`: travel time multiplied by `f` (> 0, and at least 1 when a
    /// client asks; 2.0 = half speed).
    pub factor: Option<f64>,
    /// Start of the window, Unix milliseconds (`None`: already active).
    pub from_ms: Option<i64>,
    /// End of the window, Unix milliseconds (`None`: until removed).
    pub until_ms: Option<i64>,
}

impl ClosureSpec {
    /// Whether the closure is in force at `now_ms`.
    pub fn active_at(&self, now_ms: i64) -> bool {
        self.from_ms.is_none_or(|f| f <= now_ms) && self.until_ms.is_none_or(|u| now_ms < u)
    }

    /// Checks what any closure must satisfy for the router to apply it: a factor that is a
    /// positive number, a window that ends after it starts, at least one way id, a polygon of
    /// at least 3 distinct points in range that does not cross itself, a point in range with
    /// a positive radius. The message names the field. Closures asked for by clients are
    /// held to [`ClosureSpec::validate_request`] as well.
    pub fn validate(&self) -> Result<(), RouterError> {
        if let Some(f) = self.factor {
            if !(f.is_finite() && f > 0.0) {
                return Err(invalid(format!(
                    "factor: must be a positive number (got {f})"
                )));
            }
        }
        if let (Some(f), Some(u)) = (self.from_ms, self.until_ms) {
            if u <= f {
                return Err(invalid(format!(
                    "until: must be after from (got from {f} ms, until {u} ms since 1970)"
                )));
            }
        }
        match &self.area {
            ClosureArea::Ways(w) if w.is_empty() => {
                Err(invalid("way_ids: must list at least one way"))
            }
            ClosureArea::Ways(_) => Ok(()),
            ClosureArea::Polygon(ring) => validate_ring(ring),
            ClosureArea::Near { lat, lon, radius_m } => {
                if !in_range(*lat, *lon) {
                    return Err(invalid(format!(
                        "point: must be a latitude and longitude in degrees (got lat {lat}, lon {lon})"
                    )));
                }
                if !(radius_m.is_finite() && *radius_m > 0.0) {
                    return Err(invalid(format!(
                        "radius_m: must be a positive number of metres (got {radius_m})"
                    )));
                }
                Ok(())
            }
        }
    }

    /// [`ClosureSpec::validate`] and the limits of a closure a client asks for (the HTTP
    /// API's): a `factor` of at least 1 (below 1 it would speed the roads up), a radius of at
    /// most [`MAX_REQUEST_RADIUS_M`], at most [`MAX_REQUEST_POLYGON_VERTICES`] polygon
    /// vertices and [`MAX_REQUEST_WAYS`] way ids. The message names the field, e.g.
    /// `factor: must be at least 1 (got 0.5)`.
    pub fn validate_request(&self) -> Result<(), RouterError> {
        if let Some(f) = self.factor {
            if !(f.is_finite() && f >= 1.0) {
                return Err(invalid(format!(
                    "factor: must be at least 1, a travel-time multiplier (got {f})"
                )));
            }
        }
        match &self.area {
            ClosureArea::Ways(w) if w.len() > MAX_REQUEST_WAYS => {
                return Err(invalid(format!(
                    "way_ids: at most {MAX_REQUEST_WAYS} ways (got {})",
                    w.len()
                )));
            }
            ClosureArea::Polygon(ring) if ring.len() > MAX_REQUEST_POLYGON_VERTICES => {
                return Err(invalid(format!(
                    "polygon: at most {MAX_REQUEST_POLYGON_VERTICES} vertices (got {})",
                    ring.len()
                )));
            }
            ClosureArea::Near { radius_m, .. } if *radius_m > MAX_REQUEST_RADIUS_M => {
                return Err(invalid(format!(
                    "radius_m: must be at most {MAX_REQUEST_RADIUS_M} m (got {radius_m})"
                )));
            }
            _ => {}
        }
        self.validate()
    }
}

/// The largest `radius_m` of a closure a client may ask for (metres).
pub const MAX_REQUEST_RADIUS_M: f64 = 5_000.0;
/// The most vertices of a closure polygon a client may send (the closing one included).
pub const MAX_REQUEST_POLYGON_VERTICES: usize = 1_000;
/// The most way ids of one closure a client may send.
pub const MAX_REQUEST_WAYS: usize = 10_000;

fn invalid(message: impl Into<String>) -> RouterError {
    RouterError::InvalidClosure(message.into())
}

fn in_range(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// A polygon's exterior ring (`(lon, lat)`): vertices in range, at least 3 distinct, simple.
fn validate_ring(ring: &[(f64, f64)]) -> Result<(), RouterError> {
    if let Some((i, &(lon, lat))) = ring
        .iter()
        .enumerate()
        .find(|(_, &(lon, lat))| !in_range(lat, lon))
    {
        return Err(invalid(format!(
            "polygon: vertex {i} must be [longitude, latitude] in degrees (got [{lon}, {lat}])"
        )));
    }
    let mut distinct: Vec<(f64, f64)> = ring.to_vec();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(invalid(format!(
            "polygon: needs at least 3 distinct vertices (got {})",
            distinct.len()
        )));
    }
    use geo::{Area, Validation};
    let polygon = geo::Polygon::new(geo::LineString::from(ring.to_vec()), vec![]);
    polygon
        .check_validation()
        .map_err(|e| invalid(format!("polygon: must be a simple polygon, but its {e}")))?;
    if polygon.unsigned_area() == 0.0 {
        return Err(invalid(
            "polygon: encloses no area (its vertices are on a line)",
        ));
    }
    Ok(())
}

/// A closure in force or scheduled, with the arcs it resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    /// Its id.
    pub id: u64,
    /// As requested.
    pub spec: ClosureSpec,
    /// The arcs it applies to.
    pub arcs: Vec<u32>,
}

/// Computes the effective weight of every arc at `now_ms`.
pub fn effective_weights(base: &[u32], closures: &[Closure], now_ms: i64) -> Vec<u32> {
    let mut factor = vec![1.0f64; base.len()];
    let mut closed = vec![false; base.len()];
    for c in closures.iter().filter(|c| c.spec.active_at(now_ms)) {
        for &a in &c.arcs {
            match c.spec.factor {
                None => closed[a as usize] = true,
                Some(f) => factor[a as usize] *= f,
            }
        }
    }
    base.iter()
        .zip(factor.iter().zip(&closed))
        .map(|(&w, (&f, &c))| weight(w, f, c))
        .collect()
}

/// The effective weights of the sorted, de-duplicated `arcs` only, at `now_ms`: the
/// incremental form of [`effective_weights`], whose cost follows the closures and not the graph.
pub fn effective_weights_of(
    arcs: &[u32],
    base: &[u32],
    closures: &[Closure],
    now_ms: i64,
) -> Vec<u32> {
    debug_assert!(arcs.windows(2).all(|w| w[0] < w[1]));
    let mut factor = vec![1.0f64; arcs.len()];
    let mut closed = vec![false; arcs.len()];
    for c in closures.iter().filter(|c| c.spec.active_at(now_ms)) {
        for a in &c.arcs {
            if let Ok(i) = arcs.binary_search(a) {
                match c.spec.factor {
                    None => closed[i] = true,
                    Some(f) => factor[i] *= f,
                }
            }
        }
    }
    arcs.iter()
        .enumerate()
        .map(|(i, &a)| weight(base[a as usize], factor[i], closed[i]))
        .collect()
}

fn weight(base: u32, factor: f64, closed: bool) -> u32 {
    if closed || base == INF {
        INF
    } else if factor == 1.0 {
        base
    } else {
        (f64::from(base) * factor).round().min(f64::from(INF - 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closure(
        id: u64,
        arcs: Vec<u32>,
        factor: Option<f64>,
        from: Option<i64>,
        until: Option<i64>,
    ) -> Closure {
        Closure {
            id,
            spec: ClosureSpec {
                area: ClosureArea::Ways(vec![1]),
                factor,
                from_ms: from,
                until_ms: until,
            },
            arcs,
        }
    }

    #[test]
    fn windows_factors_and_closures_combine() {
        let base = [100, 200, 300, 400];
        let cs = [
            closure(1, vec![0], None, Some(1_000), Some(2_000)),
            closure(2, vec![1, 2], Some(2.0), None, None),
            closure(3, vec![2], Some(1.5), None, Some(500)),
        ];
        assert_eq!(effective_weights(&base, &cs, 0), vec![100, 400, 900, 400]);
        assert_eq!(
            effective_weights(&base, &cs, 1_000),
            vec![INF, 400, 600, 400]
        );
        assert_eq!(
            effective_weights(&base, &cs, 2_000),
            vec![100, 400, 600, 400]
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut s = ClosureSpec {
            area: ClosureArea::Ways(vec![]),
            factor: None,
            from_ms: None,
            until_ms: None,
        };
        assert!(s.validate().is_err());
        s.area = ClosureArea::Ways(vec![5]);
        assert!(s.validate().is_ok());
        s.factor = Some(0.0);
        assert!(s.validate().is_err());
        s.factor = Some(f64::NAN);
        assert!(s.validate().is_err());
        s.factor = None;
        s.from_ms = Some(10);
        s.until_ms = Some(5);
        assert!(s.validate().is_err());
        s.from_ms = None;
        s.area = ClosureArea::Polygon(vec![(0.0, 0.0), (1.0, 1.0)]);
        assert!(s.validate().is_err());
        s.area = ClosureArea::Polygon(vec![(0.0, 0.0), (1.0, 1.0), (500.0, 0.0)]);
        assert!(s.validate().is_err());
    }

    fn message(s: &ClosureSpec, request: bool) -> String {
        let r = if request {
            s.validate_request()
        } else {
            s.validate()
        };
        match r {
            Err(RouterError::InvalidClosure(m)) => m,
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn a_requested_closure_is_held_to_the_api_limits_and_the_message_names_the_field() {
        let near = |radius_m| ClosureSpec {
            area: ClosureArea::Near {
                lat: 49.41,
                lon: 8.69,
                radius_m,
            },
            factor: Some(2.0),
            from_ms: None,
            until_ms: None,
        };
        assert!(near(30.0).validate_request().is_ok());
        assert!(near(5_000.0).validate_request().is_ok());
        // The router itself takes any positive radius (the simulator's map-wide traffic).
        assert!(near(20_000.0).validate().is_ok());
        assert_eq!(
            message(&near(5_000.5), true),
            "radius_m: must be at most 5000 m (got 5000.5)"
        );
        assert!(message(&near(0.0), true).starts_with("radius_m: "));
        assert!(message(&near(f64::INFINITY), true).starts_with("radius_m: "));
        let mut s = near(30.0);
        for (f, ok) in [
            (1.0, true),
            (0.5, false),
            (0.0, false),
            (f64::NAN, false),
            (f64::INFINITY, false),
        ] {
            s.factor = Some(f);
            assert_eq!(s.validate_request().is_ok(), ok, "factor {f}");
            if !ok {
                let m = message(&s, true);
                assert!(m.starts_with("factor: must be at least 1"), "{m}");
            }
        }
        assert!(message(&s, true).contains("got inf"));
        s.factor = Some(0.5);
        assert!(s.validate().is_ok(), "a speed-up is the caller's business");
        s.factor = None;
        s.area = ClosureArea::Near {
            lat: f64::NAN,
            lon: 8.69,
            radius_m: 30.0,
        };
        assert!(message(&s, false).starts_with("point: "));
        s.area = ClosureArea::Ways(vec![1; 10_001]);
        assert_eq!(message(&s, true), "way_ids: at most 10000 ways (got 10001)");
        s.area = ClosureArea::Ways(vec![]);
        assert!(message(&s, true).starts_with("way_ids: "));
        s.area = ClosureArea::Ways(vec![1]);
        s.from_ms = Some(10);
        s.until_ms = Some(10);
        assert!(message(&s, true).starts_with("until: must be after from"));
    }

    #[test]
    fn polygons_must_be_simple_in_range_and_of_bounded_size() {
        let spec = |ring: Vec<(f64, f64)>| ClosureSpec {
            area: ClosureArea::Polygon(ring),
            factor: None,
            from_ms: None,
            until_ms: None,
        };
        let triangle = vec![(8.68, 49.40), (8.69, 49.40), (8.69, 49.41), (8.68, 49.40)];
        assert!(spec(triangle.clone()).validate_request().is_ok());
        // Open rings are closed.
        assert!(spec(triangle[..3].to_vec()).validate_request().is_ok());
        let m = message(
            &spec(vec![(8.68, 49.40), (8.69, 49.40), (8.68, 49.40)]),
            true,
        );
        assert_eq!(m, "polygon: needs at least 3 distinct vertices (got 2)");
        let m = message(
            &spec(vec![(8.68, 49.40), (8.69, f64::NAN), (8.69, 49.41)]),
            true,
        );
        assert!(
            m.starts_with("polygon: vertex 1 must be [longitude, latitude]"),
            "{m}"
        );
        let m = message(
            &spec(vec![(8.68, 49.40), (8.69, 95.0), (8.69, 49.41)]),
            true,
        );
        assert!(m.starts_with("polygon: vertex 1 "), "{m}");
        // A bow tie crosses itself.
        let bow_tie = vec![(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)];
        let m = message(&spec(bow_tie), false);
        assert!(m.starts_with("polygon: must be a simple polygon"), "{m}");
        // Three points on a line enclose nothing.
        assert!(spec(vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)])
            .validate()
            .is_err());
        // 1000 vertices at most, closing one included.
        let circle = |n: usize| -> Vec<(f64, f64)> {
            (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    (8.69 + 0.01 * a.cos(), 49.41 + 0.01 * a.sin())
                })
                .collect()
        };
        assert!(spec(circle(1_000)).validate_request().is_ok());
        assert_eq!(
            message(&spec(circle(1_001)), true),
            "polygon: at most 1000 vertices (got 1001)"
        );
    }
}
