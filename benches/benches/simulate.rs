//! Call-simulator benchmark: simulated calls per second of wall time.
//!
//! * `simulate/heidelberg_day_20000_calls_1000_crews/simulator`: one day of 20,000 generated
//!   calls with 1,000 crews on the Heidelberg map through [`simulator::engine::run`]: the
//!   dispatch core decides every assignment with the exact road ETAs of the best crews (the
//!   pruned many-to-one search), crews drive routed paths, report their positions every
//!   30 s and can be sent while driving back.
//! * `.../table_model`: the peer a planner would write first (the "plain SimPy model"): the
//!   same calls, travel times looked up in station × call and call × hospital tables
//!   precomputed before timing, crews sent only from their stations, a FIFO queue.
//!
//! Before timing, the end-to-end time of one `simulator run` equivalent (open the map,
//! build the world, generate the calls, simulate, summarise) is printed to stderr.
//! `SIM_DAYS=N` also times one N-day run (calls/s) for scaling.
//!
//! Run: `cargo bench -p benches --bench simulate` (about 3 minutes on 2 shared cores, after a
//! build of several minutes: release builds use fat LTO).

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use router::{EtaIndex, Router};
use simulator::calls::{CallModel, CallSpec};
use simulator::engine::{self, RunOptions, World};
use simulator::scenario::{self, WorldSpec};
use simulator::stats::Summary;

/// The allocator the `simulator` binary runs with, so the bench times what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CREWS: usize = 1_000;
const CALLS_PER_DAY: f64 = 20_000.0;
const SEED: u64 = 20_261_125;

fn open() -> Arc<Router> {
    let path = benches::maps::map_path("heidelberg");
    Arc::new(simulator::map::open_map(&path).expect("the Heidelberg map opens"))
}

/// Precomputed tables of the peer model.
struct Tables {
    /// Home station of each crew.
    crew_station: Vec<usize>,
    /// Driving time (ms) from each station to each call.
    station_call: Vec<Vec<u32>>,
    /// Driving time from each call to its nearest hospital, and that hospital.
    call_hospital: Vec<(u32, usize)>,
    /// Driving time from each hospital to each station.
    hospital_station: Vec<Vec<u32>>,
}

fn tables(world: &World, calls: &[CallSpec]) -> Tables {
    let r = &world.router;
    let snapped: Vec<_> = calls
        .iter()
        .map(|c| {
            r.snap(c.lat, c.lon)
                .expect("generated calls are on the map")
        })
        .collect();
    let mut to_calls = EtaIndex::one_to_many(r);
    for (i, p) in snapped.iter().enumerate() {
        to_calls.set(r, i as u32, *p);
    }
    let far = u32::MAX / 4;
    let station_call = world
        .stations
        .iter()
        .map(|s| {
            to_calls
                .etas(r, &s.snapped)
                .into_iter()
                .map(|e| e.unwrap_or(far))
                .collect()
        })
        .collect();
    let mut to_hospitals = EtaIndex::one_to_many(r);
    for (i, h) in world.hospitals.iter().enumerate() {
        to_hospitals.set(r, i as u32, h.snapped);
    }
    let call_hospital = snapped
        .iter()
        .map(|p| {
            to_hospitals
                .etas(r, p)
                .into_iter()
                .enumerate()
                .filter_map(|(i, e)| Some((e?, i)))
                .min()
                .unwrap_or((far, 0))
        })
        .collect();
    let mut to_stations = EtaIndex::one_to_many(r);
    for (i, s) in world.stations.iter().enumerate() {
        to_stations.set(r, i as u32, s.snapped);
    }
    let hospital_station = world
        .hospitals
        .iter()
        .map(|h| {
            to_stations
                .etas(r, &h.snapped)
                .into_iter()
                .map(|e| e.unwrap_or(far))
                .collect()
        })
        .collect();
    Tables {
        crew_station: world.crew_station.clone(),
        station_call,
        call_hospital,
        hospital_station,
    }
}

/// The plain table model: returns the mean response time (ms) over the calls.
fn table_model(t: &Tables, calls: &[CallSpec]) -> f64 {
    let stations = t.station_call.len();
    let mut idle: Vec<Vec<usize>> = vec![Vec::new(); stations];
    for (c, &s) in t.crew_station.iter().enumerate() {
        idle[s].push(c);
    }
    // (time, kind 0 = crew back home / 1 = call, index)
    let mut heap: BinaryHeap<Reverse<(i64, u8, usize)>> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| Reverse((c.t, 1, i)))
        .collect();
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut total = 0i64;
    let mut served = 0usize;
    let mut send = |now: i64, crew: usize, call: usize, heap: &mut BinaryHeap<_>| {
        let s = t.crew_station[crew];
        let c = &calls[call];
        let drive = i64::from(t.station_call[s][call]);
        let arrive = now + c.turnout_ms + drive;
        total += arrive - c.t;
        served += 1;
        let mut back = arrive + c.on_scene_ms;
        if c.transport {
            let (to_h, h) = t.call_hospital[call];
            back += i64::from(to_h) + c.handover_ms + i64::from(t.hospital_station[h][s]);
        } else {
            back += drive;
        }
        heap.push(Reverse((back, 0, crew)));
    };
    while let Some(Reverse((now, kind, i))) = heap.pop() {
        if kind == 0 {
            match queue.pop_front() {
                Some(call) => send(now, i, call, &mut heap),
                None => idle[t.crew_station[i]].push(i),
            }
        } else {
            let best = (0..stations)
                .filter(|&s| !idle[s].is_empty())
                .min_by_key(|&s| (t.station_call[s][i], s));
            match best {
                Some(s) => {
                    let crew = idle[s].pop().expect("an idle crew");
                    send(now, crew, i, &mut heap);
                }
                None => queue.push_back(i),
            }
        }
    }
    total as f64 / served.max(1) as f64
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    let opts = RunOptions {
        hours: 24.0,
        ..RunOptions::default()
    };

    // End to end, once: what `simulator run` does.
    let t0 = Instant::now();
    let router = open();
    let world = scenario::build_world(router, &WorldSpec::auto(CREWS)).expect("world");
    let calls = scenario::generate_calls(&world, CALLS_PER_DAY, 24.0, SEED, &CallModel::default())
        .expect("calls");
    let t1 = Instant::now();
    let result = engine::run(&world, &calls, &opts, &mut |_| {}).expect("run");
    let t2 = Instant::now();
    let summary = Summary::of(&result);
    eprintln!(
        "end to end: {:.2} s ({:.2} s map, world and calls; {:.2} s simulating {} calls with {} crews: {:.0} calls/s); response p50 {:.0} s, utilization {:.1} %",
        t2.duration_since(t0).as_secs_f64(),
        t1.duration_since(t0).as_secs_f64(),
        t2.duration_since(t1).as_secs_f64(),
        calls.len(),
        CREWS,
        calls.len() as f64 / t2.duration_since(t1).as_secs_f64(),
        summary.all.response_s.dist.p50,
        summary.crew_utilization * 100.0
    );

    let t = tables(&world, &calls);
    eprintln!(
        "table model: mean response {:.0} s (simulator: {:.0} s)",
        table_model(&t, &calls) / 1000.0,
        summary.all.response_s.dist.mean
    );

    if let Some(days) = std::env::var("SIM_DAYS")
        .ok()
        .and_then(|d| d.parse::<f64>().ok())
    {
        let long = scenario::generate_calls(
            &world,
            CALLS_PER_DAY,
            24.0 * days,
            SEED,
            &CallModel::default(),
        )
        .expect("calls");
        let o = RunOptions {
            hours: 24.0 * days,
            ..opts.clone()
        };
        let t = Instant::now();
        let r = engine::run(&world, &long, &o, &mut |_| {}).expect("run");
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "{days} days: {} calls in {s:.1} s ({:.0} calls/s)",
            r.calls.len(),
            r.calls.len() as f64 / s
        );
    }

    let mut group = c.benchmark_group("simulate/heidelberg_day_20000_calls_1000_crews");
    group.throughput(criterion::Throughput::Elements(calls.len() as u64));
    group.bench_function("simulator", |b| {
        b.iter(|| black_box(engine::run(&world, &calls, &opts, &mut |_| {}).expect("run")))
    });
    group.bench_function("table_model", |b| {
        b.iter(|| black_box(table_model(&t, &calls)))
    });
    group.finish();
    c.final_summary();
}
