//! Bad input: every case gives a clear error, never a panic, and never a half-written file.

use std::path::Path;

use osm_data::{graph_file, Error, Profile};

use crate::helpers::{import, map_path};

fn import_bytes(bytes: &[u8]) -> Result<osm_data::Imported, Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.osm.pbf");
    std::fs::write(&path, bytes).unwrap();
    osm_data::import(&path, &Profile::default(), &mut |_| {})
}

#[test]
fn missing_file_is_named() {
    let e = osm_data::import(
        "/no/such/map.osm.pbf".as_ref(),
        &Profile::default(),
        &mut |_| {},
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Io { .. }));
    assert!(
        msg.contains("/no/such/map.osm.pbf") && msg.contains("No such file"),
        "{msg}"
    );
}

#[test]
fn truncated_pbf_is_refused_at_every_cut() {
    let bytes = std::fs::read(map_path("moscow-fragment")).unwrap();
    for cut in [
        1,
        3,
        10,
        100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let e = import_bytes(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, Error::Pbf { .. }), "cut at {cut}: {e}");
        assert!(e.to_string().contains("truncated"), "cut at {cut}: {e}");
    }
}

#[test]
fn garbage_and_empty_files_are_refused() {
    let e = import_bytes(b"").unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let garbage: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let e = import_bytes(&garbage).unwrap_err();
    assert!(matches!(e, Error::Pbf { .. }), "{e}");
    let e = import_bytes(b"<?xml version='1.0'?><osm></osm>").unwrap_err();
    assert!(matches!(e, Error::Pbf { .. }), "{e}");
}

#[test]
fn damaged_block_contents_are_refused() {
    let bytes = std::fs::read(map_path("moscow-fragment")).unwrap();
    let ends = osm_data::reader::check_framing(Path::new("map.osm.pbf"), &bytes).unwrap();
    // Flip bytes in the middle of the second block's compressed data.
    let (start, end) = (ends[0], ends[1]);
    let mut damaged = bytes.clone();
    for i in (start + (end - start) / 2..end - 8).step_by(7).take(50) {
        damaged[i] ^= 0x5a;
    }
    let e = import_bytes(&damaged).unwrap_err();
    assert!(matches!(e, Error::Pbf { .. }), "{e}");
}

#[test]
fn pbf_without_roads_is_refused() {
    // The header block and the first data block of a file sorted by type hold nodes only.
    let bytes = std::fs::read(map_path("heidelberg")).unwrap();
    let ends = osm_data::reader::check_framing(Path::new("map.osm.pbf"), &bytes).unwrap();
    let e = import_bytes(&bytes[..ends[1]]).unwrap_err();
    assert!(matches!(e, Error::NoRoads { .. }), "{e}");
    assert!(e.to_string().contains("no drivable roads"), "{e}");
}

#[test]
fn unwritable_output_fails_cleanly() {
    let g = import("helsinki").graph;
    let e = graph_file::save(&g, "/no/such/dir/x.graph".as_ref()).unwrap_err();
    assert!(
        e.to_string().contains("cannot write /no/such/dir/x.graph"),
        "{e}"
    );
    // Over an existing good file, a failed write leaves the old file intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.graph");
    graph_file::save(&g, &path).unwrap();
    let sub = dir.path().join("h.graph").join("x");
    assert!(graph_file::save(&g, &sub).is_err());
    assert_eq!(graph_file::load(&path).unwrap(), g);
}

#[test]
fn damaged_graph_files_are_refused_with_the_reason() {
    let g = import("helsinki").graph;
    let good = graph_file::encode(&g);
    let dir = tempfile::tempdir().unwrap();
    let check = |bytes: &[u8], expect: &str| {
        let path = dir.path().join("g.graph");
        std::fs::write(&path, bytes).unwrap();
        let e = graph_file::load(&path).unwrap_err().to_string();
        assert!(e.contains(expect), "expected {expect:?} in {e:?}");
        assert!(e.contains("g.graph"), "{e}");
    };
    check(b"", "not a graph file");
    check(
        b"PK\x03\x04 this is a zip file, not a graph",
        "not a graph file",
    );
    let mut v = good.clone();
    v[8] = 99;
    check(&v, "format version 99");
    check(&good[..good.len() - 10], "truncated");
    let mut v = good.clone();
    let mid = v.len() / 2;
    v[mid] ^= 1;
    check(&v, "checksum mismatch");
    // A payload that passes the checksum but is inconsistent (written by a buggy tool).
    let mut bad = g.clone();
    bad.arc_head[0] = u32::MAX;
    check(&graph_file::encode(&bad), "damaged");
}

#[test]
fn bad_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, "[speed]\ncap_kmh = 0\n").unwrap();
    let e = Profile::from_file(&path).unwrap_err().to_string();
    assert!(e.contains("p.toml") && e.contains("cap_kmh"), "{e}");
}
