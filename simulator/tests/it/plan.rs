//! `simulator plan`: the plan's files run again through `simulator run` give the scores the
//! plan reports, and the automatic placement's run gives the baseline it reports. The oracle
//! reads `calls.csv` and counts for itself.

use std::path::Path;

use serde_json::Value;

use crate::helpers::simulator_on_monaco;

fn simulator(dir: &Path, args: &[&str]) -> String {
    // Breakdowns and re-triage too: each seed's own draws, in the plan as in `run --seed`.
    let common = [
        "--hospitals",
        "1",
        "--calls-per-day",
        "300",
        "--hours",
        "24",
        "--breakdown-share",
        "0.1",
        "--upgrade-share",
        "0.2",
    ];
    simulator_on_monaco(dir, &[args, &common[..]].concat())
}

/// Emergencies later than 1,200 s or never reached over the emergencies on the map, and the
/// mean response of the calls served, from a run's `calls.csv`.
fn scores(calls_csv: &Path) -> (f64, f64) {
    let text = std::fs::read_to_string(calls_csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (cp, cr, co) = (col("priority"), col("response_s"), col("outcome"));
    let (mut em, mut late, mut sum, mut served) = (0, 0, 0.0, 0);
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[co] == "off_map" {
            continue;
        }
        let resp: Option<f64> = f[cr].parse().ok();
        if let Some(r) = resp {
            sum += r;
            served += 1;
        }
        if f[cp] == "emergency" {
            em += 1;
            if resp.is_none_or(|r| r > 1200.0) {
                late += 1;
            }
        }
    }
    (late as f64 / em as f64, sum / served as f64)
}

#[test]
fn a_plan_runs_again_from_its_files_to_the_scores_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let said = simulator(
        d,
        &[
            "plan",
            "--crews",
            "6",
            "--crew-hours",
            "120",
            "--grid-m",
            "500",
            "--seed",
            "3",
            "--seeds",
            "2",
            "--eval-seeds",
            "1",
            "--time-limit-s",
            "20",
            "--max-candidates",
            "12",
            "--out",
            "plan",
        ],
    );
    assert!(said.contains("plan: "), "{said}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("plan/plan.json")).unwrap()).unwrap();
    assert_eq!(report["eval_seeds"], serde_json::json!([1003]));
    assert_eq!(report["crew_hours_per_day"], 120);
    let by_hour: Vec<u64> = report["crews_by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(by_hour.iter().sum::<u64>(), 120);
    assert!(by_hour.iter().all(|&n| (1..=6).contains(&n)), "{by_hour:?}");
    assert!(report["search"]["candidates"].as_u64().unwrap() <= 12);

    // The files: one row per station, a full table of shifts with the plan's crew-hours.
    let stations = std::fs::read_to_string(d.join("plan/stations.csv")).unwrap();
    assert_eq!(
        stations.lines().count() - 1,
        report["stations"].as_u64().unwrap() as usize
    );
    let shifts = std::fs::read_to_string(d.join("plan/shifts.csv")).unwrap();
    let crew_hours: u64 = shifts
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(crew_hours, 120);
    let geo: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("plan/plan.geojson")).unwrap())
            .unwrap();
    assert_eq!(
        geo["features"].as_array().unwrap().len(),
        report["stations"].as_u64().unwrap() as usize
    );
    let page = std::fs::read_to_string(d.join("plan/report.html")).unwrap();
    assert!(page.contains("automatic placement") && page.contains("<svg"));

    // Run again from the files, on the evaluation seed.
    simulator(
        d,
        &[
            "run",
            "--stations-file",
            "plan/stations.csv",
            "--shifts",
            "plan/shifts.csv",
            "--seed",
            "1003",
            "--out",
            "rerun",
        ],
    );
    let (late, mean) = scores(&d.join("rerun/calls.csv"));
    let plan = &report["plan"];
    assert!(
        (late - plan["late"]["mean"].as_f64().unwrap()).abs() < 1e-9,
        "{late} {plan}"
    );
    assert!(
        (mean - plan["mean_s"]["mean"].as_f64().unwrap()).abs() < 1e-3,
        "{mean} {plan}"
    );
    // The automatic placement: the fleet all day at the k-means stations.
    simulator(
        d,
        &["run", "--crews", "6", "--seed", "1003", "--out", "auto"],
    );
    let (late, mean) = scores(&d.join("auto/calls.csv"));
    let auto = &report["automatic"];
    assert!(
        (late - auto["late"]["mean"].as_f64().unwrap()).abs() < 1e-9,
        "{late} {auto}"
    );
    assert!(
        (mean - auto["mean_s"]["mean"].as_f64().unwrap()).abs() < 1e-3,
        "{mean} {auto}"
    );
}
