//! Crews (ambulances and their staff): their types, their status machine and what the
//! dispatcher knows about each.
//!
//! The status machine:
//!
//! ```text
//! available → dispatched → en_route → on_scene → transporting → at_hospital → available
//!                                     on_scene → available              (no transport)
//!             dispatched | en_route → available                         (released, cancelled)
//! any other status → out_of_service → available
//!             available ⇄ off_duty                                     (shift over, new shift)
//! ```
//!
//! A crew whose [`Crew::shift_end`] has passed finishes its current call, then goes
//! `off_duty` instead of `available`; back `available`, it starts a new shift with no end
//! set.
//!
//! Substitution rule: a crew serves a need of its own type; a resuscitation (ALS) crew may
//! also serve a `general` need. A general crew never serves a specialist need, and the other
//! specialist crews (paediatric, psychiatric) serve only their own type.

use std::fmt;

use router::Snapped;
use serde::{Deserialize, Serialize};

use crate::call::CallId;

/// Where a crew is in its work cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CrewStatus {
    /// Free to take a call.
    Available,
    /// Assigned to a call, not yet driving.
    Dispatched,
    /// Driving to the call.
    EnRoute,
    /// At the call's address.
    OnScene,
    /// Taking the patient to a hospital.
    Transporting,
    /// At the hospital, handing the patient over.
    AtHospital,
    /// Broken down, restocking: never assigned.
    OutOfService,
    /// Its shift is over: never assigned.
    OffDuty,
}

impl CrewStatus {
    /// Every status, in the order of the work cycle.
    pub const ALL: [CrewStatus; 8] = [
        CrewStatus::Available,
        CrewStatus::Dispatched,
        CrewStatus::EnRoute,
        CrewStatus::OnScene,
        CrewStatus::Transporting,
        CrewStatus::AtHospital,
        CrewStatus::OutOfService,
        CrewStatus::OffDuty,
    ];

    /// The snake_case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CrewStatus::Available => "available",
            CrewStatus::Dispatched => "dispatched",
            CrewStatus::EnRoute => "en_route",
            CrewStatus::OnScene => "on_scene",
            CrewStatus::Transporting => "transporting",
            CrewStatus::AtHospital => "at_hospital",
            CrewStatus::OutOfService => "out_of_service",
            CrewStatus::OffDuty => "off_duty",
        }
    }

    /// Whether a crew in this status is on its way to a call (and so may be re-assigned or
    /// released).
    pub fn is_responding(self) -> bool {
        matches!(self, CrewStatus::Dispatched | CrewStatus::EnRoute)
    }

    /// Whether a crew in this status that breaks down hands its call back: on its way, on
    /// scene or transporting (at the hospital its patient is delivered).
    pub fn hands_back(self) -> bool {
        matches!(
            self,
            CrewStatus::Dispatched
                | CrewStatus::EnRoute
                | CrewStatus::OnScene
                | CrewStatus::Transporting
        )
    }
}

impl fmt::Display for CrewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a crew may go from `from` to `to` (see the module docs). Staying in the same
/// status is not a transition and is refused.
pub fn can_transition(from: CrewStatus, to: CrewStatus) -> bool {
    use CrewStatus::*;
    if from == to {
        return false;
    }
    matches!(
        (from, to),
        (Available, Dispatched)
            | (Dispatched, EnRoute)
            | (EnRoute, OnScene)
            | (OnScene, Transporting)
            | (Transporting, AtHospital)
            | (AtHospital, Available)
            | (OnScene, Available)
            | (Dispatched, Available)
            | (EnRoute, Available)
            | (_, OutOfService)
            | (OutOfService, Available)
            | (Available, OffDuty)
            | (OffDuty, Available)
    )
}

/// The kind of crew a call needs or a crew is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CrewType {
    /// Basic life support.
    General,
    /// Advanced life support (resuscitation); may also serve a general need.
    Resuscitation,
    /// Paediatric crew.
    Paediatric,
    /// Psychiatric crew.
    Psychiatric,
}

impl CrewType {
    /// Every crew type.
    pub const ALL: [CrewType; 4] = [
        CrewType::General,
        CrewType::Resuscitation,
        CrewType::Paediatric,
        CrewType::Psychiatric,
    ];

    /// The snake_case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CrewType::General => "general",
            CrewType::Resuscitation => "resuscitation",
            CrewType::Paediatric => "paediatric",
            CrewType::Psychiatric => "psychiatric",
        }
    }

    /// Whether a crew of this type can serve `need`: its own type, and a resuscitation
    /// (ALS) crew also a general need. A general crew cannot serve a specialist need.
    pub fn can_serve(self, need: CrewType) -> bool {
        self == need || (self == CrewType::Resuscitation && need == CrewType::General)
    }

    /// Whether this is a specialist type (anything but `general`).
    pub fn is_specialist(self) -> bool {
        self != CrewType::General
    }
}

impl fmt::Display for CrewType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A point given in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

/// What the service tells the dispatcher about a new crew. It starts `available`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCrew {
    /// Unique id, stable (tokens name it).
    pub id: String,
    /// Its type.
    pub crew_type: CrewType,
    /// Its home station, if any.
    #[serde(default)]
    pub station: Option<String>,
    /// The call sign said on the radio, if not the id.
    #[serde(default)]
    pub call_sign: Option<String>,
    /// When its shift ends (Unix ms), if set.
    #[serde(default)]
    pub shift_end: Option<i64>,
    /// Where it is, latitude.
    pub lat: f64,
    /// Where it is, longitude.
    pub lon: f64,
}

impl NewCrew {
    /// A crew of type `t` at a point, with no station, call sign or shift end.
    pub fn at(id: &str, t: CrewType, lat: f64, lon: f64) -> NewCrew {
        NewCrew {
            id: id.to_string(),
            crew_type: t,
            station: None,
            call_sign: None,
            shift_end: None,
            lat,
            lon,
        }
    }
}

/// A change to a crew ([`crate::Dispatcher::update_crew`]); `None` leaves a field as it
/// is. For `station`, `call_sign` and `shift_end`, `Some(None)` (JSON `null`) clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrewEdit {
    /// Its type (while on a call, only one that can still serve it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crew_type: Option<CrewType>,
    /// Its home station.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_util::double_option"
    )]
    pub station: Option<Option<String>>,
    /// Its call sign.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_util::double_option"
    )]
    pub call_sign: Option<Option<String>>,
    /// When its shift ends (Unix ms).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::serde_util::double_option"
    )]
    pub shift_end: Option<Option<i64>>,
}

impl CrewEdit {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == CrewEdit::default()
    }
}

/// A crew as the dispatcher knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Crew {
    /// Unique id. Ties between equal ETAs go to the lowest id (string order).
    pub id: String,
    /// Its type.
    pub crew_type: CrewType,
    /// Its home station, if any.
    pub station: Option<String>,
    /// The call sign said on the radio, if not the id.
    pub call_sign: Option<String>,
    /// When its shift ends (Unix ms): then it finishes its call and goes off duty.
    pub shift_end: Option<i64>,
    /// Its last reported position.
    pub position: Position,
    /// That position snapped to the road network (what ETAs start from).
    #[serde(skip, default = "crate::serde_util::not_on_road")]
    pub snapped: Snapped,
    /// Its status.
    pub status: CrewStatus,
    /// The call it works on (set from `dispatched` until it is available again).
    pub call: Option<CallId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_cycle() {
        use CrewStatus::*;
        let cycle = [
            Available,
            Dispatched,
            EnRoute,
            OnScene,
            Transporting,
            AtHospital,
            Available,
        ];
        for w in cycle.windows(2) {
            assert!(can_transition(w[0], w[1]), "{} -> {}", w[0], w[1]);
        }
        assert!(can_transition(OnScene, Available));
        assert!(can_transition(Dispatched, Available));
        assert!(can_transition(EnRoute, Available));
        assert!(can_transition(OutOfService, Available));
        for s in CrewStatus::ALL {
            assert_eq!(can_transition(s, OutOfService), s != OutOfService, "{s}");
            assert!(!can_transition(s, s));
        }
        for bad in [
            (Available, EnRoute),
            (Available, OnScene),
            (Dispatched, OnScene),
            (Transporting, Available),
            (AtHospital, OnScene),
            (OutOfService, Dispatched),
            (OnScene, EnRoute),
        ] {
            assert!(!can_transition(bad.0, bad.1), "{} -> {}", bad.0, bad.1);
        }
    }

    #[test]
    fn substitution_rule() {
        use CrewType::*;
        assert!(Resuscitation.can_serve(General));
        assert!(Resuscitation.can_serve(Resuscitation));
        assert!(!General.can_serve(Resuscitation));
        assert!(!General.can_serve(Paediatric));
        assert!(!Paediatric.can_serve(General));
        assert!(!Psychiatric.can_serve(General));
        for t in CrewType::ALL {
            assert!(t.can_serve(t));
        }
    }

    #[test]
    fn serde_names_are_snake_case() {
        assert_eq!(
            serde_json::to_string(&CrewStatus::OutOfService).unwrap(),
            "\"out_of_service\""
        );
        assert_eq!(
            serde_json::to_string(&CrewType::Resuscitation).unwrap(),
            "\"resuscitation\""
        );
        let s: CrewStatus = serde_json::from_str("\"en_route\"").unwrap();
        assert_eq!(s, CrewStatus::EnRoute);
    }
}
