//! Places of interest read from the same PBF as the roads: hospitals (`amenity=hospital` or
//! `healthcare=hospital`, mapped as a node or as a closed way, whose position is then the mean
//! of its nodes). Hospitals mapped only as multipolygon relations are not read.

use std::collections::BTreeMap;
use std::path::Path;

use osmpbfreader::{OsmObj, OsmPbfReader, Tags};

use crate::error::{Error, Result};
use crate::reader::{check_framing, locate_nodes, pbf_error, way_centre, NodeCoords};

/// A hospital as mapped in OpenStreetMap.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// `n<id>` for a node, `w<id>` for a way.
    pub osm_id: String,
    /// Its `name` (empty when unnamed).
    pub name: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// The tags that say what it treats: `emergency`, `healthcare:speciality`,
    /// `healthcare`, `amenity`.
    pub tags: BTreeMap<String, String>,
}

const KEPT_TAGS: [&str; 4] = [
    "emergency",
    "healthcare:speciality",
    "healthcare",
    "amenity",
];

fn is_hospital(tags: &Tags) -> bool {
    tags.get("amenity").is_some_and(|v| v == "hospital")
        || tags.get("healthcare").is_some_and(|v| v == "hospital")
}

fn kept(tags: &Tags) -> (String, BTreeMap<String, String>) {
    let name = tags.get("name").map(|s| s.to_string()).unwrap_or_default();
    let kept = KEPT_TAGS
        .iter()
        .filter_map(|k| Some((k.to_string(), tags.get(*k)?.to_string())))
        .collect();
    (name, kept)
}

/// The hospitals of the PBF file at `path`, ordered by `osm_id`.
pub fn hospitals(path: &Path) -> Result<Vec<Place>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    check_framing(path, &bytes)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(path, &bytes))).unwrap_or_else(
        |_| {
            Err(Error::Pbf {
                path: path.to_path_buf(),
                reason: "corrupt data (the block decoder failed)".into(),
            })
        },
    )
}

fn read(path: &Path, bytes: &[u8]) -> Result<Vec<Place>> {
    let mut places = Vec::new();
    // Ways: their node ids, resolved in the second pass.
    struct HospitalWay {
        id: i64,
        name: String,
        tags: BTreeMap<String, String>,
        nodes: Vec<i64>,
    }
    let mut ways: Vec<HospitalWay> = Vec::new();
    let mut pbf = OsmPbfReader::new(bytes);
    for obj in pbf.par_iter() {
        match obj.map_err(|e| pbf_error(path, e))? {
            OsmObj::Node(n) if is_hospital(&n.tags) => {
                let (name, tags) = kept(&n.tags);
                places.push(Place {
                    osm_id: format!("n{}", n.id.0),
                    name,
                    lat: n.lat(),
                    lon: n.lon(),
                    tags,
                });
            }
            OsmObj::Way(w) if is_hospital(&w.tags) && !w.nodes.is_empty() => {
                let (name, tags) = kept(&w.tags);
                ways.push(HospitalWay {
                    id: w.id.0,
                    name,
                    tags,
                    nodes: w.nodes.iter().map(|n| n.0).collect(),
                });
            }
            _ => {}
        }
    }
    if !ways.is_empty() {
        let mut wanted: NodeCoords = ways
            .iter()
            .flat_map(|w| w.nodes.iter().map(|&n| (n, None)))
            .collect();
        locate_nodes(path, bytes, &mut wanted)?;
        for HospitalWay {
            id,
            name,
            tags,
            nodes,
        } in ways
        {
            let Some((lat, lon)) = way_centre(&nodes, &wanted) else {
                continue;
            };
            places.push(Place {
                osm_id: format!("w{id}"),
                name,
                lat,
                lon,
                tags,
            });
        }
    }
    places.sort_by(|a, b| a.osm_id.cmp(&b.osm_id));
    Ok(places)
}
