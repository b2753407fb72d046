//! Crew and hospital operations: adding, removing, moving crews and their status changes.

use std::collections::VecDeque;

use router::Snapped;

use crate::crew::{can_transition, CrewEdit, CrewStatus, CrewType, NewCrew};
use crate::error::DispatchError;
use crate::event::{DropReason, Event, HandBackReason};
use crate::hospital::NewHospital;

use super::{Dispatcher, Outcome};

impl Dispatcher {
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
            call_sign: c.call_sign,
            shift_end: c.shift_end,
            lat: c.lat,
            lon: c.lon,
        };
        self.replay(&event)?;
        let slot = self.crew_slot[&c.id];
        let mut events = vec![event];
        self.settle(VecDeque::from([slot]), now, &mut events);
        Ok(events)
    }

    /// Changes a crew's type, station, call sign or shift end. A crew on a call keeps it,
    /// so its new type must still serve it ([`DispatchError::TypeInUse`]). An available
    /// crew then takes its turn at the queue (its new type may serve a waiting call), or
    /// goes off duty if its new shift end has passed.
    pub fn update_crew(&mut self, id: &str, changes: CrewEdit, now: i64) -> Outcome {
        let slot = self.slot_of(id)?;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let crew = self.crew_at(slot);
        if let (Some(t), Some(call)) = (changes.crew_type, crew.call) {
            if let Some(a) = self.calls[&call].assignment_of(id) {
                let able = if a.interim {
                    t == CrewType::General
                } else {
                    t.can_serve(a.need)
                };
                if !able {
                    return Err(DispatchError::TypeInUse {
                        crew: id.to_string(),
                        crew_type: t,
                        call,
                        need: a.need,
                    });
                }
            }
        }
        let mut events = Vec::new();
        let event = Event::CrewUpdated {
            crew_id: id.to_string(),
            changes,
        };
        self.emit(event, &mut events);
        self.settle(VecDeque::from([slot]), now, &mut events);
        Ok(events)
    }

    /// Takes a crew off the roster. A crew on a call first goes out of service: on its way,
    /// on scene or transporting, it hands its call back ([`HandBackReason::Removed`]; see
    /// [`crate::dispatcher`]'s *Breakdown*).
    pub fn remove_crew(&mut self, id: &str, now: i64) -> Outcome {
        let slot = self.slot_of(id)?;
        let mut events = Vec::new();
        let crew = self.crew_at(slot);
        match crew.call {
            Some(call) if crew.status.hands_back() => {
                self.break_down(slot, call, HandBackReason::Removed, now, &mut events);
            }
            _ if crew.status != CrewStatus::OutOfService => {
                events = self.set_crew_status(id, CrewStatus::OutOfService, now)?;
            }
            _ => {}
        }
        self.emit(
            Event::CrewRemoved {
                crew_id: id.to_string(),
            },
            &mut events,
        );
        Ok(events)
    }

    /// A crew reports its position. An available crew that calls wait for (one it could
    /// not reach from where it was, a closure in the way) takes its turn at the queue.
    pub fn move_crew(&mut self, id: &str, lat: f64, lon: f64, now: i64) -> Outcome {
        let event = Event::CrewMoved {
            crew_id: id.to_string(),
            lat,
            lon,
        };
        self.replay(&event)?;
        Ok(self.moved(id, event, now))
    }

    /// The events of a crew's move: the move, and a queued call it takes from there.
    fn moved(&mut self, id: &str, event: Event, now: i64) -> Vec<Event> {
        let mut events = vec![event];
        let slot = self.crew_slot[id];
        if !self.waiting.is_empty() && self.crew_at(slot).status == CrewStatus::Available {
            self.take_from_queue(slot, now, &mut events);
        }
        events
    }

    /// [`Dispatcher::move_crew`] for a position already on the road (a simulated crew on its
    /// route knows its segment and fraction exactly): the same event, at the point's
    /// coordinates, with no snapping.
    pub fn move_crew_on_road(&mut self, id: &str, at: &Snapped, now: i64) -> Outcome {
        let event = Event::CrewMoved {
            crew_id: id.to_string(),
            lat: at.point.lat(),
            lon: at.point.lon(),
        };
        self.replay_near(&event, Some(at))?;
        Ok(self.moved(id, event, now))
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
        let mut freed = VecDeque::new();
        match (call, to) {
            (Some(call_id), CrewStatus::Available) if from.is_responding() => {
                // Stood down on the way: the need goes to another crew.
                self.detach(call_id, slot, now, &mut events);
                self.dispatch_pending(call_id, now, &mut events);
                self.set_status(slot, to, now, &mut events);
            }
            (Some(call_id), CrewStatus::OutOfService) if from.hands_back() => {
                self.break_down(slot, call_id, HandBackReason::Breakdown, now, &mut events);
            }
            (Some(call_id), CrewStatus::Transporting) => {
                self.set_status(slot, to, now, &mut events);
                freed = self.patient_left_scene(call_id, now, &mut events);
                self.refresh_call_status(call_id, now, &mut events);
            }
            (Some(call_id), CrewStatus::Available | CrewStatus::OutOfService) => {
                // Its part is done (on scene or at the hospital); the last crew closes the
                // call. The status event carries the call's timeline (`replay_crew_status`).
                self.set_status(slot, to, now, &mut events);
                if self.calls[&call_id].active_assignments().next().is_none() {
                    self.drop_pending(call_id, DropReason::CallClosed, &mut events);
                }
                self.refresh_call_status(call_id, now, &mut events);
            }
            (Some(call_id), _) => {
                // It progresses.
                self.set_status(slot, to, now, &mut events);
                self.refresh_call_status(call_id, now, &mut events);
            }
            (None, _) => self.set_status(slot, to, now, &mut events),
        }
        if to == CrewStatus::Available {
            freed.push_front(slot);
        }
        self.settle(freed, now, &mut events);
        Ok(events)
    }
}
