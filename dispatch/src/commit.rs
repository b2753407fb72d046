//! Group commit: changes are decided one at a time under the core's lock, then handed to
//! one committer task, which writes every change waiting in **one** transaction (one fsync,
//! [`Store::commit_all`](crate::store::Store::commit_all)) and acknowledges and publishes
//! each, in `seq` order, only after that commit. While a group commits, the next changes
//! are decided: memory runs at most a few groups ahead of the store, and nothing is
//! answered or pushed before it is stored.
//!
//! A group that fails (the store, a fencing, a key another writer stored) fails every
//! change decided after its first one, since they may rest on it: they are refused with
//! nothing changed, and the state is marked stale and rebuilt from the store once nothing
//! is in flight (`AppState::repair`: by the refused request before it is answered, or by
//! the next holder of the core's lock), with the router's closures put back as they were
//! before the group. The committer never takes the core's lock, so waiting for it under
//! that lock cannot deadlock.
//!
//! A request repeating the idempotency key of a change still in flight waits for that
//! change and gets its answer, as it would from the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use router::ClosuresCheckpoint;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::ApiError;
use crate::journal::Entry;
use crate::state::{AppState, Inner};
use crate::store::{Change, Committed, StoreError};

/// How many changes one group holds at most.
const GROUP_MAX: usize = 512;

/// How a change that reached the committer ended.
pub enum Acked {
    /// Stored and published.
    Done,
    /// Its idempotency key was stored already: this answer was given then.
    Replayed(Value),
}

/// What a waiting duplicate learns: `None` until the first change ends, then its stored
/// answer, or `Some(None)` if it failed.
type KeyOutcome = Option<Option<Value>>;

/// A decided change on its way to the store.
pub struct Pending {
    /// What to write.
    pub change: Change,
    /// What to publish once written.
    pub entries: Vec<Entry>,
    /// The router's closures before it was decided.
    pub checkpoint: ClosuresCheckpoint,
    /// When it was decided.
    pub now: i64,
    /// The committer's generation when it was decided (see [`Committer::generation`]).
    pub generation: u64,
    /// Where its outcome goes.
    pub reply: oneshot::Sender<Result<Acked, ApiError>>,
    /// Requests repeating its idempotency key wait on this (set by [`Committer::send`]).
    pub waiters: Option<watch::Sender<KeyOutcome>>,
}

/// Why a group failed, for the repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// The store failed (or another writer stored a key): rebuild from the whole log.
    Store,
    /// Another instance leads now: rebuild from the log as published, then follow.
    Fenced,
}

/// The committer's side of the shared state.
pub struct Committer {
    queue: mpsc::UnboundedSender<Pending>,
    /// Changes sent and not yet ended.
    in_flight: AtomicUsize,
    /// Bumped by each failed group: a change decided before it is refused.
    generation: AtomicU64,
    /// Idempotency keys of changes in flight.
    keys: Mutex<HashMap<String, watch::Receiver<KeyOutcome>>>,
    /// Set by a failed group: the closures to put back and how to rebuild.
    broken: Mutex<Option<(ClosuresCheckpoint, i64, Broken)>>,
}

impl Committer {
    /// A committer for the state `inner` points to, with its task (spawned on the current
    /// runtime; it ends when the state is dropped).
    pub fn start(inner: Weak<Inner>) -> Committer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(inner, rx));
        Committer {
            queue,
            in_flight: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            keys: Mutex::new(HashMap::new()),
            broken: Mutex::new(None),
        }
    }

    /// The generation changes are decided in now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The change in flight with idempotency key `key`, to wait for, if any.
    pub fn waiting(&self, key: &str) -> Option<watch::Receiver<KeyOutcome>> {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Hands a decided change to the committer (in the order of the calls).
    pub fn send(&self, mut pending: Pending) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if let Some(key) = &pending.change.idempotency_key {
            let (tx, rx) = watch::channel(None);
            self.keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone(), rx);
            pending.waiters = Some(tx);
        }
        if let Err(mpsc::error::SendError(p)) = self.queue.send(pending) {
            self.finish(p, Err(ApiError::unavailable("the committer stopped")));
        }
    }

    /// Whether nothing is in flight, waiting up to `within` for it.
    pub async fn drained(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        while self.in_flight.load(Ordering::Acquire) > 0 {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }

    /// What a failed group left to repair, taken.
    pub fn take_broken(&self) -> Option<(ClosuresCheckpoint, i64, Broken)> {
        self.broken.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Ends a change: its answer, its key's waiters, the count in flight.
    fn finish(&self, p: Pending, outcome: Result<Acked, ApiError>) {
        if let Some(key) = &p.change.idempotency_key {
            self.keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
        }
        if let Some(waiters) = &p.waiters {
            let answer = match &outcome {
                Ok(Acked::Done) => Some(p.change.response.clone().unwrap_or(Value::Null)),
                Ok(Acked::Replayed(v)) => Some(v.clone()),
                Err(_) => None,
            };
            waiters.send_replace(Some(answer));
        }
        let _ = p.reply.send(outcome);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The committer's loop: takes what waits (up to [`GROUP_MAX`]) and commits it as a group.
async fn run(inner: Weak<Inner>, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        commit_group(&AppState(inner), group).await;
    }
}

/// Commits one group and ends each of its changes.
async fn commit_group(state: &AppState, group: Vec<Pending>) {
    let inner = &state.0;
    let committer = &inner.committer;
    // Decided on a state a failed group left: refused, nothing written.
    let now_gen = committer.generation();
    let (mut group, stale): (Vec<Pending>, Vec<Pending>) =
        group.into_iter().partition(|p| p.generation == now_gen);
    for p in stale {
        committer.finish(p, Err(ApiError::unavailable(RESTED_ON_FAILED)));
    }
    if group.is_empty() {
        return;
    }
    // Lent to the store and put back (their keys and answers end them below).
    let changes: Vec<Change> = group
        .iter_mut()
        .map(|p| std::mem::take(&mut p.change))
        .collect();
    let started = Instant::now();
    let result = inner.store.commit_all(&changes).await;
    let n = changes.len();
    for (p, change) in group.iter_mut().zip(changes) {
        p.change = change;
    }
    let entries: usize = group.iter().map(|p| p.entries.len()).sum();
    inner.metrics.committed(
        started.elapsed(),
        result.as_ref().ok().map(|_| (n, entries)),
    );
    let failure = match result {
        Ok(outcomes) => match outcomes.first() {
            Some(Committed::Replayed { response }) if group.len() == 1 => {
                Failure::Duplicate(0, response.clone())
            }
            _ => {
                for (p, o) in group.into_iter().zip(outcomes) {
                    if let Committed::New { first_seq, .. } = o {
                        let published = p
                            .entries
                            .iter()
                            .map(|e| (e.published.clone(), e.crew.clone()))
                            .collect();
                        inner.hub.publish(first_seq as u64, published);
                    }
                    committer.finish(p, Ok(Acked::Done));
                }
                return;
            }
        },
        Err(StoreError::Duplicate { index, response }) => Failure::Duplicate(index, response),
        Err(StoreError::Fenced { epoch }) => {
            tracing::warn!(epoch, "a change was fenced off: another instance leads now");
            Failure::Fenced
        }
        Err(e) => {
            tracing::error!(error = %e, "a group commit failed: the state is rebuilt from the store");
            Failure::Store(e.to_string())
        }
    };
    // Everything decided after the group's first change is refused: this group now, what
    // is queued when it reaches the committer (its generation is old).
    {
        let mut broken = committer.broken.lock().unwrap_or_else(|e| e.into_inner());
        let kind = match failure {
            Failure::Fenced => Broken::Fenced,
            _ => Broken::Store,
        };
        // An earlier failure not yet repaired put back an older checkpoint: keep it.
        if broken.is_none() {
            *broken = Some((group[0].checkpoint.clone(), group[0].now, kind));
        }
        // Stale first, then the new generation: a change that reads the new generation
        // (before its stale check) sees the core stale and has it repaired first.
        state.mark_stale();
        committer.generation.fetch_add(1, Ordering::AcqRel);
    }
    for (i, p) in group.into_iter().enumerate() {
        let outcome = match &failure {
            Failure::Fenced => Err(ApiError::not_leader()),
            Failure::Duplicate(index, response) if i == *index => {
                Ok(Acked::Replayed(response.clone()))
            }
            Failure::Duplicate(..) => Err(ApiError::unavailable(RESTED_ON_FAILED)),
            Failure::Store(e) => Err(ApiError::unavailable(e)),
        };
        committer.finish(p, outcome);
    }
}

/// Why a group failed.
enum Failure {
    /// Change `.0` repeats a stored idempotency key (stored by another writer).
    Duplicate(usize, Value),
    /// Another instance leads.
    Fenced,
    /// The store's error.
    Store(String),
}

/// The refusal of a change decided after one that failed.
const RESTED_ON_FAILED: &str =
    "a change decided before this one could not be stored: nothing was changed, try again";
