//! The everyday exceptions in a run ([`super::Exceptions`]): a crew that breaks down on its
//! way (the core hands its call back and sends another crew; the crew is out of service
//! until repaired, then free where it is), and a call re-triaged after intake (the core's
//! re-triage rule: an upgraded emergency may divert a crew, the queue order follows).

use dispatch_core::{CallEdit, CallId, CallStatus, CrewStatus};

use super::sim::{Ev, Phase, Sim};
use crate::error::SimError;
use crate::scheduler::Rank;

impl Sim<'_> {
    /// A crew starts driving to call `call` (its drive ends at `end`): if the call's crew is
    /// to break down, the breakdown is scheduled along the drive.
    pub(super) fn maybe_break_down(&mut self, c: u32, call: usize, end: i64) {
        let Some(&ex) = self.exceptions.get(call) else {
            return;
        };
        let Some((at, _)) = ex.breakdown else {
            return;
        };
        if self.broke[call] {
            return;
        }
        let now = self.now();
        let when = now + ((end - now) as f64 * at).round() as i64;
        if when > now && when < end {
            let tok = self.crews[c as usize].token;
            self.q.at(when, Rank::Position, Ev::Breakdown(c, tok));
        }
    }

    /// The crew breaks down where it is now.
    pub(super) fn on_breakdown(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        let repair_ms = self.exceptions[call].breakdown.map_or(0, |b| b.1);
        self.broke[call] = true;
        self.count_exception(true);
        self.stop(c);
        self.report_position(c)?;
        let crew = &mut self.crews[c as usize];
        crew.call = None;
        crew.phase = Phase::OutOfService;
        self.set_status(c, CrewStatus::OutOfService)?;
        let tok = self.crews[c as usize].token;
        self.q
            .at(self.now() + repair_ms, Rank::Handover, Ev::Repaired(c, tok));
        Ok(())
    }

    /// A broken-down crew is repaired: free where it is.
    pub(super) fn on_repaired(&mut self, c: u32) -> Result<(), SimError> {
        self.crews[c as usize].phase = Phase::Idle;
        self.set_status(c, CrewStatus::Available)
    }

    /// Schedules the re-triage of call `i`, if it has one.
    pub(super) fn schedule_retriage(&mut self, i: usize) {
        if let Some((after, _)) = self.exceptions.get(i).and_then(|e| e.retriage) {
            self.q
                .at(self.calls[i].t + after, Rank::Retry, Ev::Retriage(i));
        }
    }

    /// Call `i`'s priority changes, if it is still open and no crew is on scene.
    pub(super) fn on_retriage(&mut self, i: usize) -> Result<(), SimError> {
        let Some((_, to)) = self.exceptions[i].retriage else {
            return Ok(());
        };
        let id = CallId(self.calls[i].id);
        let waiting = self.d.call(id).is_some_and(|k| {
            k.priority != to
                && matches!(
                    k.status,
                    CallStatus::Queued | CallStatus::Assigned | CallStatus::EnRoute
                )
        });
        if !waiting {
            return Ok(());
        }
        let edit = CallEdit {
            priority: Some(to),
            ..CallEdit::default()
        };
        let now = super::unix(self.now());
        let events = self.d.edit_call(id, edit, now).map_err(|e| self.fail(e))?;
        self.count_exception(false);
        self.absorb(events)
    }

    /// Counts a breakdown (or a re-triage) now, if it is this window's to report.
    fn count_exception(&mut self, breakdown: bool) {
        if self.reports(self.now()) {
            if breakdown {
                self.breakdowns += 1;
            } else {
                self.retriaged += 1;
            }
        }
    }
}
