//! Station and shift planning (`simulator plan`): where to put the stations, and how many
//! crews each has in each hour of the day, within a budget of crew-hours.
//!
//! 1. **Sites** ([`sites`]): from candidate points (a file, or road points on a grid), the
//!    greedy MEXCLP heuristic (Daskin 1983) places the crews where the expected covered
//!    demand is largest, with the busy fraction estimated from the calls, opening at most
//!    `max_stations` sites.
//! 2. **Shifts**: the day's crew-hours are spread over the hours in proportion to the calls
//!    of each hour (at least one crew, at most the fleet), and each hour's crews placed on the
//!    open sites by the same greedy MEXCLP, with that hour's busy fraction.
//! 3. **Local search** ([`search`]): moves of a crew between stations, of a station to
//!    another candidate site, and of a crew-hour between hours, each checked by simulating
//!    the same calls over several seeds (common random numbers). A move is kept when the
//!    late arrivals fall (the mean over the seeds of the paired differences), or stay exactly
//!    the same while the mean response falls with 95 % confidence.
//! 4. **Evaluation**: the plan against the automatic placement (the same fleet on duty all
//!    day), on seeds the search did not see, with 95 % intervals of the paired differences.
//!
//! Late arrivals are emergencies reached later than `late_s` (1,200 s) or never, as a share
//! of the emergencies on the map; the mean response is over all calls served.

pub mod output;
pub mod search;
pub mod sites;

use std::sync::Arc;

use dispatch_core::Priority;
use serde::{Deserialize, Serialize};

use crate::calls::CallSpec;
use crate::compare::{estimate, Estimate};
use crate::engine::{self, CallOutcome, RunOptions, RunResult, World};
use crate::error::SimError;
use crate::places::Place;
use crate::scheduler::HOUR_MS;
use crate::shifts::Roster;

/// Settings of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// The fleet: the most crews on duty in any hour.
    pub crews: usize,
    /// Crew-hours a day (`None`: the whole fleet all day).
    pub crew_hours: Option<f64>,
    /// The most stations to open.
    pub max_stations: usize,
    /// MEXCLP's coverage time (s): a cell is covered from a site this close by road.
    pub cover_s: f64,
    /// An emergency reached later than this (s) is late.
    pub late_s: f64,
    /// Seeds of the calls the search simulates.
    pub search_seeds: Vec<u64>,
    /// Seeds of the calls the plan is evaluated on (not the search's).
    pub eval_seeds: Vec<u64>,
    /// The search stops after this long (s).
    pub time_limit_s: f64,
    /// The search stops after this many candidates.
    pub max_candidates: usize,
    /// The search stops after this many candidates in a row are not kept.
    pub patience: usize,
    /// The seed of the search's choice of moves.
    pub seed: u64,
}

impl PlanOptions {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.crews == 0 {
            return Err(SimError::setting(
                "--crews",
                "there must be at least one crew",
            ));
        }
        if self.max_stations == 0 {
            return Err(SimError::setting("--max-stations", "at least one station"));
        }
        if let Some(b) = self.crew_hours {
            if !(b.is_finite() && b >= 24.0) {
                return Err(SimError::setting(
                    "--crew-hours",
                    format!("at least 24 crew-hours a day (one crew all day), not {b}"),
                ));
            }
        }
        SimError::non_negative("--cover-s", self.cover_s)?;
        SimError::non_negative("--late-s", self.late_s)?;
        SimError::non_negative("--time-limit-s", self.time_limit_s)?;
        if self.search_seeds.is_empty() || self.eval_seeds.is_empty() {
            return Err(SimError::setting("--seeds", "at least one seed"));
        }
        Ok(())
    }

    /// The day's crew-hours: the budget, at most the whole fleet all day.
    pub fn budget(&self) -> u32 {
        let all = (self.crews * 24) as f64;
        self.crew_hours.unwrap_or(all).min(all).round() as u32
    }
}

/// A plan: crews per candidate site and hour of the day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// `counts[site][hour]`, over the candidate sites (a site with no crew is not opened).
    pub counts: Vec<[u32; 24]>,
}

impl Plan {
    /// The sites opened (with a crew in some hour), in candidate order.
    pub fn opened(&self) -> Vec<usize> {
        (0..self.counts.len())
            .filter(|&j| self.counts[j].iter().any(|&n| n > 0))
            .collect()
    }

    /// Crews on duty in hour `h`.
    pub fn on_duty(&self, h: usize) -> u32 {
        self.counts.iter().map(|c| c[h]).sum()
    }

    /// Crew-hours a day.
    pub fn crew_hours(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    /// The world of this plan: the opened sites as stations, their crews by the plan's
    /// shifts, and the rest (map, demand, hospitals) of `base`.
    pub fn world(&self, base: &World, sites: &[Place]) -> World {
        let opened = self.opened();
        let counts: Vec<[[u32; 24]; 4]> = opened
            .iter()
            .map(|&j| {
                let mut by_type = [[0u32; 24]; 4];
                by_type[0] = self.counts[j];
                by_type
            })
            .collect();
        let roster = Roster::from_counts(&counts);
        World {
            router: base.router.clone(),
            demand: base.demand.clone(),
            stations: opened.iter().map(|&j| sites[j].clone()).collect(),
            hospitals: base.hospitals.clone(),
            crew_station: roster.crew_station.clone(),
            roster: Some(Arc::new(roster)),
        }
    }
}

/// What one run of a plan scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Emergencies late (later than `late_s` or never reached), as a share of the
    /// emergencies on the map.
    pub late: f64,
    /// Mean response of the calls served (s).
    pub mean_s: f64,
}

impl Score {
    /// The score of a run.
    pub fn of(r: &RunResult, late_s: f64) -> Score {
        let late_ms = (late_s * 1000.0).round() as i64;
        let (mut emergencies, mut late) = (0usize, 0usize);
        let (mut sum, mut served) = (0f64, 0usize);
        for c in &r.calls {
            if c.outcome == CallOutcome::OffMap {
                continue;
            }
            let resp = c.response_ms();
            if let Some(ms) = resp {
                sum += ms as f64 / 1000.0;
                served += 1;
            }
            if c.priority == Priority::Emergency {
                emergencies += 1;
                late += usize::from(resp.is_none_or(|ms| ms > late_ms));
            }
        }
        Score {
            late: if emergencies == 0 {
                0.0
            } else {
                late as f64 / emergencies as f64
            },
            mean_s: if served == 0 {
                0.0
            } else {
                sum / served as f64
            },
        }
    }
}

/// Runs `world` on each seed's calls (`calls[k]` are those of `seeds[k]`, which also draws
/// their breakdowns and re-triage, as `simulator run --seed` does); one score per seed. The
/// seeds are shared out over the cores, each thread on its own fork of the router (runs add
/// their closures to it).
pub fn evaluate(
    world: &World,
    seeds: &[u64],
    calls: &[Vec<CallSpec>],
    run: &RunOptions,
    late_s: f64,
) -> Result<Vec<Score>, SimError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(calls.len())
        .max(1);
    let one = |w: &World, k: usize| -> Result<Score, SimError> {
        let r = engine::run(w, &calls[k], &seeded(run, seeds[k]), &mut |_| {})?;
        Ok(Score::of(&r, late_s))
    };
    if threads == 1 {
        return (0..calls.len()).map(|k| one(world, k)).collect();
    }
    let mut out: Vec<Option<Result<Score, SimError>>> = (0..calls.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let own = World {
                        router: Arc::new(world.router.fork()),
                        ..world.clone()
                    };
                    (t..calls.len())
                        .step_by(threads)
                        .map(|k| (k, one(&own, k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            for (k, r) in done {
                out[k] = Some(r);
            }
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(SimError::setting("--seeds", "a seed was not run"))))
        .collect()
}

/// `run` with the breakdowns and re-triage drawn for `seed`'s calls.
fn seeded(run: &RunOptions, seed: u64) -> RunOptions {
    let mut o = run.clone();
    o.exceptions.seed = seed;
    o
}

/// Paired differences `b − a` of two score lists, with 95 % intervals over the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Late share, `b − a`.
    pub late: Estimate,
    /// Mean response (s), `b − a`.
    pub mean_s: Estimate,
}

impl Difference {
    /// The differences of `b` against `a`, seed by seed.
    pub fn of(a: &[Score], b: &[Score]) -> Difference {
        let late: Vec<f64> = a.iter().zip(b).map(|(x, y)| y.late - x.late).collect();
        let mean: Vec<f64> = a.iter().zip(b).map(|(x, y)| y.mean_s - x.mean_s).collect();
        Difference {
            late: estimate(&late),
            mean_s: estimate(&mean),
        }
    }

    /// Whether `b` is better: fewer late arrivals on average, or exactly as many on every
    /// seed and a mean response lower with 95 % confidence.
    pub fn better(&self, a: &[Score], b: &[Score]) -> bool {
        let same_late = a.iter().zip(b).all(|(x, y)| x.late == y.late);
        self.late.mean < 0.0 || (same_late && self.mean_s.mean + self.mean_s.ci95 < 0.0)
    }
}

/// Estimates over seeds of a list of scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Late share.
    pub late: Estimate,
    /// Mean response (s).
    pub mean_s: Estimate,
}

impl Scores {
    /// The estimates of `v`.
    pub fn of(v: &[Score]) -> Scores {
        Scores {
            late: estimate(&v.iter().map(|s| s.late).collect::<Vec<_>>()),
            mean_s: estimate(&v.iter().map(|s| s.mean_s).collect::<Vec<_>>()),
        }
    }
}

/// Spreads `budget` crew-hours over the hours of the day in proportion to `rate` (calls in
/// each hour), each hour at least one crew and at most `fleet` (largest remainders).
pub fn crews_by_hour(rate: &[f64; 24], budget: u32, fleet: u32) -> [u32; 24] {
    let budget = budget.clamp(24, fleet * 24);
    if budget == fleet * 24 {
        return [fleet; 24];
    }
    let total: f64 = rate.iter().sum();
    let share: Vec<f64> = rate
        .iter()
        .map(|r| if total > 0.0 { r / total } else { 1.0 / 24.0 })
        .collect();
    let mut n = [1u32; 24];
    // Hand the rest out one at a time to the hour furthest below its share (ties: earliest).
    let mut left = budget - 24;
    while left > 0 {
        let h = (0..24).filter(|&h| n[h] < fleet).max_by(|&a, &b| {
            let gap = |h: usize| share[h] * budget as f64 - n[h] as f64;
            gap(a).total_cmp(&gap(b)).then(b.cmp(&a))
        });
        let Some(h) = h else { break };
        n[h] += 1;
        left -= 1;
    }
    n
}

/// Calls per hour of the day, averaged over the days of the streams.
pub fn hourly_rate(streams: &[Vec<CallSpec>], hours: f64) -> [f64; 24] {
    let mut rate = [0f64; 24];
    for s in streams {
        for c in s {
            rate[((c.t / HOUR_MS) % 24) as usize] += 1.0;
        }
    }
    let days = (hours / 24.0).max(1.0 / 24.0) * streams.len().max(1) as f64;
    rate.map(|x| x / days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crew_hours_follow_the_calls_by_hand() {
        // Calls only in hours 8 and 9, three times as many at 9: a budget of 32 crew-hours
        // leaves 8 beyond the one-per-hour floor. Their targets are 32·0.25 = 8 and
        // 32·0.75 = 24, so the gaps are 7 and 23: each crew goes to the hour furthest
        // behind, and hour 9 stays furthest behind for all 8.
        let mut rate = [0.0; 24];
        rate[8] = 1.0;
        rate[9] = 3.0;
        let n = crews_by_hour(&rate, 32, 10);
        assert_eq!(n.iter().sum::<u32>(), 32);
        assert_eq!((n[8], n[9], n[0]), (1, 9, 1));
        // At most the fleet in an hour: the rest goes to the next hour furthest behind.
        let n = crews_by_hour(&rate, 40, 6);
        assert_eq!(n.iter().sum::<u32>(), 40);
        assert_eq!((n[8], n[9]), (6, 6));
        // The whole fleet all day.
        assert_eq!(crews_by_hour(&rate, 240, 10), [10; 24]);
    }
}

/// What `simulator plan` reports (`plan.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanReport {
    /// Candidate sites.
    pub candidates: usize,
    /// Stations opened.
    pub stations: usize,
    /// The fleet (the most crews on duty in an hour).
    pub crews: usize,
    /// Crew-hours a day in the plan.
    pub crew_hours_per_day: u32,
    /// Crews on duty by hour of the day.
    pub crews_by_hour: [u32; 24],
    /// The search.
    pub search: search::Searched,
    /// Seeds of the evaluation.
    pub eval_seeds: Vec<u64>,
    /// The automatic placement (the fleet all day at the k-means stations), on them.
    pub automatic: Scores,
    /// The MEXCLP start, on them.
    pub mexclp: Scores,
    /// The plan, on them.
    pub plan: Scores,
    /// The plan against the automatic placement, seed by seed.
    pub plan_vs_automatic: Difference,
    /// The MEXCLP start against the automatic placement.
    pub mexclp_vs_automatic: Difference,
    /// Seconds, end to end (the calls, the tables, the search and the evaluation).
    pub seconds: f64,
}

/// Told of a plan's progress: the phase, the candidates tried, the moves kept and the current
/// scores over the search's seeds.
pub type Progress<'a> = dyn FnMut(&str, usize, usize, &[Score]) + 'a;

/// A plan and how it was made.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The candidate sites.
    pub sites: Vec<Place>,
    /// The plan.
    pub plan: Plan,
    /// The report.
    pub report: PlanReport,
    /// The automatic placement's run on the first evaluation seed.
    pub automatic_run: RunResult,
    /// The plan's run on the first evaluation seed.
    pub plan_run: RunResult,
}

/// Plans stations and shifts on `base` (the automatic placement with the fleet, whose map,
/// demand and hospitals the plan keeps) from the candidate `sites`. `calls_for` gives each
/// seed's calls; `progress` is told the phase, the candidates tried, the moves kept and the
/// current scores.
pub fn make_plan(
    base: &World,
    sites: Vec<Place>,
    calls_for: &mut dyn FnMut(u64) -> Result<Vec<CallSpec>, SimError>,
    run: &RunOptions,
    opts: &PlanOptions,
    progress: &mut Progress<'_>,
) -> Result<Planned, SimError> {
    let t0 = std::time::Instant::now();
    opts.validate()?;
    if sites.is_empty() {
        return Err(SimError::setting("--candidates", "no candidate site"));
    }
    let search_calls = opts
        .search_seeds
        .iter()
        .map(|&s| calls_for(s))
        .collect::<Result<Vec<_>, _>>()?;
    progress("coverage tables", 0, 0, &[]);
    let rate = hourly_rate(&search_calls, run.hours);
    let q = engine::estimate_busy_fraction(&search_calls[0], run.hours, opts.crews);
    let covers = sites::coverage(&base.router, &base.demand, &sites, opts.cover_s);
    let weights: Vec<f64> = base.demand.cells.iter().map(|c| c.weight).collect();
    let all = |_| true;
    let per_site = sites::mexclp_greedy(&weights, &covers, q, opts.crews, opts.max_stations, &all)?;
    let opened: Vec<bool> = per_site.iter().map(|&n| n > 0).collect();
    let budget = opts.budget();
    let fleet = opts.crews as u32;
    let by_hour = crews_by_hour(&rate, budget, fleet);
    let mean_rate = rate.iter().sum::<f64>() / 24.0;
    let mut counts = vec![[0u32; 24]; sites.len()];
    for h in 0..24 {
        let hour_counts = if by_hour[h] == fleet {
            per_site.clone()
        } else {
            let q_h = if mean_rate > 0.0 {
                (q * rate[h] / mean_rate * f64::from(fleet) / f64::from(by_hour[h]))
                    .clamp(0.05, 0.95)
            } else {
                q
            };
            let open_ok = |j: usize| opened[j];
            sites::mexclp_greedy(
                &weights,
                &covers,
                q_h,
                by_hour[h] as usize,
                opts.max_stations,
                &open_ok,
            )?
        };
        for (c, n) in counts.iter_mut().zip(hour_counts) {
            c[h] = n;
        }
    }
    let start = Plan { counts };
    let shifts = budget < fleet * 24;
    let mut step = |n: usize, k: usize, s: &[Score]| progress("search", n, k, s);
    let searched = search::search(
        start.clone(),
        base,
        &sites,
        &search_calls,
        run,
        opts,
        shifts,
        &mut step,
    )?;
    drop(search_calls);
    progress(
        "evaluation",
        searched.candidates,
        searched.kept.len(),
        &searched.scores,
    );
    let eval_calls = opts
        .eval_seeds
        .iter()
        .map(|&s| calls_for(s))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = searched.plan.clone();
    let plan_world = plan.world(base, &sites);
    let seeds = &opts.eval_seeds;
    let automatic = evaluate(base, seeds, &eval_calls, run, opts.late_s)?;
    let mexclp = evaluate(
        &start.world(base, &sites),
        seeds,
        &eval_calls,
        run,
        opts.late_s,
    )?;
    let planned = evaluate(&plan_world, seeds, &eval_calls, run, opts.late_s)?;
    let first = seeded(run, seeds[0]);
    let automatic_run = engine::run(base, &eval_calls[0], &first, &mut |_| {})?;
    let plan_run = engine::run(&plan_world, &eval_calls[0], &first, &mut |_| {})?;
    let report = PlanReport {
        candidates: sites.len(),
        stations: plan.opened().len(),
        crews: opts.crews,
        crew_hours_per_day: plan.crew_hours(),
        crews_by_hour: std::array::from_fn(|h| plan.on_duty(h)),
        search: searched,
        eval_seeds: opts.eval_seeds.clone(),
        automatic: Scores::of(&automatic),
        mexclp: Scores::of(&mexclp),
        plan: Scores::of(&planned),
        plan_vs_automatic: Difference::of(&automatic, &planned),
        mexclp_vs_automatic: Difference::of(&automatic, &mexclp),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok(Planned {
        sites,
        plan,
        report,
        automatic_run,
        plan_run,
    })
}
