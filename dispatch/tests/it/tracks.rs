//! The compaction of the crews' tracks, on both stores: the store's step on a log written by
//! hand, with every outcome worked out below; then the real `dispatch serve` process, whose
//! compacted log must be the log before it less exactly the position reports a later report
//! of the same crew replaces (computed here from the log read before), and whose state after
//! a start over the gaps, from the snapshot or from the whole log, is what it was.

use std::time::{Duration, Instant};

use dispatch::store::{Change, Compacted, Store, StoredEvent};
use serde_json::{json, Value};

use crate::helpers::{client, get, post, TestDb, DISPATCHER};
use crate::process::{console_log, Service};

/// Runs one statement on the test's database; its error, if any.
async fn execute(db: &TestDb, sql: &str) -> Result<(), String> {
    let result = match db {
        TestDb::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(&db.url()).await.unwrap();
            let r = sqlx::query(sql).execute(&pool).await.map(drop);
            pool.close().await;
            r
        }
        TestDb::Postgres(_) => {
            let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
            let r = sqlx::query(sql).execute(&pool).await.map(drop);
            pool.close().await;
            r
        }
    };
    result.map_err(|e| e.to_string())
}

fn moved(crew: &str) -> Value {
    json!({"type": "crew_moved", "crew_id": crew, "lat": 49.4, "lon": 8.69})
}

fn seqs(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

/// Steps worked out by hand on nine entries: A, B and C report; entry 7 is recent.
async fn the_store_removes_replaced_reports_only(db: TestDb) {
    let store = Store::open(&db.url()).await.unwrap();
    let log = [
        (1_000, json!({"type": "crew_added", "crew_id": "A"})), // 1
        (1_000, moved("A")),                                    // 2: A again at 4
        (1_000, moved("B")),                                    // 3: B again at 6
        (1_000, moved("A")),                                    // 4: A again at 7
        (1_000, json!({"type": "call_created", "call_id": 1})), // 5
        (1_000, moved("B")),                                    // 6: B again at 8
        (5_000, moved("A")),                                    // 7: A's latest, recent
        (1_000, moved("B")),                                    // 8: B's latest
        (1_000, moved("C")),                                    // 9: C's only
    ];
    for (at_ms, event) in log {
        store
            .commit(Change {
                at_ms,
                events: vec![event],
                ..Change::default()
            })
            .await
            .unwrap();
    }
    assert_eq!(store.track_compacted().await.unwrap(), 0);
    let step = |upto, before_ms, window| {
        let store = store.clone();
        async move { store.compact_track(upto, before_ms, window).await.unwrap() }
    };
    let done = |removed, mark, advanced| Compacted {
        removed,
        mark,
        advanced,
    };
    // Up to 6, 3 at a time, retention before 2,000: 2 and 3, then 4 and 6.
    assert_eq!(step(6, 2_000, 3).await, done(2, 3, true));
    assert_eq!(step(6, 2_000, 3).await, done(2, 6, true));
    assert_eq!(step(6, 2_000, 3).await, done(0, 6, false));
    // Up to 9: entry 7 is within the retention, so the mark stays.
    assert_eq!(step(9, 2_000, 100).await, done(0, 6, false));
    // With a retention that covers 7: the mark moves to 9, and 7, 8 and 9 are the latest.
    assert_eq!(step(9, 6_000, 100).await, done(0, 9, true));
    assert_eq!(store.track_compacted().await.unwrap(), 9);
    let left = store.events_since(0, 100).await.unwrap();
    assert_eq!(seqs(&left), [1, 5, 7, 8, 9]);
    // Paging over the gaps.
    assert_eq!(seqs(&store.events_since(1, 2).await.unwrap()), [5, 7]);

    // The log goes on after its last entry (which is never removed).
    store
        .commit(Change {
            at_ms: 7_000,
            events: vec![moved("C")],
            ..Change::default()
        })
        .await
        .unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 10);
    // Still append-only for everything else: another entry, a report after the mark, a
    // change, and the mark moved back are refused.
    for sql in [
        "DELETE FROM events WHERE seq = 5",
        "DELETE FROM events WHERE seq = 10",
        "UPDATE events SET at_ms = 0 WHERE seq = 7",
    ] {
        let e = execute(&db, sql).await.unwrap_err();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    let e = execute(&db, "UPDATE track_compaction SET upto = 3")
        .await
        .unwrap_err();
    assert!(e.contains("only moves forward"), "{e}");
    assert_eq!(
        seqs(&store.events_since(0, 100).await.unwrap()),
        [1, 5, 7, 8, 9, 10]
    );
    // A standby compacts nothing.
    store.fence(None);
    assert!(store.compact_track(10, i64::MAX, 100).await.is_err());
    store.close().await;
}

/// The log as the store holds it, as `(seq, entry)`.
async fn stored_log(db: &TestDb) -> Vec<(i64, Value)> {
    let store = Store::open(&db.url()).await.unwrap();
    let log = store.events_since(0, 100_000).await.unwrap();
    store.close().await;
    log.into_iter().map(|e| (e.seq, e.event)).collect()
}

/// Calls and crews as clients see them.
async fn seen(base: &str) -> (Value, Value) {
    let c = client(DISPATCHER);
    (
        get(&c, format!("{base}/api/calls?limit=1000")).await,
        get(&c, format!("{base}/api/crews")).await,
    )
}

async fn a_compacted_log_restores_the_same_state(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let keep = ["--snapshot-every", "20", "--keep-track-s", "3600"];
    let svc = Service::start_with(&db.url(), dir.path(), &keep);
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    for (id, lon) in [("A1", 8.69), ("A2", 8.67)] {
        let (code, v) = post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": id, "lat": 49.41, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    let report = |id: &'static str, i: usize| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let r = c
                .put(format!("{base}/api/crews/{id}/position"))
                .json(&json!({"lat": 49.40 + i as f64 * 4e-4, "lon": 8.68 + i as f64 * 3e-4}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
        }
    };
    // Reports of both crews, a call between them; then, after a snapshot, a tail.
    for i in 0..14 {
        report("A1", i).await;
        if i % 3 == 0 {
            report("A2", i).await;
        }
        if i == 7 {
            let (code, v) = post(
                &c,
                format!("{base}/api/calls"),
                json!({"lat": 49.405, "lon": 8.685, "priority": "urgent"}),
            )
            .await;
            assert_eq!(code, 201, "{v}");
        }
    }
    let waited = Instant::now();
    let snapshot = loop {
        let store = Store::open(&db.url()).await.unwrap();
        let latest = store.latest_snapshot(i64::MAX).await.unwrap();
        store.close().await;
        if let Some((seq, _)) = latest {
            break seq;
        }
        assert!(waited.elapsed() < Duration::from_secs(10), "no snapshot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for i in 14..17 {
        report("A1", i).await;
    }
    let before = seen(&base).await;
    let full = stored_log(&db).await;
    assert!(
        snapshot < full.last().unwrap().0,
        "a tail after the snapshot"
    );
    svc.kill();

    // The reference: the reports at or before the snapshot that a later report of the same
    // crew replaces.
    let replaced = |i: usize| {
        let (seq, e) = &full[i];
        *seq <= snapshot
            && e["type"] == "crew_moved"
            && full[i + 1..]
                .iter()
                .any(|(_, l)| l["type"] == "crew_moved" && l["crew_id"] == e["crew_id"])
    };
    let expected: Vec<(i64, Value)> = (0..full.len())
        .filter(|&i| !replaced(i))
        .map(|i| full[i].clone())
        .collect();
    let removed = full.len() - expected.len();
    assert!(removed >= 10, "{removed} reports to remove");

    // A start with no track kept compacts at once, to the snapshot.
    let svc = Service::start_with(
        &db.url(),
        dir.path(),
        &["--snapshot-every", "20", "--keep-track-s", "0"],
    );
    let waited = Instant::now();
    loop {
        let store = Store::open(&db.url()).await.unwrap();
        let mark = store.track_compacted().await.unwrap();
        store.close().await;
        if mark == snapshot {
            break;
        }
        assert!(mark < snapshot, "compacted past the snapshot: {mark}");
        assert!(waited.elapsed() < Duration::from_secs(10), "not compacted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored_log(&db).await, expected);
    let metrics = client(DISPATCHER)
        .get(format!("{}/metrics", svc.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("dispatch_positions_compacted_total {removed}\n")),
        "{metrics}"
    );
    assert_eq!(seen(&svc.base).await, before);
    svc.kill();

    // With no snapshot, the whole log replays over its gaps to the same state.
    execute(&db, "DELETE FROM snapshots").await.unwrap();
    let svc = Service::start_with(&db.url(), dir.path(), &keep);
    assert!(
        svc.restored().contains("restored from the log"),
        "{}",
        svc.restored()
    );
    assert_eq!(seen(&svc.base).await, before);
    // A console reading the log from its start gets it with the same gaps, in order (from
    // memory after the last gap, from the store before it).
    let log = console_log(&svc.base, 0).await;
    let got: Vec<i64> = log.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let want: Vec<i64> = expected.iter().map(|(s, _)| *s).collect();
    assert_eq!(got, want);
    for (e, (_, stored)) in log.iter().zip(&expected) {
        assert_eq!(e["type"], stored["type"], "{e}");
    }
    svc.kill();
}

crate::on_both_stores!(
    the_store_removes_replaced_reports_only,
    a_compacted_log_restores_the_same_state,
);
