//! One simulation run's state ([`Sim`]): the core's [`Dispatcher`], the event queue, the
//! crews as the simulator plays them; the event loop, what the core's events mean for the
//! crews, and the records gathered at the end.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use dispatch_core::{
    Call, CallId, CallStatus, Capability, CrewStatus, DispatchConfig, DispatchError, Dispatcher,
    Event, NewCrew, NewHospital, Policy,
};
use foldhash::fast::FixedState;
use router::{Router, Snapped};

use super::drive::Drive;
use super::{
    crew_id, unix, CallExceptions, CallOutcome, CallRecord, RunOptions, RunResult, SimPolicy,
    Window, World,
};
use crate::calls::CallSpec;
use crate::coverage::Coverage;
use crate::error::SimError;
use crate::scheduler::{Rank, Scheduler, SimTime, EPOCH_UNIX_MS, HOUR_MS};

#[derive(Debug, Clone, Copy)]
pub(super) enum Ev {
    Call(usize),
    Turnout(u32, u32),
    OnScene(u32, u32),
    SceneDone(u32, u32),
    AtHospital(u32, u32),
    Handover(u32, u32),
    AtStation(u32, u32),
    Position(u32, u32),
    Closure,
    Shift,
    Retry,
    Breakdown(u32, u32),
    Repaired(u32, u32),
    Retriage(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Standing at a station.
    Idle,
    /// Free, driving to a station.
    Returning,
    Turnout,
    ToScene,
    OnScene,
    ToHospital,
    Handover,
    /// Broken down, out of service until repaired.
    OutOfService,
}

#[derive(Debug, Clone)]
pub(super) struct SimCrew {
    pub(super) id: String,
    /// The station it belongs to now (home, or where the coverage policy sent it).
    pub(super) base: usize,
    /// Station where the coverage bookkeeping counts it (idle crews only).
    pub(super) counted: Option<usize>,
    /// Where it is (standing) or where its drive started.
    pub(super) at: Snapped,
    pub(super) drive: Option<Drive>,
    pub(super) phase: Phase,
    pub(super) token: u32,
    pub(super) call: Option<usize>,
    pub(super) busy_since: Option<SimTime>,
    pub(super) busy_ms: i64,
    /// The position last reported to the core.
    pub(super) reported: Option<osm_data::Coord>,
    /// Done with its call and driving back to its station before it is free
    /// ([`RunOptions::station_only`]); the core holds it off duty meanwhile.
    pub(super) homing: bool,
    /// Off duty by the shift plan (the core holds it off duty).
    pub(super) off_duty: bool,
}

/// One simulation run.
pub(super) struct Sim<'a> {
    pub(super) world: &'a World,
    pub(super) calls: &'a [CallSpec],
    /// Each call's point on the road (`None`: off the map), filled ahead by another thread.
    pub(super) snapped: &'a [OnceLock<Option<Snapped>>],
    pub(super) opts: &'a RunOptions,
    pub(super) router: Arc<Router>,
    pub(super) d: Dispatcher,
    pub(super) q: Scheduler<Ev>,
    pub(super) crews: Vec<SimCrew>,
    pub(super) by_id: HashMap<String, u32, FixedState>,
    pub(super) hospital_of: Vec<Option<usize>>,
    /// Records of the calls completed (and archived from the core) so far.
    pub(super) records: Vec<Option<CallRecord>>,
    pub(super) outcome_off_map: Vec<bool>,
    pub(super) coverage: Option<Coverage>,
    pub(super) held: VecDeque<usize>,
    pub(super) retry_due: bool,
    pub(super) end: SimTime,
    pub(super) window: Window,
    /// The id of `calls[0]` (ids are consecutive).
    pub(super) first_id: u64,
    pub(super) busy_by_hour_ms: Vec<i64>,
    pub(super) result_counts: (u64, u64, u64, u64),
    pub(super) interval: i64,
    /// The calls that come in, in time order (stable); each is scheduled when the one
    /// before it comes in, which keeps the event queue small. Calls are the last rank of
    /// an instant, so this runs the same events in the same order as scheduling them all
    /// at the start.
    pub(super) call_order: Vec<usize>,
    pub(super) next_call: usize,
    /// What the exceptions hold for each call (empty when there are none).
    pub(super) exceptions: Vec<CallExceptions>,
    /// Calls whose crew has broken down already (a call breaks down once at most).
    pub(super) broke: Vec<bool>,
    /// Breakdowns and re-triaged calls this window reports.
    pub(super) breakdowns: u64,
    pub(super) retriaged: u64,
}

impl<'a> Sim<'a> {
    pub(super) fn new(
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
            diversion: opts.rules.diversion && !opts.station_only,
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
                    crew_type: world.crew_type(i),
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
                homing: false,
                off_duty: false,
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
            exceptions: if opts.exceptions.any() {
                calls
                    .iter()
                    .map(|c| opts.exceptions.draw(c.id, c.priority))
                    .collect()
            } else {
                Vec::new()
            },
            broke: Vec::new(),
            breakdowns: 0,
            retriaged: 0,
        };
        sim.broke = vec![false; sim.exceptions.len()];
        sim.start_duty()?;
        if let Some(cv) = sim.coverage.as_mut() {
            for c in sim.crews.iter_mut().filter(|c| !c.off_duty) {
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

    pub(super) fn now(&self) -> SimTime {
        self.q.now()
    }

    /// The index in `calls` of the call with this id.
    pub(super) fn index_of(&self, id: CallId) -> usize {
        (id.0 - self.first_id) as usize
    }

    /// Call `i`'s point on the road (`None`: off the map).
    pub(super) fn snapped(&self, i: usize) -> Option<Snapped> {
        let c = &self.calls[i];
        *self.snapped[i].get_or_init(|| self.router.snap(c.lat, c.lon).ok())
    }

    /// Whether what happens at `t` is this window's to report.
    pub(super) fn reports(&self, t: SimTime) -> bool {
        t >= self.window.report_from && (self.window.last || t < self.window.report_until)
    }

    /// Counts one relocation, hold or cut-off (`which` of `result_counts`) now, if it is
    /// this window's to report.
    pub(super) fn count(&mut self, which: fn(&mut (u64, u64, u64, u64)) -> &mut u64) {
        if self.reports(self.now()) {
            *which(&mut self.result_counts) += 1;
        }
    }

    /// Schedules the next call of `call_order`.
    pub(super) fn schedule_next_call(&mut self) {
        if let Some(&i) = self.call_order.get(self.next_call) {
            self.next_call += 1;
            self.q.at(self.calls[i].t, Rank::Call, Ev::Call(i));
        }
    }

    pub(super) fn fail(&self, cause: DispatchError) -> SimError {
        SimError::Dispatch {
            at_s: self.now() as f64 / 1000.0,
            cause,
        }
    }

    pub(super) fn run(&mut self, progress: &mut dyn FnMut(usize)) -> Result<(), SimError> {
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
                Ev::Shift => self.on_shift()?,
                Ev::Breakdown(c, tok) if self.live(c, tok) => self.on_breakdown(c)?,
                Ev::Repaired(c, tok) if self.live(c, tok) => self.on_repaired(c)?,
                Ev::Retriage(i) => self.on_retriage(i)?,
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

    pub(super) fn live(&self, c: u32, token: u32) -> bool {
        self.crews[c as usize].token == token
    }

    /// Plays the crews' side of the events an operation returned.
    pub(super) fn absorb(&mut self, events: Vec<Event>) -> Result<(), SimError> {
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
                    // A crew driving home before it is free stays busy.
                    let homing = self.crews[c as usize].homing;
                    if from == CrewStatus::Available && !homing && to != CrewStatus::OffDuty {
                        self.crews[c as usize].busy_since = Some(now);
                    }
                    if to == CrewStatus::Available && !homing {
                        if let Some(since) = self.crews[c as usize].busy_since.take() {
                            self.add_busy(c, since, now);
                        }
                        self.on_available(c)?;
                    }
                    if to == CrewStatus::OffDuty {
                        if homing {
                            self.go_home(c)?;
                        } else {
                            self.shift_over(c);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn crew_index(&self, id: &str) -> u32 {
        self.by_id[id]
    }

    /// Adds a crew's busy time: its busy time within the window's reported hours, and every
    /// hour's busy time that is this window's to report.
    pub(super) fn add_busy(&mut self, c: u32, from: SimTime, to: SimTime) {
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
    pub(super) fn stop(&mut self, c: u32) {
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

    pub(super) fn report_position(&mut self, c: u32) -> Result<(), SimError> {
        let at = self.crews[c as usize].at;
        self.report(c, &at)
    }

    /// Tells the core where a crew is, unless that is where it last said (a crew freed
    /// where it arrived has nothing new to report). The crew is on the road it drives, at a
    /// known segment and fraction, so the core takes that point as it is (no snapping).
    pub(super) fn report(&mut self, c: u32, at: &Snapped) -> Result<(), SimError> {
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

    pub(super) fn uncount(&mut self, c: u32) {
        if let Some(s) = self.crews[c as usize].counted.take() {
            if let Some(cv) = self.coverage.as_mut() {
                cv.remove(s);
            }
        }
    }

    /// The record of call `i` from the core's call, if it has one.
    pub(super) fn record(&self, i: usize, core: Option<&Call>) -> CallRecord {
        let spec = &self.calls[i];
        let rel = |t: Option<i64>| t.map(|t| t - EPOCH_UNIX_MS);
        let mut rec = CallRecord {
            id: spec.id,
            lat: spec.lat,
            lon: spec.lon,
            priority: core.map_or(spec.priority, |k| k.priority),
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

    pub(super) fn finish(mut self) -> RunResult {
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
            crew_hours: self.crew_hours(),
            breakdowns: self.breakdowns,
            retriaged: self.retriaged,
            busy_by_hour,
            events: self.result_counts.0,
            relocations: self.result_counts.1,
            held: self.result_counts.2,
            unreachable: self.result_counts.3,
        }
    }
}
