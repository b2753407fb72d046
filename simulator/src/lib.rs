//! Discrete-event simulator of 112 calls and ambulance crews for planners: how many crews,
//! where to station them, what a closure or a policy does to response times. It runs the
//! *same* dispatch decisions as the service (the `dispatch-core` crate) over simulated time,
//! routing live with the `router` crate.
//!
//! Parts:
//! * [`scheduler`]: the event queue, [`scheduler::SimTime`] and the tie rule;
//! * [`engine`]: the run: calls, crews driving their routes, the core's decisions,
//!   policies ([`engine::SimPolicy`]), closures in time windows, shifts, breakdowns and
//!   re-triage ([`engine::Exceptions`]);
//! * [`segments`]: long runs cut into segments simulated in parallel;
//! * [`calls`]: generated (Poisson, hourly profile, priorities by share) and replayed (CSV,
//!   with each call's durations, transport, hospital and needs when given) call streams;
//! * [`shifts`]: crews on duty by hour and station (a shifts CSV);
//! * [`plan`]: station and shift planning (MEXCLP, then a local search checked by
//!   simulation);
//! * [`demand`]: where people live (road density, or a population file);
//! * [`places`]: stations and hospitals from files or placed automatically;
//! * [`coverage`]: the DMEXCLP-style bookkeeping of the coverage-keeping policy;
//! * [`closures`]: road closures in time windows;
//! * [`dist`]: lognormal service times;
//! * [`stats`], [`output`], [`report`]: `summary.json`, `calls.csv`, `report.html`;
//! * [`compare`]: several policies or crew counts on the same calls, over several seeds;
//! * `live` (feature `live`, on by default): driving a running dispatch service over its
//!   HTTP and websocket API;
//! * [`scenario`]: building a world from a planner's inputs; [`map`]: opening a map;
//! * [`error`]: the one error type, [`SimError`].
//!
//! Glossary: *crew* an ambulance and its staff; *ETA* estimated time of arrival by road;
//! *turnout* from the call reaching a crew at its station to the wheels rolling; *response
//! time* from the call to the first crew on scene; *handover* the patient handed to the
//! hospital; *CH* contraction hierarchy (the router's speed-up); *coverage* the demand a
//! free crew can reach within a threshold.
//!
//! ```no_run
//! use std::sync::Arc;
//! use simulator::{engine, scenario, calls::CallModel};
//! let router = Arc::new(simulator::map::open_map("data/heidelberg.osm.pbf".as_ref())?);
//! let world = scenario::build_world(router, &scenario::WorldSpec::auto(40))?;
//! let calls = scenario::generate_calls(&world, 400.0, 24.0, 1, &CallModel::default())?;
//! let result = engine::run(&world, &calls, &engine::RunOptions::default(), &mut |_| {})?;
//! let summary = simulator::stats::Summary::of(&result);
//! println!("median response {:.0} s", summary.all.response_s.dist.p50);
//! # Ok::<(), simulator::SimError>(())
//! ```

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod calls;
pub mod closures;
pub mod compare;
pub mod coverage;
pub mod csv_input;
pub mod demand;
pub mod dist;
pub mod engine;
pub mod error;
#[cfg(feature = "live")]
pub mod live;
pub mod map;
pub mod output;
pub mod places;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod scheduler;
pub mod segments;
pub mod shifts;
pub mod stats;

pub use error::SimError;
