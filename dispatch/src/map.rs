//! Opening the map the service routes on.
//!
//! A `.osm.pbf` extract is imported once and its graph kept next to it as `NAME.graph`
//! (reused while the PBF and the profile are unchanged); the CCH order is cached as
//! `NAME.cch` by the router. A `.graph` file is opened directly.

use std::path::{Path, PathBuf};

use osm_data::{graph_file, Profile};
use router::{Router, RouterError, RouterOptions};

/// Errors opening a map.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// Reading, importing or preparing the map failed.
    #[error(transparent)]
    Router(#[from] RouterError),
    /// Importing the PBF failed.
    #[error(transparent)]
    Import(#[from] osm_data::Error),
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

/// Opens a map (`.osm.pbf` or `.graph`) and prepares its router.
pub fn open_map(path: &Path) -> Result<Router, MapError> {
    if !is_pbf(path) {
        return Ok(Router::open(path)?);
    }
    let profile = Profile::default();
    let graph_path = graph_path_for(path);
    let bytes = std::fs::read(path).map_err(|e| osm_data::Error::Io {
        action: "cannot read",
        path: path.to_path_buf(),
        cause: e,
    })?;
    let source_hash = osm_data::fnv1a64(&bytes);
    if let Ok(g) = graph_file::load(&graph_path) {
        if g.meta.source_hash == source_hash && g.meta.profile_hash == profile.content_hash() {
            return Ok(Router::open(&graph_path)?);
        }
    }
    tracing::info!(map = %path.display(), "importing the map (once; the graph is kept next to it)");
    let imported = osm_data::import(path, &profile, &mut |_| {})?;
    match graph_file::save(&imported.graph, &graph_path) {
        Ok(()) => Ok(Router::open(&graph_path)?),
        Err(e) => {
            tracing::warn!(error = %e, "cannot keep the imported graph; it will be imported again next time");
            Ok(Router::new(imported.graph, RouterOptions::default())?)
        }
    }
}
