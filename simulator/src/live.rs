//! Live mode: drives a running dispatch service through its public API only — the load
//! generator of the dispatch benchmark and a rehearsal tool for a dispatch centre.
//!
//! * The crews are created with `POST /api/crews` at their stations (ids with a prefix, so
//!   a rehearsal does not collide with real crews).
//! * Each crew's tablet opens `/ws/crews/{id}`. On an `assignment` it waits the call's
//!   turnout, reports `en_route`, drives the route it was sent (the `route.geometry` of the
//!   message) at simulated speed, reporting its position every `report_s` simulated
//!   seconds (but at most [`MAX_REPORTS_PER_WALL_SECOND`] times a wall-clock second: the
//!   service closes a tablet that sends more than 10 messages a second), reports `on_scene`, stays the call's time on scene, and then either asks the
//!   service for the hospital it reaches soonest (`GET /api/crews/{id}/hospital`) and reports
//!   `transporting`, `at_hospital` (after the service's ETA), records the handover
//!   (`POST /api/calls/{id}/handover`: the hospital, made-up vitals and a diagnosis) and
//!   reports `available` after the handover time, or reports `available` at once. Free, it drives back to its station. The
//!   drives to the hospital and home follow the route the service's own router gives
//!   (`GET /route/v1/driving/...`, as a tablet's navigation would ask for); if that fails,
//!   a straight line at 40 km/h (counted). A `crew_released` message stops it where it is.
//! * The 112 calls are posted (`POST /api/calls`) at their simulated times.
//!
//! Simulated time runs `speed` times faster than the wall clock. What is measured: the
//! wall-clock latency from posting a call to its assignment arriving on the chosen crew's
//! tablet, and the simulated response times (call to the tablet reporting `on_scene`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::calls::CallSpec;
use crate::engine::World;
use crate::error::SimError;
use crate::stats::Distribution;

/// Settings of a live run.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The service, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// A dispatcher or admin token (it also acts for the crews' tablets).
    pub token: String,
    /// Simulated seconds per wall-clock second.
    pub speed: f64,
    /// Tablets report their position this often (simulated seconds).
    pub report_s: f64,
    /// Prefix of the crew ids created.
    pub crew_prefix: String,
    /// After the last call, wait at most this long (simulated seconds) for crews to finish.
    pub drain_s: f64,
    /// The map's addresses: each call is posted with the nearest mapped house within
    /// [`ADDRESS_WITHIN_M`] as its address (line and parts), as a call taker would confirm
    /// it; `None` posts the point only.
    pub addresses: Option<Arc<osm_data::address::AddressIndex>>,
}

/// How near a mapped house must be to a call's point to be given as its address (metres).
pub const ADDRESS_WITHIN_M: f64 = 60.0;

/// The body of `POST /api/calls` for a call: its point and priority, and the nearest house
/// (see [`LiveOptions::addresses`]).
fn call_body(c: &CallSpec, addresses: Option<&osm_data::address::AddressIndex>) -> Value {
    let mut body = json!({"lat": c.lat, "lon": c.lon, "priority": c.priority});
    let house = addresses
        .and_then(|index| index.nearest(c.lat, c.lon))
        .filter(|m| m.kind == osm_data::address::MatchKind::Address)
        .filter(|m| {
            osm_data::haversine_m(
                osm_data::Coord::from_degrees(c.lat, c.lon),
                osm_data::Coord::from_degrees(m.lat, m.lon),
            ) <= ADDRESS_WITHIN_M
        });
    if let Some(m) = house {
        let a = &m.address;
        body["address"] = json!(m.display);
        body["place"] = json!({
            "street": a.street, "housenumber": a.housenumber, "block": a.block,
            "building": a.building, "entrance": a.entrance, "city": a.city,
        });
    }
    body
}

/// Position reports a tablet sends per wall-clock second at most, whatever the speed: well
/// under the service's limit of 10 messages a second per tablet, leaving room for statuses.
pub const MAX_REPORTS_PER_WALL_SECOND: f64 = 4.0;

/// What a live run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveReport {
    /// Crews created and connected.
    pub crews: usize,
    /// Calls posted.
    pub calls_posted: usize,
    /// Calls the service refused (e.g. off its map).
    pub calls_refused: usize,
    /// Calls whose assignment reached a tablet.
    pub assigned_on_tablet: usize,
    /// Wall-clock milliseconds from posting a call to its assignment on the crew's tablet
    /// (`mean`, `p50`, `p90`, `p95`, `max` in this unit).
    pub assignment_latency_ms: Distribution,
    /// Simulated seconds from a call to its crew reporting `on_scene`.
    pub response_s: Distribution,
    /// Messages the service answered with an error, and failed requests.
    pub errors: usize,
    /// Drives to a hospital or home along the route the service gave.
    pub routed_drives: usize,
    /// Drives to a hospital or home in a straight line, the route request having failed.
    pub straight_drives: usize,
    /// Handovers recorded at a hospital.
    pub handovers: usize,
}

#[derive(Default)]
struct Shared {
    /// Server call id → (index in the stream, when it was posted).
    posted: HashMap<u64, (usize, Instant)>,
    /// Server call id → when its assignment reached a tablet (first one).
    assigned: HashMap<u64, Instant>,
    /// Server call id → simulated ms when its crew reported on scene.
    on_scene: HashMap<u64, i64>,
    errors: usize,
    /// Crews busy with a call.
    busy: usize,
    routed: usize,
    straight: usize,
    handovers: usize,
}

/// A clock of simulated time.
#[derive(Clone, Copy)]
struct Clock {
    t0: Instant,
    speed: f64,
}

impl Clock {
    fn now_ms(&self) -> i64 {
        (self.t0.elapsed().as_secs_f64() * self.speed * 1000.0) as i64
    }
    fn instant_of(&self, sim_ms: i64) -> Instant {
        self.t0 + Duration::from_secs_f64(sim_ms.max(0) as f64 / 1000.0 / self.speed)
    }
    async fn sleep_until(&self, sim_ms: i64) {
        tokio::time::sleep_until(self.instant_of(sim_ms).into()).await;
    }
}

fn live_err(what: &str, e: impl std::fmt::Display) -> SimError {
    SimError::Live(format!("{what}: {e}"))
}

/// Runs the live mode on the stations of `world` and the calls `calls`.
pub fn run_live(
    world: &World,
    calls: &[CallSpec],
    opts: &LiveOptions,
) -> Result<LiveReport, SimError> {
    if !(opts.speed.is_finite() && opts.speed > 0.0) {
        return Err(SimError::setting("--speed", "must be a positive number"));
    }
    if !(opts.report_s.is_finite() && opts.report_s >= 0.1) {
        return Err(SimError::setting("--report-s", "must be at least 0.1 s"));
    }
    world.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| live_err("cannot start the runtime", e))?;
    rt.block_on(live(world, calls, opts))
}

async fn live(
    world: &World,
    calls: &[CallSpec],
    opts: &LiveOptions,
) -> Result<LiveReport, SimError> {
    let base = opts.server.trim_end_matches('/').to_string();
    let ws_base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        return Err(SimError::setting(
            "--server",
            "must start with http:// or https://",
        ));
    };
    let client = reqwest::Client::new();
    let auth = format!("Bearer {}", opts.token);
    let n = world.crew_station.len();
    let width = n.to_string().len().max(3);
    let ids: Vec<String> = (0..n)
        .map(|i| format!("{}{:0width$}", opts.crew_prefix, i + 1))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let st = &world.stations[world.crew_station[i]];
        let resp = client
            .post(format!("{base}/api/crews"))
            .header("authorization", &auth)
            .json(&json!({"id": id, "lat": st.lat, "lon": st.lon, "station": st.id}))
            .send()
            .await
            .map_err(|e| live_err("cannot reach the service", e))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(SimError::Live(format!(
                "creating crew {id} failed: {status} {body}"
            )));
        }
    }
    let shared = Arc::new(Mutex::new(Shared::default()));
    let clock = Clock {
        t0: Instant::now(),
        speed: opts.speed,
    };
    let calls = Arc::new(calls.to_vec());
    let mut tablets = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let st = &world.stations[world.crew_station[i]];
        let url = format!("{ws_base}/ws/crews/{id}?token={}", opts.token);
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| live_err(&format!("tablet of {id} cannot connect"), e))?;
        let t = Tablet {
            id: id.clone(),
            home: (st.lat, st.lon),
            at: (st.lat, st.lon),
            calls: calls.clone(),
            shared: shared.clone(),
            clock,
            report_ms: (opts.report_s.max(opts.speed / MAX_REPORTS_PER_WALL_SECOND) * 1000.0)
                as i64,
            client: client.clone(),
            base: base.clone(),
            auth: auth.clone(),
        };
        tablets.push(tokio::spawn(t.run(socket)));
    }
    // The calls.
    let mut report = LiveReport {
        crews: n,
        ..Default::default()
    };
    for (i, c) in calls.iter().enumerate() {
        clock.sleep_until(c.t).await;
        let sent = Instant::now();
        let resp = client
            .post(format!("{base}/api/calls"))
            .header("authorization", &auth)
            .json(&call_body(c, opts.addresses.as_deref()))
            .send()
            .await;
        report.calls_posted += 1;
        match resp {
            Ok(r) if r.status().is_success() => {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                match v.get("id").and_then(Value::as_u64) {
                    Some(id) => {
                        lock(&shared).posted.insert(id, (i, sent));
                    }
                    None => lock(&shared).errors += 1,
                }
            }
            Ok(_) => report.calls_refused += 1,
            Err(_) => lock(&shared).errors += 1,
        }
    }
    // Let the crews finish (or the drain time run out).
    let end = clock.now_ms() + (opts.drain_s * 1000.0) as i64;
    while clock.now_ms() < end && lock(&shared).busy > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for t in tablets {
        t.abort();
    }
    let s = lock(&shared);
    let mut latency = Vec::new();
    let mut response = Vec::new();
    for (id, (i, sent)) in &s.posted {
        if let Some(at) = s.assigned.get(id) {
            latency.push(at.saturating_duration_since(*sent).as_micros() as i64);
        }
        if let Some(&t) = s.on_scene.get(id) {
            response.push(t - calls[*i].t);
        }
    }
    report.assigned_on_tablet = latency.len();
    // Distribution::of_ms divides by 1000: microseconds come out in milliseconds.
    report.assignment_latency_ms = Distribution::of_ms(latency);
    report.response_s = Distribution::of_ms(response);
    report.errors = s.errors;
    report.routed_drives = s.routed;
    report.straight_drives = s.straight;
    report.handovers = s.handovers;
    Ok(report)
}

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// One step of a tablet's plan.
#[derive(Debug, Clone)]
enum Step {
    Status(&'static str),
    Position(f64, f64),
    /// Ask for the hospital, then drive there (or finish).
    Transport,
    /// Free again: drive home.
    Home,
    /// Record the handover at this hospital.
    Handover(String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Tablet {
    id: String,
    home: (f64, f64),
    at: (f64, f64),
    calls: Arc<Vec<CallSpec>>,
    shared: Arc<Mutex<Shared>>,
    clock: Clock,
    report_ms: i64,
    client: reqwest::Client,
    base: String,
    auth: String,
}

/// The `(lat, lon)` points of a GeoJSON line's `coordinates` (`[lon, lat]` pairs).
fn line_of(coordinates: Option<&Value>) -> Vec<(f64, f64)> {
    coordinates
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(1)?.as_f64()?, p.get(0)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Points every `report_ms` along a polyline driven in `duration_ms` from `start`.
fn along(line: &[(f64, f64)], start: i64, duration_ms: i64, report_ms: i64) -> Vec<(i64, Step)> {
    if line.len() < 2 || duration_ms <= 0 {
        return Vec::new();
    }
    let d = |a: (f64, f64), b: (f64, f64)| {
        osm_data::haversine_m(
            osm_data::Coord::from_degrees(a.0, a.1),
            osm_data::Coord::from_degrees(b.0, b.1),
        )
    };
    let cum: Vec<f64> = std::iter::once(0.0)
        .chain(line.windows(2).scan(0.0, |acc, w| {
            *acc += d(w[0], w[1]);
            Some(*acc)
        }))
        .collect();
    let total = cum[cum.len() - 1].max(1e-9);
    let mut out = Vec::new();
    let mut t = report_ms;
    while t < duration_ms {
        let x = total * t as f64 / duration_ms as f64;
        let i = cum.partition_point(|&c| c <= x).clamp(1, line.len() - 1);
        let seg = (cum[i] - cum[i - 1]).max(1e-9);
        let f = ((x - cum[i - 1]) / seg).clamp(0.0, 1.0);
        let (a, b) = (line[i - 1], line[i]);
        out.push((
            start + t,
            Step::Position(a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1)),
        ));
        t += report_ms;
    }
    out.push((
        start + duration_ms,
        Step::Position(line[line.len() - 1].0, line[line.len() - 1].1),
    ));
    out
}

impl Tablet {
    async fn send(&self, socket: &mut Socket, v: Value) -> bool {
        socket
            .send(Message::Text(v.to_string().into()))
            .await
            .is_ok()
    }

    /// Plans a straight drive from where it is to `to` at 40 km/h (when the service gives
    /// no route).
    fn straight(&self, now: i64, to: (f64, f64)) -> Vec<(i64, Step)> {
        let m = osm_data::haversine_m(
            osm_data::Coord::from_degrees(self.at.0, self.at.1),
            osm_data::Coord::from_degrees(to.0, to.1),
        );
        let ms = (m / (40.0 / 3.6) * 1000.0) as i64;
        along(&[self.at, to], now, ms, self.report_ms)
    }

    /// The fastest route from where the crew is to `to`, as the service's router gives it
    /// (OSRM's `/route/v1/driving`): its line and driving time (ms). Counted as a routed
    /// drive, or as a straight one when it fails (`None`).
    async fn route(&self, to: (f64, f64)) -> Option<(Vec<(f64, f64)>, i64)> {
        let path = format!(
            "/route/v1/driving/{},{};{},{}?overview=full&geometries=geojson",
            self.at.1, self.at.0, to.1, to.0
        );
        let asked = async {
            let v = self.get_json(&path).await?;
            let route = v.pointer("/routes/0")?;
            let ms = (route.get("duration")?.as_f64()? * 1000.0).round() as i64;
            let line = line_of(route.pointer("/geometry/coordinates"));
            (line.len() >= 2 || ms == 0).then_some((line, ms))
        };
        let got = asked.await;
        let mut s = lock(&self.shared);
        match got {
            Some(_) => s.routed += 1,
            None => s.straight += 1,
        }
        got
    }

    async fn run(mut self, mut socket: Socket) {
        let mut plan: Vec<(i64, Step)> = Vec::new();
        let mut call: Option<(u64, usize)> = None;
        loop {
            let next = plan.first().map(|(t, _)| *t);
            let wake = async {
                match next {
                    Some(t) => self.clock.sleep_until(t).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                msg = socket.next() => {
                    let Some(Ok(Message::Text(text))) = msg else {
                        if matches!(msg, None | Some(Err(_))) { return; }
                        continue;
                    };
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    match v.get("type").and_then(Value::as_str) {
                        Some("assignment") => {
                            let Some(cid) = v.pointer("/call/id").and_then(Value::as_u64) else { continue };
                            let now = self.clock.now_ms();
                            {
                                let mut s = lock(&self.shared);
                                s.assigned.entry(cid).or_insert_with(Instant::now);
                                if call.is_none() { s.busy += 1; }
                            }
                            let idx = lock(&self.shared).posted.get(&cid).map(|p| p.0);
                            let spec = idx.and_then(|i| self.calls.get(i));
                            let turnout = if plan.is_empty() { spec.map_or(60_000, |c| c.turnout_ms) } else { 0 };
                            call = Some((cid, idx.unwrap_or(usize::MAX)));
                            let eta_ms = v.pointer("/route/eta_s").and_then(Value::as_f64).unwrap_or(0.0) * 1000.0;
                            let line = line_of(v.pointer("/route/geometry/coordinates"));
                            let start = now + turnout;
                            plan = vec![(start, Step::Status("en_route"))];
                            plan.extend(along(&line, start, eta_ms as i64, self.report_ms));
                            plan.push((start + eta_ms as i64, Step::Status("on_scene")));
                            let on_scene = spec.map_or(1_200_000, |c| c.on_scene_ms);
                            plan.push((start + eta_ms as i64 + on_scene, Step::Transport));
                        }
                        Some("crew_released") if v.get("crew_id").and_then(Value::as_str) == Some(self.id.as_str()) => {
                            if call.take().is_some() { lock(&self.shared).busy -= 1; }
                            plan = vec![(self.clock.now_ms(), Step::Home)];
                        }
                        Some("error") => lock(&self.shared).errors += 1,
                        _ => {}
                    }
                }
                _ = wake => {
                    let (_, step) = plan.remove(0);
                    let now = self.clock.now_ms();
                    let ok = match step {
                        Step::Position(lat, lon) => {
                            self.at = (lat, lon);
                            self.send(&mut socket, json!({"type": "position", "lat": lat, "lon": lon})).await
                        }
                        Step::Status(s) => {
                            if s == "on_scene" {
                                if let Some((cid, _)) = call {
                                    lock(&self.shared).on_scene.entry(cid).or_insert(now);
                                }
                            }
                            if s == "available" {
                                if call.take().is_some() { lock(&self.shared).busy -= 1; }
                                plan = vec![(now, Step::Home)];
                            }
                            self.send(&mut socket, json!({"type": "status", "status": s})).await
                        }
                        Step::Transport => {
                            let spec = call.and_then(|(_, i)| self.calls.get(i));
                            let hospital = if spec.is_some_and(|c| c.transport) {
                                self.hospital().await
                            } else {
                                None
                            };
                            match hospital {
                                Some((to, name, eta_ms)) => {
                                    let handover = spec.map_or(900_000, |c| c.handover_ms);
                                    // At the service's ETA, along its route.
                                    let line = match self.route(to).await {
                                        Some((line, _)) => line,
                                        None => vec![self.at, to],
                                    };
                                    plan = along(&line, now, eta_ms, self.report_ms);
                                    plan.push((now + eta_ms, Step::Status("at_hospital")));
                                    plan.push((now + eta_ms + handover / 2, Step::Handover(name)));
                                    plan.push((now + eta_ms + handover, Step::Status("available")));
                                    self.send(&mut socket, json!({"type": "status", "status": "transporting"})).await
                                }
                                None => {
                                    plan = vec![(now, Step::Status("available"))];
                                    true
                                }
                            }
                        }
                        Step::Handover(hospital) => {
                            if let Some((cid, _)) = call {
                                if self.handover(cid, &hospital).await {
                                    lock(&self.shared).handovers += 1;
                                } else {
                                    lock(&self.shared).errors += 1;
                                }
                            }
                            true
                        }
                        Step::Home => {
                            plan = match self.route(self.home).await {
                                Some((line, ms)) => along(&line, now, ms, self.report_ms),
                                None => self.straight(now, self.home),
                            };
                            true
                        }
                    };
                    if !ok {
                        return;
                    }
                }
            }
        }
    }

    /// `GET` a path of the service with the run's token: the JSON it answered, if it
    /// answered with success.
    async fn get_json(&self, path: &str) -> Option<Value> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    /// The hospital the service says this crew reaches soonest: its entrance, its name and
    /// the ETA (ms).
    async fn hospital(&self) -> Option<((f64, f64), String, i64)> {
        let v = self
            .get_json(&format!("/api/crews/{}/hospital", self.id))
            .await?;
        let h = v.get("hospital")?;
        let lat = h.pointer("/position/lat")?.as_f64()?;
        let lon = h.pointer("/position/lon")?.as_f64()?;
        let name = h.get("name").and_then(Value::as_str).unwrap_or_default();
        let eta = v.get("eta_s")?.as_f64()?;
        Some(((lat, lon), name.to_string(), (eta * 1000.0) as i64))
    }

    /// Records the handover of call `cid` at `hospital`: vitals and a diagnosis made up from
    /// the call id (plausible, not random: a rehearsal is repeatable). Whether it was taken.
    async fn handover(&self, cid: u64, hospital: &str) -> bool {
        let k = (cid % 7) as f64;
        let (diagnosis, notes) = [
            ("I21.9", "chest pain, ECG taken"),
            ("I63.9", "suspected stroke, FAST positive"),
            ("S72.0", "fall, hip fracture suspected"),
            ("J18.9", "fever and shortness of breath"),
        ][(cid % 4) as usize];
        let body = json!({
            "hospital": if hospital.is_empty() { "hospital" } else { hospital },
            "vitals": {
                "heart_rate": 70.0 + 6.0 * k,
                "systolic_bp": 115.0 + 5.0 * k,
                "diastolic_bp": 70.0 + 2.0 * k,
                "spo2": 99.0 - k,
                "respiratory_rate": 14.0 + k,
                "gcs": 15 - (cid % 3) as u8,
            },
            "diagnosis_icd10": diagnosis,
            "notes": notes,
        });
        self.client
            .post(format!("{}/api/calls/{cid}/handover", self.base))
            .header("authorization", &self.auth)
            .json(&body)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_spread_along_the_route_in_time() {
        // Two legs of about 1.1 km each (0.01° of latitude), driven in 100 s.
        let line = [(49.40, 8.69), (49.41, 8.69), (49.42, 8.69)];
        let steps = along(&line, 1_000, 100_000, 25_000);
        let pts: Vec<(i64, f64, f64)> = steps
            .iter()
            .map(|(t, s)| match s {
                Step::Position(lat, lon) => (*t, *lat, *lon),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(pts.len(), 4);
        assert_eq!(
            pts.iter().map(|p| p.0).collect::<Vec<_>>(),
            [26_000, 51_000, 76_000, 101_000]
        );
        assert!((pts[0].1 - 49.405).abs() < 1e-4, "{pts:?}");
        assert!((pts[1].1 - 49.41).abs() < 1e-4, "{pts:?}");
        assert_eq!((pts[3].1, pts[3].2), (49.42, 8.69));
        assert!(along(&line[..1], 0, 100, 10).is_empty());
    }

    #[test]
    fn the_clock_runs_at_the_given_speed() {
        let c = Clock {
            t0: Instant::now(),
            speed: 60.0,
        };
        assert_eq!(c.instant_of(60_000) - c.t0, Duration::from_secs(1));
        assert!(c.now_ms() < 60_000);
    }
}
