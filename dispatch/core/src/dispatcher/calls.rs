//! Call operations: entering a call, the dispatcher's override, cancelling, the handover.

use std::collections::VecDeque;

use router::Snapped;

use crate::assign::Role;
use crate::call::{CallId, CallStatus, NewCall};
use crate::crew::{CrewStatus, CrewType};
use crate::error::DispatchError;
use crate::event::{DropReason, Event, HandBackReason};
use crate::policy::{Decision, DecisionReason};

use super::{need_for, Dispatcher, Outcome};

impl Dispatcher {
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

    pub(crate) fn new_call_near(
        &mut self,
        nc: NewCall,
        near: Option<&Snapped>,
        now: i64,
    ) -> Outcome {
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
            place: nc.place.filter(|p| !p.is_empty()),
            phone: nc.phone,
            notes: nc.notes,
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
            // Diverted by the dispatcher: the other call heads its queue if left waiting.
            self.hand_back(other, slot, HandBackReason::Diverted, now, &mut events);
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
            divertible: Vec::new(),
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

    /// Cancels a call no crew has reached yet, for `reason`: its needs left without a crew
    /// are dropped and its crews released (they may take queued calls).
    pub fn cancel_call(&mut self, call_id: CallId, reason: &str, now: i64) -> Outcome {
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
        self.drop_pending(call_id, DropReason::CallClosed, &mut events);
        self.emit(
            Event::CallCancelled {
                call_id,
                reason: reason.to_string(),
            },
            &mut events,
        );
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
}
