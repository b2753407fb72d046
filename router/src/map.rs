//! Opening a map by its file: a `.osm.pbf` extract is imported once and its road graph kept
//! next to it as `NAME.graph` (reused while the PBF and the profile are unchanged; the CCH
//! order is kept as `NAME.cch`); a `.graph` file is opened directly. The dispatch service
//! and the simulator both open their maps here, so both route on the same graph.

use std::path::{Path, PathBuf};

use osm_data::{graph_file, Profile};

use crate::{Router, RouterError, RouterOptions};

/// What [`open_map`] tells its caller on the way (for logs and progress).
#[derive(Debug)]
pub enum MapNote<'a> {
    /// The PBF is being imported (no graph next to it matches it).
    Importing,
    /// The imported graph could not be kept next to the PBF (a read-only directory, a full
    /// disk): the map is imported again next time.
    NotKept(&'a osm_data::Error),
}

/// The graph file kept next to a PBF extract.
pub fn graph_path_for(pbf: &Path) -> PathBuf {
    let name = pbf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".osm.pbf")
        .or_else(|| name.strip_suffix(".pbf"))
        .unwrap_or(&name);
    pbf.with_file_name(format!("{stem}.graph"))
}

/// Whether `path` names an OpenStreetMap PBF extract (by its extension).
pub fn is_pbf(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".pbf")
}

/// Opens a map (`.osm.pbf` or `.graph`) and prepares its router, with the default
/// emergency-vehicle profile. Each file is read and decoded once.
pub fn open_map(path: &Path, note: &mut dyn FnMut(MapNote)) -> Result<Router, RouterError> {
    if !is_pbf(path) {
        return Router::open(path);
    }
    let profile = Profile::default();
    let graph_path = graph_path_for(path);
    let bytes = std::fs::read(path).map_err(|cause| osm_data::Error::Io {
        action: "cannot read",
        path: path.to_path_buf(),
        cause,
    })?;
    let source_hash = xxhash_rust::xxh3::xxh3_64(&bytes);
    if let Ok(g) = graph_file::load(&graph_path) {
        if g.meta.source_hash == source_hash && g.meta.profile_hash == profile.content_hash() {
            return Router::prepare_file(g, &graph_path);
        }
    }
    note(MapNote::Importing);
    let imported = osm_data::import(path, &profile, &mut |_| {})?;
    match graph_file::save(&imported.graph, &graph_path) {
        Ok(()) => Router::prepare_file(imported.graph, &graph_path),
        Err(e) => {
            note(MapNote::NotKept(&e));
            Router::new(imported.graph, RouterOptions::default())
        }
    }
}
