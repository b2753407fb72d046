//! Duplicate calls: which open calls a new call may repeat (distances from a haversine
//! written here, not the core's), and linking a second caller to an open call (no crew
//! sent, one timeline), on the Moscow fragment.

use dispatch_core::*;

use crate::helpers::*;

/// Great-circle distance (m), the test's own: mean Earth radius 6,371,008.8 m.
fn metres(a: P, b: P) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// Junctions at about `lo..hi` metres from `from`, by the test's own distance.
fn at_distance(from: P, lo: f64, hi: f64) -> Vec<P> {
    points()
        .iter()
        .copied()
        .filter(|&p| (lo..hi).contains(&metres(from, p)))
        .collect()
}

fn report(p: P, what: &str) -> LinkedReport {
    LinkedReport {
        received: 0,
        lat: p.0,
        lon: p.1,
        complaint: what.into(),
        address: String::new(),
        phone: Some("+7 900 000-00-00".into()),
    }
}

#[test]
fn open_calls_within_150_m_and_30_min_are_possible_duplicates_nearest_first() {
    // A junction with others at 40–90 m, 100–140 m and 165–300 m from it.
    let (a, near, inside, outside) = points()
        .iter()
        .find_map(|&a| {
            let band = |lo, hi| at_distance(a, lo, hi).first().copied();
            Some((
                a,
                band(40.0, 90.0)?,
                band(100.0, 140.0)?,
                band(165.0, 300.0)?,
            ))
        })
        .expect("a junction with neighbours at those distances");

    let mut d = dispatcher(DispatchConfig::default());
    let first = created(
        &d.new_call(NewCall::at(a.0, a.1, Priority::Emergency), T0)
            .unwrap(),
    );
    let second = created(
        &d.new_call(NewCall::at(near.0, near.1, Priority::Urgent), T0 + 5 * MIN)
            .unwrap(),
    );

    // Ten minutes after the first: both are open and recent. From `inside` (100–140 m
    // from the first), the first is within 150 m; the second is nearer or farther by the
    // test's own distances.
    let now = T0 + 10 * MIN;
    let found = d.possible_duplicates(inside.0, inside.1, now);
    let mut expected: Vec<(CallId, f64, i64)> = [(first, a, T0), (second, near, T0 + 5 * MIN)]
        .into_iter()
        .map(|(id, p, t)| (id, metres(inside, p), now - t))
        .filter(|(_, m, _)| *m <= 150.0)
        .collect();
    expected.sort_by(|x, y| x.1.total_cmp(&y.1));
    assert_eq!(
        found.iter().map(|f| f.call_id).collect::<Vec<_>>(),
        expected.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    for (f, e) in found.iter().zip(&expected) {
        assert!((f.distance_m - e.1).abs() <= 1.0, "{f:?} vs {e:?}");
        assert_eq!(f.age_ms, e.2);
    }
    assert!(found.iter().any(|f| f.call_id == first));

    // Beyond 150 m of both: nothing (the second may be nearer `outside`; check by hand).
    let from_outside = d.possible_duplicates(outside.0, outside.1, now);
    for f in &from_outside {
        let p = if f.call_id == first { a } else { near };
        assert!(metres(outside, p) <= 150.0, "{f:?}");
    }
    assert!(from_outside.iter().all(|f| f.call_id != first));

    // 30 min after the first it is no longer recent (31 min: gone); the second (26 min)
    // still is, when it is within 150 m.
    let late = d.possible_duplicates(a.0, a.1, T0 + 31 * MIN);
    assert!(late.iter().all(|f| f.call_id != first), "{late:?}");
    assert_eq!(
        late.iter().any(|f| f.call_id == second),
        metres(a, near) <= 150.0
    );
    let at_window = d.possible_duplicates(a.0, a.1, T0 + 30 * MIN);
    assert!(
        at_window.iter().any(|f| f.call_id == first),
        "30 min is inside"
    );

    // A closed call is never a duplicate.
    d.cancel_call(first, "test", now).unwrap();
    assert!(d
        .possible_duplicates(a.0, a.1, now)
        .iter()
        .all(|f| f.call_id != first));
}

#[test]
fn the_radius_and_window_are_settings() {
    let cfg = DispatchConfig::from_toml("[duplicates]\nradius_m = 500\nwindow_s = 60\n").unwrap();
    assert_eq!(
        cfg.duplicates,
        Duplicates {
            radius_m: 500,
            window_ms: 60_000
        }
    );
    assert_eq!(DispatchConfig::default().duplicates.radius_m, 150);
    assert_eq!(DispatchConfig::default().duplicates.window_ms, 30 * 60_000);
    assert!(DispatchConfig::from_toml("[duplicates]\nradius = 5\n").is_err());

    let pts = points();
    let a = pts[200];
    let far = at_distance(a, 200.0, 450.0)[0];
    let mut d = dispatcher(cfg);
    let id = created(
        &d.new_call(NewCall::at(a.0, a.1, Priority::Emergency), T0)
            .unwrap(),
    );
    assert_eq!(
        d.possible_duplicates(far.0, far.1, T0 + 59_000)
            .iter()
            .map(|f| f.call_id)
            .collect::<Vec<_>>(),
        [id],
        "within 500 m and 60 s"
    );
    assert!(d.possible_duplicates(far.0, far.1, T0 + 61_000).is_empty());
}

#[test]
fn a_linked_caller_gets_no_crew_and_joins_the_calls_timeline() {
    let pts = points();
    let a = pts[200];
    let mut d = dispatcher(DispatchConfig::default());
    d.add_crew(crew("A", CrewType::General, pts[10]), T0)
        .unwrap();
    d.add_crew(crew("B", CrewType::General, pts[20]), T0)
        .unwrap();
    let ev = d
        .new_call(NewCall::at(a.0, a.1, Priority::Emergency), T0)
        .unwrap();
    let id = created(&ev);
    assert_eq!(decisions(&ev).len(), 1, "one crew for the first caller");
    let sent = decisions(&ev)[0].crew_id.clone();
    let free: Vec<String> = d
        .crews()
        .filter(|c| c.status == CrewStatus::Available)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(free.len(), 1);

    // A second caller about the same patient, linked: one event, no decision, the other
    // crew still free, the report on the call.
    let second = report(a, "лежит у подъезда");
    let ev = d.link_call(id, second.clone(), T0 + MIN).unwrap();
    assert_eq!(
        ev,
        [Event::CallLinked {
            call_id: id,
            report: LinkedReport {
                received: T0 + MIN,
                ..second.clone()
            }
        }]
    );
    let call = d.call(id).unwrap();
    assert_eq!(call.linked.len(), 1);
    assert_eq!(call.linked[0].complaint, "лежит у подъезда");
    assert_eq!(active_crews(call), std::slice::from_ref(&sent));
    assert_eq!(
        d.crews()
            .filter(|c| c.status == CrewStatus::Available)
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        free
    );
    check_invariants(&d);

    // A second crew is asked for as one more need: then it is sent.
    let ev = d
        .edit_call(
            id,
            CallEdit {
                needs: Some(vec![CrewType::General, CrewType::General]),
                ..Default::default()
            },
            T0 + 2 * MIN,
        )
        .unwrap();
    assert_eq!(decisions(&ev)[0].crew_id, free[0]);

    // Unknown or closed calls refuse a link and change nothing.
    let before = snapshot(&d);
    assert!(matches!(
        d.link_call(CallId(999), report(a, "x"), T0),
        Err(DispatchError::UnknownCall(_))
    ));
    d.cancel_call(id, "test", T0 + 3 * MIN).unwrap();
    let before_closed = snapshot(&d);
    assert!(d.link_call(id, report(a, "x"), T0 + 4 * MIN).is_err());
    assert_eq!(snapshot(&d), before_closed);
    assert_ne!(before, before_closed);
}

#[test]
fn links_and_structured_addresses_survive_a_replay() {
    let pts = points();
    let a = pts[200];
    let mut d = dispatcher(DispatchConfig::default());
    let mut log = Vec::new();
    log.extend(
        d.add_crew(crew("A", CrewType::General, pts[10]), T0)
            .unwrap(),
    );
    let place = Place {
        street: Some("улица Гончарова".into()),
        housenumber: Some("4".into()),
        building: Some("3".into()),
        entrance: Some("2".into()),
        ..Default::default()
    };
    let ev = d
        .new_call(
            NewCall {
                place: Some(place.clone()),
                address: "улица Гончарова, 4 стр. 3, подъезд 2".into(),
                ..NewCall::at(a.0, a.1, Priority::Emergency)
            },
            T0,
        )
        .unwrap();
    let id = created(&ev);
    log.extend(ev);
    log.extend(
        d.link_call(id, report(a, "второй звонок"), T0 + MIN)
            .unwrap(),
    );
    // An empty place clears it; the log keeps both changes.
    log.extend(
        d.edit_call(
            id,
            CallEdit {
                place: Some(Place {
                    floor: Some("5".into()),
                    ..place.clone()
                }),
                ..Default::default()
            },
            T0 + 2 * MIN,
        )
        .unwrap(),
    );
    assert_eq!(
        d.call(id).unwrap().place.as_ref().unwrap().floor.as_deref(),
        Some("5")
    );

    // The events through JSON (as the store keeps them) rebuild the same state.
    let mut again = dispatcher(DispatchConfig::default());
    for e in &log {
        let text = serde_json::to_string(e).unwrap();
        again.replay(&serde_json::from_str(&text).unwrap()).unwrap();
    }
    assert_eq!(snapshot(&again), snapshot(&d));
    assert_eq!(again.call(id).unwrap().linked.len(), 1);

    let ev = d
        .edit_call(
            id,
            CallEdit {
                place: Some(Place::default()),
                ..Default::default()
            },
            T0 + 3 * MIN,
        )
        .unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(d.call(id).unwrap().place, None);
}
