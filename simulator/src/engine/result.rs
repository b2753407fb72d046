//! What a run measured: each call's history and outcome, the crews' busy time and the
//! counts of the policy's moves.

use dispatch_core::Priority;
use serde::{Deserialize, Serialize};

use super::SimPolicy;
use crate::scheduler::SimTime;

/// What became of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// A crew reached it.
    Served,
    /// No crew reached it before the end of the run.
    NeverServed,
    /// Off the map: counted and skipped.
    OffMap,
}

/// One call's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Its id.
    pub id: u64,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// How urgent.
    pub priority: Priority,
    /// What became of it.
    pub outcome: CallOutcome,
    /// The crew that reached it (else the crew last sent).
    pub crew: Option<String>,
    /// Received (ms from the start).
    pub received: SimTime,
    /// First crew assigned.
    pub assigned: Option<SimTime>,
    /// First crew driving.
    pub en_route: Option<SimTime>,
    /// First crew on scene.
    pub on_scene: Option<SimTime>,
    /// Left the scene.
    pub left_scene: Option<SimTime>,
    /// At the hospital.
    pub at_hospital: Option<SimTime>,
    /// Handed over.
    pub handover: Option<SimTime>,
    /// The last crew free again.
    pub available: Option<SimTime>,
    /// The hospital the patient was taken to.
    pub hospital: Option<String>,
    /// How many crews were sent over its life (re-assignments count).
    pub decisions: u32,
}

impl CallRecord {
    /// Call to first crew on scene (ms).
    pub fn response_ms(&self) -> Option<i64> {
        Some(self.on_scene? - self.received)
    }

    /// Call to first crew assigned (ms).
    pub fn queue_ms(&self) -> Option<i64> {
        Some(self.assigned? - self.received)
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The policy.
    pub policy: SimPolicy,
    /// Hours of calls.
    pub hours: f64,
    /// Crews.
    pub crews: usize,
    /// One record per call, in id order.
    pub calls: Vec<CallRecord>,
    /// Busy time of each crew within the hours of calls (ms): from dispatched to available.
    pub crew_busy_ms: Vec<i64>,
    /// Crew-hours on duty within the hours of calls under a shift plan (`None`: every crew
    /// on duty throughout, `hours` × `crews`).
    #[serde(default)]
    pub crew_hours: Option<f64>,
    /// Mean number of busy crews in each hour of the run.
    pub busy_by_hour: Vec<f64>,
    /// Events processed.
    pub events: u64,
    /// Idle crews sent to another station (coverage policy).
    pub relocations: u64,
    /// Non-urgent calls held back to keep coverage (coverage policy).
    pub held: u64,
    /// Crews sent to a call they could not reach (closures) and stood down.
    pub unreachable: u64,
    /// Crews broken down on their way to a call.
    #[serde(default)]
    pub breakdowns: u64,
    /// Calls whose priority changed after intake.
    #[serde(default)]
    pub retriaged: u64,
}
