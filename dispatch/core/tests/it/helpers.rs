//! Shared helpers: the map's router (built once per test binary), positions on it, crews,
//! event pickers and the invariants every state must satisfy.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use dispatch_core::{
    Call, CallId, CallStatus, CrewStatus, CrewType, Decision, DispatchConfig, Dispatcher, Event,
    NewCrew,
};
use osm_data::RoadGraph;
use rand::rngs::StdRng;
use rand::SeedableRng;
use router::{Router, Snapped};

/// A moment to start from (Unix ms).
pub const T0: i64 = 1_764_000_000_000;

/// One minute in ms.
pub const MIN: i64 = 60_000;

/// The imported Moscow fragment.
pub fn graph() -> RoadGraph {
    test_support::graph("moscow-fragment")
}

/// A fresh router (for tests that add closures).
pub fn fresh_router() -> Router {
    Router::new(graph(), Default::default()).expect("router")
}

/// The router shared by the tests of this binary (no closures on it).
pub fn router() -> Arc<Router> {
    static R: OnceLock<Arc<Router>> = OnceLock::new();
    R.get_or_init(|| Arc::new(fresh_router())).clone()
}

/// A router of this test's own (built once per test thread), with no closures: for tests
/// that add closures, which the shared [`router`] must not carry.
pub fn own_router() -> Arc<Router> {
    thread_local! {
        static R: Arc<Router> = Arc::new(fresh_router());
    }
    let r = R.with(Arc::clone);
    for c in r.closures() {
        r.remove_closure(c.id, 0).expect("a closure of the list");
    }
    r
}

/// A position on the map: a junction's coordinate.
pub type P = (f64, f64);

/// Every junction of the map as a position (distinct coordinates, in node order).
pub fn points() -> &'static [P] {
    static PTS: OnceLock<Vec<P>> = OnceLock::new();
    PTS.get_or_init(|| {
        let r = router();
        let mut seen = std::collections::HashSet::new();
        r.graph()
            .node_coord
            .iter()
            .filter(|c| seen.insert(**c))
            .map(|c| (c.lat(), c.lon()))
            .collect()
    })
}

/// A position snapped.
pub fn snap(p: P) -> Snapped {
    router().snap(p.0, p.1).expect("on the map")
}

/// Exact ETA between two positions (ms).
pub fn eta(from: P, to: P) -> u32 {
    router().eta(&snap(from), &snap(to)).expect("reachable")
}

/// A dispatcher on the shared router.
pub fn dispatcher(config: DispatchConfig) -> Dispatcher {
    Dispatcher::new(router(), config)
}

/// A new crew.
pub fn crew(id: &str, t: CrewType, p: P) -> NewCrew {
    NewCrew {
        id: id.into(),
        crew_type: t,
        station: None,
        call_sign: None,
        shift_end: None,
        lat: p.0,
        lon: p.1,
    }
}

/// A seeded RNG, the seed from `TEST_SEED` or a default, printed for replay.
pub fn rng(test: &str) -> StdRng {
    let seed = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_125u64);
    println!("{test}: seed {seed} (set TEST_SEED to replay)");
    StdRng::seed_from_u64(seed)
}

/// The id of the call an operation created.
pub fn created(events: &[Event]) -> CallId {
    events
        .iter()
        .find_map(|e| match e {
            Event::CallCreated { call_id, .. } => Some(*call_id),
            _ => None,
        })
        .expect("a call_created event")
}

/// The decisions of `call_assigned` and `call_reassigned` events, in order.
pub fn decisions(events: &[Event]) -> Vec<&Decision> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
                Some(decision)
            }
            _ => None,
        })
        .collect()
}

/// Whether the events hold a `call_queued` for `call`.
pub fn queued(events: &[Event], call: CallId) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Event::CallQueued { call_id, .. } if *call_id == call))
}

/// The whole visible state, for "an error changes nothing".
pub fn snapshot(d: &Dispatcher) -> String {
    let crews: Vec<_> = d.crews().collect();
    let calls: Vec<_> = d.calls().collect();
    let queue: Vec<CallId> = d.queue().iter().map(|c| c.id).collect();
    serde_json::to_string(&(crews, calls, queue)).unwrap()
}

/// The crew ids working on a call.
pub fn active_crews(call: &Call) -> Vec<String> {
    call.active_assignments()
        .map(|a| a.crew_id.clone())
        .collect()
}

/// Checks the invariants every state must satisfy.
pub fn check_invariants(d: &Dispatcher) {
    // The counts by status and priority (running counts for closed calls) are those of a
    // walk over every call.
    let mut walked = BTreeMap::new();
    for call in d.calls() {
        *walked.entry((call.status, call.priority)).or_insert(0u64) += 1;
    }
    assert_eq!(d.call_counts(), walked, "calls by status and priority");
    let mut on_call: BTreeMap<&str, CallId> = BTreeMap::new();
    for call in d.calls() {
        for a in call.active_assignments() {
            assert!(
                !call.status.is_closed(),
                "closed call {} has working crew {}",
                call.id,
                a.crew_id
            );
            let crew = d
                .crew(&a.crew_id)
                .unwrap_or_else(|| panic!("call {} has unknown crew {}", call.id, a.crew_id));
            assert_eq!(crew.call, Some(call.id), "crew {} call", crew.id);
            assert!(
                !matches!(
                    crew.status,
                    CrewStatus::Available | CrewStatus::OutOfService | CrewStatus::OffDuty
                ),
                "crew {} works on call {} but is {}",
                crew.id,
                call.id,
                crew.status
            );
            if let Some(other) = on_call.insert(&a.crew_id, call.id) {
                panic!("crew {} on calls {} and {}", a.crew_id, other, call.id);
            }
            if a.interim {
                assert_eq!(crew.crew_type, CrewType::General);
            } else {
                assert!(crew.crew_type.can_serve(a.need));
                assert_eq!(call.needs[a.need_index], a.need);
            }
        }
        // Each need is filled at most once by a working crew.
        for i in 0..call.needs.len() {
            let n = call
                .active_assignments()
                .filter(|a| a.need_index == i && !a.interim)
                .count();
            assert!(n <= 1, "call {} need {i} has {n} crews", call.id);
        }
        // Open calls: queued, or every need has a crew.
        if !call.status.is_closed() {
            let pending = call.pending_needs();
            let in_queue = d.queue().iter().any(|c| c.id == call.id);
            assert_eq!(in_queue, !pending.is_empty(), "call {}", call.id);
            let expected = if call.active_assignments().next().is_none() {
                CallStatus::Queued
            } else {
                call.status
            };
            assert_eq!(call.status, expected, "call {} status", call.id);
            // Nobody able to serve a pending need and to reach it by road is idle.
            for &i in &pending {
                for crew in d.crews() {
                    assert!(
                        !(crew.status == CrewStatus::Available
                            && crew.crew_type.can_serve(call.needs[i])
                            && d.router().eta(&crew.snapped, &call.snapped).is_some()),
                        "call {} waits for {} while crew {} is available",
                        call.id,
                        call.needs[i],
                        crew.id
                    );
                }
            }
        }
    }
    for crew in d.crews() {
        match crew.call {
            Some(c) => assert_eq!(on_call.get(crew.id.as_str()), Some(&c), "crew {}", crew.id),
            None => assert!(!on_call.contains_key(crew.id.as_str()), "crew {}", crew.id),
        }
        if crew.call.is_none() {
            assert!(
                matches!(
                    crew.status,
                    CrewStatus::Available | CrewStatus::OutOfService | CrewStatus::OffDuty
                ),
                "crew {} is {} with no call",
                crew.id,
                crew.status
            );
        }
    }
}

/// A call place with a far crew place and two nearer ones: one beating the far crew by
/// `big` or more, one by less than `small` (but something).
pub fn reassignment_layout(big: u32, small: u32) -> (P, P, P, P) {
    let pts = points();
    for &x in pts.iter().step_by(3) {
        let mut around: Vec<(u32, P)> = pts.iter().step_by(2).map(|&p| (eta(p, x), p)).collect();
        around.sort_by_key(|a| a.0);
        let (far_eta, far) = *around.last().unwrap();
        let near = around
            .iter()
            .find(|a| a.0 > 0 && far_eta - a.0 >= big + 20_000);
        let almost = around
            .iter()
            .rev()
            .find(|a| far_eta - a.0 > 10_000 && far_eta - a.0 < small);
        if let (Some(n), Some(m)) = (near, almost) {
            return (x, far, n.1, m.1);
        }
    }
    panic!("no layout for a re-assignment on this map");
}
