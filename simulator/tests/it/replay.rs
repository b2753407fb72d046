//! Replaying calls as they happened: the durations, the transport, the hospital and the
//! crews needed given per call, so nothing about a call is random.

use dispatch_core::{CrewType, Priority};
use simulator::engine::{self, CallOutcome, RunOptions};
use simulator::SimError;

use crate::helpers::{call, place, router, simulator_on_monaco, world};

const STATION: (f64, f64) = (43.7352, 7.4213);
const STATION_2: (f64, f64) = (43.7480, 7.4370);
const CALL_A: (f64, f64) = (43.7310, 7.4205);
const HOSPITAL: (f64, f64) = (43.7283, 7.4148);
const HOSPITAL_2: (f64, f64) = (43.7480, 7.4370);

fn options() -> RunOptions {
    RunOptions {
        hours: 1.0,
        ..RunOptions::default()
    }
}

#[test]
fn a_replayed_patient_goes_to_the_hospital_they_really_went_to() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![
            place(&r, "H1", HOSPITAL.0, HOSPITAL.1),
            place(&r, "H2", HOSPITAL_2.0, HOSPITAL_2.1),
        ],
    );
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let h1 = r.snap(HOSPITAL.0, HOSPITAL.1).unwrap();
    let h2 = r.snap(HOSPITAL_2.0, HOSPITAL_2.1).unwrap();
    let (e1, e2) = (r.eta(&a, &h1).unwrap(), r.eta(&a, &h2).unwrap());
    // The hospital the core would not choose: the one reached later.
    let (named, eta) = if e1 <= e2 { ("H2", e2) } else { ("H1", e1) };
    assert_ne!(e1, e2, "the two hospitals must differ for this test");
    let mut c = call(
        1,
        0.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        30.0,
        600.0,
        true,
        300.0,
    );
    c.hospital = Some(named.to_string());
    let res = engine::run(&w, &[c], &options(), &mut |_| {}).unwrap();
    let rec = &res.calls[0];
    assert_eq!(rec.hospital.as_deref(), Some(named));
    let left = rec.left_scene.unwrap();
    assert_eq!(left, rec.on_scene.unwrap() + 600_000);
    assert_eq!(rec.at_hospital, Some(left + i64::from(eta)));
    assert_eq!(rec.handover, Some(left + i64::from(eta) + 300_000));
    assert_eq!(rec.available, rec.handover);
}

#[test]
fn a_call_needing_two_crews_gets_both_and_one_takes_the_patient() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", STATION.0, STATION.1),
            place(&r, "S2", STATION_2.0, STATION_2.1),
        ],
        vec![place(&r, "H1", HOSPITAL.0, HOSPITAL.1)],
    );
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let s1 = r.snap(STATION.0, STATION.1).unwrap();
    let s2 = r.snap(STATION_2.0, STATION_2.1).unwrap();
    let h1 = r.snap(HOSPITAL.0, HOSPITAL.1).unwrap();
    let (e1, e2) = (
        i64::from(r.eta(&s1, &a).unwrap()),
        i64::from(r.eta(&s2, &a).unwrap()),
    );
    assert!(e1 < e2, "S1 is the nearer station: {e1} against {e2}");
    let eta_h = i64::from(r.eta(&a, &h1).unwrap());
    let mut c = call(
        1,
        0.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        30.0,
        600.0,
        true,
        300.0,
    );
    c.needs = vec![CrewType::General, CrewType::General];
    let res = engine::run(&w, &[c], &options(), &mut |_| {}).unwrap();
    let rec = &res.calls[0];
    assert_eq!(rec.outcome, CallOutcome::Served);
    assert_eq!(rec.decisions, 2, "two crews sent");
    // The first on scene (C001, from S1) takes the patient when its time on scene is up.
    assert_eq!(rec.on_scene, Some(30_000 + e1));
    assert_eq!(rec.hospital.as_deref(), Some("H1"));
    let handed_over = 30_000 + e1 + 600_000 + eta_h + 300_000;
    assert_eq!(rec.handover, Some(handed_over));
    // Busy from the dispatch: C001 until the handover, C002 until its own time on scene
    // is up (it takes no patient).
    assert_eq!(res.crew_busy_ms, vec![handed_over, 30_000 + e2 + 600_000]);
}

#[test]
fn a_hospital_or_a_crew_type_the_run_does_not_have_is_a_clear_error() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![place(&r, "H1", HOSPITAL.0, HOSPITAL.1)],
    );
    let base = call(
        7,
        60.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Urgent,
        30.0,
        600.0,
        true,
        300.0,
    );
    let mut c = base.clone();
    c.hospital = Some("H9".into());
    let err = engine::run(&w, &[c], &options(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, SimError::Setting { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("call 7") && text.contains("\"H9\"") && text.contains("H1"),
        "{text}"
    );
    let mut c = base;
    c.needs = vec![CrewType::Psychiatric];
    let text = engine::run(&w, &[c], &options(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(text.contains("psychiatric"), "{text}");
}

fn simulator(dir: &std::path::Path, args: &[&str]) -> String {
    simulator_on_monaco(dir, args)
}

fn outputs(dir: &std::path::Path) -> (String, String) {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    (read("summary.json"), read("calls.csv"))
}

/// A generated stream written with every part given replays to the very run it came from,
/// whatever the seed of the replay.
#[test]
fn a_generated_call_file_replays_exactly_whatever_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let common = ["--crews", "6", "--calls-per-day", "600", "--hours", "6"];
    fn with<'a>(common: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [&["run"][..], common, extra].concat()
    }
    simulator(
        d,
        &[
            &["generate"][..],
            &common[..],
            &["--seed", "4", "--out", "calls.csv"],
        ]
        .concat(),
    );
    let text = std::fs::read_to_string(d.join("calls.csv")).unwrap();
    assert!(text.starts_with(
        "time,lat,lon,priority,turnout_s,on_scene_s,transport,hospital,handover_s,needs\n"
    ));
    assert!(text.lines().count() > 50, "{} lines", text.lines().count());
    simulator(d, &with(&common, &["--seed", "4", "--out", "generated"]));
    simulator(
        d,
        &with(
            &common,
            &["--seed", "4", "--calls", "calls.csv", "--out", "replay-4"],
        ),
    );
    simulator(
        d,
        &with(
            &common,
            &["--seed", "99", "--calls", "calls.csv", "--out", "replay-99"],
        ),
    );
    let generated = outputs(&d.join("generated"));
    assert_eq!(outputs(&d.join("replay-4")), generated);
    assert_eq!(outputs(&d.join("replay-99")), generated);
    // The seed does change a replay of the bare columns (the durations are drawn).
    let bare: String = text
        .lines()
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    std::fs::write(d.join("bare.csv"), bare).unwrap();
    simulator(
        d,
        &with(
            &common,
            &["--seed", "99", "--calls", "bare.csv", "--out", "bare-99"],
        ),
    );
    assert_ne!(outputs(&d.join("bare-99")).1, generated.1);
}

/// `--station-only`: the crew of the first call cannot take the waiting second call on its
/// way back; it drives home, turns out again and drives from the station. Without it, the
/// crew goes from the first scene straight to the second.
#[test]
fn station_only_crews_are_free_only_back_at_their_station() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![],
    );
    const CALL_B: (f64, f64) = (43.7400, 7.4270);
    let s = r.snap(STATION.0, STATION.1).unwrap();
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let b = r.snap(CALL_B.0, CALL_B.1).unwrap();
    let eta = |x, y| i64::from(r.eta(x, y).unwrap());
    let (e_sa, e_as, e_ab, e_sb, e_bs) = (
        eta(&s, &a),
        eta(&a, &s),
        eta(&a, &b),
        eta(&s, &b),
        eta(&b, &s),
    );
    let calls = vec![
        call(
            1,
            0.0,
            CALL_A.0,
            CALL_A.1,
            Priority::Emergency,
            30.0,
            600.0,
            false,
            0.0,
        ),
        // Comes in while the only crew is on scene: it waits.
        call(
            2,
            10.0,
            CALL_B.0,
            CALL_B.1,
            Priority::Urgent,
            45.0,
            300.0,
            false,
            0.0,
        ),
    ];
    let run = |station_only| {
        let o = RunOptions {
            hours: 2.0,
            station_only,
            ..RunOptions::default()
        };
        engine::run(&w, &calls, &o, &mut |_| {}).unwrap()
    };
    let free = 30_000 + e_sa + 600_000;

    let usual = run(false);
    assert_eq!(usual.calls[1].assigned, Some(free));
    assert_eq!(
        usual.calls[1].on_scene,
        Some(free + e_ab),
        "no turnout on the road"
    );

    let classical = run(true);
    let c1 = &classical.calls[0];
    assert_eq!(c1.on_scene, Some(30_000 + e_sa));
    assert_eq!(
        c1.available,
        Some(free),
        "call 1 is done when the crew leaves"
    );
    let home = free + e_as;
    let c2 = &classical.calls[1];
    assert_eq!(c2.assigned, Some(home), "taken only back at the station");
    assert_eq!(c2.en_route, Some(home + 45_000), "with a turnout");
    assert_eq!(c2.on_scene, Some(home + 45_000 + e_sb));
    // Busy from the first dispatch until back home after call 2.
    let back = home + 45_000 + e_sb + 300_000 + e_bs;
    assert_eq!(classical.crew_busy_ms, vec![back]);
}

/// A shift plan: one crew on duty in hours 0 and 2, none in hour 1. Its call running past
/// 01:00 is finished first; a call at 01:30 waits for the crew to come on duty at 02:00, at
/// its station (so with a turnout); utilization is over the 2 crew-hours on duty.
#[test]
fn a_shift_plan_takes_crews_off_duty_and_back() {
    let r = router("monaco");
    let stations = vec![
        place(&r, "S1", STATION.0, STATION.1),
        place(&r, "S2", STATION_2.0, STATION_2.1),
    ];
    let mut plan = String::from("hour,station,crews,type\n0,S1,1,\n2,S1,1,\n");
    for h in 0..24 {
        plan.push_str(&format!("{h},S2,1,psychiatric\n"));
    }
    let roster =
        simulator::shifts::parse_csv(&plan, std::path::Path::new("shifts.csv"), &stations).unwrap();
    let mut w = world(r.clone(), stations, vec![]);
    w.crew_station = roster.crew_station.clone();
    w.roster = Some(std::sync::Arc::new(roster));
    const CALL_B: (f64, f64) = (43.7400, 7.4270);
    let s = r.snap(STATION.0, STATION.1).unwrap();
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let b = r.snap(CALL_B.0, CALL_B.1).unwrap();
    let eta = |x, y| i64::from(r.eta(x, y).unwrap());
    let (e_sa, e_sb) = (eta(&s, &a), eta(&s, &b));
    let mut calls = vec![
        call(
            1,
            3000.0,
            CALL_A.0,
            CALL_A.1,
            Priority::Emergency,
            30.0,
            1200.0,
            false,
            0.0,
        ),
        call(
            2,
            5400.0,
            CALL_B.0,
            CALL_B.1,
            Priority::Urgent,
            45.0,
            300.0,
            false,
            0.0,
        ),
    ];
    // A general call never goes to the psychiatric crew; a psychiatric one does.
    calls.push(call(
        3,
        6000.0,
        CALL_B.0,
        CALL_B.1,
        Priority::Urgent,
        20.0,
        100.0,
        false,
        0.0,
    ));
    calls[2].needs = vec![CrewType::Psychiatric];
    let o = RunOptions {
        hours: 3.0,
        ..RunOptions::default()
    };
    let res = engine::run(&w, &calls, &o, &mut |_| {}).unwrap();
    let c1 = &res.calls[0];
    assert_eq!(c1.crew.as_deref(), Some("C001"));
    assert_eq!(c1.on_scene, Some(3_030_000 + e_sa));
    let left = 3_030_000 + e_sa + 1_200_000;
    assert!(left > 3_600_000, "the call runs past the end of the shift");
    assert_eq!(c1.available, Some(left), "finished before going off duty");
    let c2 = &res.calls[1];
    assert_eq!(c2.crew.as_deref(), Some("C001"));
    assert_eq!(c2.assigned, Some(7_200_000), "taken when the shift starts");
    assert_eq!(
        c2.on_scene,
        Some(7_200_000 + 45_000 + e_sb),
        "from the station"
    );
    let c3 = &res.calls[2];
    assert_eq!(c3.crew.as_deref(), Some("C002"));
    assert_eq!(c3.assigned, Some(6_000_000));
    let summary = simulator::stats::Summary::of(&res);
    // Crew-hours on duty: C001 2 h, C002 3 h.
    assert_eq!(res.crew_hours, Some(5.0));
    let c3_busy = c3.available.unwrap() - 6_000_000;
    let busy = (left - 3_000_000) + (7_200_000 + 45_000 + e_sb + 300_000 - 7_200_000) + c3_busy;
    let expected = busy as f64 / (5.0 * 3_600_000.0);
    assert!(
        (summary.crew_utilization - expected).abs() < 1e-6,
        "{} against {expected}",
        summary.crew_utilization
    );
}
