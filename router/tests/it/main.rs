//! Integration tests of the router on the real maps shipped in `data/`.

mod closures;
mod exactness;
mod helpers;
mod osrm_api;
mod osrm_openapi;
mod routes;
mod snapping;
