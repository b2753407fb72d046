//! Building a scenario from what a planner gives: the map, the crews, stations and
//! hospitals (files or placed automatically), where people live, and the calls (generated
//! or replayed).

use std::path::PathBuf;
use std::sync::Arc;

use router::Router;

use crate::calls::{self, CallModel, CallSpec, Generation, DEFAULT_HOURLY_PROFILE};
use crate::demand::{Demand, DEFAULT_CELL_M};
use crate::engine::World;
use crate::error::SimError;
use crate::places::{self, Kind};

/// Seed of the automatic placement of stations and hospitals: fixed, so that runs with
/// different call seeds share stations.
pub const PLACEMENT_SEED: u64 = 0x5eed_0001;

/// How to build the [`World`].
#[derive(Debug, Clone, PartialEq)]
pub struct WorldSpec {
    /// Crews.
    pub crews: usize,
    /// Stations to place when no file is given (`None`: one per 3 crews).
    pub stations: Option<usize>,
    /// Stations from a CSV or GeoJSON file.
    pub stations_file: Option<PathBuf>,
    /// Hospitals to place when no file is given (`None`: one per 20 crews, at least 1, at
    /// most 40).
    pub hospitals: Option<usize>,
    /// Hospitals from a CSV or GeoJSON file.
    pub hospitals_file: Option<PathBuf>,
    /// Population points (`lat,lon,weight` CSV) instead of road density.
    pub demand_file: Option<PathBuf>,
    /// Demand cell size, metres.
    pub cell_m: f64,
    /// Crews on duty by hour and station (CSV `hour,station,crews[,type]`, see
    /// [`crate::shifts`]); it gives the crews, and `crews` is not used.
    pub shifts_file: Option<PathBuf>,
}

impl WorldSpec {
    /// `crews` crews with everything else automatic.
    pub fn auto(crews: usize) -> WorldSpec {
        WorldSpec {
            crews,
            stations: None,
            stations_file: None,
            hospitals: None,
            hospitals_file: None,
            demand_file: None,
            cell_m: DEFAULT_CELL_M,
            shifts_file: None,
        }
    }
}

/// Builds the world on a router.
pub fn build_world(router: Arc<Router>, spec: &WorldSpec) -> Result<World, SimError> {
    if spec.crews == 0 {
        return Err(SimError::setting(
            "--crews",
            "there must be at least one crew",
        ));
    }
    if spec.stations == Some(0) {
        return Err(SimError::setting(
            "--stations",
            "there must be at least one station",
        ));
    }
    let demand = match &spec.demand_file {
        Some(p) => Demand::from_population_csv(&router, p, spec.cell_m)?.0,
        None => Demand::from_roads(&router, spec.cell_m)?,
    };
    let stations = match &spec.stations_file {
        Some(p) => places::load(&router, p, Kind::Station)?,
        None => {
            let k = spec.stations.unwrap_or(spec.crews.div_ceil(3));
            places::auto_place(&router, &demand, k, "S", PLACEMENT_SEED)
        }
    };
    let (crew_station, roster) = match &spec.shifts_file {
        Some(p) => {
            let roster = crate::shifts::read_csv(p, &stations)?;
            (roster.crew_station.clone(), Some(Arc::new(roster)))
        }
        None => (places::crew_stations(&stations, spec.crews), None),
    };
    let hospitals = match &spec.hospitals_file {
        Some(p) => places::load(&router, p, Kind::Hospital)?,
        None => {
            let k = spec
                .hospitals
                .unwrap_or((crew_station.len() / 20).clamp(1, 40));
            if k == 0 {
                Vec::new()
            } else {
                places::auto_place(&router, &demand, k, "H", PLACEMENT_SEED + 1)
            }
        }
    };
    Ok(World {
        router,
        demand,
        stations,
        hospitals,
        crew_station,
        roster,
    })
}

/// Generates calls on a world.
pub fn generate_calls(
    world: &World,
    calls_per_day: f64,
    hours: f64,
    seed: u64,
    model: &CallModel,
) -> Result<Vec<CallSpec>, SimError> {
    calls::generate(
        &world.router,
        &world.demand,
        &Generation {
            calls_per_day,
            hours,
            hourly_profile: DEFAULT_HOURLY_PROFILE,
            seed,
        },
        model,
    )
}

/// Puts each call at one of `points` drawn at random (uniformly, seeded: the same seed and
/// calls, the same places), keeping its time and everything else: for calls at mapped
/// houses rather than anywhere on the road network (the service's demo). Nothing changes
/// when `points` is empty.
pub fn place_calls_at(calls: &mut [CallSpec], points: &[(f64, f64)], seed: u64) {
    use rand::{Rng, SeedableRng};
    if points.is_empty() {
        return;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for c in calls {
        (c.lat, c.lon) = points[rng.gen_range(0..points.len())];
    }
}
