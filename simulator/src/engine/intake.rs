//! Calls coming in: entered into the core (which picks the crew or queues the call), or
//! held back first under the coverage policy's reserve rule.

use dispatch_core::{CallId, CrewType, DispatchError, NewCall, Priority};

use super::coverage_policy::Reserve;
use super::sim::{Ev, Sim};
use super::{unix, SimPolicy};
use crate::error::SimError;
use crate::scheduler::Rank;

impl Sim<'_> {
    pub(super) fn on_call(&mut self, i: usize) -> Result<(), SimError> {
        self.schedule_retriage(i);
        if self.opts.policy == SimPolicy::Coverage && self.calls[i].priority == Priority::NonUrgent
        {
            match self.reserve_check(i) {
                Reserve::Hold => {
                    self.count(|r| &mut r.2);
                    self.held.push_back(i);
                    let until =
                        self.calls[i].t + (self.opts.coverage.max_hold_s * 1000.0).round() as i64;
                    self.q.at(until, Rank::Retry, Ev::Retry);
                    return Ok(());
                }
                Reserve::Send(alt) => return self.enter_call(i, alt),
                Reserve::Go => {}
            }
        }
        self.enter_call(i, None)
    }

    /// Enters a call into the core; `instead` is a crew to send in place of the core's pick
    /// (the coverage policy keeping a station's last crew).
    pub(super) fn enter_call(&mut self, i: usize, instead: Option<String>) -> Result<(), SimError> {
        let spec = &self.calls[i];
        let nc = NewCall {
            id: Some(CallId(spec.id)),
            lat: spec.lat,
            lon: spec.lon,
            priority: spec.priority,
            needs: if spec.needs.is_empty() {
                vec![CrewType::General]
            } else {
                spec.needs.clone()
            },
            complaint: String::new(),
            address: String::new(),
            place: None,
            phone: None,
            notes: String::new(),
            received: Some(unix(spec.t)),
        };
        let now = unix(self.now());
        let entered = match self.snapped(i) {
            Some(at) => self.d.new_call_on_road(nc, &at, now),
            // Off the map: the core says so.
            None => self.d.new_call(nc, now),
        };
        match entered {
            Ok(events) => self.absorb(events)?,
            Err(DispatchError::OffMap(_)) => {
                self.outcome_off_map[i] = true;
                return Ok(());
            }
            Err(e) => return Err(self.fail(e)),
        }
        if let Some(crew) = instead {
            let events = self
                .d
                .assign_override(CallId(spec.id), &crew, now)
                .map_err(|e| self.fail(e))?;
            self.absorb(events)?;
        }
        Ok(())
    }
}
