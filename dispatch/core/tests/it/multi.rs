//! Calls needing several crews, interim general crews for specialist needs, hospitals.

use dispatch_core::*;
use rand::Rng;

use crate::helpers::*;

/// The best crew of `pool` able to serve `need` at `at` by road (ties by id).
fn best_of(pool: &[(String, CrewType, P)], need: CrewType, at: P) -> String {
    pool.iter()
        .filter(|c| c.1.can_serve(need))
        .min_by_key(|c| (eta(c.2, at), c.0.clone()))
        .expect("an able crew")
        .0
        .clone()
}

#[test]
fn multi_casualty_call_gets_distinct_crews_each_the_best_remaining() {
    let mut rng = rng("multi_casualty_call_gets_distinct_crews_each_the_best_remaining");
    let pts = points();
    for round in 0..20 {
        let mut pool: Vec<(String, CrewType, P)> = Vec::new();
        for (id, t) in [
            ("G1", CrewType::General),
            ("G2", CrewType::General),
            ("G3", CrewType::General),
            ("R1", CrewType::Resuscitation),
            ("R2", CrewType::Resuscitation),
        ] {
            pool.push((id.into(), t, pts[rng.gen_range(0..pts.len())]));
        }
        let x = pts[rng.gen_range(0..pts.len())];
        let mut d = dispatcher(DispatchConfig::default());
        for (id, t, p) in &pool {
            d.add_crew(crew(id, *t, *p), T0).unwrap();
        }
        let needs = [
            CrewType::General,
            CrewType::General,
            CrewType::Resuscitation,
        ];
        let ev = d
            .new_call(
                NewCall::at(x.0, x.1, Priority::Emergency).with_needs(&needs),
                T0,
            )
            .unwrap();
        // Expected: the specialist need first, then the general ones, each from what is left.
        let mut expected = Vec::new();
        for need in [
            CrewType::Resuscitation,
            CrewType::General,
            CrewType::General,
        ] {
            let id = best_of(&pool, need, x);
            pool.retain(|c| c.0 != id);
            expected.push((id, need));
        }
        let got: Vec<(String, CrewType)> = decisions(&ev)
            .iter()
            .map(|d| (d.crew_id.clone(), d.need))
            .collect();
        assert_eq!(got, expected, "round {round}");
        let call = d.call(created(&ev)).unwrap();
        let mut ids = active_crews(call);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        let idx: Vec<usize> = call.assignments.iter().map(|a| a.need_index).collect();
        assert_eq!(idx, [2, 0, 1]);
        assert!(d.queue().is_empty());
        assert_eq!(call.status, CallStatus::Assigned);
        check_invariants(&d);
    }
}

#[test]
fn a_call_short_of_crews_waits_for_the_rest() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("G1", CrewType::General, pts[3]), T0)
        .unwrap();
    let ev = d
        .new_call(
            NewCall::at(pts[200].0, pts[200].1, Priority::Urgent)
                .with_needs(&[CrewType::General, CrewType::General]),
            T0,
        )
        .unwrap();
    let call = created(&ev);
    assert_eq!(decisions(&ev).len(), 1);
    assert!(ev.contains(&Event::CallQueued {
        call_id: call,
        pending: vec![CrewType::General]
    }));
    assert_eq!(d.call(call).unwrap().status, CallStatus::Assigned);
    assert_eq!(d.queue().len(), 1);
    check_invariants(&d);
    let ev = d
        .add_crew(crew("G2", CrewType::General, pts[4]), T0 + 1)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    assert_eq!(d.call(call).unwrap().assignments[1].need_index, 1);
    assert!(d.queue().is_empty());
    // A psychiatric crew serves neither need; an ALS crew serves a general one.
    let c2 = created(
        &d.new_call(NewCall::at(pts[9].0, pts[9].1, Priority::Urgent), T0 + 2)
            .unwrap(),
    );
    let ev = d
        .add_crew(crew("S1", CrewType::Psychiatric, pts[9]), T0 + 3)
        .unwrap();
    assert!(decisions(&ev).is_empty());
    let ev = d
        .add_crew(crew("R1", CrewType::Resuscitation, pts[50]), T0 + 4)
        .unwrap();
    assert_eq!(decisions(&ev)[0].call_id, c2);
    assert_eq!(decisions(&ev)[0].crew_id, "R1");
    check_invariants(&d);
}

#[test]
fn interim_general_crew_when_the_specialist_is_far_or_not_free() {
    let (x, far, near, _) = reassignment_layout(120_000, 100_000);
    let emergency =
        |needs: &[CrewType]| NewCall::at(x.0, x.1, Priority::Emergency).with_needs(needs);
    let paed = [CrewType::Paediatric];

    // No paediatric crew free: the general crew goes at once, the call waits for the rest.
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("G", CrewType::General, near), T0).unwrap();
    let ev = d.new_call(emergency(&paed), T0).unwrap();
    let call = created(&ev);
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "G");
    assert_eq!(dec[0].reason, DecisionReason::InterimGeneralCrew);
    assert_eq!(dec[0].need, CrewType::Paediatric);
    assert!(queued(&ev, call));
    assert!(d.call(call).unwrap().assignments[0].interim);
    assert_eq!(d.call(call).unwrap().status, CallStatus::Assigned);
    check_invariants(&d);
    // The specialist comes free: it takes the call; the general crew stays.
    let ev = d
        .add_crew(crew("P", CrewType::Paediatric, far), T0 + 1)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec[0].crew_id, "P");
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    assert_eq!(active_crews(d.call(call).unwrap()), ["G", "P"]);
    assert!(d.queue().is_empty());
    check_invariants(&d);

    // The specialist is free but more than two minutes later than a general crew: both go.
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("G", CrewType::General, near), T0).unwrap();
    d.add_crew(crew("P", CrewType::Paediatric, far), T0)
        .unwrap();
    let ev = d.new_call(emergency(&paed), T0).unwrap();
    let got: Vec<(String, DecisionReason)> = decisions(&ev)
        .iter()
        .map(|d| (d.crew_id.clone(), d.reason.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("P".to_string(), DecisionReason::NearestByRoad),
            ("G".to_string(), DecisionReason::InterimGeneralCrew)
        ]
    );
    assert!(!queued(&ev, created(&ev)));
    check_invariants(&d);

    // The specialist is the nearer one: no interim crew.
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("G", CrewType::General, far), T0).unwrap();
    d.add_crew(crew("P", CrewType::Paediatric, near), T0)
        .unwrap();
    let ev = d.new_call(emergency(&paed), T0).unwrap();
    assert_eq!(decisions(&ev).len(), 1);
    assert_eq!(d.crew("G").unwrap().status, CrewStatus::Available);

    // Not for urgent calls, nor when switched off.
    for (priority, on) in [(Priority::Urgent, true), (Priority::Emergency, false)] {
        let mut d = dispatcher(DispatchConfig {
            interim_general_for_specialist: on,
            ..Default::default()
        });
        d.add_crew(crew("G", CrewType::General, near), T0).unwrap();
        let ev = d
            .new_call(NewCall::at(x.0, x.1, priority).with_needs(&paed), T0)
            .unwrap();
        assert!(decisions(&ev).is_empty(), "{priority} {on}");
        assert!(queued(&ev, created(&ev)));
        check_invariants(&d);
    }

    // Nobody free at all: the first general crew to come free goes as interim.
    let mut d = dispatcher(DispatchConfig::default());
    let call = created(&d.new_call(emergency(&paed), T0).unwrap());
    let ev = d
        .add_crew(crew("G", CrewType::General, near), T0 + 1)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec[0].reason, DecisionReason::InterimGeneralCrew);
    assert_eq!(dec[0].call_id, call);
    // A second general crew is not sent as well.
    let ev = d
        .add_crew(crew("G2", CrewType::General, near), T0 + 2)
        .unwrap();
    assert!(decisions(&ev).is_empty());
    check_invariants(&d);
}

#[test]
fn hospital_is_the_capable_one_reached_soonest() {
    let mut rng = rng("hospital_is_the_capable_one_reached_soonest");
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    let specs = [
        ("H1", vec![Capability::General, Capability::Pci]),
        ("H2", vec![Capability::General, Capability::Stroke]),
        ("H3", vec![Capability::Paediatric, Capability::General]),
        ("H4", vec![Capability::Pci]),
    ];
    let mut placed = Vec::new();
    for (id, caps) in &specs {
        let p = pts[rng.gen_range(0..pts.len())];
        let ev = d
            .add_hospital(
                NewHospital {
                    id: (*id).into(),
                    name: format!("Hospital {id}"),
                    lat: p.0,
                    lon: p.1,
                    capabilities: caps.clone(),
                },
                T0,
            )
            .unwrap();
        assert!(matches!(ev[0], Event::HospitalAdded { .. }));
        placed.push((id.to_string(), caps.clone(), p));
    }
    d.add_crew(crew("A", CrewType::General, pts[0]), T0)
        .unwrap();
    for _ in 0..30 {
        let p = pts[rng.gen_range(0..pts.len())];
        d.move_crew("A", p.0, p.1, T0).unwrap();
        for cap in [
            Capability::Pci,
            Capability::Stroke,
            Capability::Trauma,
            Capability::Paediatric,
            Capability::General,
        ] {
            let truth = placed
                .iter()
                .filter(|h| h.1.contains(&cap))
                .map(|h| (eta(p, h.2), h.0.clone()))
                .min()
                .map(|(e, id)| (id, e));
            assert_eq!(d.hospital_for("A", cap).unwrap(), truth, "{cap} from {p:?}");
        }
    }
    assert_eq!(d.hospital_for("A", Capability::Trauma).unwrap(), None);
    // Equal ETAs: the lowest id, whatever the order they were added in.
    let q = pts[123];
    for id in ["TB", "TA"] {
        d.add_hospital(
            NewHospital {
                id: id.into(),
                name: id.into(),
                lat: q.0,
                lon: q.1,
                capabilities: vec![Capability::Trauma],
            },
            T0,
        )
        .unwrap();
    }
    assert_eq!(
        d.hospital_for("A", Capability::Trauma).unwrap().unwrap().0,
        "TA"
    );
    let ids: Vec<&str> = d.hospitals().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["H1", "H2", "H3", "H4", "TA", "TB"]);
}
