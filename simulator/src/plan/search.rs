//! The local search of a plan: from the MEXCLP start, moves are drawn at random (seeded) and
//! each checked by simulating the search's calls (the same calls for every candidate:
//! common random numbers). Three kinds of move, each keeping the crew-hours of the day:
//!
//! * a crew moves from one open station to another, in every hour it was on duty there;
//! * a station moves, with all its crews, to a candidate site not open;
//! * a crew-hour moves from one hour to another (a shift plan within a budget only).
//!
//! The search stops at its time limit, after its number of candidates, or after `patience`
//! candidates in a row that were not kept.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{evaluate, Difference, Plan, PlanOptions, Score};
use crate::calls::CallSpec;
use crate::engine::{RunOptions, World};
use crate::error::SimError;
use crate::places::Place;

/// A move of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Move {
    /// A crew from one station to another (candidate indexes).
    Crew {
        /// From.
        from: usize,
        /// To.
        to: usize,
    },
    /// A station, with its crews, to a site not open.
    Station {
        /// From.
        from: usize,
        /// To.
        to: usize,
    },
    /// A crew-hour at a station from one hour to another.
    Hour {
        /// The station.
        site: usize,
        /// From this hour.
        from: usize,
        /// To this hour.
        to: usize,
    },
}

impl Move {
    /// The plan after this move, if the move is possible.
    pub fn apply(&self, p: &Plan, opts: &PlanOptions) -> Option<Plan> {
        let mut q = p.clone();
        match *self {
            Move::Crew { from, to } => {
                if from == to || q.counts[to].iter().all(|&n| n == 0) {
                    return None;
                }
                let mut moved = false;
                for h in 0..24 {
                    if q.counts[from][h] > 0 {
                        q.counts[from][h] -= 1;
                        q.counts[to][h] += 1;
                        moved = true;
                    }
                }
                moved.then_some(q)
            }
            Move::Station { from, to } => {
                if q.counts[from].iter().all(|&n| n == 0) || q.counts[to].iter().any(|&n| n > 0) {
                    return None;
                }
                q.counts[to] = q.counts[from];
                q.counts[from] = [0; 24];
                Some(q)
            }
            Move::Hour { site, from, to } => {
                if from == to
                    || q.counts[site][from] == 0
                    || q.on_duty(from) <= 1
                    || q.on_duty(to) >= opts.crews as u32
                {
                    return None;
                }
                q.counts[site][from] -= 1;
                q.counts[site][to] += 1;
                Some(q)
            }
        }
    }
}

/// One candidate of the search and what its simulation said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// The move tried.
    #[serde(rename = "move")]
    pub tried: Move,
    /// Its differences against the plan it would replace.
    pub difference: Difference,
    /// Whether it was kept.
    pub kept: bool,
}

/// What the search did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Searched {
    /// The plan found.
    #[serde(skip)]
    pub plan: Plan,
    /// Its scores on the search's seeds.
    pub scores: Vec<Score>,
    /// The scores of the start (MEXCLP) on them.
    pub start_scores: Vec<Score>,
    /// Candidates simulated.
    pub candidates: usize,
    /// The moves kept, with their differences.
    pub kept: Vec<Step>,
    /// Seconds spent.
    pub seconds: f64,
}

/// Searches from `start`. `progress` is told the candidates tried, the moves kept and the
/// current late share and mean response (over the search's seeds).
#[allow(clippy::too_many_arguments)]
pub fn search(
    start: Plan,
    base: &World,
    sites: &[Place],
    calls: &[Vec<CallSpec>],
    run: &RunOptions,
    opts: &PlanOptions,
    shifts: bool,
    progress: &mut dyn FnMut(usize, usize, &[Score]),
) -> Result<Searched, SimError> {
    let t0 = Instant::now();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut plan = start;
    let seeds = &opts.search_seeds;
    let mut scores = evaluate(&plan.world(base, sites), seeds, calls, run, opts.late_s)?;
    let start_scores = scores.clone();
    let mut kept = Vec::new();
    let (mut candidates, mut idle) = (0usize, 0usize);
    progress(0, 0, &scores);
    while candidates < opts.max_candidates
        && idle < opts.patience
        && t0.elapsed().as_secs_f64() < opts.time_limit_s
    {
        let Some((tried, next)) = draw(&plan, opts, shifts, &mut rng) else {
            break;
        };
        candidates += 1;
        let got = evaluate(&next.world(base, sites), seeds, calls, run, opts.late_s)?;
        let difference = Difference::of(&scores, &got);
        if difference.better(&scores, &got) {
            plan = next;
            scores = got;
            kept.push(Step {
                tried,
                difference,
                kept: true,
            });
            idle = 0;
        } else {
            idle += 1;
        }
        progress(candidates, kept.len(), &scores);
    }
    Ok(Searched {
        plan,
        scores,
        start_scores,
        candidates,
        kept,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Draws a possible move (up to 200 tries): half of them crew moves, 30 % station moves,
/// 20 % hour moves when there are shifts (else crew and station moves only).
fn draw(plan: &Plan, opts: &PlanOptions, shifts: bool, rng: &mut StdRng) -> Option<(Move, Plan)> {
    let open = plan.opened();
    let n = plan.counts.len();
    for _ in 0..200 {
        let x = rng.gen::<f64>();
        let from = open[rng.gen_range(0..open.len())];
        let m = if x < 0.5 || (!shifts && x < 0.65) {
            Move::Crew {
                from,
                to: open[rng.gen_range(0..open.len())],
            }
        } else if x < 0.8 || !shifts {
            Move::Station {
                from,
                to: rng.gen_range(0..n),
            }
        } else {
            Move::Hour {
                site: from,
                from: rng.gen_range(0..24),
                to: rng.gen_range(0..24),
            }
        };
        if let Some(p) = m.apply(plan, opts) {
            if p.opened().len() <= opts.max_stations {
                return Some((m, p));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> PlanOptions {
        PlanOptions {
            crews: 3,
            crew_hours: None,
            max_stations: 2,
            cover_s: 480.0,
            late_s: 1200.0,
            search_seeds: vec![1],
            eval_seeds: vec![2],
            time_limit_s: 1.0,
            max_candidates: 1,
            patience: 1,
            seed: 1,
        }
    }

    #[test]
    fn moves_keep_the_crew_hours() {
        let mut a = [0u32; 24];
        a[..12].fill(2);
        a[12..].fill(1);
        let p = Plan {
            counts: vec![a, [1; 24], [0; 24]],
        };
        let o = opts();
        let crew = Move::Crew { from: 0, to: 1 }.apply(&p, &o).unwrap();
        assert_eq!(crew.counts[0][0], 1);
        assert_eq!(crew.counts[0][23], 0);
        assert_eq!(crew.counts[1][0], 2);
        assert_eq!(crew.crew_hours(), p.crew_hours());
        // A crew cannot move to a closed site, nor a station onto an open one.
        assert!(Move::Crew { from: 0, to: 2 }.apply(&p, &o).is_none());
        assert!(Move::Station { from: 0, to: 1 }.apply(&p, &o).is_none());
        let st = Move::Station { from: 1, to: 2 }.apply(&p, &o).unwrap();
        assert_eq!(st.opened(), [0, 2]);
        assert_eq!(st.crew_hours(), p.crew_hours());
        // An hour move keeps at least one crew in the hour left and at most the fleet.
        let h = Move::Hour {
            site: 0,
            from: 0,
            to: 20,
        }
        .apply(&p, &o)
        .unwrap();
        assert_eq!((h.on_duty(0), h.on_duty(20)), (2, 3));
        assert!(
            Move::Hour {
                site: 0,
                from: 20,
                to: 0
            }
            .apply(&p, &o)
            .is_none(),
            "3 is the fleet"
        );
    }
}
