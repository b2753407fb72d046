//! Every shipped map imports into a plausible, deterministic graph that honours one-ways,
//! turn restrictions and barriers, and that round-trips through the graph file.

use std::collections::HashSet;

use osm_data::graph_file;
use osm_data::reader::read_pbf;
use osm_data::tags::RestrictionKind;
use osm_data::{Profile, RoadGraph};

use crate::helpers::{import, import_with, map_path, MAPS};

/// (map, minimum nodes, maximum nodes): generous bounds around what the extracts hold.
const PLAUSIBLE_NODES: [(&str, usize, usize); 6] = [
    ("heidelberg", 9_000, 16_000),
    ("monaco", 1_500, 3_000),
    ("liechtenstein", 2_500, 4_500),
    ("helsinki", 600, 1_300),
    ("baltimore", 4_000, 7_000),
    ("moscow-fragment", 400, 900),
];

#[test]
fn every_shipped_map_imports_into_a_plausible_graph() {
    for (name, lo, hi) in PLAUSIBLE_NODES {
        let imp = import(name);
        let g = &imp.graph;
        g.validate().unwrap();
        println!(
            "{name}: {} nodes, {} arcs, {} segments, dropped {:.1} %, {} restrictions, {} barriers",
            g.node_count(),
            g.arc_count(),
            g.segment_count(),
            imp.build.dropped_node_share * 100.0,
            imp.build.restrictions_applied,
            imp.build.blocking_barriers
        );
        assert!(
            (lo..=hi).contains(&g.node_count()),
            "{name}: {} nodes",
            g.node_count()
        );
        // Road graphs have between 1 and 4 arcs per node on average.
        let ratio = g.arc_count() as f64 / g.node_count() as f64;
        assert!((1.2..4.0).contains(&ratio), "{name}: {ratio} arcs per node");
        assert!(
            imp.build.dropped_node_share < 0.25,
            "{name}: dropped {}",
            imp.build.dropped_node_share
        );
        // Every node has a way out and a way in (strong connectivity).
        let mut indeg = vec![0u32; g.node_count()];
        for &h in &g.arc_head {
            indeg[h as usize] += 1;
        }
        for v in 0..g.node_count() as u32 {
            assert!(
                !g.out_arcs(v).is_empty() && indeg[v as usize] > 0,
                "{name}: node {v} is a dead end"
            );
        }
        // Travel times agree with lengths: between 1 and 140 km/h on every arc longer than 5 m.
        for a in 0..g.arc_count() as u32 {
            let (s, _) = g.arc_segment(a);
            let len = f64::from(g.seg_length_m[s as usize]);
            if len > 5.0 {
                let kmh = len / (f64::from(g.arc_time_ms[a as usize]) / 1000.0) * 3.6;
                assert!(
                    (1.0..=140.0).contains(&kmh),
                    "{name}: arc {a} at {kmh} km/h"
                );
            }
        }
        let bb = g.bounding_box().unwrap();
        assert!(bb.min_lat < bb.max_lat && bb.min_lon < bb.max_lon);
        assert_eq!(g.meta.source_name, format!("{name}.osm.pbf"));
        assert_eq!(g.meta.profile_hash, Profile::default().content_hash());
    }
}

#[test]
fn import_is_deterministic_and_round_trips_exactly() {
    for name in MAPS {
        let a = import(name).graph;
        let b = import(name).graph;
        assert_eq!(a, b, "{name}: two imports differ");
        let bytes = graph_file::encode(&a);
        assert_eq!(bytes, graph_file::encode(&b), "{name}: encodings differ");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{name}.graph"));
        graph_file::save(&a, &path).unwrap();
        let loaded = graph_file::load(&path).unwrap();
        assert_eq!(loaded, a, "{name}: save/load changed the graph");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

/// All arcs of OSM way `way` and whether they run along its geometry.
fn way_arcs(g: &RoadGraph, way: i64) -> Vec<(u32, bool)> {
    g.arcs_of_way(way)
        .into_iter()
        .map(|a| (a, g.arc_segment(a).1))
        .collect()
}

#[test]
fn oneway_fonvizina_street_is_one_way() {
    // Moscow: улица Фонвизина (way 23053817), tertiary, oneway=yes.
    let g = import("moscow-fragment").graph;
    let arcs = way_arcs(&g, 23_053_817);
    assert!(!arcs.is_empty(), "the way is in the graph");
    assert!(
        arcs.iter().all(|&(_, reversed)| !reversed),
        "a reverse arc exists: {arcs:?}"
    );
    assert_eq!(
        g.segment_name(g.arc_segment(arcs[0].0).0),
        "улица Фонвизина"
    );
    // The same street with contraflow allowed gets penalised reverse arcs: the check can fail.
    let contraflow =
        Profile::from_toml("[oneway]\ncontraflow = true\ncontraflow_classes = [\"tertiary\"]\n")
            .unwrap();
    let g2 = import_with("moscow-fragment", &contraflow).graph;
    assert!(way_arcs(&g2, 23_053_817).iter().any(|&(_, r)| r));
}

#[test]
fn two_way_street_has_both_directions() {
    let g = import("moscow-fragment").graph;
    // Every segment of a way without oneway tags has arcs both ways, unless cut off.
    let both = (0..g.segment_count() as u32)
        .filter(|&s| {
            let dirs: HashSet<bool> = (0..g.arc_count() as u32)
                .filter(|&a| g.arc_segment(a).0 == s)
                .map(|a| g.arc_segment(a).1)
                .collect();
            dirs.len() == 2
        })
        .count();
    assert!(
        both > g.segment_count() / 2,
        "{both} of {} segments are two-way",
        g.segment_count()
    );
}

/// The (in-arc, out-arc) pairs that form a turn at a node with OSM id `via`.
fn turns_at(g: &RoadGraph, via: i64) -> Vec<(u32, u32)> {
    let mut turns = Vec::new();
    for a in 0..g.arc_count() as u32 {
        let head = g.arc_head[a as usize];
        if g.node_osm_id[head as usize] == via {
            for b in g.out_arcs(head) {
                turns.push((a, b));
            }
        }
    }
    turns
}

fn way_of(g: &RoadGraph, arc: u32) -> i64 {
    g.seg_way_id[g.arc_segment(arc).0 as usize]
}

#[test]
fn no_left_turn_from_56152867_to_56155648_is_honoured() {
    // Moscow relation 572710: no_left_turn from way 56152867 via node 704744111 to way 56155648.
    let forbidden = |g: &RoadGraph| {
        turns_at(g, 704_744_111)
            .into_iter()
            .filter(|&(a, b)| way_of(g, a) == 56_152_867 && way_of(g, b) == 56_155_648)
            .count()
    };
    let g = import("moscow-fragment").graph;
    assert_eq!(forbidden(&g), 0);
    let plain = Profile::from_toml("[turns]\nrestrictions = false\n").unwrap();
    let g = import_with("moscow-fragment", &plain).graph;
    assert!(forbidden(&g) > 0, "without restrictions the turn exists");
}

#[test]
fn every_applied_restriction_is_honoured_on_every_map() {
    let profile = Profile::default();
    for name in MAPS {
        let path = map_path(name);
        let bytes = std::fs::read(&path).unwrap();
        let ex = read_pbf(&path, &bytes, &profile, &mut |_| {}).unwrap();
        let g = import(name).graph;
        let tails = g.arc_tails();
        let mut checked = 0;
        for r in &ex.restrictions {
            let turns = turns_at(&g, r.via_node);
            let from: Vec<_> = turns
                .iter()
                .filter(|(a, _)| way_of(&g, *a) == r.from_way)
                .collect();
            // A restriction applies when the graph can enter the via node from the `from` way
            // and leave it onto the `to` way; otherwise it contradicts the data and is ignored.
            let to_exists = (0..g.arc_count()).any(|b| {
                g.node_osm_id[tails[b] as usize] == r.via_node && way_of(&g, b as u32) == r.to_way
            });
            if from.is_empty() || !to_exists {
                continue;
            }
            checked += 1;
            for &&(a, b) in &from {
                let to_way = way_of(&g, b) == r.to_way;
                let u_turn = g.arc_segment(a).0 == g.arc_segment(b).0;
                match r.kind {
                    RestrictionKind::No => {
                        assert!(!to_way, "{name}: relation {} turn {a}->{b}", r.id)
                    }
                    RestrictionKind::NoUTurn => {
                        assert!(
                            !(to_way && (r.from_way != r.to_way || u_turn)),
                            "{name}: relation {}",
                            r.id
                        )
                    }
                    RestrictionKind::Only => {
                        assert!(to_way, "{name}: relation {} turn {a}->{b}", r.id)
                    }
                }
            }
        }
        println!("{name}: {checked} restrictions checked");
        assert!(checked > 0 || ex.restrictions.is_empty(), "{name}");
    }
}

#[test]
fn blocking_barrier_allows_only_turning_back() {
    let g = import("heidelberg").graph;
    let path = map_path("heidelberg");
    let bytes = std::fs::read(&path).unwrap();
    let ex = read_pbf(&path, &bytes, &Profile::default(), &mut |_| {}).unwrap();
    let barriers: HashSet<i64> = ex
        .node_ids
        .iter()
        .zip(&ex.node_blocks)
        .filter(|(_, &b)| b)
        .map(|(&id, _)| id)
        .collect();
    let mut checked = 0;
    for a in 0..g.arc_count() as u32 {
        let head = g.arc_head[a as usize];
        if barriers.contains(&g.node_osm_id[head as usize]) {
            for b in g.out_arcs(head) {
                assert_eq!(
                    g.arc_segment(a).0,
                    g.arc_segment(b).0,
                    "passed through a barrier"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "{checked} barrier turns checked");
}

#[test]
fn hospitals_are_read_from_the_map_as_nodes_and_ways() {
    let places = osm_data::hospitals(&map_path("heidelberg")).unwrap();
    for p in &places {
        eprintln!(
            "{} {:?} {:.5},{:.5} {:?}",
            p.osm_id, p.name, p.lat, p.lon, p.tags
        );
    }
    assert!(!places.is_empty());
    // Every place lies in the map's area and is a hospital.
    for p in &places {
        assert!(
            (49.3..49.5).contains(&p.lat) && (8.5..8.9).contains(&p.lon),
            "{p:?}"
        );
        assert!(
            p.tags.get("amenity").map(String::as_str) == Some("hospital")
                || p.tags.get("healthcare").map(String::as_str) == Some("hospital"),
            "{p:?}"
        );
    }
    // Sorted and unique.
    assert!(places.windows(2).all(|w| w[0].osm_id < w[1].osm_id));
    // A missing file is an error that names it.
    let err = osm_data::hospitals(std::path::Path::new("no-such-map.osm.pbf")).unwrap_err();
    assert!(err.to_string().contains("no-such-map"), "{err}");
}
