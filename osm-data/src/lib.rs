//! OpenStreetMap import for the ambulance dispatch engine.
//!
//! Reads a `.osm.pbf` extract with [`osmpbfreader`] and turns it into a compact, routable
//! [`RoadGraph`] under an emergency-vehicle [`Profile`], then saves it in a versioned binary
//! file ([`graph_file`]) that loads in milliseconds.
//!
//! Parts:
//! * [`tags`]: pure tag logic (access, one-ways, `maxspeed`, barriers, restrictions);
//! * [`profile`]: the configurable emergency profile (TOML);
//! * [`reader`]: the two passes over the PBF file;
//! * [`build`]: junctions, segments, turn expansion, largest strongly connected component;
//! * [`graph`]: the graph's arrays and accessors;
//! * [`graph_file`]: the on-disk format;
//! * [`places`]: hospitals mapped in the same file;
//! * [`address`]: the map's addresses, streets and places, searched as typed (Russian
//!   abbreviations, house numbers with корпус and строение) and nearest a point.
//!
//! Glossary: a *segment* is a stretch of one OSM way between two junctions; an *arc* is a
//! directed move along a segment; a *crew* is an ambulance and its staff (see `dispatch`).
//!
//! ```no_run
//! use std::path::Path;
//! let profile = osm_data::Profile::default();
//! let imported = osm_data::import(Path::new("data/heidelberg.osm.pbf"), &profile, &mut |_| {})?;
//! osm_data::graph_file::save(&imported.graph, Path::new("heidelberg.graph"))?;
//! let graph = osm_data::graph_file::load(Path::new("heidelberg.graph"))?;
//! println!("{} nodes, {} arcs", graph.node_count(), graph.arc_count());
//! # Ok::<(), osm_data::Error>(())
//! ```
//!
//! Map data © OpenStreetMap contributors, ODbL 1.0.

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
pub mod build;
pub mod error;
pub mod graph;
pub mod graph_file;
pub mod places;
pub mod profile;
pub mod reader;
pub mod tags;

use std::path::Path;
use std::time::{Duration, Instant};

pub use build::BuildStats;
pub use error::{Error, Result};
pub use graph::{haversine_m, round6, BoundingBox, Coord, GraphMeta, RoadGraph};
pub use places::{hospitals, Place};
pub use profile::Profile;
pub use reader::{Progress, ReadCounts};

/// The result of an import: the graph and what it took.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The routable graph.
    pub graph: RoadGraph,
    /// Objects in the source file.
    pub read: ReadCounts,
    /// What the build kept and dropped.
    pub build: BuildStats,
    /// Time spent reading the PBF.
    pub read_time: Duration,
    /// Time spent building the graph.
    pub build_time: Duration,
}

/// Imports a PBF file into a road graph under `profile`.
pub fn import(
    pbf: &Path,
    profile: &Profile,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported> {
    let source = std::fs::read(pbf).map_err(|e| Error::io("cannot read", pbf, e))?;
    import_bytes(pbf, &source, profile, progress)
}

/// Imports the contents of a PBF file already in memory; `pbf` names it in errors and in
/// the graph's provenance. Any bytes give a graph or an error, never a panic (the fuzz target
/// `pbf_import` checks this).
pub fn import_bytes(
    pbf: &Path,
    source: &[u8],
    profile: &Profile,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported> {
    let t0 = Instant::now();
    let extract = reader::read_pbf(pbf, source, profile, progress)?;
    let read_time = t0.elapsed();
    let t1 = Instant::now();
    let (mut graph, build) = build::build_graph(&extract).ok_or_else(|| Error::NoRoads {
        path: pbf.to_path_buf(),
        profile: profile.name.clone(),
        ways: extract.counts.osm_ways,
    })?;
    graph.meta = GraphMeta {
        source_name: pbf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        source_size: source.len() as u64,
        source_hash: xxhash_rust::xxh3::xxh3_64(source),
        profile_name: profile.name.clone(),
        profile_hash: profile.content_hash(),
    };
    Ok(Imported {
        graph,
        read: extract.counts,
        build,
        read_time,
        build_time: t1.elapsed(),
    })
}
