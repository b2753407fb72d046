//! Prometheus metrics, served at `GET /metrics` in the text exposition format (0.0.4).
//!
//! Each service has a registry of its own (in [`crate::state::AppState`], no global), so
//! several services in one process (the tests) count apart. Counters and histograms are
//! updated where things happen: [`crate::state::AppState::apply`] times each decision and
//! each commit and counts the log entries committed; the websockets count their clients.
//! The dispatch state (calls by status and priority, the queue) is read from the core at
//! each scrape, so it can never drift from what the API answers. Under the core's lock, that
//! walks the open calls only: the closed ones are running counts the core keeps
//! (`Dispatcher::call_counts`), so a scrape costs the same with a year of closed calls held.
//!
//! `/metrics` needs no token, like the scrapers that read it expect: it holds counts and
//! times only, never a token, a name, an address or anything of a patient.

use std::time::Duration;

use dispatch_core::{CallStatus, Dispatcher, Priority};
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency buckets (seconds): 50 µs to 5 s.
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

const STATUSES: [CallStatus; 8] = [
    CallStatus::Queued,
    CallStatus::Assigned,
    CallStatus::EnRoute,
    CallStatus::OnScene,
    CallStatus::Transporting,
    CallStatus::AtHospital,
    CallStatus::Completed,
    CallStatus::Cancelled,
];

const PRIORITIES: [Priority; 3] = [Priority::Emergency, Priority::Urgent, Priority::NonUrgent];

/// Which websocket a client holds.
#[derive(Debug, Clone, Copy)]
pub enum Socket {
    /// A dispatcher console (`/ws/console`).
    Console,
    /// A crew tablet (`/ws/crews/{id}`).
    Crew,
}

impl Socket {
    fn label(self) -> &'static str {
        match self {
            Socket::Console => "console",
            Socket::Crew => "crew",
        }
    }
}

/// The service's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    decision: Histogram,
    commit: Histogram,
    commit_failures: IntCounter,
    changes: IntCounter,
    events: IntCounter,
    websockets: IntGaugeVec,
    calls: IntGaugeVec,
    queue_length: IntGauge,
    oldest_wait: Gauge,
    role: IntGaugeVec,
    epoch: IntGauge,
    standby_lag: IntGauge,
    compacted: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric of the service, at zero; the role is `leader`.
    pub fn new() -> Metrics {
        let histogram = |name: &str, help: &str| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()))
                .expect("a valid histogram")
        };
        let m = Metrics {
            registry: Registry::new(),
            decision: histogram(
                "dispatch_decision_seconds",
                "Time to decide a change and prepare its log entries (routes included), under the core's lock",
            ),
            commit: histogram(
                "dispatch_commit_seconds",
                "Time to commit one group of changes (their log entries, snapshots and idempotency keys) to the store in one transaction, failed ones included; its count is the number of commits (and fsyncs)",
            ),
            commit_failures: IntCounter::new(
                "dispatch_commit_failures_total",
                "Group commits that failed (their changes were refused with 503 and the state rebuilt from the store)",
            )
            .expect("a valid counter"),
            changes: IntCounter::new(
                "dispatch_changes_total",
                "Changes committed (each a request's or a timer's); divided by dispatch_commit_seconds_count, the changes per group commit",
            )
            .expect("a valid counter"),
            events: IntCounter::new(
                "dispatch_events_total",
                "Log entries (events) committed to the store; rate() gives events per second",
            )
            .expect("a valid counter"),
            websockets: IntGaugeVec::new(
                Opts::new(
                    "dispatch_websocket_clients",
                    "Open websockets by kind: console (dispatchers) or crew (tablets)",
                ),
                &["kind"],
            )
            .expect("a valid gauge"),
            calls: IntGaugeVec::new(
                Opts::new(
                    "dispatch_calls",
                    "Calls held in memory by status and priority",
                ),
                &["status", "priority"],
            )
            .expect("a valid gauge"),
            queue_length: IntGauge::new(
                "dispatch_queue_length",
                "Calls waiting for at least one crew",
            )
            .expect("a valid gauge"),
            oldest_wait: Gauge::new(
                "dispatch_queue_oldest_wait_seconds",
                "How long the longest-waiting call of the queue has waited since it was received (0 when the queue is empty)",
            )
            .expect("a valid gauge"),
            role: IntGaugeVec::new(
                Opts::new(
                    "dispatch_role",
                    "1 for this instance's role (leader or standby; a single SQLite instance is its own leader)",
                ),
                &["role"],
            )
            .expect("a valid gauge"),
            epoch: IntGauge::new(
                "dispatch_epoch",
                "The leadership epoch: one more at each takeover (0 for a single instance)",
            )
            .expect("a valid gauge"),
            standby_lag: IntGauge::new(
                "dispatch_standby_lag_events",
                "Events a standby has yet to apply behind the leader's log (0 on the leader)",
            )
            .expect("a valid gauge"),
            compacted: IntCounter::new(
                "dispatch_positions_compacted_total",
                "Position reports removed from the log by the compaction of the crews' tracks (each crew's latest report stays)",
            )
            .expect("a valid counter"),
        };
        let collectors: [Box<dyn prometheus::core::Collector>; 14] = [
            Box::new(m.decision.clone()),
            Box::new(m.commit.clone()),
            Box::new(m.commit_failures.clone()),
            Box::new(m.changes.clone()),
            Box::new(m.events.clone()),
            Box::new(m.websockets.clone()),
            Box::new(m.calls.clone()),
            Box::new(m.queue_length.clone()),
            Box::new(m.oldest_wait.clone()),
            Box::new(m.role.clone()),
            Box::new(m.epoch.clone()),
            Box::new(m.standby_lag.clone()),
            Box::new(m.compacted.clone()),
            Box::new(
                IntGauge::new(
                    "dispatch_up",
                    "1 while the service answers (a scrape that fails says it is down)",
                )
                .inspect(|g| g.set(1))
                .expect("a valid gauge"),
            ),
        ];
        for c in collectors {
            m.registry.register(c).expect("metric names are unique");
        }
        for socket in [Socket::Console, Socket::Crew] {
            m.websockets.with_label_values(&[socket.label()]).set(0);
        }
        m.role.with_label_values(&["leader"]).set(1);
        m.role.with_label_values(&["standby"]).set(0);
        m
    }

    /// Records how long deciding a change took.
    pub fn decided(&self, took: Duration) {
        self.decision.observe(took.as_secs_f64());
    }

    /// Records a group commit: how long it took, and how many changes and log entries it
    /// stored (`None`: it failed).
    pub fn committed(&self, took: Duration, stored: Option<(usize, usize)>) {
        self.commit.observe(took.as_secs_f64());
        match stored {
            Some((changes, entries)) => {
                self.changes.inc_by(changes as u64);
                self.events.inc_by(entries as u64);
            }
            None => self.commit_failures.inc(),
        }
    }

    /// Log entries that reached the store another way (found after a failed commit).
    pub fn events_found(&self, entries: usize) {
        self.events.inc_by(entries as u64);
    }

    /// Position reports the compaction of the tracks removed.
    pub fn compacted(&self, removed: u64) {
        self.compacted.inc_by(removed);
    }

    /// Counts an open websocket until the guard is dropped.
    pub fn websocket(&self, socket: Socket) -> WebsocketGuard {
        let gauge = self.websockets.with_label_values(&[socket.label()]);
        gauge.inc();
        WebsocketGuard(gauge)
    }

    /// Reads the dispatch state into the gauges (at each scrape).
    pub fn observe_core(&self, core: &Dispatcher, now_ms: i64) {
        let counts = core.call_counts();
        for status in STATUSES {
            for priority in PRIORITIES {
                let n = counts.get(&(status, priority)).copied().unwrap_or(0);
                self.calls
                    .with_label_values(&[status.as_str(), priority.as_str()])
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let queue = core.queue();
        self.queue_length.set(queue.len() as i64);
        let oldest = queue.iter().map(|c| c.received()).min();
        self.oldest_wait
            .set(oldest.map_or(0.0, |received| (now_ms - received).max(0) as f64 / 1000.0));
    }

    /// Reads the instance's role, epoch and lag into the gauges (at each scrape).
    pub fn observe_standing(&self, standing: crate::cluster::Standing) {
        let leader = standing.role == crate::cluster::Role::Leader;
        self.role
            .with_label_values(&["leader"])
            .set(i64::from(leader));
        self.role
            .with_label_values(&["standby"])
            .set(i64::from(!leader));
        self.epoch.set(standing.epoch);
        self.standby_lag.set(standing.lag);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot write the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// An open websocket, counted until dropped.
pub struct WebsocketGuard(IntGauge);

impl Drop for WebsocketGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The service's metrics in the Prometheus text format (no token needed: counts and times
/// only, no secret and nothing of a patient).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    security(()),
    responses((status = 200, description = "The metrics, Prometheus text exposition format 0.0.4", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String))
)]
pub(crate) async fn metrics(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let metrics = &state.0.metrics;
    {
        let core = state.core().await;
        metrics.observe_core(&core, crate::state::now_ms());
    }
    metrics.observe_standing(state.standing());
    (
        [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
        metrics.render(),
    )
        .into_response()
}
