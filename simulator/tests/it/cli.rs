//! The command line: outputs written, bad input reported clearly, no panic.

use std::process::Command;

use crate::helpers::map_path;

fn simulator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_simulator"))
}

#[test]
fn run_writes_the_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulator()
        .args([
            "run",
            "-q",
            "--crews",
            "4",
            "--calls-per-day",
            "100",
            "--hours",
            "4",
            "--seed",
            "3",
        ])
        .arg("--map")
        .arg(map_path("monaco"))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["summary.json", "calls.csv", "report.html"] {
        assert!(dir.path().join(f).metadata().unwrap().len() > 100, "{f}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = simulator()
            .args(["run", "-q"])
            .arg("--map")
            .arg(map_path("monaco"))
            .arg("--out")
            .arg(dir.path().join("o"))
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!err.contains("panicked"), "{err}");
        err
    };
    assert!(run(&["--crews", "0"]).contains("--crews"));
    assert!(run(&["--calls-per-day=-3"]).contains("--calls-per-day"));
    assert!(run(&["--policy", "fastest"]).contains("unknown policy"));
    assert!(run(&["--segment-hours=-1"]).contains("--segment-hours"));
    assert!(run(&["--segment-overlap-hours", "inf"]).contains("--segment-overlap-hours"));
    // The comma forms the README documents: the wrong count or a word is named.
    let err = run(&["--turnout", "60"]);
    assert!(
        err.contains("--turnout") && err.contains("2 numbers"),
        "{err}"
    );
    let err = run(&["--priority-shares", "0.5,x,0.2"]);
    assert!(err.contains("\"x\" is not a number"), "{err}");
    let csv = dir.path().join("calls.csv");
    std::fs::write(
        &csv,
        "time,lat,lon,priority\n0,43.73,7.42,emergency\n5,abc,7.42,urgent\n",
    )
    .unwrap();
    let err = run(&["--calls", csv.to_str().unwrap()]);
    assert!(
        err.contains("line 3") && err.contains("lat \"abc\""),
        "{err}"
    );
}

#[test]
fn compare_takes_the_exceptions_shares_as_variants() {
    let dir = tempfile::tempdir().unwrap();
    let compare = |variant: &str| {
        Command::new(env!("CARGO_BIN_EXE_simulator"))
            .args([
                "compare",
                "-q",
                "--crews",
                "4",
                "--calls-per-day",
                "200",
                "--hours",
                "6",
                "--policies",
                "road-eta",
                "--seeds",
                "2",
            ])
            .arg("--map")
            .arg(map_path("monaco"))
            .arg("--out")
            .arg(dir.path())
            .args(["--rules-variant", variant])
            .output()
            .unwrap()
    };
    let out = compare("breakdowns:breakdown_share = 0.5;diversion = false");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(p)).unwrap()).unwrap()
    };
    let cmp = read("compare.json");
    let v = &cmp["variants"][1]["variant"];
    assert_eq!(v["exceptions"]["breakdown_share"], 0.5, "{v}");
    assert_eq!(v["rules"]["diversion"], false, "{v}");
    assert!(cmp["variants"][0]["variant"].get("exceptions").is_none());
    let base = read("road-eta@4/summary.json");
    let broken = read("road-eta@4+breakdowns/summary.json");
    assert!(base.get("breakdowns").is_none(), "{base}");
    assert!(broken["breakdowns"].as_u64().unwrap() > 0, "{broken}");
    let bad = compare("x:upgrade_share = lots");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("upgrade_share") && err.contains("lots"),
        "{err}"
    );
}
