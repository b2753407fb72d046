//! Snapping a coordinate to the nearest drivable point of the road network.
//!
//! Every piece (pair of consecutive shape points) of every segment is indexed twice, in
//! two `rstar` R-trees:
//!
//! * for *nearest* queries ([`SnapIndex::nearest`], [`SnapIndex::nearest_n`],
//!   [`SnapIndex::nearest_near`]), as a chord between points on a sphere (Earth-centred
//!   coordinates, metres). The straight-line distance from a point on the sphere to a
//!   chord ranks pieces as the great-circle distance does, so the nearest road is found
//!   exactly (up to the sagitta of a piece, a fraction of a millimetre for a 100 m piece) at
//!   any distance, even a thousand kilometres off the map, by a nearest-neighbour search
//!   rather than a scan. The distance reported is the great-circle distance from the
//!   coordinate to the nearest point of the piece;
//! * for *area* queries ([`SnapIndex::segments_in_box`], [`SnapIndex::segments_within`],
//!   used by closures and map views), as a line in a local equirectangular projection
//!   ([`SnapIndex::project`], metres), exact enough for city- and region-sized areas.
//!
//! A snapped point's position along its segment (`fraction`) tells how much of each arc's
//! travel time remains on either side; it is measured in the local projection.
//!
//! Whether a point is too far from every road is the caller's choice: each nearest query
//! takes a radius (`f64::INFINITY`: no limit), see [`crate::Router::snap_within`].

use std::sync::Arc;

use osm_data::{Coord, RoadGraph};
use rstar::primitives::Line;
use rstar::{Point, PointDistance, RTree, RTreeObject, AABB};

/// A point of the road network: a position on a segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapped {
    /// The segment.
    pub segment: u32,
    /// Position along the segment's geometry, 0 at its first point, 1 at its last.
    pub fraction: f64,
    /// The snapped point.
    pub point: Coord,
    /// Great-circle distance from the input coordinate to the snapped point, metres.
    pub distance_m: f64,
    /// The input coordinate.
    pub input: Coord,
}

/// A piece in the local projection, with its segment and its index along the segment.
type Piece = Boxed<[f64; 2]>;
/// A piece as a chord between two points on the sphere (Earth-centred metres).
type Chord = Boxed<[f64; 3]>;

/// A line with its bounding box computed once, and its segment and index along the
/// segment. rstar's `GeomWithData<Line>` computes a line's box at each use, and a bulk load
/// uses each box many times: with it, loading Porto's chords took 0.28 s.
#[derive(Debug, Clone)]
struct Boxed<P: Point> {
    line: Line<P>,
    envelope: AABB<P>,
    data: (u32, u32),
}

impl<P: Point> Boxed<P> {
    fn new(line: Line<P>, data: (u32, u32)) -> Self {
        Boxed {
            envelope: line.envelope(),
            line,
            data,
        }
    }

    fn geom(&self) -> &Line<P> {
        &self.line
    }
}

impl<P: Point> RTreeObject for Boxed<P> {
    type Envelope = AABB<P>;

    fn envelope(&self) -> AABB<P> {
        self.envelope.clone()
    }
}

impl<P: Point> PointDistance for Boxed<P> {
    fn distance_2(&self, point: &P) -> P::Scalar {
        self.line.distance_2(point)
    }
}

/// The R-trees of segment pieces (see the module docs).
#[derive(Debug, Clone)]
pub struct SnapIndex {
    /// Pieces in the local projection, for area queries. Shared by forked routers.
    tree: Arc<RTree<Piece>>,
    /// Pieces as chords, for nearest queries. Shared by forked routers.
    chords: Arc<RTree<Chord>>,
    /// The largest sagitta of a chord (metres): how far inside the sphere a chord may pass,
    /// the most by which chord and great-circle distances may disagree.
    max_sagitta_m: f64,
    /// Reference latitude of the projection, radians.
    lat0: f64,
    /// Cumulative length (metres, projected) of each segment's pieces, CSR by segment.
    piece_start_m: Vec<f64>,
    first_piece: Vec<u32>,
}

const R: f64 = osm_data::graph::EARTH_RADIUS_M;

/// A coordinate as a point on the sphere, Earth-centred metres.
fn on_sphere(c: Coord) -> [f64; 3] {
    let (lat, lon) = (c.lat().to_radians(), c.lon().to_radians());
    [
        R * lat.cos() * lon.cos(),
        R * lat.cos() * lon.sin(),
        R * lat.sin(),
    ]
}

/// The coordinate of an Earth-centred point (any distance from the centre but zero).
fn of_sphere(p: [f64; 3]) -> (f64, f64) {
    let lat = p[2].atan2(p[0].hypot(p[1]));
    let lon = p[1].atan2(p[0]);
    (lat.to_degrees(), lon.to_degrees())
}

fn sub3(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The great-circle distance (metres) between two points on the sphere `chord` metres apart.
fn arc_of_chord(chord: f64) -> f64 {
    2.0 * R * (chord / (2.0 * R)).clamp(0.0, 1.0).asin()
}

/// The chord (metres) between two points on the sphere `arc` metres apart along it;
/// at least the diameter for half the circumference or more (and for infinity).
fn chord_of_arc(arc: f64) -> f64 {
    if arc >= std::f64::consts::PI * R {
        2.0 * R
    } else {
        2.0 * R * (arc / (2.0 * R)).sin()
    }
}

impl SnapIndex {
    /// Builds the index over every segment of `graph`.
    pub fn new(graph: &RoadGraph) -> SnapIndex {
        let lat0 = graph
            .bounding_box()
            .map(|b| ((b.min_lat + b.max_lat) / 2.0).to_radians())
            .unwrap_or(0.0);
        let mut index = SnapIndex {
            tree: Arc::new(RTree::new()),
            chords: Arc::new(RTree::new()),
            max_sagitta_m: 0.0,
            lat0,
            piece_start_m: Vec::with_capacity(graph.points.len()),
            first_piece: Vec::with_capacity(graph.segment_count() + 1),
        };
        let mut pieces = Vec::with_capacity(graph.points.len());
        let mut chords = Vec::with_capacity(graph.points.len());
        let mut max_half2 = 0.0f64;
        for s in 0..graph.segment_count() as u32 {
            index.first_piece.push(index.piece_start_m.len() as u32);
            let pts = graph.segment_points(s);
            let mut acc = 0.0;
            for (i, w) in pts.windows(2).enumerate() {
                let (a, b) = (index.project(w[0]), index.project(w[1]));
                index.piece_start_m.push(acc);
                acc += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                pieces.push(Piece::new(Line::new(a, b), (s, i as u32)));
                let (a, b) = (on_sphere(w[0]), on_sphere(w[1]));
                let d = sub3(b, a);
                max_half2 = max_half2.max(dot3(d, d) / 4.0);
                chords.push(Chord::new(Line::new(a, b), (s, i as u32)));
            }
            index.piece_start_m.push(acc); // the segment's total projected length
        }
        index.first_piece.push(index.piece_start_m.len() as u32);
        // The two trees are loaded side by side.
        let (tree, chords) = std::thread::scope(|scope| {
            let chords = scope.spawn(|| RTree::bulk_load(chords));
            let tree = RTree::bulk_load(pieces);
            (tree, chords.join())
        });
        index.tree = Arc::new(tree);
        index.chords = Arc::new(chords.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        // R - sqrt(R² - (c/2)²), written so that it does not cancel for short chords.
        index.max_sagitta_m = max_half2 / (R + (R * R - max_half2).max(0.0).sqrt());
        index
    }

    /// Projects a coordinate to local metres (the equirectangular projection of the area
    /// queries, centred on the map's middle latitude).
    pub fn project(&self, c: Coord) -> [f64; 2] {
        [
            c.lon().to_radians() * self.lat0.cos() * R,
            c.lat().to_radians() * R,
        ]
    }

    /// The nearest drivable point to `c`, if one lies within `max_distance_m`
    /// (great-circle metres; `f64::INFINITY`: any distance).
    pub fn nearest(&self, c: Coord, max_distance_m: f64) -> Option<Snapped> {
        self.nearest_n(c, 1, max_distance_m).into_iter().next()
    }

    /// Up to `n` nearest points on distinct segments within `max_distance_m`
    /// (great-circle metres; `f64::INFINITY`: any distance), nearest first.
    pub fn nearest_n(&self, c: Coord, n: usize, max_distance_m: f64) -> Vec<Snapped> {
        let mut out: Vec<Snapped> = Vec::with_capacity(n.min(16));
        // A NaN or negative radius holds no road.
        if n == 0 || max_distance_m.is_nan() || max_distance_m < 0.0 {
            return out;
        }
        let q = on_sphere(c);
        // A chord within `max_distance_m` of `q` is at most this far in a straight line.
        let cutoff = chord_of_arc(max_distance_m) + self.max_sagitta_m;
        for chord in self.chords.nearest_neighbor_iter(&q) {
            if chord.distance_2(&q).sqrt() > cutoff {
                break;
            }
            if out.iter().any(|s| s.segment == chord.data.0) {
                continue;
            }
            let s = self.snapped_on(chord, q, c);
            if s.distance_m <= max_distance_m {
                out.push(s);
                // Done: no need to pull the next piece from the tree.
                if out.len() >= n {
                    break;
                }
            }
        }
        // Chords come nearest first; great-circle distances may swap within a sagitta.
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        out
    }

    /// The point of `chord` nearest to `q` (the point on the sphere of `c`).
    fn snapped_on(&self, chord: &Chord, q: [f64; 3], c: Coord) -> Snapped {
        let (seg, i) = chord.data;
        let (a, b) = (chord.geom().from, chord.geom().to);
        let ab = sub3(b, a);
        let len2 = dot3(ab, ab);
        let t = if len2 > 0.0 {
            (dot3(sub3(q, a), ab) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // The nearest point of the chord, lifted onto the sphere: the nearest point of the
        // road's great-circle arc up to second-order terms.
        let f = [a[0] + t * ab[0], a[1] + t * ab[1], a[2] + t * ab[2]];
        let norm = dot3(f, f).sqrt();
        let on = [f[0] * R / norm, f[1] * R / norm, f[2] * R / norm];
        let d = sub3(q, on);
        let distance_m = arc_of_chord(dot3(d, d).sqrt());
        // The snapped point lies at `t` along the piece, as in the local projection (which
        // is linear in latitude and longitude).
        let ((lat_a, lon_a), (lat_b, lon_b)) = (of_sphere(a), of_sphere(b));
        let point = Coord::from_degrees(lat_a + t * (lat_b - lat_a), lon_a + t * (lon_b - lon_a));
        let base = self.first_piece[seg as usize] as usize;
        let last = self.first_piece[seg as usize + 1] as usize - 1;
        let total = self.piece_start_m[last];
        let (start, end) = (
            self.piece_start_m[base + i as usize],
            self.piece_start_m[base + i as usize + 1],
        );
        let along = start + t * (end - start);
        Snapped {
            segment: seg,
            fraction: if total > 0.0 {
                (along / total).clamp(0.0, 1.0)
            } else {
                0.0
            },
            point,
            distance_m,
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
        let q = on_sphere(c);
        let pts = graph.segment_points(segment);
        let mut hint = f64::INFINITY;
        for w in pts.windows(2) {
            let line = Line::new(on_sphere(w[0]), on_sphere(w[1]));
            hint = hint.min(line.distance_2(&q));
        }
        if !hint.is_finite() {
            return self.nearest(c, max_distance_m);
        }
        let radius2 = hint * (1.0 + 1e-6) + 1e-9;
        let mut best: Option<(&Chord, f64)> = None;
        let mut second = f64::INFINITY;
        for chord in self.chords.locate_within_distance(q, radius2) {
            let d2 = chord.distance_2(&q);
            match best {
                Some((_, b)) if d2 >= b => second = second.min(d2),
                _ => {
                    if let Some((_, b)) = best {
                        second = second.min(b);
                    }
                    best = Some((chord, d2));
                }
            }
        }
        match best {
            Some((chord, b)) if second > b * (1.0 + 1e-6) + 1e-9 => {
                let s = self.snapped_on(chord, q, c);
                if s.distance_m <= max_distance_m {
                    Some(s)
                } else {
                    // At the limit, where the nearest-first search looks a little further.
                    self.nearest(c, max_distance_m)
                }
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
