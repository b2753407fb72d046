//! The cache of a graph's nested-dissection order next to its file (`NAME.cch`): the
//! expensive, metric-independent step of preparing a router, keyed by a hash (XXH3) of the
//! graph's structure and coordinates and checked by CRC-32. Any damage or mismatch only costs
//! computing the order again.

use std::path::{Path, PathBuf};

use osm_data::RoadGraph;

use crate::cch;
use crate::error::RouterError;

const CACHE_MAGIC: &[u8; 8] = b"AMBCCHOR";
/// 2: the key is XXH3 and the check value CRC-32 (1: FNV-1a for both).
const CACHE_VERSION: u32 = 2;

/// A hash of what the order depends on: the graph's structure and coordinates.
pub(super) fn structure_key(g: &RoadGraph) -> u64 {
    let mut bytes =
        Vec::with_capacity(4 * (g.first_out.len() + g.arc_head.len() + 2 * g.node_count()));
    let words = g.first_out.iter().chain(&g.arc_head).copied().chain(
        g.node_coord
            .iter()
            .flat_map(|c| [c.lat_e7 as u32, c.lon_e7 as u32]),
    );
    for w in words {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Computes the nested-dissection order of a graph (the expensive, metric-independent step).
pub fn compute_order(g: &RoadGraph) -> Vec<u32> {
    let lat: Vec<f64> = g.node_coord.iter().map(|c| c.lat()).collect();
    let lon: Vec<f64> = g.node_coord.iter().map(|c| c.lon()).collect();
    cch::order::nested_dissection_order(&g.first_out, &g.arc_head, &lat, &lon)
}

pub(super) fn read_cached_order(path: &Path, key: u64, n: usize) -> Option<Vec<u32>> {
    let bytes = std::fs::read(path).ok()?;
    let body_len = bytes.len().checked_sub(4)?;
    let (body, crc) = bytes.split_at(body_len);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?)
        || body.len() < 28
        || &body[..8] != CACHE_MAGIC
    {
        return None;
    }
    let version = u32::from_le_bytes(body[8..12].try_into().ok()?);
    let file_key = u64::from_le_bytes(body[12..20].try_into().ok()?);
    let count = u64::from_le_bytes(body[20..28].try_into().ok()?) as usize;
    if version != CACHE_VERSION || file_key != key || count != n || body.len() != 28 + 4 * n {
        return None;
    }
    let order: Vec<u32> = body[28..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    cch::order::is_permutation(&order).then_some(order)
}

pub(super) fn write_cached_order(path: &Path, key: u64, order: &[u32]) -> Result<(), RouterError> {
    let mut body = Vec::with_capacity(32 + 4 * order.len());
    body.extend_from_slice(CACHE_MAGIC);
    body.extend_from_slice(&CACHE_VERSION.to_le_bytes());
    body.extend_from_slice(&key.to_le_bytes());
    body.extend_from_slice(&(order.len() as u64).to_le_bytes());
    for &x in order {
        body.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    osm_data::graph_file::write_atomically(path, &body).map_err(RouterError::Cache)
}

/// Path of the preprocessing cache of a graph file.
pub fn cache_path(graph_path: &Path) -> PathBuf {
    graph_path.with_extension("cch")
}
