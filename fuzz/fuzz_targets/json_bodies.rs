//! Fuzz target `json_bodies`: see `src/json_bodies.rs` for what one input checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ambulance_fuzz::json_bodies::check(data);
});
