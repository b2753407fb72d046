//! The store's statements that are the same on both backends, each written once: their SQL
//! is valid on SQLite and PostgreSQL alike (with `$N` parameters, which sqlx's SQLite driver
//! takes too), and [`on_pool!`] runs the same code on whichever pool the store has (compiled
//! once per driver). JSON is read as text on both (`CAST(.. AS TEXT)`: SQLite keeps it as
//! text, PostgreSQL's `JSONB` prints it) and parsed here.
//!
//! Where the text must differ, a [`Dialect`] holds each backend's: the conditions of the
//! partial indexes, and how a transaction takes the write lock. Only the group commit is
//! written per backend (`sqlite.rs`, `postgres.rs`): PostgreSQL binds a column of the group
//! as one array, which SQLite has no type for.

use serde_json::Value;

use super::{Committed, Compacted, Pool, StoreError, StoredEvent};

/// `$body` with `$p` bound to the store's pool, whichever backend it is (and `$d` to its
/// [`Dialect`]).
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
    ($pool:expr, |$p:ident, $d:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => {
                let $d = &SQLITE;
                $body
            }
            Pool::Postgres($p) => {
                let $d = &POSTGRES;
                $body
            }
        }
    };
}

/// The statements whose text differs between the backends. A query served by a partial
/// index must repeat the index's condition as the migration wrote it (the planners match
/// expressions, not meanings): `json_extract(body, '$.type')` on SQLite, `body->>'type'` on
/// PostgreSQL (`migrations/*/…_snapshots.sql`, `…_track_compaction.sql`).
pub(super) struct Dialect {
    /// Opens a transaction that takes the write lock before it reads (SQLite's
    /// `IMMEDIATE`; PostgreSQL locks the row it reads instead, see `compaction_mark`).
    begin_writing: &'static str,
    /// The closure events up to `$1`, ordered (index `events_closures`).
    closure_events: &'static str,
    /// The compaction mark, locked for the transaction: two compactions (an old leader's
    /// and a new one's) take turns.
    compaction_mark: &'static str,
    /// Removes the position reports in `$1 < seq <= $2` that a later report of the same
    /// crew follows (index `events_positions`, for the report and the later one).
    compact_reports: &'static str,
}

const SQLITE: Dialect = Dialect {
    begin_writing: "BEGIN IMMEDIATE",
    closure_events: "SELECT seq, at_ms, CAST(body AS TEXT) FROM events \
         WHERE json_extract(body, '$.type') IN ('closure_added', 'closure_removed') \
         AND seq <= $1 ORDER BY seq",
    compaction_mark: "SELECT upto FROM track_compaction WHERE id = 1",
    compact_reports: "DELETE FROM events AS e WHERE e.seq > $1 AND e.seq <= $2 \
         AND json_extract(e.body, '$.type') = 'crew_moved' \
         AND EXISTS (SELECT 1 FROM events AS l \
             WHERE json_extract(l.body, '$.type') = 'crew_moved' \
             AND json_extract(l.body, '$.crew_id') = json_extract(e.body, '$.crew_id') \
             AND l.seq > e.seq)",
};

const POSTGRES: Dialect = Dialect {
    begin_writing: "BEGIN",
    closure_events: "SELECT seq, at_ms, CAST(body AS TEXT) FROM events \
         WHERE body->>'type' IN ('closure_added', 'closure_removed') \
         AND seq <= $1 ORDER BY seq",
    compaction_mark: "SELECT upto FROM track_compaction WHERE id = 1 FOR UPDATE",
    compact_reports: "DELETE FROM events AS e WHERE e.seq > $1 AND e.seq <= $2 \
         AND e.body->>'type' = 'crew_moved' \
         AND EXISTS (SELECT 1 FROM events AS l \
             WHERE l.body->>'type' = 'crew_moved' \
             AND l.body->>'crew_id' = e.body->>'crew_id' \
             AND l.seq > e.seq)",
};

/// See [`Store::save_snapshot`](super::Store::save_snapshot): the snapshot, and the older
/// ones but the last two removed, in one transaction.
pub(super) async fn save_snapshot(
    pool: &Pool,
    seq: i64,
    at_ms: i64,
    body: &str,
) -> Result<(), StoreError> {
    const INSERT: &str = "INSERT INTO snapshots (seq, at_ms, body) VALUES ($1, $2, $3) \
         ON CONFLICT (seq) DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body";
    const PRUNE: &str = "DELETE FROM snapshots \
         WHERE seq < (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 1 OFFSET 1)";
    let context = "write a snapshot";
    on_pool!(pool, |p| {
        let mut tx = p.begin().await.map_err(StoreError::query(context))?;
        sqlx::query(INSERT)
            .bind(seq)
            .bind(at_ms)
            .bind(body)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        sqlx::query(PRUNE)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        tx.commit().await.map_err(StoreError::query(context))
    })
}

/// See [`Store::latest_snapshot`](super::Store::latest_snapshot).
pub(super) async fn latest_snapshot(
    pool: &Pool,
    until: i64,
) -> Result<Option<(i64, String)>, StoreError> {
    const SQL: &str = "SELECT seq, body FROM snapshots WHERE seq <= $1 ORDER BY seq DESC LIMIT 1";
    on_pool!(pool, |p| sqlx::query_as(SQL)
        .bind(until)
        .fetch_optional(p)
        .await
        .map_err(StoreError::query("read the latest snapshot")))
}

/// See [`Store::track_compacted`](super::Store::track_compacted).
pub(super) async fn track_compacted(pool: &Pool) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT upto FROM track_compaction WHERE id = 1";
    on_pool!(pool, |p| sqlx::query_scalar(SQL)
        .fetch_one(p)
        .await
        .map_err(StoreError::query("read the compaction mark")))
}

/// The log's last `seq` (0 when it is empty), on both backends; the commits read it too,
/// under their write lock.
pub(super) const LAST_SEQ: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events";

/// See [`Store::last_seq`](super::Store::last_seq).
pub(super) async fn last_seq(pool: &Pool) -> Result<i64, StoreError> {
    on_pool!(pool, |p| sqlx::query_scalar(LAST_SEQ)
        .fetch_one(p)
        .await
        .map_err(StoreError::query("read the last sequence number")))
}

/// Parses JSON read from the store as text.
pub(super) fn parse(context: &'static str, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt { context, source })
}

/// Log rows `(seq, at_ms, body as text)` as events.
fn stored_events(
    context: &'static str,
    rows: Vec<(i64, i64, String)>,
) -> Result<Vec<StoredEvent>, StoreError> {
    rows.into_iter()
        .map(|(seq, at_ms, body)| {
            Ok(StoredEvent {
                seq,
                at_ms,
                event: parse(context, &body)?,
            })
        })
        .collect()
}

/// See [`Store::events_since`](super::Store::events_since).
pub(super) async fn events_since(
    pool: &Pool,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    const SQL: &str = "SELECT seq, at_ms, CAST(body AS TEXT) FROM events \
         WHERE seq > $1 ORDER BY seq LIMIT $2";
    let context = "read events";
    let rows: Vec<(i64, i64, String)> = on_pool!(pool, |p| sqlx::query_as(SQL)
        .bind(after_seq)
        .bind(limit.max(0))
        .fetch_all(p)
        .await
        .map_err(StoreError::query(context))?);
    stored_events(context, rows)
}

/// See [`Store::entity`](super::Store::entity).
pub(super) async fn entity(pool: &Pool, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
    const SQL: &str = "SELECT CAST(body AS TEXT) FROM entities WHERE kind = $1 AND id = $2";
    let context = "read an entity";
    let body: Option<String> = on_pool!(pool, |p| sqlx::query_scalar(SQL)
        .bind(kind)
        .bind(id)
        .fetch_optional(p)
        .await
        .map_err(StoreError::query(context))?);
    body.map(|b| parse(context, &b)).transpose()
}

/// See [`Store::response_for`](super::Store::response_for).
pub(super) async fn response_for(pool: &Pool, key: &str) -> Result<Option<Value>, StoreError> {
    const SQL: &str = "SELECT CAST(response AS TEXT) FROM idempotency WHERE key = $1";
    let text: Option<String> = on_pool!(pool, |p| sqlx::query_scalar(SQL)
        .bind(key)
        .fetch_optional(p)
        .await
        .map_err(StoreError::query("look up the idempotency key"))?);
    text.map(|t| parse("read the stored response", &t))
        .transpose()
}

/// See [`Store::entities`](super::Store::entities). Ordered here, bytewise by id: the
/// backends' collations differ.
pub(super) async fn entities(pool: &Pool, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
    const SQL: &str = "SELECT id, CAST(body AS TEXT) FROM entities WHERE kind = $1";
    let context = "read entities";
    let mut rows: Vec<(String, String)> = on_pool!(pool, |p| sqlx::query_as(SQL)
        .bind(kind)
        .fetch_all(p)
        .await
        .map_err(StoreError::query(context))?);
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter()
        .map(|(id, body)| Ok((id, parse(context, &body)?)))
        .collect()
}

/// A group's answer when its change `index` repeats a key (stored, or earlier in the group)
/// whose response is `response`: the stored response with nothing written when it is the
/// only change, else an error naming it (later changes may rest on it: none is written).
pub(super) async fn refuse_duplicate<DB: sqlx::Database>(
    tx: sqlx::Transaction<'_, DB>,
    changes: usize,
    (index, response): (usize, Value),
) -> Result<Vec<Committed>, StoreError> {
    if changes > 1 {
        return Err(StoreError::Duplicate { index, response });
    }
    tx.rollback()
        .await
        .map_err(StoreError::query("end a replayed transaction"))?;
    Ok(vec![Committed::Replayed { response }])
}

/// See [`Store::closure_events`](super::Store::closure_events).
pub(super) async fn closure_events(
    pool: &Pool,
    until: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let context = "read closure events";
    let rows: Vec<(i64, i64, String)> = on_pool!(pool, |p, d| sqlx::query_as(d.closure_events)
        .bind(until)
        .fetch_all(p)
        .await
        .map_err(StoreError::query(context))?);
    stored_events(context, rows)
}

/// See [`Store::compact_track`](super::Store::compact_track): one transaction.
pub(super) async fn compact_track(
    pool: &Pool,
    upto: i64,
    before_ms: i64,
    window: i64,
) -> Result<Compacted, StoreError> {
    // The first entry in `$1 < seq <= $2` written at or after `$3`.
    const RECENT: &str = "SELECT MIN(seq) FROM events WHERE seq > $1 AND seq <= $2 AND at_ms >= $3";
    const MOVE_MARK: &str = "UPDATE track_compaction SET upto = $1 WHERE id = 1";
    let context = "compact the crews' tracks";
    on_pool!(pool, |p, d| {
        let mut tx = p
            .begin_with(d.begin_writing)
            .await
            .map_err(StoreError::query(context))?;
        let from: i64 = sqlx::query_scalar(d.compaction_mark)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        let mut to = upto.min(from.saturating_add(window.max(1)));
        // Not over an entry within the retention (times follow seq, though not strictly).
        let recent: Option<i64> = sqlx::query_scalar(RECENT)
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
        sqlx::query(MOVE_MARK)
            .bind(to)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(context))?;
        let removed = sqlx::query(d.compact_reports)
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
    })
}

#[cfg(test)]
mod tests {
    use super::{Dialect, POSTGRES, SQLITE};
    use crate::store::{Pool, Store};

    /// Each backend's plans for the statements written for its partial indexes, as text.
    async fn plans(store: &Store, d: &Dialect) -> [String; 2] {
        let statements = [d.closure_events, d.compact_reports];
        let mut out = [String::new(), String::new()];
        for (sql, plan) in statements.iter().zip(&mut out) {
            *plan = match &store.pool {
                Pool::Sqlite(p) => {
                    let rows: Vec<(i64, i64, i64, String)> =
                        sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                            .bind(0_i64)
                            .bind(0_i64)
                            .fetch_all(p)
                            .await
                            .expect("explain on SQLite");
                    rows.into_iter().map(|r| r.3 + "\n").collect()
                }
                Pool::Postgres(p) => {
                    let mut conn = p.acquire().await.expect("a connection");
                    // The test's tables are nearly empty: make the planner show whether it
                    // can use an index at all.
                    sqlx::query("SET enable_seqscan = off")
                        .execute(&mut *conn)
                        .await
                        .expect("set");
                    let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}"))
                        .bind(0_i64)
                        .bind(0_i64)
                        .fetch_all(&mut *conn)
                        .await
                        .expect("explain on PostgreSQL");
                    rows.into_iter().map(|r| r.0 + "\n").collect()
                }
            };
        }
        out
    }

    /// The dialects' statements repeat their partial indexes' conditions as the migrations
    /// wrote them, so the planners can use the indexes: a condition reworded to the same
    /// meaning (`body ->> '$.type'` on SQLite, `body #>> '{type}'` on PostgreSQL) makes
    /// them scan the log instead, and fails here. Whether PostgreSQL also looks a crew up by
    /// the index's key depends on the table's statistics, which a test table does not have.
    #[tokio::test]
    async fn the_partial_indexes_serve_the_statements_written_for_them() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("plans.db").display());
        let sqlite = Store::open(&url).await.expect("open SQLite");
        let [closures, compaction] = plans(&sqlite, &SQLITE).await;
        assert!(closures.contains("events_closures"), "SQLite:\n{closures}");
        assert!(
            compaction.contains("events_positions"),
            "SQLite:\n{compaction}"
        );

        let Some(admin) = test_support::pg::test_database_url() else {
            return;
        };
        let schema = test_support::pg::PgSchema::create(&admin).await;
        let postgres = Store::open(&schema.url()).await.expect("open PostgreSQL");
        let [closures, compaction] = plans(&postgres, &POSTGRES).await;
        assert!(
            closures.contains("events_closures"),
            "PostgreSQL:\n{closures}"
        );
        assert!(
            compaction.contains("events_positions"),
            "PostgreSQL:\n{compaction}"
        );
    }
}
