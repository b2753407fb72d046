//! The run: a [`Scheduler`](crate::scheduler::Scheduler) of timed events driving the dispatch core's [`Dispatcher`](dispatch_core::Dispatcher)
//! directly (no HTTP), with crews that drive along their routes in simulated time.
//!
//! A call comes in and is entered with [`Dispatcher::new_call`](dispatch_core::Dispatcher::new_call); the core decides which crew
//! goes (or queues it), exactly as in the service. The simulator then plays the crews'
//! part, reporting each step to the core as a tablet would:
//!
//! 1. *Turnout*: a crew standing at its station takes the call's turnout time; a crew
//!    already on the road (driving back, just freed at a hospital) starts at once.
//! 2. *En route*: it drives the router's fastest route from where it really is; its
//!    position along the route geometry is known at every instant, and reported to the core
//!    every `position_interval_s` (as tablets do), so the core's ETAs of moving crews are at
//!    most that stale.
//! 3. *On scene* for the call's on-scene time; then, for the share of patients taken to
//!    hospital, *transporting* to the capable hospital the crew reaches soonest
//!    ([`Dispatcher::hospital_for`](dispatch_core::Dispatcher::hospital_for)), *at hospital* for the handover time, and *available*.
//! 4. An available crew drives back to its station (or, under the coverage policy, to the
//!    station where it adds the most coverage) and may be sent again on the way: the core's
//!    queue, re-assignment and release rules apply as they are.
//!
//! A crew the core releases (re-assigned, the call cancelled) stops where it is. Events of a
//! crew carry a token that changes whenever its plan changes, so superseded events are
//! dropped. Ties are as in [`crate::scheduler`]; equal ETAs go to the lowest crew id (the
//! core's rule), and crew ids are zero-padded so that string order is number order.
//!
//! The module is in parts: the settings ([`options`]), the world ([`world`]), what a run
//! measures ([`result`]), the drive model (`drive`), the run's state and event loop (`sim`),
//! the crews' steps (`crews`), shifts (`duty`), breakdowns and re-triage (`exceptions`), calls coming in (`intake`) and the coverage policy's rules
//! (`coverage_policy`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use router::{ClosureSpec, Router, Snapped};

use crate::calls::CallSpec;
use crate::coverage::Coverage;
use crate::error::SimError;
use crate::scheduler::{SimTime, EPOCH_UNIX_MS};

mod coverage_policy;
mod crews;
mod drive;
mod duty;
mod exceptions;
mod intake;
pub mod options;
pub mod result;
mod sim;
pub mod world;

pub use coverage_policy::estimate_busy_fraction;
pub use options::{CallExceptions, ClosureWindow, Exceptions, RunOptions, SimPolicy};
pub use result::{CallOutcome, CallRecord, RunResult};
pub use world::{crew_id, World};

use coverage_policy::build_coverage;
use sim::Sim;

fn unix(t: SimTime) -> i64 {
    EPOCH_UNIX_MS + t
}

/// Runs a simulation. `progress` is called with the number of calls entered so far.
///
/// A run longer than [`RunOptions::segment_hours`] is simulated in segments, in parallel
/// (see [`crate::segments`]); the result does not depend on the number of threads.
pub fn run(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<RunResult, SimError> {
    world.validate()?;
    world.check_calls(calls)?;
    opts.validate()?;
    let windows = crate::segments::plan(calls, opts);
    if windows.len() > 1 {
        return crate::segments::run(world, calls, opts, &windows, progress);
    }
    with_closures(&world.router, opts, || {
        let coverage = coverage_for(world, calls, opts)?;
        let spare = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        run_window(world, calls, opts, coverage, windows[0], spare, progress)
    })
}

/// Runs `f` with the run's closures added to `router` (in force in their time windows,
/// refreshed at each boundary by the run), and removes them afterwards: the router may be
/// shared with later runs.
pub(crate) fn with_closures<T>(
    router: &Router,
    opts: &RunOptions,
    f: impl FnOnce() -> Result<T, SimError>,
) -> Result<T, SimError> {
    let mut closure_ids = Vec::new();
    let mut out = Ok(());
    for (i, c) in opts.closures.iter().enumerate() {
        let spec = ClosureSpec {
            area: c.area.clone(),
            factor: c.factor,
            from_ms: Some(unix((c.from_s * 1000.0).round() as i64)),
            until_ms: c.until_s.map(|u| unix((u * 1000.0).round() as i64)),
        };
        match router.add_closure(spec, unix(0)) {
            Ok(added) => closure_ids.push(added.id),
            Err(cause) => {
                out = Err(SimError::Closure {
                    index: i + 1,
                    cause,
                });
                break;
            }
        }
    }
    let out = out.and_then(|()| f());
    for id in closure_ids {
        let _ = router.remove_closure(id, unix(0));
    }
    router.refresh(unix(0));
    out
}

/// The stretch of time one simulation covers: a whole run, or one segment of a long run
/// (see [`crate::segments`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// Calls received in `[admit_from, admit_until)` are entered; after `admit_until` the
    /// crews finish for the drain hours.
    pub admit_from: SimTime,
    pub admit_until: SimTime,
    /// Calls received in `[report_from, report_until)` are this window's to report, with
    /// the crews' busy time and the relocations, holds and cut-offs in that stretch.
    pub report_from: SimTime,
    pub report_until: SimTime,
    /// The last window: busy time and counts after `report_until` (the drain) are its own.
    pub last: bool,
}

/// The coverage tables of the coverage policy (`None` for the others), for the router's
/// weights now.
pub(crate) fn coverage_for(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
) -> Result<Option<Coverage>, SimError> {
    match opts.policy {
        SimPolicy::Coverage => Ok(Some(build_coverage(world, calls, opts)?)),
        _ => Ok(None),
    }
}

/// Simulates one window. `calls` holds at least the calls the window admits, sorted by time
/// with consecutive ids; the world's router carries the run's closures. With `snap_ahead`
/// (a core to spare), calls are snapped to the roads on another thread as the run goes.
pub(crate) fn run_window(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
    coverage: Option<Coverage>,
    window: Window,
    snap_ahead: bool,
    progress: &mut dyn FnMut(usize),
) -> Result<RunResult, SimError> {
    // The closures in force when the window opens (the crews' ETAs are indexed with them).
    world.router.refresh(unix(window.admit_from));
    // Calls are snapped to the roads ahead, on another thread, while the run goes on (the
    // run snaps a call itself if it gets there first; the answer is the same).
    let snapped: Vec<OnceLock<Option<Snapped>>> = calls.iter().map(|_| OnceLock::new()).collect();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        if snap_ahead {
            s.spawn(|| {
                for (c, at) in calls.iter().zip(&snapped) {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    at.get_or_init(|| world.router.snap(c.lat, c.lon).ok());
                }
            });
        }
        let out = Sim::new(world, calls, &snapped, opts, coverage, window).and_then(|mut sim| {
            sim.run(progress)?;
            Ok(sim.finish())
        });
        done.store(true, Ordering::Relaxed);
        out
    })
}
