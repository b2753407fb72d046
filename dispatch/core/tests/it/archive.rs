//! Archiving closed calls ([`Dispatcher::take_closed_call`], used by the call simulator to
//! keep memory flat) changes no decision.

use dispatch_core::*;

use crate::helpers::*;
use crate::props::{apply, random_ops, Op};

#[test]
fn archiving_closed_calls_changes_no_event() {
    let mut rng = rng("archiving_closed_calls_changes_no_event");
    // Operations that name calls by their position among the calls kept are left out: the
    // two dispatchers keep different numbers of calls; so are closures (on the shared map).
    let ops: Vec<Op> = random_ops(&mut rng, 1_500)
        .into_iter()
        .filter(|op| {
            !matches!(
                op,
                Op::Override(..)
                    | Op::Cancel(_)
                    | Op::Handover(_)
                    | Op::Edit(..)
                    | Op::Close(..)
                    | Op::Reopen(_)
            )
        })
        .collect();
    let mut kept = dispatcher(DispatchConfig::default());
    let mut archived = dispatcher(DispatchConfig::default());
    let (mut added_a, mut added_b) = (0, 0);
    let mut taken = 0;
    for (k, op) in ops.iter().enumerate() {
        let now = T0 + 10_000 * k as i64;
        let a = apply(&mut kept, &mut added_a, op, now).map_err(|e| e.to_string());
        let b = apply(&mut archived, &mut added_b, op, now).map_err(|e| e.to_string());
        assert_eq!(
            a, b,
            "operation {k} ({op:?}) differs once closed calls are archived"
        );
        let closed: Vec<CallId> = archived
            .calls()
            .filter(|c| c.status.is_closed())
            .map(|c| c.id)
            .collect();
        for id in closed {
            let call = archived.take_closed_call(id).expect("a closed call");
            assert_eq!(
                Some(&call),
                kept.call(id),
                "the archived call is the kept one"
            );
            taken += 1;
        }
        // The counts by status: the archived calls are no longer held, the kept ones are.
        check_invariants(&kept);
        check_invariants(&archived);
        let open_a: Vec<CallId> = kept.open_calls().map(|c| c.id).collect();
        let open_b: Vec<CallId> = archived.open_calls().map(|c| c.id).collect();
        assert_eq!(open_a, open_b);
        assert!(kept.open_calls().all(|c| !c.status.is_closed()));
        assert_eq!(
            kept.calls().filter(|c| !c.status.is_closed()).count(),
            open_a.len()
        );
    }
    println!("{} operations, {taken} calls archived", ops.len());
    assert!(taken > 0, "no call was completed");
    assert!(archived.calls().count() < kept.calls().count());
}

#[test]
fn an_open_call_is_not_archived() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("A1", CrewType::General, pts[0]), T0)
        .unwrap();
    let events = d
        .new_call(NewCall::at(pts[40].0, pts[40].1, Priority::Urgent), T0)
        .unwrap();
    let id = created(&events);
    assert_eq!(d.take_closed_call(id), None);
    assert_eq!(d.take_closed_call(CallId(999)), None);
    for s in [
        CrewStatus::EnRoute,
        CrewStatus::OnScene,
        CrewStatus::Available,
    ] {
        d.set_crew_status("A1", s, T0 + MIN).unwrap();
    }
    let call = d.take_closed_call(id).expect("completed");
    assert_eq!(call.status, CallStatus::Completed);
    assert!(d.call(id).is_none());
    // Numbering goes on past the archived call.
    let events = d
        .new_call(
            NewCall::at(pts[41].0, pts[41].1, Priority::Urgent),
            T0 + 2 * MIN,
        )
        .unwrap();
    assert_eq!(created(&events), CallId(id.0 + 1));
}

#[test]
fn closed_before_names_the_calls_closed_before_a_time() {
    let pts = points();
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("A1", CrewType::General, pts[0]), T0)
        .unwrap();
    // Call 1 takes A1 and is completed at T0 + 3 min; call 2 queues and is cancelled at
    // T0 + 2 min; call 3 stays open (queued: A1 takes it when free, so it is sent).
    let one = created(
        &d.new_call(NewCall::at(pts[40].0, pts[40].1, Priority::Urgent), T0)
            .unwrap(),
    );
    let two = created(
        &d.new_call(NewCall::at(pts[41].0, pts[41].1, Priority::Urgent), T0 + 1)
            .unwrap(),
    );
    let three = created(
        &d.new_call(NewCall::at(pts[42].0, pts[42].1, Priority::Urgent), T0 + 2)
            .unwrap(),
    );
    d.set_crew_status("A1", CrewStatus::EnRoute, T0 + MIN)
        .unwrap();
    d.cancel_call(two, "a duplicate", T0 + 2 * MIN).unwrap();
    for (s, at) in [
        (CrewStatus::OnScene, T0 + 2 * MIN),
        (CrewStatus::Available, T0 + 3 * MIN),
    ] {
        d.set_crew_status("A1", s, at).unwrap();
    }
    assert_eq!(d.call(one).unwrap().status, CallStatus::Completed);
    assert_eq!(d.call(one).unwrap().times.closed, Some(T0 + 3 * MIN));
    assert_eq!(d.call(two).unwrap().times.closed, Some(T0 + 2 * MIN));
    assert_eq!(d.call(three).unwrap().times.closed, None);
    assert_eq!(d.closed_before(T0 + 2 * MIN), vec![]);
    assert_eq!(d.closed_before(T0 + 2 * MIN + 1), vec![two]);
    assert_eq!(d.closed_before(T0 + 3 * MIN + 1), vec![one, two]);
    assert_eq!(d.closed_before(i64::MAX), vec![one, two]);
}
