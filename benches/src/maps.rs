//! The bundled maps and seeded random workloads on them (node pairs, snapped points, ways).

use osm_data::RoadGraph;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::{Router, Snapped};

pub use test_support::{map_path, MAPS};

/// Imports a bundled map with the default emergency profile.
///
/// # Panics
/// If the map is missing or does not import.
pub fn import_map(name: &str) -> RoadGraph {
    test_support::graph(name)
}

/// `count` random `(source, target)` node pairs of a graph with `node_count` nodes.
pub fn random_pairs(node_count: usize, count: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (
                rng.gen_range(0..node_count as u32),
                rng.gen_range(0..node_count as u32),
            )
        })
        .collect()
}

/// `count` random points on the roads: uniform coordinates in the graph's bounding box,
/// snapped, drawing again when a coordinate is too far from every road.
///
/// # Panics
/// If the graph is empty or almost every coordinate fails to snap.
pub fn random_points(router: &Router, count: usize, seed: u64) -> Vec<Snapped> {
    let b = router.graph().bounding_box().expect("a non-empty graph");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    let mut attempts = 0usize;
    while out.len() < count {
        attempts += 1;
        assert!(
            attempts <= 1_000 * (count + 1),
            "too few coordinates snap to a road"
        );
        let lat = rng.gen_range(b.min_lat..=b.max_lat);
        let lon = rng.gen_range(b.min_lon..=b.max_lon);
        if let Ok(p) = router.snap(lat, lon) {
            out.push(p);
        }
    }
    out
}

/// `sets` sets of `per_set` distinct random OSM way ids of the graph (ways with a positive id).
pub fn random_way_sets(graph: &RoadGraph, sets: usize, per_set: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut ids: Vec<i64> = graph
        .seg_way_id
        .iter()
        .copied()
        .filter(|&id| id > 0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(
        ids.len() >= per_set,
        "the graph has fewer than {per_set} ways"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    (0..sets)
        .map(|_| {
            let mut set: Vec<i64> = Vec::with_capacity(per_set);
            while set.len() < per_set {
                let id = ids[rng.gen_range(0..ids.len())];
                if !set.contains(&id) {
                    set.push(id);
                }
            }
            set
        })
        .collect()
}

/// The dense part of the Heidelberg strip (`(lat0, lat1, lon0, lon1)`), where the load
/// benches draw their points, within `router`'s map.
pub fn heidelberg_core(router: &Router) -> (f64, f64, f64, f64) {
    let bb = router.graph().bounding_box().expect("a map with nodes");
    (
        bb.min_lat.max(49.36),
        bb.max_lat.min(49.46),
        bb.min_lon.max(8.60),
        bb.max_lon.min(8.75),
    )
}
