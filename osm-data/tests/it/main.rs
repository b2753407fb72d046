//! Integration tests of the import on the real maps shipped in `data/`.

mod address;
mod bad_input;
mod fuzz_corpus;
mod helpers;
mod maps;
