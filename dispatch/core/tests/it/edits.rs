//! Re-triage and corrections after intake, crew changes and shift ends, with decisions
//! computed by hand from exact road ETAs.

use dispatch_core::*;

use crate::helpers::*;

fn general(id: &str, p: P) -> NewCrew {
    crew(id, CrewType::General, p)
}

fn call_at(p: P, priority: Priority) -> NewCall {
    NewCall::at(p.0, p.1, priority)
}

#[test]
fn an_upgraded_emergency_diverts_a_crew_and_a_downgrade_moves_the_call_back_in_the_queue() {
    let (x, _, near, _) = reassignment_layout(180_000, 170_000);
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("U", near), T0).unwrap();
    let non_urgent = created(
        &d.new_call(call_at(pts[400], Priority::NonUrgent), T0)
            .unwrap(),
    );
    d.set_crew_status("U", CrewStatus::EnRoute, T0 + 1).unwrap();
    let a = created(&d.new_call(call_at(x, Priority::Urgent), T0 + 2).unwrap());
    let b = created(
        &d.new_call(call_at(pts[10], Priority::Urgent), T0 + 3)
            .unwrap(),
    );
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [a, b]);
    // Re-triage: b is an emergency after all. Nobody is free: U is diverted to it.
    let ev = d
        .edit_call(
            b,
            CallEdit {
                priority: Some(Priority::Emergency),
                ..Default::default()
            },
            T0 + 4,
        )
        .unwrap();
    assert_eq!(
        ev[0],
        Event::CallEdited {
            call_id: b,
            changes: CallEdit {
                priority: Some(Priority::Emergency),
                ..Default::default()
            }
        }
    );
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "U");
    assert_eq!(dec[0].eta_ms, eta(near, pts[10]));
    assert_eq!(
        dec[0].reason,
        DecisionReason::Diverted {
            from_call: non_urgent,
            gain_ms: None
        }
    );
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [a, non_urgent]);
    // A downgrade moves a behind.
    d.edit_call(
        a,
        CallEdit {
            priority: Some(Priority::NonUrgent),
            ..Default::default()
        },
        T0 + 5,
    )
    .unwrap();
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [non_urgent, a], "the handed-back call heads non-urgent");
    check_invariants(&d);
}

#[test]
fn a_corrected_place_is_decided_again_until_a_crew_is_on_scene() {
    let pts = points();
    let (x, y) = (pts[30], pts[450]);
    // A near x, B near y.
    let (a_at, b_at) = (pts[31], pts[451]);
    assert!(eta(a_at, x) < eta(b_at, x) && eta(b_at, y) < eta(a_at, y));
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", a_at), T0).unwrap();
    d.add_crew(general("B", b_at), T0).unwrap();
    let call = created(&d.new_call(call_at(x, Priority::Urgent), T0).unwrap());
    assert_eq!(d.crew("A").unwrap().call, Some(call));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    let moved = CallEdit {
        position: Some(Position { lat: y.0, lon: y.1 }),
        address: Some("ул. Гончарова, д. 4, стр. 3".into()),
        ..Default::default()
    };
    let ev = d.edit_call(call, moved, T0 + 2 * MIN).unwrap();
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: call
    }));
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(
        (dec[0].crew_id.as_str(), dec[0].eta_ms),
        ("B", eta(b_at, y))
    );
    let c = d.call(call).unwrap();
    assert_eq!((c.position.lat, c.position.lon), y);
    assert_eq!(c.address, "ул. Гончарова, д. 4, стр. 3");
    assert_eq!(d.crew("A").unwrap().status, CrewStatus::Available);
    check_invariants(&d);
    // Once B is on scene, a new place is only recorded.
    d.set_crew_status("B", CrewStatus::EnRoute, T0 + 3 * MIN)
        .unwrap();
    d.set_crew_status("B", CrewStatus::OnScene, T0 + 9 * MIN)
        .unwrap();
    let ev = d
        .edit_call(
            call,
            CallEdit {
                position: Some(Position { lat: x.0, lon: x.1 }),
                ..Default::default()
            },
            T0 + 10 * MIN,
        )
        .unwrap();
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(active_crews(d.call(call).unwrap()), ["B"]);
    // Off the map: refused, nothing changed.
    let before = snapshot(&d);
    let e = d
        .edit_call(
            call,
            CallEdit {
                position: Some(Position { lat: 0.0, lon: 0.0 }),
                ..Default::default()
            },
            T0 + 11 * MIN,
        )
        .unwrap_err();
    assert!(matches!(e, DispatchError::OffMap(_)), "{e}");
    assert_eq!(snapshot(&d), before);
}

#[test]
fn needs_change_on_scene_sends_the_new_crew_and_refuses_what_cannot_be() {
    let pts = points();
    let x = pts[60];
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("G", pts[61]), T0).unwrap();
    d.add_crew(crew("R", CrewType::Resuscitation, pts[300]), T0)
        .unwrap();
    d.add_crew(crew("P", CrewType::Paediatric, pts[200]), T0)
        .unwrap();
    let call = created(&d.new_call(call_at(x, Priority::Urgent), T0).unwrap());
    assert_eq!(
        d.crew("G").unwrap().call,
        Some(call),
        "G is nearest of the able"
    );
    d.set_crew_status("G", CrewStatus::EnRoute, T0 + 1).unwrap();
    d.set_crew_status("G", CrewStatus::OnScene, T0 + 2).unwrap();
    // The crew on scene asks for a resuscitation crew.
    let needs = vec![CrewType::General, CrewType::Resuscitation];
    let ev = d
        .edit_call(
            call,
            CallEdit {
                needs: Some(needs.clone()),
                ..Default::default()
            },
            T0 + 3,
        )
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!((dec[0].crew_id.as_str(), dec[0].need_index), ("R", Some(1)));
    assert_eq!(dec[0].eta_ms, eta(pts[300], x));
    check_invariants(&d);
    // Swapping resuscitation for paediatric releases R (on its way) and sends P.
    let ev = d
        .edit_call(
            call,
            CallEdit {
                needs: Some(vec![CrewType::General, CrewType::Paediatric]),
                ..Default::default()
            },
            T0 + 4,
        )
        .unwrap();
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "R".into(),
        call_id: call
    }));
    assert_eq!(decisions(&ev)[0].crew_id, "P");
    assert_eq!(d.crew("R").unwrap().status, CrewStatus::Available);
    check_invariants(&d);
    // Refusals change nothing: G has reached the call for the general need; no needs; and
    // once the patient is on the way to hospital.
    let before = snapshot(&d);
    let e = d
        .edit_call(
            call,
            CallEdit {
                needs: Some(vec![CrewType::Paediatric]),
                ..Default::default()
            },
            T0 + 5,
        )
        .unwrap_err();
    assert!(
        matches!(e, DispatchError::NeedServed { ref crew, .. } if crew == "G"),
        "{e}"
    );
    let e = d
        .edit_call(
            call,
            CallEdit {
                needs: Some(vec![]),
                ..Default::default()
            },
            T0 + 5,
        )
        .unwrap_err();
    assert!(matches!(e, DispatchError::NoNeeds(_)), "{e}");
    assert_eq!(snapshot(&d), before);
    d.set_crew_status("G", CrewStatus::Transporting, T0 + 6)
        .unwrap();
    let before = snapshot(&d);
    let e = d
        .edit_call(
            call,
            CallEdit {
                needs: Some(needs),
                ..Default::default()
            },
            T0 + 7,
        )
        .unwrap_err();
    assert!(matches!(e, DispatchError::PatientLeftScene(_)), "{e}");
    assert_eq!(snapshot(&d), before);
    // Notes are recorded; an empty edit does nothing.
    let ev = d
        .edit_call(
            call,
            CallEdit {
                notes: Some("повторный звонок: без сознания".into()),
                ..Default::default()
            },
            T0 + 8,
        )
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        d.call(call).unwrap().notes,
        "повторный звонок: без сознания"
    );
    assert_eq!(d.edit_call(call, CallEdit::default(), T0 + 9).unwrap(), []);
    check_invariants(&d);
}

#[test]
fn a_crew_changed_to_a_specialist_takes_the_waiting_call_and_no_change_breaks_its_call() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", pts[5]), T0).unwrap();
    let paed = created(
        &d.new_call(
            call_at(pts[50], Priority::Urgent).with_needs(&[CrewType::Paediatric]),
            T0,
        )
        .unwrap(),
    );
    assert_eq!(d.crew("A").unwrap().call, None);
    let ev = d
        .update_crew(
            "A",
            CrewEdit {
                crew_type: Some(CrewType::Paediatric),
                call_sign: Some(Some("Педиатрическая 12".into())),
                ..Default::default()
            },
            T0 + 1,
        )
        .unwrap();
    assert!(matches!(&ev[0], Event::CrewUpdated { crew_id, .. } if crew_id == "A"));
    assert_eq!(decisions(&ev)[0].call_id, paed);
    let a = d.crew("A").unwrap();
    assert_eq!(a.crew_type, CrewType::Paediatric);
    assert_eq!(a.call_sign.as_deref(), Some("Педиатрическая 12"));
    // On that call it cannot become general.
    let before = snapshot(&d);
    let e = d
        .update_crew(
            "A",
            CrewEdit {
                crew_type: Some(CrewType::General),
                ..Default::default()
            },
            T0 + 2,
        )
        .unwrap_err();
    assert!(matches!(e, DispatchError::TypeInUse { .. }), "{e}");
    assert_eq!(snapshot(&d), before);
    check_invariants(&d);
}

#[test]
fn a_crew_whose_shift_ends_finishes_its_call_then_goes_off_duty_and_is_not_sent() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    let mut a = general("A", pts[5]);
    a.shift_end = Some(T0 + 30 * MIN);
    d.add_crew(a, T0).unwrap();
    d.add_crew(general("B", pts[400]), T0).unwrap();
    let first = created(&d.new_call(call_at(pts[6], Priority::Urgent), T0).unwrap());
    assert_eq!(d.crew("A").unwrap().call, Some(first));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    d.set_crew_status("A", CrewStatus::OnScene, T0 + 5 * MIN)
        .unwrap();
    // The shift ends on scene: A finishes the call.
    assert_eq!(d.end_shifts(T0 + 31 * MIN).unwrap(), []);
    // A call waits meanwhile (B busy).
    let waiting = created(
        &d.new_call(call_at(pts[7], Priority::Urgent), T0 + 32 * MIN)
            .unwrap(),
    );
    assert_eq!(d.crew("B").unwrap().call, Some(waiting), "B takes it");
    let queued_call = created(
        &d.new_call(call_at(pts[8], Priority::Urgent), T0 + 33 * MIN)
            .unwrap(),
    );
    let ev = d
        .set_crew_status("A", CrewStatus::Available, T0 + 40 * MIN)
        .unwrap();
    assert!(ev.contains(&Event::CrewStatus {
        crew_id: "A".into(),
        from: CrewStatus::Available,
        to: CrewStatus::OffDuty,
        at: T0 + 40 * MIN
    }));
    assert!(decisions(&ev).is_empty(), "not sent to the queued call");
    assert_eq!(d.call(first).unwrap().status, CallStatus::Completed);
    assert_eq!(d.call(queued_call).unwrap().status, CallStatus::Queued);
    check_invariants(&d);
    // Back on duty: a new shift with no end; it takes the queued call.
    let ev = d
        .set_crew_status("A", CrewStatus::Available, T0 + 8 * 60 * MIN)
        .unwrap();
    assert_eq!(decisions(&ev)[0].call_id, queued_call);
    assert_eq!(d.crew("A").unwrap().shift_end, None);
    check_invariants(&d);

    // An available crew goes off duty when its shift ends, and is never chosen after.
    let mut d = dispatcher(DispatchConfig::default());
    let mut c = general("C", pts[5]);
    c.shift_end = Some(T0 + 10 * MIN);
    d.add_crew(c, T0).unwrap();
    // (Urgent: no crew added later takes it over.)
    let ev = d
        .new_call(call_at(pts[6], Priority::Urgent), T0 + 11 * MIN)
        .unwrap();
    assert!(decisions(&ev).is_empty());
    assert_eq!(d.crew("C").unwrap().status, CrewStatus::OffDuty);
    assert!(queued(&ev, created(&ev)));
    let mut e = general("E", pts[5]);
    e.shift_end = Some(T0 + 20 * MIN);
    d.add_crew(e, T0 + 12 * MIN).unwrap();
    assert_eq!(d.crew("E").unwrap().status, CrewStatus::Dispatched);
    let mut f = general("F", pts[9]);
    f.shift_end = Some(T0 + 20 * MIN);
    d.add_crew(f, T0 + 12 * MIN).unwrap();
    let ev = d.end_shifts(T0 + 21 * MIN).unwrap();
    assert_eq!(
        ev,
        [Event::CrewStatus {
            crew_id: "F".into(),
            from: CrewStatus::Available,
            to: CrewStatus::OffDuty,
            at: T0 + 21 * MIN
        }]
    );
    check_invariants(&d);
}
