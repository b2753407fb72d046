//! The fixed part of a scenario: the map, the demand, stations, hospitals and the crews'
//! home stations, and the crews' ids.

use std::sync::Arc;

use dispatch_core::CrewType;
use router::Router;

use crate::calls::CallSpec;
use crate::demand::Demand;
use crate::error::SimError;
use crate::places::Place;
use crate::shifts::Roster;

/// The fixed part of a scenario: the map, where people live, stations, hospitals and the
/// crews' home stations.
#[derive(Debug, Clone)]
pub struct World {
    /// The router.
    pub router: Arc<Router>,
    /// Where calls come from.
    pub demand: Demand,
    /// Stations.
    pub stations: Vec<Place>,
    /// Hospitals.
    pub hospitals: Vec<Place>,
    /// Home station of each crew (its length is the number of crews).
    pub crew_station: Vec<usize>,
    /// The crews' types and hours on duty, from a shift plan (`None`: every crew general and
    /// on duty all the time).
    pub roster: Option<Arc<Roster>>,
}

impl World {
    /// Checks that the world can run.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.crew_station.is_empty() {
            return Err(SimError::setting(
                "--crews",
                "there must be at least one crew",
            ));
        }
        if self.stations.is_empty() {
            return Err(SimError::setting(
                "--stations",
                "there must be at least one station",
            ));
        }
        if self.crew_station.iter().any(|&s| s >= self.stations.len()) {
            return Err(SimError::setting(
                "--crews",
                "a crew's station does not exist",
            ));
        }
        Ok(())
    }

    /// Crew `i`'s type.
    pub fn crew_type(&self, i: usize) -> CrewType {
        self.roster
            .as_ref()
            .map_or(CrewType::General, |r| r.crew_type[i])
    }

    /// Whether crew `i` is on duty in hour `hour` of the run.
    pub fn on_duty(&self, i: usize, hour: i64) -> bool {
        self.roster.as_ref().is_none_or(|r| r.on_duty(i, hour))
    }

    /// Checks that replayed calls can run in this world: each named hospital is one of its
    /// hospitals, and each crew type needed is one some crew can serve.
    pub fn check_calls(&self, calls: &[CallSpec]) -> Result<(), SimError> {
        for c in calls {
            if let Some(h) = c.hospital.as_deref() {
                if self.hospital_index(h).is_none() {
                    let known: Vec<&str> = self.hospitals.iter().map(|h| h.id.as_str()).collect();
                    return Err(SimError::setting(
                        "--calls",
                        format!(
                            "call {} (at {} s) was taken to hospital {h:?}, which is not one of the run's hospitals ({}); give them with --hospitals-file",
                            c.id,
                            c.t / 1000,
                            known.join(", ")
                        ),
                    ));
                }
            }
            for &need in &c.needs {
                let served =
                    (0..self.crew_station.len()).any(|i| self.crew_type(i).can_serve(need));
                if !served {
                    return Err(SimError::setting(
                        "--calls",
                        format!(
                            "call {} (at {} s) needs a {need} crew, and no crew of the run can serve that need",
                            c.id,
                            c.t / 1000
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The index of the hospital with this id.
    pub fn hospital_index(&self, id: &str) -> Option<usize> {
        self.hospitals.iter().position(|h| h.id == id)
    }

    /// The id of crew `i`: `C` and its number, zero-padded (so string order is number order).
    pub fn crew_id(&self, i: usize) -> String {
        crew_id(i, self.crew_station.len())
    }
}

/// The id of crew `i` of `n`.
pub fn crew_id(i: usize, n: usize) -> String {
    let width = n.to_string().len().max(3);
    format!("C{:0width$}", i + 1)
}
