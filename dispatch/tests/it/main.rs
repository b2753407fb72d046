//! Integration tests of the `dispatch` command line and service.

mod atomic;
mod browser;
mod closures;
mod cluster;
mod demo;
mod dispatch_api;
mod duplicates;
mod edge;
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
