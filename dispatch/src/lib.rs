//! The ambulance dispatch service.
//!
//! It takes 112 calls and assigns each to the crew that arrives first (the decisions are
//! `dispatch-core`'s), pushes routes to crew tablets and every event to dispatcher consoles
//! over websockets, and serves the router's OSRM-compatible API and live closures.
//!
//! Parts:
//! * [`map`]: open a map given as `.osm.pbf` (imported once, cached as `.graph`) or `.graph`;
//! * [`auth`]: bearer tokens and roles;
//! * [`api`]: the REST API: calls, crews, handovers, and the map the pages draw;
//! * [`audit`]: who did what, from the event log;
//! * [`closures`]: live road closures, durable, with re-routes pushed to tablets;
//! * [`demo`]: `dispatch serve --demo`, simulated calls and tablets through the real API;
//! * [`ws`]: the console and tablet websockets;
//! * [`handover`]: the hospital handover as the crew records it;
//! * [`fhir`]: the handover in the patient's record: HL7 FHIR R4, pushed with an outbox;
//! * [`hospitals`]: hospitals from the map or a file, and the one a crew reaches soonest;
//! * [`hub`]: numbered log entries broadcast to consoles and tablets, resumable;
//! * [`journal`]: what an operation writes to the event log, and the restart from it;
//! * [`state`]: the shared state and the single writer (decide, commit, then publish);
//! * [`store`]: durable state, an event log and JSON snapshots in SQLite or PostgreSQL;
//! * [`error`]: the library's error type ([`Error`]) and the HTTP one (`ApiError`);
//! * [`settings`]: the dispatch rules (and the stations) from a file and flags;
//! * [`stations`]: where crews start from and go back to;
//! * [`server`]: the axum application and [`server::serve`];
//! * [`metrics`]: Prometheus metrics at `GET /metrics`;
//! * [`openapi`]: the OpenAPI description of the HTTP API, generated from the handlers;
//! * [`web`]: the dispatcher console and crew tablet pages.
//!
//! Glossary: a *crew* is an ambulance and its staff; a *call* is a 112 request for an
//! ambulance; the *ETA* is the road travel time of a crew to a call.
//!
//! ```no_run
//! # async fn run() -> Result<(), dispatch::Error> {
//! let router = dispatch::map::open_map("data/heidelberg.osm.pbf".as_ref())?;
//! let addr = "127.0.0.1:0";
//! let listener = tokio::net::TcpListener::bind(addr)
//!     .await
//!     .map_err(|source| dispatch::Error::Serve { addr: addr.into(), source })?;
//! let config = dispatch::state::ServiceConfig {
//!     tokens: dispatch::auth::Tokens::from_pairs([("s3cret-dispatcher-0001", "dispatcher")])?,
//!     ..Default::default()
//! };
//! // Rebuilds the state from the store's event log (a new SQLite file starts empty).
//! let store = dispatch::store::Store::open("sqlite://dispatch.db").await?;
//! let state = dispatch::state::AppState::open(std::sync::Arc::new(router), config, store).await?;
//! dispatch::server::serve(state, listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod audit;
pub mod auth;
pub mod closures;
pub mod cluster;
pub mod commit;
pub mod demo;
pub mod edge;
pub mod error;
pub mod fhir;
pub mod handover;
pub mod hospitals;
pub mod hub;
pub mod journal;
pub mod map;
pub mod metrics;
pub mod openapi;
pub mod server;
pub mod settings;
pub mod state;
pub mod stations;
pub mod store;
pub mod web;
pub mod ws;

pub use error::Error;

/// The map data's attribution, shown with the map and in `/health`.
pub const ATTRIBUTION: &str = "© OpenStreetMap contributors, ODbL 1.0";
