//! The queue order as a property: under the default order (priority, then age) every crew
//! that takes a queued call takes the head of the queue, so a queued call waits for at most
//! as many releases as there are calls ahead of it, and none starves while crews keep
//! coming free.

use dispatch_core::*;
use proptest::prelude::*;

use crate::helpers::*;

#[derive(Debug, Clone)]
enum Step {
    Call(usize, u8),
    /// The crew's next status in the cycle dispatched → en route → on scene → available.
    Advance(usize),
    Move(usize, usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..1000, 0u8..3).prop_map(|(p, pr)| Step::Call(p, pr)),
        6 => (0usize..4).prop_map(Step::Advance),
        1 => (0usize..4, 0usize..1000).prop_map(|(c, p)| Step::Move(c, p)),
    ]
}

const PRIORITIES: [Priority; 3] = [Priority::Emergency, Priority::Urgent, Priority::NonUrgent];

/// Moves a crew one step around its cycle; `None` if it has nothing to do.
fn advance(d: &mut Dispatcher, id: &str, now: i64) -> Option<Vec<Event>> {
    let next = match d.crew(id)?.status {
        CrewStatus::Dispatched => CrewStatus::EnRoute,
        CrewStatus::EnRoute => CrewStatus::OnScene,
        CrewStatus::OnScene => CrewStatus::Available,
        _ => return None,
    };
    Some(d.set_crew_status(id, next, now).unwrap())
}

/// Checks that every call taken from the queue by these events was the head of the queue
/// (`queue`, in order, as it was before them), and returns the queue after them.
fn taken_from_the_head(queue: &[CallId], d: &Dispatcher, events: &[Event]) {
    let mut left: Vec<CallId> = queue.to_vec();
    for dec in decisions(events) {
        if dec.reason == DecisionReason::QueuedThenReleased {
            assert_eq!(
                left.first(),
                Some(&dec.call_id),
                "crew {} took call {} from the queue {left:?}",
                dec.crew_id,
                dec.call_id
            );
        }
        left.retain(|&c| c != dec.call_id);
    }
    // Whatever is still queued kept its order.
    let now: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    let kept: Vec<CallId> = left.into_iter().filter(|c| now.contains(c)).collect();
    let old: Vec<CallId> = now.iter().copied().filter(|c| kept.contains(c)).collect();
    assert_eq!(kept, old, "the queue's order changed");
}

/// The settings under test (the default; `QUEUE_ORDER=eta_weighted` shows the property fail).
fn config() -> DispatchConfig {
    match std::env::var("QUEUE_ORDER").as_deref() {
        Ok("eta_weighted") => DispatchConfig {
            queue_order: QueueOrder::EtaWeighted,
            ..Default::default()
        },
        _ => DispatchConfig::default(),
    }
}

fn run(steps: &[Step]) {
    let pts = points();
    let pt = |i: usize| pts[i % pts.len()];
    let mut d = dispatcher(config());
    let crews = ["A", "B", "C", "D"];
    for (i, id) in crews.iter().enumerate() {
        d.add_crew(crew(id, CrewType::General, pt(i * 211)), T0)
            .unwrap();
    }
    let mut now = T0;
    for s in steps {
        now += 30_000;
        let queue: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
        let events = match s {
            Step::Call(p, pr) => {
                let p = pt(*p);
                d.new_call(NewCall::at(p.0, p.1, PRIORITIES[*pr as usize]), now)
                    .unwrap()
            }
            Step::Advance(c) => match advance(&mut d, crews[*c], now) {
                Some(e) => e,
                None => continue,
            },
            Step::Move(c, p) => {
                let p = pt(*p);
                d.move_crew(crews[*c], p.0, p.1, now).unwrap()
            }
        };
        taken_from_the_head(&queue, &d, &events);
        check_invariants(&d);
    }
    // No new calls: as crews keep coming free, the queue drains, each call after at most
    // as many releases as there were calls ahead of it.
    let queued: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    let mut releases = 0;
    while !d.queue().is_empty() {
        for id in crews {
            now += 30_000;
            let queue: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
            if let Some(events) = advance(&mut d, id, now) {
                if d.crew(id).unwrap().status != CrewStatus::OnScene {
                    releases += usize::from(matches!(
                        events.first(),
                        Some(Event::CrewStatus {
                            to: CrewStatus::Available,
                            ..
                        })
                    ));
                }
                taken_from_the_head(&queue, &d, &events);
            }
        }
        assert!(
            releases <= queued.len() + crews.len(),
            "{} calls still queued after {releases} releases",
            d.queue().len()
        );
    }
    for id in queued {
        assert!(!d.call(id).unwrap().assignments.is_empty(), "call {id}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn freed_crews_take_the_head_of_the_queue_and_no_call_starves(
        steps in prop::collection::vec(step(), 1..120)
    ) {
        run(&steps);
    }
}
