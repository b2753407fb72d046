//! Policies on the shipped maps: road ETA against straight line, the coverage policy, and
//! the comparison over seeds.

use simulator::calls::CallModel;
use simulator::compare::{run_comparison, Variant};
use simulator::engine::{self, CallOutcome, RunOptions, SimPolicy};
use simulator::scenario::{self, WorldSpec};
use simulator::stats::Summary;

use crate::helpers::router;

const MAPS: [&str; 6] = [
    "monaco",
    "moscow-fragment",
    "liechtenstein",
    "heidelberg",
    "helsinki",
    "baltimore",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn road_eta_median_is_never_worse_than_straight_line_on_the_shipped_maps() {
    let seeds: Vec<u64> = (1..=6).collect();
    println!("seeds {seeds:?}");
    for map in MAPS {
        let w = scenario::build_world(router(map), &WorldSpec::auto(20)).unwrap();
        let mut diffs = Vec::new();
        let mut road_p50 = Vec::new();
        for &seed in &seeds {
            let calls =
                scenario::generate_calls(&w, 240.0, 8.0, seed, &CallModel::default()).unwrap();
            let p50 = |policy| {
                let o = RunOptions {
                    policy,
                    hours: 8.0,
                    ..Default::default()
                };
                let r = engine::run(&w, &calls, &o, &mut |_| {}).unwrap();
                Summary::of(&r).all.response_s.dist.p50
            };
            let (road, line) = (p50(SimPolicy::RoadEta), p50(SimPolicy::StraightLine));
            diffs.push(line - road);
            road_p50.push(road);
        }
        let margin = median(diffs.clone());
        let base = median(road_p50);
        println!(
            "{map:16} median response road-eta {base:7.1} s; straight-line worse by {margin:+6.1} s ({:+.1} %) on the median over {} seeds (per seed: {:?})",
            margin / base * 100.0,
            seeds.len(),
            diffs.iter().map(|d| (d * 10.0).round() / 10.0).collect::<Vec<_>>()
        );
        assert!(
            margin >= 0.0,
            "{map}: road-eta's median response is {margin:.1} s worse than straight-line's"
        );
    }
}

#[test]
fn coverage_policy_relocates_keeps_reserves_and_serves_every_call() {
    let w = scenario::build_world(router("heidelberg"), &WorldSpec::auto(18)).unwrap();
    let calls = scenario::generate_calls(&w, 400.0, 12.0, 3, &CallModel::default()).unwrap();
    let o = RunOptions {
        policy: SimPolicy::Coverage,
        hours: 12.0,
        ..Default::default()
    };
    let r = engine::run(&w, &calls, &o, &mut |_| {}).unwrap();
    let s = Summary::of(&r);
    println!(
        "coverage: {} calls, {} relocations, {} held; late {:.2} %, mean {:.0} s",
        s.all.calls,
        r.relocations,
        r.held,
        s.all.response_s.late_over_20_min * 100.0,
        s.all.response_s.dist.mean
    );
    assert!(r.relocations > 0, "no crew was relocated");
    assert_eq!(s.all.never_served, 0);
    assert!(r.calls.iter().all(|c| c.outcome == CallOutcome::Served));
}

#[test]
fn comparison_pairs_runs_on_the_same_calls() {
    let w = scenario::build_world(router("monaco"), &WorldSpec::auto(6)).unwrap();
    let worlds = vec![(6, w.clone())];
    let variants: Vec<Variant> = [
        SimPolicy::RoadEta,
        SimPolicy::StraightLine,
        SimPolicy::Coverage,
    ]
    .into_iter()
    .map(|p| Variant {
        exceptions: None,
        label: p.as_str().into(),
        policy: p,
        crews: 6,
        rules: Default::default(),
    })
    .collect();
    let mut generated = Vec::new();
    let mut calls_for = |seed| {
        generated.push(seed);
        scenario::generate_calls(&w, 150.0, 6.0, seed, &CallModel::default())
    };
    let opts = RunOptions {
        hours: 6.0,
        ..Default::default()
    };
    let (cmp, first) = run_comparison(
        &worlds,
        &variants,
        &[5, 6, 7],
        &mut calls_for,
        &opts,
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(
        generated,
        [5, 6, 7],
        "one call stream per seed, shared by the variants"
    );
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|r| r.calls.len() == first[0].calls.len()));
    let table = cmp.table();
    // The baseline's difference to itself is exactly zero.
    for (_, row) in &table[0].1 {
        assert_eq!(row.diff.mean, 0.0);
        assert_eq!(row.diff.ci95, 0.0);
    }
    let md = cmp.markdown();
    println!("{md}");
    assert!(md.contains("| straight-line | p50_s |"));
    assert!(md.contains("late_share"));
}

#[test]
fn dispatch_rules_are_compared_as_variants_on_the_same_calls() {
    use dispatch_core::{DispatchConfig, QueueOrder};
    // Few crews, many calls: the queue and diversion matter.
    let w = scenario::build_world(router("monaco"), &WorldSpec::auto(3)).unwrap();
    let worlds = vec![(3, w.clone())];
    let base = DispatchConfig::default();
    let variant = |label: &str, rules: DispatchConfig| Variant {
        exceptions: None,
        label: label.into(),
        policy: SimPolicy::RoadEta,
        crews: 3,
        rules,
    };
    let variants = vec![
        variant("default", base),
        variant("same", base.with_toml("divert_gain_s = 180").unwrap()),
        variant("no-diversion", base.with_toml("diversion = false").unwrap()),
        variant(
            "eta-queue",
            base.with_toml("queue_order = \"eta_weighted\"").unwrap(),
        ),
    ];
    let mut calls_for =
        |seed| scenario::generate_calls(&w, 400.0, 6.0, seed, &CallModel::default());
    let opts = RunOptions {
        hours: 6.0,
        ..Default::default()
    };
    let (cmp, _) = run_comparison(
        &worlds,
        &variants,
        &[1, 2],
        &mut calls_for,
        &opts,
        &mut |_, _| {},
    )
    .unwrap();
    let runs = |k: usize| &cmp.variants[k].runs;
    assert_eq!(
        runs(1),
        runs(0),
        "a variant that changes nothing gives the same runs"
    );
    assert_ne!(runs(2), runs(0), "turning diversion off changes the runs");
    assert_ne!(runs(3), runs(0), "the ETA-weighted queue changes the runs");
    assert_eq!(variants[3].rules.queue_order, QueueOrder::EtaWeighted);
    println!("{}", cmp.markdown());
}

#[test]
fn the_last_crew_of_an_area_is_kept_from_non_urgent_calls_but_not_from_emergencies() {
    use crate::helpers::{call, place, world};
    use dispatch_core::Priority;
    use simulator::coverage::CoverageOptions;
    let r = router("monaco");
    // Two places far apart: one crew at S1, two at S2/S3 (the same place); a 2-minute
    // coverage threshold gives S1 an area only its crew covers.
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", 43.7352, 7.4213),
            place(&r, "S2", 43.7480, 7.4370),
            place(&r, "S3", 43.7480, 7.4370),
        ],
        vec![],
    );
    let coverage = CoverageOptions {
        threshold_s: 120.0,
        busy_fraction: Some(0.3),
        ..Default::default()
    };
    let run = |policy, priority| {
        let calls = vec![call(
            1, 60.0, 43.7310, 7.4205, priority, 30.0, 300.0, false, 0.0,
        )];
        let o = RunOptions {
            policy,
            hours: 1.0,
            coverage,
            ..Default::default()
        };
        engine::run(&w, &calls, &o, &mut |_| {}).unwrap()
    };
    let nearest = run(SimPolicy::RoadEta, Priority::NonUrgent);
    assert_eq!(
        nearest.calls[0].crew.as_deref(),
        Some("C001"),
        "road-eta sends the nearest"
    );
    let kept = run(SimPolicy::Coverage, Priority::NonUrgent);
    assert_eq!(
        kept.calls[0].crew.as_deref(),
        Some("C002"),
        "the last crew of S1 is kept"
    );
    assert_eq!(
        kept.calls[0].decisions, 2,
        "the core's pick, then the dispatcher's override"
    );
    assert!(kept.calls[0].response_ms() > nearest.calls[0].response_ms());
    let urgent = run(SimPolicy::Coverage, Priority::Emergency);
    assert_eq!(
        urgent.calls[0].crew.as_deref(),
        Some("C001"),
        "emergencies get the nearest"
    );
    println!(
        "non-urgent response: nearest {} s, keeping coverage {} s",
        nearest.calls[0].response_ms().unwrap() / 1000,
        kept.calls[0].response_ms().unwrap() / 1000
    );
}
