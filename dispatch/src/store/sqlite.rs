//! The SQLite backend: JSON as `TEXT`, the write lock taken by `BEGIN IMMEDIATE`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::shared::{self, parse};
use super::{batch, redact_url, Change, Committed, Compacted, StoreError, StoredEvent};

/// Opens (creating if missing) and migrates the SQLite database at `url`.
pub(super) async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| StoreError::InvalidUrl {
            url: redact_url(url),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact_url(url),
            source,
        })?;
    let migrate = |source| StoreError::Migrate {
        url: redact_url(url),
        source,
    };
    super::migrations::migrator(super::migrations::SQLITE)
        .await
        .map_err(migrate)?
        .run(&pool)
        .await
        .map_err(migrate)?;
    Ok(pool)
}

fn to_text(value: &Value) -> String {
    // Serializing a `serde_json::Value` to a string cannot fail.
    value.to_string()
}

/// See [`Store::commit`](super::Store::commit).
pub(super) async fn commit(
    pool: &SqlitePool,
    changes: &[Change],
    fail: bool,
) -> Result<Vec<Committed>, StoreError> {
    // IMMEDIATE: take the write lock before reading max(seq) or the keys.
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query("begin a transaction"))?;
    let max: i64 = sqlx::query_scalar(shared::LAST_SEQ)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query("read the last sequence number"))?;
    // Keys committed concurrently are seen here: the write lock is ours.
    let mut stored = HashMap::new();
    for key in changes.iter().filter_map(|c| c.idempotency_key.as_deref()) {
        let text: Option<String> =
            sqlx::query_scalar("SELECT response FROM idempotency WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query("look up the idempotency key"))?;
        if let Some(text) = text {
            stored.insert(key.to_owned(), parse("read the stored response", &text)?);
        }
    }
    if let Some((index, response)) = batch::first_duplicate(changes, &stored) {
        if changes.len() > 1 {
            // Later changes may rest on this one: none is written.
            return Err(StoreError::Duplicate { index, response });
        }
        tx.rollback()
            .await
            .map_err(StoreError::query("end a replayed transaction"))?;
        return Ok(vec![Committed::Replayed { response }]);
    }
    // The group's rows as PostgreSQL writes them, a statement per row: SQLite runs in the
    // process, so a statement costs no round trip.
    let rows = batch::rows(changes, max);
    for &(seq, at_ms, event) in &rows.events {
        sqlx::query("INSERT INTO events (seq, at_ms, body) VALUES ($1, $2, $3)")
            .bind(seq)
            .bind(at_ms)
            .bind(to_text(event))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("append an event"))?;
    }
    if fail {
        // Dropping the transaction rolls it back.
        return Err(StoreError::Injected);
    }
    for &(kind, id, body, seq) in &rows.upserts {
        sqlx::query(
            "INSERT INTO entities (kind, id, body, updated_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_seq = excluded.updated_seq",
        )
        .bind(kind)
        .bind(id)
        .bind(to_text(body))
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query("upsert an entity"))?;
    }
    for &(kind, id) in &rows.deletes {
        sqlx::query("DELETE FROM entities WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("delete an entity"))?;
    }
    for (key, response, seq) in &rows.keys {
        sqlx::query("INSERT INTO idempotency (key, response, seq) VALUES ($1, $2, $3)")
            .bind(*key)
            .bind(to_text(response))
            .bind(*seq)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("store the idempotency key"))?;
    }
    let out = rows.outcomes;
    tx.commit()
        .await
        .map_err(StoreError::query("commit the change"))?;
    Ok(out)
}

/// See [`Store::closure_events`](super::Store::closure_events). The condition is the
/// partial index's (`events_closures`), so the index serves it.
pub(super) async fn closure_events(
    pool: &SqlitePool,
    until: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT seq, at_ms, body FROM events \
         WHERE json_extract(body, '$.type') IN ('closure_added', 'closure_removed') AND seq <= ? \
         ORDER BY seq",
    )
    .bind(until)
    .fetch_all(pool)
    .await
    .map_err(StoreError::query("read closure events"))?;
    rows.into_iter()
        .map(|(seq, at_ms, body)| {
            Ok(StoredEvent {
                seq,
                at_ms,
                event: parse("read closure events", &body)?,
            })
        })
        .collect()
}

/// See [`Store::compact_track`](super::Store::compact_track). The report's own condition and
/// the later report's are the partial index's (`events_positions`), so it serves the lookup.
pub(super) async fn compact_track(
    pool: &SqlitePool,
    upto: i64,
    before_ms: i64,
    window: i64,
) -> Result<Compacted, StoreError> {
    let context = "compact the crews' tracks";
    // IMMEDIATE: the write lock first, as a commit takes it.
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::query(context))?;
    let from: i64 = sqlx::query_scalar("SELECT upto FROM track_compaction WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    let mut to = upto.min(from.saturating_add(window.max(1)));
    // Not over an entry within the retention (times follow seq, though not strictly).
    let recent: Option<i64> =
        sqlx::query_scalar("SELECT MIN(seq) FROM events WHERE seq > ? AND seq <= ? AND at_ms >= ?")
            .bind(from)
            .bind(to)
            .bind(before_ms)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
    if let Some(seq) = recent {
        to = seq - 1;
    }
    if to <= from {
        tx.rollback().await.map_err(StoreError::query(context))?;
        return Ok(Compacted {
            removed: 0,
            mark: from,
            advanced: false,
        });
    }
    sqlx::query("UPDATE track_compaction SET upto = ? WHERE id = 1")
        .bind(to)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(context))?;
    let removed = sqlx::query(
        "DELETE FROM events AS e WHERE e.seq > ? AND e.seq <= ? \
         AND json_extract(e.body, '$.type') = 'crew_moved' \
         AND EXISTS (SELECT 1 FROM events AS l \
             WHERE json_extract(l.body, '$.type') = 'crew_moved' \
             AND json_extract(l.body, '$.crew_id') = json_extract(e.body, '$.crew_id') \
             AND l.seq > e.seq)",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::query(context))?
    .rows_affected();
    tx.commit().await.map_err(StoreError::query(context))?;
    Ok(Compacted {
        removed,
        mark: to,
        advanced: true,
    })
}
