//! Re-assignment: a crew that comes free takes over an emergency it reaches much sooner.

use crate::assign::Role;
use crate::call::{Assignment, CallId, CallStatus, Priority};
use crate::crew::CrewStatus;
use crate::event::Event;
use crate::policy::{Candidate, Decision, DecisionReason};

use super::Dispatcher;

/// A possible hand-over of a call to a crew that came free.
struct Takeover {
    /// How much sooner the new crew arrives (ms).
    gain: u32,
    call_id: CallId,
    /// The crew on its way now, and its assignment.
    prev_slot: u32,
    prev: Assignment,
    candidates: Vec<Candidate>,
    /// The new crew's ETA.
    eta: u32,
}

impl Dispatcher {
    /// An available crew takes over the emergency whose responding crew it beats by the
    /// most, if by at least the configured gain. Returns the released crew.
    pub(crate) fn try_reassign(
        &mut self,
        slot: u32,
        now: i64,
        events: &mut Vec<Event>,
    ) -> Option<u32> {
        let t = self.crew_at(slot).crew_type;
        let mut emergencies: Vec<(i64, CallId)> = self
            .contested
            .iter()
            .filter_map(|id| self.calls.get(id))
            .filter(|c| {
                // A call's status is the furthest stage of its crews, so a call with one
                // crew on scene or beyond has no responding crew: skipped without looking
                // its crews up.
                c.priority == Priority::Emergency
                    && !c.status.is_closed()
                    && (matches!(c.status, CallStatus::Assigned | CallStatus::EnRoute)
                        || c.active_assignments().nth(1).is_some())
                    && c.active_assignments().any(|a| {
                        self.is_responding(&a.crew_id)
                            && if a.interim {
                                Role::Interim.admits(t)
                            } else {
                                t.can_serve(a.need)
                            }
                    })
            })
            .map(|c| (c.received(), c.id))
            .collect();
        emergencies.sort();
        // Only two ETAs matter for each responding crew (the free crew's and its own), so
        // they are computed one to one; the ETAs of every crew, for the recorded candidates,
        // only for the takeover chosen. Both are exact, so the choice is the same as with
        // every crew's ETAs for every emergency.
        let mut best: Option<(Takeover, Role)> = None;
        let from = self.crew_at(slot).snapped;
        // The free crew's ETA is at least its straight-line lower bound (see `assign`), so a
        // call none of whose responding crews is that much plus the gain away is skipped
        // without computing it.
        self.speed.refresh(&self.router);
        let here = self.project(from.point);
        let needed = self.config.reassign_gain_ms.max(1);
        let version = self.router.live().version;
        let mut cache = std::mem::take(&mut self.responding_eta);
        cache.resize(cache.len().max(self.crews.len()), None);
        for (_, call_id) in emergencies {
            let at = self.calls[&call_id].snapped;
            let call = &self.calls[&call_id];
            let mut responding: Vec<(&Assignment, Role, u32, u32)> = Vec::new();
            for a in call.active_assignments() {
                let role = if a.interim {
                    Role::Interim
                } else {
                    Role::Need(a.need)
                };
                if !self.is_responding(&a.crew_id) || !role.admits(t) {
                    continue;
                }
                let cur_slot = self.crew_slot[&a.crew_id];
                let current = match cache[cur_slot as usize] {
                    Some((c, v, eta)) if c == call_id && v == version => eta,
                    _ => {
                        let eta = self
                            .router
                            .eta(&self.crew_at(cur_slot).snapped, &at)
                            .unwrap_or(u32::MAX);
                        cache[cur_slot as usize] = Some((call_id, version, eta));
                        eta
                    }
                };
                responding.push((a, role, cur_slot, current));
            }
            let there = self.project(at.point);
            let lower = self.speed.lower_bound_ms(
                ((here[0] - there[0]).powi(2) + (here[1] - there[1]).powi(2)).sqrt(),
            );
            if responding
                .iter()
                .all(|r| r.3.saturating_sub(lower) < needed)
            {
                continue;
            }
            let Some(mine) = self.router.eta(&from, &at) else {
                continue;
            };
            for (a, role, cur_slot, current) in responding {
                let gain = current.saturating_sub(mine);
                if gain == 0 || gain < self.config.reassign_gain_ms {
                    continue;
                }
                if best.as_ref().is_none_or(|(b, _)| gain > b.gain) {
                    best = Some((
                        Takeover {
                            gain,
                            call_id,
                            prev_slot: cur_slot,
                            prev: a.clone(),
                            candidates: Vec::new(),
                            eta: mine,
                        },
                        role,
                    ));
                }
            }
        }
        self.responding_eta = cache;
        let (mut best, role) = best?;
        let at = self.calls[&best.call_id].snapped;
        let etas = self.best_crew_etas_to(&at, role, &[]);
        best.candidates = self.candidates(&etas, role);
        let Takeover {
            gain,
            call_id,
            prev_slot,
            prev,
            candidates,
            eta,
        } = best;
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need: prev.need,
            need_index: Some(prev.need_index),
            interim: prev.interim,
            eta_ms: eta,
            at: now,
            reason: DecisionReason::ReassignedFaster {
                previous_crew: prev.crew_id.clone(),
                gain_ms: gain,
            },
            candidates,
            divertible: Vec::new(),
        };
        let event = Event::CallReassigned {
            from_crew: prev.crew_id.clone(),
            to_crew: decision.crew_id.clone(),
            decision,
        };
        self.attach(slot, event, now, events);
        self.detach(call_id, prev_slot, now, events);
        self.set_status(prev_slot, CrewStatus::Available, now, events);
        Some(prev_slot)
    }
}
