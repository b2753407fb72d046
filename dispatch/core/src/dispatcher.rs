//! The [`Dispatcher`]: the state of crews, calls and hospitals, and every operation on it.
//!
//! Each operation takes `now` (Unix ms), either changes the state and returns the events
//! it caused, in order, or returns an error and changes nothing. The dispatcher never reads
//! the clock and does no I/O; the same operations always give the same events.
//!
//! # Rules
//!
//! * **New call.** Its needs are filled specialist needs first, then general ones, each by
//!   the able, available crew the policy picks (by default the smallest exact road ETA,
//!   ties to the lowest crew id). Needs left over queue the call.
//! * **Interim crew.** An emergency with a specialist need also gets the nearest general
//!   crew at once when no crew of the call would arrive within
//!   [`DispatchConfig::reassign_gain_ms`] of that general crew (the specialist is far, or
//!   none is free) — if [`DispatchConfig::interim_general_for_specialist`] is on. The interim
//!   crew does not fill the specialist need.
//! * **Queue.** Calls with needs left, by priority, then age (received), then id. A crew
//!   that becomes available (added, back in service, finished, released) takes the queued
//!   call of highest priority it can serve, among equal priorities the one it reaches
//!   soonest by road, ties oldest; on a call it fills the most specific need it can (its own
//!   type before a substitution).
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
//! * **Completion.** A crew that becomes available (or out of service) after reaching the
//!   scene has finished its part; when no crew works on a call any more, it is completed
//!   (needs still unfilled are dropped: the crews on scene judged them unneeded).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use foldhash::fast::FixedState;
use router::{EtaIndex, Router, Snapped};

use crate::assign::{CrewEtas, CrewTree, Role, SpeedBound};
use crate::call::{Assignment, Call, CallId, CallStatus, CallTimes, NewCall, Priority};
use crate::crew::{can_transition, Crew, CrewStatus, CrewType, NewCrew, Position};
use crate::error::DispatchError;
use crate::event::Event;
use crate::hospital::{Capability, Hospital, NewHospital};
use crate::policy::{Candidate, Decision, DecisionReason, DispatchConfig, Policy};

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
    pub(crate) speed: SpeedBound,
    calls: BTreeMap<CallId, Call>,
    /// The calls not closed (completed or cancelled), so that the queue and re-assignment
    /// rules look at open calls only, however many closed ones are kept.
    open: BTreeSet<CallId>,
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

/// How a free crew ranks queued calls: priority, its ETA, age, id.
type PickKey = (Priority, u32, i64, CallId);

/// A possible hand-over of a call to a crew that came free.
struct Takeover {
    /// How much sooner the new crew arrives (ms).
    gain: u32,
    call_id: CallId,
    /// The crew on its way now, and its assignment.
    prev_slot: u32,
    prev: Assignment,
    candidates: Vec<Candidate>,
    /// The new crew's ETA.
    eta: u32,
}

/// Maps a crew status to the call status it stands for.
fn call_stage(s: CrewStatus) -> Option<CallStatus> {
    match s {
        CrewStatus::Dispatched => Some(CallStatus::Assigned),
        CrewStatus::EnRoute => Some(CallStatus::EnRoute),
        CrewStatus::OnScene => Some(CallStatus::OnScene),
        CrewStatus::Transporting => Some(CallStatus::Transporting),
        CrewStatus::AtHospital => Some(CallStatus::AtHospital),
        CrewStatus::Available | CrewStatus::OutOfService => None,
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
            calls: BTreeMap::new(),
            open: BTreeSet::new(),
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
        self.calls.remove(&id)
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

    // ----- hospitals -----

    /// Adds a hospital (its entrance snapped to the roads).
    pub fn add_hospital(&mut self, h: NewHospital, _now: i64) -> Outcome {
        let event = Event::HospitalAdded {
            hospital_id: h.id,
            name: h.name,
            lat: h.lat,
            lon: h.lon,
            capabilities: h.capabilities,
        };
        self.replay(&event)?;
        Ok(vec![event])
    }

    // ----- crews -----

    /// Adds a crew, available at once: it may take a queued call or take over an emergency.
    pub fn add_crew(&mut self, c: NewCrew, now: i64) -> Outcome {
        let event = Event::CrewAdded {
            crew_id: c.id.clone(),
            crew_type: c.crew_type,
            station: c.station,
            lat: c.lat,
            lon: c.lon,
        };
        self.replay(&event)?;
        let slot = self.crew_slot[&c.id];
        let mut events = vec![event];
        self.settle(VecDeque::from([slot]), now, &mut events);
        Ok(events)
    }

    /// Takes a crew off the roster. A crew on a call first goes out of service (its call is
    /// re-dispatched if it was still on its way).
    pub fn remove_crew(&mut self, id: &str, now: i64) -> Outcome {
        let slot = self.slot_of(id)?;
        let mut events = Vec::new();
        if self.crew_at(slot).status != CrewStatus::OutOfService {
            events = self.set_crew_status(id, CrewStatus::OutOfService, now)?;
        }
        self.emit(
            Event::CrewRemoved {
                crew_id: id.to_string(),
            },
            &mut events,
        );
        Ok(events)
    }

    /// A crew reports its position.
    pub fn move_crew(&mut self, id: &str, lat: f64, lon: f64, _now: i64) -> Outcome {
        let event = Event::CrewMoved {
            crew_id: id.to_string(),
            lat,
            lon,
        };
        self.replay(&event)?;
        Ok(vec![event])
    }

    /// [`Dispatcher::move_crew`] for a position already on the road (a simulated crew on its
    /// route knows its segment and fraction exactly): the same event, at the point's
    /// coordinates, with no snapping.
    pub fn move_crew_on_road(&mut self, id: &str, at: &Snapped, _now: i64) -> Outcome {
        let event = Event::CrewMoved {
            crew_id: id.to_string(),
            lat: at.point.lat(),
            lon: at.point.lon(),
        };
        self.replay_near(&event, Some(at))?;
        Ok(vec![event])
    }

    /// A crew's status changes (as reported by the crew or set by the dispatcher); its call
    /// follows. `dispatched` is refused: crews are dispatched by assignment.
    pub fn set_crew_status(&mut self, id: &str, to: CrewStatus, now: i64) -> Outcome {
        let slot = self.slot_of(id)?;
        let (from, call) = {
            let c = self.crew_at(slot);
            (c.status, c.call)
        };
        if !can_transition(from, to) {
            return Err(DispatchError::IllegalTransition {
                crew: id.to_string(),
                from,
                to,
            });
        }
        if to == CrewStatus::Dispatched {
            return Err(DispatchError::DispatchWithoutCall(id.to_string()));
        }
        let mut events = Vec::new();
        match (call, to) {
            (Some(call_id), CrewStatus::Available | CrewStatus::OutOfService)
                if from.is_responding() =>
            {
                // Stood down or out of service on the way: the need goes to another crew.
                self.detach(call_id, slot, now, &mut events);
                self.dispatch_pending(call_id, now, &mut events);
                self.set_status(slot, to, now, &mut events);
            }
            (Some(call_id), _) => {
                // Its part is done (on scene or at the hospital), or it progresses: the
                // status event carries the call's timeline (see `replay_crew_status`).
                self.set_status(slot, to, now, &mut events);
                self.refresh_call_status(call_id, now, &mut events);
            }
            (None, _) => self.set_status(slot, to, now, &mut events),
        }
        if to == CrewStatus::Available {
            self.settle(VecDeque::from([slot]), now, &mut events);
        }
        Ok(events)
    }

    // ----- calls -----

    /// Enters a call: snaps its position (off the map is an error), then assigns crews or
    /// queues it. Its id is in the first event ([`Event::CallCreated`]).
    pub fn new_call(&mut self, nc: NewCall, now: i64) -> Outcome {
        self.new_call_near(nc, None, now)
    }

    /// [`Dispatcher::new_call`] with the call's point on the road already known: `at` must
    /// be what the router's `snap` returns for the call's coordinates (a simulator snaps
    /// its calls ahead, on another thread).
    pub fn new_call_on_road(&mut self, nc: NewCall, at: &Snapped, now: i64) -> Outcome {
        self.new_call_near(nc, Some(at), now)
    }

    fn new_call_near(&mut self, nc: NewCall, near: Option<&Snapped>, now: i64) -> Outcome {
        let id = nc.id.unwrap_or(CallId(self.next_call_id));
        let needs = if nc.needs.is_empty() {
            vec![CrewType::General]
        } else {
            nc.needs
        };
        let event = Event::CallCreated {
            call_id: id,
            priority: nc.priority,
            needs,
            lat: nc.lat,
            lon: nc.lon,
            complaint: nc.complaint,
            address: nc.address,
            phone: nc.phone,
            received: nc.received.unwrap_or(now),
        };
        self.replay_near(&event, near)?;
        let mut events = vec![event];
        self.dispatch_pending(id, now, &mut events);
        Ok(events)
    }

    /// The dispatcher sends this crew to this call. The crew must be available or on its
    /// way to another call (it is then diverted and that call re-dispatched), and able to
    /// serve one of the call's needs: a need without a crew if there is one, else the need
    /// whose crew is still on its way (that crew is released and told). Its own type comes
    /// before a substitution.
    pub fn assign_override(&mut self, call_id: CallId, crew_id: &str, now: i64) -> Outcome {
        let slot = self.slot_of(crew_id)?;
        let call = self.open_call(call_id)?;
        let (status, crew_type, other_call) = {
            let c = self.crew_at(slot);
            (c.status, c.crew_type, c.call)
        };
        if other_call == Some(call_id) {
            return Err(DispatchError::AlreadyAssigned {
                crew: crew_id.to_string(),
                call: call_id,
            });
        }
        if !(status == CrewStatus::Available || status.is_responding()) {
            return Err(DispatchError::CrewNotAvailable {
                crew: crew_id.to_string(),
                status,
            });
        }
        // Which need, and whose place it takes.
        let pending = call.pending_needs();
        let (need_index, previous) = match need_for(call, &pending, crew_type) {
            Some(i) => (i, None),
            None => {
                let replaceable: Vec<usize> = call
                    .active_assignments()
                    .filter(|a| !a.interim && self.is_responding(&a.crew_id))
                    .map(|a| a.need_index)
                    .collect();
                match need_for(call, &replaceable, crew_type) {
                    Some(i) => {
                        let prev = call
                            .active_assignments()
                            .find(|a| !a.interim && a.need_index == i)
                            .map(|a| a.crew_id.clone());
                        (i, prev)
                    }
                    None => {
                        return Err(DispatchError::CrewNotAble {
                            crew: crew_id.to_string(),
                            crew_type,
                            call: call_id,
                            needs: call.needs.clone(),
                        })
                    }
                }
            }
        };
        let need = call.needs[need_index];
        let at = call.snapped;
        let etas = self.best_crew_etas_to(&at, Role::Need(need), &[slot]);
        let Some(eta) = self.crew_eta(slot, &at, &etas) else {
            return Err(DispatchError::Unreachable {
                crew: crew_id.to_string(),
                call: call_id,
            });
        };
        // No more refusals below.
        let candidates = self.candidates(&etas, Role::Need(need));
        let mut events = Vec::new();
        if let Some(other) = other_call {
            self.detach(other, slot, now, &mut events);
            self.set_status(slot, CrewStatus::Available, now, &mut events);
        }
        let mut freed = VecDeque::new();
        let decision = Decision {
            call_id,
            crew_id: crew_id.to_string(),
            need,
            need_index: Some(need_index),
            interim: false,
            eta_ms: eta,
            at: now,
            reason: DecisionReason::DispatcherOverride,
            candidates,
        };
        let event = match &previous {
            Some(prev) => Event::CallReassigned {
                from_crew: prev.clone(),
                to_crew: crew_id.to_string(),
                decision,
            },
            None => Event::CallAssigned { decision },
        };
        self.attach(slot, event, now, &mut events);
        if let Some(prev) = &previous {
            let prev_slot = self.crew_slot[prev];
            self.detach(call_id, prev_slot, now, &mut events);
            self.set_status(prev_slot, CrewStatus::Available, now, &mut events);
            freed.push_back(prev_slot);
        }
        if let Some(other) = other_call {
            self.dispatch_pending(other, now, &mut events);
        }
        self.settle(freed, now, &mut events);
        Ok(events)
    }

    /// Cancels a call no crew has reached yet; its crews are released (and may take queued
    /// calls).
    pub fn cancel_call(&mut self, call_id: CallId, now: i64) -> Outcome {
        let call = self.open_call(call_id)?;
        if call
            .active_assignments()
            .any(|a| !self.is_responding(&a.crew_id))
        {
            return Err(DispatchError::CallInProgress {
                call: call_id,
                status: call.status,
            });
        }
        let crews: Vec<u32> = call
            .active_assignments()
            .map(|a| self.crew_slot[&a.crew_id])
            .collect();
        let mut events = Vec::new();
        self.emit(Event::CallCancelled { call_id }, &mut events);
        self.emit(
            Event::CallStatus {
                call_id,
                status: CallStatus::Cancelled,
                at: now,
            },
            &mut events,
        );
        for &slot in &crews {
            self.detach(call_id, slot, now, &mut events);
            self.set_status(slot, CrewStatus::Available, now, &mut events);
        }
        self.settle(crews.into(), now, &mut events);
        Ok(events)
    }

    /// Records the patient handover at the hospital (any call but a cancelled one; a later
    /// record replaces an earlier one).
    pub fn handover_recorded(&mut self, call_id: CallId, now: i64) -> Outcome {
        let event = Event::HandoverRecorded { call_id, at: now };
        self.replay(&event)?;
        Ok(vec![event])
    }

    // ----- replay -----

    /// A dispatcher rebuilt from a log of the events its operations returned, in order (see
    /// [`Dispatcher::replay`]). Nothing is decided again, so the router's weights may differ
    /// from when the log was written. Stops at the first event that does not apply; replay
    /// one event at a time to know which.
    pub fn restore<'a>(
        router: Arc<Router>,
        config: DispatchConfig,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Dispatcher, DispatchError> {
        let mut d = Dispatcher::new(router, config);
        for event in events {
            d.replay(event)?;
        }
        Ok(d)
    }

    /// Applies one recorded event to the state, exactly as the operation that returned it
    /// did, without deciding anything: assignments are taken from the event's decision,
    /// and the effects an operation reported in further events (crew status changes,
    /// releases, call status changes) are applied when those events are replayed. Every
    /// live operation is its decision followed by the replay of the events it returns, so
    /// replaying a whole log rebuilds the same state, the call id counter included.
    ///
    /// Positions are snapped again with the router. An event that does not fit the state
    /// (an unknown crew or call, a duplicate, a status the crew is not in, ...) is an error
    /// and changes nothing.
    pub fn replay(&mut self, event: &Event) -> Result<(), DispatchError> {
        self.replay_near(event, None)
    }

    /// [`Dispatcher::replay`], with the point on the road of a new call or of a crew's new
    /// position given instead of snapped.
    fn replay_near(&mut self, event: &Event, near: Option<&Snapped>) -> Result<(), DispatchError> {
        // The call whose state the event may change, to keep the call indexes in step.
        let touched = match event {
            Event::CrewStatus { crew_id, .. } => self
                .crew_slot
                .get(crew_id.as_str())
                .and_then(|&s| self.crews[s as usize].as_ref()?.call),
            e => e.call_id(),
        };
        let crew = match event {
            Event::CrewAdded { crew_id, .. }
            | Event::CrewRemoved { crew_id }
            | Event::CrewStatus { crew_id, .. }
            | Event::CrewMoved { crew_id, .. }
            | Event::CrewReleased { crew_id, .. } => Some(crew_id.as_str()),
            _ => None,
        };
        let applied = self.apply_event(event, near);
        if let Some(id) = touched {
            self.reindex(id);
        }
        if let Some(slot) = crew.and_then(|c| self.crew_slot.get(c)) {
            if let Some(e) = self.responding_eta.get_mut(*slot as usize) {
                *e = None;
            }
        }
        applied
    }

    /// Brings the call indexes (`waiting`, `contested`) in line with a call's state.
    fn reindex(&mut self, id: CallId) {
        let (waiting, contested) = match self.calls.get(&id) {
            Some(c) if !c.status.is_closed() => (
                !(0..c.needs.len()).all(|i| c.need_filled(i)),
                c.priority == Priority::Emergency
                    && c.active_assignments().next().is_some()
                    && (matches!(c.status, CallStatus::Assigned | CallStatus::EnRoute)
                        || c.active_assignments().nth(1).is_some()),
            ),
            _ => (false, false),
        };
        if waiting {
            self.waiting.insert(id);
        } else {
            self.waiting.remove(&id);
        }
        if contested {
            self.contested.insert(id);
        } else {
            self.contested.remove(&id);
        }
    }

    /// [`Dispatcher::replay`] without the call indexes.
    fn apply_event(&mut self, event: &Event, near: Option<&Snapped>) -> Result<(), DispatchError> {
        match event {
            Event::CallCreated {
                call_id,
                priority,
                needs,
                lat,
                lon,
                complaint,
                address,
                phone,
                received,
            } => {
                let id = *call_id;
                if self.calls.contains_key(&id) {
                    return Err(DispatchError::DuplicateCall(id));
                }
                let snapped = match near {
                    Some(at) => *at,
                    None => self.snap(*lat, *lon)?,
                };
                let needs = if needs.is_empty() {
                    vec![CrewType::General]
                } else {
                    needs.clone()
                };
                self.calls.insert(
                    id,
                    Call {
                        id,
                        position: Position {
                            lat: *lat,
                            lon: *lon,
                        },
                        snapped,
                        priority: *priority,
                        needs,
                        complaint: complaint.clone(),
                        address: address.clone(),
                        phone: phone.clone(),
                        status: CallStatus::Queued,
                        assignments: Vec::new(),
                        times: CallTimes {
                            received: Some(*received),
                            ..Default::default()
                        },
                        decisions: Vec::new(),
                    },
                );
                self.open.insert(id);
                self.next_call_id = self.next_call_id.max(id.0.saturating_add(1));
            }
            Event::CallQueued { call_id, .. } => {
                self.known_call(*call_id)?;
            }
            Event::CallAssigned { decision } => self.replay_assignment(decision, None)?,
            Event::CallReassigned {
                from_crew,
                to_crew,
                decision,
            } => {
                if *to_crew != decision.crew_id {
                    return Err(DispatchError::Inconsistent(format!(
                        "call {} re-assigned to {to_crew:?} by a decision for {:?}",
                        decision.call_id, decision.crew_id
                    )));
                }
                self.replay_assignment(decision, Some(from_crew))?;
            }
            Event::CallCancelled { call_id } => {
                self.open_call(*call_id)?;
                self.call_mut(*call_id).status = CallStatus::Cancelled;
                self.open.remove(call_id);
            }
            Event::CallStatus {
                call_id,
                status,
                at,
            } => {
                let call = self
                    .calls
                    .get_mut(call_id)
                    .ok_or(DispatchError::UnknownCall(*call_id))?;
                call.status = *status;
                if *status == CallStatus::Completed {
                    call.times.crew_available = Some(*at);
                }
                if status.is_closed() {
                    self.open.remove(call_id);
                } else {
                    self.open.insert(*call_id);
                }
            }
            Event::HandoverRecorded { call_id, at } => {
                let call = self
                    .calls
                    .get_mut(call_id)
                    .ok_or(DispatchError::UnknownCall(*call_id))?;
                if call.status == CallStatus::Cancelled {
                    return Err(DispatchError::CallClosed {
                        call: *call_id,
                        status: call.status,
                    });
                }
                call.times.handover = Some(*at);
            }
            Event::CrewAdded {
                crew_id,
                crew_type,
                station,
                lat,
                lon,
            } => {
                if self.crew_slot.contains_key(crew_id) {
                    return Err(DispatchError::DuplicateCrew(crew_id.clone()));
                }
                let snapped = self.snap(*lat, *lon)?;
                let slot = match self.free_slots.pop_first() {
                    Some(s) => s,
                    None => {
                        self.crews.push(None);
                        (self.crews.len() - 1) as u32
                    }
                };
                let crew = Crew {
                    id: crew_id.clone(),
                    crew_type: *crew_type,
                    station: station.clone(),
                    position: Position {
                        lat: *lat,
                        lon: *lon,
                    },
                    snapped,
                    status: CrewStatus::Available,
                    call: None,
                };
                self.available.insert(&self.router, slot, snapped.point);
                self.crews[slot as usize] = Some(crew);
                self.crew_slot.insert(crew_id.clone(), slot);
                self.crew_etas.set(&self.router, slot, snapped);
            }
            Event::CrewRemoved { crew_id } => {
                let slot = self.slot_of(crew_id)?;
                let crew = self.crew_at(slot);
                if crew.status != CrewStatus::OutOfService || crew.call.is_some() {
                    return Err(DispatchError::Inconsistent(format!(
                        "crew {crew_id:?} removed while {} (a crew goes out of service first)",
                        crew.status
                    )));
                }
                self.crew_etas.remove(slot);
                self.crews[slot as usize] = None;
                self.crew_slot.remove(crew_id);
                self.free_slots.insert(slot);
            }
            Event::CrewStatus {
                crew_id,
                from,
                to,
                at,
            } => self.replay_crew_status(crew_id, *from, *to, *at)?,
            Event::CrewMoved { crew_id, lat, lon } => {
                let slot = self.slot_of(crew_id)?;
                let snapped = match near {
                    Some(at) => *at,
                    None => self.snap(*lat, *lon)?,
                };
                let old = self.crew_at(slot).snapped.point;
                let available = self.crew_at(slot).status == CrewStatus::Available;
                {
                    let crew = self.crew_mut(slot);
                    crew.position = Position {
                        lat: *lat,
                        lon: *lon,
                    };
                    crew.snapped = snapped;
                }
                if available {
                    self.available.remove(&self.router, slot, old);
                    self.available.insert(&self.router, slot, snapped.point);
                    self.crew_etas.set(&self.router, slot, snapped);
                }
            }
            Event::CrewReleased { crew_id, call_id } => {
                let slot = self.slot_of(crew_id)?;
                let call = self.known_call(*call_id)?;
                if self.crew_at(slot).call != Some(*call_id)
                    || call.assignment_of(crew_id).is_none()
                {
                    return Err(DispatchError::Inconsistent(format!(
                        "crew {crew_id:?} released from call {call_id} it does not work on"
                    )));
                }
                self.crew_mut(slot).call = None;
                self.call_mut(*call_id)
                    .assignments
                    .retain(|a| !(a.crew_id == *crew_id && a.finished_at.is_none()));
            }
            Event::HospitalAdded {
                hospital_id,
                name,
                lat,
                lon,
                capabilities,
            } => {
                if self.hospital_slot.contains_key(hospital_id) {
                    return Err(DispatchError::DuplicateHospital(hospital_id.clone()));
                }
                let snapped = self.snap(*lat, *lon)?;
                let slot = self.hospitals.len() as u32;
                self.hospital_etas.set(&self.router, slot, snapped);
                self.hospital_slot.insert(hospital_id.clone(), slot);
                self.hospitals.push(Hospital {
                    id: hospital_id.clone(),
                    name: name.clone(),
                    position: Position {
                        lat: *lat,
                        lon: *lon,
                    },
                    snapped,
                    capabilities: capabilities.clone(),
                });
            }
        }
        Ok(())
    }

    /// Replays an assignment decision: the crew (available, on no call) is attached to the
    /// call for the decided need. Its `dispatched` status and the call's status follow as
    /// their own events. `from` is the crew it replaces, for a re-assignment.
    fn replay_assignment(
        &mut self,
        decision: &Decision,
        from: Option<&str>,
    ) -> Result<(), DispatchError> {
        let slot = self.slot_of(&decision.crew_id)?;
        let call_id = decision.call_id;
        let call = self.open_call(call_id)?;
        let crew = self.crew_at(slot);
        if crew.call == Some(call_id) {
            return Err(DispatchError::AlreadyAssigned {
                crew: crew.id.clone(),
                call: call_id,
            });
        }
        if crew.status != CrewStatus::Available || crew.call.is_some() {
            return Err(DispatchError::CrewNotAvailable {
                crew: crew.id.clone(),
                status: crew.status,
            });
        }
        let replaced = match from {
            Some(f) => Some(call.assignment_of(f).cloned().ok_or_else(|| {
                DispatchError::Inconsistent(format!(
                    "call {call_id} re-assigned from {f:?}, which does not work on it"
                ))
            })?),
            None => None,
        };
        // Logs written before decisions carried their need index: the replaced crew's,
        // else the first pending need of that type, else the first need of that type.
        let need_index = decision
            .need_index
            .or_else(|| replaced.as_ref().map(|a| a.need_index))
            .or_else(|| {
                let pending = call.pending_needs();
                pending
                    .into_iter()
                    .find(|&i| call.needs[i] == decision.need)
            })
            .or_else(|| call.needs.iter().position(|&n| n == decision.need));
        let need_index = match need_index {
            Some(i) if call.needs.get(i) == Some(&decision.need) => i,
            _ => {
                return Err(DispatchError::Inconsistent(format!(
                    "call {call_id} has no need {} at {:?} for crew {:?}",
                    decision.need, decision.need_index, decision.crew_id
                )))
            }
        };
        let interim = decision.interim
            || decision.reason == DecisionReason::InterimGeneralCrew
            || (decision.need_index.is_none() && replaced.is_some_and(|a| a.interim));
        let at = decision.at;
        self.crew_mut(slot).call = Some(call_id);
        let call = self.call_mut(call_id);
        call.assignments.push(Assignment {
            crew_id: decision.crew_id.clone(),
            need: decision.need,
            need_index,
            interim,
            eta_ms: decision.eta_ms,
            decided_at: at,
            finished_at: None,
        });
        call.times.assigned.get_or_insert(at);
        call.times.crew_notified.get_or_insert(at);
        call.decisions.push(decision.clone());
        Ok(())
    }

    /// Replays a crew status change, keeping the R-tree of available crews in step. A crew
    /// still on a call carries its call's timeline: `en_route`, `on_scene`, `transporting`
    /// and `at_hospital` set the call's times when first reached; becoming available or
    /// out of service ends its part (a crew taken off a call on its way is released before,
    /// by [`Event::CrewReleased`]). The call's status follows as its own event.
    fn replay_crew_status(
        &mut self,
        crew_id: &str,
        from: CrewStatus,
        to: CrewStatus,
        at: i64,
    ) -> Result<(), DispatchError> {
        let slot = self.slot_of(crew_id)?;
        let crew = self.crew_at(slot);
        if crew.status != from || !can_transition(from, to) {
            return Err(DispatchError::IllegalTransition {
                crew: crew_id.to_string(),
                from: crew.status,
                to,
            });
        }
        let call = crew.call;
        match (call, to) {
            (None, CrewStatus::Dispatched) => {
                return Err(DispatchError::DispatchWithoutCall(crew_id.to_string()))
            }
            (Some(call_id), CrewStatus::Available | CrewStatus::OutOfService)
                if from.is_responding() =>
            {
                return Err(DispatchError::Inconsistent(format!(
                    "crew {crew_id:?} stood down from call {call_id} without being released"
                )));
            }
            (Some(call_id), _) => {
                self.known_call(call_id)?;
            }
            (None, _) => {}
        }
        if let Some(call_id) = call {
            let call = self.call_mut(call_id);
            let times = &mut call.times;
            match to {
                CrewStatus::Dispatched => {}
                CrewStatus::EnRoute => {
                    times.en_route.get_or_insert(at);
                }
                CrewStatus::OnScene => {
                    times.on_scene.get_or_insert(at);
                }
                CrewStatus::Transporting => {
                    times.left_scene.get_or_insert(at);
                }
                CrewStatus::AtHospital => {
                    times.at_hospital.get_or_insert(at);
                }
                CrewStatus::Available | CrewStatus::OutOfService => {
                    // Its part is done (on scene or at the hospital).
                    if from == CrewStatus::OnScene && to == CrewStatus::Available {
                        times.left_scene.get_or_insert(at);
                    }
                    for a in &mut call.assignments {
                        if a.crew_id == crew_id && a.finished_at.is_none() {
                            a.finished_at = Some(at);
                        }
                    }
                    self.crew_mut(slot).call = None;
                }
            }
        }
        let at = self.crew_at(slot).snapped.point;
        if from == CrewStatus::Available {
            self.available.remove(&self.router, slot, at);
            self.crew_etas.remove(slot);
        }
        if to == CrewStatus::Available {
            self.available.insert(&self.router, slot, at);
            let snapped = self.crew_at(slot).snapped;
            self.crew_etas.set(&self.router, slot, snapped);
        }
        self.crew_mut(slot).status = to;
        Ok(())
    }

    // ----- internals -----

    fn snap(&self, lat: f64, lon: f64) -> Result<Snapped, DispatchError> {
        self.router.snap(lat, lon).map_err(DispatchError::OffMap)
    }

    fn slot_of(&self, id: &str) -> Result<u32, DispatchError> {
        self.crew_slot
            .get(id)
            .copied()
            .ok_or_else(|| DispatchError::UnknownCrew(id.to_string()))
    }

    fn crew_at(&self, slot: u32) -> &Crew {
        self.crews[slot as usize]
            .as_ref()
            .expect("a slot in use holds a crew")
    }

    fn crew_mut(&mut self, slot: u32) -> &mut Crew {
        self.crews[slot as usize]
            .as_mut()
            .expect("a slot in use holds a crew")
    }

    fn call_mut(&mut self, id: CallId) -> &mut Call {
        self.calls.get_mut(&id).expect("a known call")
    }

    fn known_call(&self, id: CallId) -> Result<&Call, DispatchError> {
        self.calls.get(&id).ok_or(DispatchError::UnknownCall(id))
    }

    fn open_call(&self, id: CallId) -> Result<&Call, DispatchError> {
        let call = self.calls.get(&id).ok_or(DispatchError::UnknownCall(id))?;
        if call.status.is_closed() {
            return Err(DispatchError::CallClosed {
                call: id,
                status: call.status,
            });
        }
        Ok(call)
    }

    fn is_responding(&self, crew_id: &str) -> bool {
        self.crew(crew_id).is_some_and(|c| c.status.is_responding())
    }

    /// Applies an event the live path decided on (it fits the state by construction) and
    /// records it.
    fn emit(&mut self, event: Event, events: &mut Vec<Event>) {
        if let Err(e) = self.replay(&event) {
            // A bug: the live path only emits events that fit the state.
            panic!("a live event does not apply ({e}): {event:?}");
        }
        events.push(event);
    }

    /// Changes a crew's status (its call's timeline follows, see `replay_crew_status`).
    fn set_status(&mut self, slot: u32, to: CrewStatus, now: i64, events: &mut Vec<Event>) {
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
    fn attach(&mut self, slot: u32, event: Event, now: i64, events: &mut Vec<Event>) {
        let call_id = event.call_id().expect("an assignment event");
        self.emit(event, events);
        self.set_status(slot, CrewStatus::Dispatched, now, events);
        self.refresh_call_status(call_id, now, events);
    }

    /// Takes a crew off a call it responds to (the assignment is dropped, the crew told);
    /// its status is left to the caller.
    fn detach(&mut self, call_id: CallId, slot: u32, now: i64, events: &mut Vec<Event>) {
        let crew_id = self.crew_at(slot).id.clone();
        self.emit(Event::CrewReleased { crew_id, call_id }, events);
        self.refresh_call_status(call_id, now, events);
    }

    /// Brings a call's status in line with its crews.
    fn refresh_call_status(&mut self, call_id: CallId, now: i64, events: &mut Vec<Event>) {
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
            None if call.assignments.iter().any(|a| a.finished_at.is_some()) => {
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

    fn policy_reason(&self) -> DecisionReason {
        match self.config.policy {
            Policy::RoadEta => DecisionReason::NearestByRoad,
            Policy::StraightLine => DecisionReason::NearestByStraightLine,
        }
    }

    /// Fills a call's pending needs with available crews (then an interim crew if due);
    /// queues it with what is left.
    fn dispatch_pending(&mut self, call_id: CallId, now: i64, events: &mut Vec<Event>) {
        let call = &self.calls[&call_id];
        let pending = call.pending_needs();
        if pending.is_empty() {
            return;
        }
        let order = fill_order(call, &pending);
        let at = call.snapped;
        // One general need under the road-ETA policy (nearly every call) needs only the
        // five best crews; several needs, an interim crew for a specialist, or the
        // straight-line policy (whose pick may be any crew) look at every crew's ETA.
        let etas = if self.config.policy == Policy::RoadEta
            && pending.len() == 1
            && !call.needs.iter().any(|n| n.is_specialist())
        {
            self.best_crew_etas_to(&at, Role::Need(call.needs[pending[0]]), &[])
        } else {
            self.crew_etas_to(&at)
        };
        for i in order {
            let need = self.calls[&call_id].needs[i];
            if let Some((slot, eta, candidates)) = self.choose(&at, &etas, Role::Need(need)) {
                let decision = Decision {
                    call_id,
                    crew_id: self.crew_at(slot).id.clone(),
                    need,
                    need_index: Some(i),
                    interim: false,
                    eta_ms: eta,
                    at: now,
                    reason: self.policy_reason(),
                    candidates,
                };
                self.attach(slot, Event::CallAssigned { decision }, now, events);
            }
        }
        self.maybe_interim(call_id, &etas, now, events);
        let call = &self.calls[&call_id];
        let pending = call.pending_needs();
        if !pending.is_empty() {
            events.push(Event::CallQueued {
                call_id,
                pending: pending.iter().map(|&i| call.needs[i]).collect(),
            });
        }
    }

    /// Whether a call waits for an interim general crew from the queue: an emergency with a
    /// specialist need left and no crew at all.
    fn wants_interim(&self, call: &Call) -> bool {
        self.config.interim_general_for_specialist
            && call.priority == Priority::Emergency
            && !call.status.is_closed()
            && call.active_assignments().next().is_none()
            && call
                .pending_needs()
                .iter()
                .any(|&i| call.needs[i].is_specialist())
    }

    /// Sends an interim general crew to an emergency whose specialist is far or not free.
    fn maybe_interim(
        &mut self,
        call_id: CallId,
        etas: &CrewEtas,
        now: i64,
        events: &mut Vec<Event>,
    ) {
        let call = &self.calls[&call_id];
        if !self.config.interim_general_for_specialist
            || call.priority != Priority::Emergency
            || call.active_assignments().any(|a| a.interim)
        {
            return;
        }
        let pending = call.pending_needs();
        let covered = pending
            .iter()
            .copied()
            .find(|&i| call.needs[i].is_specialist())
            .or_else(|| {
                call.active_assignments()
                    .find(|a| a.need.is_specialist() && self.is_responding(&a.crew_id))
                    .map(|a| a.need_index)
            });
        let Some(need_index) = covered else {
            return;
        };
        let Some((slot, eta, candidates)) = self.choose(&call.snapped, etas, Role::Interim) else {
            return;
        };
        let earliest = call
            .active_assignments()
            .map(|a| {
                self.crew_eta(self.crew_slot[&a.crew_id], &call.snapped, etas)
                    .unwrap_or(u32::MAX)
            })
            .min()
            .unwrap_or(u32::MAX);
        if u64::from(earliest) <= u64::from(eta) + u64::from(self.config.reassign_gain_ms) {
            return;
        }
        let need = call.needs[need_index];
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need,
            need_index: Some(need_index),
            interim: true,
            eta_ms: eta,
            at: now,
            reason: DecisionReason::InterimGeneralCrew,
            candidates,
        };
        self.attach(slot, Event::CallAssigned { decision }, now, events);
    }

    /// Lets crews that became available take queued calls or take over emergencies, one
    /// after the other (crews released on the way join the end of the line).
    fn settle(&mut self, mut freed: VecDeque<u32>, now: i64, events: &mut Vec<Event>) {
        // Every step fills a need or strictly lowers the total ETA of responding crews, so
        // this ends; the guard only protects against a bug turning into a hang.
        let mut guard = 64 + 16 * (self.crews.len() + self.calls.len());
        while let Some(slot) = freed.pop_front() {
            debug_assert!(guard > 0, "dispatch settling did not end");
            if guard == 0 {
                break;
            }
            guard -= 1;
            match &self.crews[slot as usize] {
                Some(c) if c.status == CrewStatus::Available => {}
                _ => continue,
            }
            if self.take_from_queue(slot, now, events) {
                continue;
            }
            if let Some(released) = self.try_reassign(slot, now, events) {
                freed.push_back(released);
            }
        }
    }

    /// An available crew takes the queued call of highest priority it can serve, the one
    /// it reaches soonest among equals, ties oldest. Returns whether it took one.
    fn take_from_queue(&mut self, slot: u32, now: i64, events: &mut Vec<Event>) -> bool {
        let crew = self.crew_at(slot);
        let t = crew.crew_type;
        let from = crew.snapped;
        // (call, need index, interim) for each servable queued call.
        let mut servable: Vec<(&Call, usize, bool)> = self
            .waiting
            .iter()
            .filter_map(|id| self.calls.get(id))
            .filter_map(|c| {
                // Most open calls have every need filled: skip them without allocating.
                if (0..c.needs.len()).all(|i| c.need_filled(i)) {
                    return None;
                }
                let pending = c.pending_needs();
                if let Some(i) = need_for(c, &pending, t) {
                    return Some((c, i, false));
                }
                if t == CrewType::General && self.wants_interim(c) {
                    let i = pending
                        .iter()
                        .copied()
                        .find(|&i| c.needs[i].is_specialist())?;
                    return Some((c, i, true));
                }
                None
            })
            .collect();
        servable.sort_by_key(|(c, _, _)| c.queue_key());
        // ((priority, ETA, received, id), need index, interim)
        let mut best: Option<(PickKey, usize, bool)> = None;
        for (c, i, interim) in servable {
            if best.is_some_and(|(k, _, _)| k.0 < c.priority) {
                break;
            }
            let Some(eta) = self.router.eta(&from, &c.snapped) else {
                continue;
            };
            let key = (c.priority, eta, c.received(), c.id);
            if best.is_none_or(|(k, _, _)| key < k) {
                best = Some((key, i, interim));
            }
        }
        let Some(((_, _, _, call_id), need_index, interim)) = best else {
            return false;
        };
        let call = &self.calls[&call_id];
        let need = call.needs[need_index];
        let at = call.snapped;
        let role = if interim {
            Role::Interim
        } else {
            Role::Need(need)
        };
        let etas = self.best_crew_etas_to(&at, role, &[slot]);
        let candidates = self.candidates(&etas, role);
        let Some(eta) = etas.get(slot) else {
            return false;
        };
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need,
            need_index: Some(need_index),
            interim,
            eta_ms: eta,
            at: now,
            reason: if interim {
                DecisionReason::InterimGeneralCrew
            } else {
                DecisionReason::QueuedThenReleased
            },
            candidates,
        };
        self.attach(slot, Event::CallAssigned { decision }, now, events);
        true
    }

    /// An available crew takes over the emergency whose responding crew it beats by the
    /// most, if by at least the configured gain. Returns the released crew.
    fn try_reassign(&mut self, slot: u32, now: i64, events: &mut Vec<Event>) -> Option<u32> {
        let t = self.crew_at(slot).crew_type;
        let mut emergencies: Vec<(i64, CallId)> = self
            .contested
            .iter()
            .filter_map(|id| self.calls.get(id))
            .filter(|c| {
                // A call's status is the furthest stage of its crews, so a call with one
                // crew on scene or beyond has no responding crew: skipped without looking
                // its crews up.
                c.priority == Priority::Emergency
                    && !c.status.is_closed()
                    && (matches!(c.status, CallStatus::Assigned | CallStatus::EnRoute)
                        || c.active_assignments().nth(1).is_some())
                    && c.active_assignments().any(|a| {
                        self.is_responding(&a.crew_id)
                            && if a.interim {
                                Role::Interim.admits(t)
                            } else {
                                t.can_serve(a.need)
                            }
                    })
            })
            .map(|c| (c.received(), c.id))
            .collect();
        emergencies.sort();
        // Only two ETAs matter for each responding crew (the free crew's and its own), so
        // they are computed one to one; the ETAs of every crew, for the recorded candidates,
        // only for the takeover chosen. Both are exact, so the choice is the same as with
        // every crew's ETAs for every emergency.
        let mut best: Option<(Takeover, Role)> = None;
        let from = self.crew_at(slot).snapped;
        // The free crew's ETA is at least its straight-line lower bound (see `assign`), so a
        // call none of whose responding crews is that much plus the gain away is skipped
        // without computing it.
        self.speed.refresh(&self.router);
        let here = self.project(from.point);
        let needed = self.config.reassign_gain_ms.max(1);
        let version = self.router.live().version;
        let mut cache = std::mem::take(&mut self.responding_eta);
        cache.resize(cache.len().max(self.crews.len()), None);
        for (_, call_id) in emergencies {
            let at = self.calls[&call_id].snapped;
            let call = &self.calls[&call_id];
            let mut responding: Vec<(&Assignment, Role, u32, u32)> = Vec::new();
            for a in call.active_assignments() {
                let role = if a.interim {
                    Role::Interim
                } else {
                    Role::Need(a.need)
                };
                if !self.is_responding(&a.crew_id) || !role.admits(t) {
                    continue;
                }
                let cur_slot = self.crew_slot[&a.crew_id];
                let current = match cache[cur_slot as usize] {
                    Some((c, v, eta)) if c == call_id && v == version => eta,
                    _ => {
                        let eta = self
                            .router
                            .eta(&self.crew_at(cur_slot).snapped, &at)
                            .unwrap_or(u32::MAX);
                        cache[cur_slot as usize] = Some((call_id, version, eta));
                        eta
                    }
                };
                responding.push((a, role, cur_slot, current));
            }
            let there = self.project(at.point);
            let lower = self.speed.lower_bound_ms(
                ((here[0] - there[0]).powi(2) + (here[1] - there[1]).powi(2)).sqrt(),
            );
            if responding
                .iter()
                .all(|r| r.3.saturating_sub(lower) < needed)
            {
                continue;
            }
            let Some(mine) = self.router.eta(&from, &at) else {
                continue;
            };
            for (a, role, cur_slot, current) in responding {
                let gain = current.saturating_sub(mine);
                if gain == 0 || gain < self.config.reassign_gain_ms {
                    continue;
                }
                if best.as_ref().is_none_or(|(b, _)| gain > b.gain) {
                    best = Some((
                        Takeover {
                            gain,
                            call_id,
                            prev_slot: cur_slot,
                            prev: a.clone(),
                            candidates: Vec::new(),
                            eta: mine,
                        },
                        role,
                    ));
                }
            }
        }
        self.responding_eta = cache;
        let (mut best, role) = best?;
        let at = self.calls[&best.call_id].snapped;
        let etas = self.best_crew_etas_to(&at, role, &[]);
        best.candidates = self.candidates(&etas, role);
        let Takeover {
            gain,
            call_id,
            prev_slot,
            prev,
            candidates,
            eta,
        } = best;
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need: prev.need,
            need_index: Some(prev.need_index),
            interim: prev.interim,
            eta_ms: eta,
            at: now,
            reason: DecisionReason::ReassignedFaster {
                previous_crew: prev.crew_id.clone(),
                gain_ms: gain,
            },
            candidates,
        };
        let event = Event::CallReassigned {
            from_crew: prev.crew_id.clone(),
            to_crew: decision.crew_id.clone(),
            decision,
        };
        self.attach(slot, event, now, events);
        self.detach(call_id, prev_slot, now, events);
        self.set_status(prev_slot, CrewStatus::Available, now, events);
        Some(prev_slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            phone: None,
            status: CallStatus::Queued,
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
