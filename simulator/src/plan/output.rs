//! A plan's files: `stations.csv` (`id,lat,lon,crews`, what `--stations-file` reads, `crews`
//! the most on duty in any hour), `shifts.csv` (`hour,station,crews`, what `--shifts`
//! reads), `candidates.csv` (the sites it chose from) and `plan.geojson` (the stations as points, with their crews by hour), so a plan
//! can be run again, compared, edited and shown on a map.

use std::fmt::Write as _;

use serde_json::json;

use super::Plan;
use crate::places::Place;

/// `stations.csv` of a plan.
pub fn stations_csv(plan: &Plan, sites: &[Place]) -> String {
    let mut s = String::from("id,lat,lon,crews\n");
    for j in plan.opened() {
        let most = plan.counts[j].iter().max().copied().unwrap_or(0);
        let _ = writeln!(
            s,
            "{},{},{},{most}",
            sites[j].id, sites[j].lat, sites[j].lon
        );
    }
    s
}

/// `candidates.csv`: the candidate sites (`id,lat,lon`), for `--candidates` to read back
/// (edited, or as they were).
pub fn candidates_csv(sites: &[Place]) -> String {
    let mut s = String::from("id,lat,lon\n");
    for p in sites {
        let _ = writeln!(s, "{},{},{}", p.id, p.lat, p.lon);
    }
    s
}

/// `shifts.csv` of a plan: a row for every hour and open station (zeros included, so the
/// file reads as a full table).
pub fn shifts_csv(plan: &Plan, sites: &[Place]) -> String {
    let mut s = String::from("hour,station,crews\n");
    for h in 0..24 {
        for j in plan.opened() {
            let _ = writeln!(s, "{h},{},{}", sites[j].id, plan.counts[j][h]);
        }
    }
    s
}

/// `plan.geojson` of a plan.
pub fn geojson(plan: &Plan, sites: &[Place]) -> String {
    let features: Vec<serde_json::Value> = plan
        .opened()
        .into_iter()
        .map(|j| {
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [sites[j].lon, sites[j].lat]},
                "properties": {
                    "id": sites[j].id,
                    "crews": plan.counts[j].iter().max().copied().unwrap_or(0),
                    "crews_by_hour": plan.counts[j],
                    "crew_hours": plan.counts[j].iter().sum::<u32>(),
                },
            })
        })
        .collect();
    let doc = json!({"type": "FeatureCollection", "features": features});
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
