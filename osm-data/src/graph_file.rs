//! The versioned binary graph file.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `AMBGRAPH` |
//! | 4 | format version ([`GRAPH_FORMAT_VERSION`]) |
//! | 4 | reserved, 0 |
//! | 8 | payload length |
//! | 4 | CRC-32 of the payload |
//! | 4 | reserved, 0 |
//! | … | payload: provenance (source PBF name, size, hash; profile name, hash), then each array of [`RoadGraph`] as a `u64` length and its elements |
//!
//! Files are written to a temporary name in the same directory, synced, then renamed, so a
//! crash never leaves a half-written graph under the final name. Loading checks the magic,
//! the version, the length and the checksum, then the arrays' consistency.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::graph::{Coord, GraphMeta, RoadGraph};

/// Magic bytes at the start of every graph file.
pub const GRAPH_MAGIC: &[u8; 8] = b"AMBGRAPH";
/// The graph format version this build writes and reads.
pub const GRAPH_FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 32;

/// Encodes a graph into the file format (header and payload).
pub fn encode(graph: &RoadGraph) -> Vec<u8> {
    let mut p = Vec::with_capacity(64 + graph.arc_count() * 12 + graph.points.len() * 8);
    put_str(&mut p, &graph.meta.source_name);
    p.extend_from_slice(&graph.meta.source_size.to_le_bytes());
    p.extend_from_slice(&graph.meta.source_hash.to_le_bytes());
    put_str(&mut p, &graph.meta.profile_name);
    p.extend_from_slice(&graph.meta.profile_hash.to_le_bytes());
    put_coords(&mut p, &graph.node_coord);
    put_array(&mut p, &graph.node_osm_id, |v, p| {
        p.extend_from_slice(&v.to_le_bytes())
    });
    for a in [
        &graph.first_out,
        &graph.arc_head,
        &graph.arc_time_ms,
        &graph.arc_segment,
        &graph.seg_first_point,
    ] {
        put_array(&mut p, a, |v, p| p.extend_from_slice(&v.to_le_bytes()));
    }
    put_coords(&mut p, &graph.points);
    put_array(&mut p, &graph.seg_length_m, |v, p| {
        p.extend_from_slice(&v.to_le_bytes())
    });
    put_array(&mut p, &graph.seg_way_id, |v, p| {
        p.extend_from_slice(&v.to_le_bytes())
    });
    put_array(&mut p, &graph.seg_name, |v, p| {
        p.extend_from_slice(&v.to_le_bytes())
    });
    put_array(&mut p, &graph.seg_class, |v, p| p.push(*v));
    put_array(&mut p, &graph.names, |s, p| put_str(p, s));

    let mut out = Vec::with_capacity(HEADER_LEN + p.len());
    out.extend_from_slice(GRAPH_MAGIC);
    out.extend_from_slice(&GRAPH_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(p.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&p).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&p);
    out
}

/// Writes a graph file atomically (temporary file, sync, rename).
pub fn save(graph: &RoadGraph, path: &Path) -> Result<()> {
    write_atomically(path, &encode(graph))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (`tempfile`),
/// synced, then renamed over `path`; on failure the temporary file is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    (|| {
        let mut f = tempfile::NamedTempFile::new_in(dir)?;
        f.write_all(bytes)?;
        f.as_file().sync_all()?;
        f.persist(path).map_err(|e| e.error)?;
        Ok(())
    })()
    .map_err(|e| Error::io("cannot write", path, e))
}

/// Reads and checks a graph file.
pub fn load(path: &Path) -> Result<RoadGraph> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    decode_bytes(&bytes).map_err(|reason| Error::graph_file(path, reason))
}

/// Decodes a graph file's bytes: [`Error::MalformedGraph`] saying what is wrong with them.
pub fn decode(bytes: &[u8]) -> Result<RoadGraph> {
    decode_bytes(bytes).map_err(|reason| Error::MalformedGraph { reason })
}

fn decode_bytes(bytes: &[u8]) -> std::result::Result<RoadGraph, String> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != GRAPH_MAGIC {
        return Err(
            "not a graph file (no AMBGRAPH header); import a map with `dispatch import`".into(),
        );
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap_or_default());
    let version = u32_at(8);
    if version != GRAPH_FORMAT_VERSION {
        return Err(format!(
            "graph format version {version}, this build reads version {GRAPH_FORMAT_VERSION}; re-import the map"
        ));
    }
    let len = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or_default());
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(format!(
            "the file is truncated or padded: payload of {} bytes, header says {len}",
            payload.len()
        ));
    }
    if crc32fast::hash(payload) != u32_at(24) {
        return Err("checksum mismatch: the file is damaged".into());
    }
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let damaged = |what: &str| format!("the file is damaged ({what})");
    let mut g = RoadGraph {
        meta: GraphMeta {
            source_name: r.string().ok_or_else(|| damaged("source name"))?,
            source_size: r.u64().ok_or_else(|| damaged("source size"))?,
            source_hash: r.u64().ok_or_else(|| damaged("source hash"))?,
            profile_name: r.string().ok_or_else(|| damaged("profile name"))?,
            profile_hash: r.u64().ok_or_else(|| damaged("profile hash"))?,
        },
        ..Default::default()
    };
    g.node_coord = r.coords().ok_or_else(|| damaged("node coordinates"))?;
    g.node_osm_id = r
        .array(8, |b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| damaged("node ids"))?;
    let mut u32s = || r.array(4, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()));
    g.first_out = u32s().ok_or_else(|| damaged("arc offsets"))?;
    g.arc_head = u32s().ok_or_else(|| damaged("arc heads"))?;
    g.arc_time_ms = u32s().ok_or_else(|| damaged("arc times"))?;
    g.arc_segment = u32s().ok_or_else(|| damaged("arc segments"))?;
    g.seg_first_point = u32s().ok_or_else(|| damaged("segment offsets"))?;
    g.points = r.coords().ok_or_else(|| damaged("shape points"))?;
    g.seg_length_m = r
        .array(4, |b| f32::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| damaged("lengths"))?;
    g.seg_way_id = r
        .array(8, |b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| damaged("way ids"))?;
    g.seg_name = r
        .array(4, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| damaged("names"))?;
    g.seg_class = r.array(1, |b| b[0]).ok_or_else(|| damaged("classes"))?;
    let n = r.u64().ok_or_else(|| damaged("name table"))?;
    let mut names = Vec::with_capacity(n.min(1 << 24) as usize);
    for _ in 0..n {
        names.push(r.string().ok_or_else(|| damaged("name table"))?);
    }
    g.names = names;
    if r.pos != payload.len() {
        return Err(damaged("trailing bytes"));
    }
    g.check_arrays().map_err(|e| damaged(&e))?;
    Ok(g)
}

fn put_str(p: &mut Vec<u8>, s: &str) {
    p.extend_from_slice(&(s.len() as u64).to_le_bytes());
    p.extend_from_slice(s.as_bytes());
}

fn put_array<T>(p: &mut Vec<u8>, items: &[T], mut put: impl FnMut(&T, &mut Vec<u8>)) {
    p.extend_from_slice(&(items.len() as u64).to_le_bytes());
    for item in items {
        put(item, p);
    }
}

fn put_coords(p: &mut Vec<u8>, coords: &[Coord]) {
    put_array(p, coords, |c, p| {
        p.extend_from_slice(&c.lat_e7.to_le_bytes());
        p.extend_from_slice(&c.lon_e7.to_le_bytes());
    });
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn string(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    fn array<T>(&mut self, size: usize, f: impl Fn(&[u8]) -> T) -> Option<Vec<T>> {
        let n = usize::try_from(self.u64()?).ok()?;
        let bytes = self.take(n.checked_mul(size)?)?;
        Some(bytes.chunks_exact(size).map(f).collect())
    }

    fn coords(&mut self) -> Option<Vec<Coord>> {
        self.array(8, |b| Coord {
            lat_e7: i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            lon_e7: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
    }
}
