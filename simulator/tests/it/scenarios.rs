//! Small deterministic scenarios with hand-checkable answers, and seed determinism.

use dispatch_core::Priority;
use simulator::calls::CallModel;
use simulator::engine::{self, CallOutcome, RunOptions, SimPolicy};
use simulator::report::Markup;
use simulator::scenario::{self, WorldSpec};

use crate::helpers::{call, place, router, world};

// Points in Monaco: the station near the port, calls in Monaco-Ville and Monte-Carlo, the
// hospital (Princesse Grace) in the west.
const STATION: (f64, f64) = (43.7352, 7.4213);
const CALL_A: (f64, f64) = (43.7310, 7.4205);
const CALL_B: (f64, f64) = (43.7400, 7.4270);
const HOSPITAL: (f64, f64) = (43.7283, 7.4148);

#[test]
fn one_crew_two_calls_times_are_router_etas_plus_turnout_and_service() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![],
    );
    let calls = vec![
        call(
            1,
            100.0,
            CALL_A.0,
            CALL_A.1,
            Priority::Emergency,
            45.0,
            600.0,
            false,
            0.0,
        ),
        // Comes in while the only crew is busy: it waits in the core's queue.
        call(
            2,
            160.0,
            CALL_B.0,
            CALL_B.1,
            Priority::Urgent,
            70.0,
            300.0,
            false,
            0.0,
        ),
    ];
    let res = run_for(&w, &calls, 1.0);
    let station = r.snap(STATION.0, STATION.1).unwrap();
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let b = r.snap(CALL_B.0, CALL_B.1).unwrap();
    let eta_sa = i64::from(r.eta(&station, &a).unwrap());
    let eta_ab = i64::from(r.eta(&a, &b).unwrap());
    let eta_bs = i64::from(r.eta(&b, &station).unwrap());
    println!("ETAs: station->A {eta_sa} ms, A->B {eta_ab} ms, B->station {eta_bs} ms");
    assert!(eta_sa > 0 && eta_ab > 0);

    let c1 = &res.calls[0];
    assert_eq!(c1.outcome, CallOutcome::Served);
    assert_eq!(c1.crew.as_deref(), Some("C001"));
    assert_eq!(c1.assigned, Some(100_000));
    assert_eq!(
        c1.en_route,
        Some(100_000 + 45_000),
        "turnout from the station"
    );
    assert_eq!(c1.on_scene, Some(145_000 + eta_sa));
    assert_eq!(c1.response_ms(), Some(45_000 + eta_sa));
    assert_eq!(c1.left_scene, Some(145_000 + eta_sa + 600_000));
    assert_eq!(
        c1.available, c1.left_scene,
        "no transport: free when leaving the scene"
    );
    assert_eq!(c1.queue_ms(), Some(0));

    // Call 2 waited for the crew; the crew, already on the road, has no turnout.
    let free = 145_000 + eta_sa + 600_000;
    let c2 = &res.calls[1];
    assert_eq!(c2.crew.as_deref(), Some("C001"));
    assert_eq!(c2.assigned, Some(free));
    assert_eq!(c2.queue_ms(), Some(free - 160_000));
    assert_eq!(c2.en_route, Some(free));
    assert_eq!(c2.on_scene, Some(free + eta_ab));
    assert_eq!(c2.response_ms(), Some(free + eta_ab - 160_000));
    assert_eq!(c2.available, Some(free + eta_ab + 300_000));
    // Busy from the first dispatch to the end of call 2 (one continuous stretch).
    assert_eq!(res.crew_busy_ms, vec![free + eta_ab + 300_000 - 100_000]);
}

#[test]
fn transport_goes_to_the_hospital_reached_soonest_and_hands_over() {
    let r = router("monaco");
    let far = place(&r, "H2", 43.7480, 7.4370);
    let near = place(&r, "H1", HOSPITAL.0, HOSPITAL.1);
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![far, near],
    );
    let calls = vec![call(
        1,
        0.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        60.0,
        900.0,
        true,
        1200.0,
    )];
    let res = run_for(&w, &calls, 1.0);
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let h1 = r.snap(HOSPITAL.0, HOSPITAL.1).unwrap();
    let h2 = r.snap(43.7480, 7.4370).unwrap();
    let (e1, e2) = (r.eta(&a, &h1).unwrap(), r.eta(&a, &h2).unwrap());
    println!("scene->H1 {e1} ms, scene->H2 {e2} ms");
    let (best, eta) = if e1 <= e2 { ("H1", e1) } else { ("H2", e2) };
    let c = &res.calls[0];
    assert_eq!(c.hospital.as_deref(), Some(best));
    let left = c.left_scene.unwrap();
    assert_eq!(left, c.on_scene.unwrap() + 900_000);
    assert_eq!(c.at_hospital, Some(left + i64::from(eta)));
    assert_eq!(c.handover, Some(left + i64::from(eta) + 1_200_000));
    assert_eq!(c.available, c.handover);
}

#[test]
fn the_nearest_crew_by_road_goes_and_equal_etas_go_to_the_lowest_id() {
    let r = router("monaco");
    // Two crews at the very same place: equal ETAs, the lowest id goes. A third far away.
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", 43.7480, 7.4370),
            place(&r, "S2", STATION.0, STATION.1),
            place(&r, "S3", STATION.0, STATION.1),
        ],
        vec![],
    );
    let calls = vec![call(
        1,
        0.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        0.0,
        60.0,
        false,
        0.0,
    )];
    let res = run_for(&w, &calls, 1.0);
    assert_eq!(res.calls[0].crew.as_deref(), Some("C002"));
}

/// Runs `calls` for `hours` with the default options.
fn run_for(
    w: &engine::World,
    calls: &[simulator::calls::CallSpec],
    hours: f64,
) -> engine::RunResult {
    engine::run(
        w,
        calls,
        &RunOptions {
            hours,
            ..Default::default()
        },
        &mut |_| {},
    )
    .unwrap()
}

fn generated_run(seed: u64, policy: SimPolicy) -> (String, String) {
    let r = router("monaco");
    let w = scenario::build_world(r, &WorldSpec::auto(8)).unwrap();
    let calls = scenario::generate_calls(&w, 300.0, 12.0, seed, &CallModel::default()).unwrap();
    let opts = RunOptions {
        policy,
        hours: 12.0,
        ..Default::default()
    };
    let res = engine::run(&w, &calls, &opts, &mut |_| {}).unwrap();
    let summary = simulator::stats::Summary::of(&res);
    (
        simulator::output::summary_json(&summary).unwrap(),
        simulator::output::calls_csv(&res),
    )
}

#[test]
fn the_same_seed_gives_byte_identical_outputs() {
    for policy in [SimPolicy::RoadEta, SimPolicy::Coverage] {
        let a = generated_run(42, policy);
        let b = generated_run(42, policy);
        assert_eq!(a.0, b.0, "summary.json differs for {policy:?}");
        assert_eq!(a.1, b.1, "calls.csv differs for {policy:?}");
        let c = generated_run(43, policy);
        assert_ne!(a.1, c.1, "another seed, other calls");
        println!(
            "{policy:?}: {} bytes of calls.csv, identical twice",
            a.1.len()
        );
    }
}

#[test]
fn files_are_written_and_identical_for_the_same_seed() {
    let r = router("monaco");
    let w = scenario::build_world(r, &WorldSpec::auto(6)).unwrap();
    let calls = scenario::generate_calls(&w, 200.0, 6.0, 9, &CallModel::default()).unwrap();
    let opts = RunOptions {
        hours: 6.0,
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (d1, d2) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&d1, &d2] {
        let res = engine::run(&w, &calls, &opts, &mut |_| {}).unwrap();
        simulator::output::write_run(d, &res).unwrap();
    }
    for f in ["summary.json", "calls.csv"] {
        let a = std::fs::read(d1.join(f)).unwrap();
        let b = std::fs::read(d2.join(f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{f}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d1.join("summary.json")).unwrap()).unwrap();
    for key in [
        "/calls",
        "/served",
        "/response_s/p50",
        "/response_s/p90",
        "/response_s/p95",
        "/by_priority/emergency/response_s/p95",
        "/by_priority/non_urgent/queue_s/p50",
        "/crew_utilization",
    ] {
        assert!(summary.pointer(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["calls"].as_u64().unwrap() as usize, calls.len());
}

#[test]
fn impossible_settings_are_clear_errors() {
    let r = router("monaco");
    let err = scenario::build_world(r.clone(), &WorldSpec::auto(0)).unwrap_err();
    assert!(err.to_string().contains("--crews"), "{err}");
    let w = scenario::build_world(r, &WorldSpec::auto(2)).unwrap();
    let err = scenario::generate_calls(&w, -5.0, 24.0, 1, &CallModel::default()).unwrap_err();
    assert!(err.to_string().contains("--calls-per-day"), "{err}");
    let err = scenario::generate_calls(&w, 5.0, 0.0, 1, &CallModel::default()).unwrap_err();
    assert!(err.to_string().contains("--hours"), "{err}");
    let bad = CallModel {
        transport_share: 1.5,
        ..Default::default()
    };
    let err = scenario::generate_calls(&w, 5.0, 1.0, 1, &bad).unwrap_err();
    assert!(err.to_string().contains("--transport-share"), "{err}");
    let opts = RunOptions {
        position_interval_s: 0.0,
        ..Default::default()
    };
    let err = engine::run(&w, &[], &opts, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("--position-interval-s"), "{err}");
}

#[test]
fn a_closure_in_its_window_slows_the_crew_and_not_after() {
    let r = crate::helpers::own_router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![],
    );
    let calls = vec![
        // During the slow-down (0 to 1 h), and long after it, when the crew is home again.
        call(
            1,
            600.0,
            CALL_A.0,
            CALL_A.1,
            Priority::Emergency,
            30.0,
            120.0,
            false,
            0.0,
        ),
        call(
            2,
            3.0 * 3600.0,
            CALL_A.0,
            CALL_A.1,
            Priority::Emergency,
            30.0,
            120.0,
            false,
            0.0,
        ),
    ];
    let slow = simulator::closures::parse("43.7352,7.4213,5000,0,1,3").unwrap();
    let opts = RunOptions {
        hours: 4.0,
        closures: vec![slow.clone()],
        ..Default::default()
    };
    let res = engine::run(&w, &calls, &opts, &mut |_| {}).unwrap();
    let s = r.snap(STATION.0, STATION.1).unwrap();
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let open = i64::from(r.eta(&s, &a).unwrap());
    assert!(r.closures().is_empty(), "the run removes its closures");
    let c = r
        .add_closure(
            router::ClosureSpec {
                area: slow.area.clone(),
                factor: slow.factor,
                from_ms: None,
                until_ms: None,
            },
            0,
        )
        .unwrap();
    let slowed = i64::from(r.eta(&s, &a).unwrap());
    r.remove_closure(c.id, 0).unwrap();
    println!("station->A: {open} ms open, {slowed} ms slowed down");
    assert!(slowed > 2 * open, "a factor of 3 everywhere");
    assert_eq!(res.calls[0].response_ms(), Some(30_000 + slowed));
    assert_eq!(res.calls[1].response_ms(), Some(30_000 + open));
}

#[test]
fn a_csv_of_calls_is_replayed_and_calls_off_the_map_are_counted() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", STATION.0, STATION.1),
            place(&r, "S2", STATION.0, STATION.1),
        ],
        vec![],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.csv");
    std::fs::write(
        &path,
        format!(
            "time,lat,lon,priority\n00:10,{},{},emergency\n900,48.85,2.35,urgent\n00:05:30,{},{},non_urgent\n",
            CALL_A.0, CALL_A.1, CALL_B.0, CALL_B.1
        ),
    )
    .unwrap();
    let calls = simulator::calls::read_csv(&path, &CallModel::default(), 1).unwrap();
    assert_eq!(
        calls.iter().map(|c| c.t).collect::<Vec<_>>(),
        [330_000, 600_000, 900_000]
    );
    let res = run_for(&w, &calls, 2.0);
    let outcomes: Vec<CallOutcome> = res.calls.iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        [
            CallOutcome::Served,
            CallOutcome::Served,
            CallOutcome::OffMap
        ]
    );
    assert_eq!(res.calls[0].priority, Priority::NonUrgent);
    assert_eq!(res.calls[1].received, 600_000);
    let s = simulator::stats::Summary::of(&res);
    assert_eq!((s.all.calls, s.all.served, s.all.off_map), (3, 2, 1));
    // Malformed rows are an error naming their lines.
    std::fs::write(
        &path,
        "time,lat,lon,priority\n1,43.73,7.42,emergency\nnoon,43.73,7.42,urgent\n",
    )
    .unwrap();
    let err = simulator::calls::read_csv(&path, &CallModel::default(), 1).unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn the_report_is_one_self_contained_page_with_its_plots() {
    let r = router("monaco");
    let w = scenario::build_world(r, &WorldSpec::auto(5)).unwrap();
    let calls = scenario::generate_calls(&w, 200.0, 6.0, 4, &CallModel::default()).unwrap();
    let runs: Vec<_> = [SimPolicy::RoadEta, SimPolicy::StraightLine]
        .into_iter()
        .map(|policy| {
            engine::run(
                &w,
                &calls,
                &RunOptions {
                    policy,
                    hours: 6.0,
                    ..Default::default()
                },
                &mut |_| {},
            )
            .unwrap()
        })
        .collect();
    let refs: Vec<_> = runs.iter().collect();
    let page = simulator::report::html(&refs, &w, "test <i>&", Markup::default()).unwrap();
    // Text is escaped: a title, and a run's label (a comparison's variant is named by its
    // user).
    assert!(
        page.contains("<title>test &lt;i&gt;&amp;</title>"),
        "{}",
        &page[..400]
    );
    let labelled = simulator::report::html_labelled(
        &[("<script>x</script>".to_string(), &runs[0])],
        &w,
        "labels",
        Markup::default(),
    )
    .unwrap();
    assert!(labelled.contains("<td>&lt;script&gt;x&lt;/script&gt;</td>"));
    assert!(!labelled.contains("<script>"));
    assert_eq!(
        page.matches("<svg").count(),
        4,
        "histogram, CDF, by hour, map"
    );
    assert!(
        !page.contains("src=\"http"),
        "nothing loaded from elsewhere"
    );
    assert!(page.contains("road-eta (5 crews)") && page.contains("straight-line (5 crews)"));
    assert!(page.contains("<circle"), "a small run maps each call");

    // A large run (a year has millions of calls) is mapped in cells: the page stays small.
    let mut large = runs[0].clone();
    let one = large.calls.clone();
    while large.calls.len() <= 25_000 {
        large.calls.extend(one.iter().cloned());
    }
    for (i, c) in large.calls.iter_mut().enumerate() {
        c.id = i as u64 + 1;
    }
    let page = simulator::report::html(&[&large], &w, "large", Markup::default()).unwrap();
    println!(
        "{} calls: a page of {} bytes, {} cells",
        large.calls.len(),
        page.len(),
        page.matches("<rect").count()
    );
    assert!(page.contains("Mean response time by place"));
    assert!(!page.contains("<circle"), "no mark per call");
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
}

#[test]
fn traffic_covers_every_road_and_slows_every_response() {
    let r = router("monaco");
    let t = simulator::closures::traffic(&r, 2.0).unwrap();
    assert_eq!(r.resolve_area(&t.area).len(), r.graph().arc_count());
    assert!(simulator::closures::traffic(&r, 0.0).is_err());
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![],
    );
    let calls = vec![call(
        1,
        60.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        0.0,
        60.0,
        false,
        0.0,
    )];
    let free = run_for(&w, &calls, 1.0);
    let own = crate::helpers::own_router("monaco");
    let w2 = world(
        own.clone(),
        vec![place(&own, "S1", STATION.0, STATION.1)],
        vec![],
    );
    let opts = RunOptions {
        hours: 1.0,
        closures: vec![t],
        ..Default::default()
    };
    let slow = engine::run(&w2, &calls, &opts, &mut |_| {}).unwrap();
    let (a, b) = (
        free.calls[0].response_ms().unwrap(),
        slow.calls[0].response_ms().unwrap(),
    );
    println!("free flow {a} ms, traffic x2 {b} ms");
    assert!(b > a * 19 / 10 && b < a * 21 / 10, "{a} -> {b}");
}
