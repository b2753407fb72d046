//! The demo: `dispatch serve --demo` shows the whole loop on the bundled map with nothing to
//! set up. Crews are placed at stations on the map (which the service serves at
//! `GET /api/stations`, so tablets show the way back), 112 calls arrive at a realistic rate,
//! and simulated tablets drive each assigned crew along the route the service sends it,
//! reporting positions and statuses, taking patients to the hospital the service suggests
//! and recording the handover; all through the service's own HTTP API and websockets (the
//! simulator's live mode, [`simulator::live`]), so what the console shows is what real
//! tablets would make it show.
//!
//! Demo data never goes into a real database: the demo has its own SQLite file in the
//! temporary directory ([`DemoDb`]), removed when the service stops, and its own admin token,
//! held in memory only (the token file is neither read nor written).

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use router::Router;
use simulator::calls::CallModel;
use simulator::engine::World;
use simulator::live::LiveOptions;
use simulator::scenario::{build_world, generate_calls, WorldSpec};
use simulator::SimError;

use crate::stations::Station;

/// Settings of the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Crews on the map.
    pub crews: usize,
    /// 112 calls a (simulated) day.
    pub calls_per_day: f64,
    /// Simulated seconds per wall-clock second.
    pub speed: f64,
    /// The seed of the calls (the same seed, the same calls).
    pub seed: u64,
}

impl Default for DemoOptions {
    /// A dozen crews and 1,500 calls a day at 20 times real speed: on the Heidelberg map a
    /// call every 3 s or so on the wall clock, most crews busy, some calls queued at peaks.
    fn default() -> Self {
        DemoOptions {
            crews: 12,
            calls_per_day: 1_500.0,
            speed: 20.0,
            seed: 112,
        }
    }
}

/// How long the demo's calls run, simulated hours (a week: hours of wall clock at the
/// default speed).
pub const DEMO_HOURS: f64 = 7.0 * 24.0;

/// The fewest mapped houses the demo puts its calls at (with fewer, it keeps the calls
/// where the simulator's demand model puts them: along the roads).
pub const MIN_HOUSES: usize = 100;

/// The prefix of the demo crews' ids.
pub const CREW_PREFIX: &str = "D";

/// The demo's own database: a new SQLite file in the temporary directory, removed (with its
/// WAL files) when dropped.
#[derive(Debug)]
pub struct DemoDb {
    path: PathBuf,
}

impl DemoDb {
    /// A fresh file name for this process in the temporary directory.
    pub fn create() -> DemoDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("dispatch-demo-{}-{nanos}.db", std::process::id()));
        DemoDb { path }
    }

    /// Its `sqlite://` URL.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Drop for DemoDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A new admin token for the demo (128 random bits), kept in memory only.
pub fn token() -> std::io::Result<String> {
    crate::auth::random_token()
}

/// The demo's world on the map: its stations (where its crews start, and go back to),
/// hospitals and where calls come from. Fails when the map cannot hold the demo (no room
/// for stations, say).
pub fn world(router: Arc<Router>, opts: &DemoOptions) -> Result<World, SimError> {
    build_world(router, &WorldSpec::auto(opts.crews))
}

/// The stations of the demo's world, for the service to serve (`GET /api/stations`): its
/// crews are created at them, their `station` naming them.
pub fn stations(world: &World) -> Vec<Station> {
    world
        .stations
        .iter()
        .map(|p| Station {
            id: p.id.clone(),
            name: if p.name.is_empty() {
                p.id.clone()
            } else {
                p.name.clone()
            },
            lat: p.lat,
            lon: p.lon,
        })
        .collect()
}

/// Starts the simulated calls and tablets of `world` (see [`world`]) against the service at
/// `base` (e.g. `http://127.0.0.1:8080`, which must be listening) with the admin `token`, on
/// a thread of their own; each call is given the nearest mapped house of `addresses` as its
/// address, as a call taker would confirm it; the thread ends when the calls have run out, or at once if the
/// service stops.
pub fn drive(
    world: World,
    base: String,
    token: String,
    opts: &DemoOptions,
    addresses: Option<Arc<osm_data::address::AddressIndex>>,
) -> Result<JoinHandle<()>, SimError> {
    let mut calls = generate_calls(
        &world,
        opts.calls_per_day,
        DEMO_HOURS,
        opts.seed,
        &CallModel::default(),
    )?;
    // The first call at once, not after the Poisson process's first gap: a newcomer sees a
    // crew sent and driving within seconds of the start.
    if let Some(first) = calls.first().map(|c| c.t) {
        for c in &mut calls {
            c.t -= first;
        }
    }
    // Calls where people live: each at a mapped house drawn at random (the map's houses
    // stand in for its population), so the console and the tablet show a street and a
    // house, as for a real call.
    if let Some(index) = &addresses {
        let houses: Vec<(f64, f64)> = index.addresses().map(|m| (m.lat, m.lon)).collect();
        if houses.len() >= MIN_HOUSES {
            simulator::scenario::place_calls_at(&mut calls, &houses, opts.seed);
        }
    }
    let live = LiveOptions {
        server: base,
        token,
        speed: opts.speed,
        report_s: 5.0,
        crew_prefix: CREW_PREFIX.into(),
        drain_s: 3_600.0,
        addresses,
    };
    std::thread::Builder::new()
        .name("demo".into())
        .spawn(
            move || match simulator::live::run_live(&world, &calls, &live) {
                Ok(r) => tracing::info!(
                    calls = r.calls_posted,
                    handovers = r.handovers,
                    errors = r.errors,
                    "the demo's calls have run out"
                ),
                Err(e) => tracing::error!(error = %e, "the demo stopped"),
            },
        )
        .map_err(|e| SimError::Live(format!("cannot start the demo: {e}")))
}
