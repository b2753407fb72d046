//! Snapping a coordinate to the nearest drivable point of the road network.
//!
//! An `rstar` R-tree holds every piece (pair of consecutive shape points) of every segment,
//! in a local equirectangular projection (metres), so the nearest piece is found exactly
//! for city- and region-sized maps. The point is projected onto the piece; its position
//! along the segment (`fraction`) tells how much of each arc's travel time remains on
//! either side.

use osm_data::{Coord, RoadGraph};
use rstar::primitives::{GeomWithData, Line};
use rstar::{PointDistance, RTree};

/// A point of the road network: a position on a segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapped {
    /// The segment.
    pub segment: u32,
    /// Position along the segment's geometry, 0 at its first point, 1 at its last.
    pub fraction: f64,
    /// The snapped point.
    pub point: Coord,
    /// Distance from the input coordinate to the snapped point, metres.
    pub distance_m: f64,
    /// The input coordinate.
    pub input: Coord,
}

type Piece = GeomWithData<Line<[f64; 2]>, (u32, u32)>;

/// An R-tree of segment pieces.
#[derive(Debug, Clone)]
pub struct SnapIndex {
    tree: RTree<Piece>,
    /// Reference latitude of the projection, radians.
    lat0: f64,
    /// Cumulative length (metres, projected) of each segment's pieces, CSR by segment.
    piece_start_m: Vec<f64>,
    first_piece: Vec<u32>,
}

const R: f64 = osm_data::graph::EARTH_RADIUS_M;

impl SnapIndex {
    /// Builds the index over every segment of `graph`.
    pub fn new(graph: &RoadGraph) -> SnapIndex {
        let lat0 = graph
            .bounding_box()
            .map(|b| ((b.min_lat + b.max_lat) / 2.0).to_radians())
            .unwrap_or(0.0);
        let mut index = SnapIndex {
            tree: RTree::new(),
            lat0,
            piece_start_m: Vec::with_capacity(graph.points.len()),
            first_piece: Vec::with_capacity(graph.segment_count() + 1),
        };
        let mut pieces = Vec::with_capacity(graph.points.len());
        for s in 0..graph.segment_count() as u32 {
            index.first_piece.push(index.piece_start_m.len() as u32);
            let pts = graph.segment_points(s);
            let mut acc = 0.0;
            for (i, w) in pts.windows(2).enumerate() {
                let (a, b) = (index.project(w[0]), index.project(w[1]));
                index.piece_start_m.push(acc);
                acc += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                pieces.push(Piece::new(Line::new(a, b), (s, i as u32)));
            }
            index.piece_start_m.push(acc); // the segment's total projected length
        }
        index.first_piece.push(index.piece_start_m.len() as u32);
        index.tree = RTree::bulk_load(pieces);
        index
    }

    /// Projects a coordinate to local metres.
    pub fn project(&self, c: Coord) -> [f64; 2] {
        [
            c.lon().to_radians() * self.lat0.cos() * R,
            c.lat().to_radians() * R,
        ]
    }

    fn unproject(&self, p: [f64; 2]) -> Coord {
        Coord::from_degrees(
            (p[1] / R).to_degrees(),
            (p[0] / (R * self.lat0.cos())).to_degrees(),
        )
    }

    /// The nearest drivable point to `c`, if one lies within `max_distance_m`.
    pub fn nearest(&self, c: Coord, max_distance_m: f64) -> Option<Snapped> {
        self.nearest_n(c, 1, max_distance_m).into_iter().next()
    }

    /// Up to `n` nearest points on distinct segments within `max_distance_m`, nearest first.
    pub fn nearest_n(&self, c: Coord, n: usize, max_distance_m: f64) -> Vec<Snapped> {
        let q = self.project(c);
        let mut out: Vec<Snapped> = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        for piece in self.tree.nearest_neighbor_iter(&q) {
            let d = piece.distance_2(&q).sqrt();
            if d > max_distance_m || out.len() >= n {
                break;
            }
            if out.iter().any(|s| s.segment == piece.data.0) {
                continue;
            }
            out.push(self.snapped_on(piece, q, c, d));
            // Done: no need to pull the next piece from the tree.
            if out.len() >= n {
                break;
            }
        }
        out
    }

    /// The point of `piece` nearest to `q` (the projection of `c`, `d` metres away).
    fn snapped_on(&self, piece: &Piece, q: [f64; 2], c: Coord, d: f64) -> Snapped {
        let (seg, i) = piece.data;
        let (a, b) = (piece.geom().from, piece.geom().to);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let p = [a[0] + t * dx, a[1] + t * dy];
        let base = self.first_piece[seg as usize] as usize;
        let last = self.first_piece[seg as usize + 1] as usize - 1;
        let total = self.piece_start_m[last];
        let along = self.piece_start_m[base + i as usize] + t * len2.sqrt();
        Snapped {
            segment: seg,
            fraction: if total > 0.0 {
                (along / total).clamp(0.0, 1.0)
            } else {
                0.0
            },
            point: self.unproject(p),
            distance_m: d,
            input: c,
        }
    }

    /// The same answer as [`SnapIndex::nearest`], found faster when `c` lies on or very near
    /// `segment` (a position known to be on that road, such as a vehicle driving a route):
    /// the pieces within the distance of `segment` are looked up by a small range query,
    /// and when one of them is clearly nearer than all others (by a relative margin far
    /// above rounding) it is the one the nearest-first search would return first.
    /// Otherwise (ties, a wrong or unknown segment) this is [`SnapIndex::nearest`].
    pub fn nearest_near(
        &self,
        graph: &RoadGraph,
        c: Coord,
        segment: u32,
        max_distance_m: f64,
    ) -> Option<Snapped> {
        if segment as usize >= graph.segment_count() {
            return self.nearest(c, max_distance_m);
        }
        let q = self.project(c);
        let pts = graph.segment_points(segment);
        let mut hint = f64::INFINITY;
        for w in pts.windows(2) {
            let line = Line::new(self.project(w[0]), self.project(w[1]));
            hint = hint.min(line.distance_2(&q));
        }
        if !hint.is_finite() {
            return self.nearest(c, max_distance_m);
        }
        let radius2 = hint * (1.0 + 1e-6) + 1e-9;
        let mut best: Option<(&Piece, f64)> = None;
        let mut second = f64::INFINITY;
        for piece in self.tree.locate_within_distance(q, radius2) {
            let d2 = piece.distance_2(&q);
            match best {
                Some((_, b)) if d2 >= b => second = second.min(d2),
                _ => {
                    if let Some((_, b)) = best {
                        second = second.min(b);
                    }
                    best = Some((piece, d2));
                }
            }
        }
        match best {
            Some((piece, b)) if second > b * (1.0 + 1e-6) + 1e-9 => {
                let d = b.sqrt();
                (d <= max_distance_m).then(|| self.snapped_on(piece, q, c, d))
            }
            _ => self.nearest(c, max_distance_m),
        }
    }
}

impl SnapIndex {
    /// The shape of segment `seg` between two fractions, in driving order
    /// (`from > to` runs against the geometry), appended to `out` without repeating
    /// `out`'s last point.
    pub fn subline(&self, graph: &RoadGraph, seg: u32, from: f64, to: f64, out: &mut Vec<Coord>) {
        let pts = graph.segment_points(seg);
        let base = self.first_piece[seg as usize] as usize;
        let cum = &self.piece_start_m[base..base + pts.len()]; // one entry per point
        let total = cum[pts.len() - 1];
        let point_at = |d: f64| point_along(pts, cum, d);
        let (d0, d1) = (from * total, to * total);
        let mut push = |c: Coord| {
            if out.last() != Some(&c) {
                out.push(c);
            }
        };
        push(point_at(d0));
        if d0 <= d1 {
            for (i, &c) in cum.iter().enumerate() {
                if c > d0 && c < d1 {
                    push(pts[i]);
                }
            }
        } else {
            for (i, &c) in cum.iter().enumerate().rev() {
                if c < d0 && c > d1 {
                    push(pts[i]);
                }
            }
        }
        push(point_at(d1));
    }
}

/// The point `d` projected metres along a shape whose points are at cumulative lengths `cum`.
fn point_along(pts: &[Coord], cum: &[f64], d: f64) -> Coord {
    let i = cum.partition_point(|&c| c <= d).clamp(1, pts.len() - 1) - 1;
    let len = cum[i + 1] - cum[i];
    let t = if len > 0.0 {
        ((d - cum[i]) / len).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b) = (pts[i], pts[i + 1]);
    Coord::from_degrees(
        a.lat() + t * (b.lat() - a.lat()),
        a.lon() + t * (b.lon() - a.lon()),
    )
}

impl SnapIndex {
    /// The point at `fraction` of segment `seg`'s geometry: the first point of
    /// [`SnapIndex::subline`] from `fraction` to `fraction`, without building a line.
    pub fn point_at(&self, graph: &RoadGraph, seg: u32, fraction: f64) -> Coord {
        let pts = graph.segment_points(seg);
        let base = self.first_piece[seg as usize] as usize;
        let cum = &self.piece_start_m[base..base + pts.len()];
        point_along(pts, cum, fraction * cum[pts.len() - 1])
    }
}

impl SnapIndex {
    /// Segments with a piece whose bounding box meets the projected box `lo..hi`.
    pub fn segments_in_box(&self, lo: [f64; 2], hi: [f64; 2]) -> Vec<u32> {
        let envelope = rstar::AABB::from_corners(lo, hi);
        let mut segs: Vec<u32> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|p| p.data.0)
            .collect();
        segs.sort_unstable();
        segs.dedup();
        segs
    }

    /// Segments passing within `radius_m` of `c`.
    pub fn segments_within(&self, c: Coord, radius_m: f64) -> Vec<u32> {
        let q = self.project(c);
        let mut segs: Vec<u32> = self
            .tree
            .locate_within_distance(q, radius_m * radius_m)
            .map(|p| p.data.0)
            .collect();
        segs.sort_unstable();
        segs.dedup();
        segs
    }
}
