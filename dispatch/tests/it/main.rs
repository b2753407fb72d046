//! Integration tests of the `dispatch` command line and service.

mod helpers;
mod import_cli;
mod osrm_api;
