//! The committed corpus of a fuzz target, for the replay tests under stable `cargo test`
//! (`osm-data/tests/it/fuzz_corpus.rs`, `dispatch/tests/it/fuzz_corpus.rs` include this file;
//! both crates sit beside `fuzz/`).

use std::path::{Path, PathBuf};

/// The inputs of a target's corpus, in file-name order.
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}
