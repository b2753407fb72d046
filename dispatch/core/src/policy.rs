//! How the dispatcher chooses: its settings, and the record of every decision.
//!
//! Tie rules, everywhere: equal ETAs go to the lowest crew id (string order, so `"A10"`
//! comes before `"A9"`); equal straight-line distances likewise; among queued calls, equal
//! priority and equal ETA go to the oldest call, then the lowest call id.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::call::{CallId, Priority};
use crate::crew::CrewType;
use crate::error::DispatchError;

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

/// How a crew that comes free picks among queued calls of the same (highest) priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    /// First come, first served within a priority (the received time, then the call id),
    /// as dispatch norms expect: no queued call starves while crews keep coming free.
    #[default]
    Age,
    /// The call the free crew reaches soonest within a priority, ties oldest: shorter
    /// drives, but a far call can wait behind nearer newer ones indefinitely.
    EtaWeighted,
}

/// The response-time norm of each priority (ms): a call is late when its first crew is not
/// on scene within it. Russian norms: an emergency crew on scene within 20 minutes, an
/// urgent call within 2 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Norms {
    /// Emergencies (default 20 min).
    #[serde(rename = "emergency_s", with = "seconds")]
    pub emergency_ms: u32,
    /// Urgent calls (default 2 h).
    #[serde(rename = "urgent_s", with = "seconds")]
    pub urgent_ms: u32,
    /// Non-urgent calls (default 24 h).
    #[serde(rename = "non_urgent_s", with = "seconds")]
    pub non_urgent_ms: u32,
}

impl Default for Norms {
    fn default() -> Self {
        Norms {
            emergency_ms: 20 * 60_000,
            urgent_ms: 120 * 60_000,
            non_urgent_ms: 24 * 3_600_000,
        }
    }
}

impl Norms {
    /// The norm of a priority (ms).
    pub fn of(&self, p: Priority) -> u32 {
        match p {
            Priority::Emergency => self.emergency_ms,
            Priority::Urgent => self.urgent_ms,
            Priority::NonUrgent => self.non_urgent_ms,
        }
    }
}

/// When a new call may be a duplicate of an open one (a second caller for the same
/// patient): within `radius_m` of it and `window_ms` of its reception. The console shows
/// such calls beside the new one before it is dispatched ([`crate::Dispatcher::possible_duplicates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Duplicates {
    /// How near (metres, default 150).
    pub radius_m: u32,
    /// How recent (default 30 min).
    #[serde(rename = "window_s", with = "seconds")]
    pub window_ms: u32,
}

impl Default for Duplicates {
    fn default() -> Self {
        Duplicates {
            radius_m: 150,
            window_ms: 30 * 60_000,
        }
    }
}

/// The dispatch rules of a [`crate::Dispatcher`], in one place: the service reads them
/// from `dispatch serve --config FILE.toml` (then flags) and the simulator from its
/// options, so both run the same rules. Durations are milliseconds in code and seconds in
/// files (`reassign_gain_s = 120`).
///
/// ```toml
/// policy = "road_eta"
/// queue_order = "age"
/// reassign_gain_s = 120
/// diversion = true
/// divert_gain_s = 180
/// interim_general_for_specialist = true
/// [norms]
/// emergency_s = 1200
/// urgent_s = 7200
/// non_urgent_s = 86400
/// [duplicates]
/// radius_m = 150
/// window_s = 1800
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// A crew that becomes available takes over an emergency from a crew still on its way
    /// when it arrives at least this much sooner (ms). Also the margin beyond which a
    /// specialist is "much later" than a general crew (see
    /// [`DispatchConfig::interim_general_for_specialist`]), and beyond which a crew on its
    /// way to a call whose place was corrected is replaced.
    #[serde(rename = "reassign_gain_s", with = "seconds")]
    pub reassign_gain_ms: u32,
    /// When an emergency needs a specialist and the specialist would arrive more than
    /// `reassign_gain_ms` after the nearest general crew (or none is free), send that
    /// general crew at once as well.
    pub interim_general_for_specialist: bool,
    /// How crews are chosen.
    pub policy: Policy,
    /// How a freed crew picks among queued calls of one priority.
    pub queue_order: QueueOrder,
    /// A new or upgraded emergency may take a crew on its way (dispatched or en route) to
    /// an urgent or non-urgent call (see [`DispatchConfig::divert_gain_ms`]).
    pub diversion: bool,
    /// Diversion happens when the crew on its way arrives at least this much sooner than
    /// the best available crew (ms), or when no crew is available.
    #[serde(rename = "divert_gain_s", with = "seconds")]
    pub divert_gain_ms: u32,
    /// The response-time norms per priority.
    pub norms: Norms,
    /// When a new call may be a duplicate of an open one.
    pub duplicates: Duplicates,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            reassign_gain_ms: 120_000,
            interim_general_for_specialist: true,
            policy: Policy::RoadEta,
            queue_order: QueueOrder::Age,
            diversion: true,
            divert_gain_ms: 180_000,
            norms: Norms::default(),
            duplicates: Duplicates::default(),
        }
    }
}

impl DispatchConfig {
    /// The rules of a TOML text (the fields above; missing ones keep their defaults).
    pub fn from_toml(text: &str) -> Result<DispatchConfig, DispatchError> {
        toml::from_str(text).map_err(|source| DispatchError::Settings { source })
    }

    /// These rules with the fields of a TOML text replaced (a variant of them: `diversion =
    /// false`, `queue_order = "eta_weighted"`).
    pub fn with_toml(&self, text: &str) -> Result<DispatchConfig, DispatchError> {
        let settings = |source| DispatchError::Settings { source };
        let changes: toml::Table = toml::from_str(text).map_err(settings)?;
        let mut all = toml::Table::try_from(self).unwrap_or_default();
        merge(&mut all, changes);
        toml::Value::Table(all).try_into().map_err(settings)
    }

    /// These rules with the overrides of the command line.
    pub fn with(mut self, o: &RuleOverrides) -> Result<DispatchConfig, DispatchError> {
        if let Some(q) = o.queue_order {
            self.queue_order = q;
        }
        if let Some(d) = o.diversion {
            self.diversion = d;
        }
        if let Some(s) = o.divert_gain_s {
            self.divert_gain_ms = seconds::to_ms("divert_gain_s", s)?;
        }
        if let Some(s) = o.reassign_gain_s {
            self.reassign_gain_ms = seconds::to_ms("reassign_gain_s", s)?;
        }
        Ok(self)
    }
}

/// Merges `changes` into `into`, tables field by field.
fn merge(into: &mut toml::Table, changes: toml::Table) {
    for (k, v) in changes {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Rules given on a command line over a file's: the same flags for the service and the
/// simulator (feature `cli`: flattened into both commands with clap, the doc lines below
/// being their help).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct RuleOverrides {
    /// Queue order within a priority: `age` (first come, first served) or `eta_weighted`.
    #[cfg_attr(feature = "cli", arg(long))]
    pub queue_order: Option<QueueOrder>,
    /// Whether a new emergency may divert a crew on its way to a less urgent call.
    #[cfg_attr(feature = "cli", arg(long))]
    pub diversion: Option<bool>,
    /// Diversion when the crew arrives this much sooner than the best available one (s).
    #[cfg_attr(feature = "cli", arg(long))]
    pub divert_gain_s: Option<f64>,
    /// A freed crew takes over an emergency when it arrives this much sooner (s).
    #[cfg_attr(feature = "cli", arg(long))]
    pub reassign_gain_s: Option<f64>,
}

impl std::str::FromStr for QueueOrder {
    type Err = DispatchError;

    /// `age`, or `eta_weighted` (also `eta-weighted`).
    fn from_str(s: &str) -> Result<QueueOrder, DispatchError> {
        match s {
            "age" => Ok(QueueOrder::Age),
            "eta_weighted" | "eta-weighted" => Ok(QueueOrder::EtaWeighted),
            _ => Err(DispatchError::SettingOutOfRange {
                setting: "queue_order",
                message: format!("{s:?}: age or eta_weighted"),
            }),
        }
    }
}

/// Milliseconds in code as seconds in files: `120` or `120.5` reads as 120,000 or 120,500
/// ms; negative, fractional below a millisecond or beyond `u32` milliseconds is refused.
mod seconds {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(ms: &u32, s: S) -> Result<S::Ok, S::Error> {
        if ms % 1000 == 0 {
            s.serialize_u32(ms / 1000)
        } else {
            s.serialize_f64(f64::from(*ms) / 1000.0)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let s = f64::deserialize(d)?;
        checked(s).map_err(D::Error::custom)
    }

    /// Seconds as milliseconds, if a duration from 0 to `u32::MAX` ms.
    fn checked(s: f64) -> Result<u32, String> {
        let ms = s * 1000.0;
        if !ms.is_finite() || ms < 0.0 || ms > f64::from(u32::MAX) {
            return Err(format!(
                "{s} s is not a duration from 0 to {} s",
                u32::MAX / 1000
            ));
        }
        Ok(ms.round() as u32)
    }

    /// [`checked`] for the setting named `setting`.
    pub(super) fn to_ms(setting: &'static str, s: f64) -> Result<u32, crate::DispatchError> {
        checked(s).map_err(|message| crate::DispatchError::SettingOutOfRange { setting, message })
    }
}

/// A crew considered for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// The crew.
    pub crew_id: String,
    /// Its exact road ETA to the call (ms).
    pub eta_ms: u32,
}

/// Why a crew was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// This crew was on its way to a less urgent call and was diverted to this emergency:
    /// it arrives at least the configured gain sooner than the best available crew, or no
    /// crew is available. The other call is handed back.
    Diverted {
        /// The call it was on its way to.
        from_call: CallId,
        /// How much sooner than the best available crew it arrives (ms); `None` when no
        /// crew was available.
        gain_ms: Option<u32>,
    },
}

/// One assignment decision and why it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// For an emergency, when diversion is on: the crews on their way to less urgent calls
    /// that arrive soon enough to be diverted (see [`DispatchConfig::divert_gain_ms`]), at
    /// most five, best first; empty when none does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub divertible: Vec<Candidate>,
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
        assert_eq!(c.queue_order, QueueOrder::Age);
        assert!(c.diversion);
        assert_eq!(c.divert_gain_ms, 180_000);
        assert_eq!(c.norms.of(Priority::Emergency), 20 * 60_000);
    }

    #[test]
    fn variants_and_overrides_change_only_what_they_name() {
        let base = DispatchConfig {
            reassign_gain_ms: 90_000,
            ..Default::default()
        };
        let v = base
            .with_toml("diversion = false\n[norms]\nurgent_s = 3600")
            .unwrap();
        assert!(!v.diversion);
        assert_eq!(v.norms.urgent_ms, 3_600_000);
        assert_eq!(v.norms.emergency_ms, base.norms.emergency_ms);
        assert_eq!(v.reassign_gain_ms, 90_000);
        assert!(base.with_toml("diversion = 3").is_err());
        assert!(base.with_toml("nonsense = 1").is_err());
        let o = RuleOverrides {
            queue_order: Some("eta-weighted".parse().unwrap()),
            divert_gain_s: Some(240.5),
            ..Default::default()
        };
        let w = base.with(&o).unwrap();
        assert_eq!(w.queue_order, QueueOrder::EtaWeighted);
        assert_eq!(w.divert_gain_ms, 240_500);
        assert!(w.diversion);
        let bad = RuleOverrides {
            reassign_gain_s: Some(f64::NAN),
            ..Default::default()
        };
        let e = base.with(&bad).unwrap_err().to_string();
        assert!(e.starts_with("reassign_gain_s:"), "{e}");
        assert!("random".parse::<QueueOrder>().is_err());
    }

    #[test]
    fn config_reads_seconds_from_toml_and_refuses_what_it_does_not_know() {
        let text = r#"
            policy = "road_eta"
            queue_order = "eta_weighted"
            reassign_gain_s = 90.5
            diversion = false
            divert_gain_s = 240
            [norms]
            emergency_s = 900
        "#;
        let c: DispatchConfig = toml::from_str(text).unwrap();
        assert_eq!(c.reassign_gain_ms, 90_500);
        assert_eq!(c.queue_order, QueueOrder::EtaWeighted);
        assert!(!c.diversion);
        assert_eq!(c.divert_gain_ms, 240_000);
        assert_eq!(c.norms.emergency_ms, 900_000);
        assert_eq!(c.norms.urgent_ms, Norms::default().urgent_ms);
        // What it writes, it reads back.
        let back: DispatchConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        for bad in [
            "reassign_gain_s = -1",
            "divert_gain = 3",
            "queue_order = \"random\"",
            "divert_gain_s = 1e12",
        ] {
            let e = toml::from_str::<DispatchConfig>(bad).unwrap_err();
            println!("{bad}: {e}");
        }
        // The example of the docs reads as the defaults.
        let doc = include_str!("policy.rs");
        let start = doc.find("/// ```toml\n").unwrap() + 12;
        let end = start + doc[start..].find("/// ```\n").unwrap();
        let example: String = doc[start..end]
            .lines()
            .map(|l| l.trim_start().trim_start_matches("///").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let c: DispatchConfig = toml::from_str(&example).unwrap();
        assert_eq!(c, DispatchConfig::default());
    }
}
