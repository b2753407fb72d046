//! The corpora of the fuzz targets `pbf_import` and `graph_file` (`fuzz/corpus/`), replayed
//! through the very checks the targets run (the same source files), so every input a fuzzer
//! kept, crashes it found included, stays harmless under stable `cargo test`.

#[path = "../../../fuzz/src/graph_file.rs"]
mod graph_file;
#[path = "../../../fuzz/src/pbf_import.rs"]
mod pbf_import;

#[path = "../../../fuzz/src/corpus.rs"]
mod corpus;
use corpus::corpus;

/// Runs `check` on every input of `target`'s corpus; fails naming every input that panicked.
pub fn replay(target: &str, check: fn(&[u8])) {
    let failed: Vec<String> = corpus(target)
        .into_iter()
        .filter(|(_, bytes)| std::panic::catch_unwind(|| check(bytes)).is_err())
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: these inputs fail: {failed:#?}"
    );
}

#[test]
fn pbf_import_corpus_replays_without_panic() {
    replay("pbf_import", pbf_import::check);
}

#[test]
fn graph_file_corpus_replays_without_panic() {
    replay("graph_file", graph_file::check);
}

#[test]
fn the_tiny_seeds_are_real_maps() {
    // The hand-made seeds (fuzz/seeds/make_tiny_pbf.py) reach the graph builder and the
    // graph file's arrays, so the fuzzer starts from inputs that get all the way through.
    let profile = osm_data::Profile::default();
    for seed in ["seed-tiny-raw", "seed-tiny-zlib"] {
        let (_, bytes) = corpus("pbf_import")
            .into_iter()
            .find(|(p, _)| p.ends_with(seed))
            .unwrap();
        let imported = osm_data::import_bytes(seed.as_ref(), &bytes, &profile, &mut |_| {})
            .unwrap_or_else(|e| panic!("{seed}: {e}"));
        assert_eq!(imported.build.restrictions_applied, 1, "{seed}");
        assert!(imported.graph.arc_count() > 10, "{seed}");
    }
    let (_, bytes) = corpus("graph_file")
        .into_iter()
        .find(|(p, _)| p.ends_with("seed-tiny"))
        .unwrap();
    osm_data::graph_file::decode(&bytes).unwrap();
}

#[test]
fn string_index_past_the_string_table_is_an_error_not_a_panic() {
    // The first crash `pbf_import` found: osmpbfreader 0.19.1 indexes the string table
    // unchecked (groups.rs:212) and panics on a decoder thread; read_pbf contains it.
    let (_, bytes) = corpus("pbf_import")
        .into_iter()
        .find(|(p, _)| p.ends_with("crash-string-index-past-table"))
        .unwrap();
    let e = osm_data::import_bytes(
        "bad.osm.pbf".as_ref(),
        &bytes,
        &osm_data::Profile::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, osm_data::Error::Pbf { .. }), "{e}");
}

#[test]
fn segment_offset_near_u32_max_is_refused_not_an_overflow() {
    // The first crash `graph_file` found: `validate` added 2 to a segment offset of a loaded
    // file (an overflow panic in debug builds; in release the check wrapped, passed, and the
    // graph's accessors would slice out of bounds).
    let (_, bytes) = corpus("graph_file")
        .into_iter()
        .find(|(p, _)| p.ends_with("seed-tiny"))
        .unwrap();
    let mut g = osm_data::graph_file::decode(&bytes).unwrap();
    g.seg_first_point[1] = u32::MAX;
    let e = osm_data::graph_file::decode(&osm_data::graph_file::encode(&g)).unwrap_err();
    assert!(e.to_string().contains("segment shapes"), "{e}");
}
