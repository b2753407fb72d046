//! Restart recovery: applying recorded events to the state without deciding anything.

use std::sync::Arc;

use router::{Router, Snapped};

use crate::call::{map_needs, Assignment, Call, CallId, CallStatus, CallTimes, Priority};
use crate::crew::{can_transition, Crew, CrewStatus, CrewType, Position};
use crate::error::DispatchError;
use crate::event::Event;
use crate::hospital::Hospital;
use crate::policy::{Decision, DecisionReason, DispatchConfig};

use super::Dispatcher;

impl Dispatcher {
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
    pub(crate) fn replay_near(
        &mut self,
        event: &Event,
        near: Option<&Snapped>,
    ) -> Result<(), DispatchError> {
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
            | Event::CrewUpdated { crew_id, .. }
            | Event::CrewRemoved { crew_id }
            | Event::CrewStatus { crew_id, .. }
            | Event::CrewMoved { crew_id, .. }
            | Event::CrewReleased { crew_id, .. } => Some(crew_id.as_str()),
            _ => None,
        };
        if let Some(id) = touched {
            self.count_closed(id, -1);
        }
        let applied = self.apply_event(event, near);
        if let Some(id) = touched {
            self.count_closed(id, 1);
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
    pub(crate) fn reindex(&mut self, id: CallId) {
        let (waiting, contested) = match self.calls.get(&id) {
            Some(c) if !c.status.is_closed() => (
                c.has_pending_needs(),
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
    pub(crate) fn apply_event(
        &mut self,
        event: &Event,
        near: Option<&Snapped>,
    ) -> Result<(), DispatchError> {
        match event {
            Event::CallCreated {
                call_id,
                priority,
                needs,
                lat,
                lon,
                complaint,
                address,
                place,
                phone,
                notes,
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
                        place: place.clone(),
                        phone: phone.clone(),
                        notes: notes.clone(),
                        status: CallStatus::Queued,
                        linked: Vec::new(),
                        handed_back: false,
                        dropped_needs: Vec::new(),
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
            Event::CallHandedBack {
                call_id,
                crew_id,
                pickup,
                ..
            } => {
                self.open_call(*call_id)?;
                let slot = self.slot_of(crew_id)?;
                if self.crew_at(slot).call != Some(*call_id) {
                    return Err(DispatchError::Inconsistent(format!(
                        "call {call_id} handed back by crew {crew_id:?}, which does not work on it"
                    )));
                }
                let moved = match pickup {
                    Some(p) => Some((
                        *p,
                        match near {
                            Some(at) => *at,
                            None => self.snap(p.lat, p.lon)?,
                        },
                    )),
                    None => None,
                };
                let call = self.call_mut(*call_id);
                call.handed_back = true;
                if let Some((position, snapped)) = moved {
                    call.position = position;
                    call.snapped = snapped;
                }
            }
            Event::NeedsDropped { call_id, needs, .. } => {
                let call = self.open_call(*call_id)?;
                let pending = call.pending_needs();
                if needs.is_empty() || needs.iter().any(|i| !pending.contains(i)) {
                    return Err(DispatchError::Inconsistent(format!(
                        "call {call_id} drops needs {needs:?}, but only {pending:?} are pending"
                    )));
                }
                self.call_mut(*call_id).dropped_needs.extend(needs);
            }
            Event::CallCancelled { call_id, .. } => {
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
                call.times.closed = (status.is_closed() && *at > 0).then_some(*at);
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
                call_sign,
                shift_end,
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
                    call_sign: call_sign.clone(),
                    shift_end: *shift_end,
                    position: Position {
                        lat: *lat,
                        lon: *lon,
                    },
                    snapped,
                    status: CrewStatus::Available,
                    call: None,
                };
                if let Some(end) = shift_end {
                    self.shift_ends.insert((*end, slot));
                }
                self.available.insert(&self.router, slot, snapped.point);
                self.crews[slot as usize] = Some(crew);
                self.crew_slot.insert(crew_id.clone(), slot);
                self.crew_etas.set(&self.router, slot, snapped);
            }
            Event::CrewUpdated { crew_id, changes } => {
                let slot = self.slot_of(crew_id)?;
                let crew = self.crew_at(slot);
                if let (Some(t), Some(call)) = (changes.crew_type, crew.call) {
                    let fits = self
                        .calls
                        .get(&call)
                        .and_then(|c| c.assignment_of(crew_id))
                        .is_none_or(|a| {
                            if a.interim {
                                t == CrewType::General
                            } else {
                                t.can_serve(a.need)
                            }
                        });
                    if !fits {
                        return Err(DispatchError::Inconsistent(format!(
                            "crew {crew_id:?} cannot become {t} on call {call}"
                        )));
                    }
                }
                let (available, old_end) = (crew.status == CrewStatus::Available, crew.shift_end);
                let crew = self.crew_mut(slot);
                if let Some(t) = changes.crew_type {
                    crew.crew_type = t;
                }
                if let Some(s) = &changes.station {
                    crew.station = s.clone();
                }
                if let Some(s) = &changes.call_sign {
                    crew.call_sign = s.clone();
                }
                if let Some(end) = changes.shift_end {
                    crew.shift_end = end;
                    if available {
                        if let Some(old) = old_end {
                            self.shift_ends.remove(&(old, slot));
                        }
                        if let Some(new) = end {
                            self.shift_ends.insert((new, slot));
                        }
                    }
                }
            }
            Event::CallEdited { call_id, changes } => {
                let call = self.open_call(*call_id)?;
                let map = match &changes.needs {
                    Some(needs) => {
                        let map = map_needs(&call.assignments, needs);
                        if needs.is_empty() || map.iter().any(Option::is_none) {
                            return Err(DispatchError::Inconsistent(format!(
                                "call {call_id}'s crews do not fit the needs {needs:?}"
                            )));
                        }
                        Some(map)
                    }
                    None => None,
                };
                let snapped = match (&changes.position, near) {
                    (Some(_), Some(at)) => Some(*at),
                    (Some(p), None) => Some(self.snap(p.lat, p.lon)?),
                    (None, _) => None,
                };
                let call = self.call_mut(*call_id);
                if let Some(p) = changes.priority {
                    call.priority = p;
                }
                if let (Some(p), Some(s)) = (changes.position, snapped) {
                    call.position = p;
                    call.snapped = s;
                }
                if let (Some(needs), Some(map)) = (&changes.needs, map) {
                    call.needs = needs.clone();
                    call.dropped_needs.clear();
                    for (a, m) in call.assignments.iter_mut().zip(map) {
                        if let Some((i, interim)) = m {
                            a.need_index = i;
                            a.need = needs[i];
                            a.interim = interim;
                        }
                    }
                }
                if let Some(s) = &changes.complaint {
                    call.complaint = s.clone();
                }
                if let Some(s) = &changes.address {
                    call.address = s.clone();
                }
                if let Some(p) = &changes.place {
                    call.place = (!p.is_empty()).then(|| p.clone());
                }
                if let Some(s) = &changes.notes {
                    call.notes = s.clone();
                }
            }
            Event::CallLinked { call_id, report } => {
                let call = self
                    .calls
                    .get_mut(call_id)
                    .ok_or(DispatchError::UnknownCall(*call_id))?;
                call.linked.push(report.clone());
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
    pub(crate) fn replay_assignment(
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
        call.handed_back &= call.has_pending_needs();
        call.times.crew_notified.get_or_insert(at);
        call.decisions.push(decision.clone());
        Ok(())
    }

    /// Replays a crew status change, keeping the R-tree of available crews in step. A crew
    /// still on a call carries its call's timeline: `en_route`, `on_scene`, `transporting`
    /// and `at_hospital` set the call's times when first reached; becoming available or
    /// out of service ends its part (a crew taken off a call on its way is released before,
    /// by [`Event::CrewReleased`]). The call's status follows as its own event.
    pub(crate) fn replay_crew_status(
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
                // (A crew is off duty only from available, with no call.)
                CrewStatus::Dispatched | CrewStatus::OffDuty => {}
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
        if from == CrewStatus::OffDuty {
            // A new shift, with no end set.
            self.crew_mut(slot).shift_end = None;
        }
        let shift_end = self.crew_at(slot).shift_end;
        if from == CrewStatus::Available {
            self.available.remove(&self.router, slot, at);
            self.crew_etas.remove(slot);
            if let Some(end) = shift_end {
                self.shift_ends.remove(&(end, slot));
            }
        }
        if to == CrewStatus::Available {
            if let Some(end) = shift_end {
                self.shift_ends.insert((end, slot));
            }
            self.available.insert(&self.router, slot, at);
            let snapped = self.crew_at(slot).snapped;
            self.crew_etas.set(&self.router, slot, snapped);
        }
        self.crew_mut(slot).status = to;
        Ok(())
    }
}
