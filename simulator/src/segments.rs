//! Long runs in segments, simulated in parallel.
//!
//! A planner's year is 4.4 million calls at Moscow's scale: one piece would keep one core
//! busy for minutes. A run longer than [`RunOptions::segment_hours`] (a week by default) is
//! cut into segments of that length. Each segment is simulated on its own, from crews
//! standing at their stations, and reports only its own calls:
//!
//! * it starts [`RunOptions::segment_overlap_hours`] (3 h by default) before its first
//!   reported call, with the calls of that stretch, so the crews are as busy and as spread
//!   out as the calls make them when its own calls start (a crew's cycle of drive, scene,
//!   hospital and return takes about an hour);
//! * it also enters the calls of the same stretch after its end, so that its last calls
//!   compete for crews with the calls that follow them, as in one piece;
//! * the crews' busy time, the busy crews by hour and the relocations, holds and cut-offs
//!   are counted within its own stretch (the last segment also counts the drain).
//!
//! Each call is reported by exactly one segment, and segments are merged in time order,
//! so the result depends on the segment length and overlap, never on the number of threads
//! or on which thread ran which segment. Segmenting assumes that the service is not
//! overloaded for longer than the overlap: a queue that keeps growing for days is cut at
//! each segment's start. Runs no longer than one segment run in one piece as before.
//!
//! Each thread works on its own fork of the router ([`router::Router::fork`]), so the
//! closures of one segment's time never touch another's.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::calls::CallSpec;
use crate::engine::{
    coverage_for, run_window, with_closures, CallRecord, RunOptions, RunResult, SimPolicy, Window,
    World,
};
use crate::error::SimError;
use crate::scheduler::{SimTime, HOUR_MS};

/// The windows a run is simulated in: one for the whole run, unless it is longer than a
/// segment and its calls are in time order with consecutive ids (as generated and replayed
/// calls are).
pub(crate) fn plan(calls: &[CallSpec], opts: &RunOptions) -> Vec<Window> {
    let hours_ms = |h: f64| (h * HOUR_MS as f64).round() as i64;
    let total = hours_ms(opts.hours);
    let whole = Window {
        admit_from: 0,
        admit_until: total,
        report_from: 0,
        report_until: total,
        last: true,
    };
    let segment = hours_ms(opts.segment_hours);
    let in_order = calls
        .windows(2)
        .all(|w| w[0].t <= w[1].t && w[1].id == w[0].id + 1);
    if segment <= 0 || total <= segment || !in_order {
        return vec![whole];
    }
    let overlap = hours_ms(opts.segment_overlap_hours);
    let n = (total + segment - 1) / segment;
    (0..n)
        .map(|k| {
            let from = k * segment;
            let until = ((k + 1) * segment).min(total);
            Window {
                admit_from: (from - overlap).max(0),
                admit_until: (until + overlap).min(total),
                report_from: from,
                report_until: until,
                last: k == n - 1,
            }
        })
        .collect()
}

/// The stretch of `calls` (sorted by time) received in `[from, until)`.
fn stretch(calls: &[CallSpec], from: SimTime, until: SimTime) -> std::ops::Range<usize> {
    calls.partition_point(|c| c.t < from)..calls.partition_point(|c| c.t < until)
}

/// Simulates `windows` on up to `opts.threads` threads and merges them in order.
pub(crate) fn run(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
    windows: &[Window],
    progress: &mut dyn FnMut(usize),
) -> Result<RunResult, SimError> {
    // The coverage tables are built once, for the weights at the start (as in one piece).
    let coverage = match opts.policy {
        SimPolicy::Coverage => {
            with_closures(&world.router, opts, || coverage_for(world, calls, opts))?
        }
        _ => None,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match opts.threads {
        0 => cores,
        n => n,
    }
    .clamp(1, windows.len());
    // Calls are snapped ahead on extra threads only if cores are left over.
    let spare = threads < cores;
    let next = AtomicUsize::new(0);
    let entered = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<RunResult, SimError>>>> =
        windows.iter().map(|_| Mutex::new(None)).collect();
    // Every call's record goes straight to its place in the run's records: the calls a
    // window reports are a contiguous stretch of `calls`, and the stretches follow each
    // other in time order (a year's records are a gigabyte; no second copy).
    let mut records: Vec<Option<CallRecord>> = vec![None; calls.len()];
    let shares: Vec<Mutex<&mut [Option<CallRecord>]>> = {
        let mut rest = records.as_mut_slice();
        let mut taken = 0;
        windows
            .iter()
            .map(|w| {
                let own = stretch(calls, w.report_from, w.report_until);
                let (_, after_gap) = std::mem::take(&mut rest).split_at_mut(own.start - taken);
                let (mine, after) = after_gap.split_at_mut(own.len());
                rest = after;
                taken = own.end;
                Mutex::new(mine)
            })
            .collect()
    };
    // A thread that cannot set its router up (a closure refused) stops the others.
    let setup: Mutex<Option<SimError>> = Mutex::new(None);
    let work = || {
        let own = World {
            router: Arc::new(world.router.fork()),
            ..world.clone()
        };
        let ready = with_closures(&own.router, opts, || {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= windows.len() || failed.load(Ordering::Relaxed) {
                    break;
                }
                let w = windows[k];
                let mut seen = 0;
                let mut count = |n: usize| {
                    entered.fetch_add(n - seen, Ordering::Relaxed);
                    seen = n;
                };
                let r = run_window(
                    &own,
                    &calls[stretch(calls, w.admit_from, w.admit_until)],
                    opts,
                    coverage.clone(),
                    w,
                    spare,
                    &mut count,
                );
                let r = r.map(|mut part| {
                    let mut share = shares[k].lock().unwrap_or_else(|e| e.into_inner());
                    // A window records exactly the calls it admits within its own stretch,
                    // and it admits all of them (its overlap is not negative).
                    assert_eq!(part.calls.len(), share.len(), "segment {k}: records");
                    for (to, rec) in share.iter_mut().zip(std::mem::take(&mut part.calls)) {
                        *to = Some(rec);
                    }
                    part
                });
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                *results[k].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            }
            Ok(())
        });
        if let Err(e) = ready {
            failed.store(true, Ordering::Relaxed);
            setup
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        while !handles.iter().all(|h| h.is_finished()) {
            progress(entered.load(Ordering::Relaxed));
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    progress(entered.load(Ordering::Relaxed));
    if let Some(e) = setup.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut parts = Vec::with_capacity(windows.len());
    for slot in results {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(r)) => parts.push(r),
            Some(Err(e)) => return Err(e),
            // Not run: an earlier failure stopped the threads (its error comes first).
            None => continue,
        }
    }
    drop(shares);
    let mut out = merge(opts, world.crew_station.len(), parts);
    #[allow(clippy::filter_map_identity)] // `flatten` would not reuse the allocation
    {
        out.calls = records.into_iter().filter_map(|r| r).collect();
    }
    Ok(out)
}

/// One result from the windows' results (their records already gathered), in time order.
fn merge(opts: &RunOptions, crews: usize, parts: Vec<RunResult>) -> RunResult {
    let hours = parts
        .iter()
        .map(|p| p.busy_by_hour.len())
        .max()
        .unwrap_or(0);
    let mut out = RunResult {
        policy: opts.policy,
        hours: opts.hours,
        crews,
        calls: Vec::new(),
        crew_busy_ms: vec![0; crews],
        crew_hours: None,
        breakdowns: 0,
        retriaged: 0,
        busy_by_hour: vec![0.0; hours],
        events: 0,
        relocations: 0,
        held: 0,
        unreachable: 0,
    };
    for p in parts {
        for (total, b) in out.crew_busy_ms.iter_mut().zip(&p.crew_busy_ms) {
            *total += b;
        }
        for (total, b) in out.busy_by_hour.iter_mut().zip(&p.busy_by_hour) {
            *total += b;
        }
        if let Some(h) = p.crew_hours {
            *out.crew_hours.get_or_insert(0.0) += h;
        }
        out.events += p.events;
        out.breakdowns += p.breakdowns;
        out.retriaged += p.retriaged;
        out.relocations += p.relocations;
        out.held += p.held;
        out.unreachable += p.unreachable;
    }
    out
}
