//! Integration tests of the `dispatch` command line and service.

mod browser;
mod closures;
mod dispatch_api;
mod helpers;
mod import_cli;
mod osrm_api;
mod recovery;
mod rules;
mod store;
mod tokens;
