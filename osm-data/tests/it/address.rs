//! The address index on the shipped maps, against an independent oracle: the addresses
//! are read from the PBF file here with `osmpbfreader`'s own `get_objs_and_deps` (a way's
//! point the mean of its distinct nodes), written as people type them, and searched; the
//! reverse search is checked against a brute-force nearest over the same points.

use std::collections::HashMap;

use osm_data::address::{AddressIndex, MatchKind};
use osm_data::{haversine_m, Coord};
use osmpbfreader::{OsmObj, OsmPbfReader};

use crate::helpers::map_path;

/// An address as the oracle reads it.
#[derive(Debug, Clone)]
struct Oracle {
    street: String,
    housenumber: String,
    lat: f64,
    lon: f64,
}

/// Every object with `addr:housenumber` and `addr:street`, read without the index's code.
fn oracle(map: &str) -> Vec<Oracle> {
    let file = std::fs::File::open(map_path(map)).unwrap();
    let mut pbf = OsmPbfReader::new(file);
    let objs = pbf
        .get_objs_and_deps(|o| {
            !o.is_relation()
                && o.tags().contains_key("addr:housenumber")
                && (o.tags().contains_key("addr:street") || o.tags().contains_key("addr:place"))
        })
        .unwrap();
    let mut out = Vec::new();
    for o in objs.values() {
        let tags = o.tags();
        let (Some(h), Some(s)) = (
            tags.get("addr:housenumber"),
            tags.get("addr:street").or_else(|| tags.get("addr:place")),
        ) else {
            continue;
        };
        let point = match o {
            OsmObj::Node(n) => Some((n.lat(), n.lon())),
            OsmObj::Way(w) => {
                let mut ids = w.nodes.clone();
                if ids.len() > 1 && ids.first() == ids.last() {
                    ids.pop();
                }
                let pts: Vec<(f64, f64)> = ids
                    .iter()
                    .filter_map(|id| match objs.get(&(*id).into()) {
                        Some(OsmObj::Node(n)) => Some((n.lat(), n.lon())),
                        _ => None,
                    })
                    .collect();
                (!pts.is_empty()).then(|| {
                    let k = pts.len() as f64;
                    (
                        pts.iter().map(|p| p.0).sum::<f64>() / k,
                        pts.iter().map(|p| p.1).sum::<f64>() / k,
                    )
                })
            }
            OsmObj::Relation(_) => None,
        };
        if let Some((lat, lon)) = point {
            out.push(Oracle {
                street: s.trim().to_string(),
                housenumber: h.trim().to_string(),
                lat,
                lon,
            });
        }
    }
    out
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    haversine_m(Coord::from_degrees(a.0, a.1), Coord::from_degrees(b.0, b.1))
}

/// Addresses unique by street and house number, spread over the file, at most `n`, whose
/// street name passes `keep`.
fn sample(all: &[Oracle], n: usize, keep: impl Fn(&Oracle) -> bool) -> Vec<Oracle> {
    let mut count: HashMap<(String, String), usize> = HashMap::new();
    for a in all {
        *count
            .entry((a.street.to_lowercase(), a.housenumber.to_lowercase()))
            .or_default() += 1;
    }
    let mut unique: Vec<&Oracle> = all
        .iter()
        .filter(|a| count[&(a.street.to_lowercase(), a.housenumber.to_lowercase())] == 1)
        .filter(|a| keep(a))
        .collect();
    unique.sort_by(|a, b| (&a.street, &a.housenumber).cmp(&(&b.street, &b.housenumber)));
    let step = (unique.len() / n).max(1);
    unique.into_iter().step_by(step).take(n).cloned().collect()
}

/// Searches each spelling and checks the top match is at the address (within 3 m).
fn check_spellings(
    index: &AddressIndex,
    a: &Oracle,
    spellings: &[String],
    failures: &mut Vec<String>,
) {
    for q in spellings {
        let found = index.search(q, 5);
        match found.first() {
            Some(m)
                if m.kind == MatchKind::Address && dist((m.lat, m.lon), (a.lat, a.lon)) < 3.0 => {}
            other => failures.push(format!(
                "{q:?} (for {} {}): got {:?}",
                a.street,
                a.housenumber,
                other.map(|m| (&m.display, m.rank, dist((m.lat, m.lon), (a.lat, a.lon))))
            )),
        }
    }
}

/// One typo: two letters in the middle of the longest word swapped.
fn typo(name: &str) -> Option<String> {
    let words: Vec<&str> = name.split(' ').collect();
    let (i, w) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() >= 6 && w.chars().all(char::is_alphabetic))
        .max_by_key(|(_, w)| w.chars().count())?;
    let mut c: Vec<char> = w.chars().collect();
    let m = c.len() / 2;
    if c[m] == c[m + 1] {
        return None;
    }
    c.swap(m, m + 1);
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out[i] = c.into_iter().collect();
    Some(out.join(" "))
}

/// Reverse search of each sampled point, and of points around them, against brute force.
fn check_reverse(index: &AddressIndex, all: &[Oracle], points: &[(f64, f64)]) {
    for &(lat, lon) in points {
        let best = all
            .iter()
            .map(|a| dist((lat, lon), (a.lat, a.lon)))
            .fold(f64::INFINITY, f64::min);
        let m = index.nearest(lat, lon).expect("an address");
        let d = dist((lat, lon), (m.lat, m.lon));
        assert!(
            d <= best * 1.01 + 0.5,
            "nearest to {lat},{lon}: {} at {d:.1} m, the oracle's nearest is {best:.1} m",
            m.display
        );
    }
}

/// The sampled points and points 30 to 200 m off them (a fixed pattern).
fn around(sampled: &[Oracle]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (i, a) in sampled.iter().enumerate() {
        out.push((a.lat, a.lon));
        let d = 0.0003 + 0.0015 * ((i * 7 % 11) as f64 / 11.0);
        out.push((a.lat + d, a.lon - d * 0.7));
    }
    out
}

const RUSSIAN_TYPES: [(&str, &str); 7] = [
    ("улица", "ул."),
    ("проспект", "пр-т"),
    ("переулок", "пер."),
    ("шоссе", "ш."),
    ("бульвар", "б-р"),
    ("набережная", "наб."),
    ("площадь", "пл."),
];

/// `4`, `4А`, `4к2`, `4 с3`, `4 к2 с1`, `12/2`: number (with letter) and корпус and строение,
/// read here by hand; `None` for another form.
fn russian_house(h: &str) -> Option<(String, Option<String>, Option<String>)> {
    let h = h.to_lowercase().replace(' ', "");
    let num_end = h
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '/'))
        .map_or(h.len(), |(i, _)| i);
    let mut number = h[..num_end].to_string();
    if number.is_empty() {
        return None;
    }
    let mut rest = &h[num_end..];
    if let Some(c) = rest.chars().next() {
        if "абвгдежз".contains(c) && !rest[c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit())
        {
            number.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let (mut block, mut building) = (None, None);
    while !rest.is_empty() {
        let (slot, tail) = if let Some(t) =
            rest.strip_prefix("корп").or_else(|| rest.strip_prefix('к'))
        {
            (&mut block, t)
        } else if let Some(t) = rest.strip_prefix("стр").or_else(|| rest.strip_prefix('с')) {
            (&mut building, t)
        } else {
            return None;
        };
        let end = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        if end == 0 {
            return None;
        }
        *slot = Some(tail[..end].to_string());
        rest = &tail[end..];
    }
    Some((number, block, building))
}

#[test]
fn russian_addresses_of_the_moscow_fragment_are_found_in_many_spellings() {
    let index = AddressIndex::from_pbf(&map_path("moscow-fragment")).unwrap();
    let all = oracle("moscow-fragment");
    assert!(all.len() > 100, "{} addresses", all.len());
    let sampled = sample(&all, 40, |a| {
        RUSSIAN_TYPES
            .iter()
            .any(|(t, _)| a.street.split(' ').any(|w| w == *t))
            && russian_house(&a.housenumber).is_some()
    });
    assert!(sampled.len() >= 20, "{} sampled", sampled.len());
    let mut failures = Vec::new();
    let mut with_parts = 0;
    for a in &sampled {
        let (full, abbr) = RUSSIAN_TYPES
            .iter()
            .find(|(t, _)| a.street.split(' ').any(|w| w == *t))
            .copied()
            .unwrap();
        let bare: String = a
            .street
            .split(' ')
            .filter(|w| *w != full)
            .collect::<Vec<_>>()
            .join(" ");
        let (number, block, building) = russian_house(&a.housenumber).unwrap();
        let upper = number.to_uppercase();
        let mut long = format!("д. {upper}");
        let mut short = number.clone();
        let mut spaced = number.clone();
        if let Some(b) = &block {
            long.push_str(&format!(", корп. {b}"));
            short.push_str(&format!("к{b}"));
            spaced.push_str(&format!(" к {b}"));
        }
        if let Some(b) = &building {
            long.push_str(&format!(", стр. {b}"));
            short.push_str(&format!("с{b}"));
            spaced.push_str(&format!(" строение {b}"));
        }
        if block.is_some() || building.is_some() {
            with_parts += 1;
        }
        let mut spellings = vec![
            format!("{abbr} {bare}, {long}"),
            format!("{bare} {full} {short}"),
            format!("{} {short}", bare.to_lowercase()),
            format!("{bare}, {spaced}"),
            format!("{} {full}, дом {spaced}", bare.to_uppercase()),
        ];
        if bare.contains(['ё', 'Ё']) {
            spellings.push(format!("{} {short}", bare.replace('ё', "е")));
        } else if bare.contains('е') {
            spellings.push(format!("{} {short}", bare.replacen('е', "ё", 1)));
        }
        if let Some(t) = typo(&bare) {
            spellings.push(format!("{abbr} {t} {short}"));
        }
        check_spellings(&index, a, &spellings, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} addresses, {with_parts} with корпус or строение",
        sampled.len()
    );
    check_reverse(&index, &all, &around(&sampled));
}

#[test]
fn german_addresses_of_heidelberg_with_strasse_in_any_form() {
    let index = AddressIndex::from_pbf(&map_path("heidelberg")).unwrap();
    let all = oracle("heidelberg");
    let sampled = sample(&all, 30, |a| {
        a.street.ends_with("straße")
            && !a.street.contains(' ')
            && a.housenumber.chars().all(|c| c.is_ascii_digit())
    });
    assert!(sampled.len() >= 20, "{} sampled", sampled.len());
    let mut failures = Vec::new();
    for a in &sampled {
        let stem = a.street.strip_suffix("straße").unwrap();
        let h = &a.housenumber;
        let spellings = vec![
            format!("{} {h}", a.street),
            format!("{}str {h}", stem.to_lowercase()),
            format!("{stem}strasse {h}"),
            format!("{stem}str. {h}"),
        ];
        check_spellings(&index, a, &spellings, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    check_reverse(&index, &all, &around(&sampled));
}

#[test]
fn finnish_addresses_of_helsinki() {
    let index = AddressIndex::from_pbf(&map_path("helsinki")).unwrap();
    let all = oracle("helsinki");
    let sampled = sample(&all, 30, |a| {
        a.housenumber.chars().all(|c| c.is_ascii_digit())
    });
    assert!(sampled.len() >= 20, "{} sampled", sampled.len());
    let mut failures = Vec::new();
    for a in &sampled {
        let h = &a.housenumber;
        let mut spellings = vec![
            format!("{} {h}", a.street),
            format!("{} {h}", a.street.to_lowercase()),
        ];
        if let Some(t) = typo(&a.street) {
            spellings.push(format!("{t} {h}"));
        }
        check_spellings(&index, a, &spellings, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    check_reverse(&index, &all, &around(&sampled));
}

#[test]
fn english_addresses_of_baltimore_with_st_or_street() {
    let index = AddressIndex::from_pbf(&map_path("baltimore")).unwrap();
    let all = oracle("baltimore");
    let sampled = sample(&all, 30, |a| {
        a.street.ends_with(" Street") && a.housenumber.chars().all(|c| c.is_ascii_digit())
    });
    assert!(sampled.len() >= 20, "{} sampled", sampled.len());
    let mut failures = Vec::new();
    for a in &sampled {
        let stem = a.street.strip_suffix(" Street").unwrap();
        let short = stem
            .replace("North ", "N ")
            .replace("South ", "S ")
            .replace("East ", "E ")
            .replace("West ", "W ");
        let h = &a.housenumber;
        let spellings = vec![
            format!("{h} {}", a.street),
            format!("{h} {short} St"),
            format!("{h} {} st", stem.to_lowercase()),
        ];
        check_spellings(&index, a, &spellings, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    check_reverse(&index, &all, &around(&sampled));
}

#[test]
fn named_places_and_streets_are_found_and_odd_queries_answered() {
    let index = AddressIndex::from_pbf(&map_path("heidelberg")).unwrap();
    let stats = index.stats();
    assert!(
        stats.addresses > 500 && stats.streets > 100 && stats.places > 10,
        "{stats:?}"
    );
    let hbf = index.search("Heidelberg Hauptbahnhof", 5);
    assert!(
        hbf.iter()
            .any(|m| m.kind == MatchKind::Place
                && m.address.place_kind.as_deref() == Some("station")),
        "{hbf:?}"
    );
    let street = index.search("Hauptstraße", 3);
    assert_eq!(
        street.first().map(|m| m.kind),
        Some(MatchKind::Street),
        "{street:?}"
    );
    for q in [
        "",
        "   ",
        ",.;!",
        "\u{0}\u{1b}[31m",
        &"Hauptstraße 1 ".repeat(1000),
        "д. к. с.",
        "12/",
        "/",
    ] {
        let found = index.search(q, 10);
        assert!(found.len() <= 10, "{q:?}");
    }
    assert!(index.search("Hauptstraße", 0).is_empty());
    assert!(index.nearest(f64::NAN, 0.0).is_none());
    assert!(index.nearest(89.0, 179.0).is_some());
}

#[test]
fn a_broken_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(map_path("monaco")).unwrap();
    for cut in [0, 10, bytes.len() / 2] {
        let path = dir.path().join("cut.osm.pbf");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(AddressIndex::from_pbf(&path).is_err(), "cut at {cut}");
    }
}
