//! Shift ends: a crew whose [`crate::Crew::shift_end`] has passed finishes its current call,
//! then goes `off_duty` instead of `available`, and is not dispatched.

use crate::crew::CrewStatus;
use crate::event::Event;

use super::{Dispatcher, Outcome};

impl Dispatcher {
    /// Sends the available crews whose shift has ended by `now` off duty (the service calls
    /// it as time passes; decisions do it themselves before choosing a crew).
    pub fn end_shifts(&mut self, now: i64) -> Outcome {
        let mut events = Vec::new();
        self.end_shifts_into(now, &mut events);
        Ok(events)
    }

    /// [`Dispatcher::end_shifts`] into `events`.
    pub(crate) fn end_shifts_into(&mut self, now: i64, events: &mut Vec<Event>) {
        while let Some(&(end, slot)) = self.shift_ends.first() {
            if end > now {
                break;
            }
            self.set_status(slot, CrewStatus::OffDuty, now, events);
        }
    }

    /// Whether the crew in `slot` has no shift left at `now`.
    pub(crate) fn shift_over(&self, slot: u32, now: i64) -> bool {
        self.crew_at(slot).shift_end.is_some_and(|end| end <= now)
    }
}
