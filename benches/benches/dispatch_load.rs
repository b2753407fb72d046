//! Load run of the dispatch service: 1,000 crews on their tablets (websockets) sending their
//! position every 5 s, and a steady stream of 112 calls; measures the time from
//! `POST /api/calls` to the assignment arriving on the chosen crew's websocket. A console
//! reads every event and checks that none is lost or repeated (resuming with `?since=` when
//! the service closes it for falling behind); consoles that never read test that slow
//! clients delay nobody; the process's memory is sampled every minute.
//!
//! Run: `cargo bench -p benches --bench dispatch_load` (about 40 s). Settings by environment:
//! `LOAD_CREWS` (1000), `LOAD_SECONDS` (30), `LOAD_CALLS_PER_S` (10), `LOAD_REPORT_MS`
//! (5000: each tablet's position interval), `LOAD_STALLED_CONSOLES` (0: consoles that never
//! read), `LOAD_DB` (the store: a new SQLite file in a temporary directory by default, or a
//! `postgres://` URL naming an empty database or schema). Every change is committed to the
//! store before it is pushed.
//!
//! The soak run (10 minutes; 2,000 crews every 2 s, 20 calls/s, 20 consoles that stop
//! reading): `LOAD_CREWS=2000 LOAD_SECONDS=600 LOAD_CALLS_PER_S=20 LOAD_REPORT_MS=2000
//! LOAD_STALLED_CONSOLES=20 cargo bench -p benches --bench dispatch_load`.
//!
//! Everything runs in one process on this machine: the server (a multi-threaded tokio
//! runtime) and the simulated clients share its two cores, so the figures are an upper bound
//! on what the server alone needs.

// Tests and benches unwrap: a panic is their failure report.
#![allow(clippy::unwrap_used)]

use benches::setting as env;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use simulator::stats::percentile;
use tokio_tungstenite::tungstenite::Message;

/// A tiny deterministic generator (xorshift), so the run is repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        // `cargo test --benches` and criterion-style listing: nothing to do.
        return;
    }
    let crews = env("LOAD_CREWS", 1000);
    let seconds = env("LOAD_SECONDS", 30);
    let calls_per_s = env("LOAD_CALLS_PER_S", 10);
    let report_ms = env("LOAD_REPORT_MS", 5000) as u64;
    let stalled = env("LOAD_STALLED_CONSOLES", 0);
    let graph = benches::maps::import_map("heidelberg");
    let router =
        Arc::new(router::Router::new(graph, router::RouterOptions::default()).expect("router"));
    let (lat0, lat1, lon0, lon1) = benches::maps::heidelberg_core(&router);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut pairs = vec![("bench-dispatcher".to_string(), "dispatcher".to_string())];
        for i in 0..crews {
            pairs.push((format!("bench-crew-token-{i:04}"), format!("crew:C{i}")));
        }
        let config = dispatch::state::ServiceConfig {
            tokens: dispatch::auth::Tokens::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str()))).expect("tokens"),
            ..Default::default()
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = std::env::var("LOAD_DB")
            .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("load.db").display()));
        println!("store: {}", dispatch::store::redact_url(&db));
        let store = dispatch::store::Store::open(&db).await.expect("store");
        let state = dispatch::state::AppState::open(router.clone(), config, store)
            .await
            .expect("state");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(dispatch::server::serve(state, listener, async move {
            let _ = stop_rx.await;
        }));
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut point = move || (lat0 + rng.next() * (lat1 - lat0), lon0 + rng.next() * (lon1 - lon0));
        // Crews, at random points on the map (a point far from any road is refused: draw again).
        let mut positions = Vec::with_capacity(crews);
        while positions.len() < crews {
            let (lat, lon) = point();
            let r = http
                .post(format!("{base}/api/crews"))
                .bearer_auth("bench-dispatcher")
                .json(&json!({"id": format!("C{}", positions.len()), "lat": lat, "lon": lon}))
                .send()
                .await
                .expect("add crew");
            match r.status().as_u16() {
                201 => positions.push((lat, lon)),
                422 => continue,
                other => panic!("adding a crew answered {other}"),
            }
        }
        // Tablets: each records when its assignment arrived, keeps sending positions every 5 s,
        // and clears its call 2 s after receiving it so crews stay available.
        let arrivals: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        // Tablets the service closed before the end, by reason.
        let ended: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let end = Instant::now() + Duration::from_secs(seconds as u64 + 5);
        let mut tablets = Vec::new();
        for (i, &(lat, lon)) in positions.iter().enumerate() {
            let url = format!("ws://{addr}/ws/crews/C{i}?token=bench-crew-token-{i:04}");
            let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("tablet");
            let arrivals = arrivals.clone();
            let ended = ended.clone();
            tablets.push(tokio::spawn(async move {
                let (mut tx, mut rx) = socket.split();
                let mut tick = tokio::time::interval(Duration::from_millis(report_ms + (i as u64 * 7) % 1000));
                let mut done_at: Option<Instant> = None;
                while Instant::now() < end {
                    tokio::select! {
                        _ = tick.tick() => {
                            let jitter = (i as f64 * 1e-5) % 1e-3;
                            let m = json!({"type": "position", "lat": lat + jitter, "lon": lon}).to_string();
                            if tx.send(Message::Text(m.into())).await.is_err() {
                                *ended.lock().unwrap().entry("send failed".to_string()).or_insert(0) += 1;
                                return;
                            }
                            if done_at.is_some_and(|t| Instant::now() >= t) {
                                for s in ["en_route", "on_scene", "available"] {
                                    let m = json!({"type": "status", "status": s}).to_string();
                                    if tx.send(Message::Text(m.into())).await.is_err() {
                                *ended.lock().unwrap().entry("send failed".to_string()).or_insert(0) += 1;
                                return;
                            }
                                }
                                done_at = None;
                            }
                        }
                        msg = rx.next() => match msg {
                            Some(Ok(Message::Text(t))) => {
                                let now = Instant::now();
                                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                                if v["type"] == "assignment" {
                                    if let Some(id) = v["call"]["id"].as_u64() {
                                        arrivals.lock().unwrap().entry(id).or_insert(now);
                                    }
                                    done_at = Some(now + Duration::from_secs(2));
                                }
                            }
                            Some(Ok(Message::Close(frame))) => {
                                let why = frame.map_or("closed without a reason".to_string(), |f| format!("{} {}", u16::from(f.code), f.reason));
                                *ended.lock().unwrap().entry(why).or_insert(0) += 1;
                                return;
                            }
                            None | Some(Err(_)) => {
                                *ended.lock().unwrap().entry("dropped".to_string()).or_insert(0) += 1;
                                return;
                            }
                            _ => {}
                        }
                    }
                }
            }));
        }
        // Consoles that never read, and one that reads everything.
        let mut stalled_sockets = Vec::new();
        for _ in 0..stalled {
            let url = format!("ws://{addr}/ws/console?token=bench-dispatcher&since=0");
            let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("console");
            stalled_sockets.push(socket);
        }
        let watch = Arc::new(Mutex::new(Watch::default()));
        let reader = tokio::spawn(read_console(addr, watch.clone()));
        let rss_start = rss_mib();
        let mut rss_samples = vec![rss_start];
        let sampler = {
            let samples = Arc::new(Mutex::new(Vec::new()));
            let s2 = samples.clone();
            let task = tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                every.tick().await;
                loop {
                    every.tick().await;
                    s2.lock().unwrap().push(rss_mib());
                }
            });
            (task, samples)
        };
        // Calls.
        let commits_before = commit_counts(&http, &base).await;
        let load_started = Instant::now();
        let mut sent: Vec<(u64, Instant)> = Vec::new();
        let mut queued = 0usize;
        let interval = Duration::from_secs_f64(1.0 / calls_per_s as f64);
        let started = Instant::now();
        for n in 0..seconds * calls_per_s {
            tokio::time::sleep_until((started + interval * n as u32).into()).await;
            let (lat, lon) = point();
            let t0 = Instant::now();
            let r = http
                .post(format!("{base}/api/calls"))
                .bearer_auth("bench-dispatcher")
                .json(&json!({"lat": lat, "lon": lon, "priority": "emergency"}))
                .send()
                .await
                .expect("call");
            let code = r.status().as_u16();
            let v: Value = r.json().await.expect("json");
            if code == 422 {
                continue; // off the map: not a call
            }
            if v["status"] == "assigned" {
                sent.push((v["id"].as_u64().unwrap_or(0), t0));
            } else {
                queued += 1;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let arrivals = arrivals.lock().unwrap().clone();
        let mut latencies: Vec<f64> = sent
            .iter()
            .filter_map(|(id, t0)| arrivals.get(id).map(|t| t.duration_since(*t0).as_secs_f64() * 1000.0))
            .collect();
        latencies.sort_by(f64::total_cmp);
        println!(
            "dispatch_load: {crews} crews (positions every {:.1} s over websockets), {} calls at {calls_per_s}/s for {seconds} s on Heidelberg",
            report_ms as f64 / 1000.0,
            seconds * calls_per_s
        );
        println!(
            "  POST /api/calls -> assignment on the crew's websocket: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} measured, {} queued, {} missing)",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.9),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN),
            latencies.len(),
            queued,
            sent.len() - latencies.len()
        );
        let (commits, changes) = commit_counts(&http, &base).await;
        let (commits, changes) = (commits - commits_before.0, changes - commits_before.1);
        let took = load_started.elapsed().as_secs_f64();
        println!(
            "  store: {:.0} changes/s in {:.0} commits/s ({:.1} changes a commit; one commit is one transaction and one fsync)",
            changes / took,
            commits / took,
            changes / commits.max(1.0)
        );
        // The reading console must reach the end of the log, every entry once.
        let store = dispatch::store::Store::open(&db).await.expect("store");
        let last = store.last_seq().await.expect("last seq") as u64;
        let deadline = Instant::now() + Duration::from_secs(60);
        while watch.lock().unwrap().last < last && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        reader.abort();
        sampler.0.abort();
        rss_samples.extend(sampler.1.lock().unwrap().iter().copied());
        let rss_end = rss_mib();
        rss_samples.push(rss_end);
        let w = watch.lock().unwrap().clone();
        println!(
            "  tablets closed by the service before the end: {:?}",
            ended.lock().unwrap()
        );
        println!(
            "  console: {} events read of {last} in the log, {} lost, {} repeated, {} resumes with ?since= after being closed for falling behind; {stalled} consoles never read",
            w.read,
            last.saturating_sub(w.read),
            w.repeated,
            w.resumes,
        );
        println!(
            "  memory (RSS of the process, server and clients): {rss_start:.0} MiB after set-up, {rss_end:.0} MiB at the end; every minute: {}",
            rss_samples.iter().map(|m| format!("{m:.0}")).collect::<Vec<_>>().join(", ")
        );
        drop(stalled_sockets);
        let _ = stop_tx.send(());
        for t in tablets {
            t.abort();
        }
        // Restart: rebuild the state from everything this run wrote.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t0 = Instant::now();
        let store = dispatch::store::Store::open(&db).await.expect("store");
        let events = store.last_seq().await.expect("last seq");
        let config = dispatch::state::ServiceConfig::default();
        let state = dispatch::state::AppState::open(router.clone(), config, store)
            .await
            .expect("restore");
        let took = t0.elapsed();
        let core = state.core().await;
        println!(
            "  restart: {events} log entries replayed in {:.2} s ({:.0} entries/s), {} crews and {} calls restored",
            took.as_secs_f64(),
            events as f64 / took.as_secs_f64(),
            core.crews().count(),
            core.calls().count(),
        );
    });
}

/// Group commits and the changes they stored so far, from `/metrics`.
async fn commit_counts(http: &reqwest::Client, base: &str) -> (f64, f64) {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let read = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    (
        read("dispatch_commit_seconds_count"),
        read("dispatch_changes_total"),
    )
}

/// What the reading console saw.
#[derive(Debug, Clone, Default)]
struct Watch {
    /// The last `seq` read.
    last: u64,
    /// Entries read (each new `seq` once).
    read: u64,
    /// Entries received again (a `seq` not above the last).
    repeated: u64,
    /// Times the service closed it and it resumed with `?since=`.
    resumes: u64,
}

/// A console reading every event, resuming with `?since=` whenever it is closed; a `seq`
/// that skips ahead is counted missing by the caller (read < last).
async fn read_console(addr: std::net::SocketAddr, watch: Arc<Mutex<Watch>>) {
    loop {
        let since = watch.lock().unwrap().last;
        let url = format!("ws://{addr}/ws/console?token=bench-dispatcher&since={since}");
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        while let Some(Ok(msg)) = socket.next().await {
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                if let Some(seq) = v["seq"].as_u64() {
                    let mut w = watch.lock().unwrap();
                    if seq <= w.last {
                        w.repeated += 1;
                    } else {
                        w.read += 1;
                        w.last = seq;
                    }
                }
            }
        }
        watch.lock().unwrap().resumes += 1;
    }
}

/// The process's resident memory, MiB (Linux; NaN elsewhere).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
