//! The run: a [`Scheduler`] of timed events driving the dispatch core's [`Dispatcher`]
//! directly (no HTTP), with crews that drive along their routes in simulated time.
//!
//! A call comes in and is entered with [`Dispatcher::new_call`]; the core decides which crew
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
//!    ([`Dispatcher::hospital_for`]), *at hospital* for the handover time, and *available*.
//! 4. An available crew drives back to its station (or, under the coverage policy, to the
//!    station where it adds the most coverage) and may be sent again on the way: the core's
//!    queue, re-assignment and release rules apply as they are.
//!
//! A crew the core releases (re-assigned, the call cancelled) stops where it is. Events of a
//! crew carry a token that changes whenever its plan changes, so superseded events are
//! dropped. Ties are as in [`crate::scheduler`]; equal ETAs go to the lowest crew id (the
//! core's rule), and crew ids are zero-padded so that string order is number order.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use dispatch_core::{
    Call, CallId, CallStatus, Capability, CrewStatus, CrewType, DispatchConfig, DispatchError,
    Dispatcher, Event, NewCall, NewCrew, NewHospital, Policy, Priority,
};
use foldhash::fast::FixedState;
use router::{ClosureArea, ClosureSpec, EtaIndex, Route, Router, Snapped};
use serde::{Deserialize, Serialize};

use crate::calls::CallSpec;
use crate::coverage::{Coverage, CoverageOptions};
use crate::demand::{point_on_segment, Demand};
use crate::error::SimError;
use crate::places::Place;
use crate::scheduler::{Rank, Scheduler, SimTime, EPOCH_UNIX_MS, HOUR_MS};

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

/// The fixed part of a scenario: the map, where people live, stations, hospitals and the
/// crews' home stations.
#[derive(Debug, Clone)]
pub struct World {
    /// The router.
    pub router: Arc<Router>,
    /// Where calls come from.
    pub demand: Demand,
    /// Stations.
    pub stations: Vec<Place>,
    /// Hospitals.
    pub hospitals: Vec<Place>,
    /// Home station of each crew (its length is the number of crews).
    pub crew_station: Vec<usize>,
}

impl World {
    /// Checks that the world can run.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.crew_station.is_empty() {
            return Err(SimError::setting(
                "--crews",
                "there must be at least one crew",
            ));
        }
        if self.stations.is_empty() {
            return Err(SimError::setting(
                "--stations",
                "there must be at least one station",
            ));
        }
        if self.crew_station.iter().any(|&s| s >= self.stations.len()) {
            return Err(SimError::setting(
                "--crews",
                "a crew's station does not exist",
            ));
        }
        Ok(())
    }

    /// The id of crew `i`: `C` and its number, zero-padded (so string order is number order).
    pub fn crew_id(&self, i: usize) -> String {
        crew_id(i, self.crew_station.len())
    }
}

/// The id of crew `i` of `n`.
pub fn crew_id(i: usize, n: usize) -> String {
    let width = n.to_string().len().max(3);
    format!("C{:0width$}", i + 1)
}

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
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Call(usize),
    Turnout(u32, u32),
    OnScene(u32, u32),
    SceneDone(u32, u32),
    AtHospital(u32, u32),
    Handover(u32, u32),
    AtStation(u32, u32),
    Position(u32, u32),
    Closure,
    Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Standing at a station.
    Idle,
    /// Free, driving to a station.
    Returning,
    Turnout,
    ToScene,
    OnScene,
    ToHospital,
    Handover,
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    seg: u32,
    from: f64,
    to: f64,
    t0: i64,
    dur: i64,
}

#[derive(Debug, Clone)]
struct Drive {
    start: SimTime,
    pieces: Vec<Piece>,
    /// Where the drive started.
    from: Snapped,
    target: Snapped,
    end: SimTime,
    /// Only the time is known yet (a drive whose positions no decision uses); the pieces
    /// are routed if the crew is stopped on the way or before the weights change.
    lazy: bool,
}

impl Drive {
    /// A drive of `duration_ms` whose pieces are routed only when needed.
    fn lazy(from: Snapped, target: Snapped, start: SimTime, duration_ms: u32) -> Drive {
        Drive {
            start,
            pieces: Vec::new(),
            from,
            target,
            end: start + i64::from(duration_ms),
            lazy: true,
        }
    }

    /// Routes the pieces of a lazy drive (the same route: the weights have not changed
    /// since it started).
    fn materialize(&mut self, router: &Router) {
        if self.lazy {
            self.lazy = false;
            if let Ok(Some(route)) = router.route_pieces(&self.from, &self.target) {
                debug_assert_eq!(self.start + i64::from(route.duration_ms), self.end);
                self.pieces = Drive::new(&route, self.start).pieces;
            }
        }
    }

    fn new(route: &Route, start: SimTime) -> Drive {
        let mut t0 = 0;
        let pieces = route
            .pieces
            .iter()
            .map(|p| {
                let piece = Piece {
                    seg: p.segment,
                    from: p.from_fraction,
                    to: p.to_fraction,
                    t0,
                    dur: i64::from(p.duration_ms),
                };
                t0 += i64::from(p.duration_ms);
                piece
            })
            .collect();
        Drive {
            start,
            pieces,
            from: route.source,
            target: route.target,
            end: start + i64::from(route.duration_ms),
            lazy: false,
        }
    }

    /// Where the crew is at `t`.
    fn at(&self, router: &Router, t: SimTime) -> Snapped {
        let dt = t - self.start;
        if t >= self.end || self.pieces.is_empty() {
            return self.target;
        }
        let i = self
            .pieces
            .partition_point(|p| p.t0 <= dt)
            .saturating_sub(1);
        let p = self.pieces[i];
        let share = if p.dur > 0 {
            ((dt - p.t0) as f64 / p.dur as f64).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let fraction = p.from + (p.to - p.from) * share;
        let point = point_on_segment(router, p.seg, fraction);
        Snapped {
            segment: p.seg,
            fraction,
            point,
            distance_m: 0.0,
            input: point,
        }
    }
}

#[derive(Debug, Clone)]
struct SimCrew {
    id: String,
    /// The station it belongs to now (home, or where the coverage policy sent it).
    base: usize,
    /// Station where the coverage bookkeeping counts it (idle crews only).
    counted: Option<usize>,
    /// Where it is (standing) or where its drive started.
    at: Snapped,
    drive: Option<Drive>,
    phase: Phase,
    token: u32,
    call: Option<usize>,
    busy_since: Option<SimTime>,
    busy_ms: i64,
    /// The position last reported to the core.
    reported: Option<osm_data::Coord>,
}

/// One simulation run.
struct Sim<'a> {
    world: &'a World,
    calls: &'a [CallSpec],
    /// Each call's point on the road (`None`: off the map), filled ahead by another thread.
    snapped: &'a [OnceLock<Option<Snapped>>],
    opts: &'a RunOptions,
    router: Arc<Router>,
    d: Dispatcher,
    q: Scheduler<Ev>,
    crews: Vec<SimCrew>,
    by_id: HashMap<String, u32, FixedState>,
    hospital_of: Vec<Option<usize>>,
    /// Records of the calls completed (and archived from the core) so far.
    records: Vec<Option<CallRecord>>,
    outcome_off_map: Vec<bool>,
    coverage: Option<Coverage>,
    held: VecDeque<usize>,
    retry_due: bool,
    end: SimTime,
    window: Window,
    /// The id of `calls[0]` (ids are consecutive).
    first_id: u64,
    busy_by_hour_ms: Vec<i64>,
    result_counts: (u64, u64, u64, u64),
    interval: i64,
    /// The calls that come in, in time order (stable); each is scheduled when the one
    /// before it comes in, which keeps the event queue small. Calls are the last rank of
    /// an instant, so this runs the same events in the same order as scheduling them all
    /// at the start.
    call_order: Vec<usize>,
    next_call: usize,
}

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

impl<'a> Sim<'a> {
    fn new(
        world: &'a World,
        calls: &'a [CallSpec],
        snapped: &'a [OnceLock<Option<Snapped>>],
        opts: &'a RunOptions,
        coverage: Option<Coverage>,
        window: Window,
    ) -> Result<Sim<'a>, SimError> {
        let router = world.router.clone();
        let config = DispatchConfig {
            policy: match opts.policy {
                SimPolicy::StraightLine => Policy::StraightLine,
                SimPolicy::RoadEta | SimPolicy::Coverage => Policy::RoadEta,
            },
            ..opts.rules
        };
        let mut d = Dispatcher::new(router.clone(), config);
        let fail = |cause| SimError::Dispatch { at_s: 0.0, cause };
        for (i, h) in world.hospitals.iter().enumerate() {
            d.add_hospital(
                NewHospital {
                    id: h.id.clone(),
                    name: if h.name.is_empty() {
                        format!("Hospital {}", i + 1)
                    } else {
                        h.name.clone()
                    },
                    lat: h.lat,
                    lon: h.lon,
                    capabilities: vec![
                        Capability::General,
                        Capability::Pci,
                        Capability::Stroke,
                        Capability::Trauma,
                        Capability::Paediatric,
                    ],
                },
                unix(0),
            )
            .map_err(fail)?;
        }
        let n = world.crew_station.len();
        let mut crews = Vec::with_capacity(n);
        let mut by_id = HashMap::with_capacity_and_hasher(n, FixedState::default());
        for (i, &s) in world.crew_station.iter().enumerate() {
            let st = &world.stations[s];
            let id = crew_id(i, n);
            d.add_crew(
                NewCrew {
                    id: id.clone(),
                    crew_type: CrewType::General,
                    station: Some(st.id.clone()),
                    call_sign: None,
                    shift_end: None,
                    lat: st.lat,
                    lon: st.lon,
                },
                unix(0),
            )
            .map_err(fail)?;
            by_id.insert(id.clone(), i as u32);
            crews.push(SimCrew {
                id,
                base: s,
                counted: None,
                at: st.snapped,
                drive: None,
                phase: Phase::Idle,
                token: 0,
                call: None,
                busy_since: None,
                busy_ms: 0,
                reported: None,
            });
        }
        let end = window.admit_until + (opts.drain_hours * HOUR_MS as f64).round() as i64;
        let mut sim = Sim {
            world,
            calls,
            snapped,
            opts,
            router,
            d,
            q: Scheduler::new(),
            crews,
            by_id,
            hospital_of: vec![None; calls.len()],
            records: vec![None; calls.len()],
            outcome_off_map: vec![false; calls.len()],
            coverage,
            held: VecDeque::new(),
            retry_due: false,
            end,
            window,
            first_id: calls.first().map_or(1, |c| c.id),
            busy_by_hour_ms: vec![0; (end / HOUR_MS + 1) as usize],
            result_counts: (0, 0, 0, 0),
            interval: (opts.position_interval_s * 1000.0).round() as i64,
            call_order: Vec::new(),
            next_call: 0,
        };
        if let Some(cv) = sim.coverage.as_mut() {
            for c in &mut sim.crews {
                cv.add(c.base);
                c.counted = Some(c.base);
            }
        }
        sim.call_order = (0..calls.len())
            .filter(|&i| (window.admit_from..window.admit_until).contains(&calls[i].t))
            .collect();
        sim.call_order.sort_by_key(|&i| calls[i].t);
        sim.schedule_next_call();
        // The weights change at each closure's start and end (those before a later
        // window's start are in force already).
        let boundaries = opts
            .closures
            .iter()
            .flat_map(|c| std::iter::once(c.from_s).chain(c.until_s))
            .map(|s| (s * 1000.0).round() as i64)
            .filter(|&t| window.admit_from == 0 || t >= window.admit_from);
        for t in boundaries {
            sim.q.at(t, Rank::Closure, Ev::Closure);
        }
        Ok(sim)
    }

    fn now(&self) -> SimTime {
        self.q.now()
    }

    /// The index in `calls` of the call with this id.
    fn index_of(&self, id: CallId) -> usize {
        (id.0 - self.first_id) as usize
    }

    /// Call `i`'s point on the road (`None`: off the map).
    fn snapped(&self, i: usize) -> Option<Snapped> {
        let c = &self.calls[i];
        *self.snapped[i].get_or_init(|| self.router.snap(c.lat, c.lon).ok())
    }

    /// Whether what happens at `t` is this window's to report.
    fn reports(&self, t: SimTime) -> bool {
        t >= self.window.report_from && (self.window.last || t < self.window.report_until)
    }

    /// Counts one relocation, hold or cut-off (`which` of `result_counts`) now, if it is
    /// this window's to report.
    fn count(&mut self, which: fn(&mut (u64, u64, u64, u64)) -> &mut u64) {
        if self.reports(self.now()) {
            *which(&mut self.result_counts) += 1;
        }
    }

    /// Schedules the next call of `call_order`.
    fn schedule_next_call(&mut self) {
        if let Some(&i) = self.call_order.get(self.next_call) {
            self.next_call += 1;
            self.q.at(self.calls[i].t, Rank::Call, Ev::Call(i));
        }
    }

    fn fail(&self, cause: DispatchError) -> SimError {
        SimError::Dispatch {
            at_s: self.now() as f64 / 1000.0,
            cause,
        }
    }

    fn run(&mut self, progress: &mut dyn FnMut(usize)) -> Result<(), SimError> {
        let mut entered = 0usize;
        while let Some(t) = self.q.peek_time() {
            if t > self.end {
                break;
            }
            let Some((_, ev)) = self.q.pop() else { break };
            self.result_counts.0 += 1;
            match ev {
                Ev::Call(i) => {
                    self.schedule_next_call();
                    self.on_call(i)?;
                    if self.reports(self.calls[i].t) {
                        entered += 1;
                        if entered % 256 == 0 {
                            progress(entered);
                        }
                    }
                }
                Ev::Turnout(c, tok) if self.live(c, tok) => self.on_turnout(c)?,
                Ev::OnScene(c, tok) if self.live(c, tok) => self.on_scene(c)?,
                Ev::SceneDone(c, tok) if self.live(c, tok) => self.on_scene_done(c)?,
                Ev::AtHospital(c, tok) if self.live(c, tok) => self.on_at_hospital(c)?,
                Ev::Handover(c, tok) if self.live(c, tok) => self.on_handover(c)?,
                Ev::AtStation(c, tok) if self.live(c, tok) => self.on_at_station(c)?,
                Ev::Position(c, tok) if self.live(c, tok) => self.on_position(c)?,
                Ev::Closure => {
                    // Drives routed lazily keep the route of the weights they started with.
                    let now = self.now();
                    for crew in &mut self.crews {
                        if let Some(d) = crew.drive.as_mut().filter(|d| now < d.end) {
                            d.materialize(&self.router);
                        }
                    }
                    self.router.refresh(unix(now));
                }
                Ev::Retry => {
                    self.retry_due = false;
                    self.retry_held()?;
                }
                _ => {}
            }
        }
        progress(entered);
        Ok(())
    }

    fn live(&self, c: u32, token: u32) -> bool {
        self.crews[c as usize].token == token
    }

    // ----- the core's events -----

    /// Plays the crews' side of the events an operation returned.
    fn absorb(&mut self, events: Vec<Event>) -> Result<(), SimError> {
        for e in events {
            match e {
                Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
                    let c = self.crew_index(&decision.crew_id);
                    let call = self.index_of(decision.call_id);
                    self.on_assigned(c, call);
                }
                Event::CallStatus {
                    call_id,
                    status: CallStatus::Completed,
                    ..
                } => {
                    // Done: keep its record and let the core forget it (memory and the
                    // core's per-operation work stay flat over long runs).
                    if let Some(call) = self.d.take_closed_call(call_id) {
                        let i = self.index_of(call_id);
                        self.records[i] = Some(self.record(i, Some(&call)));
                    }
                }
                Event::CrewReleased { crew_id, .. } => {
                    let c = self.crew_index(&crew_id);
                    self.stop(c);
                    self.crews[c as usize].call = None;
                }
                Event::CrewStatus {
                    crew_id, from, to, ..
                } => {
                    let c = self.crew_index(&crew_id);
                    let now = self.now();
                    if from == CrewStatus::Available {
                        self.crews[c as usize].busy_since = Some(now);
                    }
                    if to == CrewStatus::Available {
                        if let Some(since) = self.crews[c as usize].busy_since.take() {
                            self.add_busy(c, since, now);
                        }
                        self.on_available(c)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn crew_index(&self, id: &str) -> u32 {
        self.by_id[id]
    }

    /// Adds a crew's busy time: its busy time within the window's reported hours, and every
    /// hour's busy time that is this window's to report.
    fn add_busy(&mut self, c: u32, from: SimTime, to: SimTime) {
        let w = self.window;
        let (lo, hi) = (from.max(w.report_from), to.min(w.report_until));
        if hi > lo {
            self.crews[c as usize].busy_ms += hi - lo;
        }
        let to = if w.last { to } else { hi };
        let mut t = lo;
        while t < to {
            let h = t / HOUR_MS;
            let next = ((h + 1) * HOUR_MS).min(to);
            if let Some(b) = self.busy_by_hour_ms.get_mut(h as usize) {
                *b += next - t;
            }
            t = next;
        }
    }

    /// Stops a crew where it is now (its pending events are dropped).
    fn stop(&mut self, c: u32) {
        let now = self.now();
        let router = self.router.clone();
        let crew = &mut self.crews[c as usize];
        if let Some(mut drive) = crew.drive.take() {
            if now < drive.end {
                drive.materialize(&router);
            }
            crew.at = drive.at(&router, now);
        }
        crew.token = crew.token.wrapping_add(1);
    }

    fn report_position(&mut self, c: u32) -> Result<(), SimError> {
        let at = self.crews[c as usize].at;
        self.report(c, &at)
    }

    /// Tells the core where a crew is, unless that is where it last said (a crew freed
    /// where it arrived has nothing new to report). The crew is on the road it drives, at a
    /// known segment and fraction, so the core takes that point as it is (no snapping).
    fn report(&mut self, c: u32, at: &Snapped) -> Result<(), SimError> {
        let crew = &self.crews[c as usize];
        let p = at.point;
        if crew.reported == Some(p) {
            return Ok(());
        }
        let id = crew.id.clone();
        let events = self
            .d
            .move_crew_on_road(&id, at, unix(self.now()))
            .map_err(|e| self.fail(e))?;
        self.crews[c as usize].reported = Some(p);
        // An available crew may take a call it could not reach before (closures).
        self.absorb(events)
    }

    fn uncount(&mut self, c: u32) {
        if let Some(s) = self.crews[c as usize].counted.take() {
            if let Some(cv) = self.coverage.as_mut() {
                cv.remove(s);
            }
        }
    }

    fn on_assigned(&mut self, c: u32, call: usize) {
        let was = self.crews[c as usize].phase;
        self.stop(c);
        self.uncount(c);
        let left_station = if was == Phase::Idle {
            Some(self.crews[c as usize].base)
        } else {
            None
        };
        let crew = &mut self.crews[c as usize];
        crew.call = Some(call);
        crew.phase = Phase::Turnout;
        // A crew standing at a station turns out; one already on the road starts at once.
        let turnout = if was == Phase::Idle {
            self.calls[call].turnout_ms
        } else {
            0
        };
        let tok = crew.token;
        self.q
            .at(self.now() + turnout, Rank::Turnout, Ev::Turnout(c, tok));
        if let Some(s) = left_station {
            self.maybe_move_up(s);
        }
    }

    /// Starts a crew's drive to `to`; `known_ms` is the drive's time if the caller already
    /// has it from where the crew is. Returns false if `to` cannot be reached.
    fn start_drive(
        &mut self,
        c: u32,
        to: &Snapped,
        phase: Phase,
        arrive: fn(u32, u32) -> Ev,
        rank: Rank,
        known_ms: Option<u32>,
    ) -> bool {
        let now = self.now();
        let from = self.crews[c as usize].at;
        // The core uses the positions of free crews (to dispatch them), of crews on their
        // way to an emergency (re-assignment only takes emergencies over) and, with
        // diversion on, of crews on their way to any call (an emergency may divert them);
        // the positions of the others change no decision, so they are not reported, and
        // their drives are routed only if they are stopped on the way (which then routes
        // them).
        let matters = match phase {
            Phase::Returning => true,
            Phase::ToScene => {
                self.opts.rules.diversion
                    || self.crews[c as usize]
                        .call
                        .is_some_and(|i| self.calls[i].priority == Priority::Emergency)
            }
            _ => false,
        };
        let drive = if matters {
            match self.router.route_pieces(&from, to) {
                Ok(Some(route)) => Drive::new(&route, now),
                _ => return false,
            }
        } else {
            match known_ms.or_else(|| self.router.eta(&from, to)) {
                Some(ms) => Drive::lazy(from, *to, now, ms),
                None => return false,
            }
        };
        let end = drive.end;
        let crew = &mut self.crews[c as usize];
        crew.drive = Some(drive);
        crew.phase = phase;
        let tok = crew.token;
        self.q.at(end, rank, arrive(c, tok));
        if matters && now + self.interval < end {
            self.q
                .at(now + self.interval, Rank::Position, Ev::Position(c, tok));
        }
        true
    }

    fn on_turnout(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        self.set_status(c, CrewStatus::EnRoute)?;
        let target = match self.d.call(CallId(self.calls[call].id)) {
            Some(k) => k.snapped,
            None => return Ok(()),
        };
        if !self.start_drive(c, &target, Phase::ToScene, Ev::OnScene, Rank::OnScene, None) {
            // Cut off (a closure): tell the core where the crew really is and stand it down;
            // the core sends another crew.
            self.count(|r| &mut r.3);
            self.report_position(c)?;
            self.crews[c as usize].phase = Phase::Idle;
            self.crews[c as usize].token += 1;
            self.set_status(c, CrewStatus::Available)?;
        }
        Ok(())
    }

    fn arrive(&mut self, c: u32) {
        let crew = &mut self.crews[c as usize];
        if let Some(d) = crew.drive.take() {
            crew.at = d.target;
        }
    }

    fn on_scene(&mut self, c: u32) -> Result<(), SimError> {
        self.stay(
            c,
            CrewStatus::OnScene,
            Phase::OnScene,
            |k| k.on_scene_ms,
            Rank::SceneDone,
            Ev::SceneDone,
        )
    }

    /// A crew arrived where it stays for a while (on scene, at the hospital): its position is
    /// reported, its status set, and the end of its stay (`dur` of its call) scheduled.
    fn stay(
        &mut self,
        c: u32,
        status: CrewStatus,
        phase: Phase,
        dur: fn(&CallSpec) -> i64,
        rank: Rank,
        done: fn(u32, u32) -> Ev,
    ) -> Result<(), SimError> {
        self.arrive(c);
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        self.report_position(c)?;
        self.set_status(c, status)?;
        let crew = &mut self.crews[c as usize];
        crew.phase = phase;
        let tok = crew.token;
        self.q
            .at(self.now() + dur(&self.calls[call]), rank, done(c, tok));
        Ok(())
    }

    /// Sets a crew's status in the core now and takes in what followed.
    fn set_status(&mut self, c: u32, to: CrewStatus) -> Result<(), SimError> {
        let id = self.crews[c as usize].id.clone();
        let events = self
            .d
            .set_crew_status(&id, to, unix(self.now()))
            .map_err(|e| self.fail(e))?;
        self.absorb(events)
    }

    fn on_scene_done(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        let id = self.crews[c as usize].id.clone();
        if self.calls[call].transport && !self.world.hospitals.is_empty() {
            let found = self
                .d
                .hospital_for(&id, Capability::General)
                .map_err(|e| self.fail(e))?;
            if let Some((hid, eta)) = found {
                let h = self.world.hospitals.iter().position(|h| h.id == hid);
                let target = self.d.hospital(&hid).map(|h| h.snapped);
                // The core's ETA is the drive's time if it was taken from where the crew
                // is (the core holds the position the crew reported).
                let here = self.crews[c as usize].at;
                let known = self
                    .d
                    .crew(&id)
                    .is_some_and(|k| {
                        k.snapped.segment == here.segment && k.snapped.fraction == here.fraction
                    })
                    .then_some(eta);
                if let (Some(h), Some(target)) = (h, target) {
                    self.set_status(c, CrewStatus::Transporting)?;
                    if self.start_drive(
                        c,
                        &target,
                        Phase::ToHospital,
                        Ev::AtHospital,
                        Rank::AtHospital,
                        known,
                    ) {
                        self.hospital_of[call] = Some(h);
                        return Ok(());
                    }
                    // Unreachable after all: hand over where it is.
                    self.hospital_of[call] = Some(h);
                    let crew = &mut self.crews[c as usize];
                    crew.phase = Phase::ToHospital;
                    let tok = crew.token;
                    self.q
                        .at(self.now(), Rank::AtHospital, Ev::AtHospital(c, tok));
                    return Ok(());
                }
            }
        }
        self.crews[c as usize].call = None;
        self.set_status(c, CrewStatus::Available)
    }

    fn on_at_hospital(&mut self, c: u32) -> Result<(), SimError> {
        self.stay(
            c,
            CrewStatus::AtHospital,
            Phase::Handover,
            |k| k.handover_ms,
            Rank::Handover,
            Ev::Handover,
        )
    }

    fn on_handover(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call.take() else {
            return Ok(());
        };
        let now = unix(self.now());
        let events = self
            .d
            .handover_recorded(CallId(self.calls[call].id), now)
            .map_err(|e| self.fail(e))?;
        drop(events);
        self.set_status(c, CrewStatus::Available)
    }

    /// A crew became available: it heads for its station (or the best one for coverage).
    fn on_available(&mut self, c: u32) -> Result<(), SimError> {
        self.stop(c);
        self.crews[c as usize].call = None;
        self.report_position(c)?;
        let base = match self.coverage.as_ref() {
            Some(cv) => cv.best_station(),
            None => self.crews[c as usize].base,
        };
        if base != self.crews[c as usize].base {
            self.count(|r| &mut r.1);
        }
        self.send_to_station(c, base);
        if !self.held.is_empty() && !self.retry_due {
            self.retry_due = true;
            self.q.at(self.now(), Rank::Retry, Ev::Retry);
        }
        Ok(())
    }

    fn send_to_station(&mut self, c: u32, s: usize) {
        self.uncount(c);
        self.crews[c as usize].base = s;
        if let Some(cv) = self.coverage.as_mut() {
            cv.add(s);
            self.crews[c as usize].counted = Some(s);
        }
        let target = self.world.stations[s].snapped;
        let here = self.crews[c as usize].at;
        if here.segment == target.segment && (here.fraction - target.fraction).abs() < 1e-9 {
            self.crews[c as usize].phase = Phase::Idle;
            return;
        }
        if !self.start_drive(
            c,
            &target,
            Phase::Returning,
            Ev::AtStation,
            Rank::AtStation,
            None,
        ) {
            // Cut off from the station: it waits where it is.
            self.crews[c as usize].phase = Phase::Idle;
        }
    }

    fn on_at_station(&mut self, c: u32) -> Result<(), SimError> {
        self.arrive(c);
        self.crews[c as usize].phase = Phase::Idle;
        self.report_position(c)
    }

    fn on_position(&mut self, c: u32) -> Result<(), SimError> {
        let now = self.now();
        let Some(drive) = self.crews[c as usize].drive.as_ref() else {
            return Ok(());
        };
        let end = drive.end;
        let here = drive.at(&self.router, now);
        self.report(c, &here)?;
        if now + self.interval < end {
            let tok = self.crews[c as usize].token;
            self.q
                .at(now + self.interval, Rank::Position, Ev::Position(c, tok));
        }
        Ok(())
    }

    // ----- calls -----

    fn on_call(&mut self, i: usize) -> Result<(), SimError> {
        if self.opts.policy == SimPolicy::Coverage && self.calls[i].priority == Priority::NonUrgent
        {
            match self.reserve_check(i) {
                Reserve::Hold => {
                    self.count(|r| &mut r.2);
                    self.held.push_back(i);
                    let until =
                        self.calls[i].t + (self.opts.coverage.max_hold_s * 1000.0).round() as i64;
                    self.q.at(until, Rank::Retry, Ev::Retry);
                    return Ok(());
                }
                Reserve::Send(alt) => return self.enter_call(i, alt),
                Reserve::Go => {}
            }
        }
        self.enter_call(i, None)
    }

    /// Enters a call into the core; `instead` is a crew to send in place of the core's pick
    /// (the coverage policy keeping a station's last crew).
    fn enter_call(&mut self, i: usize, instead: Option<String>) -> Result<(), SimError> {
        let spec = &self.calls[i];
        let nc = NewCall {
            id: Some(CallId(spec.id)),
            lat: spec.lat,
            lon: spec.lon,
            priority: spec.priority,
            needs: vec![CrewType::General],
            complaint: String::new(),
            address: String::new(),
            place: None,
            phone: None,
            notes: String::new(),
            received: Some(unix(spec.t)),
        };
        let now = unix(self.now());
        let entered = match self.snapped(i) {
            Some(at) => self.d.new_call_on_road(nc, &at, now),
            // Off the map: the core says so.
            None => self.d.new_call(nc, now),
        };
        match entered {
            Ok(events) => self.absorb(events)?,
            Err(DispatchError::OffMap(_)) => {
                self.outcome_off_map[i] = true;
                return Ok(());
            }
            Err(e) => return Err(self.fail(e)),
        }
        if let Some(crew) = instead {
            let events = self
                .d
                .assign_override(CallId(spec.id), &crew, now)
                .map_err(|e| self.fail(e))?;
            self.absorb(events)?;
        }
        Ok(())
    }

    fn reserve_check(&mut self, i: usize) -> Reserve {
        let Some(at) = self.snapped(i) else {
            return Reserve::Go;
        };
        let Some(choice) = self.d.best_by_road(&at, CrewType::General) else {
            return Reserve::Go;
        };
        let Some(cv) = self.coverage.as_ref() else {
            return Reserve::Go;
        };
        let limit = self.opts.coverage.reserve_share * cv.total();
        let kept = |crew_id: &str| -> bool {
            let c = &self.crews[self.by_id[crew_id] as usize];
            match c.counted {
                Some(s) => cv.idle_at(s) == 1 && cv.sole_cover(s) > limit,
                None => false,
            }
        };
        match choice
            .candidates
            .iter()
            .position(|cand| !kept(&cand.crew_id))
        {
            Some(0) => Reserve::Go,
            Some(k) => Reserve::Send(Some(choice.candidates[k].crew_id.clone())),
            None => Reserve::Hold,
        }
    }

    fn retry_held(&mut self) -> Result<(), SimError> {
        let max_hold = (self.opts.coverage.max_hold_s * 1000.0).round() as i64;
        let now = self.now();
        let mut still = VecDeque::new();
        while let Some(i) = self.held.pop_front() {
            if now - self.calls[i].t >= max_hold {
                self.enter_call(i, None)?;
                continue;
            }
            match self.reserve_check(i) {
                Reserve::Hold => still.push_back(i),
                Reserve::Go => self.enter_call(i, None)?,
                Reserve::Send(alt) => self.enter_call(i, alt)?,
            }
        }
        self.held = still;
        Ok(())
    }

    /// The coverage policy's move-up into a station a crew just left.
    fn maybe_move_up(&mut self, to: usize) {
        let Some(cv) = self.coverage.as_mut() else {
            return;
        };
        if cv.idle_at(to) > 0 {
            return;
        }
        let min_gain = self.opts.coverage.move_up_min_share * cv.total();
        let max_ms = (self.opts.coverage.max_move_s * 1000.0).round() as u32;
        let mut standing = vec![false; self.world.stations.len()];
        for c in &self.crews {
            if let (Some(s), Phase::Idle) = (c.counted, c.phase) {
                standing[s] |= c.base == s;
            }
        }
        let Some((from, _gain)) = cv.best_move_up(to, max_ms, min_gain, |s| standing[s]) else {
            return;
        };
        let Some(c) = self
            .crews
            .iter()
            .position(|c| c.counted == Some(from) && c.phase == Phase::Idle && c.base == from)
        else {
            return;
        };
        self.count(|r| &mut r.1);
        self.stop(c as u32);
        self.send_to_station(c as u32, to);
    }

    /// The record of call `i` from the core's call, if it has one.
    fn record(&self, i: usize, core: Option<&Call>) -> CallRecord {
        let spec = &self.calls[i];
        let rel = |t: Option<i64>| t.map(|t| t - EPOCH_UNIX_MS);
        let mut rec = CallRecord {
            id: spec.id,
            lat: spec.lat,
            lon: spec.lon,
            priority: spec.priority,
            outcome: if self.outcome_off_map[i] {
                CallOutcome::OffMap
            } else {
                CallOutcome::NeverServed
            },
            crew: None,
            received: spec.t,
            assigned: None,
            en_route: None,
            on_scene: None,
            left_scene: None,
            at_hospital: None,
            handover: None,
            available: None,
            hospital: self.hospital_of[i].map(|h| self.world.hospitals[h].id.clone()),
            decisions: 0,
        };
        if let Some(k) = core {
            let t = &k.times;
            rec.assigned = rel(t.assigned);
            rec.en_route = rel(t.en_route);
            rec.on_scene = rel(t.on_scene);
            rec.left_scene = rel(t.left_scene);
            rec.at_hospital = rel(t.at_hospital);
            rec.handover = rel(t.handover);
            rec.available = rel(t.crew_available);
            rec.crew = k
                .assignments
                .first()
                .map(|a| a.crew_id.clone())
                .or_else(|| k.decisions.last().map(|d| d.crew_id.clone()));
            rec.decisions = k.decisions.len() as u32;
            if rec.on_scene.is_some() {
                rec.outcome = CallOutcome::Served;
            }
        }
        rec
    }

    fn finish(mut self) -> RunResult {
        // Crews still busy at the end.
        let end = self.now().max(self.window.admit_until);
        for c in 0..self.crews.len() {
            if let Some(since) = self.crews[c].busy_since.take() {
                self.add_busy(c as u32, since, end);
            }
        }
        let hours = self.opts.hours;
        // The window's own calls, each with its record (a call still open is recorded as
        // it stands), gathered in place: a year's records are a gigabyte.
        let mut records = std::mem::take(&mut self.records);
        let w = self.window;
        for (i, (spec, rec)) in self.calls.iter().zip(records.iter_mut()).enumerate() {
            if !(w.report_from..w.report_until).contains(&spec.t) {
                *rec = None;
            } else if rec.is_none() {
                *rec = Some(self.record(i, self.d.call(CallId(spec.id))));
            }
        }
        #[allow(clippy::filter_map_identity)] // `flatten` would not reuse the allocation
        let records: Vec<CallRecord> = records.into_iter().filter_map(|r| r).collect();
        let busy_by_hour = self
            .busy_by_hour_ms
            .iter()
            .map(|&ms| ms as f64 / HOUR_MS as f64)
            .collect();
        RunResult {
            policy: self.opts.policy,
            hours,
            crews: self.crews.len(),
            calls: records,
            crew_busy_ms: self.crews.iter().map(|c| c.busy_ms).collect(),
            busy_by_hour,
            events: self.result_counts.0,
            relocations: self.result_counts.1,
            held: self.result_counts.2,
            unreachable: self.result_counts.3,
        }
    }
}

enum Reserve {
    Go,
    Send(Option<String>),
    Hold,
}

/// The coverage tables: driving times from each station to every demand cell and station.
fn build_coverage(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
) -> Result<Coverage, SimError> {
    let router = &world.router;
    let mut index = EtaIndex::one_to_many(router);
    let cells = &world.demand.cells;
    for (i, c) in cells.iter().enumerate() {
        index.set(router, i as u32, c.snapped);
    }
    for (j, s) in world.stations.iter().enumerate() {
        index.set(router, (cells.len() + j) as u32, s.snapped);
    }
    let mut station_cell = Vec::with_capacity(world.stations.len());
    let mut station_station = Vec::with_capacity(world.stations.len());
    for s in &world.stations {
        let mut etas = index.etas(router, &s.snapped);
        etas.resize(cells.len() + world.stations.len(), None);
        station_station.push(etas.split_off(cells.len()));
        station_cell.push(etas);
    }
    let q = match opts.coverage.busy_fraction {
        Some(q) => q,
        None => estimate_busy_fraction(calls, opts.hours, world.crew_station.len()),
    };
    Ok(Coverage::new(
        cells.iter().map(|c| c.weight).collect(),
        &station_cell,
        station_station,
        opts.coverage.threshold_s,
        q,
        world.crew_station.len(),
    ))
}

/// The share of time a crew is busy, estimated from the call stream: calls per hour times
/// the mean time a call takes a crew (turnout, about 10 min each way for the drives, on
/// scene, and for transports 10 min more and the handover), over the crews; within
/// [0.05, 0.95].
pub fn estimate_busy_fraction(calls: &[CallSpec], hours: f64, crews: usize) -> f64 {
    if calls.is_empty() || crews == 0 {
        return 0.05;
    }
    let drive_ms = 600_000.0;
    let total_ms: f64 = calls
        .iter()
        .map(|c| {
            let mut t = c.turnout_ms as f64 + 2.0 * drive_ms + c.on_scene_ms as f64;
            if c.transport {
                t += drive_ms + c.handover_ms as f64;
            }
            t
        })
        .sum();
    (total_ms / (hours * HOUR_MS as f64 * crews as f64)).clamp(0.05, 0.95)
}
