//! Group commit through the service, on both stores: concurrent changes share commits and
//! each is answered only once stored, with nothing lost; a failed group refuses every change
//! decided after its first, leaving no trace in memory or the log; a repeated idempotency
//! key still in flight gets the first request's answer. The oracle for "no trace" is a
//! restart's rebuild from the store, compared with what the service shows.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{
    client, get, post, shared_router, start_with, TestDb, TestServer, DISPATCHER,
};
use crate::metrics::scrape;
use crate::process::{assert_gapless, console_log};
use crate::rules::a_restart_rebuilds_the_same_state;

/// Group commits and the changes they stored so far.
async fn commit_counts(base: &str) -> (f64, f64) {
    let m = scrape(base).await;
    (
        m.histogram("dispatch_commit_seconds"),
        m.value("dispatch_changes_total", &[]),
    )
}

async fn crews(s: &TestServer, n: usize) {
    let c = client(DISPATCHER);
    for i in 0..n {
        let (code, v) = post(
            &c,
            format!("{}/api/crews", s.base),
            json!({"id": format!("A{i:02}"), "lat": 49.40 + i as f64 * 2e-3, "lon": 8.69}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
}

/// `n` calls posted at once; their answers, in order.
async fn burst(s: &TestServer, n: usize) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (c, base) = (client(DISPATCHER), s.base.clone());
            tokio::spawn(async move {
                post(
                    &c,
                    format!("{base}/api/calls"),
                    json!({"lat": 49.40 + (i % 40) as f64 * 1e-3, "lon": 8.68, "priority": "urgent"}),
                )
                .await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The ids of the calls the service lists.
async fn listed(s: &TestServer) -> BTreeSet<u64> {
    get(
        &client(DISPATCHER),
        format!("{}/api/calls?limit=1000", s.base),
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|c| c["id"].as_u64().unwrap())
    .collect()
}

async fn concurrent_changes_share_commits_and_lose_nothing(db: TestDb) {
    let router = shared_router("heidelberg");
    let s = start_with(router.clone(), db, |_| {}).await;
    crews(&s, 10).await;
    let (commits_before, changes_before) = commit_counts(&s.base).await;
    let answers = burst(&s, 120).await;
    for (code, v) in &answers {
        assert_eq!(*code, 201, "{v}");
    }
    let (commits, changes) = commit_counts(&s.base).await;
    let (commits, changes) = (commits - commits_before, changes - changes_before);
    eprintln!("120 concurrent calls: {changes} changes in {commits} commits");
    assert_eq!(changes, 120.0);
    assert!(
        commits < changes,
        "{commits} commits for {changes} changes: none grouped"
    );
    // Every answered call is there, the log is whole, and memory is what the store gives.
    let ids: BTreeSet<u64> = answers
        .iter()
        .map(|(_, v)| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 120);
    assert_eq!(listed(&s).await, ids);
    assert_gapless(&console_log(&s.base, 0).await, 1);
    a_restart_rebuilds_the_same_state(&s, router).await;
}

async fn a_failed_group_refuses_what_was_decided_after_it(db: TestDb) {
    let router = shared_router("heidelberg");
    let s = start_with(router.clone(), db, |_| {}).await;
    crews(&s, 10).await;
    let before = listed(&s).await;
    s.state.0.store.fail_next_commit();
    let answers = burst(&s, 60).await;
    let refused = answers.iter().filter(|(code, _)| *code == 503).count();
    let stored: BTreeSet<u64> = answers
        .iter()
        .filter(|(code, _)| *code == 201)
        .map(|(_, v)| v["id"].as_u64().unwrap())
        .collect();
    eprintln!(
        "60 concurrent calls, one group failed: {refused} refused, {} stored",
        stored.len()
    );
    assert!(refused >= 1, "the failed group's changes are refused");
    assert_eq!(refused + stored.len(), 60, "every answer is 201 or 503");
    // Exactly the answered calls are there: none refused left a trace, none answered lost.
    let now: BTreeSet<u64> = listed(&s).await.difference(&before).copied().collect();
    assert_eq!(now, stored);
    assert_gapless(&console_log(&s.base, 0).await, 1);
    a_restart_rebuilds_the_same_state(&s, router).await;
    // And it goes on.
    let (code, v) = post(
        &client(DISPATCHER),
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
}

async fn the_same_key_in_flight_gets_the_same_answer(db: TestDb) {
    let s = start_with(shared_router("heidelberg"), db, |_| {}).await;
    crews(&s, 2).await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (c, base) = (client(DISPATCHER), s.base.clone());
            tokio::spawn(async move {
                let r = c
                    .post(format!("{base}/api/calls"))
                    .header("Idempotency-Key", "one-call-twelve-tries")
                    .json(&json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let (code, v) = t.await.unwrap();
        assert_eq!(code, 201, "{v}");
        ids.insert(v["id"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 1, "one call for one key: {ids:?}");
    assert_eq!(listed(&s).await, ids);
}

crate::on_both_stores!(
    concurrent_changes_share_commits_and_lose_nothing,
    a_failed_group_refuses_what_was_decided_after_it,
    the_same_key_in_flight_gets_the_same_answer,
);
