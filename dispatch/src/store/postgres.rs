//! The PostgreSQL backend: JSON as `JSONB`, the write lock taken by
//! `LOCK TABLE events IN EXCLUSIVE MODE` (readers are not blocked).

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::types::Json;

use super::{redact_url, Change, Committed, StoreError, StoredEvent};

/// Connects to and migrates the PostgreSQL database at `url` (tables go into the first schema
/// of the connection's `search_path`).
pub(super) async fn open(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
        url: redact_url(url),
        source,
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact_url(url),
            source,
        })?;
    sqlx::migrate!("migrations/postgres")
        .run(&pool)
        .await
        .map_err(|source| StoreError::Migrate {
            url: redact_url(url),
            source,
        })?;
    Ok(pool)
}

/// See [`Store::commit`](super::Store::commit).
pub(super) async fn commit(
    pool: &PgPool,
    change: &Change,
    fail: bool,
) -> Result<Committed, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(StoreError::query("begin a transaction"))?;
    // Held until commit or rollback: one writer at a time, so max(seq) + 1 is never raced
    // and a key being committed concurrently is seen below once the lock is ours.
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query("lock the event log"))?;

    if let Some(key) = &change.idempotency_key {
        let stored: Option<Json<Value>> =
            sqlx::query_scalar("SELECT response FROM idempotency WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query("look up the idempotency key"))?;
        if let Some(Json(response)) = stored {
            tx.rollback()
                .await
                .map_err(StoreError::query("end a replayed transaction"))?;
            return Ok(Committed::Replayed { response });
        }
    }

    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query("read the last sequence number"))?;
    let first_seq = max + 1;
    let mut last_seq = max;
    for event in &change.events {
        last_seq += 1;
        sqlx::query("INSERT INTO events (seq, at_ms, body) VALUES ($1, $2, $3)")
            .bind(last_seq)
            .bind(change.at_ms)
            .bind(Json(event))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("append an event"))?;
    }
    if fail {
        // Dropping the transaction rolls it back.
        return Err(StoreError::Injected);
    }
    for (kind, id, body) in &change.upserts {
        sqlx::query(
            "INSERT INTO entities (kind, id, body, updated_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_seq = excluded.updated_seq",
        )
        .bind(kind)
        .bind(id)
        .bind(Json(body))
        .bind(last_seq)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query("upsert an entity"))?;
    }
    for (kind, id) in &change.deletes {
        sqlx::query("DELETE FROM entities WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("delete an entity"))?;
    }
    if let Some(key) = &change.idempotency_key {
        sqlx::query("INSERT INTO idempotency (key, response, seq) VALUES ($1, $2, $3)")
            .bind(key)
            .bind(Json(change.response.as_ref().unwrap_or(&Value::Null)))
            .bind(last_seq)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query("store the idempotency key"))?;
    }
    tx.commit()
        .await
        .map_err(StoreError::query("commit the change"))?;
    Ok(Committed::New {
        first_seq,
        last_seq,
    })
}

/// See [`Store::events_since`](super::Store::events_since).
pub(super) async fn events_since(
    pool: &PgPool,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<(i64, i64, Json<Value>)> =
        sqlx::query_as("SELECT seq, at_ms, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit.max(0))
            .fetch_all(pool)
            .await
            .map_err(StoreError::query("read events"))?;
    Ok(rows
        .into_iter()
        .map(|(seq, at_ms, Json(event))| StoredEvent { seq, at_ms, event })
        .collect())
}

/// See [`Store::last_seq`](super::Store::last_seq).
pub(super) async fn last_seq(pool: &PgPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
        .fetch_one(pool)
        .await
        .map_err(StoreError::query("read the last sequence number"))
}

/// See [`Store::entities`](super::Store::entities).
pub(super) async fn entities(
    pool: &PgPool,
    kind: &str,
) -> Result<Vec<(String, Value)>, StoreError> {
    // COLLATE "C": bytewise, the same order as SQLite's.
    let rows: Vec<(String, Json<Value>)> =
        sqlx::query_as(r#"SELECT id, body FROM entities WHERE kind = $1 ORDER BY id COLLATE "C""#)
            .bind(kind)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query("read entities"))?;
    Ok(rows
        .into_iter()
        .map(|(id, Json(body))| (id, body))
        .collect())
}

/// See [`Store::entity`](super::Store::entity).
pub(super) async fn entity(
    pool: &PgPool,
    kind: &str,
    id: &str,
) -> Result<Option<Value>, StoreError> {
    let body: Option<Json<Value>> =
        sqlx::query_scalar("SELECT body FROM entities WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query("read an entity"))?;
    Ok(body.map(|Json(b)| b))
}

/// See [`Store::response_for`](super::Store::response_for).
pub(super) async fn response_for(pool: &PgPool, key: &str) -> Result<Option<Value>, StoreError> {
    let stored: Option<Json<Value>> =
        sqlx::query_scalar("SELECT response FROM idempotency WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query("look up the idempotency key"))?;
    Ok(stored.map(|Json(v)| v))
}
