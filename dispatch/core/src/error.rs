//! The one error type of the dispatch core. An operation that returns an error has changed
//! nothing.

use crate::call::{CallId, CallStatus};
use crate::crew::{CrewStatus, CrewType};

/// Why an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// No crew has this id.
    #[error("unknown crew {0:?}")]
    UnknownCrew(String),
    /// No call has this id.
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    /// No hospital has this id.
    #[error("unknown hospital {0:?}")]
    UnknownHospital(String),
    /// A crew with this id exists already.
    #[error("a crew with id {0:?} exists already")]
    DuplicateCrew(String),
    /// A call with this id exists already.
    #[error("a call with id {0} exists already")]
    DuplicateCall(CallId),
    /// A hospital with this id exists already.
    #[error("a hospital with id {0:?} exists already")]
    DuplicateHospital(String),
    /// The crew cannot go from its status to the one asked for.
    #[error("crew {crew:?} cannot go from {from} to {to}")]
    IllegalTransition {
        /// The crew.
        crew: String,
        /// Its status.
        from: CrewStatus,
        /// The status asked for.
        to: CrewStatus,
    },
    /// A crew becomes `dispatched` only by being assigned to a call.
    #[error("crew {0:?} is dispatched by assigning it to a call, not by setting its status")]
    DispatchWithoutCall(String),
    /// The crew's type cannot serve any need of the call.
    #[error("crew {crew:?} ({crew_type}) cannot serve any need of call {call} ({needs:?})")]
    CrewNotAble {
        /// The crew.
        crew: String,
        /// Its type.
        crew_type: CrewType,
        /// The call.
        call: CallId,
        /// The call's needs.
        needs: Vec<CrewType>,
    },
    /// The crew is busy on scene, transporting, at a hospital or out of service.
    #[error("crew {crew:?} is {status} and cannot be sent to a call")]
    CrewNotAvailable {
        /// The crew.
        crew: String,
        /// Its status.
        status: CrewStatus,
    },
    /// The crew already works on this call.
    #[error("crew {crew:?} is already assigned to call {call}")]
    AlreadyAssigned {
        /// The crew.
        crew: String,
        /// The call.
        call: CallId,
    },
    /// The crew cannot reach the call by road (closures).
    #[error("crew {crew:?} cannot reach call {call} by road")]
    Unreachable {
        /// The crew.
        crew: String,
        /// The call.
        call: CallId,
    },
    /// The position is not on (or near) the map's roads.
    #[error("off the map: {0}")]
    OffMap(#[source] router::RouterError),
    /// The call is completed or cancelled.
    #[error("call {call} is already {status}")]
    CallClosed {
        /// The call.
        call: CallId,
        /// Its status.
        status: CallStatus,
    },
    /// A crew has reached the call; it ends through the crew's status, not by cancelling.
    #[error("call {call} is {status}: a crew has reached it, so it cannot be cancelled")]
    CallInProgress {
        /// The call.
        call: CallId,
        /// Its status.
        status: CallStatus,
    },
    /// A call needs at least one crew.
    #[error("call {0} needs at least one crew")]
    NoNeeds(CallId),
    /// The patient has left the scene: the call's needs are over.
    #[error("the patient of call {0} has left the scene: its needs can no longer change")]
    PatientLeftScene(CallId),
    /// An edit would take away a need a crew has reached.
    #[error("crew {crew:?} has reached call {call} for its {need} need, which must stay")]
    NeedServed {
        /// The call.
        call: CallId,
        /// The crew.
        crew: String,
        /// Its need.
        need: CrewType,
    },
    /// A crew cannot change to a type that no longer serves its call.
    #[error("crew {crew:?} serves call {call} as {need} and cannot become {crew_type}")]
    TypeInUse {
        /// The crew.
        crew: String,
        /// The type asked for.
        crew_type: CrewType,
        /// Its call.
        call: CallId,
        /// The need it serves there.
        need: CrewType,
    },
    /// Dispatch rules (TOML) that do not read.
    #[error("dispatch rules: {source}")]
    Settings {
        /// What is wrong, with the line.
        #[source]
        source: toml::de::Error,
    },
    /// A setting out of its range.
    #[error("{setting}: {message}")]
    SettingOutOfRange {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A replayed event does not fit the state it is applied to (a log out of order, cut,
    /// or from another state).
    #[error("event does not apply to the state: {0}")]
    Inconsistent(String),
}
