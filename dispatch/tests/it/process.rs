//! `dispatch serve` as a real child process (for `kill -9`, SIGSTOP and several instances on
//! one database), and reading a console's log from one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{data, next_json, ws, ADMIN, CREW_A1, DISPATCHER};

/// `dispatch serve` running as a child process.
pub struct Service {
    pub child: Child,
    pub base: String,
    /// What it printed before it listened (the map, the store, what was restored).
    pub started: Vec<String>,
}

impl Service {
    /// Starts the binary on the bundled Heidelberg map with its state in `db_url`, and waits
    /// until it listens.
    pub fn start(db_url: &str, dir: &Path) -> Service {
        Service::start_with(db_url, dir, &[])
    }

    /// Like [`Service::start`], with further arguments.
    pub fn start_with(db_url: &str, dir: &Path, args: &[&str]) -> Service {
        let tokens = dir.join("tokens.toml");
        std::fs::write(
            &tokens,
            format!(
                "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"{ADMIN}\" = \"admin\"\n\"{CREW_A1}\" = \"crew:A1\"\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dispatch"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db_url])
            .arg("--map")
            .arg(data("heidelberg.osm.pbf"))
            .arg("--tokens")
            .arg(&tokens)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut started = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("the service printed its address before exiting")
                .unwrap();
            if let Some(rest) = line.strip_prefix("listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            started.push(line);
        };
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Service {
            child,
            base,
            started,
        }
    }

    /// Sends a signal (`STOP`, `CONT`) to the process.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// A clean stop: SIGTERM, then waits for the process to end, which it must do by itself
    /// with success.
    pub fn stop(mut self) {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a clean stop: {status}");
    }

    /// The start-up line that says what the state was restored from.
    pub fn restored(&self) -> &str {
        self.started
            .iter()
            .find(|l| l.contains(" restored from "))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no restore line in {:?}", self.started))
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every console entry from `since` on, until none comes for a while.
pub async fn console_log(base: &str, since: u64) -> Vec<Value> {
    let mut console = ws(
        base,
        &format!("/ws/console?token={DISPATCHER}&since={since}"),
    )
    .await;
    let mut out = Vec::new();
    while let Ok(e) =
        tokio::time::timeout(Duration::from_millis(700), next_json(&mut console)).await
    {
        out.push(e);
    }
    out
}

/// An entry without what differs between a live push and a read from the log (the route
/// geometry is computed when an assignment is sent, not stored).
pub fn comparable(e: &Value) -> Value {
    let mut e = e.clone();
    if let Some(route) = e.get_mut("route").and_then(Value::as_object_mut) {
        route.remove("geometry");
    }
    e
}

/// Entries numbered `from`, `from + 1`, … with no gap and no repeat.
pub fn assert_gapless(log: &[Value], from: u64) {
    for (i, e) in log.iter().enumerate() {
        assert_eq!(
            e["seq"].as_u64(),
            Some(from + i as u64),
            "no gap, no repeat: {e}"
        );
    }
}
