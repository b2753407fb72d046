//! Setup shared by the workspace's tests and benches, so that each crate's `tests/it/`
//! does not repeat it: the maps bundled in `data/` by name, their imported graphs, and
//! (feature `router`) a fresh router per call with each map's nested-dissection order computed
//! once per test binary; (feature `postgres`) a throw-away PostgreSQL schema ([`pg`]).
//!
//! A dev-dependency only: nothing shipped links it.

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "postgres")]
pub mod pg;

use std::path::PathBuf;

use osm_data::{Imported, Profile, RoadGraph};

/// Every map shipped in `data/`.
pub const MAPS: [&str; 6] = [
    "heidelberg",
    "monaco",
    "liechtenstein",
    "helsinki",
    "baltimore",
    "moscow-fragment",
];

/// The repository's `data/` directory.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// Path of a bundled map, `data/NAME.osm.pbf`.
pub fn map_path(name: &str) -> PathBuf {
    data_dir().join(format!("{name}.osm.pbf"))
}

/// Imports a bundled map with `profile`.
///
/// # Panics
/// If the map is missing or does not import.
pub fn import_with(name: &str, profile: &Profile) -> Imported {
    osm_data::import(&map_path(name), profile, &mut |_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Imports a bundled map with the default emergency-vehicle profile.
///
/// # Panics
/// If the map is missing or does not import.
pub fn import(name: &str) -> Imported {
    import_with(name, &Profile::default())
}

/// The road graph of a bundled map (default profile).
///
/// # Panics
/// If the map is missing or does not import.
pub fn graph(name: &str) -> RoadGraph {
    import(name).graph
}

/// A fresh router for a bundled map (closures added in one test must not leak into
/// another); the map's order is computed once per test binary.
///
/// # Panics
/// If the map is missing or does not import.
#[cfg(feature = "router")]
pub fn router(name: &str) -> router::Router {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock, PoisonError};

    static ORDERS: OnceLock<Mutex<HashMap<String, Arc<Vec<u32>>>>> = OnceLock::new();
    let g = graph(name);
    let orders = ORDERS.get_or_init(Default::default);
    let cached = orders
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .cloned();
    let order = cached.unwrap_or_else(|| {
        let o = Arc::new(router::engine::compute_order(&g));
        orders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_string(), o.clone());
        o
    });
    router::Router::with_order(g, &order, router::RouterOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A seed from `TEST_SEED` or a fixed default, printed so that a failure can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125);
    println!("{test}: seed {seed} (set TEST_SEED to replay)");
    seed
}
