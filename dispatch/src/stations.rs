//! Stations: the places crews start from and go back to when free. They come from the
//! service's settings file (`dispatch serve --config FILE.toml`, `[[stations]]` tables of
//! `id`, `name`, `lat`, `lon`; see [`crate::settings`]) and, with `--demo`, from the demo's
//! own stations; `GET /api/stations` lists them for the console's map and the crew tablet
//! (which draws a free crew's route back to the station its `station` names).
//!
//! A crew's `station` stays free text: a crew whose `station` is no station's id simply has
//! no route back.
//!
//! ```toml
//! [[stations]]
//! id = "S1"
//! name = "Rettungswache Mitte"
//! lat = 49.4093
//! lon = 8.6937
//! ```

use std::collections::HashSet;

use router::Router;
use serde::{Deserialize, Serialize};

/// One station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Its id, which a crew's `station` names.
    #[schema(example = "S1")]
    pub id: String,
    /// Its name as people say it (the id when the file gives none).
    #[serde(default)]
    #[schema(example = "Rettungswache Mitte")]
    pub name: String,
    /// Latitude, degrees.
    #[schema(example = 49.4093)]
    pub lat: f64,
    /// Longitude, degrees.
    #[schema(example = 8.6937)]
    pub lon: f64,
}

/// Why the stations cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StationError {
    /// A station with no id (the `index`th, from 1).
    #[error("station #{index}: the id is empty")]
    EmptyId {
        /// Its place in the list, from 1.
        index: usize,
    },
    /// Two stations with one id.
    #[error("station {id:?} is given twice (ids must differ)")]
    Duplicate {
        /// The id.
        id: String,
    },
    /// A latitude or longitude out of range.
    #[error("station {id:?}: ({lat}, {lon}) is not a coordinate (lat -90..90, lon -180..180)")]
    NotACoordinate {
        /// The station.
        id: String,
        /// Its latitude.
        lat: f64,
        /// Its longitude.
        lon: f64,
    },
    /// A station no road of the map comes near.
    #[error("station {id:?} at ({lat}, {lon}) is off the map: no road within {max_m} m")]
    OffMap {
        /// The station.
        id: String,
        /// Its latitude.
        lat: f64,
        /// Its longitude.
        lon: f64,
        /// The snapping radius, metres.
        max_m: f64,
    },
}

/// Checks what needs no map: ids given and distinct, coordinates in range; an empty name
/// becomes the id.
pub fn validate(mut stations: Vec<Station>) -> Result<Vec<Station>, StationError> {
    let mut seen = HashSet::new();
    for (i, s) in stations.iter_mut().enumerate() {
        s.id = s.id.trim().to_string();
        if s.id.is_empty() {
            return Err(StationError::EmptyId { index: i + 1 });
        }
        if !seen.insert(s.id.clone()) {
            return Err(StationError::Duplicate { id: s.id.clone() });
        }
        if !(-90.0..=90.0).contains(&s.lat) || !(-180.0..=180.0).contains(&s.lon) {
            return Err(StationError::NotACoordinate {
                id: s.id.clone(),
                lat: s.lat,
                lon: s.lon,
            });
        }
        if s.name.trim().is_empty() {
            s.name = s.id.clone();
        }
    }
    Ok(stations)
}

/// Checks that every station is near a road of the map (as near as a crew or a call must
/// be: the router's snapping radius).
pub fn check_on_map(stations: &[Station], router: &Router) -> Result<(), StationError> {
    for s in stations {
        if router.snap(s.lat, s.lon).is_err() {
            return Err(StationError::OffMap {
                id: s.id.clone(),
                lat: s.lat,
                lon: s.lon,
                max_m: router.options().max_snap_distance_m,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(id: &str, lat: f64, lon: f64) -> Station {
        Station {
            id: id.into(),
            name: String::new(),
            lat,
            lon,
        }
    }

    #[test]
    fn ids_must_be_given_and_distinct_and_coordinates_in_range() {
        let ok = validate(vec![st("S1", 49.4, 8.69), st(" S2 ", 49.41, 8.7)]).unwrap();
        assert_eq!(ok[0].name, "S1", "the id names a station without a name");
        assert_eq!(ok[1].id, "S2");
        assert_eq!(
            validate(vec![st("S1", 49.4, 8.69), st("S1", 49.41, 8.7)]),
            Err(StationError::Duplicate { id: "S1".into() })
        );
        assert_eq!(
            validate(vec![st("S1", 49.4, 8.69), st(" ", 49.41, 8.7)]),
            Err(StationError::EmptyId { index: 2 })
        );
        let e = validate(vec![st("S1", 95.0, 8.69)]).unwrap_err();
        assert!(e.to_string().contains("\"S1\""), "{e}");
    }
}
