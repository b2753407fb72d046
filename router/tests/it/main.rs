//! Integration tests of the router on the real maps shipped in `data/`.

// Tests unwrap: a panic is their failure report. Their helpers are `pub` for the other
// modules of this test crate, which is all `unreachable_pub` would say.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod closures;
mod exactness;
mod helpers;
mod osrm_api;
mod osrm_openapi;
mod routes;
mod snapping;
