//! Where calls come from: a grid of demand cells over the map, each weighted by the people
//! who live there. Without a population file the road length in a cell stands in for it
//! (more streets, more homes); a CSV of `lat,lon,weight` points replaces it.
//!
//! A generated call picks a cell by weight, then a road segment of the cell by length, then
//! a uniform point along it, so calls lie on streets like addresses do.

use std::collections::BTreeMap;
use std::path::Path;

use osm_data::Coord;
use rand::Rng;
use router::{Router, Snapped};

use crate::csv_input;
use crate::error::{RowError, SimError};

/// Default cell size, metres.
pub const DEFAULT_CELL_M: f64 = 500.0;

/// One demand cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Weighted centre, latitude.
    pub lat: f64,
    /// Weighted centre, longitude.
    pub lon: f64,
    /// Its weight (road metres, or the population given).
    pub weight: f64,
    /// The centre snapped to the roads (what coverage is measured to).
    pub snapped: Snapped,
    /// Segments whose middle lies in the cell, with their lengths (for drawing calls).
    segments: Vec<(u32, f64)>,
    seg_total: f64,
}

/// The demand grid of a map.
#[derive(Debug, Clone)]
pub struct Demand {
    /// The cells, in grid order (south to north, west to east).
    pub cells: Vec<Cell>,
    cumulative: Vec<f64>,
    /// Cell size, metres.
    pub cell_m: f64,
}

fn seg_midpoint(router: &Router, seg: u32) -> Coord {
    let mut out = Vec::with_capacity(1);
    router
        .snap_index()
        .subline(router.graph(), seg, 0.5, 0.5, &mut out);
    out[0]
}

/// The coordinate at a fraction of a segment's geometry.
pub fn point_on_segment(router: &Router, seg: u32, fraction: f64) -> Coord {
    router.snap_index().point_at(router.graph(), seg, fraction)
}

impl Demand {
    /// The grid with road length as the weight.
    pub fn from_roads(router: &Router, cell_m: f64) -> Result<Demand, SimError> {
        Demand::build(router, cell_m, None)
    }

    /// The grid weighted by population points (`lat,lon,weight` CSV with a header); the
    /// points off the map are counted in the returned number and left out.
    pub fn from_population_csv(
        router: &Router,
        path: &Path,
        cell_m: f64,
    ) -> Result<(Demand, usize), SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::io("read", path, e))?;
        let table = csv_input::read(&text, path)?;
        let mut points = Vec::new();
        let mut errors = table.errors.clone();
        for (line, rec) in &table.rows {
            let line = *line;
            let num = |i: usize, name: &str| -> Result<f64, RowError> {
                let v = rec.get(i).ok_or_else(|| RowError {
                    line,
                    reason: format!("missing {name}"),
                })?;
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| RowError {
                        line,
                        reason: format!("{name} {v:?} is not a number"),
                    })
            };
            match (num(0, "lat"), num(1, "lon"), num(2, "weight")) {
                (Ok(lat), Ok(lon), Ok(w)) if w >= 0.0 => points.push((lat, lon, w)),
                (Ok(_), Ok(_), Ok(w)) => errors.push(RowError {
                    line,
                    reason: format!("weight {w} is negative"),
                }),
                (a, b, c) => errors.extend([a.err(), b.err(), c.err()].into_iter().flatten()),
            }
        }
        csv_input::checked(path, errors, ())?;
        let mut off = 0;
        let mut kept = Vec::new();
        for p in points {
            if router.snap(p.0, p.1).is_ok() {
                kept.push(p);
            } else {
                off += 1;
            }
        }
        Ok((Demand::build(router, cell_m, Some(&kept))?, off))
    }

    fn build(
        router: &Router,
        cell_m: f64,
        population: Option<&[(f64, f64, f64)]>,
    ) -> Result<Demand, SimError> {
        if !(cell_m.is_finite() && cell_m > 0.0) {
            return Err(SimError::setting(
                "--cell-m",
                format!("the demand cell size must be positive, not {cell_m}"),
            ));
        }
        let g = router.graph();
        let snap = router.snap_index();
        let key = |c: Coord| {
            let p = snap.project(c);
            (
                (p[1] / cell_m).floor() as i64,
                (p[0] / cell_m).floor() as i64,
            )
        };
        // (sum w·lat, sum w·lon, sum w, segments, segment length sum)
        type Acc = (f64, f64, f64, Vec<(u32, f64)>, f64);
        let mut grid: BTreeMap<(i64, i64), Acc> = BTreeMap::new();
        for s in 0..g.segment_count() as u32 {
            let len = f64::from(g.seg_length_m[s as usize]).max(0.0);
            let mid = seg_midpoint(router, s);
            let e = grid.entry(key(mid)).or_default();
            e.3.push((s, len));
            e.4 += len;
            if population.is_none() {
                e.0 += len * mid.lat();
                e.1 += len * mid.lon();
                e.2 += len;
            }
        }
        if let Some(pop) = population {
            for &(lat, lon, w) in pop {
                let c = Coord::from_degrees(lat, lon);
                if let Some(e) = grid.get_mut(&key(c)) {
                    e.0 += w * lat;
                    e.1 += w * lon;
                    e.2 += w;
                }
            }
        }
        let mut cells = Vec::new();
        for (_, (wlat, wlon, w, segments, seg_total)) in grid {
            if w <= 0.0 || seg_total <= 0.0 {
                continue;
            }
            let (lat, lon) = (wlat / w, wlon / w);
            let snapped = match router.snap(lat, lon) {
                Ok(s) => s,
                Err(_) => {
                    // The centre is off the roads (a lake, a park): use the longest road.
                    let &(s, _) = segments
                        .iter()
                        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                        .expect("a cell has segments");
                    let c = point_on_segment(router, s, 0.5);
                    match router.snap(c.lat(), c.lon()) {
                        Ok(p) => p,
                        Err(_) => continue,
                    }
                }
            };
            cells.push(Cell {
                lat,
                lon,
                weight: w,
                snapped,
                segments,
                seg_total,
            });
        }
        if cells.is_empty() {
            return Err(SimError::setting(
                "--demand",
                "no demand on the map (no roads, or no population point near a road)",
            ));
        }
        let mut acc = 0.0;
        let cumulative = cells
            .iter()
            .map(|c| {
                acc += c.weight;
                acc
            })
            .collect();
        Ok(Demand {
            cells,
            cumulative,
            cell_m,
        })
    }

    /// The total weight.
    pub fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// A cell drawn by weight.
    pub fn pick_cell(&self, rng: &mut impl Rng) -> usize {
        let x = rng.gen::<f64>() * self.total();
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cells.len() - 1)
    }

    /// A call position: a cell by weight, a road of it by length, a point along it.
    pub fn draw(&self, router: &Router, rng: &mut impl Rng) -> Coord {
        let cell = &self.cells[self.pick_cell(rng)];
        let x = rng.gen::<f64>() * cell.seg_total;
        let mut acc = 0.0;
        let mut seg = cell.segments[cell.segments.len() - 1].0;
        for &(s, len) in &cell.segments {
            acc += len;
            if x < acc {
                seg = s;
                break;
            }
        }
        let f: f64 = rng.gen();
        point_on_segment(router, seg, f)
    }
}
