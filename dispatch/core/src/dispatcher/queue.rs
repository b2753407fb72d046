//! The queue: crews that come free take the queued call of highest priority.

use std::collections::VecDeque;

use crate::assign::Role;
use crate::call::{Call, CallId, Priority};
use crate::crew::{CrewStatus, CrewType};
use crate::event::Event;
use crate::policy::{Decision, DecisionReason, QueueOrder};

use super::{need_for, Dispatcher};

/// How a free crew ranks queued calls: priority, handed back first, its ETA (only under
/// [`QueueOrder::EtaWeighted`], else 0), age, id.
type PickKey = (Priority, bool, u32, i64, CallId);

impl Dispatcher {
    /// Lets crews that became available take queued calls or take over emergencies, one
    /// after the other (crews released on the way join the end of the line); a crew whose
    /// shift is over goes off duty instead.
    pub(crate) fn settle(&mut self, mut freed: VecDeque<u32>, now: i64, events: &mut Vec<Event>) {
        // Every step fills a need or strictly lowers the total ETA of responding crews, so
        // this ends; the guard only protects against a bug turning into a hang.
        let mut guard = 64 + 16 * (self.crews.len() + self.calls.len());
        while let Some(slot) = freed.pop_front() {
            debug_assert!(guard > 0, "dispatch settling did not end");
            if guard == 0 {
                break;
            }
            guard -= 1;
            match &self.crews[slot as usize] {
                Some(c) if c.status == CrewStatus::Available => {}
                _ => continue,
            }
            if self.shift_over(slot, now) {
                self.set_status(slot, CrewStatus::OffDuty, now, events);
                continue;
            }
            if self.take_from_queue(slot, now, events) {
                continue;
            }
            if let Some(released) = self.try_reassign(slot, now, events) {
                freed.push_back(released);
            }
        }
    }

    /// An available crew takes the queued call of highest priority it can serve and reach
    /// by road, calls handed back first, then the oldest ([`QueueOrder::Age`]) or the one
    /// it reaches soonest, ties oldest ([`QueueOrder::EtaWeighted`]). Returns whether it
    /// took one.
    pub(crate) fn take_from_queue(&mut self, slot: u32, now: i64, events: &mut Vec<Event>) -> bool {
        let crew = self.crew_at(slot);
        let t = crew.crew_type;
        let from = crew.snapped;
        // (call, need index, interim) for each servable queued call.
        let mut servable: Vec<(&Call, usize, bool)> = self
            .waiting
            .iter()
            .filter_map(|id| self.calls.get(id))
            .filter_map(|c| {
                // Most open calls have every need filled: skip them without allocating.
                if !c.has_pending_needs() {
                    return None;
                }
                let pending = c.pending_needs();
                if let Some(i) = need_for(c, &pending, t) {
                    return Some((c, i, false));
                }
                if t == CrewType::General && self.wants_interim(c) {
                    let i = pending
                        .iter()
                        .copied()
                        .find(|&i| c.needs[i].is_specialist())?;
                    return Some((c, i, true));
                }
                None
            })
            .collect();
        servable.sort_by_key(|(c, _, _)| c.queue_key());
        let by_eta = self.config.queue_order == QueueOrder::EtaWeighted;
        let mut best: Option<(PickKey, usize, bool)> = None;
        for (c, i, interim) in servable {
            // In queue order, the first reachable call wins; by ETA, the best of its group.
            let group = (c.priority, !c.handed_back);
            if best.is_some_and(|(k, _, _)| !by_eta || (k.0, k.1) < group) {
                break;
            }
            let Some(eta) = self.router.eta(&from, &c.snapped) else {
                continue;
            };
            let key = (
                group.0,
                group.1,
                if by_eta { eta } else { 0 },
                c.received(),
                c.id,
            );
            if best.is_none_or(|(k, _, _)| key < k) {
                best = Some((key, i, interim));
            }
        }
        let Some(((_, _, _, _, call_id), need_index, interim)) = best else {
            return false;
        };
        let call = &self.calls[&call_id];
        let need = call.needs[need_index];
        let at = call.snapped;
        let role = if interim {
            Role::Interim
        } else {
            Role::Need(need)
        };
        let etas = self.best_crew_etas_to(&at, role, &[slot]);
        let candidates = self.candidates(&etas, role);
        let Some(eta) = etas.get(slot) else {
            return false;
        };
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need,
            need_index: Some(need_index),
            interim,
            eta_ms: eta,
            at: now,
            reason: if interim {
                DecisionReason::InterimGeneralCrew
            } else {
                DecisionReason::QueuedThenReleased
            },
            candidates,
            divertible: Vec::new(),
        };
        self.attach(slot, Event::CallAssigned { decision }, now, events);
        true
    }
}
