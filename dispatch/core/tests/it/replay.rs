//! Restart recovery: a dispatcher restored from the events of live operations is the same
//! dispatcher, and replaying an event that does not fit is an error.

use dispatch_core::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::helpers::*;
use crate::props::{apply, random_ops, Op};

/// Everything visible: every crew, every call (by id), the queue order and the hospitals.
pub(crate) fn state(d: &Dispatcher) -> serde_json::Value {
    let crews: Vec<_> = d.crews().collect();
    let mut calls: Vec<_> = d.calls().collect();
    calls.sort_by_key(|c| c.id);
    let queue: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    let hospitals: Vec<_> = d.hospitals().collect();
    serde_json::json!({
        "crews": serde_json::to_value(crews).unwrap(),
        "calls": serde_json::to_value(calls).unwrap(),
        "queue": serde_json::to_value(queue).unwrap(),
        "hospitals": serde_json::to_value(hospitals).unwrap(),
    })
}

pub(crate) fn hospitals(d: &mut Dispatcher, now: i64) -> Vec<Event> {
    let pts = points();
    let mut events = Vec::new();
    for (i, caps) in [
        vec![Capability::General, Capability::Trauma],
        vec![Capability::Pci, Capability::Stroke, Capability::General],
    ]
    .into_iter()
    .enumerate()
    {
        let p = pts[(i * 97 + 11) % pts.len()];
        let h = NewHospital {
            id: format!("H{i}"),
            name: format!("Hospital {i}"),
            lat: p.0,
            lon: p.1,
            capabilities: caps,
        };
        events.extend(d.add_hospital(h, now).unwrap());
    }
    events
}

/// Random operations with some handovers mixed in.
pub(crate) fn ops(rng: &mut StdRng, n: usize) -> Vec<Op> {
    let mut ops = random_ops(rng, n);
    for op in ops.iter_mut() {
        if rng.gen_ratio(1, 25) {
            *op = Op::Handover(rng.gen_range(0..1000));
        }
    }
    ops
}

fn configs() -> [DispatchConfig; 2] {
    [
        DispatchConfig::default(),
        DispatchConfig {
            reassign_gain_ms: 0,
            interim_general_for_specialist: false,
            policy: Policy::StraightLine,
            queue_order: QueueOrder::EtaWeighted,
            diversion: false,
            ..Default::default()
        },
    ]
}

#[test]
fn restore_rebuilds_the_same_dispatcher() {
    let seeds: u64 = std::env::var("REPLAY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let base = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125u64);
    let mut totals = [0usize; 3];
    for seed in base..base + seeds {
        println!("restore_rebuilds_the_same_dispatcher: seed {seed} (TEST_SEED={seed} REPLAY_SEEDS=1 to replay)");
        let mut rng = StdRng::seed_from_u64(seed);
        let config = configs()[(seed % 2) as usize];
        let mut live = Dispatcher::new(own_router(), config);
        let mut log = hospitals(&mut live, T0);
        let mut added = 0;
        let history = ops(&mut rng, 150);
        for (k, op) in history.iter().enumerate() {
            let now = T0 + 10_000 * (k as i64 + 1);
            if let Ok(events) = apply(&mut live, &mut added, op, now) {
                log.extend(events);
            }
        }
        totals[0] += log.len();
        totals[1] += log
            .iter()
            .filter(|e| matches!(e, Event::CallReassigned { .. }))
            .count();
        totals[2] += live.calls().count();

        let mut restored = Dispatcher::restore(live.router().clone(), config, &log)
            .unwrap_or_else(|e| panic!("seed {seed}: restore failed: {e}"));
        assert_eq!(
            state(&restored),
            state(&live),
            "seed {seed}: restored state"
        );
        check_invariants(&restored);

        // The same next operations give the same events on both: a call without an id
        // (the id counter), then more random operations.
        let start = T0 + 10_000 * (history.len() as i64 + 1);
        let p = points()[(seed as usize * 31) % points().len()];
        let call = NewCall::at(p.0, p.1, Priority::Emergency);
        let a = live.new_call(call.clone(), start).unwrap();
        let b = restored.new_call(call, start).unwrap();
        assert_eq!(a, b, "seed {seed}: next call");
        let mut added_b = added;
        // (Closures left out: the two share the map, so a closure would be added twice.)
        let next = ops(&mut rng, 40)
            .into_iter()
            .filter(|op| !matches!(op, Op::Close(..) | Op::Reopen(_)));
        for (k, op) in next.enumerate() {
            let now = start + 10_000 * (k as i64 + 1);
            let a = apply(&mut live, &mut added, &op, now).map_err(|e| e.to_string());
            let b = apply(&mut restored, &mut added_b, &op, now).map_err(|e| e.to_string());
            assert_eq!(a, b, "seed {seed}: {op:?} after restore");
        }
        // Every crew back in service, so every crew takes its turn at the queue.
        let ids: Vec<String> = live.crews().map(|c| c.id.clone()).collect();
        for (k, id) in ids.iter().enumerate() {
            let now = start + 1_000_000 + 10_000 * k as i64;
            for to in [CrewStatus::OutOfService, CrewStatus::Available] {
                let a = live.set_crew_status(id, to, now).map_err(|e| e.to_string());
                let b = restored
                    .set_crew_status(id, to, now)
                    .map_err(|e| e.to_string());
                assert_eq!(a, b, "seed {seed}: {id} {to}");
            }
        }
        assert_eq!(state(&restored), state(&live), "seed {seed}: final state");
    }
    println!(
        "{seeds} seeds: {} events replayed, {} re-assignments, {} calls",
        totals[0], totals[1], totals[2]
    );
    assert!(totals[1] > 0, "the logs should hold re-assignments");
}

#[test]
fn replaying_the_log_from_json_gives_the_same_events() {
    let mut rng = rng("replaying_the_log_from_json_gives_the_same_events");
    let mut live = Dispatcher::new(own_router(), DispatchConfig::default());
    let mut log = hospitals(&mut live, T0);
    let mut added = 0;
    for (k, op) in ops(&mut rng, 120).iter().enumerate() {
        if let Ok(events) = apply(&mut live, &mut added, op, T0 + 10_000 * (k as i64 + 1)) {
            log.extend(events);
        }
    }
    // As the service stores it: one JSON line per event.
    let text: Vec<String> = log
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let parsed: Vec<Event> = text
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let restored =
        Dispatcher::restore(live.router().clone(), DispatchConfig::default(), &parsed).unwrap();
    check_invariants(&restored);
    let ids = |d: &Dispatcher| {
        d.crews()
            .map(|c| (c.id.clone(), c.status, c.call))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&restored), ids(&live));
    let calls = |d: &Dispatcher| {
        d.calls()
            .map(|c| {
                (
                    c.id,
                    c.status,
                    c.times,
                    c.assignments.clone(),
                    c.decisions.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(calls(&restored), calls(&live));
}

#[test]
fn old_logs_without_need_index_replay_to_the_same_assignments() {
    // A call needing two general crews: the second decision fills need 1.
    let mut d = dispatcher(DispatchConfig::default());
    let pts = points();
    let mut log = Vec::new();
    log.extend(
        d.add_crew(crew("A", CrewType::General, pts[3]), T0)
            .unwrap(),
    );
    log.extend(
        d.add_crew(crew("B", CrewType::General, pts[40]), T0)
            .unwrap(),
    );
    let p = pts[20];
    log.extend(
        d.new_call(
            NewCall::at(p.0, p.1, Priority::Urgent)
                .with_needs(&[CrewType::General, CrewType::General]),
            T0 + 1,
        )
        .unwrap(),
    );
    let old: Vec<Event> = log
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap();
            if let Some(dec) = v.get_mut("decision").and_then(|d| d.as_object_mut()) {
                dec.remove("need_index");
                dec.remove("interim");
            }
            serde_json::from_value(v).unwrap()
        })
        .collect();
    let r = Dispatcher::restore(router(), DispatchConfig::default(), &old).unwrap();
    let a = d.calls().next().unwrap();
    let b = r.calls().next().unwrap();
    assert_eq!(a.assignments, b.assignments);
    assert_eq!(
        a.assignments
            .iter()
            .map(|a| a.need_index)
            .collect::<Vec<_>>(),
        [0, 1]
    );
    check_invariants(&r);
}

#[test]
fn replaying_an_event_that_does_not_fit_is_an_error() {
    let mut d = dispatcher(DispatchConfig::default());
    let p = points()[5];
    d.add_crew(crew("A", CrewType::General, p), T0).unwrap();
    let before = snapshot(&d);
    let decision = Decision {
        call_id: CallId(9),
        crew_id: "A".into(),
        need: CrewType::General,
        need_index: Some(0),
        interim: false,
        eta_ms: 1,
        at: T0,
        reason: DecisionReason::NearestByRoad,
        candidates: Vec::new(),
        divertible: Vec::new(),
    };
    let ghost = "X".to_string();
    let unknown_crew = [
        Event::CrewStatus {
            crew_id: ghost.clone(),
            from: CrewStatus::Available,
            to: CrewStatus::OutOfService,
            at: T0,
        },
        Event::CrewMoved {
            crew_id: ghost.clone(),
            lat: p.0,
            lon: p.1,
        },
        Event::CrewRemoved {
            crew_id: ghost.clone(),
        },
        Event::CrewReleased {
            crew_id: ghost.clone(),
            call_id: CallId(1),
        },
        Event::CallAssigned {
            decision: Decision {
                crew_id: ghost.clone(),
                ..decision.clone()
            },
        },
    ];
    for e in &unknown_crew {
        let r = d.replay(e);
        assert!(
            matches!(r, Err(DispatchError::UnknownCrew(ref id)) if *id == ghost),
            "{e:?}: {r:?}"
        );
    }
    let unknown_call = [
        Event::CallAssigned {
            decision: decision.clone(),
        },
        Event::CallReassigned {
            from_crew: "B".into(),
            to_crew: "A".into(),
            decision: decision.clone(),
        },
        Event::CallQueued {
            call_id: CallId(9),
            pending: vec![CrewType::General],
        },
        Event::CallCancelled {
            call_id: CallId(9),
            reason: String::new(),
        },
        Event::CallStatus {
            call_id: CallId(9),
            status: CallStatus::Completed,
            at: T0,
        },
        Event::HandoverRecorded {
            call_id: CallId(9),
            at: T0,
        },
        Event::CrewReleased {
            crew_id: "A".into(),
            call_id: CallId(9),
        },
    ];
    for e in &unknown_call {
        let r = d.replay(e);
        assert!(
            matches!(r, Err(DispatchError::UnknownCall(CallId(9)))),
            "{e:?}: {r:?}"
        );
    }
    // Events that name known things but do not fit.
    let misfits = [
        // Not in that status.
        Event::CrewStatus {
            crew_id: "A".into(),
            from: CrewStatus::EnRoute,
            to: CrewStatus::OnScene,
            at: T0,
        },
        // Dispatched without a call.
        Event::CrewStatus {
            crew_id: "A".into(),
            from: CrewStatus::Available,
            to: CrewStatus::Dispatched,
            at: T0,
        },
        // Removed while available.
        Event::CrewRemoved {
            crew_id: "A".into(),
        },
        Event::CrewAdded {
            crew_id: "A".into(),
            crew_type: CrewType::General,
            station: None,
            call_sign: None,
            shift_end: None,
            lat: p.0,
            lon: p.1,
        },
    ];
    for e in &misfits {
        let r = d.replay(e);
        assert!(r.is_err(), "{e:?}");
    }
    assert_eq!(snapshot(&d), before, "errors change nothing");

    // A call and a decision that names a need the call does not have, or a crew that is
    // busy.
    d.replay(&Event::CallCreated {
        call_id: CallId(9),
        priority: Priority::Urgent,
        needs: vec![CrewType::Paediatric],
        lat: p.0,
        lon: p.1,
        complaint: String::new(),
        address: String::new(),
        place: None,
        phone: None,
        notes: String::new(),
        received: T0,
    })
    .unwrap();
    let before = snapshot(&d);
    let r = d.replay(&Event::CallAssigned {
        decision: decision.clone(),
    });
    assert!(matches!(r, Err(DispatchError::Inconsistent(_))), "{r:?}");
    let r = d.replay(&Event::CallReassigned {
        from_crew: "A".into(),
        to_crew: "A".into(),
        decision: Decision {
            need: CrewType::Paediatric,
            ..decision.clone()
        },
    });
    assert!(matches!(r, Err(DispatchError::Inconsistent(_))), "{r:?}");
    assert_eq!(snapshot(&d), before, "errors change nothing");
    // The replayed call id keeps the counter above it.
    let q = points()[50];
    let ev = d
        .new_call(NewCall::at(q.0, q.1, Priority::Urgent), T0 + 5)
        .unwrap();
    assert_eq!(created(&ev), CallId(10));
    check_invariants(&d);
}
