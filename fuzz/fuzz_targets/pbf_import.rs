//! Fuzz target `pbf_import`: see `src/pbf_import.rs` for what one input checks.
#![no_main]

/// Wraps the panic hook (libFuzzer's, which aborts) so that a panic raised inside
/// `osmpbfreader` unwinds to `osm_data::reader::read_pbf`, which turns it into an error;
/// any other panic still goes to the wrapped hook and is a crash.
fn tolerate_contained_decoder_panics() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_decoder = info
            .location()
            .is_some_and(|l| l.file().contains("/osmpbfreader-"));
        if !in_decoder {
            abort(info);
        }
    }));
}

libfuzzer_sys::fuzz_target!(
    init: tolerate_contained_decoder_panics(),
    |data: &[u8]| ambulance_fuzz::pbf_import::check(data)
);
