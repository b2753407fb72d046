//! Restarts from a snapshot, on both stores, with the real `dispatch serve` process: the
//! ticker stores a snapshot once enough entries were logged; after `kill -9` a start loads
//! it and replays only the log after it, to what every client saw before (calls, crews,
//! closures, the console's log with no gap); a clean stop stores one of the last entry, so
//! the next start replays nothing; a snapshot that cannot be used is passed over for the
//! whole log, to the same state. The oracle is what the service answered before it died.
//! Closed calls leave memory after their retention and stay readable from the store.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{client, crew_steps, get, post, TestDb, CREW_A1, DISPATCHER};
use crate::process::{assert_gapless, comparable, console_log, Service};

const EVERY: &[&str] = &["--snapshot-every", "25"];

/// The latest stored snapshot's entry number, 0 for none.
async fn latest_snapshot(db: &TestDb) -> i64 {
    let store = dispatch::store::Store::open(&db.url()).await.unwrap();
    let latest = store.latest_snapshot(i64::MAX).await.unwrap();
    store.close().await;
    latest.map_or(0, |(seq, _)| seq)
}

/// Waits until the instance leads (on PostgreSQL, after a `kill -9` the dead instance's
/// lease runs out first): only the leader stores snapshots and lets closed calls go.
async fn leading(svc: &Service) {
    let waited = Instant::now();
    loop {
        let health = get(&client(DISPATCHER), format!("{}/health", svc.base)).await;
        if health["role"] == "leader" {
            return;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "never leads: {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs one statement on the test's database.
async fn execute(db: &TestDb, sql: &str) {
    match db {
        TestDb::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(&db.url()).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        TestDb::Postgres(_) => {
            let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// What clients see: calls, crews, closures and the console's whole log.
async fn seen(base: &str) -> (Value, Value, Value, Vec<Value>) {
    let c = client(DISPATCHER);
    let log = console_log(base, 0).await;
    assert_gapless(&log, 1);
    (
        get(&c, format!("{base}/api/calls?limit=1000")).await,
        get(&c, format!("{base}/api/crews")).await,
        get(&c, format!("{base}/api/closures")).await,
        log.iter().map(comparable).collect(),
    )
}

async fn a_restart_starts_from_the_latest_snapshot(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start_with(&db.url(), dir.path(), EVERY);
    assert!(
        svc.restored().contains("restored from the log"),
        "{}",
        svc.restored()
    );
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    let crew = client(CREW_A1);

    // Crews, calls, a closure in force and a crew's whole call: more than 25 entries.
    let spots = [
        (49.4106, 8.6946),
        (49.4034, 8.6765),
        (49.40, 8.70),
        (49.41, 8.65),
    ];
    for (i, (lat, lon)) in spots.iter().enumerate() {
        let (code, v) = post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": format!("A{}", i + 1), "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let (code, closure) = post(
        &c,
        format!("{base}/api/closures"),
        json!({"way_ids": [23646019], "factor": 3.0}),
    )
    .await;
    assert_eq!(code, 201, "{closure}");
    for (i, (lat, lon)) in [(49.405, 8.685), (49.395, 8.68), (49.407, 8.69)]
        .iter()
        .enumerate()
    {
        let priority = ["emergency", "urgent", "non_urgent"][i];
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": lat, "lon": lon, "priority": priority}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    if get(&c, format!("{base}/api/crews/A1")).await["call"].is_u64() {
        crew_steps(
            &crew,
            &base,
            "A1",
            &[
                "en_route",
                "on_scene",
                "transporting",
                "at_hospital",
                "available",
            ],
        )
        .await;
    }
    for i in 0..6 {
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.40 + i as f64 * 1e-3, "lon": 8.69, "priority": "urgent"}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }

    // The ticker stores a snapshot (it looks every second).
    let waited = Instant::now();
    let snapshot = loop {
        let seq = latest_snapshot(&db).await;
        if seq >= 25 {
            break seq;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "no snapshot stored"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Then more: the tail a start replays.
    for i in 0..3 {
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.41, "lon": 8.66 + i as f64 * 1e-3, "priority": "emergency"}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let before = seen(&base).await;
    let last = before.3.len() as i64;
    let snapshot = snapshot.max(latest_snapshot(&db).await);
    assert!(
        snapshot < last,
        "a tail after the snapshot: {snapshot} of {last}"
    );
    eprintln!("snapshot at {snapshot} of {last} entries");
    svc.kill();

    // kill -9: the snapshot of the ticker, then the tail.
    let svc = Service::start_with(&db.url(), dir.path(), EVERY);
    leading(&svc).await;
    assert!(
        svc.restored().contains(&format!(
            "{last} events, 4 crews, 12 calls restored from the snapshot at event {snapshot} and the log after it"
        )),
        "{}",
        svc.restored()
    );
    assert_eq!(seen(&svc.base).await, before);

    // A clean stop stores a snapshot of the last entry: the next start replays nothing.
    svc.stop();
    assert_eq!(latest_snapshot(&db).await, last);
    let svc = Service::start_with(&db.url(), dir.path(), EVERY);
    assert!(
        svc.restored()
            .contains(&format!("restored from the snapshot at event {last} and")),
        "{}",
        svc.restored()
    );
    assert_eq!(seen(&svc.base).await, before);
    // It goes on as the service before it would: the next call gets the next number.
    let (code, v) = post(
        &c,
        format!("{}/api/calls", svc.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "non_urgent"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["id"], 13, "{v}");
    let after = seen(&svc.base).await;
    svc.kill();

    // A snapshot that cannot be used is passed over: the whole log gives the same state.
    execute(&db, r#"UPDATE snapshots SET body = '{"format": 999}'"#).await;
    let svc = Service::start_with(&db.url(), dir.path(), EVERY);
    assert!(
        svc.restored().contains("restored from the log"),
        "{}",
        svc.restored()
    );
    assert_eq!(seen(&svc.base).await, after);
    svc.kill();
}

/// The ids of the calls `GET /api/calls` lists (those in memory).
async fn listed(base: &str) -> Vec<u64> {
    let calls = get(&client(DISPATCHER), format!("{base}/api/calls?limit=1000")).await;
    calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect()
}

async fn closed_calls_leave_memory_and_stay_readable(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(&db.url(), dir.path());
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    let crew = client(CREW_A1);
    let (code, v) = post(
        &c,
        format!("{base}/api/crews"),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    // Call 1: A1 goes, treats on scene and is free again (completed); call 2 takes A1.
    let (code, one) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.405, "lon": 8.685, "priority": "urgent"}),
    )
    .await;
    assert_eq!((code, one["crew_id"].as_str()), (201, Some("A1")), "{one}");
    crew_steps(&crew, &base, "A1", &["en_route", "on_scene", "available"]).await;
    let (code, two) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.41, "lon": 8.66, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{two}");
    let completed = get(&c, format!("{base}/api/calls/1")).await;
    assert_eq!(completed["status"], "completed", "{completed}");
    assert!(completed["times"]["closed"].is_i64(), "{completed}");
    assert_eq!(listed(&base).await, vec![1, 2]);
    svc.stop();

    // Kept for 1 s after it closed: the call leaves memory at the first look after a start.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let svc = Service::start_with(&db.url(), dir.path(), &["--retain-closed-s", "1"]);
    leading(&svc).await;
    let base = svc.base.clone();
    let waited = Instant::now();
    while listed(&base).await != vec![2] {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "call 1 stays listed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Still readable, as it was, from the store; no longer changed.
    assert_eq!(get(&c, format!("{base}/api/calls/1")).await, completed);
    let r = c
        .patch(format!("{base}/api/calls/1"))
        .json(&json!({"notes": "late note"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(get(&c, format!("{base}/api/calls/1")).await, completed);
    // The snapshot at a clean stop no longer holds it, so the next start has 1 call.
    svc.stop();
    let svc = Service::start(&db.url(), dir.path());
    assert!(
        svc.restored()
            .contains("1 crews, 1 calls restored from the snapshot"),
        "{}",
        svc.restored()
    );
    assert_eq!(listed(&svc.base).await, vec![2]);
    assert_eq!(
        get(&c, format!("{}/api/calls/1", svc.base)).await,
        completed
    );
    let r = c
        .get(format!("{}/api/calls/3", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404, "a call that never was");
    svc.kill();
}

crate::on_both_stores!(
    a_restart_starts_from_the_latest_snapshot,
    closed_calls_leave_memory_and_stay_readable,
);
