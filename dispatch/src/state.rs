//! The service's shared state: the router, the dispatch core behind one mutex (it is the
//! single writer), the store, the event hub and the tokens.
//!
//! Every change goes through [`AppState::apply`]: under the core's lock the operation is
//! decided and applied in memory, its log entries are committed to the store in one
//! transaction, and only then are they published to consoles and tablets and the request
//! answered. If the commit fails, the in-memory state is rebuilt from the store (which does
//! not have the change) and the request fails with 503: what a client was told happened is
//! always in the store, and what is in memory never runs ahead of it. A panic while deciding
//! is caught and handled the same way (500).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dispatch_core::{CrewStatus, DispatchConfig, Dispatcher, Event};
use router::Router;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

use crate::auth::{Actor, HasTokens, Tokens};
use crate::error::ApiError;
use crate::hub::Hub;
use crate::journal;
use crate::store::{Change, Store, StoreError};

pub use crate::journal::assignment_message;

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Dispatch rules.
    pub dispatch: DispatchConfig,
    /// How many of the newest log entries are kept in memory for consoles that reconnect
    /// (older ones are read from the store).
    pub hub_window: usize,
    /// The routing API's limits (`--max-table-size`).
    pub osrm: router::http::OsrmOptions,
    /// The map's addresses (from its `.osm.pbf`), for `/api/geocode` and `/api/reverse`;
    /// `None` (a `.graph` map) makes them answer 503.
    pub addresses: Option<Arc<osm_data::address::AddressIndex>>,
    /// The stations (`GET /api/stations`), checked (see [`crate::stations`]).
    pub stations: Vec<crate::stations::Station>,
    /// This instance's place among several on one PostgreSQL database (see
    /// [`crate::cluster`]): it starts as a standby. `None`: the only instance, always leading.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// A snapshot of the state is stored once this many entries were logged since the last
    /// one (and at a clean shutdown), so a start replays at most about this many (0: only
    /// at shutdown).
    pub snapshot_every: u64,
    /// How long a closed (completed or cancelled) call stays in memory after it closed (ms);
    /// then it is read from the store.
    pub retain_closed_ms: i64,
    /// How long the full track of each crew (every position report) stays in the log (ms);
    /// older reports are compacted away, each crew's latest kept (see
    /// [`AppState::compact_track`]).
    pub keep_track_ms: i64,
    /// The FHIR server handovers are pushed to (`--fhir-url`); `None`: none are.
    pub fhir_server: Option<Arc<crate::fhir::FhirServer>>,
    /// The identifier systems of what the service puts in FHIR resources (`--fhir-system`).
    pub fhir_systems: crate::fhir::Systems,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            tokens: Tokens::default(),
            dispatch: DispatchConfig::default(),
            hub_window: 65_536,
            osrm: router::http::OsrmOptions::default(),
            addresses: None,
            stations: Vec::new(),
            cluster: None,
            snapshot_every: 10_000,
            retain_closed_ms: 24 * 3_600_000,
            keep_track_ms: 7 * 24 * 3_600_000,
            fhir_server: None,
            fhir_systems: crate::fhir::Systems::default(),
        }
    }
}

/// How much longer than the leader a standby keeps closed calls (see
/// [`AppState::drop_closed`]).
const STANDBY_RETENTION_MARGIN_MS: i64 = 10 * 60_000;

/// How many log entries one step of the tracks' compaction goes over (one transaction).
const COMPACTION_WINDOW: i64 = 20_000;

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// The router.
    pub router: Arc<Router>,
    /// The dispatch core: the single writer of dispatch state.
    pub core: Mutex<Dispatcher>,
    /// The durable store: the event log, entity snapshots (calls, crews, handovers) and
    /// idempotency keys.
    pub store: Store,
    /// Log entries, numbered and broadcast.
    pub hub: Hub,
    /// Tokens.
    pub tokens: Tokens,
    /// Dispatch rules (to rebuild the core).
    pub dispatch: DispatchConfig,
    /// The routing API's limits.
    pub osrm: router::http::OsrmOptions,
    /// The map's addresses, when the service has them.
    pub addresses: Option<Arc<osm_data::address::AddressIndex>>,
    /// The stations crews start from and go back to.
    pub stations: Vec<crate::stations::Station>,
    /// Set when a commit failed and the core could not be rebuilt from the store yet: the
    /// next change rebuilds it first.
    stale: AtomicBool,
    /// The group committer (see [`crate::commit`]).
    pub(crate) committer: crate::commit::Committer,
    /// Set by [`AppState::panic_next_change`].
    panic_next: AtomicBool,
    /// Held while a handover is recorded (its version number is read, then written).
    pub handovers: Mutex<()>,
    /// The Prometheus metrics (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
    /// This instance's place in a cluster, if in one.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// See [`ServiceConfig::snapshot_every`].
    snapshot_every: u64,
    /// See [`ServiceConfig::retain_closed_ms`].
    retain_closed_ms: i64,
    /// See [`ServiceConfig::keep_track_ms`].
    keep_track_ms: i64,
    /// See [`ServiceConfig::fhir_server`].
    pub fhir_server: Option<Arc<crate::fhir::FhirServer>>,
    /// See [`ServiceConfig::fhir_systems`].
    pub fhir_systems: crate::fhir::Systems,
    /// Wakes the FHIR push worker (a handover recorded or retried).
    pub(crate) fhir_wake: tokio::sync::Notify,
    /// The HTTP client of the patients' summaries (see [`crate::fhir::summary`]).
    pub(crate) fhir_client: reqwest::Client,
    /// The entry the latest snapshot stored or started from is of (0: none).
    snapshot_seq: AtomicI64,
    /// Set when closed calls left memory after the latest snapshot.
    dropped_calls: AtomicBool,
    /// The entry the snapshot this instance started from is of (0: the whole log).
    pub restored_from: i64,
}

impl HasTokens for AppState {
    fn tokens(&self) -> &Tokens {
        &self.0.tokens
    }
}

pub use router::http::now_ms;

/// What an operation did, for [`AppState::apply`].
pub struct Effect<T> {
    /// The dispatch events, in order.
    pub events: Vec<Event>,
    /// What the caller gets back.
    pub out: T,
    /// Further entity snapshots to store with the change (`(kind, id, body)`).
    pub upserts: Vec<(String, String, Value)>,
    /// Entities to remove with the change (`(kind, id)`).
    pub deletes: Vec<(String, String)>,
    /// The response stored under the idempotency key.
    pub response: Option<Value>,
    /// Further log entries, after those of the events (closures, re-routes).
    pub entries: Vec<journal::Entry>,
    /// The crew status change the request asked for, if any: that event is the caller's,
    /// other status changes the rules' (see [`journal::requested`]).
    pub own_status: Option<(String, CrewStatus)>,
}

impl<T> Effect<T> {
    /// Events and a result, nothing else stored.
    pub fn new(events: Vec<Event>, out: T) -> Effect<T> {
        Effect {
            events,
            out,
            upserts: Vec::new(),
            deletes: Vec::new(),
            response: None,
            entries: Vec::new(),
            own_status: None,
        }
    }
}

/// The result of [`AppState::apply`].
#[derive(Debug)]
pub enum Applied<T> {
    /// The operation was made and committed.
    Done(T),
    /// The idempotency key was used before: nothing was done; this was the first answer.
    Replayed(Value),
}

impl AppState {
    /// Opens the state over `store`: the dispatcher is rebuilt from the store's event log
    /// (empty for a new database), and the newest entries are kept for reconnecting consoles.
    pub async fn open(
        router: Arc<Router>,
        config: ServiceConfig,
        store: Store,
    ) -> Result<AppState, StoreError> {
        let journal::Restored {
            core,
            tail,
            last,
            snapshot,
        } = journal::restore(
            &store,
            router.clone(),
            config.dispatch,
            config.hub_window,
            true,
        )
        .await?;
        if config.cluster.is_some() {
            // A standby until the lease is ours.
            store.fence(None);
        }
        let hub = Hub::new(config.hub_window, last as u64);
        hub.preload(tail);
        if last > 0 {
            tracing::info!(
                events = last,
                snapshot,
                crews = core.crews().count(),
                calls = core.calls().count(),
                "state restored from the store"
            );
        }
        Ok(AppState(Arc::new_cyclic(|weak| Inner {
            committer: crate::commit::Committer::start(weak.clone()),
            core: Mutex::new(core),
            router,
            store,
            hub,
            tokens: config.tokens,
            dispatch: config.dispatch,
            osrm: config.osrm,
            addresses: config.addresses,
            stations: config.stations,
            stale: AtomicBool::new(false),
            panic_next: AtomicBool::new(false),
            handovers: Mutex::new(()),
            metrics: crate::metrics::Metrics::new(),
            cluster: config.cluster,
            snapshot_every: config.snapshot_every,
            retain_closed_ms: config.retain_closed_ms,
            keep_track_ms: config.keep_track_ms,
            fhir_server: config.fhir_server,
            fhir_systems: config.fhir_systems,
            fhir_wake: tokio::sync::Notify::new(),
            fhir_client: reqwest::Client::builder()
                .timeout(crate::fhir::summary::DEADLINE)
                .build()
                .unwrap_or_default(),
            snapshot_seq: AtomicI64::new(snapshot),
            dropped_calls: AtomicBool::new(false),
            restored_from: snapshot,
        })))
    }

    /// The dispatch core, for reading. Waiting for it never blocks a runtime thread (a
    /// change holds it while it is decided). It may hold changes decided and not yet stored
    /// (their group commit is in flight); nothing is answered or pushed before it is.
    pub async fn core(&self) -> MutexGuard<'_, Dispatcher> {
        self.0.core.lock().await
    }

    /// Runs one operation for `actor`: decides and applies it in memory, commits its log
    /// entries (and `idempotency_key`, if any) to the store, then publishes them. Each entry
    /// records its actor: the caller for what the request asked for, `system` for what the
    /// dispatch rules decided (see [`journal::requested`]). Decided under the core's lock,
    /// then committed in a group with the changes decided meanwhile ([`crate::commit`]), so
    /// the log keeps the order of decisions; answered after its group is stored.
    ///
    /// A key already used (or in flight) answers [`Applied::Replayed`] without running the
    /// operation. An error of the operation changes nothing (the core checks before it
    /// changes; the router's closures are put back). A panic while deciding (a bug) is
    /// caught: the core is rebuilt from the store, the closures put back, and 500 answered.
    /// A failed group commit answers 503 to it and to every change decided after it, and
    /// the core is rebuilt. Either way memory and the database are as before the change.
    pub async fn apply<T>(
        &self,
        actor: &Actor,
        idempotency_key: Option<String>,
        op: impl FnOnce(&mut Dispatcher, i64) -> Result<Effect<T>, ApiError>,
    ) -> Result<Applied<T>, ApiError> {
        let inner = &self.0;
        let mut core = self.core().await;
        if !self.is_leader() {
            return Err(ApiError::not_leader());
        }
        // Read before the stale check: a group failing after it makes this change's
        // generation old, so it is refused rather than stored on a state that failed.
        let generation = inner.committer.generation();
        if inner.stale.load(Ordering::Acquire) {
            self.repair(&mut core).await?;
        }
        if let Some(key) = &idempotency_key {
            // The same key on a change still in flight: its answer, once it is stored.
            if let Some(mut first) = inner.committer.waiting(key) {
                drop(core);
                let answer = first
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|a| a.clone());
                return match answer.flatten() {
                    Some(response) => Ok(Applied::Replayed(response)),
                    None => Err(ApiError::unavailable(
                        "the first request with this idempotency key failed: nothing was changed, try again",
                    )),
                };
            }
            let stored = inner
                .store
                .response_for(key)
                .await
                .map_err(ApiError::unavailable)?;
            if let Some(response) = stored {
                return Ok(Applied::Replayed(response));
            }
        }
        let now = now_ms();
        // The router's closures are the one piece of state outside the core a change may
        // touch: kept to be put back if the change does not go through.
        let checkpoint = inner.router.closures_checkpoint();
        // Meant for a request's change: the closures' ticker (the system) leaves it set.
        let inject = actor.role != "system" && inner.panic_next.swap(false, Ordering::AcqRel);
        let deciding = Instant::now();
        // Deciding and preparing the change must not take the service down: a panic (a bug)
        // is caught, and memory is put back as the store has it.
        let prepared = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let effect = op(&mut core, now)?;
            if inject {
                panic!("injected panic after the change was applied in memory");
            }
            Ok(prepare(inner, &core, effect, actor, idempotency_key, now))
        }));
        if prepared.is_ok() {
            inner.metrics.decided(deciding.elapsed());
        }
        let (change, entries, out) = match prepared {
            Ok(Ok(Prepared::Nothing(out))) => return Ok(Applied::Done(out)),
            Ok(Ok(Prepared::Change {
                change,
                entries,
                out,
            })) => (change, entries, out),
            Ok(Err(e)) => {
                // The core refuses before changing anything; what else the operation did
                // outside it (a closure) is put back.
                inner.router.rollback_closures(checkpoint, now);
                return Err(e);
            }
            Err(panic) => {
                let what = panic_text(&*panic);
                tracing::error!(
                    cause = what,
                    "a change panicked: rebuilding the state from the store"
                );
                inner.router.rollback_closures(checkpoint, now);
                inner.stale.store(true, Ordering::Release);
                let _ = self.repair(&mut core).await;
                return Err(ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error: nothing was changed",
                ));
            }
        };
        // To the group commit; the next change is decided meanwhile.
        let (reply, acked) = tokio::sync::oneshot::channel();
        inner.committer.send(crate::commit::Pending {
            change,
            entries,
            checkpoint,
            now,
            generation,
            reply,
            waiters: None,
        });
        drop(core);
        let acked = match acked.await {
            Ok(Ok(crate::commit::Acked::Done)) => return Ok(Applied::Done(out)),
            Ok(Ok(crate::commit::Acked::Replayed(response))) => Ok(Applied::Replayed(response)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ApiError::unavailable("the committer stopped")),
        };
        // Its group failed: memory is put back as the store has it before answering, so
        // that what the caller reads next is what is stored.
        let mut core = self.core().await;
        if self.is_stale() {
            self.repair(&mut core).await?;
        }
        acked
    }

    /// Tells the FHIR push worker that a handover is due (it also looks every second).
    pub fn wake_fhir(&self) {
        self.0.fhir_wake.notify_one();
    }

    /// Whether the core waits to be rebuilt ([`AppState::repair`]).
    pub(crate) fn is_stale(&self) -> bool {
        self.0.stale.load(Ordering::Acquire)
    }

    /// Marks the core stale: the next holder of its lock rebuilds it ([`AppState::repair`]).
    pub(crate) fn mark_stale(&self) {
        self.0.stale.store(true, Ordering::Release);
    }

    /// Brings a stale core back in line with the store: waits until no change is in flight
    /// (the committer ends them without the core's lock), puts the router's closures back
    /// as they were before a failed group, and rebuilds the core (after a fencing, up to the
    /// entries published, which a standby follows on from).
    pub(crate) async fn repair(&self, core: &mut Dispatcher) -> Result<(), ApiError> {
        let inner = &self.0;
        while !inner.committer.drained(Duration::from_secs(1)).await {
            tracing::warn!("waiting for changes in flight before rebuilding the state");
        }
        let broken = inner.committer.take_broken();
        if let Some((checkpoint, now, _)) = &broken {
            inner.router.rollback_closures(checkpoint.clone(), *now);
        }
        match broken.map(|b| b.2) {
            Some(crate::commit::Broken::Fenced) => {
                self.rebuild_until(core, inner.hub.last_seq() as i64)
                    .await?;
                inner.stale.store(false, Ordering::Release);
                Ok(())
            }
            _ => self.rebuild(core).await,
        }
    }

    /// For tests of atomicity: the next change a request makes (not the service's own
    /// timers) panics after it was applied in memory, before it is committed.
    #[doc(hidden)]
    pub fn panic_next_change(&self) {
        self.0.panic_next.store(true, Ordering::Release);
    }

    /// Lets go of the calls closed longer ago than [`ServiceConfig::retain_closed_ms`]: they
    /// leave memory (and the snapshots after) and stay readable from the store. A standby
    /// keeps them a while longer, so that it still has a call the leader changes just before
    /// letting it go (by its own clock). Nothing decided depends on a closed call. Returns
    /// how many left.
    pub async fn drop_closed(&self) -> usize {
        let inner = &self.0;
        let margin = if self.is_leader() {
            0
        } else {
            STANDBY_RETENTION_MARGIN_MS
        };
        let before = now_ms()
            .saturating_sub(inner.retain_closed_ms)
            .saturating_sub(margin);
        let mut core = self.core().await;
        if inner.stale.load(Ordering::Acquire) {
            return 0;
        }
        let closed = core.closed_before(before);
        for id in &closed {
            core.take_closed_call(*id);
        }
        if !closed.is_empty() {
            inner.dropped_calls.store(true, Ordering::Release);
            tracing::debug!(calls = closed.len(), "closed calls left memory");
        }
        closed.len()
    }

    /// Compacts the crews' tracks in the log (see [`Store::compact_track`]): position reports
    /// older than [`ServiceConfig::keep_track_ms`] and covered by the latest snapshot are
    /// removed when a later report of the same crew is logged. Short steps, for at most
    /// `budget`, so commits wait little. The leader's work. Returns how many were removed.
    pub async fn compact_track(&self, budget: Duration) -> Result<u64, StoreError> {
        let inner = &self.0;
        let upto = inner.snapshot_seq.load(Ordering::Acquire);
        if !self.is_leader() || upto == 0 {
            return Ok(0);
        }
        let before = now_ms().saturating_sub(inner.keep_track_ms);
        let started = Instant::now();
        let mut removed = 0;
        while started.elapsed() < budget {
            let step = inner
                .store
                .compact_track(upto, before, COMPACTION_WINDOW)
                .await?;
            removed += step.removed;
            inner.metrics.compacted(step.removed);
            if !step.advanced {
                break;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "position reports compacted");
        }
        Ok(removed)
    }

    /// Stores a snapshot of the state when [`ServiceConfig::snapshot_every`] entries or
    /// more were logged since the last one, or, with `always`, when any were (a clean
    /// shutdown). The leader's work: a standby, or a core waiting to be rebuilt, takes none.
    /// The core is held while the snapshot is taken (a copy), not while it is written.
    /// Returns the entry it is of and its size in bytes, if one was stored.
    pub async fn snapshot(&self, always: bool) -> Result<Option<(i64, usize)>, StoreError> {
        let inner = &self.0;
        // Due: enough new entries, or at shutdown any, or closed calls that left memory.
        let due = |seq: i64| {
            let since = seq - inner.snapshot_seq.load(Ordering::Acquire);
            seq > 0
                && match always {
                    true => since > 0 || inner.dropped_calls.load(Ordering::Acquire),
                    false => inner.snapshot_every > 0 && since >= inner.snapshot_every as i64,
                }
        };
        if !due(inner.hub.last_seq() as i64) {
            return Ok(None);
        }
        let (snapshot, seq) = {
            let core = self.core().await;
            // With nothing in flight, the core is the log up to its last published entry.
            if !inner.committer.drained(Duration::from_millis(100)).await {
                return Ok(None);
            }
            let seq = inner.hub.last_seq() as i64;
            if !self.is_leader() || inner.stale.load(Ordering::Acquire) || !due(seq) {
                return Ok(None);
            }
            inner.dropped_calls.store(false, Ordering::Release);
            (core.snapshot(), seq)
        };
        let started = Instant::now();
        let bytes = match journal::save_snapshot(&inner.store, snapshot, seq).await {
            Ok(bytes) => bytes,
            Err(e) => {
                inner.dropped_calls.store(true, Ordering::Release);
                return Err(e);
            }
        };
        inner.snapshot_seq.fetch_max(seq, Ordering::AcqRel);
        tracing::info!(
            seq,
            bytes,
            ms = started.elapsed().as_millis() as u64,
            "snapshot stored"
        );
        Ok(Some((seq, bytes)))
    }

    /// Replaces the core by the state the store's log gives up to `seq` (what was published).
    async fn rebuild_until(&self, core: &mut Dispatcher, seq: i64) -> Result<(), ApiError> {
        let inner = &self.0;
        let fresh = journal::restore_until(
            &inner.store,
            inner.router.clone(),
            inner.dispatch,
            0,
            false,
            seq,
        )
        .await
        .map_err(|e| {
            inner.stale.store(true, Ordering::Release);
            ApiError::unavailable(e)
        })?;
        *core = fresh.core;
        Ok(())
    }

    /// Replaces the core by the state the store's log gives.
    async fn rebuild(&self, core: &mut Dispatcher) -> Result<(), ApiError> {
        let inner = &self.0;
        let restored =
            journal::restore(&inner.store, inner.router.clone(), inner.dispatch, 0, false).await;
        match restored {
            Ok(fresh) => {
                *core = fresh.core;
                inner.stale.store(false, Ordering::Release);
                tracing::info!("state rebuilt from the store");
                // A commit reported as failed may still have been written (the connection
                // dropped after the database committed): publish what the store has beyond
                // what clients were sent, so they see the log with no gap.
                let missed = inner
                    .store
                    .events_since(inner.hub.last_seq() as i64, i64::MAX)
                    .await;
                match missed {
                    Ok(missed) if !missed.is_empty() => {
                        tracing::warn!(
                            entries = missed.len(),
                            "a change reported as failed was committed; publishing it"
                        );
                        inner.metrics.events_found(missed.len());
                        inner.hub.publish(
                            missed[0].seq as u64,
                            missed
                                .iter()
                                .map(|e| (e.event.clone(), journal::stored_crew(&e.event)))
                                .collect(),
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot read the log after a rebuild"),
                }
                Ok(())
            }
            Err(e) => {
                inner.stale.store(true, Ordering::Release);
                Err(ApiError::unavailable(e))
            }
        }
    }
}

/// A change ready to commit, or nothing to store.
enum Prepared<T> {
    /// Nothing to store: the operation changed nothing.
    Nothing(T),
    /// What to commit, the entries to publish once committed, and the answer.
    Change {
        change: Change,
        entries: Vec<journal::Entry>,
        out: T,
    },
}

/// Turns an operation's effect into the change to commit: the log entries with their actors
/// and the entity snapshots.
fn prepare<T>(
    inner: &Inner,
    core: &Dispatcher,
    effect: Effect<T>,
    actor: &Actor,
    idempotency_key: Option<String>,
    now: i64,
) -> Prepared<T> {
    let mut entries = journal::entries(
        &inner.router,
        core,
        &effect.events,
        now,
        actor,
        effect.own_status.as_ref(),
    );
    entries.extend(
        effect
            .entries
            .into_iter()
            .map(|e| journal::stamped(e, actor, now)),
    );
    if entries.is_empty()
        && idempotency_key.is_none()
        && effect.upserts.is_empty()
        && effect.deletes.is_empty()
    {
        return Prepared::Nothing(effect.out);
    }
    let journal::Snapshots {
        mut upserts,
        mut deletes,
    } = journal::snapshots(core, &effect.events);
    upserts.extend(effect.upserts);
    deletes.extend(effect.deletes);
    let change = Change {
        idempotency_key,
        at_ms: now,
        events: entries.iter().map(|e| e.stored.clone()).collect(),
        upserts,
        deletes,
        response: effect.response,
    };
    Prepared::Change {
        change,
        entries,
        out: effect.out,
    }
}

/// What a panic said, for the log.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic")
}
