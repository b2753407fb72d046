//! The [`Dispatcher`]: the state of crews, calls and hospitals, and every operation on it.
//!
//! Each operation takes `now` (Unix ms), either changes the state and returns the events
//! it caused, in order, or returns an error and changes nothing. The dispatcher never reads
//! the clock and does no I/O; the same operations always give the same events.
//!
//! The rules, one module each: `decide` (a call's pending needs), `interim`, `queue`,
//! `reassign`, `divert`, `handback` (breakdowns, cut-off crews, needs that end with the scene); the
//! operations in `crews` and `calls`; restart recovery in `replay`.
//!
//! # Rules
//!
//! * **New call.** Its needs are filled specialist needs first, then general ones, each by
//!   the able, available crew the policy picks (by default the smallest exact road ETA,
//!   ties to the lowest crew id). Needs left over queue the call.
//! * **Diversion.** An emergency (new, upgraded or handed back) may take a crew on its way
//!   to an urgent or non-urgent call instead, when that crew arrives at least
//!   [`DispatchConfig::divert_gain_ms`] sooner than the best available crew, or none is
//!   available; the other call is handed back. On by default ([`DispatchConfig::diversion`]).
//! * **Interim crew.** An emergency with a specialist need also gets the nearest general
//!   crew at once when no crew of the call would arrive within
//!   [`DispatchConfig::reassign_gain_ms`] of that general crew (the specialist is far, or
//!   none is free) — if [`DispatchConfig::interim_general_for_specialist`] is on. The interim
//!   crew does not fill the specialist need.
//! * **Queue.** Calls with needs left, by priority, then calls handed back (see
//!   *Breakdown*, *Diversion*), then age (received), then id. A crew that becomes available
//!   (added, back in service, finished, released) takes the queued call of highest priority
//!   it can serve and reach, handed-back calls first, then the oldest
//!   ([`crate::QueueOrder::Age`], the default: first come, first served) or the one it
//!   reaches soonest, ties oldest ([`crate::QueueOrder::EtaWeighted`]); on a call it fills the
//!   most specific need it can (its own type before a substitution).
//! * **Re-assignment.** Otherwise that crew takes over the emergency whose responding
//!   (dispatched or en route) crew it beats by the largest margin, if that margin is at
//!   least `reassign_gain_ms` (and positive); the released crew then goes through the same
//!   steps. Each hand-over strictly lowers the total ETA of responding crews, so this ends;
//!   crews are processed first come, first served.
//! * **Release.** A crew taken off a call while responding is told
//!   ([`Event::CrewReleased`]); the need it served is re-dispatched to another crew or
//!   queued. A crew stood down by its own status change (`dispatched|en_route →
//!   available`) is not offered that need again in the same step, though it may take it
//!   from the queue afterwards if no other crew can.
//! * **Breakdown, removal, cut off.** A crew that goes out of service or is removed on its
//!   way, on scene or transporting, or that a closure cuts off from its call
//!   ([`Dispatcher::check_routes`]), hands the call back ([`Event::CallHandedBack`], with
//!   why): it is decided again at once, to another crew or to the head of its priority's
//!   queue, keeping its timeline; after a breakdown in transport the next crew goes to where
//!   the broken-down crew stands.
//! * **Needs end with the scene.** When a crew starts transporting, crews still on their
//!   way are released and the needs left without a crew dropped ([`Event::NeedsDropped`]):
//!   no specialist is sent to an empty scene.
//! * **Completion.** A crew that becomes available (or out of service at the hospital)
//!   after reaching the scene has finished its part; when no crew works on a call any more,
//!   its needs still unfilled are dropped (the crews on scene judged them unneeded) and it is
//!   completed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use foldhash::fast::FixedState;
use router::{EtaIndex, Router, Snapped};

use crate::assign::{CrewTree, SpeedBound};
use crate::call::{Call, CallId, CallStatus, Priority};
use crate::crew::{Crew, CrewStatus, CrewType};
use crate::error::DispatchError;
use crate::event::Event;
use crate::hospital::{Capability, Hospital};
use crate::policy::{DispatchConfig, Policy};

mod calls;
mod crews;
mod decide;
mod divert;
mod duplicates;
mod edit;

pub use duplicates::PossibleDuplicate;
mod handback;
mod interim;
mod queue;
mod reassign;
mod replay;
mod shifts;
mod snapshot;
pub use snapshot::{GraphStamp, Snapshot, SNAPSHOT_FORMAT};

/// Result of an operation: the events it caused.
pub type Outcome = Result<Vec<Event>, DispatchError>;

/// The dispatch state machine over one road network.
#[derive(Debug)]
pub struct Dispatcher {
    pub(crate) router: Arc<Router>,
    pub(crate) config: DispatchConfig,
    /// Crews by slot (the slot is their index in `crew_etas`).
    pub(crate) crews: Vec<Option<Crew>>,
    /// Slot of each crew id (hashed: looked up by every crew operation).
    pub(crate) crew_slot: HashMap<String, u32, FixedState>,
    free_slots: BTreeSet<u32>,
    /// The available crews' positions, for many-to-one ETAs (only available crews are
    /// candidates; the ETA of a busy crew is computed one to one, see
    /// [`Dispatcher::crew_eta`]). Keeping busy crews out keeps the buckets small and spares
    /// recomputing the search space of every responding crew that reports its position.
    pub(crate) crew_etas: EtaIndex,
    /// Positions of the available crews (projected snapped points).
    pub(crate) available: CrewTree,
    /// The available crews with a shift end, by that time (see `shifts`).
    pub(crate) shift_ends: BTreeSet<(i64, u32)>,
    pub(crate) speed: SpeedBound,
    calls: BTreeMap<CallId, Call>,
    /// The calls not closed (completed or cancelled), so that the queue and re-assignment
    /// rules look at open calls only, however many closed ones are kept.
    open: BTreeSet<CallId>,
    /// How many closed calls are held, by status and priority (kept by
    /// [`Dispatcher::replay`] and [`Dispatcher::take_closed_call`]), so that counting the
    /// calls by status walks the open calls only.
    closed: BTreeMap<(CallStatus, Priority), u64>,
    /// The open calls with a need no crew fills (a superset of the queue: what a freed crew
    /// looks at), kept by [`Dispatcher::replay`].
    waiting: BTreeSet<CallId>,
    /// The open emergencies that may have a responding crew (what re-assignment looks at):
    /// an active assignment, and the status `assigned`/`en_route` or a second active
    /// assignment; kept by [`Dispatcher::replay`].
    contested: BTreeSet<CallId>,
    /// By crew slot: the ETA (ms, `u32::MAX` unreachable) of the crew to a call it
    /// responds to, with the call and the weights version it was computed for; dropped by
    /// any event of that crew (a move, a status change). Re-assignment compares it with a
    /// free crew's each time a crew comes free, while responding crews report every so often.
    responding_eta: Vec<Option<(CallId, u64, u32)>>,
    next_call_id: u64,
    hospitals: Vec<Hospital>,
    hospital_slot: BTreeMap<String, u32>,
    hospital_etas: EtaIndex,
}

/// Maps a crew status to the call status it stands for.
fn call_stage(s: CrewStatus) -> Option<CallStatus> {
    match s {
        CrewStatus::Dispatched => Some(CallStatus::Assigned),
        CrewStatus::EnRoute => Some(CallStatus::EnRoute),
        CrewStatus::OnScene => Some(CallStatus::OnScene),
        CrewStatus::Transporting => Some(CallStatus::Transporting),
        CrewStatus::AtHospital => Some(CallStatus::AtHospital),
        CrewStatus::Available | CrewStatus::OutOfService | CrewStatus::OffDuty => None,
    }
}

/// The need indices of a call in the order they are filled: specialist needs first.
fn fill_order(call: &Call, pending: &[usize]) -> Vec<usize> {
    let mut order = pending.to_vec();
    order.sort_by_key(|&i| (!call.needs[i].is_specialist(), i));
    order
}

/// The need of `call` (among `pending`) a crew of type `t` fills: its own type first, then
/// a substitution.
fn need_for(call: &Call, pending: &[usize], t: CrewType) -> Option<usize> {
    pending
        .iter()
        .copied()
        .find(|&i| call.needs[i] == t)
        .or_else(|| {
            pending
                .iter()
                .copied()
                .find(|&i| t.can_serve(call.needs[i]))
        })
}

impl Dispatcher {
    /// A dispatcher with no crews, calls or hospitals.
    pub fn new(router: Arc<Router>, config: DispatchConfig) -> Dispatcher {
        Dispatcher {
            crew_etas: EtaIndex::many_to_one(&router),
            hospital_etas: EtaIndex::one_to_many(&router),
            speed: SpeedBound::new(&router),
            router,
            config,
            crews: Vec::new(),
            crew_slot: HashMap::default(),
            free_slots: BTreeSet::new(),
            available: CrewTree::new(config.policy == Policy::StraightLine),
            shift_ends: BTreeSet::new(),
            calls: BTreeMap::new(),
            open: BTreeSet::new(),
            closed: BTreeMap::new(),
            waiting: BTreeSet::new(),
            contested: BTreeSet::new(),
            responding_eta: Vec::new(),
            next_call_id: 1,
            hospitals: Vec::new(),
            hospital_slot: BTreeMap::new(),
        }
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The settings.
    pub fn config(&self) -> DispatchConfig {
        self.config
    }

    // ----- queries -----

    /// A crew.
    pub fn crew(&self, id: &str) -> Option<&Crew> {
        let slot = *self.crew_slot.get(id)?;
        self.crews[slot as usize].as_ref()
    }

    /// Every crew, by id.
    pub fn crews(&self) -> impl Iterator<Item = &Crew> + '_ {
        let mut all: Vec<&Crew> = self.crews.iter().flatten().collect();
        all.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        all.into_iter()
    }

    /// A call.
    pub fn call(&self, id: CallId) -> Option<&Call> {
        self.calls.get(&id)
    }

    /// Every call (open and closed), by id.
    pub fn calls(&self) -> impl Iterator<Item = &Call> + '_ {
        self.calls.values()
    }

    /// The calls with an id above `after` (open and closed), by id: a page of calls starts
    /// where the last one ended without walking the calls before it.
    pub fn calls_after(&self, after: CallId) -> impl Iterator<Item = &Call> + '_ {
        use std::ops::Bound::{Excluded, Unbounded};
        self.calls
            .range((Excluded(after), Unbounded))
            .map(|(_, c)| c)
    }

    /// The open calls (neither completed nor cancelled), by id.
    pub fn open_calls(&self) -> impl Iterator<Item = &Call> + '_ {
        self.open.iter().filter_map(|id| self.calls.get(id))
    }

    /// Removes a closed (completed or cancelled) call from the state and returns it; `None`
    /// for an unknown or open call. Nothing the dispatcher decides depends on closed calls,
    /// so this changes no later decision; it keeps memory flat over long runs (the call
    /// simulator archives each call once it is completed). The service keeps its calls.
    /// Call ids stay used: [`Dispatcher::new_call`] keeps numbering past the highest id
    /// ever seen.
    pub fn take_closed_call(&mut self, id: CallId) -> Option<Call> {
        if !self.calls.get(&id)?.status.is_closed() {
            return None;
        }
        self.count_closed(id, -1);
        self.calls.remove(&id)
    }

    /// The closed calls closed before `t` (Unix ms), by id: what a service that keeps closed
    /// calls for a while drops with [`Dispatcher::take_closed_call`]. A call closed before
    /// its closing time was kept counts as closed when it was received.
    pub fn closed_before(&self, t: i64) -> Vec<CallId> {
        self.calls
            .values()
            .filter(|c| c.status.is_closed())
            .filter(|c| c.times.closed.or(c.times.received).unwrap_or(i64::MIN) < t)
            .map(|c| c.id)
            .collect()
    }

    /// How many calls are held in each status, by priority: the open calls counted one by
    /// one, the closed ones from running counts (so the cost is that of the open calls,
    /// however many closed calls are held). Pairs with no call are left out.
    pub fn call_counts(&self) -> BTreeMap<(CallStatus, Priority), u64> {
        let mut counts = self.closed.clone();
        counts.retain(|_, n| *n > 0);
        for c in self.open_calls() {
            *counts.entry((c.status, c.priority)).or_default() += 1;
        }
        counts
    }

    /// Adds `delta` to the running count of call `id`'s status and priority, if it is closed.
    pub(crate) fn count_closed(&mut self, id: CallId, delta: i64) {
        if let Some(c) = self.calls.get(&id).filter(|c| c.status.is_closed()) {
            let n = self.closed.entry((c.status, c.priority)).or_default();
            *n = n.saturating_add_signed(delta);
        }
    }

    /// The calls waiting for at least one crew, in queue order: priority, then age, then id.
    pub fn queue(&self) -> Vec<&Call> {
        let mut q: Vec<&Call> = self
            .waiting
            .iter()
            .filter_map(|id| self.calls.get(id))
            .filter(|c| !c.pending_needs().is_empty())
            .collect();
        q.sort_by_key(|c| c.queue_key());
        q
    }

    /// A hospital.
    pub fn hospital(&self, id: &str) -> Option<&Hospital> {
        self.hospitals.get(*self.hospital_slot.get(id)? as usize)
    }

    /// Every hospital, by id.
    pub fn hospitals(&self) -> impl Iterator<Item = &Hospital> + '_ {
        self.hospital_slot
            .values()
            .map(|&s| &self.hospitals[s as usize])
    }

    /// The hospital with `capability` the crew reaches soonest from where it is, and the ETA
    /// (ms); equal ETAs go to the lowest hospital id. `Ok(None)`: no capable hospital is
    /// reachable.
    pub fn hospital_for(
        &mut self,
        crew_id: &str,
        capability: Capability,
    ) -> Result<Option<(String, u32)>, DispatchError> {
        let slot = self.slot_of(crew_id)?;
        let from = self.crews[slot as usize].as_ref().map(|c| c.snapped);
        let Some(from) = from else {
            return Err(DispatchError::UnknownCrew(crew_id.to_string()));
        };
        // The capable hospitals at the best ETA (all of them when several tie).
        let hospitals = &self.hospitals;
        let capable = |i: u32| hospitals.get(i as usize).is_some_and(|h| h.can(capability));
        let etas = self
            .hospital_etas
            .best_etas(&self.router, &from, 1, capable, &[]);
        Ok(etas
            .into_iter()
            .map(|(i, eta)| (eta, &self.hospitals[i as usize].id))
            .min()
            .map(|(eta, id)| (id.clone(), eta)))
    }

    /// The road ETA (ms) of a crew to a call from where the crew is now.
    pub fn eta(&self, crew_id: &str, call_id: CallId) -> Result<Option<u32>, DispatchError> {
        let crew = self
            .crew(crew_id)
            .ok_or_else(|| DispatchError::UnknownCrew(crew_id.to_string()))?;
        let call = self
            .calls
            .get(&call_id)
            .ok_or(DispatchError::UnknownCall(call_id))?;
        Ok(self.router.eta(&crew.snapped, &call.snapped))
    }

    // ----- internals -----

    pub(crate) fn snap(&self, lat: f64, lon: f64) -> Result<Snapped, DispatchError> {
        self.router.snap(lat, lon).map_err(DispatchError::OffMap)
    }

    pub(crate) fn slot_of(&self, id: &str) -> Result<u32, DispatchError> {
        self.crew_slot
            .get(id)
            .copied()
            .ok_or_else(|| DispatchError::UnknownCrew(id.to_string()))
    }

    pub(crate) fn crew_at(&self, slot: u32) -> &Crew {
        self.crews[slot as usize]
            .as_ref()
            .expect("a slot in use holds a crew")
    }

    pub(crate) fn crew_mut(&mut self, slot: u32) -> &mut Crew {
        self.crews[slot as usize]
            .as_mut()
            .expect("a slot in use holds a crew")
    }

    pub(crate) fn call_mut(&mut self, id: CallId) -> &mut Call {
        self.calls.get_mut(&id).expect("a known call")
    }

    pub(crate) fn known_call(&self, id: CallId) -> Result<&Call, DispatchError> {
        self.calls.get(&id).ok_or(DispatchError::UnknownCall(id))
    }

    pub(crate) fn open_call(&self, id: CallId) -> Result<&Call, DispatchError> {
        let call = self.calls.get(&id).ok_or(DispatchError::UnknownCall(id))?;
        if call.status.is_closed() {
            return Err(DispatchError::CallClosed {
                call: id,
                status: call.status,
            });
        }
        Ok(call)
    }

    pub(crate) fn is_responding(&self, crew_id: &str) -> bool {
        self.crew(crew_id).is_some_and(|c| c.status.is_responding())
    }

    /// Applies an event the live path decided on (it fits the state by construction) and
    /// records it.
    pub(crate) fn emit(&mut self, event: Event, events: &mut Vec<Event>) {
        self.emit_near(event, None, events);
    }

    /// [`Dispatcher::emit`] with the point on the road of the event's position given (see
    /// `replay_near`).
    pub(crate) fn emit_near(
        &mut self,
        event: Event,
        near: Option<&Snapped>,
        events: &mut Vec<Event>,
    ) {
        if let Err(e) = self.replay_near(&event, near) {
            // A bug: the live path only emits events that fit the state.
            panic!("a live event does not apply ({e}): {event:?}");
        }
        events.push(event);
    }

    /// Changes a crew's status (its call's timeline follows, see `replay_crew_status`).
    pub(crate) fn set_status(
        &mut self,
        slot: u32,
        to: CrewStatus,
        now: i64,
        events: &mut Vec<Event>,
    ) {
        let crew = self.crew_at(slot);
        if crew.status == to {
            return;
        }
        let event = Event::CrewStatus {
            crew_id: crew.id.clone(),
            from: crew.status,
            to,
            at: now,
        };
        self.emit(event, events);
    }

    /// Attaches an available crew to a call (the event is the `call_assigned` or
    /// `call_reassigned` of the decision) and dispatches it.
    pub(crate) fn attach(&mut self, slot: u32, event: Event, now: i64, events: &mut Vec<Event>) {
        let call_id = event.call_id().expect("an assignment event");
        self.emit(event, events);
        self.set_status(slot, CrewStatus::Dispatched, now, events);
        self.refresh_call_status(call_id, now, events);
    }

    /// Takes a crew off a call it responds to (the assignment is dropped, the crew told);
    /// its status is left to the caller.
    pub(crate) fn detach(&mut self, call_id: CallId, slot: u32, now: i64, events: &mut Vec<Event>) {
        let crew_id = self.crew_at(slot).id.clone();
        self.emit(Event::CrewReleased { crew_id, call_id }, events);
        self.refresh_call_status(call_id, now, events);
    }

    /// Brings a call's status in line with its crews.
    pub(crate) fn refresh_call_status(
        &mut self,
        call_id: CallId,
        now: i64,
        events: &mut Vec<Event>,
    ) {
        let call = &self.calls[&call_id];
        if call.status.is_closed() {
            return;
        }
        let stage = call
            .active_assignments()
            .filter_map(|a| call_stage(self.crew(&a.crew_id)?.status))
            .max();
        let status = match stage {
            Some(s) => s,
            // Every crew that worked on it has finished and nothing is left to send.
            None if !call.has_pending_needs()
                && call.assignments.iter().any(|a| a.finished_at.is_some()) =>
            {
                CallStatus::Completed
            }
            None => CallStatus::Queued,
        };
        if status != call.status {
            self.emit(
                Event::CallStatus {
                    call_id,
                    status,
                    at: now,
                },
                events,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{CallTimes, Priority};
    use crate::crew::Position;

    #[test]
    fn dispatcher_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Dispatcher>();
        send_sync::<Event>();
        send_sync::<DispatchError>();
    }

    #[test]
    fn specialists_are_filled_first_and_own_type_before_substitution() {
        let here = osm_data::Coord::default();
        let call = Call {
            id: CallId(1),
            position: Position { lat: 0.0, lon: 0.0 },
            snapped: Snapped {
                segment: 0,
                fraction: 0.0,
                point: here,
                distance_m: 0.0,
                input: here,
            },
            priority: Priority::Emergency,
            needs: vec![
                CrewType::General,
                CrewType::Paediatric,
                CrewType::General,
                CrewType::Resuscitation,
            ],
            complaint: String::new(),
            address: String::new(),
            place: None,
            phone: None,
            notes: String::new(),
            status: CallStatus::Queued,
            linked: Vec::new(),
            handed_back: false,
            dropped_needs: Vec::new(),
            assignments: Vec::new(),
            times: CallTimes::default(),
            decisions: Vec::new(),
        };
        let all = call.pending_needs();
        assert_eq!(fill_order(&call, &all), [1, 3, 0, 2]);
        assert_eq!(need_for(&call, &all, CrewType::Resuscitation), Some(3));
        assert_eq!(need_for(&call, &[0, 2], CrewType::Resuscitation), Some(0));
        assert_eq!(need_for(&call, &all, CrewType::General), Some(0));
        assert_eq!(need_for(&call, &[1, 3], CrewType::General), None);
        assert_eq!(need_for(&call, &all, CrewType::Psychiatric), None);
    }
}
