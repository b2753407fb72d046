//! The dispatch core's rules for the everyday exceptions, run in simulation: a crew that
//! breaks down on its way, and calls re-triaged after intake. Worked cases by hand, from the
//! router's ETAs.

use dispatch_core::Priority;
use simulator::dist::LogNormal;
use simulator::engine::{self, Exceptions, RunOptions};

use crate::helpers::{call, place, router, world};

const STATION: (f64, f64) = (43.7352, 7.4213);
const STATION_2: (f64, f64) = (43.7480, 7.4370);
const CALL_A: (f64, f64) = (43.7310, 7.4205);
const CALL_B: (f64, f64) = (43.7400, 7.4270);
const CALL_C: (f64, f64) = (43.7440, 7.4300);

/// The crew sent breaks down on its way: the core hands the call back and sends the other
/// crew, from its station; the broken crew is out of service for its repair time.
#[test]
fn a_crew_broken_down_on_its_way_hands_the_call_to_another() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![
            place(&r, "S1", STATION.0, STATION.1),
            place(&r, "S2", STATION_2.0, STATION_2.1),
        ],
        vec![],
    );
    let (s1, s2) = (
        r.snap(STATION.0, STATION.1).unwrap(),
        r.snap(STATION_2.0, STATION_2.1).unwrap(),
    );
    let a = r.snap(CALL_A.0, CALL_A.1).unwrap();
    let eta = |x, y| i64::from(r.eta(x, y).unwrap());
    let (e1, e2) = (eta(&s1, &a), eta(&s2, &a));
    assert!(e1 < e2, "S1 is nearer");
    let exceptions = Exceptions {
        breakdown_share: 1.0,
        repair: LogNormal::new(1200.0, 0.0),
        ..Exceptions::default()
    };
    let (at, repair_ms) = exceptions
        .draw(1, Priority::Emergency)
        .breakdown
        .expect("every trip breaks down at share 1");
    assert_eq!(repair_ms, 1_200_000);
    let calls = vec![call(
        1,
        0.0,
        CALL_A.0,
        CALL_A.1,
        Priority::Emergency,
        30.0,
        600.0,
        false,
        0.0,
    )];
    let o = RunOptions {
        hours: 2.0,
        exceptions,
        ..RunOptions::default()
    };
    let res = engine::run(&w, &calls, &o, &mut |_| {}).unwrap();
    assert_eq!(res.breakdowns, 1);
    let broke = 30_000 + (e1 as f64 * at).round() as i64;
    let c = &res.calls[0];
    assert_eq!(c.decisions, 2, "sent twice");
    assert_eq!(c.crew.as_deref(), Some("C002"), "the other crew reached it");
    assert_eq!(
        c.on_scene,
        Some(broke + 30_000 + e2),
        "from S2, with its turnout"
    );
    // C001: busy from the dispatch until repaired; C002: from the hand-back to leaving the
    // scene.
    assert_eq!(res.crew_busy_ms[0], broke + 1_200_000);
    assert_eq!(res.crew_busy_ms[1], 30_000 + e2 + 600_000);
    // At share 0, nothing breaks down and the run is the usual one.
    let usual = engine::run(
        &w,
        &calls,
        &RunOptions {
            hours: 2.0,
            ..RunOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(usual.calls[0].on_scene, Some(30_000 + e1));
    assert_eq!(usual.breakdowns, 0);
}

/// Two calls wait for the only crew: an urgent one, then a non-urgent one. The later is
/// upgraded to an emergency a minute after it came in, so the crew, once free, takes it
/// first; without the upgrade it takes the urgent one first.
#[test]
fn an_upgraded_call_goes_before_the_waiting_urgent_one() {
    let r = router("monaco");
    let w = world(
        r.clone(),
        vec![place(&r, "S1", STATION.0, STATION.1)],
        vec![],
    );
    let (a, b, cc) = (
        r.snap(CALL_A.0, CALL_A.1).unwrap(),
        r.snap(CALL_B.0, CALL_B.1).unwrap(),
        r.snap(CALL_C.0, CALL_C.1).unwrap(),
    );
    let s = r.snap(STATION.0, STATION.1).unwrap();
    let eta = |x, y| i64::from(r.eta(x, y).unwrap());
    // A seed whose draws upgrade call 3 and not call 2, at share one half.
    let pick = |seed| Exceptions {
        upgrade_share: 0.5,
        retriage_after: LogNormal::new(60.0, 0.0),
        seed,
        ..Exceptions::default()
    };
    let seed = (1..100)
        .find(|&k| {
            let e = pick(k);
            e.draw(3, Priority::NonUrgent).retriage.is_some()
                && e.draw(2, Priority::Urgent).retriage.is_none()
        })
        .expect("a seed");
    let exceptions = pick(seed);
    assert_eq!(
        exceptions.draw(3, Priority::NonUrgent).retriage,
        Some((60_000, Priority::Emergency))
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
        call(
            2,
            10.0,
            CALL_B.0,
            CALL_B.1,
            Priority::Urgent,
            30.0,
            300.0,
            false,
            0.0,
        ),
        call(
            3,
            20.0,
            CALL_C.0,
            CALL_C.1,
            Priority::NonUrgent,
            30.0,
            300.0,
            false,
            0.0,
        ),
    ];
    let run = |exceptions| {
        let o = RunOptions {
            hours: 2.0,
            exceptions,
            ..RunOptions::default()
        };
        engine::run(&w, &calls, &o, &mut |_| {}).unwrap()
    };
    let free = 30_000 + eta(&s, &a) + 600_000;
    let res = run(exceptions);
    assert_eq!(res.retriaged, 1);
    let (c2, c3) = (&res.calls[1], &res.calls[2]);
    assert_eq!(c3.priority, Priority::Emergency, "recorded as it ended");
    assert_eq!(c3.assigned, Some(free));
    assert_eq!(
        c3.on_scene,
        Some(free + eta(&a, &cc)),
        "straight from the first scene"
    );
    let then = free + eta(&a, &cc) + 300_000;
    assert_eq!(c2.assigned, Some(then));
    assert_eq!(c2.on_scene, Some(then + eta(&cc, &b)));

    let usual = run(Exceptions::default());
    assert_eq!(usual.retriaged, 0);
    assert_eq!(
        usual.calls[1].assigned,
        Some(free),
        "urgent before non-urgent"
    );
    assert_eq!(usual.calls[2].priority, Priority::NonUrgent);
}
