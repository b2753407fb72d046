//! The interim general crew sent at once to an emergency whose specialist is far or not free.

use crate::assign::{CrewEtas, Role};
use crate::call::{Call, CallId, Priority};
use crate::event::Event;
use crate::policy::{Decision, DecisionReason};

use super::Dispatcher;

impl Dispatcher {
    /// Whether a call waits for an interim general crew from the queue: an emergency with a
    /// specialist need left and no crew at all.
    pub(crate) fn wants_interim(&self, call: &Call) -> bool {
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
    pub(crate) fn maybe_interim(
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
            divertible: Vec::new(),
        };
        self.attach(slot, Event::CallAssigned { decision }, now, events);
    }
}
