//! Shared helpers: paths of the shipped maps, imports with a given profile.

use std::path::PathBuf;

use osm_data::{Imported, Profile};

/// Every map shipped in `data/`.
pub const MAPS: [&str; 6] = [
    "heidelberg",
    "monaco",
    "liechtenstein",
    "helsinki",
    "baltimore",
    "moscow-fragment",
];

/// Path of a shipped map.
pub fn map_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(format!("{name}.osm.pbf"))
}

/// Imports a shipped map with the default profile.
pub fn import(name: &str) -> Imported {
    import_with(name, &Profile::default())
}

/// Imports a shipped map with `profile`.
pub fn import_with(name: &str, profile: &Profile) -> Imported {
    osm_data::import(&map_path(name), profile, &mut |_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}
