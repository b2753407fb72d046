//! The files of a run in `--out DIR`: `summary.json` ([`crate::stats::Summary`]) and
//! `calls.csv`, one row per call with all its times (seconds from the start of the run,
//! millisecond precision) and the crew. Both are byte-identical for the same inputs and
//! seed: fields in a fixed order, numbers formatted without the wall clock or locale.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::{CallOutcome, RunResult};
use crate::error::SimError;
use crate::stats::Summary;

/// The header of `calls.csv`.
pub const CALLS_HEADER: &str = "id,priority,lat,lon,received_s,assigned_s,en_route_s,on_scene_s,left_scene_s,at_hospital_s,handover_s,available_s,response_s,queue_s,crew,hospital,outcome,dispatches";

fn secs(ms: Option<i64>) -> String {
    match ms {
        None => String::new(),
        Some(ms) => {
            let sign = if ms < 0 { "-" } else { "" };
            let a = ms.unsigned_abs();
            format!("{sign}{}.{:03}", a / 1000, a % 1000)
        }
    }
}

/// `calls.csv` as text.
pub fn calls_csv(r: &RunResult) -> String {
    let mut s = String::with_capacity(r.calls.len() * 160 + 256);
    s.push_str(CALLS_HEADER);
    s.push('\n');
    for c in &r.calls {
        let outcome = match c.outcome {
            CallOutcome::Served => "served",
            CallOutcome::NeverServed => "never_served",
            CallOutcome::OffMap => "off_map",
        };
        let _ = writeln!(
            s,
            "{},{},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.id,
            c.priority.as_str(),
            c.lat,
            c.lon,
            secs(Some(c.received)),
            secs(c.assigned),
            secs(c.en_route),
            secs(c.on_scene),
            secs(c.left_scene),
            secs(c.at_hospital),
            secs(c.handover),
            secs(c.available),
            secs(c.response_ms()),
            secs(c.queue_ms()),
            c.crew.as_deref().unwrap_or(""),
            c.hospital.as_deref().unwrap_or(""),
            outcome,
            c.decisions,
        );
    }
    s
}

/// Writes a file, creating its directory.
pub fn write(path: &Path, text: &str) -> Result<(), SimError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SimError::io("create", dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| SimError::io("write", path, e))
}

/// `summary.json` as text (pretty, with a final newline).
pub fn summary_json(summary: &Summary) -> Result<String, SimError> {
    serde_json::to_string_pretty(summary)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| SimError::Output {
            path: "summary.json".into(),
            cause: e.to_string(),
        })
}

/// Writes `summary.json` and `calls.csv` into `dir`.
pub fn write_run(dir: &Path, r: &RunResult) -> Result<Summary, SimError> {
    let summary = Summary::of(r);
    write(&dir.join("summary.json"), &summary_json(&summary)?)?;
    write(&dir.join("calls.csv"), &calls_csv(r))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_milliseconds() {
        assert_eq!(secs(Some(61_005)), "61.005");
        assert_eq!(secs(Some(-1_500)), "-1.500");
        assert_eq!(secs(None), "");
    }
}
