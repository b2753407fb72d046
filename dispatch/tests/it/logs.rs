//! Secrets never reach the logs: the service binary, logging at `trace` (every crate), is
//! sent tokens in `?token=` (REST and websockets, good and bad) and in `Authorization`, and
//! none of them appears in what it prints, in the text log and in the JSON log
//! (`--log-format json`, whose every line on standard error is a JSON object).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{data, ADMIN, CREW_A1, DISPATCHER};

/// What the service printed on standard output and standard error.
struct Printed {
    stdout: String,
    stderr: String,
}

#[tokio::test]
async fn tokens_never_reach_the_logs_even_at_trace_level() {
    let printed = run_and_send_tokens(&[]).await;
    let printed = format!("{}{}", printed.stdout, printed.stderr);
    assert!(
        printed.contains("/api/calls") || printed.contains("request"),
        "the log at trace level shows the requests: {}",
        &printed[..printed.len().min(2000)]
    );
    assert_no_token(&printed);
}

#[tokio::test]
async fn the_json_log_is_one_object_a_line_and_holds_no_token() {
    let printed = run_and_send_tokens(&["--log-format", "json"]).await;
    let mut requests = 0;
    let mut lines = 0;
    for line in printed.stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        lines += 1;
        for key in ["timestamp", "level", "target"] {
            assert!(v[key].is_string(), "no {key}: {line}");
        }
        assert!(v["fields"].is_object(), "no fields: {line}");
        if v["span"]["name"] == "request" {
            requests += 1;
            assert!(v["span"]["path"].is_string(), "{line}");
        }
    }
    assert!(lines > 10, "{lines} JSON lines: {}", printed.stderr);
    assert!(requests > 0, "no line in a request's span");
    // What an operator reads on standard output stays as it was.
    assert!(
        printed.stdout.contains("listening on"),
        "{}",
        printed.stdout
    );
    assert_no_token(&format!("{}{}", printed.stdout, printed.stderr));
}

/// No token of the test is in `printed`.
fn assert_no_token(printed: &str) {
    for token in [DISPATCHER, ADMIN, CREW_A1, WRONG] {
        assert!(
            !printed.contains(token),
            "a token is in the log: {}",
            printed
                .lines()
                .filter(|l| l.contains(token))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// A token no one has.
const WRONG: &str = "not-a-token-but-secret-looking-0123";

/// Runs the service (with `args`) logging at `trace`, sends it tokens every way, and
/// returns what it printed.
async fn run_and_send_tokens(args: &[&str]) -> Printed {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"{ADMIN}\" = \"admin\"\n\"{CREW_A1}\" = \"crew:A1\"\n"
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &db])
        .arg("--map")
        .arg(data("heidelberg.osm.pbf"))
        .arg("--tokens")
        .arg(&tokens)
        .args(args)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = BufReader::new(child.stdout.take().unwrap());
    let err = BufReader::new(child.stderr.take().unwrap());
    for (stream, tx, printed) in [
        (Box::new(out) as Box<dyn BufRead + Send>, Some(tx), &stdout),
        (Box::new(err), None, &stderr),
    ] {
        let printed = printed.clone();
        std::thread::spawn(move || {
            for line in stream.lines().map_while(Result::ok) {
                if let (Some(tx), Some(rest)) = (&tx, line.strip_prefix("listening on ")) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap().to_string());
                }
                let mut p = printed.lock().unwrap();
                p.push_str(&line);
                p.push('\n');
            }
        });
    }
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service printed its address");
    let http = reqwest::Client::new();
    for token in [DISPATCHER, CREW_A1, WRONG] {
        let _ = http
            .get(format!("{base}/api/calls?token={token}"))
            .send()
            .await
            .unwrap();
        let _ = http
            .get(format!("{base}/api/crews"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let ws = format!(
            "{}/ws/console?token={token}&since=0",
            base.replace("http://", "ws://")
        );
        if let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws).await {
            let _ = socket.close(None).await;
        }
    }
    let r = http
        .post(format!("{base}/api/crews?token={DISPATCHER}"))
        .json(&json!({"id": "A1", "lat": 49.4093, "lon": 8.6937}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stdout = stdout.lock().unwrap().clone();
    let stderr = stderr.lock().unwrap().clone();
    Printed { stdout, stderr }
}
