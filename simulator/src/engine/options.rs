//! The settings of a run: the policy that chooses and places crews, road closures in time
//! windows, and everything else [`RunOptions`] holds besides the world and the calls.

use dispatch_core::{DispatchConfig, Priority};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::ClosureArea;
use serde::{Deserialize, Serialize};

use crate::coverage::CoverageOptions;
use crate::dist::LogNormal;
use crate::error::SimError;

/// How crews are chosen and placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimPolicy {
    /// The service's own: the available crew with the smallest road ETA; crews return home.
    RoadEta,
    /// The available crew nearest in a straight line (common in dispatch systems).
    StraightLine,
    /// Road ETA, plus DMEXCLP-style relocation and move-up of idle crews, and the last crew
    /// of an area kept back from non-urgent calls (see [`crate::coverage`]).
    Coverage,
}

impl SimPolicy {
    /// Every policy.
    pub const ALL: [SimPolicy; 3] = [
        SimPolicy::RoadEta,
        SimPolicy::StraightLine,
        SimPolicy::Coverage,
    ];

    /// The name used on the command line and in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            SimPolicy::RoadEta => "road-eta",
            SimPolicy::StraightLine => "straight-line",
            SimPolicy::Coverage => "coverage",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Result<SimPolicy, SimError> {
        SimPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s || p.as_str().replace('-', "_") == s)
            .ok_or_else(|| {
                SimError::setting(
                    "--policy",
                    format!("unknown policy {s:?} (road-eta, straight-line, coverage)"),
                )
            })
    }
}

/// A road closure during part of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureWindow {
    /// Which roads.
    pub area: ClosureArea,
    /// `None`: closed; `Some(f)`: travel times multiplied by `f`.
    pub factor: Option<f64>,
    /// From (s from the start).
    pub from_s: f64,
    /// Until (s from the start; `None`: to the end).
    pub until_s: Option<f64>,
}

/// Settings of a run (besides the world and the calls).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The policy.
    pub policy: SimPolicy,
    /// Calls come in during the first `hours`; utilization is measured over them.
    pub hours: f64,
    /// After that, crews finish for at most this long; calls not reached by then are never
    /// served.
    pub drain_hours: f64,
    /// Moving crews report their position this often (s).
    pub position_interval_s: f64,
    /// The dispatch rules (the core's settings; the policy's choice of crew is set by
    /// [`RunOptions::policy`]).
    pub rules: DispatchConfig,
    /// Road closures in time windows.
    pub closures: Vec<ClosureWindow>,
    /// Settings of the coverage policy.
    pub coverage: CoverageOptions,
    /// Runs longer than this are simulated in segments of this many hours, in parallel;
    /// 0 runs every length in one piece (see [`crate::segments`]).
    pub segment_hours: f64,
    /// Each segment also simulates this many hours before its own (to warm up from crews
    /// at their stations) and after (so its last calls compete with the next ones).
    pub segment_overlap_hours: f64,
    /// Threads for the segments (0: one per core). The result does not depend on it.
    pub threads: usize,
    /// The classical models' setting, for comparison with them and the literature: a crew
    /// is free only once back at its station (it cannot be sent on the way back), so it is
    /// always sent from a station; moving crews report no positions, and no crew is
    /// diverted on its way (the rules' `diversion` is off).
    pub station_only: bool,
    /// Breakdowns and re-triage (none by default).
    pub exceptions: Exceptions,
}

/// The everyday exceptions the dispatch core has rules for, as inputs of a run: crews that
/// break down on their way, and calls whose priority changes after intake. Each call's
/// chances are drawn from its own random stream (the seed and the call's id), apart from the
/// call stream, so runs with different shares meet the same calls and the same draws (a
/// call that breaks down at share 2 % also does at 5 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Exceptions {
    /// Share of trips to a call in which the crew breaks down on the way (at a uniformly
    /// drawn point of the drive); the core hands the call back and sends another crew.
    pub breakdown_share: f64,
    /// How long a broken-down crew is out of service before it is free again.
    pub repair: LogNormal,
    /// Share of urgent and non-urgent calls upgraded to emergencies after intake.
    pub upgrade_share: f64,
    /// Share of emergencies downgraded to urgent after intake.
    pub downgrade_share: f64,
    /// When the priority changes, after the call came in (if no crew is on scene by then).
    pub retriage_after: LogNormal,
    /// The seed of the draws (`simulator compare` sets each seed's own).
    pub seed: u64,
}

impl Default for Exceptions {
    fn default() -> Self {
        Exceptions {
            breakdown_share: 0.0,
            repair: LogNormal::new(1_800.0, 0.5),
            upgrade_share: 0.0,
            downgrade_share: 0.0,
            retriage_after: LogNormal::new(180.0, 0.5),
            seed: 1,
        }
    }
}

impl Exceptions {
    /// Whether any exception can happen.
    pub fn any(&self) -> bool {
        self.breakdown_share > 0.0 || self.upgrade_share > 0.0 || self.downgrade_share > 0.0
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, share) in [
            ("--breakdown-share", self.breakdown_share),
            ("--upgrade-share", self.upgrade_share),
            ("--downgrade-share", self.downgrade_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(SimError::setting(
                    name,
                    format!("must be between 0 and 1, not {share}"),
                ));
            }
        }
        self.repair.validate("--repair")?;
        self.retriage_after.validate("--retriage-after")
    }

    /// What happens to call `id` (its `priority` as it came in).
    pub fn draw(&self, id: u64, priority: Priority) -> CallExceptions {
        let mut out = CallExceptions::default();
        if !self.any() {
            return out;
        }
        // One stream per call: the draws do not depend on the other calls, nor on the shares.
        let mut rng = StdRng::seed_from_u64(self.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (u_break, at, u_triage) = (rng.gen::<f64>(), rng.gen::<f64>(), rng.gen::<f64>());
        let repair_ms = self.repair.sample_ms(&mut rng);
        let after_ms = self.retriage_after.sample_ms(&mut rng);
        if u_break < self.breakdown_share {
            out.breakdown = Some((at, repair_ms));
        }
        out.retriage = match priority {
            Priority::Emergency if u_triage < self.downgrade_share => {
                Some((after_ms, Priority::Urgent))
            }
            Priority::Urgent | Priority::NonUrgent if u_triage < self.upgrade_share => {
                Some((after_ms, Priority::Emergency))
            }
            _ => None,
        };
        out
    }
}

/// What the exceptions hold for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallExceptions {
    /// The first crew sent breaks down at this share of its drive, and is out of service
    /// this long (ms).
    pub breakdown: Option<(f64, i64)>,
    /// The priority changes to this, this long (ms) after the call came in.
    pub retriage: Option<(i64, Priority)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            policy: SimPolicy::RoadEta,
            hours: 24.0,
            drain_hours: 6.0,
            position_interval_s: 30.0,
            rules: DispatchConfig::default(),
            closures: Vec::new(),
            coverage: CoverageOptions::default(),
            segment_hours: 168.0,
            segment_overlap_hours: 3.0,
            threads: 0,
            station_only: false,
            exceptions: Exceptions::default(),
        }
    }
}

impl RunOptions {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(self.hours.is_finite() && self.hours > 0.0) {
            return Err(SimError::setting(
                "--hours",
                format!("must be a positive number of hours, not {}", self.hours),
            ));
        }
        SimError::non_negative("--drain-hours", self.drain_hours)?;
        SimError::non_negative("--segment-hours", self.segment_hours)?;
        SimError::non_negative("--segment-overlap-hours", self.segment_overlap_hours)?;
        if !(self.position_interval_s.is_finite() && self.position_interval_s >= 1.0) {
            return Err(SimError::setting(
                "--position-interval-s",
                format!("must be at least 1 s, not {}", self.position_interval_s),
            ));
        }
        for (i, c) in self.closures.iter().enumerate() {
            let ok =
                c.from_s.is_finite() && c.until_s.is_none_or(|u| u.is_finite() && u > c.from_s);
            if !ok {
                return Err(SimError::setting(
                    "--closure",
                    format!("closure {} must end after it starts", i + 1),
                ));
            }
        }
        self.exceptions.validate()?;
        self.coverage.validate()
    }
}
