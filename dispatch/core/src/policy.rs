//! How the dispatcher chooses: its settings, and the record of every decision.
//!
//! Tie rules, everywhere: equal ETAs go to the lowest crew id (string order, so `"A10"`
//! comes before `"A9"`); equal straight-line distances likewise; among queued calls, equal
//! priority and equal ETA go to the oldest call, then the lowest call id.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::call::CallId;
use crate::crew::CrewType;

/// How a crew is chosen for a need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The able, available crew with the smallest exact road ETA.
    #[default]
    RoadEta,
    /// The able, available crew nearest in a straight line (what many dispatch systems do;
    /// kept for comparison in the simulator). Its exact road ETA is still recorded.
    StraightLine,
}

/// Settings of a [`crate::Dispatcher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatchConfig {
    /// A crew that becomes available takes over an emergency from a crew still on its way
    /// when it arrives at least this much sooner (ms). Also the margin beyond which a
    /// specialist is "much later" than a general crew (see
    /// [`DispatchConfig::interim_general_for_specialist`]).
    pub reassign_gain_ms: u32,
    /// When an emergency needs a specialist and the specialist would arrive more than
    /// `reassign_gain_ms` after the nearest general crew (or none is free), send that
    /// general crew at once as well.
    pub interim_general_for_specialist: bool,
    /// How crews are chosen.
    pub policy: Policy,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            reassign_gain_ms: 120_000,
            interim_general_for_specialist: true,
            policy: Policy::RoadEta,
        }
    }
}

/// A crew considered for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The crew.
    pub crew_id: String,
    /// Its exact road ETA to the call (ms).
    pub eta_ms: u32,
}

/// Why a crew was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionReason {
    /// The able, available crew with the smallest road ETA.
    NearestByRoad,
    /// The able, available crew nearest in a straight line ([`Policy::StraightLine`]).
    NearestByStraightLine,
    /// The call waited in the queue; this crew became available and took it.
    QueuedThenReleased,
    /// This crew became available and arrives at least the configured gain sooner than
    /// the crew that was on its way.
    ReassignedFaster {
        /// The crew that was on its way (released).
        previous_crew: String,
        /// How much sooner this crew arrives (ms).
        gain_ms: u32,
    },
    /// The human dispatcher chose this crew.
    DispatcherOverride,
    /// A general crew sent at once while the specialist is far or not free.
    InterimGeneralCrew,
}

/// One assignment decision and why it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The call.
    pub call_id: CallId,
    /// The crew sent.
    pub crew_id: String,
    /// The need it serves (for an interim crew, the specialist need it covers).
    pub need: CrewType,
    /// Index of that need in the call's needs (which of several equal needs). `None` only
    /// in logs written before this field existed; replay then takes the first matching
    /// need.
    #[serde(default)]
    pub need_index: Option<usize>,
    /// Whether the crew is an interim general crew that does not fill the need.
    #[serde(default)]
    pub interim: bool,
    /// Its exact road ETA (ms).
    pub eta_ms: u32,
    /// When (Unix ms).
    pub at: i64,
    /// Why.
    pub reason: DecisionReason,
    /// The five available crews able to serve the need with the best road ETAs at that
    /// moment, best first (ties by lowest crew id); the chosen crew is among them unless it
    /// was diverted or overridden from outside that set.
    pub candidates: Vec<Candidate>,
}

/// How many candidates a decision records.
pub const CANDIDATES: usize = 5;

/// The order of candidates: ETA, then crew id.
pub fn candidate_order(a: &Candidate, b: &Candidate) -> Ordering {
    a.eta_ms
        .cmp(&b.eta_ms)
        .then_with(|| a.crew_id.cmp(&b.crew_id))
}

/// The `k` best candidates, best first.
pub fn top_k(mut all: Vec<Candidate>, k: usize) -> Vec<Candidate> {
    all.sort_by(candidate_order);
    all.truncate(k);
    all
}

/// The outcome of a search for the best crew: the chosen crew and the candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The chosen crew.
    pub crew_id: String,
    /// Its ETA (ms).
    pub eta_ms: u32,
    /// The five best by ETA (ties by crew id), best first.
    pub candidates: Vec<Candidate>,
}

impl Choice {
    /// The choice of the best candidate, if any.
    pub fn best_of(candidates: Vec<Candidate>) -> Option<Choice> {
        let best = candidates.first()?.clone();
        Some(Choice {
            crew_id: best.crew_id,
            eta_ms: best.eta_ms,
            candidates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, eta: u32) -> Candidate {
        Candidate {
            crew_id: id.into(),
            eta_ms: eta,
        }
    }

    #[test]
    fn ties_go_to_the_lowest_crew_id() {
        let top = top_k(
            vec![
                c("b", 5),
                c("a", 5),
                c("c", 1),
                c("d", 9),
                c("e", 7),
                c("f", 7),
            ],
            5,
        );
        let ids: Vec<&str> = top.iter().map(|c| c.crew_id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b", "e", "f"]);
    }

    #[test]
    fn reasons_serialize_with_a_kind() {
        let r = DecisionReason::ReassignedFaster {
            previous_crew: "A1".into(),
            gain_ms: 130_000,
        };
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            s,
            r#"{"kind":"reassigned_faster","previous_crew":"A1","gain_ms":130000}"#
        );
        assert_eq!(
            serde_json::to_string(&DecisionReason::NearestByRoad).unwrap(),
            r#"{"kind":"nearest_by_road"}"#
        );
    }

    #[test]
    fn config_defaults() {
        let c = DispatchConfig::default();
        assert_eq!(c.reassign_gain_ms, 120_000);
        assert!(c.interim_general_for_specialist);
        assert_eq!(c.policy, Policy::RoadEta);
        let d: DispatchConfig = serde_json::from_str(r#"{"policy": "straight_line"}"#).unwrap();
        assert_eq!(d.policy, Policy::StraightLine);
        assert_eq!(d.reassign_gain_ms, 120_000);
    }
}
