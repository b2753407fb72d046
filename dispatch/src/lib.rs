//! The ambulance dispatch service.
//!
//! Today it serves the router's HTTP API (OSRM-compatible `route`, `table`, `nearest` and
//! the live closures API) over the bundled map; the dispatch of 112 calls to crews grows
//! here (issue 4).
//!
//! Parts:
//! * [`map`]: open a map given as `.osm.pbf` (imported once, cached as `.graph`) or `.graph`;
//! * [`server`]: the axum application and [`server::serve`].
//!
//! Glossary: a *crew* is an ambulance and its staff; a *call* is a 112 request for an
//! ambulance; the *ETA* is the road travel time of a crew to a call.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let router = dispatch::map::open_map("data/heidelberg.osm.pbf".as_ref())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! dispatch::server::serve(std::sync::Arc::new(router), listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod map;
pub mod server;
