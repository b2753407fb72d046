//! The durable store (`dispatch::store`) on SQLite (a temporary file) and on PostgreSQL (a
//! throw-away schema in the database named by `TEST_DATABASE_URL`, skipped when it is unset).

use dispatch::store::{Backend, Change, Committed, Store, StoreError};
use serde_json::{json, Value};
use test_support::pg::{test_database_url, PgSchema};

fn upsert(kind: &str, id: &str, body: Value) -> (String, String, Value) {
    (kind.to_owned(), id.to_owned(), body)
}

fn seqs(events: &[dispatch::store::StoredEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

/// The whole story on one backend: `url` must name an empty database that `store` is open on.
async fn story(store: Store, url: &str) {
    assert_eq!(store.last_seq().await.unwrap(), 0);
    assert!(store.events_since(0, 100).await.unwrap().is_empty());

    // Two changes: gapless, ordered sequence numbers.
    let first = Change {
        idempotency_key: Some("k1".into()),
        at_ms: 1_000,
        events: vec![json!({"n": 1}), json!({"n": 2})],
        upserts: vec![
            upsert("call", "c1", json!({"state": "open"})),
            upsert("crew", "a", json!({"name": "RTW 1"})),
            upsert("crew", "b", json!({"name": "RTW 2"})),
            upsert(
                "crew",
                "Z",
                json!({"name": "NEF 1", "nested": [1, 2.5, null, "ä"]}),
            ),
        ],
        deletes: vec![],
        response: Some(json!({"id": "c1"})),
    };
    assert_eq!(
        store.commit(first).await.unwrap(),
        Committed::New {
            first_seq: 1,
            last_seq: 2
        }
    );
    let second = Change {
        at_ms: 2_000,
        events: vec![json!({"n": 3}), json!({"n": 4}), json!({"n": 5})],
        upserts: vec![upsert(
            "call",
            "c1",
            json!({"state": "assigned", "crew": "b"}),
        )],
        deletes: vec![
            ("crew".into(), "a".into()),
            ("crew".into(), "missing".into()),
        ],
        ..Change::default()
    };
    assert_eq!(
        store.commit(second).await.unwrap(),
        Committed::New {
            first_seq: 3,
            last_seq: 5
        }
    );
    assert_eq!(store.last_seq().await.unwrap(), 5);
    let all = store.events_since(0, 100).await.unwrap();
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
    for e in &all {
        assert_eq!(e.event, json!({"n": e.seq}));
        assert_eq!(e.at_ms, if e.seq <= 2 { 1_000 } else { 2_000 });
    }
    assert_eq!(seqs(&store.events_since(2, 100).await.unwrap()), [3, 4, 5]);
    assert_eq!(seqs(&store.events_since(2, 2).await.unwrap()), [3, 4]);
    assert!(store.events_since(5, 100).await.unwrap().is_empty());

    // The same idempotency key again: the first response, nothing written.
    let again = Change {
        idempotency_key: Some("k1".into()),
        at_ms: 3_000,
        events: vec![json!({"n": 99})],
        upserts: vec![upsert("call", "c1", json!({"state": "overwritten"}))],
        response: Some(json!({"id": "other"})),
        ..Change::default()
    };
    assert_eq!(
        store.commit(again.clone()).await.unwrap(),
        Committed::Replayed {
            response: json!({"id": "c1"})
        }
    );
    assert_eq!(store.last_seq().await.unwrap(), 5);

    // Upserts and deletes; entities ordered bytewise by id on both backends.
    let expected_crews = vec![
        (
            "Z".to_owned(),
            json!({"name": "NEF 1", "nested": [1, 2.5, null, "ä"]}),
        ),
        ("b".to_owned(), json!({"name": "RTW 2"})),
    ];
    assert_eq!(store.entities("crew").await.unwrap(), expected_crews);
    let c1 = json!({"state": "assigned", "crew": "b"});
    assert_eq!(store.entity("call", "c1").await.unwrap(), Some(c1.clone()));
    assert_eq!(store.entity("crew", "a").await.unwrap(), None);
    assert!(store.entities("hospital").await.unwrap().is_empty());

    // Atomicity: a change the database rejects (an empty entity id, after its events and a
    // valid upsert were sent) writes nothing at all, not even its idempotency key.
    let bad = Change {
        idempotency_key: Some("k-fail".into()),
        at_ms: 4_000,
        events: vec![json!({"n": 6}), json!({"n": 7})],
        upserts: vec![
            upsert("crew", "c", json!({"name": "RTW 3"})),
            upsert("crew", "", json!({})),
        ],
        response: Some(json!({"bad": true})),
        ..Change::default()
    };
    let err = store.commit(bad.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
    // It says what the store was doing (an entity's upsert, or the group's upserts).
    assert!(err.to_string().contains("upsert"), "{err}");
    assert_eq!(store.last_seq().await.unwrap(), 5);
    assert_eq!(store.entity("crew", "c").await.unwrap(), None);
    assert_eq!(store.entities("crew").await.unwrap(), expected_crews);
    // The key was not stored: the corrected change is new, and continues the log gaplessly.
    let fixed = Change {
        upserts: vec![upsert("crew", "c", json!({"name": "RTW 3"}))],
        ..bad
    };
    assert_eq!(
        store.commit(fixed).await.unwrap(),
        Committed::New {
            first_seq: 6,
            last_seq: 7
        }
    );
    // A change without events: an empty range after the last event.
    let no_events = Change {
        deletes: vec![("crew".into(), "c".into())],
        ..Change::default()
    };
    assert_eq!(
        store.commit(no_events).await.unwrap(),
        Committed::New {
            first_seq: 8,
            last_seq: 7
        }
    );

    // Reopen: everything is still there and the log continues.
    let before = store.events_since(0, 100).await.unwrap();
    let backend = store.backend();
    store.close().await;
    drop(store);
    let store = Store::open(url).await.unwrap();
    assert_eq!(store.backend(), backend);
    assert_eq!(store.last_seq().await.unwrap(), 7);
    assert_eq!(store.events_since(0, 100).await.unwrap(), before);
    assert_eq!(store.entities("crew").await.unwrap(), expected_crews);
    assert_eq!(store.entity("call", "c1").await.unwrap(), Some(c1));
    assert_eq!(
        store.commit(again).await.unwrap(),
        Committed::Replayed {
            response: json!({"id": "c1"})
        }
    );
    let next = Change {
        events: vec![json!({"n": 8})],
        ..Change::default()
    };
    assert_eq!(
        store.commit(next).await.unwrap(),
        Committed::New {
            first_seq: 8,
            last_seq: 8
        }
    );

    // Two or more writers (clones sharing the pool) still give gapless, unique numbers.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .commit(Change {
                        idempotency_key: Some(format!("w{w}")),
                        at_ms: 5_000 + w,
                        events: vec![json!({"w": w, "i": 0}), json!({"w": w, "i": 1})],
                        upserts: vec![upsert("writer", &format!("{w}"), json!(w))],
                        ..Change::default()
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    for writer in writers {
        let Committed::New {
            first_seq,
            last_seq,
        } = writer.await.unwrap()
        else {
            panic!("a new key was replayed");
        };
        assert_eq!(last_seq, first_seq + 1);
    }
    let all = store.events_since(0, 1_000).await.unwrap();
    assert_eq!(seqs(&all), (1..=24).collect::<Vec<_>>());
    for pair in all[8..].chunks(2) {
        assert_eq!(pair[0].event["w"], pair[1].event["w"], "a change was split");
    }
    assert_eq!(store.entities("writer").await.unwrap().len(), 8);
    store.close().await;
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    assert!(!path.exists());
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.exists(), "the database file is created");
    story(store, &url).await;
}

/// One event, then an UPDATE and a DELETE of it, and a write to the log afterwards.
fn one_event() -> Change {
    Change {
        at_ms: 1,
        events: vec![json!({"type": "call_created", "call_id": 1})],
        ..Change::default()
    }
}

#[tokio::test]
async fn the_event_log_is_append_only_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    let store = Store::open(&url).await.unwrap();
    store.commit(one_event()).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for sql in [
        "UPDATE events SET body = '{\"type\":\"forged\"}' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 1",
        "DELETE FROM events",
    ] {
        let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    pool.close().await;
    let events = store.events_since(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event["type"], "call_created");
    // Appending still works.
    store.commit(one_event()).await.unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 2);
    store.close().await;
}

#[tokio::test]
async fn the_event_log_is_append_only_on_postgres() {
    let Some(admin) = test_database_url() else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let store = Store::open(&schema.url()).await.unwrap();
    store.commit(one_event()).await.unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&schema.url())
        .await
        .unwrap();
    for sql in [
        "UPDATE events SET body = '{\"type\":\"forged\"}' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 1",
        "TRUNCATE events",
    ] {
        let e = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let events = store.events_since(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event["type"], "call_created");
    store.commit(one_event()).await.unwrap();
    assert_eq!(store.last_seq().await.unwrap(), 2);
    store.close().await;
}

#[tokio::test]
async fn bad_urls_give_clear_errors_without_passwords() {
    let err = Store::open("mysql://x").await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("mysql://x"), "{msg}");
    assert!(
        msg.contains("sqlite://") && msg.contains("postgres://"),
        "{msg}"
    );

    let err = Store::open("mysql://user:s3cret@db/x").await.unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("user:***@db"), "{err}");

    // A SQLite file in a directory that does not exist cannot be created.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/d.db", dir.path().display());
    let err = Store::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[tokio::test]
async fn postgres_story() {
    let Some(admin) = test_database_url() else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let store = Store::open(&schema.url()).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    story(store, &schema.url()).await;
}

#[tokio::test]
async fn postgres_rejected_json_writes_nothing() {
    let Some(admin) = test_database_url() else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let store = Store::open(&schema.url()).await.unwrap();
    store
        .commit(Change {
            events: vec![json!({"n": 1})],
            ..Change::default()
        })
        .await
        .unwrap();
    // JSONB cannot hold a NUL character: the second upsert is rejected by the server.
    let err = store
        .commit(Change {
            idempotency_key: Some("k".into()),
            events: vec![json!({"n": 2})],
            upserts: vec![
                upsert("call", "ok", json!({})),
                upsert("call", "nul", json!({"text": "a\u{0}b"})),
            ],
            ..Change::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
    assert_eq!(store.last_seq().await.unwrap(), 1);
    assert!(store.entities("call").await.unwrap().is_empty());
    store.close().await;
}

/// Group commit on one backend (an empty database): several changes in one transaction,
/// each as a commit of its own would write it, or none.
async fn group_story(store: Store) {
    let change = |n: i64, key: Option<&str>| Change {
        idempotency_key: key.map(Into::into),
        at_ms: n,
        events: (0..n).map(|i| json!({"change": n, "i": i})).collect(),
        upserts: vec![upsert("call", &n.to_string(), json!({"n": n}))],
        response: Some(json!({"n": n})),
        ..Change::default()
    };
    assert_eq!(store.commit_all(&[]).await.unwrap(), vec![]);
    // Three changes of 1, 2 and 3 events: consecutive numbers, in order, each its own range.
    let done = store
        .commit_all(&[
            change(1, Some("g1")),
            change(2, None),
            change(3, Some("g3")),
        ])
        .await
        .unwrap();
    assert_eq!(
        done,
        vec![
            Committed::New {
                first_seq: 1,
                last_seq: 1
            },
            Committed::New {
                first_seq: 2,
                last_seq: 3
            },
            Committed::New {
                first_seq: 4,
                last_seq: 6
            },
        ]
    );
    let log = store.events_since(0, 100).await.unwrap();
    assert_eq!(seqs(&log), (1..=6).collect::<Vec<_>>());
    let by_change: Vec<(i64, i64)> = log
        .iter()
        .map(|e| (e.event["change"].as_i64().unwrap(), e.at_ms))
        .collect();
    assert_eq!(
        by_change,
        vec![(1, 1), (2, 2), (2, 2), (3, 3), (3, 3), (3, 3)]
    );
    assert_eq!(
        store.response_for("g3").await.unwrap(),
        Some(json!({"n": 3}))
    );
    assert_eq!(store.entities("call").await.unwrap().len(), 3);

    // A stored key in a group: nothing of the group is written, and which one is said.
    let err = store
        .commit_all(&[change(4, None), change(5, Some("g1"))])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Duplicate { index: 1, response } if *response == json!({"n": 1})),
        "{err:?}"
    );
    // The same key twice in one group: the same.
    let err = store
        .commit_all(&[change(4, Some("g4")), change(5, Some("g4"))])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { index: 1, .. }),
        "{err:?}"
    );
    // A failure in the middle of a group writes none of it.
    store.fail_next_commit();
    assert!(matches!(
        store.commit_all(&[change(4, None), change(5, None)]).await,
        Err(StoreError::Injected)
    ));
    assert_eq!(store.last_seq().await.unwrap(), 6);
    assert_eq!(store.entities("call").await.unwrap().len(), 3);
    assert_eq!(store.response_for("g4").await.unwrap(), None);
    // Alone, a stored key is a replay, as with `commit`.
    assert_eq!(
        store.commit_all(&[change(9, Some("g3"))]).await.unwrap(),
        vec![Committed::Replayed {
            response: json!({"n": 3})
        }]
    );
    // And the log goes on from where it was.
    assert_eq!(
        store.commit(change(2, None)).await.unwrap(),
        Committed::New {
            first_seq: 7,
            last_seq: 8
        }
    );
    // One entity written by several changes of a group ends as the last of them left it:
    // upserts before deletes within a change, changes in order.
    let entity_change = |upserts: Vec<(&str, i64)>, deletes: Vec<&str>| Change {
        upserts: upserts
            .into_iter()
            .map(|(id, n)| upsert("crew", id, json!({ "n": n })))
            .collect(),
        deletes: deletes
            .into_iter()
            .map(|id| ("crew".to_string(), id.to_string()))
            .collect(),
        ..Change::default()
    };
    store
        .commit(entity_change(vec![("a", 0), ("b", 0), ("c", 0)], vec![]))
        .await
        .unwrap();
    store
        .commit_all(&[
            entity_change(vec![("a", 1), ("d", 1)], vec!["b"]),
            entity_change(vec![("a", 2), ("b", 2)], vec!["c", "d"]),
            entity_change(vec![("c", 3), ("e", 3)], vec!["c", "missing"]),
            entity_change(vec![("e", 4), ("a", 4)], vec![]),
        ])
        .await
        .unwrap();
    let mut crews = store.entities("crew").await.unwrap();
    crews.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        crews,
        vec![
            ("a".to_string(), json!({"n": 4})),
            ("b".to_string(), json!({"n": 2})),
            ("e".to_string(), json!({"n": 4})),
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    group_story(Store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_group_commit() {
    let Some(admin) = test_database_url() else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    group_story(Store::open(&schema.url()).await.unwrap()).await;
}
