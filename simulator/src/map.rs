//! Opening the map: [`router::map`], the same as the dispatch service's, so both route on
//! the same graph (a `.osm.pbf` extract is imported once and its graph kept next to it as
//! `NAME.graph`; a `.graph` file is opened directly).

use std::path::Path;

use router::Router;

use crate::error::SimError;

pub use router::map::graph_path_for;

/// Opens a map (`.osm.pbf` or `.graph`) and prepares its router.
pub fn open_map(path: &Path) -> Result<Router, SimError> {
    router::map::open_map(path, &mut |_| {}).map_err(|e| SimError::Map {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })
}
