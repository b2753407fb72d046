//! `GET /metrics` against the live service: the text is read by a small parser of the
//! Prometheus text format written here (not the exporter's), and each value is checked
//! against what the test did: calls queued and assigned, commits, log entries, websockets.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{
    client, get, post, shared_router, start_on, ws, TestDb, ADMIN, CREW_A1, DISPATCHER,
};

/// One sample: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape: the samples and the `# TYPE` of each metric family.
#[derive(Debug)]
pub(crate) struct Scrape {
    samples: Vec<Sample>,
    types: HashMap<String, String>,
}

/// Parses the text exposition format (0.0.4): `# HELP`/`# TYPE` lines, then samples
/// `name{label="value",...} value` with `\\`, `\"` and `\n` escapes in label values.
fn parse(text: &str) -> Scrape {
    let mut samples = Vec::new();
    let mut types = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("a sample line: {line}"));
        let name = line[..name_end].to_string();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices().peekable();
            let mut end = None;
            loop {
                // A label name up to '=', or the closing brace.
                let mut key = String::new();
                loop {
                    let (i, c) = chars.next().unwrap_or_else(|| panic!("labels: {line}"));
                    match c {
                        '}' => {
                            end = Some(i);
                            break;
                        }
                        '=' => break,
                        ',' if key.is_empty() => {}
                        c => key.push(c),
                    }
                }
                if end.is_some() {
                    break;
                }
                assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                let mut value = String::new();
                loop {
                    let (_, c) = chars.next().unwrap_or_else(|| panic!("a value: {line}"));
                    match c {
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('n') => value.push('\n'),
                            Some(c) => value.push(c),
                            None => panic!("an escape: {line}"),
                        },
                        '"' => break,
                        c => value.push(c),
                    }
                }
                labels.insert(key, value);
            }
            rest = &inner[end.expect("closed labels") + 1..];
        }
        let value = rest.split_whitespace().next().expect("a value");
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("a number: {line}")),
        };
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    Scrape { samples, types }
}

impl Scrape {
    /// The value of `name` with exactly `labels`; panics when it is missing.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in the scrape"))
            .value
    }

    /// Every sample of `name`.
    fn all(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// Checks a histogram: buckets cumulative and ending at +Inf with the count; returns
    /// the count.
    pub(crate) fn histogram(&self, name: &str) -> f64 {
        assert_eq!(
            self.types.get(name).map(String::as_str),
            Some("histogram"),
            "{name}"
        );
        let mut buckets: Vec<(f64, f64)> = self
            .all(&format!("{name}_bucket"))
            .iter()
            .map(|s| {
                let le = &s.labels["le"];
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (le, s.value)
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(buckets.len() >= 2, "{name}: buckets {buckets:?}");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{name}: cumulative buckets {buckets:?}"
        );
        let count = self.value(&format!("{name}_count"), &[]);
        assert_eq!(buckets.last(), Some(&(f64::INFINITY, count)), "{name}");
        let sum = self.value(&format!("{name}_sum"), &[]);
        assert!(sum >= 0.0 && (count > 0.0 || sum == 0.0), "{name}: {sum}");
        count
    }
}

/// Scrapes `/metrics` with no token.
pub(crate) async fn scrape(base: &str) -> Scrape {
    let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    parse(&r.text().await.unwrap())
}

/// Scrapes until `check` holds (a websocket closing is noticed by the service a moment
/// later), for at most 10 s.
async fn scrape_until(base: &str, what: &str, check: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = scrape(base).await;
        if check(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const STATUSES: [&str; 8] = [
    "queued",
    "assigned",
    "en_route",
    "on_scene",
    "transporting",
    "at_hospital",
    "completed",
    "cancelled",
];
const PRIORITIES: [&str; 3] = ["emergency", "urgent", "non_urgent"];

/// `dispatch_calls` equals the calls the API lists, by status and priority.
fn assert_calls_match(m: &Scrape, calls: &Value) {
    let mut listed: HashMap<(String, String), f64> = HashMap::new();
    for c in calls.as_array().unwrap() {
        let key = (
            c["status"].as_str().unwrap().to_string(),
            c["priority"].as_str().unwrap().to_string(),
        );
        *listed.entry(key).or_default() += 1.0;
    }
    assert_eq!(
        m.all("dispatch_calls").len(),
        STATUSES.len() * PRIORITIES.len()
    );
    for status in STATUSES {
        for priority in PRIORITIES {
            let want = listed
                .get(&(status.to_string(), priority.to_string()))
                .copied()
                .unwrap_or(0.0);
            assert_eq!(
                m.value(
                    "dispatch_calls",
                    &[("priority", priority), ("status", status)]
                ),
                want,
                "{status} {priority}"
            );
        }
    }
}

async fn metrics_follow_what_the_service_does(db: TestDb) {
    let s = start_on(shared_router("heidelberg"), db).await;
    let base = &s.base;
    let c = client(DISPATCHER);

    let m = scrape(base).await;
    assert_eq!(m.value("dispatch_queue_length", &[]), 0.0);
    assert_eq!(m.value("dispatch_queue_oldest_wait_seconds", &[]), 0.0);
    assert_eq!(m.value("dispatch_events_total", &[]), 0.0);
    assert_eq!(m.value("dispatch_role", &[("role", "leader")]), 1.0);
    assert_eq!(m.value("dispatch_role", &[("role", "standby")]), 0.0);
    assert_eq!(m.value("dispatch_epoch", &[]), 0.0);
    assert_eq!(m.value("dispatch_standby_lag_events", &[]), 0.0);
    assert_eq!(m.histogram("dispatch_commit_seconds"), 0.0);
    for kind in ["console", "crew"] {
        assert_eq!(
            m.value("dispatch_websocket_clients", &[("kind", kind)]),
            0.0
        );
    }
    assert_calls_match(&m, &json!([]));
    for (name, kind) in [
        ("dispatch_calls", "gauge"),
        ("dispatch_events_total", "counter"),
        ("dispatch_decision_seconds", "histogram"),
    ] {
        assert_eq!(m.types.get(name).map(String::as_str), Some(kind), "{name}");
    }

    // Three calls and no crew: all three wait.
    let started = Instant::now();
    let mut changes = 0;
    for (priority, phone) in [
        ("emergency", "+49 6221 555 0101"),
        ("urgent", "+49 6221 555 0102"),
        ("urgent", "+49 6221 555 0103"),
    ] {
        let (code, v) = post(
            &c,
            format!("{base}/api/calls"),
            json!({"lat": 49.41, "lon": 8.70, "priority": priority, "phone": phone,
                   "complaint": "Brustschmerz seit einer Stunde", "address": "Hauptstraße 120"}),
        )
        .await;
        assert_eq!(code, 201, "{v}");
        changes += 1;
    }
    let m = scrape(base).await;
    assert_eq!(m.value("dispatch_queue_length", &[]), 3.0);
    let waited = m.value("dispatch_queue_oldest_wait_seconds", &[]);
    assert!(
        (0.0..=started.elapsed().as_secs_f64() + 1.0).contains(&waited),
        "oldest wait {waited}"
    );
    assert_calls_match(&m, &get(&c, format!("{base}/api/calls")).await);
    assert_eq!(
        m.value(
            "dispatch_calls",
            &[("priority", "urgent"), ("status", "queued")]
        ),
        2.0
    );
    let commits = m.histogram("dispatch_commit_seconds");
    assert!(commits >= f64::from(changes), "{commits} commits");
    assert!(m.histogram("dispatch_decision_seconds") >= commits);
    assert_eq!(
        m.value("dispatch_events_total", &[]),
        s.state.0.hub.last_seq() as f64
    );

    // A crew takes the emergency: two left in the queue.
    let (code, v) = post(
        &client(ADMIN),
        format!("{base}/api/crews"),
        json!({"id": "A1", "lat": 49.4093, "lon": 8.6937}),
    )
    .await;
    assert_eq!(code, 201, "{v}");
    changes += 1;
    let m = scrape(base).await;
    assert_eq!(m.value("dispatch_queue_length", &[]), 2.0);
    let calls = get(&c, format!("{base}/api/calls")).await;
    assert_calls_match(&m, &calls);
    assert_eq!(
        m.value(
            "dispatch_calls",
            &[("priority", "emergency"), ("status", "assigned")]
        ),
        1.0,
        "{calls}"
    );
    assert!(m.histogram("dispatch_commit_seconds") >= f64::from(changes));
    assert_eq!(
        m.value("dispatch_events_total", &[]),
        s.state.0.hub.last_seq() as f64
    );
    assert_eq!(m.value("dispatch_commit_failures_total", &[]), 0.0);

    // A waiting call cancelled: one left in the queue, one closed call counted.
    let waiting = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["status"] == "queued")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let (code, v) = post(
        &c,
        format!("{base}/api/calls/{waiting}/cancel"),
        json!({"reason": "called back: not needed"}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    changes += 1;
    let m = scrape(base).await;
    assert_eq!(m.value("dispatch_queue_length", &[]), 1.0);
    assert_calls_match(&m, &get(&c, format!("{base}/api/calls")).await);
    assert_eq!(
        m.value(
            "dispatch_calls",
            &[("priority", "urgent"), ("status", "cancelled")]
        ),
        1.0
    );
    assert!(m.histogram("dispatch_commit_seconds") >= f64::from(changes));

    // Websockets: a console and a tablet open, then closed.
    let mut console = ws(base, &format!("/ws/console?token={DISPATCHER}&since=0")).await;
    let mut tablet = ws(base, &format!("/ws/crews/A1?token={CREW_A1}")).await;
    scrape_until(base, "a console and a tablet open", |m| {
        m.value("dispatch_websocket_clients", &[("kind", "console")]) == 1.0
            && m.value("dispatch_websocket_clients", &[("kind", "crew")]) == 1.0
    })
    .await;
    console.close(None).await.unwrap();
    scrape_until(base, "the console closed", |m| {
        m.value("dispatch_websocket_clients", &[("kind", "console")]) == 0.0
            && m.value("dispatch_websocket_clients", &[("kind", "crew")]) == 1.0
    })
    .await;
    drop(tablet.close(None).await);
    drop(tablet);
    let m = scrape_until(base, "the tablet closed", |m| {
        m.value("dispatch_websocket_clients", &[("kind", "crew")]) == 0.0
    })
    .await;

    // No secrets, nothing of the patient: the tokens, the caller's phone, the complaint
    // and the address are nowhere in the text.
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in [
        DISPATCHER,
        ADMIN,
        CREW_A1,
        "555 0101",
        "Brustschmerz",
        "Hauptstraße",
    ] {
        assert!(!text.contains(secret), "{secret} in /metrics");
    }
    assert!(m.samples.iter().all(|s| s.name.starts_with("dispatch_")));
}

crate::on_both_stores!(metrics_follow_what_the_service_does);

#[test]
fn the_parser_reads_labels_escapes_and_infinities() {
    let m = parse(
        "# HELP x_seconds A \"help\".\n# TYPE x_seconds histogram\n\
         x_seconds_bucket{le=\"0.5\"} 1\nx_seconds_bucket{le=\"+Inf\"} 2\n\
         x_seconds_sum 0.75\nx_seconds_count 2\n\
         y{a=\"1\",b=\"q\\\"u\\\\o\\nte\"} -3.5e-1\nz 7\n",
    );
    assert_eq!(m.histogram("x_seconds"), 2.0);
    assert_eq!(m.value("y", &[("a", "1"), ("b", "q\"u\\o\nte")]), -0.35);
    assert_eq!(m.value("z", &[]), 7.0);
}
