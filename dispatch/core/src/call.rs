//! Calls (incidents): what was reported, which crews they need, who was sent and the
//! timeline of the response.
//!
//! A call's status follows its crews: with crews attached it is the most advanced stage of
//! any of them (`assigned` for a dispatched crew, `en_route`, `on_scene`, `transporting`,
//! `at_hospital`), which for the usual one-crew call is simply its crew's status; with no
//! crew attached and needs left it is `queued`; once every crew that worked on it is
//! available again it is `completed`. `cancelled` comes only from the dispatcher.

use std::fmt;

use router::Snapped;
use serde::{Deserialize, Serialize};

use crate::crew::{CrewType, Position};
use crate::policy::Decision;

/// A call's id: assigned by the dispatcher in increasing order unless the service gives
/// one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How urgent a call is. The order is `emergency < urgent < non_urgent`, so sorting puts
/// emergencies first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Life threatening: lights and sirens.
    Emergency,
    /// Needs a crew soon.
    Urgent,
    /// Can wait.
    NonUrgent,
}

impl Priority {
    /// The snake_case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "emergency",
            Priority::Urgent => "urgent",
            Priority::NonUrgent => "non_urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a call stands (see the module docs). Ordered by progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Waiting for a crew.
    Queued,
    /// A crew is dispatched.
    Assigned,
    /// A crew is driving to it.
    EnRoute,
    /// A crew is there.
    OnScene,
    /// The patient is being taken to hospital.
    Transporting,
    /// The patient is at the hospital.
    AtHospital,
    /// Done: every crew that worked on it is free again.
    Completed,
    /// Cancelled by the dispatcher.
    Cancelled,
}

impl CallStatus {
    /// The snake_case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Assigned => "assigned",
            CallStatus::EnRoute => "en_route",
            CallStatus::OnScene => "on_scene",
            CallStatus::Transporting => "transporting",
            CallStatus::AtHospital => "at_hospital",
            CallStatus::Completed => "completed",
            CallStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the call is over (completed or cancelled).
    pub fn is_closed(self) -> bool {
        matches!(self, CallStatus::Completed | CallStatus::Cancelled)
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The timeline of a call in the spirit of NEMSIS eTimes, Unix milliseconds. For calls
/// with several crews each time is the first time it happened for any crew, except
/// `crew_available`, when the last crew became free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallTimes {
    /// The call was received (eTimes.01/03).
    pub received: Option<i64>,
    /// The first crew was assigned.
    pub assigned: Option<i64>,
    /// The first crew was notified; the core notifies at once (its events are the
    /// notification), so this equals `assigned`.
    pub crew_notified: Option<i64>,
    /// The first crew started driving (eTimes.05).
    pub en_route: Option<i64>,
    /// The first crew arrived (eTimes.06).
    pub on_scene: Option<i64>,
    /// The first crew left the scene, with the patient or without (eTimes.09).
    pub left_scene: Option<i64>,
    /// The first crew reached the hospital (eTimes.11).
    pub at_hospital: Option<i64>,
    /// The patient was handed over (eTimes.12), recorded by the service.
    pub handover: Option<i64>,
    /// The last crew was available again (eTimes.13).
    pub crew_available: Option<i64>,
    /// The call was closed: completed or cancelled. Logs written before this time was
    /// kept leave it empty.
    #[serde(default)]
    pub closed: Option<i64>,
}

impl CallTimes {
    /// Response time: received → first crew on scene (ms).
    pub fn response_ms(&self) -> Option<i64> {
        Some(self.on_scene? - self.received?)
    }

    /// Time in the queue: received → first crew assigned (ms).
    pub fn queue_ms(&self) -> Option<i64> {
        Some(self.assigned? - self.received?)
    }
}

/// A crew sent to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    /// The crew.
    pub crew_id: String,
    /// The need it serves: an entry of [`Call::needs`]. For an interim crew, the specialist
    /// need it covers until the specialist arrives.
    pub need: CrewType,
    /// Index of that need in [`Call::needs`].
    pub need_index: usize,
    /// A general crew sent at once while a specialist is far or not free; it does not fill
    /// the need.
    pub interim: bool,
    /// The ETA when it was decided (ms).
    pub eta_ms: u32,
    /// When it was decided (Unix ms).
    pub decided_at: i64,
    /// When the crew finished its part (available or out of service after reaching the
    /// scene); `None` while it works on the call.
    pub finished_at: Option<i64>,
}

/// A call's address in its parts, as the call taker confirmed it (from the map's address
/// search, and what the caller adds: entrance, floor, flat), so the crew reads
/// "ул. Гончарова, д. 4, стр. 3, подъезд 2" rather than a point. Every part is optional; the
/// free-text `address` of the call stays beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// The street (or the named place an address belongs to instead of a street).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// The house number with its letter or fraction (`27А`, `12/2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housenumber: Option<String>,
    /// Корпус.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<String>,
    /// Строение.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building: Option<String>,
    /// Подъезд.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrance: Option<String>,
    /// Этаж.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    /// Квартира (or office).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apartment: Option<String>,
    /// The town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// A named place (a school, a station, a shop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Place {
    /// Its parts as `(name, value)`, in the order above.
    pub fn parts(&self) -> [(&'static str, Option<&str>); 9] {
        [
            ("street", self.street.as_deref()),
            ("housenumber", self.housenumber.as_deref()),
            ("block", self.block.as_deref()),
            ("building", self.building.as_deref()),
            ("entrance", self.entrance.as_deref()),
            ("floor", self.floor.as_deref()),
            ("apartment", self.apartment.as_deref()),
            ("city", self.city.as_deref()),
            ("name", self.name.as_deref()),
        ]
    }

    /// Whether no part is given.
    pub fn is_empty(&self) -> bool {
        self.parts()
            .iter()
            .all(|(_, v)| v.is_none_or(str::is_empty))
    }
}

/// A second caller about an open call's patient, linked to that call by the dispatcher
/// instead of becoming a call of its own ([`crate::Dispatcher::link_call`]): no crew is
/// sent for it, and it shares the call's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedReport {
    /// When it was received (Unix ms).
    pub received: i64,
    /// Where the caller said, latitude.
    pub lat: f64,
    /// Where the caller said, longitude.
    pub lon: f64,
    /// What the caller said.
    #[serde(default)]
    pub complaint: String,
    /// The address as given.
    #[serde(default)]
    pub address: String,
    /// The caller's phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What the service tells the dispatcher about a new call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCall {
    /// Its id; `None` lets the dispatcher number it (one past the highest id seen).
    #[serde(default)]
    pub id: Option<CallId>,
    /// Where, latitude.
    pub lat: f64,
    /// Where, longitude.
    pub lon: f64,
    /// How urgent.
    pub priority: Priority,
    /// The crews it needs, one entry per crew; empty means one general crew.
    #[serde(default)]
    pub needs: Vec<CrewType>,
    /// The chief complaint as taken by the call taker.
    #[serde(default)]
    pub complaint: String,
    /// The address as given.
    #[serde(default)]
    pub address: String,
    /// The address in its parts, when the call taker confirmed one.
    #[serde(default)]
    pub place: Option<Place>,
    /// The caller's phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// The dispatcher's notes.
    #[serde(default)]
    pub notes: String,
    /// When the call was received, if before the moment it is entered (else `now`).
    #[serde(default)]
    pub received: Option<i64>,
}

impl NewCall {
    /// A call at a point with one general need and no details, received `now`.
    pub fn at(lat: f64, lon: f64, priority: Priority) -> NewCall {
        NewCall {
            id: None,
            lat,
            lon,
            priority,
            needs: vec![CrewType::General],
            complaint: String::new(),
            address: String::new(),
            place: None,
            phone: None,
            notes: String::new(),
            received: None,
        }
    }

    /// The same call with these needs.
    pub fn with_needs(mut self, needs: &[CrewType]) -> NewCall {
        self.needs = needs.to_vec();
        self
    }

    /// The same call with this id.
    pub fn with_id(mut self, id: u64) -> NewCall {
        self.id = Some(CallId(id));
        self
    }
}

/// A change to a call after intake ([`crate::Dispatcher::edit_call`]); `None` leaves a
/// field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEdit {
    /// A new priority (re-triage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// A corrected place (snapped again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The crews it needs now, one entry per crew (not empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<CrewType>>,
    /// The chief complaint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
    /// The address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The address in its parts (an empty one clears them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// The dispatcher's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl CallEdit {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == CallEdit::default()
    }
}

/// Where each assignment of a call goes when its needs become `new`: `Some((index,
/// interim))` or `None` when no need of `new` fits it. Crews keep the type of need they
/// serve: non-interim crews first, in order, each to the first free need of its type; an
/// interim crew stays interim for a specialist need of its type left unfilled, else fills a
/// free general need, else has no place.
pub fn map_needs(assignments: &[Assignment], new: &[CrewType]) -> Vec<Option<(usize, bool)>> {
    let mut taken = vec![false; new.len()];
    let mut out = vec![None; assignments.len()];
    for (k, a) in assignments.iter().enumerate().filter(|(_, a)| !a.interim) {
        if let Some(j) = (0..new.len()).find(|&j| !taken[j] && new[j] == a.need) {
            taken[j] = true;
            out[k] = Some((j, false));
        }
    }
    for (k, a) in assignments.iter().enumerate().filter(|(_, a)| a.interim) {
        if let Some(j) = (0..new.len()).find(|&j| !taken[j] && new[j] == a.need) {
            out[k] = Some((j, true));
        } else if let Some(j) = (0..new.len()).find(|&j| !taken[j] && new[j] == CrewType::General) {
            taken[j] = true;
            out[k] = Some((j, false));
        }
    }
    out
}

/// A call as the dispatcher knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Call {
    /// Its id.
    pub id: CallId,
    /// Where, as given.
    pub position: Position,
    /// That position snapped to the road network (what ETAs go to).
    #[serde(skip, default = "crate::serde_util::not_on_road")]
    pub snapped: Snapped,
    /// How urgent.
    pub priority: Priority,
    /// The crews it needs, one entry per crew.
    pub needs: Vec<CrewType>,
    /// The chief complaint.
    pub complaint: String,
    /// The address.
    pub address: String,
    /// The address in its parts, when the call taker confirmed one.
    pub place: Option<Place>,
    /// The caller's phone number.
    pub phone: Option<String>,
    /// The dispatcher's notes (re-triage, directions).
    pub notes: String,
    /// Where it stands.
    pub status: CallStatus,
    /// Other callers about the same patient, linked to this call, in order.
    pub linked: Vec<LinkedReport>,
    /// The call was handed back (its crew broke down, was removed, cut off by a closure
    /// or diverted to an emergency): it heads its priority's queue until a crew is sent.
    pub handed_back: bool,
    /// Needs dropped without a crew because the patient left the scene or the call closed
    /// (indices into `needs`); they are no longer pending.
    pub dropped_needs: Vec<usize>,
    /// The crews sent (released crews are removed; their history is in `decisions`).
    pub assignments: Vec<Assignment>,
    /// Its timeline.
    pub times: CallTimes,
    /// Every assignment decision made for it, in order.
    pub decisions: Vec<Decision>,
}

impl Call {
    /// Whether need `i` is filled by a (non-interim) crew, working or done.
    pub fn need_filled(&self, i: usize) -> bool {
        self.assignments
            .iter()
            .any(|a| a.need_index == i && !a.interim)
    }

    /// Indices of the needs no crew fills yet and not dropped (empty for a closed call).
    pub fn pending_needs(&self) -> Vec<usize> {
        if self.status.is_closed() {
            return Vec::new();
        }
        (0..self.needs.len())
            .filter(|&i| !self.need_filled(i) && !self.dropped_needs.contains(&i))
            .collect()
    }

    /// Whether a need is still pending (see [`Call::pending_needs`]), without allocating.
    pub fn has_pending_needs(&self) -> bool {
        !self.status.is_closed()
            && (0..self.needs.len())
                .any(|i| !self.need_filled(i) && !self.dropped_needs.contains(&i))
    }

    /// The assignments whose crews still work on the call.
    pub fn active_assignments(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(|a| a.finished_at.is_none())
    }

    /// The active assignment of a crew.
    pub fn assignment_of(&self, crew_id: &str) -> Option<&Assignment> {
        self.active_assignments().find(|a| a.crew_id == crew_id)
    }

    /// The received time (set at creation, so always present).
    pub fn received(&self) -> i64 {
        self.times.received.unwrap_or(i64::MIN)
    }

    /// The queue order key: priority, then handed-back calls first, then age, then id.
    pub fn queue_key(&self) -> (Priority, bool, i64, CallId) {
        (self.priority, !self.handed_back, self.received(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_orders_emergency_first() {
        let mut p = vec![Priority::NonUrgent, Priority::Emergency, Priority::Urgent];
        p.sort();
        assert_eq!(
            p,
            vec![Priority::Emergency, Priority::Urgent, Priority::NonUrgent]
        );
    }

    #[test]
    fn times_intervals() {
        let t = CallTimes {
            received: Some(1_000),
            assigned: Some(4_000),
            on_scene: Some(301_000),
            ..Default::default()
        };
        assert_eq!(t.queue_ms(), Some(3_000));
        assert_eq!(t.response_ms(), Some(300_000));
        assert_eq!(CallTimes::default().response_ms(), None);
    }

    #[test]
    fn new_call_defaults_from_json() {
        let c: NewCall =
            serde_json::from_str(r#"{"lat": 55.75, "lon": 37.6, "priority": "non_urgent"}"#)
                .unwrap();
        assert_eq!(c.priority, Priority::NonUrgent);
        assert!(c.needs.is_empty());
        assert_eq!(c.id, None);
        assert_eq!(serde_json::to_string(&CallId(7)).unwrap(), "7");
    }
}
