//! Candidate sites and the first placement: the maximum expected covering location model
//! (MEXCLP, Daskin 1983) solved by its greedy heuristic, per hour of a shift plan.
//!
//! A demand cell `i` of weight `w_i` counts as covered by a crew at site `j` when the drive
//! from `j` to `i` takes at most the coverage time. With each crew busy with probability `q`
//! (independently, the model's assumption), a cell covered by `k` crews is served in time
//! with probability `1 − q^k`, so one more crew covering it adds `w_i (1 − q) q^k`. The greedy
//! heuristic adds crews one at a time where that gain, summed over the cells the site covers,
//! is largest.

use router::{EtaIndex, Router};

use crate::demand::Demand;
use crate::error::SimError;
use crate::places::Place;

/// Which demand cells each candidate site covers within `cover_s`, from the router's
/// driving times (`covers[site][cell]`).
pub fn coverage(router: &Router, demand: &Demand, sites: &[Place], cover_s: f64) -> Vec<Vec<bool>> {
    let mut index = EtaIndex::one_to_many(router);
    for (i, c) in demand.cells.iter().enumerate() {
        index.set(router, i as u32, c.snapped);
    }
    let limit_ms = (cover_s * 1000.0).round() as u32;
    sites
        .iter()
        .map(|s| {
            let mut etas = index.etas(router, &s.snapped);
            etas.resize(demand.cells.len(), None);
            etas.iter()
                .map(|e| e.is_some_and(|ms| ms <= limit_ms))
                .collect()
        })
        .collect()
}

/// Greedy MEXCLP: places `crews` crews on the sites, one at a time where the expected covered
/// demand grows most (ties: the lowest site), opening at most `max_sites` sites and only
/// sites `open_ok` allows. When no site adds anything (every cell saturated or out of
/// reach), the crew goes to the open site with the fewest crews. Returns the crews per site.
pub fn mexclp_greedy(
    weights: &[f64],
    covers: &[Vec<bool>],
    q: f64,
    crews: usize,
    max_sites: usize,
    open_ok: &dyn Fn(usize) -> bool,
) -> Result<Vec<u32>, SimError> {
    let mut count = vec![0u32; covers.len()];
    // How many crews cover each cell, and q^k for it.
    let mut covered_by = vec![0u32; weights.len()];
    let mut open = 0usize;
    for _ in 0..crews {
        let mut best: Option<(usize, f64)> = None;
        for (j, cov) in covers.iter().enumerate() {
            let may = if count[j] > 0 {
                true
            } else {
                open < max_sites && open_ok(j)
            };
            if !may {
                continue;
            }
            let gain: f64 = cov
                .iter()
                .zip(weights)
                .zip(&covered_by)
                .filter(|((c, _), _)| **c)
                .map(|((_, w), k)| w * (1.0 - q) * q.powi(*k as i32))
                .sum();
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((j, gain));
            }
        }
        let j = match best {
            Some((j, g)) if g > 0.0 => j,
            _ => (0..covers.len())
                .filter(|&j| count[j] > 0)
                .min_by_key(|&j| (count[j], j))
                .or(best.map(|b| b.0))
                .ok_or_else(|| {
                    SimError::setting("--candidates", "no candidate site can take a crew")
                })?,
        };
        if count[j] == 0 {
            open += 1;
        }
        count[j] += 1;
        for (k, c) in covered_by.iter_mut().zip(&covers[j]) {
            *k += u32::from(*c);
        }
    }
    Ok(count)
}

/// Road points on a grid of `spacing_m` over the demand's extent, each snapped to the roads
/// and kept if the road is within half the spacing; ids `G001`, `G002`, … (duplicates on
/// the same road point dropped).
pub fn grid(router: &Router, demand: &Demand, spacing_m: f64) -> Result<Vec<Place>, SimError> {
    if !(spacing_m.is_finite() && spacing_m >= 100.0) {
        return Err(SimError::setting(
            "--grid-m",
            format!("must be at least 100 m, not {spacing_m}"),
        ));
    }
    let cells = &demand.cells;
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for c in cells {
        lat0 = lat0.min(c.lat);
        lat1 = lat1.max(c.lat);
        lon0 = lon0.min(c.lon);
        lon1 = lon1.max(c.lon);
    }
    let dlat = spacing_m / 111_320.0;
    let dlon = spacing_m / (111_320.0 * ((lat0 + lat1) / 2.0).to_radians().cos().max(0.1));
    let mut out: Vec<Place> = Vec::new();
    let mut lat = lat0;
    while lat <= lat1 + 1e-9 {
        let mut lon = lon0;
        while lon <= lon1 + 1e-9 {
            if let Ok(s) = router.snap(lat, lon) {
                let dup = out.iter().any(|p| {
                    p.snapped.segment == s.segment && (p.snapped.fraction - s.fraction).abs() < 1e-6
                });
                if s.distance_m <= spacing_m / 2.0 && !dup {
                    out.push(Place {
                        id: String::new(),
                        name: String::new(),
                        lat: s.point.lat(),
                        lon: s.point.lon(),
                        crews: None,
                        snapped: s,
                    });
                }
            }
            lon += dlon;
        }
        lat += dlat;
    }
    let width = out.len().to_string().len().max(3);
    for (i, p) in out.iter_mut().enumerate() {
        p.id = format!("G{:0width$}", i + 1);
    }
    if out.is_empty() {
        return Err(SimError::setting("--grid-m", "no road point on the grid"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three cells (weights 5, 3, 2) and three sites: A covers cells 0 and 1, B covers 1 and
    /// 2, C covers 2. With q = 0.5:
    /// * crew 1: A gains (5 + 3)·0.5 = 4, B (3 + 2)·0.5 = 2.5, C 1 → A;
    /// * crew 2: A gains (5·0.5 + 3·0.5)·0.5 = 2, B (3·0.5 + 2)·0.5 = 1.75, C 1 → A;
    /// * crew 3: A gains (1.25 + 0.75)·0.5 = 1, B (0.75 + 2)·0.5 = 1.375, C 1 → B;
    /// * crew 4, with at most 2 sites open (A, B): A gains (1.25 + 0.375)·0.5 = 0.8125,
    ///   B (0.375 + 1)·0.5 = 0.6875 → A.
    #[test]
    fn greedy_mexclp_by_hand() {
        let w = [5.0, 3.0, 2.0];
        let covers = vec![
            vec![true, true, false],
            vec![false, true, true],
            vec![false, false, true],
        ];
        let all = |_| true;
        assert_eq!(
            mexclp_greedy(&w, &covers, 0.5, 1, 3, &all).unwrap(),
            [1, 0, 0]
        );
        assert_eq!(
            mexclp_greedy(&w, &covers, 0.5, 2, 3, &all).unwrap(),
            [2, 0, 0]
        );
        assert_eq!(
            mexclp_greedy(&w, &covers, 0.5, 3, 3, &all).unwrap(),
            [2, 1, 0]
        );
        assert_eq!(
            mexclp_greedy(&w, &covers, 0.5, 4, 2, &all).unwrap(),
            [3, 1, 0]
        );
        // Site A not allowed: crew 1: B 2.5, C 1 → B; crew 2: B (1.5 + 1)·0.5 = 1.25,
        // C 2·0.5·0.5 = 0.5 → B.
        let not_a = |j| j != 0;
        assert_eq!(
            mexclp_greedy(&w, &covers, 0.5, 2, 3, &not_a).unwrap(),
            [0, 2, 0]
        );
        // Nothing covered anywhere: the crews go to the one site opened.
        let none = vec![vec![false; 3]; 2];
        assert_eq!(mexclp_greedy(&w, &none, 0.5, 3, 2, &all).unwrap(), [3, 0]);
    }
}
