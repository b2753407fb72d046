//! Diversion (pre-emption): a new or upgraded emergency may take a crew that is on its way
//! (dispatched or en route) to an urgent or non-urgent call, when that crew arrives at
//! least [`DispatchConfig::divert_gain_ms`] sooner than the best available crew, or when
//! no able crew is available. The call it was on its way to is handed back
//! ([`HandBackReason::Diverted`]) and takes the next crew or heads its priority's queue.
//! The decision records both pools: the available crews (`candidates`) and the crews that
//! could be diverted (`divertible`). Off with [`DispatchConfig::diversion`].
//!
//! [`DispatchConfig::divert_gain_ms`]: crate::DispatchConfig::divert_gain_ms
//! [`DispatchConfig::diversion`]: crate::DispatchConfig::diversion
//! [`HandBackReason::Diverted`]: crate::HandBackReason::Diverted

use router::Snapped;

use crate::assign::Role;
use crate::call::{CallId, Priority};
use crate::crew::{CrewStatus, CrewType};
use crate::event::{Event, HandBackReason};
use crate::policy::{top_k, Candidate, Decision, DecisionReason, CANDIDATES};

use super::Dispatcher;

/// A crew that can be diverted, found by [`Dispatcher::divertible`].
pub(crate) struct Divertible {
    /// The best crew: its slot, ETA and the call it is on its way to.
    pub slot: u32,
    pub eta: u32,
    pub from_call: CallId,
    /// Every crew that could be diverted, best first (at most five).
    pub pool: Vec<Candidate>,
    /// The ETA of the available crew it beats (`None`: none).
    pub available: Option<u32>,
}

impl Dispatcher {
    /// The crews on their way to a less urgent call, able to serve `need`, that reach `at`
    /// at least the diversion gain sooner than `available` (the ETA of the available crew
    /// that would be sent; `None`: none can be), best first (ties by crew id). `None`
    /// when diversion is off or no crew qualifies.
    ///
    /// Crews are taken in straight-line order and their exact ETAs computed one to one
    /// until the straight-line lower bound of the next exceeds both what still qualifies and
    /// the fifth best found, so far crews cost nothing.
    pub(crate) fn divertible(
        &mut self,
        at: &Snapped,
        need: CrewType,
        available: Option<u32>,
    ) -> Option<Divertible> {
        if !self.config.diversion {
            return None;
        }
        // The largest ETA that still qualifies.
        let limit = match available {
            Some(eta) => eta.checked_sub(self.config.divert_gain_ms)?,
            None => u32::MAX,
        };
        let role = Role::Need(need);
        let q = self.project(at.point);
        let mut pool: Vec<(f64, u32)> = self
            .crews
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| {
                let c = c.as_ref()?;
                let call = self.calls.get(&c.call?)?;
                let serving = call.assignment_of(&c.id)?;
                (c.status.is_responding()
                    && call.priority != Priority::Emergency
                    && !serving.interim
                    && role.admits(c.crew_type))
                .then(|| {
                    let p = self.project(c.snapped.point);
                    (
                        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt(),
                        slot as u32,
                    )
                })
            })
            .collect();
        if pool.is_empty() {
            return None;
        }
        pool.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        self.speed.refresh(&self.router);
        let mut found: Vec<Candidate> = Vec::new();
        for (d, slot) in pool {
            let bound = self.speed.lower_bound_ms(d);
            if bound > limit || (found.len() >= CANDIDATES && bound > found[CANDIDATES - 1].eta_ms)
            {
                break;
            }
            let crew = self.crew_at(slot);
            match self.router.eta(&crew.snapped, at) {
                Some(eta) if eta <= limit => {
                    found.push(Candidate {
                        crew_id: crew.id.clone(),
                        eta_ms: eta,
                    });
                    found = top_k(found, CANDIDATES);
                }
                _ => {}
            }
        }
        let best = found.first()?;
        let slot = self.crew_slot[&best.crew_id];
        Some(Divertible {
            slot,
            eta: best.eta_ms,
            from_call: self.crew_at(slot).call?,
            pool: found,
            available,
        })
    }

    /// Diverts the crew of `div` to need `need_index` of the emergency `call_id`: its call
    /// is handed back, and it is sent (passing through `available`). Returns the call it
    /// left, for the caller to decide again.
    pub(crate) fn divert(
        &mut self,
        call_id: CallId,
        need_index: usize,
        div: Divertible,
        candidates: Vec<Candidate>,
        now: i64,
        events: &mut Vec<Event>,
    ) -> CallId {
        let Divertible {
            slot,
            eta,
            from_call,
            pool,
            available,
        } = div;
        self.hand_back(from_call, slot, HandBackReason::Diverted, now, events);
        self.set_status(slot, CrewStatus::Available, now, events);
        let decision = Decision {
            call_id,
            crew_id: self.crew_at(slot).id.clone(),
            need: self.calls[&call_id].needs[need_index],
            need_index: Some(need_index),
            interim: false,
            eta_ms: eta,
            at: now,
            reason: DecisionReason::Diverted {
                from_call,
                gain_ms: available.map(|a| a - eta),
            },
            candidates,
            divertible: pool,
        };
        self.attach(slot, Event::CallAssigned { decision }, now, events);
        from_call
    }
}
