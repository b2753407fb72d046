//! Stations and hospitals: read from CSV (`id,lat,lon` with an optional `crews` column for
//! stations and `name` for hospitals) or GeoJSON (a FeatureCollection of Points with the
//! same properties), or placed automatically, spread over the demand: a weighted k-means
//! of the demand cells (k-means++ start from a fixed seed, 25 Lloyd rounds), each centre
//! moved to the nearest road.

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::{Router, Snapped};
use serde::Serialize;

use crate::csv_input;
use crate::demand::Demand;
use crate::error::{RowError, SimError};

/// A station or a hospital.
#[derive(Debug, Clone, Serialize)]
pub struct Place {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// The crews based there, when the input says (stations only).
    pub crews: Option<usize>,
    /// Snapped to the roads.
    #[serde(skip)]
    pub snapped: Snapped,
}

/// What a file describes, for messages.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Ambulance stations.
    Station,
    /// Hospitals.
    Hospital,
    /// Candidate sites of a plan.
    Candidate,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Station => "station",
            Kind::Hospital => "hospital",
            Kind::Candidate => "candidate site",
        }
    }
}

struct RawPlace {
    id: String,
    name: String,
    lat: f64,
    lon: f64,
    crews: Option<usize>,
}

/// Reads places from a `.csv`, `.geojson` or `.json` file and snaps them; a place off the
/// map is an error naming it.
pub fn load(router: &Router, path: &Path, kind: Kind) -> Result<Vec<Place>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io("read", path, e))?;
    let lower = path.to_string_lossy().to_lowercase();
    let raw = if lower.ends_with(".json") || lower.ends_with(".geojson") {
        parse_geojson(&text, path, kind)?
    } else {
        parse_csv(&text, path, kind)?
    };
    if raw.is_empty() {
        return Err(SimError::setting(
            match kind {
                Kind::Station => "--stations-file",
                Kind::Hospital => "--hospitals-file",
                Kind::Candidate => "--candidates",
            },
            format!("{} lists no {}", path.display(), kind.as_str()),
        ));
    }
    raw.into_iter()
        .map(|r| {
            let snapped = router
                .snap(r.lat, r.lon)
                .map_err(|cause| SimError::OffMap {
                    what: kind.as_str(),
                    id: r.id.clone(),
                    lat: r.lat,
                    lon: r.lon,
                    cause,
                })?;
            Ok(Place {
                id: r.id,
                name: r.name,
                lat: r.lat,
                lon: r.lon,
                crews: r.crews,
                snapped,
            })
        })
        .collect()
}

fn parse_csv(text: &str, path: &Path, kind: Kind) -> Result<Vec<RawPlace>, SimError> {
    let table = csv_input::read(text, path)?;
    let col = |n: &str| table.col(n);
    let (Some(ci), Some(clat), Some(clon)) = (col("id"), col("lat"), col("lon")) else {
        return Err(csv_input::header_error(
            path,
            "the header must name the columns id, lat and lon",
        ));
    };
    let (cname, ccrews) = (col("name"), col("crews"));
    let mut out = Vec::new();
    let mut errors = table.errors.clone();
    for (line, rec) in &table.rows {
        let line = *line;
        let get = |i: usize| rec.get(i).unwrap_or("");
        let id = get(ci).to_string();
        let lat = get(clat).parse::<f64>().ok().filter(|v| v.is_finite());
        let lon = get(clon).parse::<f64>().ok().filter(|v| v.is_finite());
        let crews = match ccrews.map(get) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| v.to_string()),
        };
        match (id.is_empty(), lat, lon, crews) {
            (false, Some(lat), Some(lon), Ok(crews)) => out.push(RawPlace {
                name: cname.map(get).unwrap_or("").to_string(),
                id,
                lat,
                lon,
                crews,
            }),
            (true, ..) => errors.push(RowError {
                line,
                reason: format!("{} without an id", kind.as_str()),
            }),
            (_, _, _, Err(v)) => errors.push(RowError {
                line,
                reason: format!("crews {v:?} is not a whole number"),
            }),
            _ => errors.push(RowError {
                line,
                reason: format!("lat {:?} / lon {:?} are not numbers", get(clat), get(clon)),
            }),
        }
    }
    csv_input::checked(path, errors, out)
}

fn parse_geojson(text: &str, path: &Path, kind: Kind) -> Result<Vec<RawPlace>, SimError> {
    let bad = |i: usize, reason: String| SimError::Malformed {
        path: path.to_path_buf(),
        errors: vec![RowError {
            line: i as u64,
            reason,
        }],
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(e.line(), e.to_string()))?;
    let features = v
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| bad(0, "not a GeoJSON FeatureCollection".into()))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let coords = f
            .pointer("/geometry/coordinates")
            .and_then(|c| c.as_array())
            .filter(|_| f.pointer("/geometry/type").and_then(|t| t.as_str()) == Some("Point"));
        let props = f.get("properties");
        let prop = |k: &str| props.and_then(|p| p.get(k));
        let id = prop("id")
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| format!("{}{}", &kind.as_str()[..1].to_uppercase(), i + 1));
        match coords.map(|c| {
            (
                c.first().and_then(|x| x.as_f64()),
                c.get(1).and_then(|x| x.as_f64()),
            )
        }) {
            Some((Some(lon), Some(lat))) => out.push(RawPlace {
                id,
                name: prop("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .to_string(),
                lat,
                lon,
                crews: prop("crews").and_then(|c| c.as_u64()).map(|c| c as usize),
            }),
            _ => errors.push(RowError {
                line: 0,
                reason: format!("feature {} is not a Point with [lon, lat]", i + 1),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(SimError::Malformed {
            path: path.to_path_buf(),
            errors,
        });
    }
    Ok(out)
}

/// The squared distance of two projected points: the one measure of the placement, so
/// that the sorted search and a full scan compare the same numbers.
fn d2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// The index of the first of `items` with the least `dist` (0 if there are none), each
/// distance computed once.
fn nearest(items: &[[f64; 2]], dist: impl Fn([f64; 2]) -> f64) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, &x) in items.iter().enumerate() {
        let d = dist(x);
        if i == 0 || d.total_cmp(&best.1).is_lt() {
            best = (i, d);
        }
    }
    best.0
}

/// Points sorted by their first coordinate, for exact nearest-point searches that stop
/// once the gap in that coordinate alone exceeds the best distance found.
struct ByX<'a> {
    points: &'a [[f64; 2]],
    /// Indices into `points`, ascending by first coordinate.
    order: Vec<usize>,
}

impl<'a> ByX<'a> {
    fn new(points: &'a [[f64; 2]]) -> Self {
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| points[a][0].total_cmp(&points[b][0]).then(a.cmp(&b)));
        ByX { points, order }
    }

    /// The index of the point nearest to `p` (squared distance, the lowest index among
    /// equals; 0 if there are none): what [`nearest`] over all points gives.
    fn nearest(&self, p: [f64; 2]) -> usize {
        let start = self.order.partition_point(|&i| self.points[i][0] < p[0]);
        let mut best = (f64::INFINITY, usize::MAX);
        let offer = |best: &mut (f64, usize), i: usize| {
            let d = d2(p, self.points[i]);
            if d.total_cmp(&best.0).then(i.cmp(&best.1)).is_lt() {
                *best = (d, i);
            }
        };
        // Outwards from `p`'s place, each side until its gap alone is beyond the best.
        let (mut lo, mut hi) = (start, start);
        loop {
            let gap = |i: usize| (p[0] - self.points[self.order[i]][0]).powi(2);
            let up = hi < self.order.len() && gap(hi) <= best.0;
            let down = lo > 0 && gap(lo - 1) <= best.0;
            if !up && !down {
                break;
            }
            if up {
                offer(&mut best, self.order[hi]);
                hi += 1;
            }
            if down {
                lo -= 1;
                offer(&mut best, self.order[lo]);
            }
        }
        if best.1 == usize::MAX {
            0
        } else {
            best.1
        }
    }
}

/// `k` places spread over the demand (weighted k-means of the cells), in order of the
/// demand they serve, most first; ids `{prefix}01`, `{prefix}02`, ...
pub fn auto_place(
    router: &Router,
    demand: &Demand,
    k: usize,
    prefix: &str,
    seed: u64,
) -> Vec<Place> {
    let cells = &demand.cells;
    let k = k.clamp(1, cells.len());
    let mut rng = StdRng::seed_from_u64(seed);
    let pts: Vec<[f64; 2]> = cells
        .iter()
        .map(|c| router.snap_index().project(c.snapped.point))
        .collect();
    // k-means++ start.
    let mut centres: Vec<[f64; 2]> = vec![pts[demand.pick_cell(&mut rng)]];
    let mut best_d: Vec<f64> = pts.iter().map(|&p| d2(p, centres[0])).collect();
    while centres.len() < k {
        let total: f64 = best_d.iter().zip(cells).map(|(d, c)| d * c.weight).sum();
        let next = if total > 0.0 {
            let x = rng.gen::<f64>() * total;
            let mut acc = 0.0;
            let mut pick = pts.len() - 1;
            for (i, (d, c)) in best_d.iter().zip(cells).enumerate() {
                acc += d * c.weight;
                if x < acc {
                    pick = i;
                    break;
                }
            }
            pick
        } else {
            centres.len() % pts.len()
        };
        centres.push(pts[next]);
        for (bd, &p) in best_d.iter_mut().zip(&pts) {
            *bd = bd.min(d2(p, pts[next]));
        }
    }
    let mut assign = vec![0usize; pts.len()];
    for _ in 0..25 {
        let by_x = ByX::new(&centres);
        for (a, &p) in assign.iter_mut().zip(&pts) {
            *a = by_x.nearest(p);
        }
        let mut sums = vec![[0.0f64; 3]; k];
        for ((&a, &p), c) in assign.iter().zip(&pts).zip(cells) {
            sums[a][0] += p[0] * c.weight;
            sums[a][1] += p[1] * c.weight;
            sums[a][2] += c.weight;
        }
        for (c, s) in centres.iter_mut().zip(&sums) {
            if s[2] > 0.0 {
                *c = [s[0] / s[2], s[1] / s[2]];
            }
        }
    }
    let mut served = vec![0.0f64; k];
    for (&a, c) in assign.iter().zip(cells) {
        served[a] += c.weight;
    }
    // Each centre goes to the road point of the nearest cell centre.
    let mut chosen: Vec<(f64, usize)> = Vec::with_capacity(k);
    for (i, c) in centres.iter().enumerate() {
        chosen.push((served[i], nearest(&pts, |p| d2(p, *c))));
    }
    chosen.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let width = k.to_string().len().max(2);
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, (_, cell))| {
            let s = cells[cell].snapped;
            Place {
                id: format!("{prefix}{:0width$}", i + 1),
                name: String::new(),
                lat: s.point.lat(),
                lon: s.point.lon(),
                crews: None,
                snapped: s,
            }
        })
        .collect()
}

/// Which station each of `crews` crews belongs to: the counts the stations give when
/// they give them all and they add up to `crews`; otherwise round-robin over the stations
/// in their order (the busiest first for placed stations).
pub fn crew_stations(stations: &[Place], crews: usize) -> Vec<usize> {
    let given: Option<usize> = stations.iter().map(|s| s.crews).sum();
    if given == Some(crews) {
        return stations
            .iter()
            .enumerate()
            .flat_map(|(i, s)| std::iter::repeat_n(i, s.crews.unwrap_or(0)))
            .collect();
    }
    (0..crews).map(|i| i % stations.len().max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sorted search finds what a scan of every point finds, ties (points on a coarse
    /// grid, repeated points) going to the lowest index.
    #[test]
    fn the_sorted_nearest_search_agrees_with_a_full_scan() {
        let mut rng = StdRng::seed_from_u64(7);
        for round in 0..50 {
            let n = rng.gen_range(1..60);
            let grid = |rng: &mut StdRng| f64::from(rng.gen_range(-5..5)) * 10.0;
            let points: Vec<[f64; 2]> = (0..n)
                .map(|_| {
                    if round % 2 == 0 {
                        [grid(&mut rng), grid(&mut rng)]
                    } else {
                        [rng.gen_range(-50.0..50.0), rng.gen_range(-50.0..50.0)]
                    }
                })
                .collect();
            let by_x = ByX::new(&points);
            for _ in 0..200 {
                let p = [
                    grid(&mut rng) + 5.0 * f64::from(rng.gen_range(0..2)),
                    grid(&mut rng),
                ];
                let scan = nearest(&points, |c| d2(p, c));
                assert_eq!(by_x.nearest(p), scan, "round {round} point {p:?}");
            }
        }
    }
}
