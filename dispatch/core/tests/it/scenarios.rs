//! Hand-checkable scenarios: one crew and two calls, the queue, re-assignment, overrides,
//! cancellation, status following, errors.

use dispatch_core::*;

use crate::helpers::*;

fn general(id: &str, p: P) -> NewCrew {
    crew(id, CrewType::General, p)
}

fn call_at(p: P, priority: Priority) -> NewCall {
    NewCall::at(p.0, p.1, priority)
}

#[test]
fn one_crew_two_calls_second_waits_for_the_first() {
    let pts = points();
    let (base, c1, c2, hospital) = (pts[0], pts[100], pts[200], pts[300]);
    let mut d = dispatcher(DispatchConfig::default());
    let ev = d.add_crew(general("A1", base), T0).unwrap();
    assert!(matches!(&ev[..], [Event::CrewAdded { crew_id, .. }] if crew_id == "A1"));

    let ev = d
        .new_call(call_at(c1, Priority::Emergency), T0 + 1_000)
        .unwrap();
    let first = created(&ev);
    assert_eq!(first, CallId(1));
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "A1");
    assert_eq!(dec[0].reason, DecisionReason::NearestByRoad);
    assert_eq!(dec[0].eta_ms, eta(base, c1));
    assert_eq!(
        dec[0].candidates,
        vec![Candidate {
            crew_id: "A1".into(),
            eta_ms: eta(base, c1)
        }]
    );
    assert_eq!(d.call(first).unwrap().status, CallStatus::Assigned);
    assert_eq!(d.crew("A1").unwrap().status, CrewStatus::Dispatched);
    assert_eq!(d.crew("A1").unwrap().call, Some(first));
    check_invariants(&d);

    let ev = d
        .new_call(call_at(c2, Priority::Urgent), T0 + 2_000)
        .unwrap();
    let second = created(&ev);
    assert_eq!(second, CallId(2));
    assert!(queued(&ev, second));
    assert!(decisions(&ev).is_empty());
    assert_eq!(d.call(second).unwrap().status, CallStatus::Queued);
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [second]);
    check_invariants(&d);

    // The first call runs its course.
    let steps = [
        (CrewStatus::EnRoute, 3_000, CallStatus::EnRoute),
        (CrewStatus::OnScene, 300_000, CallStatus::OnScene),
        (CrewStatus::Transporting, 900_000, CallStatus::Transporting),
        (CrewStatus::AtHospital, 1_500_000, CallStatus::AtHospital),
    ];
    for (s, t, cs) in steps {
        let ev = d.set_crew_status("A1", s, T0 + t).unwrap();
        assert!(ev.contains(&Event::CallStatus {
            call_id: first,
            status: cs,
            at: T0 + t
        }));
        assert_eq!(d.call(first).unwrap().status, cs);
        check_invariants(&d);
    }
    d.move_crew("A1", hospital.0, hospital.1, T0 + 1_500_000)
        .unwrap();
    d.handover_recorded(first, T0 + 1_800_000).unwrap();
    let ev = d
        .set_crew_status("A1", CrewStatus::Available, T0 + 2_000_000)
        .unwrap();
    // Completed, then the crew takes the queued call from the hospital.
    let done = ev
        .iter()
        .position(|e| {
            *e == Event::CallStatus {
                call_id: first,
                status: CallStatus::Completed,
                at: T0 + 2_000_000,
            }
        })
        .expect("first call completed");
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].call_id, second);
    assert_eq!(dec[0].crew_id, "A1");
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    assert_eq!(dec[0].eta_ms, eta(hospital, c2));
    let assigned_at = ev
        .iter()
        .position(|e| matches!(e, Event::CallAssigned { .. }))
        .unwrap();
    assert!(done < assigned_at);
    assert!(d.queue().is_empty());
    check_invariants(&d);

    let t = d.call(first).unwrap().times;
    assert_eq!(
        t,
        CallTimes {
            received: Some(T0 + 1_000),
            assigned: Some(T0 + 1_000),
            crew_notified: Some(T0 + 1_000),
            en_route: Some(T0 + 3_000),
            on_scene: Some(T0 + 300_000),
            left_scene: Some(T0 + 900_000),
            at_hospital: Some(T0 + 1_500_000),
            handover: Some(T0 + 1_800_000),
            crew_available: Some(T0 + 2_000_000),
            closed: Some(T0 + 2_000_000),
        }
    );
    assert_eq!(t.response_ms(), Some(299_000));
    let t2 = d.call(second).unwrap().times;
    assert_eq!(t2.queue_ms(), Some(1_998_000));
    assert_eq!(d.call(second).unwrap().status, CallStatus::Assigned);
}

/// Four queued calls: a non-urgent one, an old far emergency, an urgent one, a new near
/// emergency; then three crews come free at `spot`.
fn four_queued_calls(order: QueueOrder) -> (Dispatcher, [CallId; 4], P) {
    let pts = points();
    let spot = pts[50];
    // Two emergency places: a far one (older call) and a near one (newer call).
    let mut by_eta: Vec<P> = pts.iter().copied().step_by(5).collect();
    by_eta.sort_by_key(|&p| eta(spot, p));
    let (near, far) = (by_eta[by_eta.len() / 4], by_eta[by_eta.len() - 1]);
    assert!(eta(spot, near) < eta(spot, far));
    let mut d = dispatcher(DispatchConfig {
        queue_order: order,
        ..Default::default()
    });
    let n = created(
        &d.new_call(call_at(pts[10], Priority::NonUrgent), T0)
            .unwrap(),
    );
    let e1 = created(
        &d.new_call(call_at(far, Priority::Emergency), T0 + 1)
            .unwrap(),
    );
    let u = created(
        &d.new_call(call_at(pts[20], Priority::Urgent), T0 + 2)
            .unwrap(),
    );
    let e2 = created(
        &d.new_call(call_at(near, Priority::Emergency), T0 + 3)
            .unwrap(),
    );
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [e1, e2, u, n]);
    check_invariants(&d);
    (d, [n, e1, u, e2], spot)
}

#[test]
fn queue_is_first_come_first_served_within_a_priority_by_default() {
    let (mut d, [n, e1, u, e2], spot) = four_queued_calls(QueueOrder::Age);
    let ev = d.add_crew(general("A1", spot), T0 + 10).unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(
        dec[0].call_id, e1,
        "equal priority: the oldest, however far"
    );
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    let at = d.call(e1).unwrap().position;
    assert_eq!(dec[0].eta_ms, eta(spot, (at.lat, at.lon)));
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [e2, u, n]);
    let ev = d.add_crew(general("A2", points()[10]), T0 + 20).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, e2);
    let ev = d.add_crew(general("A3", points()[10]), T0 + 30).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, u);
    check_invariants(&d);
}

#[test]
fn queue_by_eta_takes_the_nearest_of_the_highest_priority() {
    let (mut d, [n, e1, u, e2], spot) = four_queued_calls(QueueOrder::EtaWeighted);
    let ev = d.add_crew(general("A1", spot), T0 + 10).unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(
        dec[0].call_id, e2,
        "equal priority: the one it reaches soonest"
    );
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [e1, u, n]);
    check_invariants(&d);

    // The next crew takes the remaining emergency, wherever it is.
    let ev = d.add_crew(general("A2", points()[10]), T0 + 20).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, e1);
    // Then urgent before non-urgent.
    let ev = d.add_crew(general("A3", points()[10]), T0 + 30).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, u);
    check_invariants(&d);
}

#[test]
fn by_eta_a_far_old_call_starves_while_near_calls_keep_coming_and_by_age_it_does_not() {
    let pts = points();
    let spot = pts[50];
    let mut by_eta: Vec<P> = pts.iter().copied().step_by(5).collect();
    by_eta.sort_by_key(|&p| eta(spot, p));
    let (near, far) = (by_eta[1], by_eta[by_eta.len() - 1]);
    for (order, served_at) in [(QueueOrder::EtaWeighted, None), (QueueOrder::Age, Some(0))] {
        let mut d = dispatcher(DispatchConfig {
            queue_order: order,
            ..Default::default()
        });
        d.add_crew(general("A", spot), T0).unwrap();
        // A occupied; the far call waits, then a near call arrives before each release.
        d.new_call(call_at(spot, Priority::Urgent), T0).unwrap();
        let old = created(&d.new_call(call_at(far, Priority::Urgent), T0 + 1).unwrap());
        let mut served = None;
        for k in 0..10 {
            let t = T0 + (k + 1) * 10 * MIN;
            d.new_call(call_at(near, Priority::Urgent), t).unwrap();
            d.set_crew_status("A", CrewStatus::EnRoute, t + 1).unwrap();
            d.set_crew_status("A", CrewStatus::OnScene, t + 2).unwrap();
            // A finishes on scene, where it stands, next to the near calls.
            d.move_crew("A", spot.0, spot.1, t + 3).unwrap();
            let ev = d
                .set_crew_status("A", CrewStatus::Available, t + 4)
                .unwrap();
            if decisions(&ev)[0].call_id == old {
                served = Some(k);
                break;
            }
        }
        assert_eq!(served, served_at, "{order:?}");
    }
}

#[test]
fn equal_priority_and_place_goes_to_the_oldest_by_received_time() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    let mut late = call_at(pts[30], Priority::Urgent);
    late.received = Some(T0 + 10);
    let a = created(&d.new_call(late, T0 + 10).unwrap());
    // Entered later, but received earlier.
    let mut early = call_at(pts[30], Priority::Urgent);
    early.received = Some(T0 + 5);
    let b = created(&d.new_call(early, T0 + 20).unwrap());
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [b, a]);
    let ev = d.add_crew(general("A1", pts[40]), T0 + 30).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, b);
}

#[test]
fn a_crew_freed_two_minutes_sooner_takes_over_an_emergency_and_not_below() {
    let (x, far, near, almost) = reassignment_layout(120_000, 100_000);
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("F", far), T0).unwrap();
    let call = created(&d.new_call(call_at(x, Priority::Emergency), T0).unwrap());
    assert_eq!(d.crew("F").unwrap().call, Some(call));
    d.set_crew_status("F", CrewStatus::EnRoute, T0 + 1_000)
        .unwrap();

    // Less than two minutes sooner: nothing happens.
    let gain = eta(far, x) - eta(almost, x);
    assert!(gain < 120_000, "{gain}");
    let ev = d.add_crew(general("M", almost), T0 + 2_000).unwrap();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(d.crew("F").unwrap().call, Some(call));

    // At least two minutes sooner: the call is handed over and both crews are told.
    let gain = eta(far, x) - eta(near, x);
    assert!(gain >= 120_000, "{gain}");
    let ev = d.add_crew(general("N", near), T0 + 3_000).unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1, "{ev:?}");
    assert_eq!(dec[0].crew_id, "N");
    assert_eq!(
        dec[0].reason,
        DecisionReason::ReassignedFaster {
            previous_crew: "F".into(),
            gain_ms: gain
        }
    );
    assert_eq!(dec[0].eta_ms, eta(near, x));
    assert!(ev.iter().any(|e| matches!(e,
        Event::CallReassigned { from_crew, to_crew, .. } if from_crew == "F" && to_crew == "N")));
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "F".into(),
        call_id: call
    }));
    assert!(ev.contains(&Event::CrewStatus {
        crew_id: "F".into(),
        from: CrewStatus::EnRoute,
        to: CrewStatus::Available,
        at: T0 + 3_000
    }));
    assert_eq!(d.crew("F").unwrap().status, CrewStatus::Available);
    assert_eq!(d.crew("N").unwrap().call, Some(call));
    let c = d.call(call).unwrap();
    assert_eq!(active_crews(c), ["N"]);
    assert_eq!(c.status, CallStatus::Assigned);
    assert_eq!(c.decisions.len(), 2);
    check_invariants(&d);
}

#[test]
fn reassignment_threshold_is_inclusive_and_uses_the_current_position() {
    let (x, far, near, _) = reassignment_layout(120_000, 100_000);
    let gain = eta(far, x) - eta(near, x);
    for (threshold, expect) in [(gain, true), (gain + 1, false)] {
        let mut d = dispatcher(DispatchConfig {
            reassign_gain_ms: threshold,
            ..Default::default()
        });
        d.add_crew(general("F", far), T0).unwrap();
        let call = created(&d.new_call(call_at(x, Priority::Emergency), T0).unwrap());
        let ev = d.add_crew(general("N", near), T0 + 1).unwrap();
        assert_eq!(!decisions(&ev).is_empty(), expect, "threshold {threshold}");
        let holder = if expect { "N" } else { "F" };
        assert_eq!(d.crew(holder).unwrap().call, Some(call));
    }
    // The current crew has driven most of the way: its remaining ETA counts.
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("F", far), T0).unwrap();
    let call = created(&d.new_call(call_at(x, Priority::Emergency), T0).unwrap());
    d.move_crew("F", near.0, near.1, T0 + 60_000).unwrap();
    let ev = d.add_crew(general("N", near), T0 + 60_001).unwrap();
    assert!(decisions(&ev).is_empty());
    assert_eq!(d.crew("F").unwrap().call, Some(call));
    // Not for urgent calls, and not once on scene.
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("F", far), T0).unwrap();
    d.new_call(call_at(x, Priority::Urgent), T0).unwrap();
    let ev = d.add_crew(general("N", near), T0 + 1).unwrap();
    assert!(decisions(&ev).is_empty());
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("F", far), T0).unwrap();
    d.new_call(call_at(x, Priority::Emergency), T0).unwrap();
    d.set_crew_status("F", CrewStatus::EnRoute, T0).unwrap();
    d.set_crew_status("F", CrewStatus::OnScene, T0).unwrap();
    let ev = d.add_crew(general("N", near), T0 + 1).unwrap();
    assert!(decisions(&ev).is_empty());
}

#[test]
fn a_released_crew_cascades_into_the_queue() {
    let (x, far, near, _) = reassignment_layout(120_000, 100_000);
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("F", far), T0).unwrap();
    let call = created(&d.new_call(call_at(x, Priority::Emergency), T0).unwrap());
    let waiting = created(
        &d.new_call(call_at(pts[77], Priority::NonUrgent), T0 + 1)
            .unwrap(),
    );
    assert_eq!(d.call(waiting).unwrap().status, CallStatus::Queued);
    // N is free: the queued call is served first (by N, the only one free).
    let ev = d.add_crew(general("N", near), T0 + 2).unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec[0].call_id, waiting);
    assert_eq!(d.crew("F").unwrap().call, Some(call));
    // Once N is free again, nothing is queued, so it takes over the emergency and F is
    // released with nothing to do.
    d.set_crew_status("N", CrewStatus::EnRoute, T0 + 3).unwrap();
    d.set_crew_status("N", CrewStatus::OnScene, T0 + 4).unwrap();
    let ev = d
        .set_crew_status("N", CrewStatus::Available, T0 + 5)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1, "{ev:?}");
    assert!(matches!(
        dec[0].reason,
        DecisionReason::ReassignedFaster { .. }
    ));
    assert_eq!(d.crew("N").unwrap().call, Some(call));
    assert_eq!(d.crew("F").unwrap().status, CrewStatus::Available);
    check_invariants(&d);
}

#[test]
fn override_releases_the_previous_crew_and_diverts_a_busy_one() {
    let pts = points();
    let (x, y) = (pts[120], pts[400]);
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", x), T0).unwrap();
    d.add_crew(general("B", y), T0).unwrap();
    d.add_crew(crew("P", CrewType::Paediatric, x), T0).unwrap();
    let c1 = created(&d.new_call(call_at(x, Priority::Urgent), T0).unwrap());
    assert_eq!(d.crew("A").unwrap().call, Some(c1));

    // Refusals change nothing.
    let before = snapshot(&d);
    let e = d.assign_override(c1, "P", T0 + 1).unwrap_err();
    assert!(matches!(e, DispatchError::CrewNotAble { .. }), "{e}");
    let e = d.assign_override(c1, "A", T0 + 1).unwrap_err();
    assert!(matches!(e, DispatchError::AlreadyAssigned { .. }), "{e}");
    let e = d.assign_override(CallId(99), "B", T0 + 1).unwrap_err();
    assert!(matches!(e, DispatchError::UnknownCall(CallId(99))), "{e}");
    let e = d.assign_override(c1, "Z", T0 + 1).unwrap_err();
    assert!(matches!(e, DispatchError::UnknownCrew(_)), "{e}");
    assert_eq!(snapshot(&d), before);

    // Override to B: A is released and told.
    let ev = d.assign_override(c1, "B", T0 + 2).unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "B");
    assert_eq!(dec[0].reason, DecisionReason::DispatcherOverride);
    assert_eq!(dec[0].eta_ms, eta(y, x));
    assert!(ev.iter().any(|e| matches!(e,
        Event::CallReassigned { from_crew, to_crew, .. } if from_crew == "A" && to_crew == "B")));
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: c1
    }));
    assert_eq!(d.crew("A").unwrap().status, CrewStatus::Available);
    assert_eq!(active_crews(d.call(c1).unwrap()), ["B"]);
    check_invariants(&d);

    // A takes a second call; then the dispatcher diverts A to the first call: A replaces B
    // there, and the second call is re-dispatched (to B, now free).
    let c2 = created(&d.new_call(call_at(y, Priority::Urgent), T0 + 3).unwrap());
    assert_eq!(d.crew("A").unwrap().call, Some(c2));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + 4).unwrap();
    let ev = d.assign_override(c1, "A", T0 + 5).unwrap();
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: c2
    }));
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "B".into(),
        call_id: c1
    }));
    assert_eq!(d.crew("A").unwrap().call, Some(c1));
    assert_eq!(d.crew("B").unwrap().call, Some(c2));
    check_invariants(&d);

    // An out-of-service crew cannot be sent.
    d.set_crew_status("P", CrewStatus::OutOfService, T0 + 6)
        .unwrap();
    let before = snapshot(&d);
    let e = d.assign_override(c2, "P", T0 + 7).unwrap_err();
    assert!(matches!(e, DispatchError::CrewNotAvailable { .. }), "{e}");
    assert_eq!(snapshot(&d), before);
}

#[test]
fn cancel_releases_the_crew_which_takes_the_next_queued_call() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", pts[5]), T0).unwrap();
    let c1 = created(&d.new_call(call_at(pts[60], Priority::Urgent), T0).unwrap());
    let c2 = created(
        &d.new_call(call_at(pts[160], Priority::Urgent), T0 + 1)
            .unwrap(),
    );
    assert_eq!(d.call(c2).unwrap().status, CallStatus::Queued);
    let ev = d.cancel_call(c1, "duplicate call", T0 + 2).unwrap();
    assert_eq!(
        ev[0],
        Event::CallCancelled {
            call_id: c1,
            reason: "duplicate call".into()
        }
    );
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: c1
    }));
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].call_id, c2);
    assert_eq!(dec[0].reason, DecisionReason::QueuedThenReleased);
    assert_eq!(d.call(c1).unwrap().status, CallStatus::Cancelled);
    assert!(d.call(c1).unwrap().assignments.is_empty());
    check_invariants(&d);

    let before = snapshot(&d);
    let e = d.cancel_call(c1, "duplicate call", T0 + 3).unwrap_err();
    assert!(matches!(e, DispatchError::CallClosed { .. }), "{e}");
    assert_eq!(e.to_string(), format!("call {c1} is already cancelled"));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + 4).unwrap();
    d.set_crew_status("A", CrewStatus::OnScene, T0 + 5).unwrap();
    let before2 = snapshot(&d);
    let e = d.cancel_call(c2, "duplicate call", T0 + 6).unwrap_err();
    assert!(matches!(e, DispatchError::CallInProgress { .. }), "{e}");
    assert_eq!(snapshot(&d), before2);
    assert_ne!(before, before2);
    // A queued call with no crew can be cancelled too.
    let c3 = created(
        &d.new_call(call_at(pts[9], Priority::Urgent), T0 + 7)
            .unwrap(),
    );
    let ev = d.cancel_call(c3, "duplicate call", T0 + 8).unwrap();
    assert_eq!(
        ev,
        [
            Event::NeedsDropped {
                call_id: c3,
                needs: vec![0],
                reason: DropReason::CallClosed
            },
            Event::CallCancelled {
                call_id: c3,
                reason: "duplicate call".into()
            },
            Event::CallStatus {
                call_id: c3,
                status: CallStatus::Cancelled,
                at: T0 + 8
            }
        ]
    );
    assert!(d.queue().is_empty());
}

#[test]
fn illegal_transitions_are_refused_and_change_nothing() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", pts[5]), T0).unwrap();
    let before = snapshot(&d);
    let e = d.set_crew_status("A", CrewStatus::EnRoute, T0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "crew \"A\" cannot go from available to en_route"
    );
    let e = d
        .set_crew_status("A", CrewStatus::Available, T0)
        .unwrap_err();
    assert!(matches!(e, DispatchError::IllegalTransition { .. }));
    let e = d
        .set_crew_status("A", CrewStatus::Dispatched, T0)
        .unwrap_err();
    assert!(matches!(e, DispatchError::DispatchWithoutCall(_)), "{e}");
    assert_eq!(snapshot(&d), before);

    d.new_call(call_at(pts[90], Priority::Urgent), T0).unwrap();
    let before = snapshot(&d);
    for bad in [
        CrewStatus::OnScene,
        CrewStatus::Transporting,
        CrewStatus::AtHospital,
    ] {
        let e = d.set_crew_status("A", bad, T0).unwrap_err();
        assert!(
            matches!(e, DispatchError::IllegalTransition { from: CrewStatus::Dispatched, to, .. } if to == bad),
            "{e}"
        );
    }
    d.set_crew_status("A", CrewStatus::EnRoute, T0).unwrap();
    d.set_crew_status("A", CrewStatus::OnScene, T0).unwrap();
    d.set_crew_status("A", CrewStatus::Transporting, T0)
        .unwrap();
    let mid = snapshot(&d);
    assert_ne!(mid, before);
    let e = d
        .set_crew_status("A", CrewStatus::Available, T0)
        .unwrap_err();
    assert!(e.to_string().contains("transporting"), "{e}");
    assert_eq!(snapshot(&d), mid);
}

#[test]
fn unknown_ids_duplicates_and_off_map_positions_are_errors_that_change_nothing() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", pts[5]), T0).unwrap();
    d.add_hospital(
        NewHospital {
            id: "H".into(),
            name: "City".into(),
            lat: pts[8].0,
            lon: pts[8].1,
            capabilities: vec![Capability::General],
        },
        T0,
    )
    .unwrap();
    let before = snapshot(&d);
    let now = T0 + 5;
    let errs: Vec<DispatchError> = vec![
        d.new_call(NewCall::at(0.0, 0.0, Priority::Emergency), now)
            .unwrap_err(),
        d.new_call(NewCall::at(95.0, 0.0, Priority::Emergency), now)
            .unwrap_err(),
        d.new_call(NewCall::at(f64::NAN, 37.6, Priority::Emergency), now)
            .unwrap_err(),
        d.move_crew("A", 55.0, 30.0, now).unwrap_err(),
        d.move_crew("B", pts[1].0, pts[1].1, now).unwrap_err(),
        d.set_crew_status("B", CrewStatus::OutOfService, now)
            .unwrap_err(),
        d.remove_crew("B", now).unwrap_err(),
        d.add_crew(general("A", pts[6]), now).unwrap_err(),
        d.add_crew(general("C", (10.0, 10.0)), now).unwrap_err(),
        d.cancel_call(CallId(1), "test", now).unwrap_err(),
        d.handover_recorded(CallId(1), now).unwrap_err(),
        d.assign_override(CallId(1), "A", now).unwrap_err(),
        d.hospital_for("B", Capability::General).unwrap_err(),
        d.eta("A", CallId(1)).unwrap_err(),
        d.add_hospital(
            NewHospital {
                id: "H".into(),
                name: "Again".into(),
                lat: pts[9].0,
                lon: pts[9].1,
                capabilities: vec![],
            },
            now,
        )
        .unwrap_err(),
    ];
    assert_eq!(snapshot(&d), before);
    let messages: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert!(
        matches!(
            errs[0],
            DispatchError::OffMap(router::RouterError::NoSegment { .. })
        ),
        "{}",
        messages[0]
    );
    assert!(messages[0].starts_with("off the map: no road within 1000 m"));
    assert!(matches!(errs[1], DispatchError::OffMap(_)));
    assert!(matches!(errs[3], DispatchError::OffMap(_)));
    assert_eq!(messages[4], "unknown crew \"B\"");
    assert_eq!(messages[7], "a crew with id \"A\" exists already");
    assert_eq!(messages[9], "unknown call 1");
    assert!(matches!(errs[14], DispatchError::DuplicateHospital(_)));
    println!("{messages:#?}");

    // The failed calls used no id.
    let id = created(&d.new_call(call_at(pts[70], Priority::Urgent), now).unwrap());
    assert_eq!(id, CallId(1));
    let e = d
        .new_call(call_at(pts[71], Priority::Urgent).with_id(1), now)
        .unwrap_err();
    assert_eq!(e.to_string(), "a call with id 1 exists already");
    // Given ids are kept, and numbering continues past them.
    let id = created(
        &d.new_call(call_at(pts[71], Priority::Urgent).with_id(40), now)
            .unwrap(),
    );
    assert_eq!(id, CallId(40));
    let id = created(&d.new_call(call_at(pts[72], Priority::Urgent), now).unwrap());
    assert_eq!(id, CallId(41));
}

#[test]
fn status_following_without_transport_and_out_of_service_on_the_way() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", pts[5]), T0).unwrap();
    let c1 = created(&d.new_call(call_at(pts[50], Priority::Urgent), T0).unwrap());
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    d.set_crew_status("A", CrewStatus::OnScene, T0 + 5 * MIN)
        .unwrap();
    let ev = d
        .set_crew_status("A", CrewStatus::Available, T0 + 20 * MIN)
        .unwrap();
    assert!(ev.contains(&Event::CallStatus {
        call_id: c1,
        status: CallStatus::Completed,
        at: T0 + 20 * MIN
    }));
    let t = d.call(c1).unwrap().times;
    assert_eq!(t.left_scene, Some(T0 + 20 * MIN));
    assert_eq!(t.crew_available, Some(T0 + 20 * MIN));
    assert_eq!(t.at_hospital, None);
    assert_eq!(t.response_ms(), Some(5 * MIN));
    // A closed call refuses more.
    let e = d
        .cancel_call(c1, "duplicate call", T0 + 21 * MIN)
        .unwrap_err();
    assert!(matches!(e, DispatchError::CallClosed { .. }));

    // Out of service on the way: the call goes to another crew, or waits.
    let c2 = created(
        &d.new_call(call_at(pts[150], Priority::Urgent), T0 + 30 * MIN)
            .unwrap(),
    );
    assert_eq!(d.crew("A").unwrap().call, Some(c2));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + 31 * MIN)
        .unwrap();
    let ev = d
        .set_crew_status("A", CrewStatus::OutOfService, T0 + 32 * MIN)
        .unwrap();
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: c2
    }));
    assert!(queued(&ev, c2));
    assert_eq!(d.call(c2).unwrap().status, CallStatus::Queued);
    check_invariants(&d);
    let ev = d.add_crew(general("B", pts[7]), T0 + 33 * MIN).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, c2);
    // Stood down on the way with another crew free: the other crew takes it.
    d.add_crew(general("C", pts[8]), T0 + 34 * MIN).unwrap();
    let ev = d
        .set_crew_status("B", CrewStatus::Available, T0 + 35 * MIN)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "C");
    assert_eq!(d.crew("B").unwrap().status, CrewStatus::Available);
    check_invariants(&d);
    // Removing a crew on a call re-dispatches the call (to B).
    let ev = d.remove_crew("C", T0 + 36 * MIN).unwrap();
    assert_eq!(
        ev.last(),
        Some(&Event::CrewRemoved {
            crew_id: "C".into()
        })
    );
    assert_eq!(d.crew("B").unwrap().call, Some(c2));
    assert!(d.crew("C").is_none());
    check_invariants(&d);
    // The slot is reused cleanly.
    d.add_crew(general("D", pts[9]), T0 + 37 * MIN).unwrap();
    assert_eq!(d.crews().count(), 3);
    check_invariants(&d);
}

#[test]
fn a_call_entered_with_its_point_on_the_road_is_decided_as_one_snapped_by_the_core() {
    let pts = points();
    let mut by_core = dispatcher(DispatchConfig::default());
    let mut on_road = dispatcher(DispatchConfig::default());
    for (i, k) in [0, 150, 300].into_iter().enumerate() {
        let c = general(&format!("A{i}"), pts[k]);
        by_core.add_crew(c.clone(), T0).unwrap();
        on_road.add_crew(c, T0).unwrap();
    }
    for (j, k) in [40, 220, 360].into_iter().enumerate() {
        let t = T0 + j as i64 * MIN;
        let a = by_core
            .new_call(call_at(pts[k], Priority::Urgent), t)
            .unwrap();
        let b = on_road
            .new_call_on_road(call_at(pts[k], Priority::Urgent), &snap(pts[k]), t)
            .unwrap();
        assert_eq!(a, b, "call {j}");
        assert_eq!(decisions(&a).len(), 1, "call {j} gets a crew");
    }
}
