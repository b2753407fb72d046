//! The files of a run in `--out DIR`: `summary.json` ([`crate::stats::Summary`]) and
//! `calls.csv`, one row per call with all its times (seconds from the start of the run,
//! millisecond precision) and the crew. Both are byte-identical for the same inputs and
//! seed: fields in a fixed order, numbers formatted without the wall clock or locale.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::engine::{CallOutcome, CallRecord, RunResult};
use crate::error::SimError;
use crate::stats::Summary;

/// The header of `calls.csv`.
pub const CALLS_HEADER: &str = "id,priority,lat,lon,received_s,assigned_s,en_route_s,on_scene_s,left_scene_s,at_hospital_s,handover_s,available_s,response_s,queue_s,crew,hospital,outcome,dispatches";

/// Appends a time in seconds with milliseconds (nothing for `None`).
fn push_secs(s: &mut String, ms: Option<i64>) {
    if let Some(ms) = ms {
        let sign = if ms < 0 { "-" } else { "" };
        let a = ms.unsigned_abs();
        let _ = write!(s, "{sign}{}.{:03}", a / 1000, a % 1000);
    }
}

/// Appends one row of `calls.csv` (with its newline).
fn push_row(s: &mut String, c: &CallRecord) {
    let outcome = match c.outcome {
        CallOutcome::Served => "served",
        CallOutcome::NeverServed => "never_served",
        CallOutcome::OffMap => "off_map",
    };
    let _ = write!(
        s,
        "{},{},{:.6},{:.6},",
        c.id,
        c.priority.as_str(),
        c.lat,
        c.lon
    );
    for t in [
        Some(c.received),
        c.assigned,
        c.en_route,
        c.on_scene,
        c.left_scene,
        c.at_hospital,
        c.handover,
        c.available,
        c.response_ms(),
        c.queue_ms(),
    ] {
        push_secs(s, t);
        s.push(',');
    }
    let _ = writeln!(
        s,
        "{},{},{},{}",
        c.crew.as_deref().unwrap_or(""),
        c.hospital.as_deref().unwrap_or(""),
        outcome,
        c.decisions,
    );
}

/// `calls.csv` as text.
pub fn calls_csv(r: &RunResult) -> String {
    let mut bytes = Vec::with_capacity(r.calls.len() * 160 + 256);
    // Writing to memory cannot fail, and the rows are UTF-8.
    let _ = write_rows(&mut bytes, r);
    String::from_utf8(bytes).unwrap_or_default()
}

/// Writes the header and the rows of `calls.csv` to `out`, a block of about 1 MB at a time
/// (a year of calls is most of a gigabyte of text).
fn write_rows(out: &mut impl std::io::Write, r: &RunResult) -> std::io::Result<()> {
    const BLOCK: usize = 1 << 20;
    let mut block = String::with_capacity(BLOCK);
    block.push_str(CALLS_HEADER);
    block.push('\n');
    for c in &r.calls {
        push_row(&mut block, c);
        if block.len() >= BLOCK - 512 {
            out.write_all(block.as_bytes())?;
            block.clear();
        }
    }
    out.write_all(block.as_bytes())
}

/// Writes `calls.csv` to `path`, streamed.
pub fn write_calls_csv(path: &Path, r: &RunResult) -> Result<(), SimError> {
    create_parent(path)?;
    let io = |e| SimError::io("write", path, e);
    let mut file = std::fs::File::create(path).map_err(io)?;
    write_rows(&mut file, r).map_err(io)?;
    file.flush().map_err(io)
}

/// Creates the directory of a file to be written.
fn create_parent(path: &Path) -> Result<(), SimError> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| SimError::io("create", dir, e)),
        None => Ok(()),
    }
}

/// Writes a file, creating its directory.
pub fn write(path: &Path, text: &str) -> Result<(), SimError> {
    create_parent(path)?;
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
    write_calls_csv(&dir.join("calls.csv"), r)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_milliseconds() {
        let secs = |ms| {
            let mut s = String::new();
            push_secs(&mut s, ms);
            s
        };
        assert_eq!(secs(Some(61_005)), "61.005");
        assert_eq!(secs(Some(-1_500)), "-1.500");
        assert_eq!(secs(None), "");
    }
}
