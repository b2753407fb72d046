//! Stations: `[[stations]]` in the settings file, checked at start (a clear error for a
//! duplicate id or a station off the map), and `GET /api/stations` for any valid token.

use std::process::Command;

use dispatch::stations::{Station, StationError};
use serde_json::{json, Value};

use crate::helpers::{client, shared_router, start_with, TestDb, CREW_A1, DISPATCHER};

fn station(id: &str, name: &str, lat: f64, lon: f64) -> Station {
    Station {
        id: id.into(),
        name: name.into(),
        lat,
        lon,
    }
}

#[tokio::test]
async fn stations_are_served_to_any_token_in_their_order_and_shape() {
    let stations = vec![
        station("S1", "Rettungswache Mitte", 49.4093, 8.6937),
        station("S2", "Wache Süd", 49.3872, 8.6741),
    ];
    let router = shared_router("heidelberg");
    dispatch::stations::check_on_map(&stations, &router).unwrap();
    let given = stations.clone();
    let s = start_with(router, TestDb::sqlite(), move |c| c.stations = given).await;
    let r = reqwest::get(format!("{}/api/stations", s.base))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "a token is needed");
    for token in [CREW_A1, DISPATCHER] {
        let r = client(token)
            .get(format!("{}/api/stations", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.unwrap();
        // Exactly this shape: the console's map and the tablet read it.
        assert_eq!(
            body,
            json!([
                {"id": "S1", "name": "Rettungswache Mitte", "lat": 49.4093, "lon": 8.6937},
                {"id": "S2", "name": "Wache Süd", "lat": 49.3872, "lon": 8.6741},
            ])
        );
    }
}

#[test]
fn a_station_off_the_map_is_named() {
    let router = shared_router("heidelberg");
    let e = dispatch::stations::check_on_map(
        &[
            station("S1", "Mitte", 49.4093, 8.6937),
            station("Berlin", "Far away", 52.52, 13.405),
        ],
        &router,
    )
    .unwrap_err();
    assert!(
        matches!(&e, StationError::OffMap { id, .. } if id == "Berlin"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("\"Berlin\"") && text.contains("off the map"),
        "{text}"
    );
}

/// `dispatch serve --config` refuses a file with two stations of one id before it opens
/// the map, naming the file and the id.
#[test]
fn serve_refuses_duplicate_station_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.toml");
    std::fs::write(
        &path,
        "diversion = true\n\
         [[stations]]\nid = \"S1\"\nname = \"Mitte\"\nlat = 49.4093\nlon = 8.6937\n\
         [[stations]]\nid = \"S1\"\nname = \"Süd\"\nlat = 49.3872\nlon = 8.6741\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .arg("--db")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("dispatch.db").display()
        ))
        .arg("--tokens")
        .arg(dir.path().join("tokens.toml"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("service.toml") && stderr.contains("\"S1\" is given twice"),
        "{stderr}"
    );
}
