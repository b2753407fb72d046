//! Reading a `.osm.pbf` file: the ways an ambulance may drive, the turn restrictions,
//! and the coordinates and barriers of the nodes those ways use.
//!
//! Two passes over the file (with `osmpbfreader`'s parallel block decoder): first ways and
//! relations, then only the nodes the kept ways reference, so memory follows the road
//! network and not the whole extract.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use osmpbfreader::{OsmObj, OsmPbfReader};

use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::tags::{self, RestrictionKind, WayRule};

/// A drivable way as read from the file.
#[derive(Debug, Clone)]
pub struct RawWay {
    /// OSM way id.
    pub id: i64,
    /// OSM node ids, in way order.
    pub nodes: Vec<i64>,
    /// What the profile makes of the way.
    pub rule: WayRule,
    /// `name`, else `ref`, else empty.
    pub name: String,
}

/// A turn restriction with a via node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRestriction {
    /// OSM relation id.
    pub id: i64,
    /// Its meaning.
    pub kind: RestrictionKind,
    /// The `from` way.
    pub from_way: i64,
    /// The `via` node.
    pub via_node: i64,
    /// The `to` way.
    pub to_way: i64,
}

/// Everything the graph builder needs from a PBF file.
#[derive(Debug, Default)]
pub struct OsmExtract {
    /// Drivable ways.
    pub ways: Vec<RawWay>,
    /// Turn restrictions that apply, with a via node.
    pub restrictions: Vec<RawRestriction>,
    /// Sorted ids of the nodes referenced by drivable ways.
    pub node_ids: Vec<i64>,
    /// Coordinates (latitude, longitude in 1e-7 degrees) aligned with `node_ids`; `None` when
    /// the node is not in the file (ways cut at the extract's border).
    pub node_coords: Vec<Option<(i32, i32)>>,
    /// Whether the node is a barrier that stops an ambulance, aligned with `node_ids`.
    pub node_blocks: Vec<bool>,
    /// Counts of what the file holds.
    pub counts: ReadCounts,
}

/// Counts of objects read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadCounts {
    /// Nodes in the file.
    pub osm_nodes: u64,
    /// Ways in the file.
    pub osm_ways: u64,
    /// Relations in the file.
    pub osm_relations: u64,
    /// Turn restrictions whose via member is a way (not supported; skipped).
    pub restrictions_via_way: u64,
    /// Turn restrictions with missing or malformed members (skipped).
    pub restrictions_malformed: u64,
}

/// Progress of a long import step.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Which pass (1: ways and relations, 2: nodes).
    pub pass: u8,
    /// Bytes of the file read so far in this pass.
    pub bytes_done: u64,
    /// Size of the file.
    pub bytes_total: u64,
}

/// A reader that counts the bytes it has handed out.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type Pbf<'a> = OsmPbfReader<CountingReader<&'a [u8]>>;

/// The file's reader for one pass, and the pass's progress.
fn open(bytes: &[u8], pass: u8) -> (Pbf<'_>, Pass) {
    let count = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        inner: bytes,
        count: count.clone(),
    };
    let pass = Pass {
        pass,
        seen: 0,
        count,
        size: bytes.len() as u64,
    };
    (OsmPbfReader::new(reader), pass)
}

/// One pass over the file, reporting its progress every 65,536 objects and at its end.
struct Pass {
    pass: u8,
    seen: u64,
    count: Arc<AtomicU64>,
    size: u64,
}

impl Pass {
    /// One more object read.
    fn tick(&mut self, progress: &mut dyn FnMut(Progress)) {
        self.seen += 1;
        if self.seen % 65_536 == 0 {
            progress(Progress {
                pass: self.pass,
                bytes_done: self.count.load(Ordering::Relaxed),
                bytes_total: self.size,
            });
        }
    }

    /// The whole file read.
    fn done(&self, progress: &mut dyn FnMut(Progress)) {
        progress(Progress {
            pass: self.pass,
            bytes_done: self.size,
            bytes_total: self.size,
        });
    }
}

/// Largest blob header and blob the PBF specification allows.
const MAX_BLOB_HEADER: usize = 64 * 1024;
const MAX_BLOB: usize = 32 * 1024 * 1024;

/// Checks the file's framing (a sequence of length-prefixed blob headers and blobs that
/// ends exactly at the end of the file) before any decoding, so that a truncated or
/// damaged file is refused with the byte offset of the problem ([`Error::Pbf`] naming
/// `path`). Returns the offset at which each block ends.
pub fn check_framing(path: &Path, bytes: &[u8]) -> Result<Vec<usize>> {
    framing(bytes).map_err(|reason| Error::Pbf {
        path: path.to_path_buf(),
        reason,
    })
}

/// [`check_framing`]'s reading: the blocks' ends, or what is wrong where.
fn framing(bytes: &[u8]) -> std::result::Result<Vec<usize>, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let mut ends = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let Some(len) = bytes.get(pos..pos + 4) else {
            return Err(format!(
                "the file is truncated (block header at byte {pos})"
            ));
        };
        let header_len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if header_len == 0 || header_len > MAX_BLOB_HEADER {
            return Err(format!("corrupt block header at byte {pos}"));
        }
        let Some(header) = bytes.get(pos + 4..pos + 4 + header_len) else {
            return Err(format!(
                "the file is truncated (block header at byte {pos})"
            ));
        };
        let data_len =
            blob_data_size(header).ok_or_else(|| format!("corrupt block header at byte {pos}"))?;
        if data_len > MAX_BLOB {
            return Err(format!(
                "corrupt block header at byte {pos} (block of {data_len} bytes)"
            ));
        }
        let end = pos + 4 + header_len + data_len;
        if end > bytes.len() {
            return Err(format!(
                "the file is truncated (block at byte {pos} needs {} bytes, {} remain)",
                end - pos,
                bytes.len() - pos
            ));
        }
        pos = end;
        ends.push(end);
    }
    Ok(ends)
}

/// Reads the `datasize` field (number 3, varint) of a PBF `BlobHeader` message.
fn blob_data_size(mut msg: &[u8]) -> Option<usize> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut size = None;
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        match key & 7 {
            0 => {
                let v = varint(&mut msg)?;
                if key >> 3 == 3 {
                    size = Some(usize::try_from(v).ok()?);
                }
            }
            2 => {
                let n = usize::try_from(varint(&mut msg)?).ok()?;
                msg = msg.get(n..)?;
            }
            1 => msg = msg.get(8..)?,
            5 => msg = msg.get(4..)?,
            _ => return None,
        }
    }
    size
}

/// A PBF decoding error of the file at `path`, in words.
pub(crate) fn pbf_error(path: &Path, e: osmpbfreader::Error) -> Error {
    let reason = match e {
        osmpbfreader::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file is truncated".to_string()
        }
        osmpbfreader::Error::Io(io) => io.to_string(),
        osmpbfreader::Error::Pbf(p) => format!("corrupt data ({p})"),
        osmpbfreader::Error::UnsupportedData => {
            "unsupported data (a required feature is missing)".into()
        }
        osmpbfreader::Error::InvalidData => "invalid data".into(),
    };
    Error::Pbf {
        path: path.to_path_buf(),
        reason,
    }
}

/// Reads the drivable road network of a PBF file under `profile`.
///
/// `path` names the file in errors; `bytes` are its contents. `progress` is called now and
/// then with how far the passes are.
pub fn read_pbf(
    path: &Path,
    bytes: &[u8],
    profile: &Profile,
    progress: &mut dyn FnMut(Progress),
) -> Result<OsmExtract> {
    let path: PathBuf = path.to_path_buf();
    check_framing(&path, bytes)?;
    // The framing is sound; a decoder panic on damaged block contents is still turned
    // into an error rather than allowed to take the caller down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_checked(&path, bytes, profile, progress)
    }))
    .unwrap_or_else(|_| {
        Err(Error::Pbf {
            path: path.clone(),
            reason: "corrupt data (the block decoder failed)".into(),
        })
    })
}

fn read_checked(
    path: &Path,
    bytes: &[u8],
    profile: &Profile,
    progress: &mut dyn FnMut(Progress),
) -> Result<OsmExtract> {
    let path: PathBuf = path.to_path_buf();
    let mut out = OsmExtract::default();
    let mut raw_relations = Vec::new();

    // Pass 1: ways and relations.
    let (mut pbf, mut pass) = open(bytes, 1);
    for obj in pbf.par_iter() {
        let obj = obj.map_err(|e| pbf_error(&path, e))?;
        pass.tick(progress);
        match obj {
            OsmObj::Node(_) => out.counts.osm_nodes += 1,
            OsmObj::Way(way) => {
                out.counts.osm_ways += 1;
                if way.nodes.len() < 2 {
                    continue;
                }
                if let Some(rule) = tags::way_rule(&way.tags, profile) {
                    let name = way
                        .tags
                        .get("name")
                        .or_else(|| way.tags.get("ref"))
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    out.ways.push(RawWay {
                        id: way.id.0,
                        nodes: way.nodes.iter().map(|n| n.0).collect(),
                        rule,
                        name,
                    });
                }
            }
            OsmObj::Relation(rel) => {
                out.counts.osm_relations += 1;
                if profile.turns.restrictions {
                    if let Some(kind) = tags::restriction_kind(&rel.tags, profile) {
                        raw_relations.push((rel, kind));
                    }
                }
            }
        }
    }
    pass.done(progress);
    if out.ways.is_empty() {
        return Err(Error::NoRoads {
            path,
            profile: profile.name.clone(),
            ways: out.counts.osm_ways,
        });
    }
    // Deterministic order whatever the decoder's thread interleaving.
    out.ways.sort_by_key(|w| w.id);
    raw_relations.sort_by_key(|(r, _)| r.id.0);
    for (rel, kind) in raw_relations {
        let member = |role: &str| -> Vec<osmpbfreader::OsmId> {
            rel.refs
                .iter()
                .filter(|r| r.role == role)
                .map(|r| r.member)
                .collect()
        };
        let (from, via, to) = (member("from"), member("via"), member("to"));
        match (from.as_slice(), via.as_slice(), to.as_slice()) {
            ([f], [v], [t]) => match (f.way(), v.node(), t.way()) {
                (Some(f), Some(v), Some(t)) => out.restrictions.push(RawRestriction {
                    id: rel.id.0,
                    kind,
                    from_way: f.0,
                    via_node: v.0,
                    to_way: t.0,
                }),
                (Some(_), None, Some(_)) if v.is_way() => out.counts.restrictions_via_way += 1,
                _ => out.counts.restrictions_malformed += 1,
            },
            _ if via.iter().any(|v| v.is_way()) => out.counts.restrictions_via_way += 1,
            _ => out.counts.restrictions_malformed += 1,
        }
    }

    // Pass 2: the nodes the kept ways use.
    let mut ids: Vec<i64> = out
        .ways
        .iter()
        .flat_map(|w| w.nodes.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    out.node_coords = vec![None; ids.len()];
    out.node_blocks = vec![false; ids.len()];
    let (mut pbf, mut pass) = open(bytes, 2);
    for node in pbf.par_iter_nodes() {
        let node = node.map_err(|e| pbf_error(&path, e))?;
        pass.tick(progress);
        if let Ok(i) = ids.binary_search(&node.id.0) {
            out.node_coords[i] = Some((node.decimicro_lat, node.decimicro_lon));
            out.node_blocks[i] = tags::node_blocks(&node.tags, profile);
        }
    }
    pass.done(progress);
    out.node_ids = ids;
    Ok(out)
}

/// Node coordinates by id, of the nodes a step wants (`None` until found in the file).
pub(crate) type NodeCoords = HashMap<i64, Option<(f64, f64)>>;

/// Fills in the coordinates of the nodes `wanted` lists, from the nodes of the PBF `bytes`
/// (the file at `path`, for errors).
pub(crate) fn locate_nodes(path: &Path, bytes: &[u8], wanted: &mut NodeCoords) -> Result<()> {
    let mut pbf = OsmPbfReader::new(bytes);
    for node in pbf.par_iter_nodes() {
        let node = node.map_err(|e| pbf_error(path, e))?;
        if let Some(slot) = wanted.get_mut(&node.id.0) {
            *slot = Some((node.lat(), node.lon()));
        }
    }
    Ok(())
}

/// The mean position of a way's nodes whose coordinates `coords` has (a closed way repeats
/// its first node: it counts once); `None` if it has none of them.
pub(crate) fn way_centre(nodes: &[i64], coords: &NodeCoords) -> Option<(f64, f64)> {
    let unique = if nodes.len() > 1 && nodes.first() == nodes.last() {
        &nodes[..nodes.len() - 1]
    } else {
        nodes
    };
    let (mut lat, mut lon, mut n) = (0.0, 0.0, 0usize);
    for c in unique
        .iter()
        .filter_map(|n| coords.get(n).copied().flatten())
    {
        lat += c.0;
        lon += c.1;
        n += 1;
    }
    (n > 0).then(|| (lat / n as f64, lon / n as f64))
}
