//! What happened: every operation of the [`crate::Dispatcher`] returns the events it caused,
//! in order. The service persists and broadcasts them (adding its own sequence number); a
//! client that applies them in order mirrors the dispatcher's state.
//!
//! JSON: `{"type": "call_assigned", "decision": {...}}`, names in snake_case.
//!
//! The events are complete: [`crate::Dispatcher::replay`] rebuilds the exact state from
//! them, in order, without deciding anything again (every live operation is itself a
//! decision followed by the replay of the events it emits).

use serde::{Deserialize, Serialize};

use crate::call::{CallEdit, CallId, CallStatus, LinkedReport, Place, Priority};
use crate::crew::{CrewEdit, CrewStatus, CrewType, Position};
use crate::hospital::Capability;
use crate::policy::Decision;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A call was entered (status `queued` until a crew is assigned).
    CallCreated {
        /// The call.
        call_id: CallId,
        /// How urgent.
        priority: Priority,
        /// The crews it needs.
        needs: Vec<CrewType>,
        /// Where, latitude as given.
        lat: f64,
        /// Where, longitude as given.
        lon: f64,
        /// The chief complaint.
        complaint: String,
        /// The address.
        address: String,
        /// The address in its parts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        place: Option<Place>,
        /// The caller's phone number.
        phone: Option<String>,
        /// The dispatcher's notes.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        notes: String,
        /// When it was received (Unix ms).
        received: i64,
    },
    /// A call waits for crews: no able crew is available for these needs.
    CallQueued {
        /// The call.
        call_id: CallId,
        /// The needs left without a crew.
        pending: Vec<CrewType>,
    },
    /// A crew was sent to a call.
    CallAssigned {
        /// The decision, with the call, crew, need, ETA and reason.
        decision: Decision,
    },
    /// A call was handed from one crew to another (the old crew is released: see the
    /// [`Event::CrewReleased`] that follows).
    CallReassigned {
        /// The crew that was on its way.
        from_crew: String,
        /// The crew now sent.
        to_crew: String,
        /// The decision.
        decision: Decision,
    },
    /// A call was cancelled by the dispatcher.
    CallCancelled {
        /// The call.
        call_id: CallId,
        /// Why (logs written before this field existed read as empty).
        #[serde(default)]
        reason: String,
    },
    /// A call was changed after intake (re-triage, a corrected address, notes); see
    /// [`crate::Dispatcher::edit_call`] for what is decided again.
    CallEdited {
        /// The call.
        call_id: CallId,
        /// What changed.
        changes: CallEdit,
    },
    /// Another caller about an open call's patient was linked to it (no crew is sent for
    /// it): see [`crate::Dispatcher::link_call`].
    CallLinked {
        /// The call.
        call_id: CallId,
        /// What the other caller said.
        report: LinkedReport,
    },
    /// A crew that served a call can no longer: the call is handed back and decided again
    /// at once (another crew, or the head of its priority's queue); it keeps its timeline.
    /// The crew's release follows ([`Event::CrewReleased`]).
    CallHandedBack {
        /// The call.
        call_id: CallId,
        /// The crew that served it.
        crew_id: String,
        /// Why.
        reason: HandBackReason,
        /// Where the patient now waits, when not at the call's place: the crew broke down
        /// while transporting, so the next crew goes to where it stands.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pickup: Option<Position>,
    },
    /// Needs of a call left without a crew are dropped: no crew will be sent for them.
    NeedsDropped {
        /// The call.
        call_id: CallId,
        /// Which needs (indices into the call's needs).
        needs: Vec<usize>,
        /// Why.
        reason: DropReason,
    },
    /// A call's status changed.
    CallStatus {
        /// The call.
        call_id: CallId,
        /// Its new status.
        status: CallStatus,
        /// When (Unix ms): the `crew_available` time of a completed call. Logs written
        /// before this field existed read as 0.
        #[serde(default)]
        at: i64,
    },
    /// The patient was handed over at the hospital.
    HandoverRecorded {
        /// The call.
        call_id: CallId,
        /// When (Unix ms).
        at: i64,
    },
    /// A crew joined (it starts available).
    CrewAdded {
        /// The crew.
        crew_id: String,
        /// Its type.
        crew_type: CrewType,
        /// Its station.
        station: Option<String>,
        /// Its call sign.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_sign: Option<String>,
        /// When its shift ends (Unix ms).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shift_end: Option<i64>,
        /// Where, latitude.
        lat: f64,
        /// Where, longitude.
        lon: f64,
    },
    /// A crew's type, station, call sign or shift end changed.
    CrewUpdated {
        /// The crew.
        crew_id: String,
        /// What changed.
        changes: CrewEdit,
    },
    /// A crew left the roster.
    CrewRemoved {
        /// The crew.
        crew_id: String,
    },
    /// A crew's status changed.
    CrewStatus {
        /// The crew.
        crew_id: String,
        /// Its old status.
        from: CrewStatus,
        /// Its new status.
        to: CrewStatus,
        /// When (Unix ms): the call's timeline and the end of the crew's part follow it.
        /// Logs written before this field existed read as 0.
        #[serde(default)]
        at: i64,
    },
    /// A crew reported a new position.
    CrewMoved {
        /// The crew.
        crew_id: String,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// A call was taken from a crew (re-assigned, overridden, diverted, cancelled or the
    /// crew stood down): tell the crew.
    CrewReleased {
        /// The crew.
        crew_id: String,
        /// The call it no longer serves.
        call_id: CallId,
    },
    /// A hospital was added.
    HospitalAdded {
        /// The hospital.
        hospital_id: String,
        /// Its name.
        name: String,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// What it can treat.
        capabilities: Vec<Capability>,
    },
}

/// Why a call was handed back by its crew ([`Event::CallHandedBack`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandBackReason {
    /// The crew went out of service (a breakdown, an accident) while on its way, on scene
    /// or transporting.
    Breakdown,
    /// The crew was taken off the roster while on the call.
    Removed,
    /// A closure left the crew with no road to the call.
    CutOff,
    /// The crew was diverted to an emergency.
    Diverted,
}

/// Why needs were dropped ([`Event::NeedsDropped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The patient left the scene (transported): nobody is sent to an empty scene.
    PatientLeftScene,
    /// The call closed (its last crew finished, or it was cancelled).
    CallClosed,
}

impl Event {
    /// The call this event is about, if any.
    pub fn call_id(&self) -> Option<CallId> {
        match self {
            Event::CallCreated { call_id, .. }
            | Event::CallQueued { call_id, .. }
            | Event::CallCancelled { call_id, .. }
            | Event::CallHandedBack { call_id, .. }
            | Event::CallEdited { call_id, .. }
            | Event::CallLinked { call_id, .. }
            | Event::NeedsDropped { call_id, .. }
            | Event::CallStatus { call_id, .. }
            | Event::HandoverRecorded { call_id, .. }
            | Event::CrewReleased { call_id, .. } => Some(*call_id),
            Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
                Some(decision.call_id)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_with_their_type() {
        let e = Event::CrewStatus {
            crew_id: "A1".into(),
            from: CrewStatus::Available,
            to: CrewStatus::OutOfService,
            at: 5,
        };
        let s = serde_json::to_string(&e).unwrap();
        assert_eq!(
            s,
            r#"{"type":"crew_status","crew_id":"A1","from":"available","to":"out_of_service","at":5}"#
        );
        let back: Event = serde_json::from_str(&s).unwrap();
        assert_eq!(back, e);
        let e = Event::CallStatus {
            call_id: CallId(3),
            status: CallStatus::EnRoute,
            at: 7,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"call_status","call_id":3,"status":"en_route","at":7}"#
        );
        assert_eq!(e.call_id(), Some(CallId(3)));
    }

    #[test]
    fn events_without_times_still_parse() {
        let old =
            r#"{"type":"crew_status","crew_id":"A1","from":"available","to":"out_of_service"}"#;
        let e: Event = serde_json::from_str(old).unwrap();
        assert!(matches!(e, Event::CrewStatus { at: 0, .. }));
        let old = r#"{"type":"call_status","call_id":3,"status":"completed"}"#;
        let e: Event = serde_json::from_str(old).unwrap();
        assert!(matches!(e, Event::CallStatus { at: 0, .. }));
    }
}
