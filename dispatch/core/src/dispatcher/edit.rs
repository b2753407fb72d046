//! Re-triage and corrections after intake: [`Dispatcher::edit_call`].

use std::collections::VecDeque;

use crate::call::{map_needs, CallEdit, CallId, Priority};
use crate::crew::CrewStatus;
use crate::error::DispatchError;
use crate::event::Event;

use super::{Dispatcher, Outcome};

impl Dispatcher {
    /// Changes a call after intake, and decides again where it matters:
    ///
    /// * `priority`: the queue order follows; a call upgraded to an emergency with needs
    ///   left is decided again at once (it may divert a crew, see `divert`);
    /// * `position` (snapped again; off the map is an error): if no crew has reached the
    ///   call yet, the crews on their way are released and the call decided again among all
    ///   available crews, them included (a crew sent again gets the new place and route as a
    ///   new assignment); once a crew is on scene the place is only recorded;
    /// * `needs` (not empty): each crew keeps serving a need of its type (see
    ///   [`map_needs`]); a crew on its way whose need is gone is released, new needs are
    ///   decided at once. Refused once the patient has left the scene (a crew is
    ///   transporting or at the hospital), and when a need a crew has reached would go;
    /// * `complaint`, `address`, `notes`: recorded.
    ///
    /// An empty edit changes nothing and returns no event.
    pub fn edit_call(&mut self, call_id: CallId, edit: CallEdit, now: i64) -> Outcome {
        let call = self.open_call(call_id)?;
        if edit.is_empty() {
            return Ok(Vec::new());
        }
        let mut release = Vec::new();
        if let Some(needs) = &edit.needs {
            if needs.is_empty() {
                return Err(DispatchError::NoNeeds(call_id));
            }
            if call.active_assignments().any(|a| {
                self.crew(&a.crew_id).is_some_and(|c| {
                    matches!(c.status, CrewStatus::Transporting | CrewStatus::AtHospital)
                })
            }) {
                return Err(DispatchError::PatientLeftScene(call_id));
            }
            let map = map_needs(&call.assignments, needs);
            for (a, m) in call.assignments.iter().zip(&map) {
                if m.is_some() {
                    continue;
                }
                if a.finished_at.is_none() && self.is_responding(&a.crew_id) {
                    release.push(self.crew_slot[&a.crew_id]);
                } else {
                    return Err(DispatchError::NeedServed {
                        call: call_id,
                        crew: a.crew_id.clone(),
                        need: a.need,
                    });
                }
            }
        }
        let snapped = match edit.position {
            Some(p) => Some(self.snap(p.lat, p.lon)?),
            None => None,
        };
        let moved_early = snapped.is_some()
            && call
                .active_assignments()
                .all(|a| self.is_responding(&a.crew_id));
        let upgraded =
            edit.priority == Some(Priority::Emergency) && call.priority != Priority::Emergency;
        let redecide = moved_early || upgraded || edit.needs.is_some();
        // No refusals below.
        let mut events = Vec::new();
        let mut freed = VecDeque::new();
        for slot in release {
            self.detach(call_id, slot, now, &mut events);
            self.set_status(slot, CrewStatus::Available, now, &mut events);
            freed.push_back(slot);
        }
        let event = Event::CallEdited {
            call_id,
            changes: edit,
        };
        self.emit_near(event, snapped.as_ref(), &mut events);
        if moved_early {
            let responding: Vec<u32> = self.calls[&call_id]
                .active_assignments()
                .map(|a| self.crew_slot[&a.crew_id])
                .collect();
            for slot in responding {
                self.detach(call_id, slot, now, &mut events);
                self.set_status(slot, CrewStatus::Available, now, &mut events);
                freed.push_back(slot);
            }
        }
        if redecide {
            self.dispatch_pending(call_id, now, &mut events);
        }
        self.settle(freed, now, &mut events);
        Ok(events)
    }
}
