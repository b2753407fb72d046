//! Snapping coordinates to the roads: [`Router::snap`] and its variants, which refuse
//! coordinates out of range and, unless told otherwise, farther than the snapping radius from
//! every road.

use osm_data::Coord;

use super::Router;
use crate::error::RouterError;
use crate::snap::Snapped;

impl Router {
    /// Snaps a coordinate to the nearest drivable point within the snapping radius
    /// ([`super::RouterOptions::max_snap_distance_m`]): a coordinate farther from every road is
    /// refused with [`RouterError::NoSegment`].
    pub fn snap(&self, lat: f64, lon: f64) -> Result<Snapped, RouterError> {
        self.snap_within(lat, lon, self.options.max_snap_distance_m)
    }

    /// Snaps a coordinate to the nearest drivable point within `max_distance_m`
    /// (great-circle metres) whatever the router's own snapping radius: `f64::INFINITY`
    /// snaps to the nearest road at any distance, as OSRM does without `radiuses`. A
    /// nearest-neighbour search, as fast far off the map as on it.
    pub fn snap_within(
        &self,
        lat: f64,
        lon: f64,
        max_distance_m: f64,
    ) -> Result<Snapped, RouterError> {
        self.snap_n_within(lat, lon, 1, max_distance_m)?
            .into_iter()
            .next()
            .ok_or(RouterError::NoSegment {
                lat,
                lon,
                max_distance_m,
            })
    }

    /// The same answer as [`Router::snap`], faster when the coordinate is known to lie on
    /// (or very near) `segment`, e.g. a position along a route (see
    /// [`crate::snap::SnapIndex::nearest_near`]). A wrong segment only costs the time.
    pub fn snap_near(&self, lat: f64, lon: f64, segment: u32) -> Result<Snapped, RouterError> {
        check_coordinate(lat, lon)?;
        self.snap
            .nearest_near(
                &self.graph,
                Coord::from_degrees(lat, lon),
                segment,
                self.options.max_snap_distance_m,
            )
            .ok_or(RouterError::NoSegment {
                lat,
                lon,
                max_distance_m: self.options.max_snap_distance_m,
            })
    }

    /// Up to `n` nearest drivable points on distinct segments within the snapping radius
    /// ([`super::RouterOptions::max_snap_distance_m`]), nearest first; empty when no road is that
    /// near.
    pub fn snap_n(&self, lat: f64, lon: f64, n: usize) -> Result<Vec<Snapped>, RouterError> {
        self.snap_n_within(lat, lon, n, self.options.max_snap_distance_m)
    }

    /// Up to `n` nearest drivable points on distinct segments within `max_distance_m`
    /// (great-circle metres; `f64::INFINITY`: any distance), nearest first.
    pub fn snap_n_within(
        &self,
        lat: f64,
        lon: f64,
        n: usize,
        max_distance_m: f64,
    ) -> Result<Vec<Snapped>, RouterError> {
        check_coordinate(lat, lon)?;
        Ok(self
            .snap
            .nearest_n(Coord::from_degrees(lat, lon), n, max_distance_m))
    }
}

/// Refuses a latitude or longitude that is not a finite number of degrees in range.
fn check_coordinate(lat: f64, lon: f64) -> Result<(), RouterError> {
    if lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        Ok(())
    } else {
        Err(RouterError::InvalidCoordinate { lat, lon })
    }
}
