//! Durable state: an append-only event log and JSON entity snapshots in SQLite or PostgreSQL.
//!
//! The service serializes every state change through one writer, and each change is written by
//! [`Store::commit`] in **one transaction** together with its events before it is acknowledged
//! or pushed, so an acknowledged change survives `kill -9` (SQLite runs with WAL and
//! `synchronous=FULL`; PostgreSQL commits are durable by default).
//!
//! Tables (the same meaning on both backends; migrations in `dispatch/migrations/{sqlite,postgres}`):
//! * `events(seq, at_ms, body)`: the event log, `seq` = 1, 2, 3, … appended with no gaps
//!   (the compaction of position reports leaves gaps at or before its mark);
//! * `entities(kind, id, body, updated_seq)`: the latest JSON snapshot of each entity;
//! * `idempotency(key, response, seq)`: the response given to each idempotency key;
//! * `snapshots(seq, at_ms, body)`: the dispatcher's state after event `seq` (the last two
//!   are kept), so a start replays only the log after the latest;
//! * `track_compaction(upto)`: how far position reports were compacted
//!   ([`Store::compact_track`]): the one exception to the append-only log.
//!
//! JSON is stored as `TEXT` (checked with `json_valid`) in SQLite and as `JSONB` in PostgreSQL.
//! Empty kinds, ids and keys are rejected by the database.
//!
//! Sequence numbers are `max(seq) + 1` taken under a write lock held for the whole transaction
//! (`BEGIN IMMEDIATE` in SQLite, `LOCK TABLE events IN EXCLUSIVE MODE` in PostgreSQL), so even
//! two writers (two clones of a [`Store`], or two processes) never produce a gap or a duplicate;
//! they only wait for each other. The design still assumes one writer.
//!
//! ```no_run
//! # async fn run() -> Result<(), dispatch::store::StoreError> {
//! use dispatch::store::{Change, Committed, Store};
//! let store = Store::open("sqlite://dispatch.db").await?;
//! let change = Change {
//!     idempotency_key: Some("req-1".into()),
//!     at_ms: 1_700_000_000_000,
//!     events: vec![serde_json::json!({"type": "call_created", "call": "c1"})],
//!     upserts: vec![("call".into(), "c1".into(), serde_json::json!({"state": "open"}))],
//!     response: Some(serde_json::json!({"id": "c1"})),
//!     ..Change::default()
//! };
//! match store.commit(change).await? {
//!     Committed::New { first_seq, last_seq } => println!("events {first_seq}..={last_seq}"),
//!     Committed::Replayed { response } => println!("already done: {response}"),
//! }
//! # Ok(()) }
//! ```

mod batch;
mod error;
mod migrations;
mod postgres;
mod shared;
mod sqlite;

pub use error::{redact_url, StoreError};

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

/// Which database a [`Store`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A connection pool to the dispatch database; cheap to clone (clones share the pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Set by [`Store::fail_next_commit`].
    fail_next: Arc<AtomicBool>,
    /// The leadership epoch commits are made under (see [`Store::fence`]): 0 for none (one
    /// instance), [`FENCED_OFF`] while a standby, else the epoch.
    fence: Arc<AtomicI64>,
}

/// The fence of a standby: every commit is refused.
const FENCED_OFF: i64 = -1;

/// The leadership lease as the database holds it (PostgreSQL; see [`Store::acquire`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The leadership epoch: 1 for the first leader, one more at each takeover.
    pub epoch: i64,
    /// The leader's instance id (empty before the first leader).
    pub holder: String,
    /// The leader's URL, where standbys forward changes.
    pub url: String,
    /// Whether the lease is still running by the database's clock.
    pub live: bool,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// One state change, written atomically by [`Store::commit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// If set and already stored, nothing is written and the stored response is returned.
    pub idempotency_key: Option<String>,
    /// When the change happened (Unix milliseconds), stored with each event.
    pub at_ms: i64,
    /// Events appended to the log, in this order, with consecutive sequence numbers.
    pub events: Vec<Value>,
    /// `(kind, id, snapshot)`: entities created or replaced (applied before `deletes`).
    pub upserts: Vec<(String, String, Value)>,
    /// `(kind, id)`: entities removed (a missing one is not an error).
    pub deletes: Vec<(String, String)>,
    /// The response stored under `idempotency_key` (JSON `null` when `None`).
    pub response: Option<Value>,
}

/// The outcome of [`Store::commit`].
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// The change was written; its events have `first_seq..=last_seq`
    /// (an empty range, `last_seq == first_seq - 1`, when it had no events).
    New {
        /// The sequence number of the first event of the change.
        first_seq: i64,
        /// The sequence number of the last event of the change (the log's last after it).
        last_seq: i64,
    },
    /// The idempotency key was already stored: nothing was written.
    Replayed {
        /// The response stored with the key by the first commit.
        response: Value,
    },
}

/// What one step of [`Store::compact_track`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// How many position reports it removed.
    pub removed: u64,
    /// The compaction mark after it: the log is compacted up to this seq.
    pub mark: i64,
    /// Whether it moved the mark (when not, there is nothing more to do for now).
    pub advanced: bool,
}

/// An event read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its sequence number (1, 2, 3, …; gaps only where position reports were compacted).
    pub seq: i64,
    /// When the change that wrote it happened (Unix milliseconds).
    pub at_ms: i64,
    /// The event as committed.
    pub event: Value,
}

impl Store {
    /// Opens `sqlite://path/to/file.db` (created if missing; WAL, foreign keys,
    /// `synchronous=FULL`) or `postgres://…` / `postgresql://…`, and runs the backend's
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(sqlite::open(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::Postgres(postgres::open(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            });
        };
        let store = Store {
            pool,
            fail_next: Arc::default(),
            fence: Arc::default(),
        };
        tracing::info!(url = %redact_url(url), backend = ?store.backend(), "store opened");
        Ok(store)
    }

    /// Which database this store is on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Writes `change` in one transaction: if its idempotency key is already stored, writes
    /// nothing and returns [`Committed::Replayed`] with the stored response; otherwise appends
    /// the events with consecutive sequence numbers, applies the upserts then the deletes,
    /// stores the response under the key and commits. On error nothing is written.
    ///
    /// Under a fence ([`Store::fence`]), the commit also checks, inside its transaction and
    /// under a share lock of the lease, that the epoch is still the database's and its lease
    /// unexpired, and otherwise writes nothing and fails with [`StoreError::Fenced`].
    pub async fn commit(&self, change: Change) -> Result<Committed, StoreError> {
        let committed = self
            .commit_all(std::slice::from_ref(&change))
            .await?
            .pop()
            // One outcome per change: none would be a bug of the backend.
            .ok_or(StoreError::Snapshot {
                seq: 0,
                message: "the store gave no outcome for a change".into(),
            })?;
        tracing::debug!(?committed, key = ?change.idempotency_key, "store commit");
        Ok(committed)
    }

    /// Group commit: writes `changes` in order in **one** transaction (one fsync), each as
    /// [`Store::commit`] would, one after another; returns each one's outcome, in order.
    /// Either all are written or none. A change whose idempotency key is already stored
    /// (or repeats the key of an earlier one) writes nothing for any of them when it is
    /// not alone, since the changes after it may rest on it: [`StoreError::Duplicate`].
    pub async fn commit_all(&self, changes: &[Change]) -> Result<Vec<Committed>, StoreError> {
        let fence = self.fence.load(Ordering::Acquire);
        if fence == FENCED_OFF {
            return Err(StoreError::Fenced { epoch: fence });
        }
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let fail = self.fail_next.swap(false, Ordering::AcqRel);
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::commit(pool, changes, fail).await,
            Pool::Postgres(pool) => {
                postgres::commit(pool, changes, fail, (fence > 0).then_some(fence)).await
            }
        }
    }

    /// For tests of atomicity: the next commit fails with [`StoreError::Injected`] after
    /// writing its events and before its snapshots and commit, inside its transaction.
    #[doc(hidden)]
    pub fn fail_next_commit(&self) {
        self.fail_next.store(true, Ordering::Release);
    }

    /// Commits are made under leadership `epoch` from now on (they fail with
    /// [`StoreError::Fenced`] once another instance took over), or, with `None`, refused
    /// (a standby's). Clones of the store share the fence.
    pub fn fence(&self, epoch: Option<i64>) {
        self.fence.store(
            epoch.filter(|e| *e > 0).unwrap_or(FENCED_OFF),
            Ordering::Release,
        );
    }

    /// The leadership lease (PostgreSQL only).
    pub async fn lease(&self) -> Result<Lease, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Err(StoreError::NoLeadership),
            Pool::Postgres(pool) => postgres::lease(pool).await,
        }
    }

    /// Takes the leadership for `holder` (reachable at `url`) if its lease has expired, for
    /// `lease` from now by the database's clock; returns the new epoch, or `None` when
    /// another instance holds a live lease (or holds the lease row locked for more than a
    /// second, as a commit in flight does). PostgreSQL only.
    pub async fn acquire(
        &self,
        holder: &str,
        url: &str,
        lease: Duration,
    ) -> Result<Option<i64>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Err(StoreError::NoLeadership),
            Pool::Postgres(pool) => postgres::acquire(pool, holder, url, lease).await,
        }
    }

    /// Extends the lease of `holder` at `epoch` to `lease` from now; `false` when the
    /// leadership has moved on (another epoch). PostgreSQL only.
    pub async fn renew(
        &self,
        holder: &str,
        epoch: i64,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Err(StoreError::NoLeadership),
            Pool::Postgres(pool) => postgres::renew(pool, holder, epoch, lease).await,
        }
    }

    /// Ends the lease of `holder` at `epoch` now (a clean shutdown), so that a standby takes
    /// over at once. PostgreSQL only.
    pub async fn release(&self, holder: &str, epoch: i64) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Err(StoreError::NoLeadership),
            Pool::Postgres(pool) => postgres::release(pool, holder, epoch).await,
        }
    }

    /// At most `limit` events with `seq > after_seq`, ordered by `seq`.
    pub async fn events_since(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        shared::events_since(&self.pool, after_seq, limit).await
    }

    /// The log's closure events (added, removed) with `seq <= until`, ordered by `seq`: what
    /// a start from a snapshot replays to put the router's closures back (an index keeps
    /// this quick however long the log).
    pub async fn closure_events(&self, until: i64) -> Result<Vec<StoredEvent>, StoreError> {
        shared::closure_events(&self.pool, until).await
    }

    /// Stores `body`, the state after event `seq` (replacing one stored at `seq`: closed
    /// calls may have left the state since), and drops the snapshots before the one before
    /// it. Refused on a standby ([`Store::fence`]): the leader writes them.
    pub async fn save_snapshot(&self, seq: i64, at_ms: i64, body: &str) -> Result<(), StoreError> {
        let fence = self.fence.load(Ordering::Acquire);
        if fence == FENCED_OFF {
            return Err(StoreError::Fenced { epoch: fence });
        }
        shared::save_snapshot(&self.pool, seq, at_ms, body).await
    }

    /// The latest snapshot at or before event `until`, as `(seq, body)`.
    pub async fn latest_snapshot(&self, until: i64) -> Result<Option<(i64, String)>, StoreError> {
        shared::latest_snapshot(&self.pool, until).await
    }

    /// One step of the compaction of the crews' tracks: moves the compaction mark on from
    /// where it is, by at most `window` entries, never past `upto` (the caller passes the
    /// latest snapshot's entry, so a start from it replays the log after it unchanged) nor
    /// to an entry written at or after `before_ms` (the track's retention); and in the
    /// entries it moved over, removes each position report (`crew_moved`) for which the log
    /// holds a later report of the same crew. So each crew's latest report stays, and every
    /// other entry stays. The log has gaps at or before the mark from then on
    /// ([`Store::track_compacted`]). One short transaction; refused on a standby.
    pub async fn compact_track(
        &self,
        upto: i64,
        before_ms: i64,
        window: i64,
    ) -> Result<Compacted, StoreError> {
        if self.fence.load(Ordering::Acquire) == FENCED_OFF {
            return Err(StoreError::Fenced { epoch: FENCED_OFF });
        }
        shared::compact_track(&self.pool, upto, before_ms, window).await
    }

    /// The compaction mark (see [`Store::compact_track`]): position reports at or before
    /// this entry may have been removed, so the log may have gaps up to it. 0 for none.
    pub async fn track_compacted(&self) -> Result<i64, StoreError> {
        shared::track_compacted(&self.pool).await
    }

    /// The response stored under an idempotency key, `None` if the key is new.
    pub async fn response_for(&self, key: &str) -> Result<Option<Value>, StoreError> {
        shared::response_for(&self.pool, key).await
    }

    /// The sequence number of the last event, 0 when the log is empty.
    pub async fn last_seq(&self) -> Result<i64, StoreError> {
        shared::last_seq(&self.pool).await
    }

    /// All entities of `kind` as `(id, snapshot)`, ordered by id (bytewise).
    pub async fn entities(&self, kind: &str) -> Result<Vec<(String, Value)>, StoreError> {
        shared::entities(&self.pool, kind).await
    }

    /// The snapshot of one entity, `None` if it does not exist.
    pub async fn entity(&self, kind: &str, id: &str) -> Result<Option<Value>, StoreError> {
        shared::entity(&self.pool, kind, id).await
    }

    /// Closes the pool, waiting for connections in use to be returned (for SQLite this also
    /// checkpoints the WAL).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}
