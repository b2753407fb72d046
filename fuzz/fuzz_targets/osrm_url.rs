//! Fuzz target `osrm_url`: see `src/osrm_url.rs` for what one input checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ambulance_fuzz::osrm_url::check(data);
});
