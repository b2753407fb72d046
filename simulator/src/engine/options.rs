//! The settings of a run: the policy that chooses and places crews, road closures in time
//! windows, and everything else [`RunOptions`] holds besides the world and the calls.

use dispatch_core::DispatchConfig;
use router::ClosureArea;
use serde::{Deserialize, Serialize};

use crate::coverage::CoverageOptions;
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
        self.coverage.validate()
    }
}
