//! Long runs in segments: the result does not depend on the threads, every call is
//! reported once, the figures agree with one piece, and closures keep their time windows.

use simulator::calls::{CallModel, CallSpec};
use simulator::engine::{self, ClosureWindow, RunOptions, RunResult, SimPolicy, World};
use simulator::scenario::{self, WorldSpec};
use simulator::stats::Summary;

use crate::helpers::{own_router, router};

fn monaco(crews: usize, per_day: f64, hours: f64, seed: u64) -> (World, Vec<CallSpec>) {
    let w = scenario::build_world(router("monaco"), &WorldSpec::auto(crews)).unwrap();
    let calls = scenario::generate_calls(&w, per_day, hours, seed, &CallModel::default()).unwrap();
    (w, calls)
}

fn files(r: &RunResult) -> (String, String) {
    (
        simulator::output::summary_json(&Summary::of(r)).unwrap(),
        simulator::output::calls_csv(r),
    )
}

fn run(w: &World, calls: &[CallSpec], opts: &RunOptions) -> RunResult {
    engine::run(w, calls, opts, &mut |_| {}).unwrap()
}

#[test]
fn segments_give_the_same_files_on_one_thread_or_two_and_report_each_call_once() {
    let (w, calls) = monaco(8, 300.0, 72.0, 5);
    for policy in [SimPolicy::RoadEta, SimPolicy::Coverage] {
        let opts = |threads| RunOptions {
            policy,
            hours: 72.0,
            segment_hours: 24.0,
            threads,
            ..Default::default()
        };
        let one = run(&w, &calls, &opts(1));
        let two = run(&w, &calls, &opts(2));
        assert_eq!(files(&one), files(&two), "{policy:?}");
        let ids: Vec<u64> = one.calls.iter().map(|c| c.id).collect();
        let expected: Vec<u64> = calls.iter().map(|c| c.id).collect();
        assert_eq!(ids, expected, "{policy:?}: every call once, in order");
        // More events than one piece: the overlaps are simulated twice.
        let whole = run(
            &w,
            &calls,
            &RunOptions {
                segment_hours: 0.0,
                ..opts(1)
            },
        );
        assert!(
            one.events > whole.events,
            "{} vs {}",
            one.events,
            whole.events
        );
    }
}

#[test]
fn a_run_no_longer_than_a_segment_is_one_piece() {
    let (w, calls) = monaco(8, 300.0, 24.0, 6);
    let with = |segment_hours| RunOptions {
        segment_hours,
        ..Default::default()
    };
    assert_eq!(
        files(&run(&w, &calls, &with(24.0))),
        files(&run(&w, &calls, &with(0.0)))
    );
}

#[test]
fn segments_agree_with_one_piece_within_a_few_percent() {
    let (w, calls) = monaco(30, 400.0, 120.0, 7);
    let opts = |segment_hours| RunOptions {
        hours: 120.0,
        segment_hours,
        ..Default::default()
    };
    let whole = Summary::of(&run(&w, &calls, &opts(0.0)));
    let cut = Summary::of(&run(&w, &calls, &opts(24.0)));
    assert_eq!(whole.all.calls, cut.all.calls);
    assert_eq!(whole.all.served, cut.all.served);
    let (a, b) = (&whole.all.response_s.dist, &cut.all.response_s.dist);
    println!(
        "one piece: mean {:.2} s, p90 {:.2} s, utilization {:.4}; segments of a day: mean {:.2} s, p90 {:.2} s, utilization {:.4}",
        a.mean, a.p90, whole.crew_utilization, b.mean, b.p90, cut.crew_utilization
    );
    assert!((a.mean - b.mean).abs() <= 0.02 * a.mean);
    assert!((a.p90 - b.p90).abs() <= 0.03 * a.p90);
    assert!((whole.crew_utilization - cut.crew_utilization).abs() <= 0.02 * whole.crew_utilization);
}

#[test]
fn closures_keep_their_time_window_in_every_segment_and_leave_the_router_clean() {
    let r = own_router("monaco");
    let w = scenario::build_world(r.clone(), &WorldSpec::auto(20)).unwrap();
    let calls = scenario::generate_calls(&w, 250.0, 72.0, 8, &CallModel::default()).unwrap();
    // Every road three times slower from hour 30 to hour 40 (inside the second segment,
    // and in the first one's overlap).
    let slow = ClosureWindow {
        from_s: 30.0 * 3600.0,
        until_s: Some(40.0 * 3600.0),
        ..simulator::closures::traffic(&r, 3.0).unwrap()
    };
    let opts = |threads, segment_hours| RunOptions {
        hours: 72.0,
        segment_hours,
        threads,
        closures: vec![slow.clone()],
        ..Default::default()
    };
    let cut = run(&w, &calls, &opts(2, 24.0));
    assert_eq!(files(&cut), files(&run(&w, &calls, &opts(1, 24.0))));
    assert!(r.closures().is_empty(), "the run's closures are removed");
    let whole = run(&w, &calls, &opts(1, 0.0));
    let mean_in = |res: &RunResult, inside: bool| {
        let v: Vec<f64> = res
            .calls
            .iter()
            .filter(|c| ((30 * 3_600_000)..(40 * 3_600_000)).contains(&c.received) == inside)
            .filter_map(|c| c.response_ms())
            .map(|ms| ms as f64)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    for (label, res) in [("segments", &cut), ("one piece", &whole)] {
        let (slowed, free) = (mean_in(res, true), mean_in(res, false));
        println!("{label}: mean response {slowed:.0} ms in the slow hours, {free:.0} ms outside");
        assert!(slowed > 1.5 * free, "{label}: {slowed} vs {free}");
    }
    // Calls of the first day, far from the slow hours, are the same in both.
    let first_day = |res: &RunResult| {
        res.calls
            .iter()
            .filter(|c| c.received < 20 * 3_600_000)
            .map(|c| (c.id, c.on_scene))
            .collect::<Vec<_>>()
    };
    assert_eq!(first_day(&cut), first_day(&whole));
}

#[test]
fn a_closure_the_router_refuses_is_an_error_in_segments_too() {
    let (w, calls) = monaco(8, 300.0, 72.0, 9);
    let bad = ClosureWindow {
        area: router::ClosureArea::Ways(vec![]),
        factor: None,
        from_s: 0.0,
        until_s: None,
    };
    for segment_hours in [0.0, 24.0] {
        let opts = RunOptions {
            hours: 72.0,
            segment_hours,
            closures: vec![bad.clone()],
            ..Default::default()
        };
        let err = engine::run(&w, &calls, &opts, &mut |_| {}).unwrap_err();
        assert!(
            matches!(err, simulator::SimError::Closure { index: 1, .. }),
            "segments of {segment_hours} h: {err}"
        );
    }
    assert!(router("monaco").closures().is_empty());
}
