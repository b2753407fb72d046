//! Several `dispatch serve` processes on one PostgreSQL schema: one leader, hot standbys
//! that follow the log, serve reads and forward changes. A leader killed (`kill -9`) or
//! frozen (SIGSTOP) is replaced within its lease; nothing acknowledged is lost or made twice,
//! and consoles resume on another instance with no gap. The lease's fencing is also checked
//! on the store itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dispatch::store::{Change, Store, StoreError};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{client, next_json, post, ws, TestDb, ADMIN, CREW_A1, DISPATCHER};
use crate::process::{assert_gapless, console_log, Service};

fn test_event(n: u32) -> Change {
    Change {
        at_ms: 1,
        events: vec![json!({"type": "test", "n": n})],
        ..Change::default()
    }
}

#[tokio::test]
async fn a_moved_lease_fences_the_former_leader() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a = Store::open(&db.url()).await.unwrap();
    let b = Store::open(&db.url()).await.unwrap();
    let lease = Duration::from_millis(400);
    assert_eq!(a.acquire("a", "http://a", lease).await.unwrap(), Some(1));
    assert_eq!(
        b.acquire("b", "http://b", lease).await.unwrap(),
        None,
        "the lease is live"
    );
    a.fence(Some(1));
    b.fence(None);
    a.commit(test_event(1)).await.unwrap();
    assert!(
        matches!(
            b.commit(test_event(2)).await,
            Err(StoreError::Fenced { .. })
        ),
        "a standby never writes"
    );
    assert!(a.renew("a", 1, lease).await.unwrap());
    // `a` freezes: its lease runs out and `b` takes over.
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    assert!(!b.lease().await.unwrap().live);
    assert_eq!(b.acquire("b", "http://b", lease).await.unwrap(), Some(2));
    b.fence(Some(2));
    match a.commit(test_event(3)).await {
        Err(StoreError::Fenced { epoch: 1 }) => {}
        other => panic!("the former leader wrote after the takeover: {other:?}"),
    }
    assert!(
        !a.renew("a", 1, lease).await.unwrap(),
        "a moved lease cannot be renewed"
    );
    b.commit(test_event(4)).await.unwrap();
    let written: Vec<u64> = a
        .events_since(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.event["n"].as_u64().unwrap())
        .collect();
    assert_eq!(written, [1, 4]);
    // A clean release hands over at once.
    b.release("b", 2).await.unwrap();
    assert_eq!(a.acquire("a", "http://a", lease).await.unwrap(), Some(3));
    let now = b.lease().await.unwrap();
    assert_eq!(
        (now.epoch, now.holder.as_str(), now.url.as_str(), now.live),
        (3, "a", "http://a", true)
    );
}

#[tokio::test]
async fn leadership_needs_postgres() {
    let db = TestDb::sqlite();
    let store = Store::open(&db.url()).await.unwrap();
    assert!(matches!(
        store.acquire("a", "http://a", Duration::from_secs(1)).await,
        Err(StoreError::NoLeadership)
    ));
}

/// `/health` of an instance, `None` when it does not answer.
async fn health(c: &reqwest::Client, base: &str) -> Option<Value> {
    let r = c
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .ok()?;
    r.json().await.ok()
}

/// Waits (up to `within`) until one of `bases` leads with an epoch above `after`; returns its
/// index, its epoch and how long it took.
async fn new_leader(bases: &[String], after: i64, within: Duration) -> (usize, i64, Duration) {
    let c = reqwest::Client::new();
    let started = Instant::now();
    loop {
        for (i, base) in bases.iter().enumerate() {
            if let Some(h) = health(&c, base).await {
                let epoch = h["epoch"].as_i64().unwrap();
                if h["role"] == "leader" && epoch > after {
                    return (i, epoch, started.elapsed());
                }
            }
        }
        assert!(
            started.elapsed() < within,
            "no new leader after epoch {after} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends a call with an idempotency key to `bases[first]`, then to the others in turn
/// whenever an instance fails or is gone, until one acknowledges it; returns its id.
async fn send_call(bases: &[String], first: usize, key: &str, n: usize) -> u64 {
    let c = client(DISPATCHER);
    let body = json!({
        "lat": 49.40 + (n % 7) as f64 * 0.002,
        "lon": 8.67 + (n % 5) as f64 * 0.004,
        "priority": "urgent",
        "complaint": format!("burst {n}"),
    });
    let started = Instant::now();
    let mut at = first;
    loop {
        let sent = c
            .post(format!("{}/api/calls", bases[at % bases.len()]))
            .header("Idempotency-Key", key)
            .json(&body)
            .timeout(Duration::from_secs(15))
            .send()
            .await;
        if let Ok(r) = sent {
            if r.status().as_u16() == 201 {
                let v: Value = r.json().await.unwrap();
                return v["id"].as_u64().unwrap();
            }
            assert!(
                r.status().is_server_error(),
                "a call is refused only while the leader changes: {}",
                r.status()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "call {key} not acknowledged"
        );
        at += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every call id of an instance's `/api/calls`.
async fn call_ids(base: &str) -> Vec<u64> {
    let c = client(DISPATCHER);
    let r = c
        .get(format!("{base}/api/calls?limit=5000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let calls: Vec<Value> = r.json().await.unwrap();
    calls.iter().map(|v| v["id"].as_u64().unwrap()).collect()
}

/// Waits until every instance of `bases` has the log up to the same last entry.
async fn converged(bases: &[String]) -> u64 {
    let c = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let mut seqs = Vec::new();
        for base in bases {
            seqs.push(
                health(&c, base).await.unwrap()["last_seq"]
                    .as_u64()
                    .unwrap(),
            );
        }
        if seqs.windows(2).all(|w| w[0] == w[1]) {
            return seqs[0];
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the instances do not converge: {seqs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_the_leader_fails_over_with_nothing_lost() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut services: Vec<Option<Service>> = (0..3)
        .map(|_| Some(Service::start(&db.url(), dir.path())))
        .collect();
    let bases: Vec<String> = services
        .iter()
        .map(|s| s.as_ref().unwrap().base.clone())
        .collect();
    let (leader, epoch, _) = new_leader(&bases, 0, Duration::from_secs(10)).await;
    let standby = (leader + 1) % 3;

    // Crews added through a standby: forwarded, and readable there at once.
    let admin = client(ADMIN);
    let spots = [
        (49.4106, 8.6946),
        (49.4034, 8.6765),
        (49.40, 8.70),
        (49.41, 8.66),
    ];
    for (i, (lat, lon)) in spots.iter().enumerate() {
        let id = format!("A{}", i + 1);
        let (code, v) = post(
            &admin,
            format!("{}/api/crews", bases[standby]),
            json!({"id": id, "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        let r = admin
            .get(format!("{}/api/crews/{id}", bases[standby]))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "the standby has the crew it forwarded"
        );
    }

    // A tablet on a standby: its position report reaches the leader.
    let mut tablet = ws(&bases[standby], &format!("/ws/crews/A1?token={CREW_A1}")).await;
    tablet
        .send(Message::text(
            json!({"type": "position", "lat": 49.4050, "lon": 8.6800}).to_string(),
        ))
        .await
        .unwrap();
    let c = client(DISPATCHER);
    let started = Instant::now();
    loop {
        let crew: Value = c
            .get(format!("{}/api/crews/A1", bases[leader]))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if (crew["position"]["lat"].as_f64().unwrap() - 49.4050).abs() < 1e-6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the tablet's position did not reach the leader: {crew}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let moved = next_json(&mut tablet).await;
    assert_eq!(
        moved["type"], "crew_moved",
        "the standby sends the tablet its move: {moved}"
    );

    // A console on the leader, reading until the leader dies.
    let before = console_log(&bases[leader], 0).await;
    assert_gapless(&before, 1);
    let mut console = ws(
        &bases[leader],
        &format!(
            "/ws/console?token={DISPATCHER}&since={}",
            before.last().unwrap()["seq"]
        ),
    )
    .await;
    let watched = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(
            Duration::from_secs(30),
            futures_util::StreamExt::next(&mut console),
        )
        .await
        {
            seen.push(serde_json::from_str::<Value>(&t).unwrap());
        }
        seen
    });

    // A burst of 60 calls through all three; the leader dies after the 15th answer.
    const CALLS: usize = 60;
    let acked = Arc::new(AtomicUsize::new(0));
    let bases_all = Arc::new(bases.clone());
    let mut workers = Vec::new();
    for w in 0..6 {
        let (acked, bases_all) = (acked.clone(), bases_all.clone());
        workers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (w..CALLS).step_by(6) {
                let id = send_call(&bases_all, n, &format!("burst-{n}"), n).await;
                acked.fetch_add(1, Ordering::AcqRel);
                ids.push((n, id));
            }
            ids
        }));
    }
    while acked.load(Ordering::Acquire) < 15 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    services[leader].take().unwrap().kill();
    let survivors: Vec<String> = (0..3)
        .filter(|i| *i != leader)
        .map(|i| bases[i].clone())
        .collect();
    let (_, new_epoch, failover) = new_leader(&survivors, epoch, Duration::from_secs(15)).await;
    eprintln!("kill -9 of the leader: a new leader (epoch {new_epoch}) in {failover:?}");
    let mut ids = Vec::new();
    for w in workers {
        ids.extend(w.await.unwrap());
    }
    assert_eq!(ids.len(), CALLS);

    // The tablet on the standby got its assignment with the route to draw, as from the
    // leader (the log does not keep the geometry: the standby computes it again).
    let assignment = loop {
        let m = next_json(&mut tablet).await;
        if m["type"] == "assignment" {
            break m;
        }
    };
    let points = assignment["route"]["geometry"]["coordinates"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(points >= 2, "a route to draw: {assignment}");

    // Every acknowledged call exactly once, on every survivor.
    let mut distinct: Vec<u64> = ids.iter().map(|(_, id)| *id).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), CALLS, "one call per idempotency key");
    let last = converged(&survivors).await;
    for base in &survivors {
        let mut held = call_ids(base).await;
        held.sort_unstable();
        assert_eq!(held, distinct, "{base} holds every acknowledged call, once");
    }

    // The console resumes on a survivor where it stopped, with no gap.
    let mut seen = before;
    seen.extend(watched.await.unwrap());
    let resumed_at = seen.last().unwrap()["seq"].as_u64().unwrap();
    seen.extend(console_log(&survivors[0], resumed_at).await);
    assert_gapless(&seen, 1);
    assert_eq!(seen.last().unwrap()["seq"].as_u64(), Some(last));
    drop(services);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_leader_steps_down_and_never_writes_again() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Service::start(&db.url(), dir.path());
    let (_, epoch, _) = new_leader(std::slice::from_ref(&a.base), 0, Duration::from_secs(10)).await;
    let b = Service::start(&db.url(), dir.path());
    let bases = [a.base.clone(), b.base.clone()];
    let id = send_call(&bases, 0, "before", 0).await;

    a.signal("STOP");
    let (who, new_epoch, failover) = new_leader(&bases[1..], epoch, Duration::from_secs(15)).await;
    assert_eq!(who, 0);
    eprintln!("SIGSTOP of the leader: a new leader (epoch {new_epoch}) in {failover:?}");
    let during = send_call(&bases[1..], 0, "during", 1).await;

    // Thawed, it may still believe it leads for a moment: whatever it is asked then is either
    // refused or made once by the new leader, never written under its old epoch.
    a.signal("CONT");
    let c = client(DISPATCHER);
    let r = c
        .post(format!("{}/api/calls", bases[0]))
        .header("Idempotency-Key", "after")
        .json(&json!({"lat": 49.405, "lon": 8.68, "priority": "urgent"}))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(matches!(status, 201 | 503), "{status}");
    let started = Instant::now();
    loop {
        let h = health(&reqwest::Client::new(), &bases[0]).await.unwrap();
        if h["role"] == "standby" && h["epoch"].as_i64() == Some(new_epoch) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the thawed leader did not step down: {h}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    converged(&bases).await;
    let mut expected = vec![id, during];
    if status == 201 {
        expected.push(send_call(&bases[1..], 0, "after", 2).await);
    }
    expected.sort_unstable();
    expected.dedup();
    for base in &bases {
        let mut held = call_ids(base).await;
        held.sort_unstable();
        assert_eq!(held, expected, "{base}");
    }
    assert_gapless(&console_log(&bases[0], 0).await, 1);
}
