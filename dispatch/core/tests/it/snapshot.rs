//! Snapshots: a dispatcher restored from a snapshot of another, taken at any point of its
//! life and read back from JSON, is that dispatcher: the same state, the same points on the
//! road, and the same events for every operation after. The oracle is the dispatcher that
//! was never snapshotted. A snapshot that does not fit is refused.

use dispatch_core::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::helpers::*;
use crate::props::{apply, Op};
use crate::replay::{hospitals, ops, state};

/// The points on the road of every crew, call and hospital (left out of `state`).
fn on_road(d: &Dispatcher) -> Vec<(String, router::Snapped)> {
    let crews = d.crews().map(|c| (format!("crew {}", c.id), c.snapped));
    let calls = d.calls().map(|c| (format!("call {}", c.id), c.snapped));
    let hospitals = d
        .hospitals()
        .map(|h| (format!("hospital {}", h.id), h.snapped));
    crews.chain(calls).chain(hospitals).collect()
}

/// Through JSON, as the service stores it.
fn through_json(d: &Dispatcher) -> Snapshot {
    let text = serde_json::to_string(&d.snapshot()).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_snapshot_restores_the_same_dispatcher_at_any_point() {
    let seeds: u64 = std::env::var("SNAPSHOT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let base = std::env::var("TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_204u64);
    let (mut calls, mut crews, mut later) = (0, 0, 0);
    for seed in base..base + seeds {
        println!("a_snapshot_restores_the_same_dispatcher_at_any_point: seed {seed} (TEST_SEED={seed} SNAPSHOT_SEEDS=1 to replay)");
        let mut rng = StdRng::seed_from_u64(seed);
        let config = [
            DispatchConfig::default(),
            DispatchConfig {
                policy: Policy::StraightLine,
                queue_order: QueueOrder::EtaWeighted,
                diversion: false,
                ..Default::default()
            },
        ][(seed % 2) as usize];
        let mut live = Dispatcher::new(own_router(), config);
        hospitals(&mut live, T0);
        let mut added = 0;
        let history = ops(&mut rng, 160);
        let cut = rng.gen_range(0..history.len());
        let mut now = T0;
        for op in &history[..cut] {
            now += 10_000;
            let _ = apply(&mut live, &mut added, op, now);
        }
        let snapshot = through_json(&live);
        let (n_crews, n_calls) = snapshot.size();
        crews += n_crews;
        calls += n_calls;
        let mut restored = Dispatcher::from_snapshot(live.router().clone(), config, snapshot)
            .unwrap_or_else(|e| panic!("seed {seed}: from_snapshot failed: {e}"));
        assert_eq!(
            state(&restored),
            state(&live),
            "seed {seed}: restored state"
        );
        assert_eq!(
            on_road(&restored),
            on_road(&live),
            "seed {seed}: points on the road"
        );
        check_invariants(&restored);

        // The rest of the history, then every crew out and back: the same events on both.
        // (Closures left out: the two share the map, so a closure would be added twice.)
        let mut added_b = added;
        let rest = history[cut..]
            .iter()
            .filter(|op| !matches!(op, Op::Close(..) | Op::Reopen(_)));
        for op in rest {
            now += 10_000;
            let a = apply(&mut live, &mut added, op, now).map_err(|e| e.to_string());
            let b = apply(&mut restored, &mut added_b, op, now).map_err(|e| e.to_string());
            assert_eq!(a, b, "seed {seed}: {op:?} after the snapshot");
            later += a.map_or(0, |e| e.len());
        }
        let p = points()[(seed as usize * 31) % points().len()];
        let call = NewCall::at(p.0, p.1, Priority::Emergency);
        now += 10_000;
        assert_eq!(
            live.new_call(call.clone(), now).map_err(|e| e.to_string()),
            restored.new_call(call, now).map_err(|e| e.to_string()),
            "seed {seed}: a call without an id"
        );
        let ids: Vec<String> = live.crews().map(|c| c.id.clone()).collect();
        for id in &ids {
            for to in [CrewStatus::OutOfService, CrewStatus::Available] {
                now += 1_000;
                let a = live.set_crew_status(id, to, now).map_err(|e| e.to_string());
                let b = restored
                    .set_crew_status(id, to, now)
                    .map_err(|e| e.to_string());
                assert_eq!(a, b, "seed {seed}: {id} {to}");
            }
        }
        assert_eq!(state(&restored), state(&live), "seed {seed}: final state");
        check_invariants(&restored);
    }
    println!(
        "{seeds} seeds: snapshots of {crews} crews and {calls} calls, {later} events after them"
    );
    assert!(
        calls > 0 && crews > 0 && later > 0,
        "the snapshots should hold something"
    );
}

#[test]
fn a_snapshot_that_does_not_fit_is_refused() {
    let mut rng = rng("a_snapshot_that_does_not_fit_is_refused");
    let mut live = Dispatcher::new(own_router(), DispatchConfig::default());
    hospitals(&mut live, T0);
    let mut added = 0;
    for (k, op) in ops(&mut rng, 80).iter().enumerate() {
        let _ = apply(&mut live, &mut added, op, T0 + 10_000 * (k as i64 + 1));
    }
    let good = serde_json::to_value(live.snapshot()).unwrap();
    assert!(
        good["calls"].as_array().is_some_and(|c| !c.is_empty()),
        "calls to tamper with"
    );
    let refused = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        change(&mut v);
        let s: Snapshot = serde_json::from_value(v).unwrap();
        match Dispatcher::from_snapshot(live.router().clone(), DispatchConfig::default(), s) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    let e = refused(&|v| v["format"] = (SNAPSHOT_FORMAT + 1).into());
    assert!(e.contains("format"), "{e}");
    let e = refused(&|v| v["graph"]["nodes"] = 7.into());
    assert!(e.contains("another road graph"), "{e}");
    let e = refused(&|v| v["calls"][0]["on_road"]["segment"] = u32::MAX.into());
    assert!(e.contains("not on this map"), "{e}");
    let e = refused(&|v| {
        let first = v["calls"][0].clone();
        v["calls"].as_array_mut().unwrap().push(first);
    });
    assert!(e.contains("exists already"), "{e}");
    let e = refused(&|v| v["next_call_id"] = 1.into());
    assert!(e.contains("next call id"), "{e}");
    let e = refused(&|v| {
        let crews = v["crews"].as_array_mut().unwrap();
        let crew = crews.iter_mut().find(|c| !c.is_null()).unwrap();
        crew["call"] = 999_999.into();
    });
    assert!(e.contains("does not list it"), "{e}");
    let e = refused(&|v| {
        let crews = v["crews"].as_array_mut().unwrap();
        let crew = crews
            .iter_mut()
            .find(|c| c["call"].is_u64())
            .expect("a crew on a call");
        crew["call"] = serde_json::Value::Null;
    });
    assert!(e.contains("which does not work on it"), "{e}");

    // Untouched, it restores.
    let s: Snapshot = serde_json::from_value(good).unwrap();
    assert!(Dispatcher::from_snapshot(live.router().clone(), DispatchConfig::default(), s).is_ok());
}
