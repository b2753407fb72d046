//! Choosing by road: the bucket search against `Router::eta` for every crew, the pruned
//! search against the bucket search, road against straight line, and closures.

use std::sync::Arc;

use dispatch_core::*;
use rand::rngs::StdRng;
use rand::Rng;
use router::{ClosureArea, ClosureSpec, Router, Snapped};

use crate::helpers::*;

/// The five best available crews able to serve `need` by `Router::eta`, ties by id.
fn brute(d: &Dispatcher, r: &Router, at: &Snapped, need: CrewType) -> Vec<Candidate> {
    let mut all: Vec<Candidate> = d
        .crews()
        .filter(|c| c.status == CrewStatus::Available && c.crew_type.can_serve(need))
        .filter_map(|c| {
            Some(Candidate {
                crew_id: c.id.clone(),
                eta_ms: r.eta(&c.snapped, at)?,
            })
        })
        .collect();
    all.sort_by(|a, b| a.eta_ms.cmp(&b.eta_ms).then(a.crew_id.cmp(&b.crew_id)));
    all.truncate(5);
    all
}

/// A junction, sometimes moved off it a little (so it snaps mid-segment).
fn place(rng: &mut StdRng) -> P {
    let pts = points();
    let p = pts[rng.gen_range(0..pts.len())];
    if rng.gen_bool(0.5) {
        (
            p.0 + rng.gen_range(-0.0004..0.0004),
            p.1 + rng.gen_range(-0.0006..0.0006),
        )
    } else {
        p
    }
}

fn random_type(rng: &mut StdRng) -> CrewType {
    match rng.gen_range(0..10) {
        0..=5 => CrewType::General,
        6..=7 => CrewType::Resuscitation,
        8 => CrewType::Paediatric,
        _ => CrewType::Psychiatric,
    }
}

/// Adds `n` random crews (some sharing a place, to exercise ties) and takes a few out of
/// service.
fn populate(d: &mut Dispatcher, rng: &mut StdRng, n: usize) {
    let mut placed: Vec<P> = Vec::new();
    for i in 0..n {
        let p = if i > 0 && rng.gen_bool(0.2) {
            placed[rng.gen_range(0..placed.len())]
        } else {
            place(rng)
        };
        let t = random_type(rng);
        if d.add_crew(crew(&format!("C{i:02}"), t, p), T0).is_ok() {
            placed.push(p);
        }
    }
    let ids: Vec<String> = d.crews().map(|c| c.id.clone()).collect();
    for id in ids.iter().filter(|_| rng.gen_bool(0.2)) {
        d.set_crew_status(id, CrewStatus::OutOfService, T0).unwrap();
    }
}

fn compare_all(d: &mut Dispatcher, r: &Router, rng: &mut StdRng, queries: usize) -> usize {
    let mut checked = 0;
    for _ in 0..queries {
        let p = place(rng);
        let Ok(at) = r.snap(p.0, p.1) else {
            continue;
        };
        for need in CrewType::ALL {
            let bucket = d.best_by_road(&at, need);
            let pruned = d.best_by_road_pruned(&at, need);
            let truth = brute(d, r, &at, need);
            assert_eq!(bucket, pruned, "need {need} at {:?}", at.point);
            assert_eq!(
                bucket
                    .as_ref()
                    .map(|c| c.candidates.clone())
                    .unwrap_or_default(),
                truth,
                "need {need} at {:?}",
                at.point
            );
            if let Some(c) = &bucket {
                assert_eq!(c.crew_id, truth[0].crew_id);
                assert_eq!(c.eta_ms, truth[0].eta_ms);
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn bucket_choice_is_the_true_fastest_and_the_pruned_search_agrees() {
    let mut rng = rng("bucket_choice_is_the_true_fastest_and_the_pruned_search_agrees");
    let r = router();
    for crews in [1, 3, 7, 40] {
        let mut d = dispatcher(DispatchConfig::default());
        populate(&mut d, &mut rng, crews);
        let n = compare_all(&mut d, &r, &mut rng, 60);
        assert!(n > 0);
    }
}

#[test]
fn the_fastest_by_road_is_chosen_even_when_another_crew_is_nearer_in_a_straight_line() {
    let mut rng = rng("fastest_by_road_not_straight_line");
    let r = router();
    let pts = points();
    let places: Vec<P> = (0..6).map(|_| pts[rng.gen_range(0..pts.len())]).collect();
    let setup = |policy: Policy| {
        let mut d = dispatcher(DispatchConfig {
            policy,
            ..Default::default()
        });
        for (i, &p) in places.iter().enumerate() {
            d.add_crew(crew(&format!("G{i}"), CrewType::General, p), T0)
                .unwrap();
        }
        d
    };
    let mut d = setup(Policy::RoadEta);
    // Search the map for a place where the two differ.
    let found = pts.iter().find_map(|&p| {
        let at = snap(p);
        let (line, _) = d.nearest_by_straight_line(&at, CrewType::General)?;
        let best = brute(&d, &r, &at, CrewType::General);
        let line_eta = best
            .iter()
            .find(|c| c.crew_id == line)
            .map_or(u32::MAX, |c| c.eta_ms);
        (line != best[0].crew_id && line_eta > best[0].eta_ms + 10_000).then_some((p, line, best))
    });
    let (p, line, best) = found.expect("a place where straight line and road disagree");
    println!(
        "call at {p:?}: straight-line nearest {line}, fastest by road {} ({} ms)",
        best[0].crew_id, best[0].eta_ms
    );

    let mut d = setup(Policy::RoadEta);
    let ev = d
        .new_call(NewCall::at(p.0, p.1, Priority::Emergency), T0)
        .unwrap();
    let dec = decisions(&ev)[0].clone();
    assert_eq!(dec.crew_id, best[0].crew_id);
    assert_ne!(dec.crew_id, line);
    assert_eq!(dec.reason, DecisionReason::NearestByRoad);
    assert_eq!(dec.candidates, best);
    let at = snap(p);
    for c in d.crews() {
        assert!(r.eta(&c.snapped, &at).unwrap() >= dec.eta_ms, "{}", c.id);
    }

    let mut d = setup(Policy::StraightLine);
    let ev = d
        .new_call(NewCall::at(p.0, p.1, Priority::Emergency), T0)
        .unwrap();
    let dec = decisions(&ev)[0].clone();
    assert_eq!(dec.crew_id, line);
    assert_eq!(dec.reason, DecisionReason::NearestByStraightLine);
    assert_eq!(
        dec.eta_ms,
        r.eta(&d.crew(&line).unwrap().snapped, &at).unwrap()
    );
    assert_eq!(dec.candidates, best, "candidates are still by road");
}

#[test]
fn choices_follow_closures_slow_downs_and_speed_ups() {
    let mut rng = rng("choices_follow_closures_slow_downs_and_speed_ups");
    let r = Arc::new(fresh_router());
    let mut d = Dispatcher::new(r.clone(), DispatchConfig::default());
    populate(&mut d, &mut rng, 12);
    let pts = points();

    // Slow the roads around the best crew for some call down 50 times: another crew wins.
    let x = pts[rng.gen_range(0..pts.len())];
    let at = r.snap(x.0, x.1).unwrap();
    let before = d.best_by_road(&at, CrewType::General).unwrap();
    let pos = d.crew(&before.crew_id).unwrap().position;
    let slow = r
        .add_closure(
            ClosureSpec {
                area: ClosureArea::Near {
                    lat: pos.lat,
                    lon: pos.lon,
                    radius_m: 150.0,
                },
                factor: Some(50.0),
                from_ms: None,
                until_ms: None,
            },
            T0,
        )
        .unwrap();
    let after = d.best_by_road(&at, CrewType::General).unwrap();
    let truth = brute(&d, &r, &at, CrewType::General);
    assert_eq!(after.candidates, truth);
    let old = truth.iter().find(|c| c.crew_id == before.crew_id);
    assert!(old.is_none_or(|c| c.eta_ms > before.eta_ms));
    println!(
        "before: {} {} ms; after slow-down: {} {} ms",
        before.crew_id, before.eta_ms, after.crew_id, after.eta_ms
    );
    assert_eq!(d.best_by_road_pruned(&at, CrewType::General), Some(after));
    compare_all(&mut d, &r, &mut rng, 20);
    r.remove_closure(slow.id, T0).unwrap();

    // Speed-ups make the map faster than its fastest road: the bound must follow.
    let centre = pts[pts.len() / 2];
    r.add_closure(
        ClosureSpec {
            area: ClosureArea::Near {
                lat: centre.0,
                lon: centre.1,
                radius_m: 800.0,
            },
            factor: Some(0.2),
            from_ms: None,
            until_ms: None,
        },
        T0,
    )
    .unwrap();
    compare_all(&mut d, &r, &mut rng, 30);

    // A full closure of a busy way.
    let g = r.graph();
    let way = g.seg_way_id[rng.gen_range(0..g.segment_count())];
    r.add_closure(
        ClosureSpec {
            area: ClosureArea::Ways(vec![way]),
            factor: None,
            from_ms: None,
            until_ms: None,
        },
        T0,
    )
    .unwrap();
    compare_all(&mut d, &r, &mut rng, 30);
}
