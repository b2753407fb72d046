//! Live closures: routes avoid closed roads at once, reopen exactly, respect time windows,
//! and never lose a patient inside a closed area.

use router::{ClosureArea, ClosureSpec, Router};

use crate::helpers::router;

fn snap(r: &Router, lat: f64, lon: f64) -> router::Snapped {
    r.snap(lat, lon).unwrap()
}

fn closed_ways(ways: Vec<i64>) -> ClosureSpec {
    ClosureSpec {
        area: ClosureArea::Ways(ways),
        factor: None,
        from_ms: None,
        until_ms: None,
    }
}

/// Two points across Heidelberg's old town.
fn heidelberg_trip(r: &Router) -> (router::Snapped, router::Snapped) {
    (snap(r, 49.4106, 8.6946), snap(r, 49.4034, 8.6765))
}

#[test]
fn closing_the_roads_of_a_route_reroutes_and_reopening_restores_it() {
    let r = router("heidelberg");
    let (s, t) = heidelberg_trip(&r);
    let before = r.route(&s, &t).unwrap().unwrap();
    let g = r.graph().clone();
    // Close the ways in the middle of the route (not the ones the endpoints lie on).
    let n = before.pieces.len();
    let mut ways: Vec<i64> = before.pieces[n / 3..2 * n / 3]
        .iter()
        .map(|p| g.seg_way_id[p.segment as usize])
        .collect();
    ways.sort_unstable();
    ways.dedup();
    let endpoint_ways = [
        g.seg_way_id[s.segment as usize],
        g.seg_way_id[t.segment as usize],
    ];
    ways.retain(|w| !endpoint_ways.contains(w));
    assert!(!ways.is_empty());
    let c = r.add_closure(closed_ways(ways.clone()), 0).unwrap();
    let after = r.route(&s, &t).unwrap().expect("a detour exists");
    assert!(
        after.duration_ms > before.duration_ms,
        "{} vs {}",
        after.duration_ms,
        before.duration_ms
    );
    for p in &after.pieces {
        assert!(
            !ways.contains(&g.seg_way_id[p.segment as usize]),
            "the detour avoids the closed ways"
        );
    }
    assert_eq!(r.closures().len(), 1);
    r.remove_closure(c.id, 0).unwrap();
    assert_eq!(r.route(&s, &t).unwrap().unwrap(), before);
    assert!(r.remove_closure(c.id, 0).is_err());
}

#[test]
fn slow_downs_and_time_windows() {
    let r = router("heidelberg");
    let (s, t) = heidelberg_trip(&r);
    let base = r.eta(&s, &t).unwrap();
    // Everything within 50 km three times slower from t=1000 to t=2000.
    let spec = ClosureSpec {
        area: ClosureArea::Near {
            lat: 49.41,
            lon: 8.69,
            radius_m: 50_000.0,
        },
        factor: Some(3.0),
        from_ms: Some(1_000),
        until_ms: Some(2_000),
    };
    r.add_closure(spec, 0).unwrap();
    assert_eq!(r.eta(&s, &t), Some(base));
    assert!(r.refresh(1_000));
    let slow = r.eta(&s, &t).unwrap();
    assert!(
        (i64::from(slow) - 3 * i64::from(base)).abs()
            <= 3 * r.route(&s, &t).unwrap().unwrap().pieces.len() as i64
    );
    assert!(!r.refresh(1_500), "nothing changes inside the window");
    assert!(r.refresh(2_000));
    assert_eq!(r.eta(&s, &t), Some(base));
}

#[test]
fn a_call_inside_a_closed_area_is_still_reached() {
    let r = router("heidelberg");
    let (s, t) = heidelberg_trip(&r);
    let base = r.route(&s, &t).unwrap().unwrap();
    // A square of about 300 m around the call closes every road in it.
    let (lat, lon) = (t.point.lat(), t.point.lon());
    let (dlat, dlon) = (0.0015, 0.002);
    let ring = vec![
        (lon - dlon, lat - dlat),
        (lon + dlon, lat - dlat),
        (lon + dlon, lat + dlat),
        (lon - dlon, lat + dlat),
        (lon - dlon, lat - dlat),
    ];
    let c = r
        .add_closure(
            ClosureSpec {
                area: ClosureArea::Polygon(ring),
                ..closed_ways(vec![])
            },
            0,
        )
        .unwrap();
    assert!(c.arcs.len() > 4, "the square covers roads");
    assert!(
        r.segment_arcs(t.segment).iter().all(|a| c.arcs.contains(a)),
        "the call's road is closed"
    );
    let live = r.live();
    let route = r
        .route(&s, &t)
        .unwrap()
        .expect("the patient is still reached");
    assert!(route.duration_ms >= base.duration_ms);
    // The route drives open roads up to the closed area, then only closed ones.
    let closed: Vec<bool> = route
        .pieces
        .iter()
        .map(|p| live.weights[p.arc as usize] == router::cch::INF)
        .collect();
    let first_closed = closed
        .iter()
        .position(|&c| c)
        .expect("the last block is closed");
    assert!(closed[first_closed..].iter().all(|&c| c), "{closed:?}");
    assert_eq!(r.eta(&s, &t), Some(route.duration_ms));
    // Many-to-one agrees.
    let mut index = router::EtaIndex::many_to_one(&r);
    index.set(&r, 0, s);
    assert_eq!(index.etas(&r, &t), vec![Some(route.duration_ms)]);
}

#[test]
fn a_fork_starts_with_the_closures_and_then_goes_its_own_way() {
    let r = router("heidelberg");
    let (s, t) = heidelberg_trip(&r);
    let base = r.eta(&s, &t).unwrap();
    let slow = |from_ms| ClosureSpec {
        area: ClosureArea::Near {
            lat: 49.41,
            lon: 8.69,
            radius_m: 50_000.0,
        },
        factor: Some(2.0),
        from_ms: Some(from_ms),
        until_ms: None,
    };
    let first = r.add_closure(slow(0), 0).unwrap();
    let fork = r.fork();
    assert_eq!(fork.closures(), r.closures());
    let slowed = fork.eta(&s, &t).unwrap();
    assert!(slowed > base, "{slowed} vs {base}");
    assert_eq!(r.eta(&s, &t), Some(slowed));

    // The fork reopens its roads: the original keeps the slow-down.
    fork.remove_closure(first.id, 0).unwrap();
    assert_eq!(fork.eta(&s, &t), Some(base));
    assert_eq!(r.eta(&s, &t), Some(slowed));

    // A closure the original adds later and its time windows stay out of the fork.
    r.add_closure(slow(1_000), 0).unwrap();
    r.refresh(5_000);
    let slower = r.eta(&s, &t).unwrap();
    assert!(slower > slowed, "{slower} vs {slowed}");
    fork.refresh(5_000);
    assert_eq!(fork.eta(&s, &t), Some(base));
    assert!(fork.closures().is_empty());
}
