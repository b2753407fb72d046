//! Breakdowns, removals and closures that cut a crew off hand its call back; needs end
//! with the scene. Each scenario's decisions are computed by hand from exact road ETAs.

use std::collections::BTreeSet;
use std::sync::Arc;

use dispatch_core::*;
use router::{ClosureArea, ClosureSpec, Router, Snapped};

use crate::helpers::*;

fn general(id: &str, p: P) -> NewCrew {
    crew(id, CrewType::General, p)
}

fn emergency(p: P) -> NewCall {
    NewCall::at(p.0, p.1, Priority::Emergency)
}

/// A call place, a crew place near it and one farther away (with different ETAs).
fn near_and_far() -> (P, P, P) {
    let pts = points();
    let x = pts[40];
    let mut by_eta: Vec<P> = pts.iter().copied().step_by(7).collect();
    by_eta.sort_by_key(|&p| eta(p, x));
    let near = by_eta[by_eta.len() / 10];
    let far = by_eta[by_eta.len() / 2];
    assert!(eta(near, x) < eta(far, x));
    (x, near, far)
}

#[test]
fn a_crew_that_breaks_down_on_scene_hands_its_call_back_to_the_next_crew() {
    let (x, near, far) = near_and_far();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", near), T0).unwrap();
    d.add_crew(general("B", far), T0).unwrap();
    let call = created(&d.new_call(emergency(x), T0).unwrap());
    assert_eq!(d.crew("A").unwrap().call, Some(call), "A is nearer");
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    d.set_crew_status("A", CrewStatus::OnScene, T0 + 6 * MIN)
        .unwrap();
    let t = T0 + 10 * MIN;
    let ev = d.set_crew_status("A", CrewStatus::OutOfService, t).unwrap();
    // Handed back, A released and out of service, B sent to the scene (where A stands).
    assert_eq!(
        ev[..4],
        [
            Event::CallHandedBack {
                call_id: call,
                crew_id: "A".into(),
                reason: HandBackReason::Breakdown,
                pickup: None,
            },
            Event::CrewReleased {
                crew_id: "A".into(),
                call_id: call
            },
            Event::CallStatus {
                call_id: call,
                status: CallStatus::Queued,
                at: t
            },
            Event::CrewStatus {
                crew_id: "A".into(),
                from: CrewStatus::OnScene,
                to: CrewStatus::OutOfService,
                at: t
            },
        ]
    );
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "B");
    assert_eq!(dec[0].reason, DecisionReason::NearestByRoad);
    assert_eq!(dec[0].eta_ms, eta(far, x));
    assert!(!ev.iter().any(|e| matches!(
        e,
        Event::CallStatus {
            status: CallStatus::Completed,
            ..
        }
    )));
    let c = d.call(call).unwrap();
    assert_eq!(c.status, CallStatus::Assigned);
    assert_eq!(active_crews(c), ["B"]);
    // The call keeps its timeline: first on scene at A's arrival.
    assert_eq!(c.times.on_scene, Some(T0 + 6 * MIN));
    assert_eq!(c.times.assigned, Some(T0));
    assert!(!c.handed_back, "it has its crew again");
    assert_eq!(d.crew("A").unwrap().status, CrewStatus::OutOfService);
    check_invariants(&d);
}

#[test]
fn with_no_crew_free_a_handed_back_call_heads_its_priority_queue() {
    let (x, near, _) = near_and_far();
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", near), T0).unwrap();
    let call = created(&d.new_call(emergency(x), T0).unwrap());
    // Two more emergencies wait, both older than nothing but the first.
    let older = created(&d.new_call(emergency(pts[300]), T0 + 1).unwrap());
    let newer = created(&d.new_call(emergency(pts[310]), T0 + 2).unwrap());
    let urgent = created(
        &d.new_call(
            NewCall::at(pts[320].0, pts[320].1, Priority::Urgent),
            T0 + 3,
        )
        .unwrap(),
    );
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    let ev = d
        .set_crew_status("A", CrewStatus::OutOfService, T0 + 2 * MIN)
        .unwrap();
    assert!(queued(&ev, call));
    let c = d.call(call).unwrap();
    assert!(c.handed_back);
    assert_eq!(c.status, CallStatus::Queued);
    let q: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [call, older, newer, urgent]);
    check_invariants(&d);
    // Even a newer handed-back emergency goes before older waiting ones.
    let mut d2 = dispatcher(DispatchConfig::default());
    d2.add_crew(general("A", near), T0).unwrap();
    let first = created(&d2.new_call(emergency(pts[300]), T0).unwrap());
    let waiting = created(&d2.new_call(emergency(pts[310]), T0 + 1).unwrap());
    assert_eq!(d2.crew("A").unwrap().call, Some(first));
    d2.remove_crew("A", T0 + 2).unwrap();
    let q: Vec<CallId> = d2.queue().iter().map(|c| c.id).collect();
    assert_eq!(q, [first, waiting]);
    // The next crew free takes the handed-back call.
    let ev = d2.add_crew(general("B", pts[305]), T0 + 3).unwrap();
    assert_eq!(decisions(&ev)[0].call_id, first);
    assert!(!d2.call(first).unwrap().handed_back);
    check_invariants(&d2);
}

#[test]
fn a_crew_that_breaks_down_transporting_has_the_next_crew_sent_to_where_it_stands() {
    let (x, near, far) = near_and_far();
    let pts = points();
    let roadside = pts[500];
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", near), T0).unwrap();
    d.add_crew(general("B", far), T0).unwrap();
    let call = created(&d.new_call(emergency(x), T0).unwrap());
    for (s, t) in [
        (CrewStatus::EnRoute, 1),
        (CrewStatus::OnScene, 5),
        (CrewStatus::Transporting, 20),
    ] {
        d.set_crew_status("A", s, T0 + t * MIN).unwrap();
    }
    d.move_crew("A", roadside.0, roadside.1, T0 + 25 * MIN)
        .unwrap();
    let ev = d
        .set_crew_status("A", CrewStatus::OutOfService, T0 + 26 * MIN)
        .unwrap();
    assert_eq!(
        ev[0],
        Event::CallHandedBack {
            call_id: call,
            crew_id: "A".into(),
            reason: HandBackReason::Breakdown,
            pickup: Some(Position {
                lat: roadside.0,
                lon: roadside.1
            }),
        }
    );
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0].crew_id, "B");
    assert_eq!(
        dec[0].eta_ms,
        eta(far, roadside),
        "to the roadside, not the scene"
    );
    let c = d.call(call).unwrap();
    assert_eq!(c.position.lat, roadside.0);
    assert_eq!(c.times.left_scene, Some(T0 + 20 * MIN));
    check_invariants(&d);
    // B picks the patient up and takes it on; the call completes normally.
    for s in [
        CrewStatus::EnRoute,
        CrewStatus::OnScene,
        CrewStatus::Transporting,
        CrewStatus::AtHospital,
        CrewStatus::Available,
    ] {
        d.set_crew_status("B", s, T0 + 40 * MIN).unwrap();
    }
    assert_eq!(d.call(call).unwrap().status, CallStatus::Completed);
    check_invariants(&d);
}

#[test]
fn a_crew_removed_on_its_way_hands_its_call_back_and_at_the_hospital_it_does_not() {
    let (x, near, far) = near_and_far();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("A", near), T0).unwrap();
    d.add_crew(general("B", far), T0).unwrap();
    let call = created(&d.new_call(emergency(x), T0).unwrap());
    let ev = d.remove_crew("A", T0 + MIN).unwrap();
    assert!(matches!(
        &ev[0],
        Event::CallHandedBack { reason: HandBackReason::Removed, crew_id, .. } if crew_id == "A"
    ));
    assert_eq!(
        ev.last(),
        Some(&Event::CrewRemoved {
            crew_id: "A".into()
        })
    );
    assert_eq!(d.crew("B").unwrap().call, Some(call));
    check_invariants(&d);
    // At the hospital the patient is delivered: out of service ends the crew's part.
    for s in [
        CrewStatus::EnRoute,
        CrewStatus::OnScene,
        CrewStatus::Transporting,
        CrewStatus::AtHospital,
    ] {
        d.set_crew_status("B", s, T0 + 10 * MIN).unwrap();
    }
    let ev = d
        .set_crew_status("B", CrewStatus::OutOfService, T0 + 20 * MIN)
        .unwrap();
    assert!(!ev.iter().any(|e| matches!(e, Event::CallHandedBack { .. })));
    assert_eq!(d.call(call).unwrap().status, CallStatus::Completed);
    check_invariants(&d);
}

/// An emergency needing a paediatric crew, with only a general crew free (sent as
/// interim); returns the dispatcher, the call and the place of the paediatric crew to come.
fn interim_on_scene() -> (Dispatcher, CallId, P) {
    let (x, near, far) = near_and_far();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(general("G", near), T0).unwrap();
    let ev = d
        .new_call(emergency(x).with_needs(&[CrewType::Paediatric]), T0)
        .unwrap();
    let call = created(&ev);
    assert_eq!(decisions(&ev)[0].reason, DecisionReason::InterimGeneralCrew);
    d.set_crew_status("G", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    d.set_crew_status("G", CrewStatus::OnScene, T0 + 5 * MIN)
        .unwrap();
    (d, call, far)
}

#[test]
fn a_specialist_is_sent_while_the_patient_is_on_scene_with_an_interim_crew() {
    let (mut d, call, far) = interim_on_scene();
    let ev = d
        .add_crew(crew("P", CrewType::Paediatric, far), T0 + 6 * MIN)
        .unwrap();
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!((dec[0].crew_id.as_str(), dec[0].call_id), ("P", call));
    check_invariants(&d);
}

#[test]
fn once_the_patient_is_transported_no_specialist_is_sent_to_the_empty_scene() {
    // The specialist comes free only after the interim crew has left with the patient.
    let (mut d, call, far) = interim_on_scene();
    let t = T0 + 7 * MIN;
    let ev = d.set_crew_status("G", CrewStatus::Transporting, t).unwrap();
    assert!(ev.contains(&Event::NeedsDropped {
        call_id: call,
        needs: vec![0],
        reason: DropReason::PatientLeftScene
    }));
    assert!(d.queue().is_empty());
    let ev = d
        .add_crew(crew("P", CrewType::Paediatric, far), T0 + 8 * MIN)
        .unwrap();
    assert!(decisions(&ev).is_empty(), "{ev:?}");
    assert_eq!(d.crew("P").unwrap().status, CrewStatus::Available);
    assert_eq!(d.call(call).unwrap().dropped_needs, [0]);
    check_invariants(&d);
    // The call completes when G is free again.
    d.set_crew_status("G", CrewStatus::AtHospital, T0 + 20 * MIN)
        .unwrap();
    d.set_crew_status("G", CrewStatus::Available, T0 + 30 * MIN)
        .unwrap();
    assert_eq!(d.call(call).unwrap().status, CallStatus::Completed);

    // The specialist already on its way is turned back.
    let (mut d, call, far) = interim_on_scene();
    d.add_crew(crew("P", CrewType::Paediatric, far), T0 + 6 * MIN)
        .unwrap();
    d.set_crew_status("P", CrewStatus::EnRoute, T0 + 6 * MIN)
        .unwrap();
    let ev = d
        .set_crew_status("G", CrewStatus::Transporting, T0 + 7 * MIN)
        .unwrap();
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "P".into(),
        call_id: call
    }));
    assert!(ev.contains(&Event::NeedsDropped {
        call_id: call,
        needs: vec![0],
        reason: DropReason::PatientLeftScene
    }));
    assert_eq!(d.crew("P").unwrap().status, CrewStatus::Available);
    assert_eq!(active_crews(d.call(call).unwrap()), ["G"]);
    check_invariants(&d);
}

#[test]
fn the_last_crew_leaving_drops_the_needs_left_and_closes_the_call() {
    let (mut d, call, _) = interim_on_scene();
    let t = T0 + 15 * MIN;
    let ev = d.set_crew_status("G", CrewStatus::Available, t).unwrap();
    let dropped = ev
        .iter()
        .position(|e| {
            *e == Event::NeedsDropped {
                call_id: call,
                needs: vec![0],
                reason: DropReason::CallClosed,
            }
        })
        .expect("dropped");
    let completed = ev
        .iter()
        .position(|e| {
            *e == Event::CallStatus {
                call_id: call,
                status: CallStatus::Completed,
                at: t,
            }
        })
        .expect("completed");
    assert!(dropped < completed);
    check_invariants(&d);
}

/// Closures that leave the point `at` with no road out: every road two junctions away.
/// (A point inside a closed area keeps its way out through the closed roads around it, so
/// the roads next to it stay open and the ring beyond them is closed.)
fn ring_around(r: &Router, at: &Snapped) -> Vec<ClosureSpec> {
    let g = r.graph();
    let tails = g.arc_tails();
    let ends = |segs: &BTreeSet<u32>| -> BTreeSet<u32> {
        (0..g.arc_count() as u32)
            .filter(|&a| segs.contains(&g.arc_segment(a).0))
            .flat_map(|a| [tails[a as usize], g.arc_head[a as usize]])
            .collect()
    };
    let touching = |nodes: &BTreeSet<u32>| -> BTreeSet<u32> {
        (0..g.arc_count() as u32)
            .filter(|&a| {
                nodes.contains(&tails[a as usize]) || nodes.contains(&g.arc_head[a as usize])
            })
            .map(|a| g.arc_segment(a).0)
            .collect()
    };
    let own = BTreeSet::from([at.segment]);
    let near = touching(&ends(&own));
    let ring: BTreeSet<u32> = touching(&ends(&near)).difference(&near).copied().collect();
    ring.into_iter()
        .map(|s| {
            let p = g.segment_points(s);
            ClosureSpec {
                area: ClosureArea::Near {
                    lat: (p[0].lat() + p[1].lat()) / 2.0,
                    lon: (p[0].lon() + p[1].lon()) / 2.0,
                    radius_m: 0.5,
                },
                factor: None,
                from_ms: None,
                until_ms: None,
            }
        })
        .collect()
}

#[test]
fn a_closure_that_cuts_a_crew_off_hands_its_call_to_another_crew() {
    let (x, near, far) = near_and_far();
    let r = Arc::new(fresh_router());
    let mut d = Dispatcher::new(r.clone(), DispatchConfig::default());
    // A, the only crew, takes an urgent call (urgent: B, added later, does not take over).
    d.add_crew(general("A", far), T0).unwrap();
    let call = created(
        &d.new_call(NewCall::at(x.0, x.1, Priority::Urgent), T0)
            .unwrap(),
    );
    d.add_crew(general("B", near), T0).unwrap();
    assert_eq!(d.crew("A").unwrap().call, Some(call));
    d.set_crew_status("A", CrewStatus::EnRoute, T0 + 1).unwrap();
    // Nothing is cut off: nothing happens.
    assert_eq!(d.check_routes(T0 + 2).unwrap(), []);
    // Close the ring of roads around A.
    let a = d.crew("A").unwrap().snapped;
    let (b, to) = (d.crew("B").unwrap().snapped, d.call(call).unwrap().snapped);
    for spec in ring_around(&r, &a) {
        r.add_closure(spec, T0 + 3).unwrap();
    }
    assert_eq!(r.eta(&a, &to), None, "the ring cuts A off");
    let eta_b = r.eta(&b, &to).expect("B still reaches the call");
    let ev = d.check_routes(T0 + 4).unwrap();
    assert_eq!(
        ev[0],
        Event::CallHandedBack {
            call_id: call,
            crew_id: "A".into(),
            reason: HandBackReason::CutOff,
            pickup: None
        }
    );
    assert!(ev.contains(&Event::CrewReleased {
        crew_id: "A".into(),
        call_id: call
    }));
    let dec = decisions(&ev);
    assert_eq!(dec.len(), 1);
    assert_eq!((dec[0].crew_id.as_str(), dec[0].eta_ms), ("B", eta_b));
    assert_eq!(d.crew("A").unwrap().status, CrewStatus::Available);
    assert_eq!(d.crew("B").unwrap().call, Some(call));
    check_invariants(&d);
}
