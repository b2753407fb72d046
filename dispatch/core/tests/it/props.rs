//! Random sequences of operations: the invariants always hold, errors change nothing, and
//! the same operations give the same events.

use dispatch_core::*;
use proptest::prelude::*;
use rand::Rng;

use crate::helpers::*;

/// One operation, with indices resolved against what exists when it runs.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    AddCrew(u8, usize),
    RemoveCrew(usize),
    MoveCrew(usize, usize),
    /// A status drawn at random (often illegal).
    Status(usize, u8),
    /// The crew's next natural status.
    Advance(usize),
    NewCall(usize, u8, Vec<u8>),
    Override(usize, usize),
    Cancel(usize),
    Handover(usize),
    /// Re-triage or a correction: a call, what (priority, place, needs, notes), a value.
    Edit(usize, u8, usize),
    /// A crew's new type (4: unchanged) and shift end (minutes from now; `None`: unchanged).
    UpdateCrew(usize, u8, Option<i8>),
    /// A full closure around a place (radius in metres), then the cut-off check.
    Close(usize, u16),
    /// One of the closures removed, then the cut-off check.
    Reopen(usize),
    /// Shift ends applied.
    EndShifts,
}

const TYPES: [CrewType; 4] = CrewType::ALL;
const PRIORITIES: [Priority; 3] = [Priority::Emergency, Priority::Urgent, Priority::NonUrgent];

fn op_strategy() -> impl Strategy<Value = Op> {
    let ix = 0usize..1000;
    prop_oneof![
        3 => (0u8..4, ix.clone()).prop_map(|(t, p)| Op::AddCrew(t, p)),
        1 => ix.clone().prop_map(Op::RemoveCrew),
        2 => (ix.clone(), ix.clone()).prop_map(|(c, p)| Op::MoveCrew(c, p)),
        2 => (ix.clone(), 0u8..8).prop_map(|(c, s)| Op::Status(c, s)),
        6 => ix.clone().prop_map(Op::Advance),
        5 => (ix.clone(), 0u8..3, prop::collection::vec(0u8..4, 0..3))
            .prop_map(|(p, pr, n)| Op::NewCall(p, pr, n)),
        1 => (ix.clone(), ix.clone()).prop_map(|(a, c)| Op::Override(a, c)),
        1 => ix.clone().prop_map(Op::Cancel),
        1 => ix.clone().prop_map(Op::Handover),
        2 => (ix.clone(), 0u8..4, ix.clone()).prop_map(|(c, k, v)| Op::Edit(c, k, v)),
        1 => (ix.clone(), 0u8..5, prop::option::of(-2i8..30))
            .prop_map(|(c, t, s)| Op::UpdateCrew(c, t, s)),
        1 => (ix.clone(), 30u16..400).prop_map(|(p, r)| Op::Close(p, r)),
        1 => ix.prop_map(Op::Reopen),
        1 => Just(Op::EndShifts),
    ]
}

/// A crew id: one of those ever added, or (sometimes) an unknown one.
fn crew_id(n_added: usize, i: usize) -> String {
    format!("C{}", i % (n_added + 1))
}

fn call_id(d: &Dispatcher, i: usize) -> CallId {
    let n = d.calls().count() as u64;
    CallId(i as u64 % (n + 1) + 1)
}

fn next_status(s: CrewStatus) -> CrewStatus {
    match s {
        CrewStatus::Available => CrewStatus::OutOfService,
        CrewStatus::Dispatched => CrewStatus::EnRoute,
        CrewStatus::EnRoute => CrewStatus::OnScene,
        CrewStatus::OnScene => CrewStatus::Transporting,
        CrewStatus::Transporting => CrewStatus::AtHospital,
        CrewStatus::AtHospital | CrewStatus::OutOfService | CrewStatus::OffDuty => {
            CrewStatus::Available
        }
    }
}

/// Runs one operation.
pub(crate) fn apply(d: &mut Dispatcher, added: &mut usize, op: &Op, now: i64) -> Outcome {
    let pts = points();
    let pt = |i: usize| pts[i % pts.len()];
    match op {
        Op::AddCrew(t, p) => {
            let id = format!("C{added}");
            let r = d.add_crew(crew(&id, TYPES[*t as usize], pt(*p)), now);
            if r.is_ok() {
                *added += 1;
            }
            r
        }
        Op::RemoveCrew(c) => d.remove_crew(&crew_id(*added, *c), now),
        Op::MoveCrew(c, p) => {
            let p = pt(*p);
            d.move_crew(&crew_id(*added, *c), p.0, p.1, now)
        }
        Op::Status(c, s) => {
            d.set_crew_status(&crew_id(*added, *c), CrewStatus::ALL[*s as usize], now)
        }
        Op::Advance(c) => {
            let id = crew_id(*added, *c);
            let next = d
                .crew(&id)
                .map_or(CrewStatus::Available, |c| next_status(c.status));
            d.set_crew_status(&id, next, now)
        }
        Op::NewCall(p, pr, needs) => {
            let p = pt(*p);
            let needs: Vec<CrewType> = needs.iter().map(|&t| TYPES[t as usize]).collect();
            d.new_call(
                NewCall::at(p.0, p.1, PRIORITIES[*pr as usize]).with_needs(&needs),
                now,
            )
        }
        Op::Override(a, c) => d.assign_override(call_id(d, *a), &crew_id(*added, *c), now),
        Op::Cancel(a) => d.cancel_call(call_id(d, *a), "caller called back", now),
        Op::Handover(a) => d.handover_recorded(call_id(d, *a), now),
        Op::Edit(a, kind, v) => {
            let edit = match kind {
                0 => CallEdit {
                    priority: Some(PRIORITIES[v % 3]),
                    ..Default::default()
                },
                1 => {
                    let p = pt(*v);
                    CallEdit {
                        position: Some(Position { lat: p.0, lon: p.1 }),
                        ..Default::default()
                    }
                }
                2 => CallEdit {
                    needs: Some(
                        (0..v % 3)
                            .map(|k| TYPES[(v / 3 + k) % 4])
                            .collect::<Vec<_>>(),
                    ),
                    ..Default::default()
                },
                _ => CallEdit {
                    notes: Some(format!("note {v}")),
                    address: Some(format!("ул. Гончарова, д. {v}")),
                    ..Default::default()
                },
            };
            d.edit_call(call_id(d, *a), edit, now)
        }
        Op::UpdateCrew(c, t, shift) => d.update_crew(
            &crew_id(*added, *c),
            CrewEdit {
                crew_type: TYPES.get(*t as usize).copied(),
                shift_end: shift.map(|m| Some(now + i64::from(m) * 10_000)),
                ..Default::default()
            },
            now,
        ),
        Op::Close(p, radius) => {
            let p = pt(*p);
            let spec = router::ClosureSpec {
                area: router::ClosureArea::Near {
                    lat: p.0,
                    lon: p.1,
                    radius_m: f64::from(*radius),
                },
                factor: None,
                from_ms: None,
                until_ms: None,
            };
            d.router().add_closure(spec, now).expect("a valid closure");
            d.check_routes(now)
        }
        Op::Reopen(i) => {
            let closures = d.router().closures();
            if let Some(c) = closures.get(i % closures.len().max(1)) {
                d.router()
                    .remove_closure(c.id, now)
                    .expect("a closure in force");
            }
            d.check_routes(now)
        }
        Op::EndShifts => d.end_shifts(now),
    }
}

/// Runs a sequence, checking everything after each step; returns all events (errors as
/// their message).
fn run(ops: &[Op], config: DispatchConfig) -> Vec<Result<Vec<Event>, String>> {
    let mut d = Dispatcher::new(own_router(), config);
    let mut added = 0;
    let mut out = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        let now = T0 + 10_000 * k as i64;
        let before = snapshot(&d);
        let statuses: std::collections::BTreeMap<String, CrewStatus> =
            d.crews().map(|c| (c.id.clone(), c.status)).collect();
        match apply(&mut d, &mut added, op, now) {
            Err(e) => {
                assert_eq!(
                    snapshot(&d),
                    before,
                    "{op:?} failed ({e}) but changed the state"
                );
                out.push(Err(e.to_string()));
            }
            Ok(events) => {
                check_events(&statuses, &events);
                check_invariants(&d);
                for e in &events {
                    let json = serde_json::to_string(e).unwrap();
                    // (serde_json parses floats to within the last bit, so compare
                    // what the text means rather than the floats.)
                    let back: Event = serde_json::from_str(&json).unwrap();
                    let text: serde_json::Value = serde_json::from_str(&json).unwrap();
                    assert_eq!(serde_json::to_value(&back).unwrap(), text, "{json}");
                }
                out.push(Ok(events));
            }
        }
    }
    out
}

/// Replays the crew status events of one operation: every transition is legal, and a crew
/// is dispatched only from `available` (so never while out of service or busy).
fn check_events(before: &std::collections::BTreeMap<String, CrewStatus>, events: &[Event]) {
    let mut status = before.clone();
    for e in events {
        match e {
            Event::CrewAdded { crew_id, .. } => {
                status.insert(crew_id.clone(), CrewStatus::Available);
            }
            Event::CrewStatus {
                crew_id, from, to, ..
            } => {
                assert_eq!(status.get(crew_id), Some(from), "{crew_id}: {events:?}");
                assert!(can_transition(*from, *to), "{crew_id} {from} -> {to}");
                if *to == CrewStatus::Dispatched {
                    assert_eq!(*from, CrewStatus::Available);
                }
                status.insert(crew_id.clone(), *to);
            }
            Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
                // A crew is available when the decision sends it (a diverted crew passes
                // through available first).
                let s = status.get(&decision.crew_id).copied();
                assert_eq!(
                    s,
                    Some(CrewStatus::Available),
                    "{} when sent: {events:?}",
                    decision.crew_id
                );
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operations_keep_every_invariant(ops in prop::collection::vec(op_strategy(), 1..60)) {
        run(&ops, DispatchConfig::default());
    }

    #[test]
    fn random_operations_keep_every_invariant_with_straight_line_and_no_gain(
        ops in prop::collection::vec(op_strategy(), 1..40)
    ) {
        run(&ops, DispatchConfig {
            reassign_gain_ms: 0,
            interim_general_for_specialist: false,
            policy: Policy::StraightLine,
            queue_order: QueueOrder::EtaWeighted,
            diversion: false,
            ..Default::default()
        });
    }
}

/// `n` random operations drawn from `rng`.
pub(crate) fn random_ops(rng: &mut impl Rng, n: usize) -> Vec<Op> {
    (0..n)
        .map(|_| {
            let (i, j) = (rng.gen_range(0..1000), rng.gen_range(0..1000));
            match rng.gen_range(0..26) {
                0..=2 => Op::AddCrew(rng.gen_range(0..4), i),
                3 => Op::RemoveCrew(i),
                4..=5 => Op::MoveCrew(i, j),
                6..=11 => Op::Advance(i),
                12..=16 => {
                    let n = rng.gen_range(0..3);
                    Op::NewCall(
                        i,
                        rng.gen_range(0..3),
                        (0..n).map(|_| rng.gen_range(0..4)).collect(),
                    )
                }
                17 => Op::Override(i, j),
                18 => Op::Cancel(i),
                19 | 20 => Op::Edit(i, rng.gen_range(0..4), j),
                21 => Op::UpdateCrew(
                    i,
                    rng.gen_range(0..5),
                    rng.gen_bool(0.5).then(|| rng.gen_range(-2..30)),
                ),
                22 => Op::Close(i, rng.gen_range(30..400)),
                23 => Op::Reopen(i),
                24 => Op::EndShifts,
                _ => Op::Status(i, rng.gen_range(0..8)),
            }
        })
        .collect()
}

#[test]
fn same_operations_give_the_same_events() {
    let mut rng = rng("same_operations_give_the_same_events");
    let ops = random_ops(&mut rng, 400);
    let a = run(&ops, DispatchConfig::default());
    let b = run(&ops, DispatchConfig::default());
    assert_eq!(a, b);
    let assigned = a
        .iter()
        .flatten()
        .flatten()
        .filter(|e| matches!(e, Event::CallAssigned { .. }))
        .count();
    let reassigned = a
        .iter()
        .flatten()
        .flatten()
        .filter(|e| matches!(e, Event::CallReassigned { .. }))
        .count();
    println!(
        "{} ops, {} errors, {assigned} assignments, {reassigned} re-assignments",
        ops.len(),
        a.iter().filter(|r| r.is_err()).count()
    );
    assert!(assigned > 10);
}
