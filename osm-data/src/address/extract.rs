//! Reading what the address index needs from a `.osm.pbf` file, in two passes (as
//! [`crate::places`] does): first every object, keeping the addressed nodes whole and the
//! addressed, named or street ways with their node ids; then the coordinates of those nodes
//! only. A way's point is the mean of its distinct nodes; a street's is the middle node of
//! each of its ways. Objects mapped only as relations (multipolygon buildings) are counted
//! and left out.

use std::path::Path;

use osmpbfreader::{OsmObj, OsmPbfReader, Tags};

use crate::error::Result;
use crate::reader::{locate_nodes, pbf_error, way_centre, NodeCoords};

/// An addressed object: `addr:housenumber` with `addr:street` or `addr:place`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawAddress {
    pub osm_id: String,
    /// `addr:street`, else `addr:place`.
    pub street: String,
    pub housenumber: String,
    pub unit: Option<String>,
    pub entrance: Option<String>,
    pub city: Option<String>,
    /// The object's `name` and what it is, when it is a named place as well.
    pub name: Option<(String, &'static str)>,
    pub lat: f64,
    pub lon: f64,
}

/// A named place: hospital, station, metro, school, shop, settlement, ...
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPlace {
    pub osm_id: String,
    pub name: String,
    pub kind: &'static str,
    pub city: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

/// A point on a named street (the middle node of one of its ways).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawStreet {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

/// What the index is built from.
#[derive(Debug, Default)]
pub(crate) struct Extract {
    pub addresses: Vec<RawAddress>,
    pub places: Vec<RawPlace>,
    pub streets: Vec<RawStreet>,
    /// Addressed or named relations, not read.
    pub relations_skipped: u64,
    /// Ways none of whose nodes are in the file, left out.
    pub ways_without_nodes: u64,
}

/// What a named object is, for the kinds the index keeps (`None`: not kept).
pub(crate) fn place_kind(tags: &Tags) -> Option<&'static str> {
    let get = |k: &str| tags.get(k).map(|v| v.as_str());
    if get("station") == Some("subway") || get("railway") == Some("subway_entrance") {
        return Some("metro");
    }
    if get("healthcare") == Some("hospital") {
        return Some("hospital");
    }
    if let Some(a) = get("amenity") {
        let kind = match a {
            "hospital" => "hospital",
            "clinic" => "clinic",
            "doctors" => "doctors",
            "pharmacy" => "pharmacy",
            "school" => "school",
            "kindergarten" => "kindergarten",
            "university" | "college" => "university",
            "police" => "police",
            "fire_station" => "fire_station",
            "townhall" => "townhall",
            "library" => "library",
            "theatre" | "cinema" | "arts_centre" => "culture",
            "marketplace" => "marketplace",
            "place_of_worship" => "place_of_worship",
            "bus_station" => "station",
            _ => "",
        };
        if !kind.is_empty() {
            return Some(kind);
        }
    }
    if matches!(get("railway"), Some("station" | "halt"))
        || get("public_transport") == Some("station")
    {
        return Some("station");
    }
    if get("shop").is_some() {
        return Some("shop");
    }
    if get("place").is_some() {
        return Some("place");
    }
    None
}

fn text(tags: &Tags, key: &str) -> Option<String> {
    tags.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The parts of an object the index keeps: its address and its name and kind.
struct Kept {
    address: Option<(String, String)>,
    unit: Option<String>,
    entrance: Option<String>,
    city: Option<String>,
    place: Option<(String, &'static str)>,
    street: Option<String>,
}

fn keep(tags: &Tags, is_way: bool) -> Option<Kept> {
    let house = text(tags, "addr:housenumber");
    let street = text(tags, "addr:street").or_else(|| text(tags, "addr:place"));
    let address = match (house, street) {
        (Some(h), Some(s)) => Some((s, h)),
        _ => None,
    };
    let name = text(tags, "name");
    let place = name
        .clone()
        .and_then(|n| place_kind(tags).map(|kind| (n, kind)));
    let street = if is_way && tags.contains_key("highway") {
        name
    } else {
        None
    };
    if address.is_none() && place.is_none() && street.is_none() {
        return None;
    }
    Some(Kept {
        address,
        unit: text(tags, "addr:unit"),
        entrance: text(tags, "addr:entrance"),
        city: text(tags, "addr:city"),
        place,
        street,
    })
}

/// Reads the file's addresses, places and streets (the caller checks the framing and
/// catches a decoder panic).
pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<Extract> {
    let mut out = Extract::default();
    let mut ways: Vec<(i64, Kept, Vec<i64>)> = Vec::new();
    let mut pbf = OsmPbfReader::new(bytes);
    for obj in pbf.par_iter() {
        match obj.map_err(|e| pbf_error(path, e))? {
            OsmObj::Node(n) => {
                if let Some(k) = keep(&n.tags, false) {
                    emit(
                        &mut out,
                        &format!("n{}", n.id.0),
                        k,
                        (n.lat(), n.lon()),
                        None,
                    );
                }
            }
            OsmObj::Way(w) => {
                if let Some(k) = keep(&w.tags, true) {
                    if !w.nodes.is_empty() {
                        ways.push((w.id.0, k, w.nodes.iter().map(|n| n.0).collect()));
                    }
                }
            }
            OsmObj::Relation(r) => {
                if keep(&r.tags, false).is_some() {
                    out.relations_skipped += 1;
                }
            }
        }
    }
    if ways.is_empty() {
        return Ok(out);
    }
    let mut wanted = NodeCoords::new();
    for (_, k, nodes) in &ways {
        if k.address.is_some() || k.place.is_some() {
            wanted.extend(nodes.iter().map(|&n| (n, None)));
        } else {
            wanted.insert(nodes[nodes.len() / 2], None);
        }
    }
    locate_nodes(path, bytes, &mut wanted)?;
    for (id, k, nodes) in ways {
        let middle = wanted.get(&nodes[nodes.len() / 2]).copied().flatten();
        let mean = way_centre(&nodes, &wanted);
        match mean.or(middle) {
            Some(point) => emit(&mut out, &format!("w{id}"), k, point, middle),
            None => out.ways_without_nodes += 1,
        }
    }
    Ok(out)
}

/// Adds what one object gives: its address, its place, its street point (`middle`, for a
/// way, else its point).
fn emit(out: &mut Extract, osm_id: &str, k: Kept, point: (f64, f64), middle: Option<(f64, f64)>) {
    let (lat, lon) = point;
    if let Some((street, housenumber)) = k.address {
        out.addresses.push(RawAddress {
            osm_id: osm_id.to_string(),
            street,
            housenumber,
            unit: k.unit,
            entrance: k.entrance,
            city: k.city.clone(),
            name: k.place.clone(),
            lat,
            lon,
        });
    }
    if let Some((name, kind)) = k.place {
        out.places.push(RawPlace {
            osm_id: osm_id.to_string(),
            name,
            kind,
            city: k.city,
            lat,
            lon,
        });
    }
    if let Some(name) = k.street {
        let (lat, lon) = middle.unwrap_or(point);
        out.streets.push(RawStreet { name, lat, lon });
    }
}
