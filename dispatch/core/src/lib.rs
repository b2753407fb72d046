//! Dispatch decision core of the ambulance dispatch engine: which crew goes to which call,
//! and why. Pure logic, shared by the dispatch service and the call simulator: no I/O, no
//! clock (every operation takes `now`, Unix milliseconds), deterministic (the same
//! operations give the same events). Exact road ETAs come from the `router` crate.
//!
//! Parts:
//! * [`crew`]: crew types, the crew status machine, crews;
//! * [`call`]: calls, priorities, call status, the NEMSIS-like timeline, assignments;
//! * [`hospital`]: hospitals and capabilities;
//! * [`policy`]: settings, decisions and their reasons, tie rules;
//! * [`assign`]: finding the best crew (bucket many-to-one ETAs, straight line, pruned);
//! * [`dispatcher`]: the [`Dispatcher`] and its operations and rules; restart recovery by
//!   replaying the logged events ([`Dispatcher::restore`], [`Dispatcher::replay`]);
//! * [`event`]: the events every operation returns;
//! * [`error`]: the one error type, [`DispatchError`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use dispatch_core::{Dispatcher, DispatchConfig, NewCall, NewCrew, CrewType, Priority};
//! let router = Arc::new(router::Router::open("heidelberg.graph".as_ref())?);
//! let mut d = Dispatcher::new(router, DispatchConfig::default());
//! let now = 1_764_000_000_000;
//! d.add_crew(NewCrew::at("A1", CrewType::General, 49.41, 8.69), now)?;
//! for event in d.new_call(NewCall::at(49.40, 8.67, Priority::Emergency), now)? {
//!     println!("{}", serde_json::to_string(&event).unwrap());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod assign;
pub mod call;
pub mod crew;
pub mod dispatcher;
pub mod error;
pub mod event;
pub mod hospital;
pub mod policy;
mod serde_util;

pub use call::{
    map_needs, Assignment, Call, CallEdit, CallId, CallStatus, CallTimes, LinkedReport, NewCall,
    Place, Priority,
};
pub use crew::{can_transition, Crew, CrewEdit, CrewStatus, CrewType, NewCrew, Position};
pub use dispatcher::{
    Dispatcher, GraphStamp, Outcome, PossibleDuplicate, Snapshot, SNAPSHOT_FORMAT,
};
pub use error::DispatchError;
pub use event::{DropReason, Event, HandBackReason};
pub use hospital::{Capability, Hospital, NewHospital};
pub use policy::{
    Candidate, Choice, Decision, DecisionReason, DispatchConfig, Duplicates, Norms, Policy,
    QueueOrder, RuleOverrides,
};
