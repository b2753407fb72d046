//! Durability of the service on both stores: `kill -9` of the real `dispatch serve` process in
//! the middle of a burst of calls loses no acknowledged call, assignment or handover; a
//! commit that fails changes nothing; consoles resume from the store beyond the in-memory
//! window.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{
    client, crew_steps, get, post, shared_router, start_with, TestDb, CREW_A1, DISPATCHER,
};
use crate::process::{assert_gapless, comparable, console_log, Service};

async fn kill_9_loses_nothing_acknowledged(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(&db.url(), dir.path());
    let base = svc.base.clone();
    let c = client(DISPATCHER);
    let spots = [(49.4106, 8.6946), (49.4034, 8.6765), (49.40, 8.70)];
    for (i, (lat, lon)) in spots.iter().enumerate() {
        let (code, v) = post(
            &c,
            format!("{base}/api/crews"),
            json!({"id": format!("A{}", i + 1), "lat": lat, "lon": lon}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
    }
    // Three calls take the three crews; the first with an idempotency key.
    let r = c
        .post(format!("{base}/api/calls"))
        .header("Idempotency-Key", "call-one")
        .json(&json!({"lat": 49.405, "lon": 8.685, "priority": "emergency", "complaint": "chest pain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let first: Value = r.json().await.unwrap();
    for (lat, lon) in [(49.41, 8.65), (49.395, 8.68)] {
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": lat, "lon": lon, "priority": "urgent"}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        assert_eq!(v["status"], "assigned", "{v}");
    }
    // A1 completes its call with a handover; then takes a fourth call.
    let a1_call = get(&c, format!("{base}/api/crews/A1")).await["call"]
        .as_u64()
        .expect("A1 has a call");
    let crew = client(CREW_A1);
    crew_steps(
        &crew,
        &base,
        "A1",
        &["en_route", "on_scene", "transporting", "at_hospital"],
    )
    .await;
    let (code, v) = post(
        &crew,
        format!("{base}/api/calls/{a1_call}/handover"),
        json!({"hospital": "Universitätsklinikum Heidelberg", "vitals": {"heart_rate": 88, "spo2": 95},
               "diagnosis_icd10": "I21.9", "patient": {"name": "Anna Schmidt", "sex": "female"}}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    let (code, v) = post(
        &crew,
        format!("{base}/api/crews/A1/status"),
        json!({"status": "available"}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let (code, v) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.407, "lon": 8.69, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(v["status"], "assigned", "every crew is busy now: {v}");

    // A closure (scheduled, so routes are unchanged) is part of the state too.
    let (code, closure) = post(
        &c,
        format!("{base}/api/closures"),
        json!({"way_ids": [23646019], "factor": 3.0, "from": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(code, 201, "{closure}");
    let closures_before = get(&c, format!("{base}/api/closures")).await;

    // Hospitals come from the map: the nearest with a general emergency department.
    let offer = get(&crew, format!("{base}/api/crews/A1/hospital")).await;
    assert!(
        offer["hospital"]["id"]
            .as_str()
            .unwrap()
            .starts_with("osm:"),
        "{offer}"
    );
    assert!(offer["eta_s"].as_f64().unwrap() > 0.0, "{offer}");
    let pci = get(
        &crew,
        format!("{base}/api/crews/A1/hospital?capability=pci"),
    )
    .await;
    assert_eq!(
        pci["hospital"],
        Value::Null,
        "no PCI centre is tagged in the map: {pci}"
    );

    // What every client was told so far.
    let calls_before = get(&c, format!("{base}/api/calls")).await;
    let crews_before = get(&c, format!("{base}/api/crews")).await;
    let fhir_before = get(&c, format!("{base}/api/calls/{a1_call}/handover/fhir")).await;
    let log_before = console_log(&base, 0).await;
    assert_gapless(&log_before, 1);
    assert!(log_before.len() > 15, "{}", log_before.len());

    // A burst of calls (they queue: no crew is free); kill -9 in the middle of it.
    let burst: Vec<_> = (0..60)
        .map(|i| {
            let (c, base) = (c.clone(), base.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(i * 3)).await;
                let r = c
                    .post(format!("{base}/api/calls"))
                    .json(
                        &json!({"lat": 49.40 + i as f64 * 1e-4, "lon": 8.69, "priority": "urgent"}),
                    )
                    .send()
                    .await
                    .ok()?;
                if r.status().as_u16() != 201 {
                    return None;
                }
                r.json::<Value>().await.ok()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(60)).await;
    svc.kill();
    let mut acknowledged = Vec::new();
    for task in burst {
        if let Some(v) = task.await.unwrap() {
            acknowledged.push(v);
        }
    }
    eprintln!(
        "{} of 60 calls of the burst were acknowledged before kill -9",
        acknowledged.len()
    );

    let svc = Service::start(&db.url(), dir.path());
    let base = svc.base.clone();
    let calls_after = get(&c, format!("{base}/api/calls")).await;
    let by_id = |calls: &Value, id: &Value| {
        calls
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == *id)
            .cloned()
    };
    // Everything told before the burst is there, exactly.
    for call in calls_before.as_array().unwrap() {
        assert_eq!(by_id(&calls_after, &call["id"]).as_ref(), Some(call));
    }
    assert_eq!(get(&c, format!("{base}/api/crews")).await, crews_before);
    assert_eq!(
        get(&c, format!("{base}/api/closures")).await,
        closures_before
    );
    assert_eq!(
        get(&c, format!("{base}/api/calls/{a1_call}/handover/fhir")).await,
        fhir_before
    );
    // Every acknowledged call of the burst is there, queued.
    for ack in &acknowledged {
        let call = by_id(&calls_after, &ack["id"]).expect("an acknowledged call survives");
        assert_eq!(call["status"], "queued", "{call}");
        assert_eq!(call["times"]["received"], ack["times"]["received"]);
    }
    // The log is whole: the same entries, then the burst's, with no gap.
    let log_after = console_log(&base, 0).await;
    assert_gapless(&log_after, 1);
    assert!(log_after.len() >= log_before.len());
    for (a, b) in log_before.iter().zip(&log_after) {
        assert_eq!(comparable(a), comparable(b));
    }
    // A retry with the first call's key still gets the first call, and adds none.
    let r = c
        .post(format!("{base}/api/calls"))
        .header("Idempotency-Key", "call-one")
        .json(&json!({"lat": 49.405, "lon": 8.685, "priority": "emergency", "complaint": "chest pain"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_eq!(get(&c, format!("{base}/api/calls")).await, calls_after);
    // The queue survived: a crew that becomes free takes the oldest queued call, and new
    // calls continue the numbering.
    let queued: Vec<u64> = calls_after
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "queued")
        .map(|x| x["id"].as_u64().unwrap())
        .collect();
    // A1 finishes its call on scene (no transport) and is free again.
    crew_steps(&crew, &base, "A1", &["en_route", "on_scene", "available"]).await;
    if let Some(&oldest) = queued.iter().min() {
        let took = get(&c, format!("{base}/api/crews/A1")).await;
        assert_eq!(took["call"].as_u64(), Some(oldest), "{took}");
    }
    let max_id = calls_after
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .max()
        .unwrap();
    let (code, v) = post(
        &c,
        format!("{base}/api/calls"),
        json!({"lat": 49.405, "lon": 8.685, "priority": "non_urgent"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["id"].as_u64(), Some(max_id + 1));
    svc.kill();
}

/// Makes every append to the event log fail (a trigger), or lets it work again.
async fn break_the_log(db: &TestDb, broken: bool) {
    match db {
        TestDb::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(&db.url()).await.unwrap();
            let sql = if broken {
                "CREATE TRIGGER fail_append BEFORE INSERT ON events \
                 BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"
            } else {
                "DROP TRIGGER fail_append"
            };
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        TestDb::Postgres(_) => {
            let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
            let sqls: &[&str] = if broken {
                &[
                    "CREATE FUNCTION fail_append() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$",
                    "CREATE TRIGGER fail_append BEFORE INSERT ON events \
                     FOR EACH ROW EXECUTE FUNCTION fail_append()",
                ]
            } else {
                &[
                    "DROP TRIGGER fail_append ON events",
                    "DROP FUNCTION fail_append()",
                ]
            };
            for sql in sqls {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
    }
}

async fn a_failed_commit_changes_nothing(db: TestDb) {
    let s = start_with(shared_router("heidelberg"), db, |_| {}).await;
    let c = client(DISPATCHER);
    let (code, _) = post(
        &c,
        format!("{}/api/crews", s.base),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(code, 201);
    let crews = get(&c, format!("{}/api/crews", s.base)).await;
    let log = console_log(&s.base, 0).await;

    break_the_log(s.db(), true).await;
    let (code, v) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(v["error"], "unavailable");
    // Not assigned, not listed, not pushed.
    assert_eq!(get(&c, format!("{}/api/calls", s.base)).await, json!([]));
    assert_eq!(get(&c, format!("{}/api/crews", s.base)).await, crews);
    assert_eq!(console_log(&s.base, 0).await, log);

    break_the_log(s.db(), false).await;
    let (code, v) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["id"], 1, "the failed attempt left no trace: {v}");
    assert_eq!(v["crew_id"], "A1");
    let after = console_log(&s.base, 0).await;
    assert_gapless(&after, 1);
    assert_eq!(&after[..log.len()], &log[..]);
}

async fn what_the_store_has_but_clients_were_not_sent_is_published_after_a_rebuild(db: TestDb) {
    let s = start_with(shared_router("heidelberg"), db, |_| {}).await;
    let c = client(DISPATCHER);
    let (code, _) = post(
        &c,
        format!("{}/api/crews", s.base),
        json!({"id": "A1", "lat": 49.4106, "lon": 8.6946}),
    )
    .await;
    assert_eq!(code, 201);
    // A change the service wrote but never heard back about (its connection dropped after the
    // database committed), made here by writing to the store directly.
    let store = dispatch::store::Store::open(&s.db().url()).await.unwrap();
    store
        .commit(dispatch::store::Change {
            at_ms: 1,
            events: vec![
                json!({"type": "crew_added", "crew_id": "B7", "crew_type": "general",
                                "station": null, "lat": 49.4034, "lon": 8.6765, "at": 1}),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    // The next change fails, which rebuilds the state from the store.
    break_the_log(s.db(), true).await;
    let (code, _) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 503);
    break_the_log(s.db(), false).await;
    // B7 is known and was published in order; the log stays gapless.
    let crews = get(&c, format!("{}/api/crews", s.base)).await;
    assert_eq!(crews.as_array().unwrap().len(), 2, "{crews}");
    let (code, v) = post(
        &c,
        format!("{}/api/calls", s.base),
        json!({"lat": 49.4034, "lon": 8.6765, "priority": "emergency"}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["crew_id"], "B7", "{v}");
    let log = console_log(&s.base, 0).await;
    assert_gapless(&log, 1);
    assert_eq!(log[1]["crew_id"], "B7");
}

async fn concurrent_reads_and_writes_all_finish(db: TestDb) {
    // Reads wait for the core while a write holds it across its commit; they must yield the
    // runtime's threads, or the commit's I/O never runs (this deadlocked on PostgreSQL).
    let s = start_with(shared_router("heidelberg"), db, |_| {}).await;
    let c = client(DISPATCHER);
    for i in 0..5 {
        post(
            &c,
            format!("{}/api/crews", s.base),
            json!({"id": format!("A{i}"), "lat": 49.40 + 0.002 * i as f64, "lon": 8.69}),
        )
        .await;
    }
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (c, base) = (c.clone(), s.base.clone());
            tokio::spawn(async move {
                let r = match i % 4 {
                    0 => {
                        c.put(format!("{base}/api/crews/A{}/position", i % 5))
                            .json(&json!({"lat": 49.40 + 1e-5 * i as f64, "lon": 8.69}))
                            .send()
                            .await
                    }
                    1 => {
                        c.post(format!("{base}/api/calls"))
                            .json(&json!({"lat": 49.405, "lon": 8.685, "priority": "urgent"}))
                            .send()
                            .await
                    }
                    2 => c.get(format!("{base}/api/calls")).send().await,
                    _ => c.get(format!("{base}/api/crews/A{}", i % 5)).send().await,
                };
                r.unwrap().status().as_u16()
            })
        })
        .collect();
    let all = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(tasks),
    )
    .await
    .expect("200 concurrent requests finish within 60 s");
    for code in all {
        let code = code.unwrap();
        assert!(code == 200 || code == 201, "{code}");
    }
    let log = console_log(&s.base, 0).await;
    assert_gapless(&log, 1);
}

async fn a_console_far_behind_reads_the_older_entries_from_the_store(db: TestDb) {
    // Only 3 entries kept in memory.
    let s = start_with(shared_router("heidelberg"), db, |c| c.hub_window = 3).await;
    let c = client(DISPATCHER);
    for (i, (lat, lon)) in [(49.4106, 8.6946), (49.4034, 8.6765)].iter().enumerate() {
        post(
            &c,
            format!("{}/api/crews", s.base),
            json!({"id": format!("A{}", i + 1), "lat": lat, "lon": lon}),
        )
        .await;
    }
    for _ in 0..3 {
        post(
            &c,
            format!("{}/api/calls", s.base),
            json!({"lat": 49.405, "lon": 8.685, "priority": "emergency"}),
        )
        .await;
    }
    let log = console_log(&s.base, 0).await;
    assert!(log.len() > 8, "{}", log.len());
    assert_gapless(&log, 1);
    assert_eq!(log[0]["type"], "crew_added");
    assert_eq!(log[1]["type"], "crew_added");
    // From any point, the same entries.
    for since in [1, 4, log.len() as u64 - 3, log.len() as u64 - 1] {
        let tail = console_log(&s.base, since).await;
        assert_gapless(&tail, since + 1);
        let expected: Vec<Value> = log[since as usize..].iter().map(comparable).collect();
        let got: Vec<Value> = tail.iter().map(comparable).collect();
        assert_eq!(got, expected, "since {since}");
    }
}

crate::on_both_stores!(
    kill_9_loses_nothing_acknowledged,
    a_failed_commit_changes_nothing,
    concurrent_reads_and_writes_all_finish,
    what_the_store_has_but_clients_were_not_sent_is_published_after_a_rebuild,
    a_console_far_behind_reads_the_older_entries_from_the_store,
);
