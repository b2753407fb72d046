//! Turn-by-turn steps and leg summaries in OSRM's shape, derived from the route's pieces.
//!
//! Consecutive pieces on the same street form one step. A step's maneuver is `depart`,
//! `arrive`, or a `turn` whose modifier comes from the change of bearing at the junction
//! (`straight`, `slight right`, `right`, `sharp right`, `uturn`, and the same to the
//! left); a change of street name without a turn is a `new name`.

use osm_data::Coord;

use super::osrm_json::{Geometry, Intersection, ManeuverType, Modifier, RouteStep, StepManeuver};
use crate::route::Route;
use crate::Router;

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn lonlat(c: Coord) -> [f64; 2] {
    [(c.lon() * 1e6).round() / 1e6, (c.lat() * 1e6).round() / 1e6]
}

/// Initial bearing from `a` to `b`, degrees clockwise from north in 0..360.
pub(super) fn bearing(a: Coord, b: Coord) -> f64 {
    let (la1, la2) = (a.lat().to_radians(), b.lat().to_radians());
    let dlon = (b.lon() - a.lon()).to_radians();
    let y = dlon.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlon.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// OSRM's modifier for a change of bearing.
pub(super) fn modifier(before: f64, after: f64) -> Modifier {
    let d = (after - before + 540.0) % 360.0 - 180.0; // -180..180, positive = to the right
    match d.abs() {
        a if a < 20.0 => Modifier::Straight,
        a if a < 60.0 => {
            if d > 0.0 {
                Modifier::SlightRight
            } else {
                Modifier::SlightLeft
            }
        }
        a if a < 140.0 => {
            if d > 0.0 {
                Modifier::Right
            } else {
                Modifier::Left
            }
        }
        a if a < 170.0 => {
            if d > 0.0 {
                Modifier::SharpRight
            } else {
                Modifier::SharpLeft
            }
        }
        _ => Modifier::Uturn,
    }
}

/// The names of the (up to) two longest named streets of a leg, as OSRM's `summary`.
pub(super) fn summary(router: &Router, leg: &Route) -> String {
    let g = router.graph();
    let mut by_name: Vec<(String, f64)> = Vec::new();
    for p in &leg.pieces {
        let name = g.segment_name(p.segment);
        if name.is_empty() {
            continue;
        }
        match by_name.iter_mut().find(|(n, _)| n == name) {
            Some((_, d)) => *d += p.distance_m,
            None => by_name.push((name.to_string(), p.distance_m)),
        }
    }
    let mut longest = by_name.clone();
    longest.sort_by(|a, b| b.1.total_cmp(&a.1));
    longest.truncate(2);
    // In driving order, as OSRM prints them.
    let order = |n: &String| by_name.iter().position(|(m, _)| m == n);
    longest.sort_by_key(|(n, _)| order(n));
    longest
        .into_iter()
        .map(|(n, _)| n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps of a leg; `encode` turns a step's shape into the requested geometry format.
pub(super) fn steps(
    router: &Router,
    leg: &Route,
    encode: impl Fn(&[Coord]) -> Geometry,
) -> Vec<RouteStep> {
    let g = router.graph();
    let snap = router.snap_index();
    // Group pieces by street name.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, p) in leg.pieces.iter().enumerate() {
        let name = g.segment_name(p.segment);
        match groups.last_mut() {
            Some((n, members)) if n == name => members.push(i),
            _ => groups.push((name.to_string(), vec![i])),
        }
    }
    let shape_of = |members: &[usize]| {
        let mut pts = Vec::new();
        for &i in members {
            let p = &leg.pieces[i];
            snap.subline(g, p.segment, p.from_fraction, p.to_fraction, &mut pts);
        }
        if pts.len() == 1 {
            pts.push(pts[0]);
        }
        pts
    };
    let mut out = Vec::with_capacity(groups.len() + 1);
    let mut previous_end_bearing: Option<f64> = None;
    let mut previous_name: Option<String> = None;
    for (name, members) in &groups {
        let pts = shape_of(members);
        let start = pts[0];
        let after = pts
            .iter()
            .find(|&&p| p != start)
            .map(|&p| bearing(start, p))
            .unwrap_or(0.0);
        let (kind, modifier) = match previous_end_bearing {
            None => (ManeuverType::Depart, None),
            Some(before) => {
                let m = modifier(before, after);
                let kind = if m != Modifier::Straight {
                    if previous_name.as_deref() == Some(name.as_str()) {
                        ManeuverType::Continue
                    } else {
                        ManeuverType::Turn
                    }
                } else {
                    ManeuverType::NewName
                };
                (kind, Some(m))
            }
        };
        let before = previous_end_bearing.unwrap_or(0.0);
        let duration: f64 = members
            .iter()
            .map(|&i| f64::from(leg.pieces[i].duration_ms) / 1000.0)
            .sum();
        let distance: f64 = members.iter().map(|&i| leg.pieces[i].distance_m).sum();
        out.push(RouteStep {
            distance: round1(distance),
            driving_side: "right".into(),
            duration: round1(duration),
            geometry: encode(&pts),
            intersections: vec![Intersection {
                bearings: vec![after.round()],
                entry: vec![true],
                in_index: None,
                location: lonlat(start),
                out_index: Some(0),
            }],
            maneuver: StepManeuver {
                bearing_after: after.round(),
                bearing_before: before.round(),
                location: lonlat(start),
                modifier,
                kind,
            },
            mode: "driving".into(),
            name: name.clone(),
            weight: round1(duration),
        });
        let n = pts.len();
        let end = pts[n - 1];
        previous_end_bearing = pts[..n - 1]
            .iter()
            .rev()
            .find(|&&p| p != end)
            .map(|&p| bearing(p, end))
            .or(Some(after));
        previous_name = Some(name.clone());
    }
    let end = leg.geometry.last().copied().unwrap_or(leg.target.point);
    let before = previous_end_bearing.unwrap_or(0.0);
    out.push(RouteStep {
        distance: 0.0,
        driving_side: "right".into(),
        duration: 0.0,
        geometry: encode(&[end, end]),
        intersections: vec![Intersection {
            bearings: vec![before.round()],
            entry: vec![true],
            in_index: Some(0),
            location: lonlat(end),
            out_index: None,
        }],
        maneuver: StepManeuver {
            bearing_after: 0.0,
            bearing_before: before.round(),
            location: lonlat(end),
            modifier: None,
            kind: ManeuverType::Arrive,
        },
        mode: "driving".into(),
        name: groups.last().map(|(n, _)| n.clone()).unwrap_or_default(),
        weight: 0.0,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_follow_the_bearing_change() {
        assert_eq!(modifier(0.0, 5.0).as_str(), "straight");
        assert_eq!(modifier(0.0, 90.0).as_str(), "right");
        assert_eq!(modifier(0.0, 270.0).as_str(), "left");
        assert_eq!(modifier(350.0, 30.0).as_str(), "slight right");
        assert_eq!(modifier(10.0, 320.0).as_str(), "slight left");
        assert_eq!(modifier(0.0, 150.0).as_str(), "sharp right");
        assert_eq!(modifier(0.0, 180.0).as_str(), "uturn");
    }

    #[test]
    fn bearings_point_the_right_way() {
        let a = Coord::from_degrees(49.0, 8.0);
        assert!((bearing(a, Coord::from_degrees(49.1, 8.0)) - 0.0).abs() < 0.1);
        assert!((bearing(a, Coord::from_degrees(49.0, 8.1)) - 90.0).abs() < 0.1);
        assert!((bearing(a, Coord::from_degrees(48.9, 8.0)) - 180.0).abs() < 0.1);
    }
}
