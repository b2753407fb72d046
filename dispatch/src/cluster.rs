//! Several `dispatch serve` instances on one PostgreSQL database: one leader makes the
//! changes, the others are hot standbys.
//!
//! * **Leadership** is a lease row in the database with an epoch (see
//!   [`Store::acquire`](crate::store::Store::acquire)). The leader renews it every quarter
//!   of the lease; a standby whose check finds it expired takes it, which adds one to the
//!   epoch. Every commit checks its epoch under a share lock of the row (fencing), so a
//!   frozen or cut-off former leader can never write after a takeover; when its renewal
//!   fails it steps down.
//! * **Standbys follow the log**: every [`FOLLOW_EVERY`] they read the events after the last
//!   they have, apply them to their dispatch core exactly as a restart does
//!   ([`journal::replay_page`]) and publish them, with the log's sequence numbers, to their
//!   own consoles and tablets. A standby serves every read itself.
//! * **Changes go to the leader**: a standby forwards every request that is not a read
//!   (and a tablet's websocket messages) to the leader's URL, waits until it has followed the
//!   log up to the change (the leader's `X-Dispatch-Seq`), and answers what the leader
//!   answered. Clients need one address only. While there is no leader (a takeover under way)
//!   the forward waits and tries again, for up to [`FORWARD_FOR`].
//! * **A takeover**: the new leader first follows the log to its end (no former leader can
//!   commit any more), then makes changes. Idempotency keys live in the database, so a
//!   client retrying a change through another instance gets it made exactly once.
//!
//! `GET /health` reports the role, the epoch and a standby's lag in events.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::watch;

use crate::edge::BODY_LIMIT;
use crate::error::ApiError;
use crate::journal;
use crate::state::AppState;
use crate::store::StoreError;

/// How often a standby reads the log's new events.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// How often a standby checks the lease (and takes it when it has expired).
pub const CHECK_LEASE_EVERY: Duration = Duration::from_millis(250);
/// How long a forwarded change may wait for a leader (during a takeover).
pub const FORWARD_FOR: Duration = Duration::from_secs(10);
/// How long a standby waits to have followed the log up to a change it forwarded.
const CATCH_UP_FOR: Duration = Duration::from_secs(2);
/// Set on a forwarded request (a standby never forwards it again) …
pub const FORWARDED: HeaderName = HeaderName::from_static("x-dispatch-forwarded");
/// … and on a leader's answer to a change: the log's last sequence number after it.
pub const SEQ: HeaderName = HeaderName::from_static("x-dispatch-seq");
/// Set on the 503 of an instance that is not the leader (a forward tries again elsewhere).
pub const NOT_LEADER: HeaderName = HeaderName::from_static("x-dispatch-not-leader");

/// An instance's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Makes the changes (also a single instance on SQLite).
    Leader,
    /// Follows the log, serves reads and forwards changes.
    Standby,
}

/// Settings of an instance in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// This instance's base URL as the other instances reach it (`http://host:port`).
    pub url: String,
    /// How long a leadership lasts without renewal: a dead leader is replaced after at most
    /// this (plus [`CHECK_LEASE_EVERY`]).
    pub lease: Duration,
}

impl ClusterConfig {
    /// The default lease: 2 s (a takeover within about 2.5 s of a leader's death).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(2);
}

/// This instance's place in the cluster.
#[derive(Debug)]
pub struct Cluster {
    /// This instance's id (random, new at each start).
    pub id: String,
    /// Its base URL.
    pub url: String,
    lease: Duration,
    role: watch::Sender<Role>,
    epoch: AtomicI64,
    /// The leader's URL as the lease last said ("" when unknown).
    leader_url: Mutex<String>,
    /// The log's last sequence number as last read from the store (for the lag).
    log_end: AtomicI64,
    client: reqwest::Client,
}

impl Cluster {
    /// A standby with a fresh id.
    pub fn new(config: ClusterConfig) -> Result<Cluster, std::io::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(crate::server::REQUEST_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Cluster {
            id: crate::auth::random_token()?,
            url: config.url.trim_end_matches('/').to_string(),
            lease: config.lease,
            role: watch::Sender::new(Role::Standby),
            epoch: AtomicI64::new(0),
            leader_url: Mutex::new(String::new()),
            log_end: AtomicI64::new(0),
            client,
        })
    }

    /// Its role now.
    pub fn role(&self) -> Role {
        *self.role.borrow()
    }

    /// The leadership epoch it holds, or last saw.
    pub fn epoch(&self) -> i64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The leader's URL, `None` when no live lease was seen.
    fn leader_url(&self) -> Option<String> {
        let url = self
            .leader_url
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default();
        (!url.is_empty()).then_some(url)
    }

    fn set_leader_url(&self, url: &str) {
        if let Ok(mut u) = self.leader_url.lock() {
            url.clone_into(&mut u);
        }
    }

    /// Waits until this instance is the leader.
    pub async fn leading(&self) {
        let mut rx = self.role.subscribe();
        let _ = rx.wait_for(|r| *r == Role::Leader).await;
    }
}

/// What `/health` says of an instance's place.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Standing {
    /// `leader` or `standby` (a single SQLite instance is its own leader).
    pub role: Role,
    /// The leadership epoch (0 for a single instance).
    pub epoch: i64,
    /// Events of the log a standby has not applied yet (0 for the leader).
    pub lag: i64,
}

impl AppState {
    /// This instance's role, epoch and lag.
    pub fn standing(&self) -> Standing {
        match &self.0.cluster {
            None => Standing {
                role: Role::Leader,
                epoch: 0,
                lag: 0,
            },
            Some(c) => {
                let role = c.role();
                let lag = match role {
                    Role::Leader => 0,
                    Role::Standby => {
                        (c.log_end.load(Ordering::Acquire) - self.0.hub.last_seq() as i64).max(0)
                    }
                };
                Standing {
                    role,
                    epoch: c.epoch(),
                    lag,
                }
            }
        }
    }

    /// Whether this instance may make changes: a single instance, or the leader.
    pub fn is_leader(&self) -> bool {
        self.0
            .cluster
            .as_ref()
            .is_none_or(|c| c.role() == Role::Leader)
    }
}

/// Runs the instance's part in the cluster until the process ends: a standby follows the
/// log and takes the lease when it expires; the leader renews it, and steps down when it
/// cannot.
pub async fn run(state: AppState) {
    let Some(cluster) = state.0.cluster.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checked: Option<Instant> = None;
    let mut renewed = Instant::now();
    loop {
        tick.tick().await;
        match cluster.role() {
            Role::Standby => {
                if let Err(e) = follow(&state).await {
                    tracing::error!(error = %e, "cannot follow the event log");
                }
                if checked.is_none_or(|at| at.elapsed() >= CHECK_LEASE_EVERY) {
                    checked = Some(Instant::now());
                    if take_over(&state, &cluster).await {
                        renewed = Instant::now();
                    }
                }
            }
            Role::Leader => {
                if renewed.elapsed() < cluster.lease / 4 {
                    continue;
                }
                let epoch = cluster.epoch();
                match state.0.store.renew(&cluster.id, epoch, cluster.lease).await {
                    Ok(true) => renewed = Instant::now(),
                    Ok(false) => step_down(&state, &cluster, "another instance took over").await,
                    Err(e) if renewed.elapsed() >= cluster.lease => {
                        tracing::error!(error = %e, "cannot renew the leadership");
                        step_down(&state, &cluster, "the lease ran out").await;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot renew the leadership yet"),
                }
            }
        }
    }
}

/// Reads the lease; takes it when it has expired. Returns whether this instance leads now.
async fn take_over(state: &AppState, cluster: &Cluster) -> bool {
    let store = &state.0.store;
    match store.lease().await {
        Ok(lease) if lease.live => {
            cluster.set_leader_url(&lease.url);
            cluster.epoch.store(lease.epoch, Ordering::Release);
            if let Ok(end) = store.last_seq().await {
                cluster.log_end.store(end, Ordering::Release);
            }
            return false;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the leadership lease");
            return false;
        }
    }
    let epoch = match store
        .acquire(&cluster.id, &cluster.url, cluster.lease)
        .await
    {
        Ok(Some(epoch)) => epoch,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the leadership");
            return false;
        }
    };
    // No former leader can commit any more: read the log to its end, then lead.
    store.fence(Some(epoch));
    cluster.epoch.store(epoch, Ordering::Release);
    let started = Instant::now();
    loop {
        match follow(state).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the log to its end: not taking over");
                store.fence(None);
                let _ = store.release(&cluster.id, epoch).await;
                return false;
            }
        }
    }
    cluster.set_leader_url(&cluster.url);
    cluster.role.send_replace(Role::Leader);
    tracing::info!(
        epoch,
        last_seq = state.0.hub.last_seq(),
        caught_up_in = ?started.elapsed(),
        "leader now"
    );
    true
}

/// Stops making changes: commits are refused from now on, and the log is followed.
async fn step_down(state: &AppState, cluster: &Cluster, why: &str) {
    state.0.store.fence(None);
    cluster.set_leader_url("");
    cluster.role.send_replace(Role::Standby);
    tracing::warn!(epoch = cluster.epoch(), why, "standby now");
}

/// How many log entries a standby reads at once.
const FOLLOW_PAGE: i64 = 5_000;

/// Applies the log's entries after the last one this instance has, and publishes them;
/// returns how many. Entries applied before one that fails are kept and published.
pub async fn follow(state: &AppState) -> Result<usize, StoreError> {
    let inner = &state.0;
    let mut total = 0;
    loop {
        let mut after = inner.hub.last_seq() as i64;
        let mut page = inner.store.events_since(after, FOLLOW_PAGE).await?;
        if page.is_empty() {
            return Ok(total);
        }
        if page[0].seq > after + 1 {
            // Position reports removed by the compaction of the tracks: a standby that fell
            // that far behind goes on after them; its hub's window starts again there, and
            // clients asking for older entries read them (with the same gaps) from the store.
            let mark = inner.store.track_compacted().await?;
            if page[0].seq - 1 <= mark {
                tracing::warn!(
                    from = after,
                    to = page[0].seq - 1,
                    "this standby is behind the compaction of the crews' tracks: skipping removed position reports"
                );
                after = page[0].seq - 1;
                inner.hub.skip_to(after as u64);
            }
        }
        // One run of consecutive entries at a time (the hub numbers them so); a gap is dealt
        // with above at the next turn.
        let run = page
            .windows(2)
            .position(|w| w[1].seq != w[0].seq + 1)
            .map_or(page.len(), |i| i + 1);
        let full = page.len() as i64 == FOLLOW_PAGE || run < page.len();
        page.truncate(run);
        let now = crate::state::now_ms();
        let mut core = state.core().await;
        if state.is_stale() {
            // A group fenced off while this instance led: rebuilt first (the next look
            // follows on from there).
            let _ = state.repair(&mut core).await;
            return Ok(total);
        }
        if inner.hub.last_seq() as i64 != after {
            // Another caller (a forward waiting for its change) applied them meanwhile.
            continue;
        }
        let (applied, failed) =
            journal::replay_page(&mut core, &inner.router, &page, after, 0, true, now);
        if applied > 0 {
            let entries = page[..applied]
                .iter()
                .map(|e| {
                    let mut published = e.event.clone();
                    journal::with_geometry(&inner.router, &core, &mut published);
                    (published, journal::stored_crew(&e.event))
                })
                .collect();
            inner.hub.publish(page[0].seq as u64, entries);
            inner.metrics.events_found(applied);
        }
        drop(core);
        total += applied;
        if let Some(e) = failed {
            return Err(e);
        }
        if let Some(c) = &inner.cluster {
            c.log_end.fetch_max(page[applied - 1].seq, Ordering::AcqRel);
        }
        if !full {
            return Ok(total);
        }
    }
}

/// The answer of an instance that is not the leader to a forwarded change.
pub fn not_leader() -> Response {
    let mut response = ApiError::not_leader().into_response();
    response
        .headers_mut()
        .insert(NOT_LEADER, HeaderValue::from_static("1"));
    response
}

/// Whether a request only reads (served by any instance).
fn reads(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware: a standby forwards changes to the leader; the leader marks its answers
/// to changes with the log's last sequence number.
pub async fn route_changes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(cluster) = state.0.cluster.clone() else {
        return next.run(request).await;
    };
    if reads(request.method()) {
        return next.run(request).await;
    }
    if cluster.role() == Role::Leader {
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        headers.insert(SEQ, HeaderValue::from(state.0.hub.last_seq()));
        if cluster.role() != Role::Leader && response.status() == StatusCode::SERVICE_UNAVAILABLE {
            // It stepped down meanwhile, and the change was refused: a standby forwarding
            // it tries the new leader.
            response
                .headers_mut()
                .insert(NOT_LEADER, HeaderValue::from_static("1"));
        }
        return response;
    }
    if request.headers().contains_key(FORWARDED) {
        return not_leader();
    }
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is over {} KiB", BODY_LIMIT / 1024),
            )
            .into_response()
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    forward(&state, &cluster, parts.method, &path, &parts.headers, body).await
}

/// Headers not passed on: the connection's own.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "content-length" | "connection" | "transfer-encoding" | "keep-alive" | "upgrade"
    )
}

/// Sends a change to the leader and answers what it answered, once this instance has
/// followed the log up to it. Waits for a leader for up to [`FORWARD_FOR`].
pub async fn forward(
    state: &AppState,
    cluster: &Cluster,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let deadline = Instant::now() + FORWARD_FOR;
    loop {
        if let Some(leader) = cluster.leader_url() {
            let mut request = cluster
                .client
                .request(method.clone(), format!("{leader}{path}"))
                .header(FORWARDED, "1")
                .body(body.clone());
            for (name, value) in headers {
                if !hop_by_hop(name) && *name != FORWARDED {
                    request = request.header(name, value);
                }
            }
            match request.send().await {
                Ok(answer) if answer.headers().contains_key(NOT_LEADER) => {}
                Ok(answer) => return relay(state, answer).await,
                // Not sent: safe to try again (elsewhere, once the lease says).
                Err(e) if e.is_connect() => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the leader did not answer a forwarded change");
                    return ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "leader_lost",
                        "the leader did not answer: the change may or may not have been made; \
                         send it again with the same Idempotency-Key",
                    )
                    .into_response();
                }
            }
        }
        if Instant::now() >= deadline {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_leader",
                "no instance is leading now: nothing was changed, try again",
            )
            .into_response();
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// The leader's answer, passed on once this instance has its change.
async fn relay(state: &AppState, answer: reqwest::Response) -> Response {
    let seq = answer
        .headers()
        .get(SEQ)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let body = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "the leader's answer broke off");
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                "leader_lost",
                "the leader's answer broke off: the change may or may not have been made; \
                 send it again with the same Idempotency-Key",
            )
            .into_response();
        }
    };
    if let Some(seq) = seq {
        let until = Instant::now() + CATCH_UP_FOR;
        while state.0.hub.last_seq() < seq && Instant::now() < until {
            if follow(state).await.is_err() {
                break;
            }
            if state.0.hub.last_seq() < seq {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    let mut response = (status, body).into_response();
    *response.headers_mut() = headers;
    response
}
