//! Crew and hospital operations: adding, removing, moving crews and their status changes.

use std::collections::VecDeque;

use router::Snapped;

use crate::crew::{can_transition, CrewStatus, NewCrew};
use crate::error::DispatchError;
use crate::event::Event;
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
}
