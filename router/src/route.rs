//! A computed route: its time, length, the arcs it drives and its full geometry.

use osm_data::Coord;

use crate::snap::Snapped;

/// One arc driven, whole or in part (the first and last may start or end mid-segment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutePiece {
    /// The arc.
    pub arc: u32,
    /// Its segment.
    pub segment: u32,
    /// Where the piece starts, as a fraction of the segment's geometry.
    pub from_fraction: f64,
    /// Where it ends (smaller than `from_fraction` when driving against the geometry).
    pub to_fraction: f64,
    /// Travel time of the piece, milliseconds.
    pub duration_ms: u32,
    /// Length of the piece, metres.
    pub distance_m: f64,
}

/// The fastest route between two snapped points.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Travel time, milliseconds.
    pub duration_ms: u32,
    /// Length, metres.
    pub distance_m: f64,
    /// Where it starts.
    pub source: Snapped,
    /// Where it ends.
    pub target: Snapped,
    /// The arcs driven, in order.
    pub pieces: Vec<RoutePiece>,
    /// The route's shape, from the source point to the target point.
    pub geometry: Vec<Coord>,
}

impl Route {
    /// Travel time, seconds.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.duration_ms) / 1000.0
    }
}
