//! Stations, hospitals and population from files.

use simulator::demand::Demand;
use simulator::places::{self, Kind};
use simulator::scenario::{self, WorldSpec};

use crate::helpers::router;

#[test]
fn stations_from_csv_and_hospitals_from_geojson() {
    let r = router("monaco");
    let dir = tempfile::tempdir().unwrap();
    let stations = dir.path().join("stations.csv");
    std::fs::write(
        &stations,
        "id,lat,lon,crews\nport,43.7352,7.4213,2\nfontvieille,43.7283,7.4148,1\n",
    )
    .unwrap();
    let hospitals = dir.path().join("hospitals.geojson");
    std::fs::write(
        &hospitals,
        r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"id":"PG","name":"Princesse Grace"},
             "geometry":{"type":"Point","coordinates":[7.4148,43.7283]}}]}"#,
    )
    .unwrap();
    let spec = WorldSpec {
        stations_file: Some(stations.clone()),
        hospitals_file: Some(hospitals),
        ..WorldSpec::auto(3)
    };
    let w = scenario::build_world(r.clone(), &spec).unwrap();
    assert_eq!(
        w.stations.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["port", "fontvieille"]
    );
    assert_eq!(
        w.crew_station,
        [0, 0, 1],
        "the crews column is used when it adds up"
    );
    assert_eq!(w.hospitals[0].name, "Princesse Grace");
    // More crews than the file lists: round-robin.
    let w = scenario::build_world(
        r.clone(),
        &WorldSpec {
            crews: 5,
            ..spec.clone()
        },
    )
    .unwrap();
    assert_eq!(w.crew_station, [0, 1, 0, 1, 0]);
    // Errors name the line, or the place off the map.
    std::fs::write(
        &stations,
        "id,lat,lon\nport,43.7352,7.4213\n,43.73,7.42\nx,north,7.42\n",
    )
    .unwrap();
    let err = places::load(&r, &stations, Kind::Station)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
    std::fs::write(&stations, "id,lat,lon\nparis,48.85,2.35\n").unwrap();
    let err = places::load(&r, &stations, Kind::Station)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("station paris") && err.contains("off the map"),
        "{err}"
    );
}

#[test]
fn population_points_weight_the_demand() {
    let r = router("monaco");
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop.csv");
    // Everyone lives in one place (and one point is off the map).
    std::fs::write(&pop, "lat,lon,weight\n43.7310,7.4205,1000\n48.85,2.35,50\n").unwrap();
    let (d, off) = Demand::from_population_csv(&r, &pop, 500.0).unwrap();
    assert_eq!(off, 1);
    assert_eq!(d.cells.len(), 1);
    assert_eq!(d.total(), 1000.0);
    let roads = Demand::from_roads(&r, 500.0).unwrap();
    assert!(roads.cells.len() > 5);
    std::fs::write(&pop, "lat,lon,weight\n43.73,7.42,-4\n").unwrap();
    let err = Demand::from_population_csv(&r, &pop, 500.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2") && err.contains("negative"), "{err}");
}
