//! Fuzz target `graph_file`: see `src/graph_file.rs` for what one input checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ambulance_fuzz::graph_file::check(data));
