//! The SQLite backend: JSON as `TEXT`, the write lock taken by `BEGIN IMMEDIATE`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::shared::{self, parse};
use super::{batch, redact_url, Change, Committed, StoreError};

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
        .map_err(StoreError::connect(url))?;
    super::migrations::run(super::migrations::SQLITE, &pool, url).await?;
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
    if let Some(duplicate) = batch::first_duplicate(changes, &stored) {
        return shared::refuse_duplicate(tx, changes.len(), duplicate).await;
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
