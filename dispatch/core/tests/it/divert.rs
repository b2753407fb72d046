//! Diversion: a new emergency takes a crew on its way to a less urgent call when that crew
//! arrives at least the diversion gain (180 s) sooner than the best available crew, or
//! when none is available. Decisions computed by hand from exact road ETAs.

use dispatch_core::*;

use crate::helpers::*;

fn general(id: &str, p: P) -> NewCrew {
    crew(id, CrewType::General, p)
}

/// `U` on its way to an urgent call at `y`, standing at `u`; returns the dispatcher and the
/// urgent call.
fn on_its_way(config: DispatchConfig, u: P, y: P, priority: Priority) -> (Dispatcher, CallId) {
    let mut d = dispatcher(config);
    d.add_crew(general("U", u), T0).unwrap();
    let other = created(&d.new_call(NewCall::at(y.0, y.1, priority), T0).unwrap());
    assert_eq!(d.crew("U").unwrap().call, Some(other));
    d.set_crew_status("U", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    (d, other)
}

#[test]
fn an_emergency_diverts_a_crew_on_its_way_to_an_urgent_call_when_it_is_180_s_sooner() {
    let (x, far, near, almost) = reassignment_layout(180_000, 170_000);
    let y = points()[400];
    let gain = eta(far, x) - eta(near, x);
    assert!(gain >= 180_000, "{gain}");
    let (mut d, urgent) = on_its_way(DispatchConfig::default(), near, y, Priority::Urgent);
    d.add_crew(general("F", far), T0 + 2 * MIN).unwrap();
    let t = T0 + 3 * MIN;
    let ev = d
        .new_call(NewCall::at(x.0, x.1, Priority::Emergency), t)
        .unwrap();
    let emergency = created(&ev);
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 2, "{ev:?}");
    // The emergency: U, diverted, with both pools recorded.
    assert_eq!(dec[0].call_id, emergency);
    assert_eq!(dec[0].crew_id, "U");
    assert_eq!(dec[0].eta_ms, eta(near, x));
    assert_eq!(
        dec[0].reason,
        DecisionReason::Diverted {
            from_call: urgent,
            gain_ms: Some(gain)
        }
    );
    assert_eq!(
        dec[0].candidates,
        [Candidate {
            crew_id: "F".into(),
            eta_ms: eta(far, x)
        }]
    );
    assert_eq!(
        dec[0].divertible,
        [Candidate {
            crew_id: "U".into(),
            eta_ms: eta(near, x)
        }]
    );
    // The urgent call is handed back and takes the next crew, F.
    assert!(ev.contains(&Event::CallHandedBack {
        call_id: urgent,
        crew_id: "U".into(),
        reason: HandBackReason::Diverted,
        pickup: None
    }));
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "U".into(),
        call_id: urgent
    }));
    assert_eq!(dec[1].call_id, urgent);
    assert_eq!(dec[1].crew_id, "F");
    assert_eq!(dec[1].eta_ms, eta(far, y));
    assert_eq!(d.crew("U").unwrap().call, Some(emergency));
    assert_eq!(d.crew("U").unwrap().status, CrewStatus::Dispatched);
    check_invariants(&d);

    // Less than 180 s sooner: the available crew goes.
    let (mut d, urgent) = on_its_way(DispatchConfig::default(), almost, y, Priority::Urgent);
    d.add_crew(general("F", far), T0 + 2 * MIN).unwrap();
    let ev = d
        .new_call(NewCall::at(x.0, x.1, Priority::Emergency), t)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "F");
    assert_eq!(dec[0].reason, DecisionReason::NearestByRoad);
    assert!(dec[0].divertible.is_empty());
    assert_eq!(d.crew("U").unwrap().call, Some(urgent));
}

#[test]
fn with_no_crew_available_the_emergency_takes_the_crew_on_its_way_and_the_other_call_waits_first() {
    let (x, _, near, _) = reassignment_layout(180_000, 170_000);
    let pts = points();
    let (mut d, urgent) = on_its_way(DispatchConfig::default(), near, pts[400], Priority::Urgent);
    // Another urgent call, older than nothing but queued before the diversion.
    let waiting = created(
        &d.new_call(
            NewCall::at(pts[410].0, pts[410].1, Priority::Urgent),
            T0 + 2 * MIN,
        )
        .unwrap(),
    );
    let ev = d
        .new_call(NewCall::at(x.0, x.1, Priority::Emergency), T0 + 3 * MIN)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "U");
    assert_eq!(
        dec[0].reason,
        DecisionReason::Diverted {
            from_call: urgent,
            gain_ms: None
        }
    );
    assert!(dec[0].candidates.is_empty());
    assert!(queued(&ev, urgent));
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(
        q,
        [urgent, waiting],
        "the diverted-from call heads its priority"
    );
    check_invariants(&d);
}

#[test]
fn no_diversion_from_an_emergency_from_a_crew_on_scene_or_when_switched_off() {
    let (x, far, near, _) = reassignment_layout(180_000, 170_000);
    let y = points()[400];
    let emergency = NewCall::at(x.0, x.1, Priority::Emergency);
    // From another emergency: no.
    let (mut d, _) = on_its_way(DispatchConfig::default(), near, y, Priority::Emergency);
    d.add_crew(general("F", far), T0 + 2 * MIN).unwrap();
    let ev = d.new_call(emergency.clone(), T0 + 3 * MIN).unwrap();
    assert_eq!(decisions(&ev)[0].crew_id, "F");
    // Switched off: no.
    let off = DispatchConfig {
        diversion: false,
        ..Default::default()
    };
    let (mut d, _) = on_its_way(off, near, y, Priority::NonUrgent);
    d.add_crew(general("F", far), T0 + 2 * MIN).unwrap();
    let ev = d.new_call(emergency.clone(), T0 + 3 * MIN).unwrap();
    assert_eq!(decisions(&ev)[0].crew_id, "F");
    // A crew on scene stays where it is: the emergency waits.
    let (mut d, _) = on_its_way(DispatchConfig::default(), near, y, Priority::NonUrgent);
    d.set_crew_status("U", CrewStatus::OnScene, T0 + 2 * MIN)
        .unwrap();
    let ev = d.new_call(emergency.clone(), T0 + 3 * MIN).unwrap();
    assert!(decisions(&ev).is_empty());
    assert!(queued(&ev, created(&ev)));
    // Non-urgent calls are diverted from as urgent ones are; urgent calls divert no one.
    let (mut d, non_urgent) = on_its_way(DispatchConfig::default(), near, y, Priority::NonUrgent);
    let ev = d
        .new_call(NewCall::at(x.0, x.1, Priority::Urgent), T0 + 3 * MIN)
        .unwrap();
    assert!(decisions(&ev).is_empty());
    let ev = d.new_call(emergency, T0 + 4 * MIN).unwrap();
    assert!(matches!(
        decisions(&ev)[0].reason,
        DecisionReason::Diverted { from_call, .. } if from_call == non_urgent
    ));
    check_invariants(&d);
}
