//! Live road closures and slow-downs, each with an optional time window.
//!
//! A closure names a set of arcs (by OSM way id, by a polygon the roads cross, or by a
//! radius around a point) and either closes them (travel time infinite) or multiplies
//! their travel time by a factor. The effective weight of an arc is its base time times
//! every active factor, or infinite if any active closure closes it. The [`crate::Router`]
//! turns a change of effective weights into a partial CCH re-customization.

use crate::cch::INF;

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
    /// `None`: closed. `Some(f)`: travel time multiplied by `f` (> 0; 2.0 = half speed).
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

    /// Checks the values a client may get wrong.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(f) = self.factor {
            if !(f.is_finite() && f > 0.0) {
                return Err(format!("factor must be a positive number, not {f}"));
            }
        }
        if let (Some(f), Some(u)) = (self.from_ms, self.until_ms) {
            if u <= f {
                return Err("'until' must be after 'from'".into());
            }
        }
        match &self.area {
            ClosureArea::Ways(w) if w.is_empty() => Err("way_ids is empty".into()),
            ClosureArea::Polygon(ring) if ring.len() < 3 => {
                Err("a polygon needs at least 3 points".into())
            }
            ClosureArea::Polygon(ring)
                if ring.iter().any(|&(lon, lat)| {
                    !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat)
                }) =>
            {
                Err("polygon coordinates must be [longitude, latitude] in degrees".into())
            }
            ClosureArea::Near { radius_m, .. } if !(radius_m.is_finite() && *radius_m > 0.0) => {
                Err(format!("radius must be positive, not {radius_m}"))
            }
            _ => Ok(()),
        }
    }
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
}
