//! The store's statements that are the same on both backends, each written once: their SQL
//! is valid on SQLite and PostgreSQL alike (with `$N` parameters, which sqlx's SQLite driver
//! takes too), and [`on_pool!`] runs the same code on whichever pool the store has (compiled
//! once per driver). JSON is read as text on both (`CAST(.. AS TEXT)`: SQLite keeps it as
//! text, PostgreSQL's `JSONB` prints it) and parsed here.

use serde_json::Value;

use super::{Pool, StoreError, StoredEvent};

/// `$body` with `$p` bound to the store's pool, whichever backend it is.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

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
