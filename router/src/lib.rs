//! Routing core of the ambulance dispatch engine: exact fastest routes in microseconds,
//! many-to-one ETAs for dispatch, and live road closures.
//!
//! Parts:
//! * [`cch`]: customizable contraction hierarchies (nested-dissection order by inertial
//!   flow, customization, elimination-tree queries, bucket many-to-one);
//! * [`dijkstra`]: the plain reference every fast path is checked against;
//! * [`snap`]: the R-trees that map coordinates to points on roads (the nearest by
//!   great-circle distance, within a radius or at any distance);
//! * [`closures`]: live closures and slow-downs with time windows;
//! * [`engine`]: the [`Router`] that ties them together over an `osm-data` graph;
//! * [`route`]: route results with geometry;
//! * [`map`]: opening a map by its file (a PBF imported once, or a graph file).
//! * `http` (feature `http`): the OSRM v5 `route`, `table` and `nearest` services as axum
//!   routes, and the JSON of the closures API.
//!
//! Glossary: *CH* contraction hierarchy; *CCH* customizable CH (metric-independent order,
//! weights filled in by a fast customization); *ETA* estimated time of arrival; *crew* an
//! ambulance and its staff; *snapping* moving a coordinate to the nearest drivable point.
//!
//! ```no_run
//! use router::Router;
//! let router = Router::open("heidelberg.graph".as_ref())?;
//! let from = router.snap(49.41, 8.69)?;
//! let to = router.snap(49.40, 8.67)?;
//! let route = router.route(&from, &to)?.expect("reachable");
//! println!("{:.0} s, {:.0} m", route.duration_s(), route.distance_m);
//! # Ok::<(), router::RouterError>(())
//! ```

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cch;
pub mod closures;
pub mod dijkstra;
pub mod engine;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod map;
pub mod route;
pub mod snap;

pub use closures::{ClosureArea, ClosureSpec};
pub use engine::{ClosuresCheckpoint, EtaIndex, Router, RouterOptions};
pub use error::RouterError;
pub use route::Route;
pub use snap::Snapped;
