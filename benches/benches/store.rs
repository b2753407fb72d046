//! The store's own costs, without the service around it: the commit of position reports
//! (the bulk of a dispatch log) one by one and in groups, on SQLite and on PostgreSQL, on
//! PostgreSQL also without the partial index of position reports (`events_positions`,
//! which the compaction's lookups use) to show what that index costs each write; then the
//! compaction of the whole track, in the service's steps.
//!
//! Each position report is what the service writes for one: a `crew_moved` event and the
//! crew's entity, here of a representative size. Commits run one after another (no
//! concurrency), so each figure is one commit's latency; a group of `g` reports is one
//! transaction and one fsync, as the service's group commit makes it under load.
//!
//! Run: `cargo bench -p benches --bench store` (about a minute; `--profile test` builds
//! faster and measures the same store). Settings by environment: `STORE_CREWS` (1000),
//! `STORE_REPORTS` (20000: reports per group size and store), `STORE_PG` (a PostgreSQL URL
//! whose database may hold throw-away schemas; `TEST_DATABASE_URL` by default; without
//! either, SQLite only).

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use benches::setting as env;
use dispatch::store::{Change, Store};
use serde_json::json;
use simulator::stats::percentile;
use test_support::pg::PgSchema;

/// Group sizes measured: one report per commit, and groups as the group commit makes them.
const GROUPS: [usize; 3] = [1, 8, 64];
/// The service's compaction step ([`dispatch::state`]'s window).
const WINDOW: i64 = 20_000;

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let crews = env("STORE_CREWS", 1000);
    let reports = env("STORE_REPORTS", 20_000);
    let pg = std::env::var("STORE_PG")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "{crews} crews, {reports} position reports per group size; commit latency in ms"
        );
        println!(
            "| store | reports per commit | commits | median | p99 | reports/s |\n|---|---|---|---|---|---|"
        );
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let sqlite = Store::open(&url).await.unwrap();
        let sqlite_track = commits("SQLite", &sqlite, crews, reports).await;
        let mut compactions = vec![("SQLite", compact(&sqlite, sqlite_track).await)];
        sqlite.close().await;
        if let Some(admin) = pg {
            for (label, drop_index) in [
                ("PostgreSQL", false),
                ("PostgreSQL without events_positions", true),
            ] {
                let schema = PgSchema::create(&admin).await;
                let store = Store::open(&schema.url()).await.unwrap();
                if drop_index {
                    schema.execute("DROP INDEX events_positions").await;
                }
                let track = commits(label, &store, crews, reports).await;
                if !drop_index {
                    compactions.push((label, compact(&store, track).await));
                }
                store.close().await;
            }
        }
        println!("\ncompaction of the whole log, in steps of {WINDOW} entries");
        println!(
            "| store | entries | removed | time | removed/s | longest step |\n|---|---|---|---|---|---|"
        );
        for (label, c) in compactions {
            println!(
                "| {label} | {} | {} | {:.2} s | {:.0} | {:.0} ms |",
                c.entries,
                c.removed,
                c.time.as_secs_f64(),
                c.removed as f64 / c.time.as_secs_f64(),
                c.longest_step.as_secs_f64() * 1e3,
            );
        }
    });
}

/// One position report of crew `crew`, as the service writes it.
fn report(crew: usize, n: usize, at_ms: i64) -> Change {
    let id = format!("crew-{crew:04}");
    let lat = 49.40 + (n % 997) as f64 * 1e-5;
    let lon = 8.68 + (n % 991) as f64 * 1e-5;
    Change {
        at_ms,
        events: vec![json!({"type": "crew_moved", "crew_id": id, "lat": lat, "lon": lon})],
        upserts: vec![(
            "crew".into(),
            id.clone(),
            json!({
                "id": id, "name": format!("Бригада {crew}"), "crew_type": "general",
                "status": "available", "position": {"lat": lat, "lon": lon},
                "station": "station-1", "call": null, "shift_end_ms": null,
                "updated_ms": at_ms,
            }),
        )],
        ..Change::default()
    }
}

/// Commits `reports` position reports for each group size, prints the figures; returns how
/// many entries the log holds.
async fn commits(label: &str, store: &Store, crews: usize, reports: usize) -> usize {
    let mut n = 0;
    for g in GROUPS {
        let groups = reports.div_ceil(g);
        let mut times = Vec::with_capacity(groups);
        let started = Instant::now();
        for _ in 0..groups {
            let changes: Vec<Change> = (0..g)
                .map(|i| report((n + i) % crews, n + i, 1_000 + (n + i) as i64))
                .collect();
            let t = Instant::now();
            store.commit_all(&changes).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            n += g;
        }
        let total = started.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        println!(
            "| {label} | {g} | {groups} | {:.3} | {:.3} | {:.0} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            (groups * g) as f64 / total,
        );
    }
    n
}

/// What a compaction of the whole log did.
struct Compaction {
    entries: usize,
    removed: u64,
    time: Duration,
    longest_step: Duration,
}

/// Compacts the whole log (every report is past the retention, the mark may go to the end),
/// in the service's steps, and checks that one report per crew is left.
async fn compact(store: &Store, entries: usize) -> Compaction {
    let upto = store.last_seq().await.unwrap();
    let started = Instant::now();
    let (mut removed, mut longest_step) = (0, Duration::ZERO);
    loop {
        let t = Instant::now();
        let step = store.compact_track(upto, i64::MAX, WINDOW).await.unwrap();
        longest_step = longest_step.max(t.elapsed());
        removed += step.removed;
        if !step.advanced {
            break;
        }
    }
    let time = started.elapsed();
    let left = store.events_since(0, i64::MAX).await.unwrap().len();
    assert_eq!(left as u64, entries as u64 - removed);
    Compaction {
        entries,
        removed,
        time,
        longest_step,
    }
}
