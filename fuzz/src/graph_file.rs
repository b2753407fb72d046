//! `graph_file`: arbitrary bytes as a graph file. Loading gives a graph or an error, never a
//! panic. So that mutations get past the checksum, each input is also tried with its header
//! repaired (magic, version, length and CRC-32 made right); a graph that loads is
//! consistent, its accessors stay in bounds, and it encodes back to the very same bytes.

use osm_data::graph_file::{decode, encode, GRAPH_FORMAT_VERSION, GRAPH_MAGIC};
use osm_data::RoadGraph;

const HEADER_LEN: usize = 32;

/// Checks one input.
pub fn check(data: &[u8]) {
    if let Ok(g) = decode(data) {
        exercise(&g);
    }
    let repaired = repair_header(data);
    if let Ok(g) = decode(&repaired) {
        exercise(&g);
        assert!(
            encode(&g) == repaired,
            "a loaded graph does not encode back to its bytes"
        );
    }
}

/// `data` with a valid header in front of its payload (the bytes after the header).
pub fn repair_header(data: &[u8]) -> Vec<u8> {
    let payload = data.get(HEADER_LEN..).unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(GRAPH_MAGIC);
    out.extend_from_slice(&GRAPH_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Every accessor a router uses, over the whole graph: none may panic on a loaded graph.
fn exercise(g: &RoadGraph) {
    if let Err(e) = g.validate() {
        panic!("a loaded graph does not validate: {e}");
    }
    let _ = g.bounding_box();
    let tails = g.arc_tails();
    assert_eq!(tails.len(), g.arc_count());
    for v in 0..g.node_count() as u32 {
        for a in g.out_arcs(v) {
            let (seg, _) = g.arc_segment(a);
            assert!(g.segment_points(seg).len() >= 2);
            let _ = g.segment_name(seg);
        }
    }
    for s in 0..g.segment_count() as u32 {
        let _ = g.segment_points(s);
        let _ = g.segment_name(s);
    }
    if let Some(&way) = g.seg_way_id.first() {
        let _ = g.arcs_of_way(way);
    }
}
