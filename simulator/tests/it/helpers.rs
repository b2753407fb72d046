//! Shared fixtures: the bundled maps, opened once per test binary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use dispatch_core::Priority;
use router::Router;
use simulator::calls::CallSpec;
use simulator::demand::Demand;
use simulator::engine::World;
use simulator::places::Place;

pub use test_support::map_path;

/// A bundled map's router, shared by the tests (no test may add closures to it).
pub fn router(name: &str) -> Arc<Router> {
    static MAPS: OnceLock<Mutex<HashMap<String, Arc<Router>>>> = OnceLock::new();
    let maps = MAPS.get_or_init(Default::default);
    let mut maps = maps.lock().unwrap_or_else(|e| e.into_inner());
    maps.entry(name.to_string())
        .or_insert_with(|| Arc::new(simulator::map::open_map(&map_path(name)).expect("map opens")))
        .clone()
}

/// A router of its own (for tests that add closures).
pub fn own_router(name: &str) -> Arc<Router> {
    let shared = router(name);
    Arc::new(Router::new((**shared.graph()).clone(), Default::default()).expect("router"))
}

/// A place snapped to the roads.
pub fn place(router: &Router, id: &str, lat: f64, lon: f64) -> Place {
    let snapped = router.snap(lat, lon).expect("on the map");
    Place {
        id: id.into(),
        name: String::new(),
        lat,
        lon,
        crews: None,
        snapped,
    }
}

/// A world with the given stations (one crew each, in order) and hospitals.
pub fn world(router: Arc<Router>, stations: Vec<Place>, hospitals: Vec<Place>) -> World {
    let demand = Demand::from_roads(&router, 500.0).expect("demand");
    World {
        crew_station: (0..stations.len()).collect(),
        router,
        demand,
        stations,
        hospitals,
        roster: None,
    }
}

/// A call with fixed times.
#[allow(clippy::too_many_arguments)]
pub fn call(
    id: u64,
    t_s: f64,
    lat: f64,
    lon: f64,
    priority: Priority,
    turnout_s: f64,
    on_scene_s: f64,
    transport: bool,
    handover_s: f64,
) -> CallSpec {
    let ms = |s: f64| (s * 1000.0).round() as i64;
    CallSpec {
        turnout_ms: ms(turnout_s),
        on_scene_ms: ms(on_scene_s),
        transport,
        handover_ms: ms(handover_s),
        ..CallSpec::at(id, ms(t_s), lat, lon, priority)
    }
}

/// Runs the simulator binary in `dir` on the Monaco map, quietly, with `args`; asserts that it
/// succeeds and returns what it printed.
pub fn simulator_on_monaco(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_simulator"))
        .args(args)
        .arg("--map")
        .arg(map_path("monaco"))
        .arg("-q")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
