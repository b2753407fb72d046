//! The demo (`dispatch serve --demo`): simulated calls and tablets drive the real service, so
//! within seconds crews are created, calls are assigned, crews drive, and handovers are
//! recorded; and its database is removed when it ends.

use std::time::{Duration, Instant};

use crate::helpers::{client, data, get, shared_router, start_with, TestDb, ADMIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_the_whole_loop_within_seconds() {
    let router = shared_router("heidelberg");
    let opts = dispatch::demo::DemoOptions {
        crews: 8,
        calls_per_day: 1_500.0,
        speed: 240.0,
        ..Default::default()
    };
    // The demo's stations, as `dispatch serve --demo` serves them.
    let world = dispatch::demo::world(router.clone(), &opts).expect("the demo's world");
    let stations = dispatch::demo::stations(&world);
    dispatch::stations::check_on_map(&stations, &router).expect("stations on the map");
    let s = start_with(router.clone(), TestDb::sqlite(), |c| {
        c.stations = stations.clone()
    })
    .await;
    // The hospitals of the map, as `dispatch serve` adds them.
    let places = osm_data::hospitals(&data("heidelberg.osm.pbf")).unwrap();
    dispatch::hospitals::register(&s.state, dispatch::hospitals::from_places(&places))
        .await
        .unwrap();
    let started = Instant::now();
    dispatch::demo::drive(world, s.base.clone(), ADMIN.into(), &opts, None)
        .expect("the demo starts");
    let c = client(ADMIN);
    let mut seen_driving = None;
    let mut seen_handover = None;
    while started.elapsed() < Duration::from_secs(90)
        && (seen_driving.is_none() || seen_handover.is_none())
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let crews = get(&c, format!("{}/api/crews", s.base)).await;
        let driving = crews
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "en_route" || c["status"] == "transporting");
        if driving && seen_driving.is_none() {
            assert_eq!(crews.as_array().unwrap().len(), opts.crews, "{crews}");
            // Every crew's station is one the service serves.
            let served = get(&c, format!("{}/api/stations", s.base)).await;
            for crew in crews.as_array().unwrap() {
                assert!(
                    served
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|st| st["id"] == crew["station"]),
                    "{crew} is at a station of {served}"
                );
            }
            seen_driving = Some(started.elapsed());
        }
        let log = get(&c, format!("{}/api/audit", s.base)).await;
        let handover = log
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "handover_recorded");
        if handover && seen_handover.is_none() {
            seen_handover = Some(started.elapsed());
        }
    }
    let driving = seen_driving.expect("a crew drove to a call within 90 s");
    assert!(
        driving < Duration::from_secs(10),
        "the first crew drove after {driving:?}"
    );
    let Some(handover) = seen_handover else {
        let log = get(&c, format!("{}/api/audit", s.base)).await;
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for e in log.as_array().unwrap() {
            *kinds
                .entry(e["type"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        panic!("no handover was recorded within 90 s; the log: {kinds:?}");
    };
    println!("first crew driving after {driving:?}, first handover after {handover:?}");
}

#[test]
fn the_demo_database_is_removed_when_the_demo_ends() {
    let db = dispatch::demo::DemoDb::create();
    let path = db.url().trim_start_matches("sqlite://").to_string();
    for suffix in ["", "-wal", "-shm"] {
        std::fs::write(format!("{path}{suffix}"), b"x").unwrap();
    }
    assert!(std::path::Path::new(&path).exists());
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        assert!(!std::path::Path::new(&format!("{path}{suffix}")).exists());
    }
}
