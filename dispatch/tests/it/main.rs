//! Integration tests of the `dispatch` command line and service.

// Tests unwrap: a panic is their failure report. Their helpers are `pub` for the other
// modules of this test crate, which is all `unreachable_pub` would say.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod atomic;
mod browser;
mod closures;
mod cluster;
mod demo;
mod dispatch_api;
mod duplicates;
mod edge;
mod fhir_push;
mod fhir_summary;
mod fuzz_corpus;
mod geocode;
mod group_commit;
mod helpers;
mod import_cli;
mod logs;
mod metrics;
mod openapi;
mod osrm_api;
mod paging;
mod process;
mod recovery;
mod rules;
mod snapshots;
mod stations;
mod store;
mod tokens;
mod tracks;
