//! The address index: streets, addresses and places with their names in normal form, a
//! sorted vocabulary of name words for the search, and an R-tree of the addresses for the
//! reverse search.
//!
//! A search reads the query ([`normalize::parse_query`]), finds the names one of whose
//! words matches its longest word (exactly, as a prefix, or with one typo), scores each
//! such name against all the query's words, then ranks the houses of the matching streets
//! against the typed house, then the streets, then the places (see [`Match::rank`]).

use std::collections::{HashMap, HashSet};

use rstar::primitives::GeomWithData;
use rstar::RTree;

use super::extract::Extract;
use super::normalize::{self, House, Name, Query};
use super::{Address, Match, MatchKind};

/// A street (or an `addr:place` name), with its houses.
#[derive(Debug, Clone)]
struct Street {
    name: String,
    norm: Name,
    lat: f64,
    lon: f64,
    addresses: Vec<u32>,
}

/// An addressed object.
#[derive(Debug, Clone)]
struct Entry {
    osm_id: String,
    street: u32,
    /// The house number as mapped, as read (`None`: not one house in the usual forms),
    /// and the number it opens with.
    housenumber: String,
    house: Option<House>,
    lead: Option<String>,
    unit: Option<String>,
    entrance: Option<String>,
    city: Option<String>,
    name: Option<(String, &'static str)>,
    lat: f64,
    lon: f64,
}

/// A named place.
#[derive(Debug, Clone)]
struct PlaceEntry {
    osm_id: String,
    name: String,
    kind: &'static str,
    norm: Name,
    city: Option<String>,
    lat: f64,
    lon: f64,
}

/// A name: a street's (index into `streets`) or a place's (into `places`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Street(u32),
    Place(u32),
}

type Point = GeomWithData<[f64; 2], u32>;

/// The index of a map's addresses, streets and places; immutable once built, cheap to
/// share behind an `Arc`. Its `Debug` shows its [`IndexStats`].
pub struct AddressIndex {
    streets: Vec<Street>,
    places: Vec<PlaceEntry>,
    entries: Vec<Entry>,
    /// Name words, sorted, with the names that have them.
    vocab: Vec<(String, Vec<Target>)>,
    /// Indexes into `vocab` by the word's length in characters (for typos).
    by_len: Vec<Vec<u32>>,
    /// City names' words (`addr:city`), folded.
    cities: HashSet<String>,
    tree: RTree<Point>,
    /// `cos` of the addresses' mean latitude: longitude's scale in the R-tree.
    kx: f64,
    relations_skipped: u64,
}

impl std::fmt::Debug for AddressIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AddressIndex").field(&self.stats()).finish()
    }
}

/// How big an index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Addressed objects.
    pub addresses: usize,
    /// Streets (named streets and the names of `addr:street` and `addr:place`).
    pub streets: usize,
    /// Named places.
    pub places: usize,
    /// Distinct name words.
    pub words: usize,
    /// Addressed or named objects mapped only as relations, not indexed.
    pub relations_skipped: u64,
}

/// A candidate answer before it is made a [`Match`].
#[derive(Debug, Clone, Copy)]
struct Hit {
    rank: u32,
    /// Ties: shorter house numbers first, then the number, then the entry.
    order: (usize, u32),
    what: HitKind,
}

#[derive(Debug, Clone, Copy)]
enum HitKind {
    Entry(u32),
    Street(u32),
    Place(u32),
}

/// The key that makes two spellings of one street the same street.
fn street_key(n: &Name) -> String {
    let mut words = n.words.clone();
    words.sort();
    format!("{}|{}", n.kind.unwrap_or(""), words.join(" "))
}

impl AddressIndex {
    pub(super) fn build(mut x: Extract) -> AddressIndex {
        x.addresses.sort_by(|a, b| a.osm_id.cmp(&b.osm_id));
        x.places.sort_by(|a, b| a.osm_id.cmp(&b.osm_id));
        let mut streets: Vec<Street> = Vec::new();
        let mut by_key: HashMap<String, u32> = HashMap::new();
        // Street points: the way middle nearest the middles' mean.
        let mut street_points: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut street_id = |name: &str, streets: &mut Vec<Street>, pts: &mut Vec<Vec<_>>| {
            let norm = normalize::parse_name(name);
            let key = street_key(&norm);
            *by_key.entry(key).or_insert_with(|| {
                streets.push(Street {
                    name: name.to_string(),
                    norm,
                    lat: 0.0,
                    lon: 0.0,
                    addresses: Vec::new(),
                });
                pts.push(Vec::new());
                (streets.len() - 1) as u32
            })
        };
        for s in &x.streets {
            let id = street_id(&s.name, &mut streets, &mut street_points);
            street_points[id as usize].push((s.lat, s.lon));
        }
        let mut entries = Vec::with_capacity(x.addresses.len());
        for a in x.addresses {
            let id = street_id(&a.street, &mut streets, &mut street_points);
            let no = entries.len() as u32;
            streets[id as usize].addresses.push(no);
            entries.push(Entry {
                osm_id: a.osm_id,
                street: id,
                house: normalize::parse_house(&a.housenumber),
                lead: normalize::leading_number(&a.housenumber),
                housenumber: a.housenumber,
                unit: a.unit,
                entrance: a.entrance,
                city: a.city,
                name: a.name,
                lat: a.lat,
                lon: a.lon,
            });
        }
        for (s, pts) in streets.iter_mut().zip(&street_points) {
            let pts: Vec<(f64, f64)> = if pts.is_empty() {
                s.addresses
                    .iter()
                    .map(|&i| (entries[i as usize].lat, entries[i as usize].lon))
                    .collect()
            } else {
                pts.clone()
            };
            let n = pts.len().max(1) as f64;
            let mean = (
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let best = pts.iter().copied().min_by(|a, b| {
                let d = |p: &(f64, f64)| (p.0 - mean.0).powi(2) + (p.1 - mean.1).powi(2);
                d(a).total_cmp(&d(b))
            });
            (s.lat, s.lon) = best.unwrap_or(mean);
        }
        let places: Vec<PlaceEntry> = x
            .places
            .into_iter()
            .map(|p| PlaceEntry {
                norm: normalize::parse_name(&p.name),
                osm_id: p.osm_id,
                name: p.name,
                kind: p.kind,
                city: p.city,
                lat: p.lat,
                lon: p.lon,
            })
            .collect();
        // The vocabulary.
        let mut words: HashMap<String, Vec<Target>> = HashMap::new();
        for (i, s) in streets.iter().enumerate() {
            for w in &s.norm.words {
                words
                    .entry(w.clone())
                    .or_default()
                    .push(Target::Street(i as u32));
            }
        }
        for (i, p) in places.iter().enumerate() {
            for w in &p.norm.words {
                words
                    .entry(w.clone())
                    .or_default()
                    .push(Target::Place(i as u32));
            }
        }
        let mut vocab: Vec<(String, Vec<Target>)> = words
            .into_iter()
            .map(|(w, mut t)| {
                t.dedup();
                (w, t)
            })
            .collect();
        vocab.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_len: Vec<Vec<u32>> = Vec::new();
        for (i, (w, _)) in vocab.iter().enumerate() {
            let n = w.chars().count();
            if by_len.len() <= n {
                by_len.resize(n + 1, Vec::new());
            }
            by_len[n].push(i as u32);
        }
        let cities = entries
            .iter()
            .filter_map(|e| e.city.as_deref())
            .flat_map(|c| normalize::parse_name(c).words)
            .filter(|w| w.chars().count() >= 3)
            .collect();
        let mean_lat = if entries.is_empty() {
            0.0
        } else {
            entries.iter().map(|e| e.lat).sum::<f64>() / entries.len() as f64
        };
        let kx = mean_lat.to_radians().cos();
        let tree = RTree::bulk_load(
            entries
                .iter()
                .enumerate()
                .map(|(i, e)| Point::new([e.lon * kx, e.lat], i as u32))
                .collect(),
        );
        AddressIndex {
            streets,
            places,
            entries,
            vocab,
            by_len,
            cities,
            tree,
            kx,
            relations_skipped: x.relations_skipped,
        }
    }

    /// How big the index is.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            addresses: self.entries.len(),
            streets: self.streets.len(),
            places: self.places.len(),
            words: self.vocab.len(),
            relations_skipped: self.relations_skipped,
        }
    }

    /// Every addressed object, in the order of their OpenStreetMap ids.
    pub fn addresses(&self) -> impl Iterator<Item = Match> + '_ {
        (0..self.entries.len() as u32).map(|e| self.entry_match(e, 0))
    }

    /// The addressed object nearest to a point (`None` when the index holds none, or the
    /// point is not a coordinate).
    pub fn nearest(&self, lat: f64, lon: f64) -> Option<Match> {
        if !(lat.is_finite() && lon.is_finite()) {
            return None;
        }
        let p = self.tree.nearest_neighbor(&[lon * self.kx, lat])?;
        Some(self.entry_match(p.data, 0))
    }

    /// At most `limit` matches of a typed address, best first (see [`Match::rank`]). Any
    /// text is answered: at most [`normalize::MAX_QUERY_CHARS`] characters are read, and
    /// text with no name in it finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Match> {
        if limit == 0 {
            return Vec::new();
        }
        let mut q = normalize::parse_query(query);
        // A city's name among other words says where, not which street.
        let mut city: Option<String> = None;
        if q.name.words.len() > 1 {
            if let Some(pos) = q.name.words.iter().position(|w| self.cities.contains(w)) {
                city = Some(q.name.words.remove(pos));
            }
        }
        if q.name.words.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for (target, cost) in self.candidates(&q) {
            match target {
                Target::Street(s) => self.street_hits(&q, s, cost, city.as_deref(), &mut hits),
                Target::Place(p) => hits.push(Hit {
                    rank: 500 + cost,
                    order: (0, p),
                    what: HitKind::Place(p),
                }),
            }
        }
        hits.sort_unstable_by_key(|h| (h.rank, h.order, kind_order(h.what)));
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(limit.min(hits.len()));
        for h in hits {
            let m = match h.what {
                HitKind::Entry(e) => self.entry_match(e, h.rank),
                HitKind::Street(s) => self.street_match(s, h.rank),
                HitKind::Place(p) => self.place_match(p, h.rank),
            };
            if seen.insert((m.kind, m.display.clone())) {
                out.push(m);
                if out.len() == limit {
                    break;
                }
            }
        }
        out
    }

    /// The names that match the query's words, with the cost of the match.
    fn candidates(&self, q: &Query) -> Vec<(Target, u32)> {
        // The anchor: the longest word (letters before numbers).
        let anchor = q
            .name
            .words
            .iter()
            .max_by_key(|w| {
                (
                    w.chars().any(char::is_alphabetic),
                    w.chars().count(),
                    std::cmp::Reverse(w.as_str()),
                )
            })
            .map(String::as_str)
            .unwrap_or_default();
        let mut targets: HashSet<Target> = HashSet::new();
        // Exact and prefix: a range of the sorted vocabulary.
        let start = self.vocab.partition_point(|(w, _)| w.as_str() < anchor);
        for (w, t) in &self.vocab[start..] {
            if !w.starts_with(anchor) {
                break;
            }
            targets.extend(t.iter().copied());
        }
        // One typo.
        let n = anchor.chars().count();
        if n >= 5 {
            for len in n - 1..=n + 1 {
                for &i in self.by_len.get(len).map(Vec::as_slice).unwrap_or_default() {
                    let (w, t) = &self.vocab[i as usize];
                    if normalize::one_typo(anchor, w) {
                        targets.extend(t.iter().copied());
                    }
                }
            }
        }
        targets
            .into_iter()
            .filter_map(|t| {
                let norm = match t {
                    Target::Street(s) => &self.streets[s as usize].norm,
                    Target::Place(p) => &self.places[p as usize].norm,
                };
                name_cost(&q.name, norm).map(|c| (t, c))
            })
            .collect()
    }

    /// The houses of street `s` that match the typed house, and the street itself.
    fn street_hits(&self, q: &Query, s: u32, cost: u32, city: Option<&str>, out: &mut Vec<Hit>) {
        let street = &self.streets[s as usize];
        if let Some(house) = &q.house {
            for &e in &street.addresses {
                let entry = &self.entries[e as usize];
                let Some(quality) = house_quality(house, entry) else {
                    continue;
                };
                let elsewhere = match (city, &entry.city) {
                    (Some(c), Some(ec)) => !normalize::parse_name(ec).words.iter().any(|w| w == c),
                    _ => false,
                };
                out.push(Hit {
                    rank: quality * 100 + cost + u32::from(elsewhere),
                    order: (entry.lead.as_ref().map_or(usize::MAX, String::len), e),
                    what: HitKind::Entry(e),
                });
            }
        }
        out.push(Hit {
            rank: 400 + cost,
            order: (0, s),
            what: HitKind::Street(s),
        });
    }

    fn entry_match(&self, e: u32, rank: u32) -> Match {
        let entry = &self.entries[e as usize];
        let street = &self.streets[entry.street as usize];
        let (housenumber, block, building) = match &entry.house {
            Some(h) => (
                format!(
                    "{}{}",
                    h.number,
                    h.letter
                        .as_deref()
                        .map(str::to_uppercase)
                        .unwrap_or_default()
                ),
                h.block.clone(),
                h.building.clone(),
            ),
            None => (entry.housenumber.clone(), None, None),
        };
        let address = Address {
            street: Some(street.name.clone()),
            housenumber: Some(housenumber),
            block,
            building,
            entrance: entry.entrance.clone(),
            unit: entry.unit.clone(),
            place: entry.name.as_ref().map(|n| n.0.clone()),
            place_kind: entry.name.as_ref().map(|n| n.1.to_string()),
            city: entry.city.clone(),
        };
        Match {
            kind: MatchKind::Address,
            display: display(&address, &street.norm),
            address,
            lat: entry.lat,
            lon: entry.lon,
            osm_id: entry.osm_id.clone(),
            rank,
        }
    }

    fn street_match(&self, s: u32, rank: u32) -> Match {
        let street = &self.streets[s as usize];
        let address = Address {
            street: Some(street.name.clone()),
            ..Address::default()
        };
        Match {
            kind: MatchKind::Street,
            display: street.name.clone(),
            address,
            lat: street.lat,
            lon: street.lon,
            osm_id: String::new(),
            rank,
        }
    }

    fn place_match(&self, p: u32, rank: u32) -> Match {
        let place = &self.places[p as usize];
        let address = Address {
            place: Some(place.name.clone()),
            place_kind: Some(place.kind.to_string()),
            city: place.city.clone(),
            ..Address::default()
        };
        Match {
            kind: MatchKind::Place,
            display: match &place.city {
                Some(c) => format!("{}, {c}", place.name),
                None => place.name.clone(),
            },
            address,
            lat: place.lat,
            lon: place.lon,
            osm_id: place.osm_id.clone(),
            rank,
        }
    }
}

fn kind_order(k: HitKind) -> u8 {
    match k {
        HitKind::Entry(_) => 0,
        HitKind::Street(_) => 1,
        HitKind::Place(_) => 2,
    }
}

/// The cost of matching the typed name `q` with a mapped name `t` (`None`: no match):
/// every typed word matches a distinct word of the name, exactly (0), as its beginning (1)
/// or with one typo (3); each word of the name not typed costs 1, another street type 2.
fn name_cost(q: &Name, t: &Name) -> Option<u32> {
    let mut used = vec![false; t.words.len()];
    let mut cost = 0;
    for w in &q.words {
        let mut best: Option<(u32, usize)> = None;
        for (i, tw) in t.words.iter().enumerate() {
            if used[i] {
                continue;
            }
            let c = if tw == w {
                0
            } else if tw.starts_with(w.as_str()) {
                1
            } else if normalize::one_typo(w, tw) {
                3
            } else {
                continue;
            };
            if best.is_none_or(|(b, _)| c < b) {
                best = Some((c, i));
            }
        }
        let (c, i) = best?;
        used[i] = true;
        cost += c;
    }
    cost += used.iter().filter(|u| !**u).count() as u32;
    if q.kind.is_some() && q.kind != t.kind {
        cost += 2;
    }
    Some(cost)
}

/// How well a mapped house matches the typed one (see [`Match::rank`]; `None`: not at all).
fn house_quality(q: &House, e: &Entry) -> Option<u32> {
    let Some(h) = &e.house else {
        // Not one house in the usual forms (`15-17`): its first number, or its text.
        let same_text = normalize::fold(&e.housenumber)
            .split_whitespace()
            .collect::<String>()
            == q.number;
        return match &e.lead {
            _ if same_text => Some(2),
            Some(n) if *n == q.number => Some(2),
            Some(n) if n.starts_with(q.number.as_str()) && q.letter.is_none() => Some(3),
            _ => None,
        };
    };
    if h.number != q.number {
        return (h.number.starts_with(q.number.as_str()) && q.letter.is_none()).then_some(3);
    }
    let same = |typed: &Option<String>, mapped: &Option<String>| typed == mapped;
    let given_differs =
        |typed: &Option<String>, mapped: &Option<String>| typed.is_some() && typed != mapped;
    if same(&q.letter, &h.letter) && same(&q.block, &h.block) && same(&q.building, &h.building) {
        return Some(if q.entrance.is_some() && q.entrance != e.entrance {
            1
        } else {
            0
        });
    }
    if given_differs(&q.letter, &h.letter)
        || given_differs(&q.block, &h.block)
        || given_differs(&q.building, &h.building)
    {
        return Some(2);
    }
    // The typed house says less than the mapped one (no корпус, строение or letter).
    Some(1)
}

/// One line: `улица Гончарова, 4 стр. 3` in Russian, `100 North Charles Street` in English,
/// `Hauptstraße 100` otherwise; the city after a comma.
fn display(a: &Address, norm: &Name) -> String {
    let street = a.street.as_deref().unwrap_or_default();
    let mut house = a.housenumber.clone().unwrap_or_default();
    let cyrillic = street
        .chars()
        .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    if let Some(b) = &a.block {
        house.push_str(if cyrillic { " к. " } else { "-" });
        house.push_str(b);
    }
    if let Some(b) = &a.building {
        house.push_str(if cyrillic { " стр. " } else { "/" });
        house.push_str(b);
    }
    let english = matches!(
        norm.kind,
        Some(
            "street"
                | "avenue"
                | "road"
                | "boulevard"
                | "drive"
                | "lane"
                | "court"
                | "place"
                | "terrace"
                | "highway"
                | "parkway"
                | "square"
        )
    );
    let mut line = if cyrillic {
        format!("{street}, {house}")
    } else if english {
        format!("{house} {street}")
    } else {
        format!("{street} {house}")
    };
    if let Some(e) = &a.entrance {
        line.push_str(if cyrillic {
            ", подъезд "
        } else {
            ", entrance "
        });
        line.push_str(e);
    }
    if let Some(u) = &a.unit {
        line.push_str(", ");
        line.push_str(u);
    }
    if let Some(c) = &a.city {
        line.push_str(", ");
        line.push_str(c);
    }
    line
}
