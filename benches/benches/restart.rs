//! Start time of the dispatch service over a long log: the whole log replayed, against the
//! latest snapshot and the log after it.
//!
//! A Moscow-scale service (1,000 crews; 12,000 calls a day, 4.4 M a year; each call through
//! its whole cycle: dispatched, en route, on scene, free again, with the queue and the
//! re-assignments the rules make) is run through the dispatch core for `RESTART_DAYS`
//! simulated days (7), its events written to a store as the service logs them, closed calls
//! let go of after a day as the service does, and a snapshot taken every 10,000 entries as
//! the service does. Then the service's start (`AppState::open`) is timed on that store
//! twice: with no snapshot (the whole log), then with the latest snapshot (the log after it).
//! Position reports are not generated (each would be one more entry to replay in the first
//! start, none in the second).
//!
//! Run: `cargo bench -p benches --bench restart`. Settings by environment: `RESTART_DAYS`
//! (7), `RESTART_CALLS_PER_DAY` (12000), `RESTART_CREWS` (1000), `RESTART_DB` (a new SQLite
//! file in a temporary directory by default, or a `postgres://` URL naming an empty
//! database or schema).

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use benches::setting as env;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Instant;

use dispatch::store::{Change, Store};
use dispatch_core::{
    CrewStatus, CrewType, DispatchConfig, Dispatcher, Event, NewCall, NewCrew, Priority, Snapshot,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;
/// Entries between two snapshots (the service's default `--snapshot-every`).
const EVERY: i64 = 10_000;

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let days = env("RESTART_DAYS", 7) as i64;
    let calls_per_day = env("RESTART_CALLS_PER_DAY", 12_000) as i64;
    let crews = env("RESTART_CREWS", 1000);
    let graph = benches::maps::import_map("heidelberg");
    let router =
        Arc::new(router::Router::new(graph, router::RouterOptions::default()).expect("router"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = std::env::var("RESTART_DB")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("restart.db").display()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Store::open(&db).await.expect("store");
        let started = Instant::now();
        let (entries, snapshot, snapshot_seq) =
            generate(&router, &store, days, calls_per_day, crews).await;
        println!(
            "restart: {days} days at {calls_per_day} calls a day, {crews} crews: {entries} log entries written in {:.1} s; the latest snapshot is of entry {snapshot_seq} ({} crews, {} calls held)",
            started.elapsed().as_secs_f64(),
            snapshot.size().0,
            snapshot.size().1,
        );
        store.close().await;

        let whole = start(&router, &db).await;
        let store = Store::open(&db).await.expect("store");
        let bytes = dispatch::journal::save_snapshot(&store, snapshot, snapshot_seq)
            .await
            .expect("snapshot");
        store.close().await;
        let from_snapshot = start(&router, &db).await;
        println!(
            "  start, the whole log replayed: {:.2} s ({:.0} entries/s)",
            whole,
            entries as f64 / whole
        );
        println!(
            "  start from the snapshot ({:.1} MB) and the {} entries after it: {:.2} s ({:.1}x faster)",
            bytes as f64 / 1e6,
            entries - snapshot_seq,
            from_snapshot,
            whole / from_snapshot
        );
    });
}

/// Opens the service's state on `db` and says how long it took (s).
async fn start(router: &Arc<router::Router>, db: &str) -> f64 {
    let t0 = Instant::now();
    let store = Store::open(db).await.expect("store");
    let state = dispatch::state::AppState::open(router.clone(), Default::default(), store)
        .await
        .expect("the state restores");
    let took = t0.elapsed().as_secs_f64();
    state.0.store.close().await;
    took
}

/// What a crew does next, and when.
type Next = Reverse<(i64, usize, u8)>;

/// Runs the load through the core and writes its events to `store`; returns how many were
/// written, and the latest snapshot taken (every [`EVERY`] entries) with its entry.
async fn generate(
    router: &Arc<router::Router>,
    store: &Store,
    days: i64,
    calls_per_day: i64,
    crews: usize,
) -> (i64, Snapshot, i64) {
    let mut rng = StdRng::seed_from_u64(20_261_204);
    let (lat0, lat1, lon0, lon1) = benches::maps::heidelberg_core(router);
    let t0 = 1_764_547_200_000; // 2025-12-01
    let mut d = Dispatcher::new(router.clone(), DispatchConfig::default());
    let mut pending: Vec<serde_json::Value> = Vec::new();
    let mut written = 0i64;
    let mut latest = (d.snapshot(), 0);
    let ids: Vec<String> = (0..crews).map(|i| format!("C{i:04}")).collect();
    let mut next: BinaryHeap<Next> = BinaryHeap::new();
    let mut now = t0;
    let outcome = |events: Vec<Event>, next: &mut BinaryHeap<Next>, rng: &mut StdRng| {
        for e in &events {
            if let Event::CrewStatus {
                crew_id,
                to: CrewStatus::Dispatched,
                at,
                ..
            } = e
            {
                let i: usize = crew_id[1..].parse().expect("a crew id");
                next.push(Reverse((at + rng.gen_range(MIN / 2..2 * MIN), i, 1)));
            }
        }
        events
            .into_iter()
            .map(|e| serde_json::to_value(e).expect("JSON"))
    };
    for (i, id) in ids.iter().enumerate() {
        loop {
            let crew = NewCrew::at(
                id,
                CrewType::General,
                rng.gen_range(lat0..lat1),
                rng.gen_range(lon0..lon1),
            );
            if let Ok(events) = d.add_crew(crew, now + i as i64) {
                pending.extend(outcome(events, &mut next, &mut rng));
                break;
            }
        }
    }
    let gap = DAY / calls_per_day.max(1);
    let end = t0 + days * DAY;
    let mut let_go = t0 + 60 * MIN;
    while now < end {
        now += rng.gen_range(gap / 2..gap * 3 / 2);
        // The crews' steps due before this call.
        while let Some(&Reverse((at, i, step))) = next.peek() {
            if at > now {
                break;
            }
            next.pop();
            let (to, then) = match step {
                1 => (CrewStatus::EnRoute, Some((rng.gen_range(4..15) * MIN, 2))),
                2 => (CrewStatus::OnScene, Some((rng.gen_range(15..40) * MIN, 3))),
                _ => (CrewStatus::Available, None),
            };
            if let Ok(events) = d.set_crew_status(&ids[i], to, at) {
                pending.extend(outcome(events, &mut next, &mut rng));
                if let Some((after, step)) = then {
                    next.push(Reverse((at + after, i, step)));
                }
            }
        }
        let priority = match rng.gen_range(0..10) {
            0..=3 => Priority::Emergency,
            4..=7 => Priority::Urgent,
            _ => Priority::NonUrgent,
        };
        let call = NewCall::at(
            rng.gen_range(lat0..lat1),
            rng.gen_range(lon0..lon1),
            priority,
        );
        if let Ok(events) = d.new_call(call, now) {
            pending.extend(outcome(events, &mut next, &mut rng));
        }
        // As the service does: closed calls leave after a day.
        if now >= let_go {
            for id in d.closed_before(now - DAY) {
                d.take_closed_call(id);
            }
            let_go += 60 * MIN;
        }
        if pending.len() as i64 >= EVERY {
            written += write(store, &mut pending, now).await;
            if written - latest.1 >= EVERY {
                latest = (d.snapshot(), written);
            }
        }
    }
    written += write(store, &mut pending, now).await;
    (written, latest.0, latest.1)
}

/// Appends `pending` to the log in one transaction.
async fn write(store: &Store, pending: &mut Vec<serde_json::Value>, now: i64) -> i64 {
    let n = pending.len() as i64;
    let change = Change {
        at_ms: now,
        events: std::mem::take(pending),
        ..Change::default()
    };
    store.commit(change).await.expect("commit");
    n
}
