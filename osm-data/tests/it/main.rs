//! Integration tests of the import on the real maps shipped in `data/`.

// Tests unwrap: a panic is their failure report. Their helpers are `pub` for the other
// modules of this test crate, which is all `unreachable_pub` would say.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod address;
mod bad_input;
mod fuzz_corpus;
mod helpers;
mod maps;
