//! What a run means for a planner: response times (call to first crew on scene) and queueing
//! times (call to first crew assigned) per priority, the shares within 8 and 20 minutes,
//! crew utilization, calls never served.
//!
//! Percentiles are nearest-rank over the calls served (`p` of `n` sorted values: the
//! `⌈p·n⌉`-th). Shares within 8 and 20 min are over every call on the map, a call never
//! served counting as late, so a policy cannot look better by leaving calls unserved.
//! Utilization is the busy time (dispatched to available) of all crews during the hours of
//! calls over crews × hours (over the crew-hours on duty, under a shift plan).

use std::collections::BTreeMap;

use dispatch_core::Priority;
use serde::{Deserialize, Serialize};

use crate::engine::{CallOutcome, CallRecord, RunResult};

/// Eight minutes, ms.
pub const EIGHT_MIN_MS: i64 = 480_000;
/// Twenty minutes, ms: later is a late arrival.
pub const TWENTY_MIN_MS: i64 = 1_200_000;

/// Percentiles and mean of a set of durations, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// How many values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

/// The `p` nearest-rank percentile of sorted values (the default value, zero, of none).
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Distribution {
    /// Of durations in ms (any order).
    pub fn of_ms(mut v: Vec<i64>) -> Distribution {
        if v.is_empty() {
            return Distribution::default();
        }
        v.sort_unstable();
        let s = |ms: i64| ms as f64 / 1000.0;
        Distribution {
            n: v.len(),
            mean: round3(v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64 / 1000.0),
            p50: s(percentile(&v, 0.5)),
            p90: s(percentile(&v, 0.9)),
            p95: s(percentile(&v, 0.95)),
            max: s(v[v.len() - 1]),
        }
    }
}

/// Response times with the shares a planner reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Over the calls served.
    #[serde(flatten)]
    pub dist: Distribution,
    /// Share of calls on the map reached within 8 min.
    pub within_8_min: f64,
    /// Share of calls on the map reached within 20 min.
    pub within_20_min: f64,
    /// Share of calls on the map reached after 20 min or never (late arrivals).
    pub late_over_20_min: f64,
}

/// Figures for a group of calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Calls received (off the map included).
    pub calls: usize,
    /// Calls a crew reached.
    pub served: usize,
    /// Calls on the map no crew reached before the end.
    pub never_served: usize,
    /// Calls off the map (skipped).
    pub off_map: usize,
    /// Call to first crew on scene, seconds.
    pub response_s: Response,
    /// Call to first crew assigned, seconds.
    pub queue_s: Distribution,
}

/// The summary of a run (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The policy.
    pub policy: String,
    /// Hours of calls.
    pub hours: f64,
    /// Crews.
    pub crews: usize,
    /// Over all calls.
    #[serde(flatten)]
    pub all: Group,
    /// The same per priority (`emergency`, `urgent`, `non_urgent`).
    pub by_priority: BTreeMap<String, Group>,
    /// Busy crew time over crew time during the hours of calls.
    pub crew_utilization: f64,
    /// Trips per crew and day.
    pub trips_per_crew_day: f64,
    /// Idle crews sent to another station (coverage policy).
    pub relocations: u64,
    /// Non-urgent calls held back for coverage.
    pub held_for_coverage: u64,
    /// Events processed.
    pub events: u64,
    /// Crews broken down on their way to a call (`--breakdown-share`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub breakdowns: u64,
    /// Calls whose priority changed after intake (`--upgrade-share`, `--downgrade-share`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retriaged: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn group<'a>(calls: impl Iterator<Item = &'a CallRecord>) -> Group {
    let mut g = Group::default();
    let mut resp = Vec::new();
    let mut queue = Vec::new();
    let (mut in8, mut in20, mut on_map) = (0usize, 0usize, 0usize);
    for c in calls {
        g.calls += 1;
        match c.outcome {
            CallOutcome::OffMap => {
                g.off_map += 1;
                continue;
            }
            CallOutcome::NeverServed => g.never_served += 1,
            CallOutcome::Served => g.served += 1,
        }
        on_map += 1;
        if let Some(r) = c.response_ms() {
            resp.push(r);
            in8 += usize::from(r <= EIGHT_MIN_MS);
            in20 += usize::from(r <= TWENTY_MIN_MS);
        }
        if let Some(q) = c.queue_ms() {
            queue.push(q);
        }
    }
    let share = |k: usize| {
        if on_map == 0 {
            0.0
        } else {
            osm_data::round6(k as f64 / on_map as f64)
        }
    };
    g.response_s = Response {
        dist: Distribution::of_ms(resp),
        within_8_min: share(in8),
        within_20_min: share(in20),
        late_over_20_min: share(on_map - in20),
    };
    g.queue_s = Distribution::of_ms(queue);
    g
}

impl Summary {
    /// The summary of a run.
    pub fn of(r: &RunResult) -> Summary {
        let mut by_priority = BTreeMap::new();
        for p in [Priority::Emergency, Priority::Urgent, Priority::NonUrgent] {
            by_priority.insert(
                p.as_str().to_string(),
                group(r.calls.iter().filter(|c| c.priority == p)),
            );
        }
        let busy: i64 = r.crew_busy_ms.iter().sum();
        let crew_hours = r.crew_hours.unwrap_or(r.hours * r.crews as f64);
        let crew_ms = match r.crew_hours {
            Some(h) => h * 3_600_000.0,
            None => r.hours * 3_600_000.0 * r.crews as f64,
        };
        let trips = r.calls.iter().map(|c| c.decisions as f64).sum::<f64>();
        Summary {
            policy: r.policy.as_str().to_string(),
            hours: r.hours,
            crews: r.crews,
            all: group(r.calls.iter()),
            by_priority,
            crew_utilization: if crew_ms > 0.0 {
                osm_data::round6(busy as f64 / crew_ms)
            } else {
                0.0
            },
            trips_per_crew_day: if r.crew_hours.is_some() && crew_hours > 0.0 {
                round3(trips / (crew_hours / 24.0))
            } else if r.crews > 0 {
                round3(trips / r.crews as f64 / (r.hours / 24.0))
            } else {
                0.0
            },
            relocations: r.relocations,
            held_for_coverage: r.held,
            events: r.events,
            breakdowns: r.breakdowns,
            retriaged: r.retriaged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.5), 5);
        assert_eq!(percentile(&v, 0.9), 9);
        assert_eq!(percentile(&v, 0.95), 10);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 0.95), 7);
        let d = Distribution::of_ms(vec![3000, 1000, 2000]);
        assert_eq!((d.n, d.mean, d.p50, d.max), (3, 2.0, 2.0, 3.0));
    }
}
