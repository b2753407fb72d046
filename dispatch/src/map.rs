//! Opening the map the service routes on: [`router::map`] (a `.osm.pbf` extract imported
//! once and its graph kept next to it as `NAME.graph`, a `.graph` file opened directly),
//! with its notes logged.

use std::path::Path;

use router::map::MapNote;
use router::{Router, RouterError};

pub use router::map::{graph_path_for, is_pbf};

/// Opens a map (`.osm.pbf` or `.graph`) and prepares its router.
pub fn open_map(path: &Path) -> Result<Router, RouterError> {
    router::map::open_map(path, &mut |note| match note {
        MapNote::Importing => tracing::info!(
            map = %path.display(),
            "importing the map (once; the graph is kept next to it)"
        ),
        MapNote::NotKept(e) => tracing::warn!(
            error = %e,
            "cannot keep the imported graph; it will be imported again next time"
        ),
    })
}
