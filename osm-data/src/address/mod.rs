//! Addresses from the map's own OpenStreetMap data: an index built from the same `.osm.pbf`
//! as the road graph, with no outside service, searched as a call-taker types
//! (`ул. Гончарова, д. 4, стр. 3`) and asked for the address nearest a point.
//!
//! What is indexed:
//! * every object with `addr:housenumber` and `addr:street` (or `addr:place` where there is
//!   no street): nodes, and ways (buildings, entrances) at the mean of their nodes, with
//!   `addr:unit`, `addr:entrance` and `addr:city` when tagged;
//! * named streets (`highway` ways with a `name`);
//! * named places with their kind: hospitals, clinics, schools, pharmacies, police and fire
//!   stations, railway stations, metro (`station=subway`, `railway=subway_entrance`), shops,
//!   settlements and districts (`place=*`), ... (see [`Address::place_kind`]).
//!
//! Parts:
//! * [`normalize`]: the one normal form of typed and mapped addresses (Russian abbreviations
//!   in any order, `ё` = `е`, house numbers with letters, fractions, корпус and строение;
//!   German, Finnish and English street names);
//! * `extract`: the two passes over the PBF file;
//! * `index`: the search (ranked) and the reverse search (an R-tree).
//!
//! Glossary: *корпус* (`к.`) is a numbered building of one house number, *строение*
//! (`стр.`, `с`) an outbuilding; *подъезд* an entrance.
//!
//! ```no_run
//! use std::path::Path;
//! let index = osm_data::address::AddressIndex::from_pbf(Path::new("data/moscow-fragment.osm.pbf"))?;
//! for m in index.search("ул. Гончарова, д. 4, стр. 3", 5) {
//!     println!("{} at {}, {}", m.display, m.lat, m.lon);
//! }
//! if let Some(m) = index.nearest(55.75, 37.62) {
//!     println!("nearest: {}", m.display);
//! }
//! # Ok::<(), osm_data::Error>(())
//! ```

mod extract;
mod index;
pub mod normalize;

use std::path::Path;

use crate::error::{Error, Result};
use crate::reader::check_framing;

pub use index::{AddressIndex, IndexStats};

/// What a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// An addressed object (a house, an entrance).
    Address,
    /// A named street (no house number, or none that matches).
    Street,
    /// A named place (a hospital, a station, ...).
    Place,
}

impl MatchKind {
    /// `address`, `street` or `place`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Address => "address",
            MatchKind::Street => "street",
            MatchKind::Place => "place",
        }
    }
}

/// An address in its parts, as mapped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// The street (`addr:street`), or the place (`addr:place`) an address has instead.
    pub street: Option<String>,
    /// The house number with its letter or fraction (`27А`, `12/2`), without корпус and
    /// строение; as mapped when it reads as no number.
    pub housenumber: Option<String>,
    /// Корпус (`к2` of `4к2`).
    pub block: Option<String>,
    /// Строение (`с3` of `4 с3`).
    pub building: Option<String>,
    /// `addr:entrance` (подъезд).
    pub entrance: Option<String>,
    /// `addr:unit`.
    pub unit: Option<String>,
    /// The named place: the object's `name` (a hospital's, a station's).
    pub place: Option<String>,
    /// What the named place is: `hospital`, `clinic`, `doctors`, `pharmacy`, `school`,
    /// `kindergarten`, `university`, `police`, `fire_station`, `townhall`, `library`,
    /// `culture`, `marketplace`, `place_of_worship`, `station` (railway, bus, public
    /// transport), `metro`, `shop`, `place` (a settlement, district or square).
    pub place_kind: Option<String>,
    /// `addr:city`, when tagged.
    pub city: Option<String>,
}

/// A search answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// What it is.
    pub kind: MatchKind,
    /// Its address in parts.
    pub address: Address,
    /// The address as one line (`улица Гончарова, 4 стр. 3`, `Hauptstraße 100`, `100 North
    /// Charles Street`).
    pub display: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// The OpenStreetMap object: `n<id>` or `w<id>` (empty for a street, which is many
    /// ways).
    pub osm_id: String,
    /// Its rank, lower is better: 0 the street and house as typed, 1 the house with a
    /// корпус or строение not typed, 2 the house number with another letter, корпус or
    /// строение, 3 a house number starting with the typed digits, 4 the street, 5 a place;
    /// times 100, plus the cost of the name (a word typed in part 1, a typo 3, a word of the
    /// name not typed 1, another street type 2).
    pub rank: u32,
}

impl AddressIndex {
    /// Builds the index of the PBF file at `path`.
    pub fn from_pbf(path: &Path) -> Result<AddressIndex> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
        Self::from_bytes(path, &bytes)
    }

    /// Builds the index of a PBF file already in memory (`path` names it in errors). Any
    /// bytes give an index or an error, never a panic.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<AddressIndex> {
        check_framing(path, bytes)?;
        let extract =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extract::read(path, bytes)))
                .unwrap_or_else(|_| {
                Err(Error::Pbf {
                    path: path.to_path_buf(),
                    reason: "corrupt data (the block decoder failed)".into(),
                })
            })?;
        Ok(AddressIndex::build(extract))
    }
}
