//! `pbf_import`: arbitrary bytes as an `.osm.pbf` file. The import gives a graph or an error,
//! never a panic; a graph it gives is consistent and survives the graph file unchanged.
//!
//! `osm_data::reader::read_pbf` turns a panic of the PBF decoder (`osmpbfreader`, which
//! indexes its string table and multiplies coordinates unchecked) into an error. libFuzzer's
//! panic hook would abort on those contained panics; the target's `init` wraps the
//! hook so that only panics elsewhere count as crashes.

use std::path::Path;

/// Checks one input.
pub fn check(data: &[u8]) {
    let profile = osm_data::Profile::default();
    let path = Path::new("fuzz.osm.pbf");
    match osm_data::import_bytes(path, data, &profile, &mut |_| {}) {
        Ok(imported) => {
            let graph = imported.graph;
            if let Err(e) = graph.validate() {
                panic!("the import made an inconsistent graph: {e}");
            }
            let bytes = osm_data::graph_file::encode(&graph);
            match osm_data::graph_file::decode(&bytes) {
                Ok(back) => assert!(back == graph, "the graph file changed the graph"),
                Err(e) => panic!("the graph file of an imported graph does not load: {e}"),
            }
        }
        Err(e) => {
            // The message names the file.
            let msg = e.to_string();
            assert!(msg.contains("fuzz.osm.pbf"), "{msg}");
        }
    }
}
