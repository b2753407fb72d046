//! The decision for a call's pending needs: the best able crew for each, or the queue.

use crate::assign::Role;
use crate::call::{CallId, Priority};
use crate::event::Event;
use crate::policy::{Decision, DecisionReason, Policy};

use super::{fill_order, Dispatcher};

impl Dispatcher {
    pub(crate) fn policy_reason(&self) -> DecisionReason {
        match self.config.policy {
            Policy::RoadEta => DecisionReason::NearestByRoad,
            Policy::StraightLine => DecisionReason::NearestByStraightLine,
        }
    }

    /// Fills a call's pending needs with available crews, or for an emergency with crews
    /// diverted from less urgent calls (see `divert`), then an interim crew if due; queues it
    /// with what is left.
    pub(crate) fn dispatch_pending(&mut self, call_id: CallId, now: i64, events: &mut Vec<Event>) {
        if !self.calls[&call_id].has_pending_needs() {
            return;
        }
        self.end_shifts_into(now, events);
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
        let divert = self.calls[&call_id].priority == Priority::Emergency;
        let mut displaced = Vec::new();
        for i in order {
            let need = self.calls[&call_id].needs[i];
            let choice = self.choose(&at, &etas, Role::Need(need));
            if divert {
                let available = choice.as_ref().map(|c| c.1);
                if let Some(div) = self.divertible(&at, need, available) {
                    let candidates = match choice {
                        Some((_, _, c)) => c,
                        None => Vec::new(),
                    };
                    let from = self.divert(call_id, i, div, candidates, now, events);
                    displaced.push(from);
                    continue;
                }
            }
            if let Some((slot, eta, candidates)) = choice {
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
                    divertible: Vec::new(),
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
        // The calls crews were diverted from (less urgent: no diversion from them).
        for from in displaced {
            self.dispatch_pending(from, now, events);
        }
    }
}
