//! Opening the map: a `.osm.pbf` extract is imported once and its road graph kept next to
//! it as `NAME.graph` (reused while the PBF and the profile are unchanged; the router keeps
//! its CCH order as `NAME.cch`); a `.graph` file is opened directly. The same logic as the
//! dispatch service's, so both route on the same graph.

use std::path::{Path, PathBuf};

use osm_data::{graph_file, Profile};
use router::{Router, RouterOptions};

use crate::error::SimError;

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

/// Opens a map (`.osm.pbf` or `.graph`) and prepares its router.
pub fn open_map(path: &Path) -> Result<Router, SimError> {
    let err = |cause: String| SimError::Map {
        path: path.to_path_buf(),
        cause,
    };
    if !path.to_string_lossy().ends_with(".pbf") {
        return Router::open(path).map_err(|e| err(e.to_string()));
    }
    let profile = Profile::default();
    let graph_path = graph_path_for(path);
    let bytes = std::fs::read(path).map_err(|e| SimError::io("read", path, e))?;
    let source_hash = osm_data::fnv1a64(&bytes);
    if let Ok(g) = graph_file::load(&graph_path) {
        if g.meta.source_hash == source_hash && g.meta.profile_hash == profile.content_hash() {
            if let Ok(r) = Router::open(&graph_path) {
                return Ok(r);
            }
        }
    }
    let imported = osm_data::import(path, &profile, &mut |_| {}).map_err(|e| err(e.to_string()))?;
    match graph_file::save(&imported.graph, &graph_path) {
        Ok(()) => Router::open(&graph_path).map_err(|e| err(e.to_string())),
        // A read-only directory only costs importing again next time.
        Err(_) => {
            Router::new(imported.graph, RouterOptions::default()).map_err(|e| err(e.to_string()))
        }
    }
}
