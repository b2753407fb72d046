//! A k×k tiling of a real road graph into a larger synthetic one, for scaling benchmarks.
//!
//! [`tile`] copies the graph k² times, shifting each copy by the size of the bounding box
//! (tile `(row, col)` moves `row` boxes north and `col` boxes east, so tile `(0, 0)` is the
//! original), then joins every pair of neighbouring tiles with [`LINKS_PER_BORDER`]
//! synthetic two-way roads across their shared border. Each road is a new two-point
//! segment (class residential, negative way id) driven at [`LINK_SPEED_KMH`].
//!
//! The result is a plausible but *synthetic* network: it has the local structure of the
//! real map and a grid-like structure at large scale, with thin cuts between the tiles.
//! Benchmarks on it measure how the algorithms scale with size, not real-world
//! performance on a map of that size.

use std::collections::HashMap;

use osm_data::graph::ARC_REVERSED;
use osm_data::tags::RoadClass;
use osm_data::{haversine_m, Coord, RoadGraph};

/// Number of roads joining two neighbouring tiles (fewer when the border has few nodes).
pub const LINKS_PER_BORDER: usize = 32;

/// Speed of the synthetic roads between tiles, km/h.
pub const LINK_SPEED_KMH: f64 = 50.0;

/// Added to the OSM way ids and node ids of tile `t` once per tile index (`t × stride`), so
/// that a closure by way id in one tile does not close the same road in every tile.
pub const TILE_ID_STRIDE: i64 = 10_000_000_000;

/// Share of the width (or height) of the node extent that counts as "near the border" when
/// looking for the far end of a link.
const BORDER_STRIP: f64 = 0.05;

/// One link pattern between two neighbouring tiles: `(node in the first tile, node in the
/// second tile)`, both as ids of the input graph.
type Links = Vec<(u32, u32)>;

/// Tiles `graph` k×k times into one graph (see the module docs).
///
/// Node `v` of tile `t = row × k + col` becomes node `t × n + v`, segment `s` becomes
/// `t × s_count + s`; the link segments come after all tiles. The result is strongly
/// connected if `graph` is, and passes [`RoadGraph::validate`] if `graph` does.
///
/// # Panics
/// If `k == 0`, if the result would have more than `u32::MAX` nodes, arcs, segments or shape
/// points, or if the shifted coordinates would leave the valid latitude/longitude range.
pub fn tile(graph: &RoadGraph, k: usize) -> RoadGraph {
    assert!(k > 0, "k must be at least 1");
    if k == 1 || graph.node_count() == 0 || graph.points.is_empty() {
        return graph.clone();
    }
    let tiles = k * k;
    let n = graph.node_count();
    let m = graph.arc_count();
    let s = graph.segment_count();
    let p = graph.points.len();
    for (what, count) in [("nodes", n), ("arcs", m), ("segments", s), ("points", p)] {
        assert!(
            count
                .checked_mul(tiles + 1)
                .is_some_and(|c| c <= u32::MAX as usize),
            "a {k}×{k} tiling has too many {what}"
        );
    }

    // Tile size: the bounding box of the shape points, in 1e-7 degrees.
    let (mut lat_lo, mut lat_hi, mut lon_lo, mut lon_hi) = (i32::MAX, i32::MIN, i32::MAX, i32::MIN);
    for c in &graph.points {
        lat_lo = lat_lo.min(c.lat_e7);
        lat_hi = lat_hi.max(c.lat_e7);
        lon_lo = lon_lo.min(c.lon_e7);
        lon_hi = lon_hi.max(c.lon_e7);
    }
    let dlat = i64::from(lat_hi) - i64::from(lat_lo);
    let dlon = i64::from(lon_hi) - i64::from(lon_lo);
    let far = k as i64 - 1;
    assert!(
        i64::from(lat_hi) + far * dlat <= 900_000_000
            && i64::from(lon_hi) + far * dlon <= 1_800_000_000,
        "a {k}×{k} tiling of this map leaves the valid coordinate range"
    );
    let shift = |t: usize| -> (i32, i32) {
        let (row, col) = ((t / k) as i64, (t % k) as i64);
        ((row * dlat) as i32, (col * dlon) as i32)
    };
    let moved = |c: Coord, (sl, so): (i32, i32)| Coord {
        lat_e7: c.lat_e7 + sl,
        lon_e7: c.lon_e7 + so,
    };

    // Link patterns, computed once on the input and reused for every border.
    let east = links(graph, Side::East, (0, dlon as i32));
    let north = links(graph, Side::North, (dlat as i32, 0));

    // Link arcs: (tail, head, time, segment with direction flag), by global ids.
    let mut link_arcs: Vec<(u32, u32, u32, u32)> = Vec::new();
    let mut link_ends: Vec<(Coord, Coord, f32)> = Vec::new();
    let first_link_seg = (tiles * s) as u32;
    for t in 0..tiles {
        let (row, col) = (t / k, t % k);
        let mut neighbours = Vec::with_capacity(2);
        if col + 1 < k {
            neighbours.push((t + 1, &east));
        }
        if row + 1 < k {
            neighbours.push((t + k, &north));
        }
        for (u_tile, pattern) in neighbours {
            for &(a, b) in pattern {
                let tail = (t * n) as u32 + a;
                let head = (u_tile * n) as u32 + b;
                let from = moved(graph.node_coord[a as usize], shift(t));
                let to = moved(graph.node_coord[b as usize], shift(u_tile));
                let length_m = haversine_m(from, to);
                let time_ms = ((length_m * 3.6 / LINK_SPEED_KMH * 1000.0).round() as u32).max(1);
                let seg = first_link_seg + link_ends.len() as u32;
                link_ends.push((from, to, length_m as f32));
                link_arcs.push((tail, head, time_ms, seg));
                link_arcs.push((head, tail, time_ms, seg | ARC_REVERSED));
            }
        }
    }
    link_arcs.sort_by_key(|&(tail, ..)| tail);

    let total_n = tiles * n;
    let total_m = tiles * m + link_arcs.len();
    let total_s = tiles * s + link_ends.len();
    let total_p = tiles * p + 2 * link_ends.len();
    let mut out = RoadGraph {
        meta: graph.meta.clone(),
        node_coord: Vec::with_capacity(total_n),
        node_osm_id: Vec::with_capacity(total_n),
        first_out: Vec::with_capacity(total_n + 1),
        arc_head: Vec::with_capacity(total_m),
        arc_time_ms: Vec::with_capacity(total_m),
        arc_segment: Vec::with_capacity(total_m),
        seg_first_point: Vec::with_capacity(total_s + 1),
        points: Vec::with_capacity(total_p),
        seg_length_m: Vec::with_capacity(total_s),
        seg_way_id: Vec::with_capacity(total_s),
        seg_name: Vec::with_capacity(total_s),
        seg_class: Vec::with_capacity(total_s),
        names: graph.names.clone(),
    };
    out.meta.source_name = format!("{} (tiled {k}x{k}, synthetic)", graph.meta.source_name);

    // Nodes and arcs, in node order so that the CSR stays sorted.
    let mut next_link = 0usize;
    out.first_out.push(0);
    for t in 0..tiles {
        let (node_base, seg_base, id_base) =
            ((t * n) as u32, (t * s) as u32, t as i64 * TILE_ID_STRIDE);
        let sh = shift(t);
        out.node_coord
            .extend(graph.node_coord.iter().map(|&c| moved(c, sh)));
        out.node_osm_id
            .extend(graph.node_osm_id.iter().map(|&id| id + id_base));
        for v in 0..n as u32 {
            for a in graph.out_arcs(v) {
                let a = a as usize;
                out.arc_head.push(graph.arc_head[a] + node_base);
                out.arc_time_ms.push(graph.arc_time_ms[a]);
                let seg = graph.arc_segment[a];
                out.arc_segment
                    .push(((seg & !ARC_REVERSED) + seg_base) | (seg & ARC_REVERSED));
            }
            let global = node_base + v;
            while let Some(&(tail, head, time, seg)) = link_arcs.get(next_link) {
                if tail != global {
                    break;
                }
                out.arc_head.push(head);
                out.arc_time_ms.push(time);
                out.arc_segment.push(seg);
                next_link += 1;
            }
            out.first_out.push(out.arc_head.len() as u32);
        }
    }
    debug_assert_eq!(next_link, link_arcs.len());

    // Segments and their shapes.
    for t in 0..tiles {
        let (point_base, id_base) = ((t * p) as u32, t as i64 * TILE_ID_STRIDE);
        let sh = shift(t);
        out.points
            .extend(graph.points.iter().map(|&c| moved(c, sh)));
        out.seg_first_point
            .extend(graph.seg_first_point[..s].iter().map(|&i| i + point_base));
        out.seg_length_m.extend_from_slice(&graph.seg_length_m);
        out.seg_way_id
            .extend(graph.seg_way_id.iter().map(|&id| id + id_base));
        out.seg_name.extend_from_slice(&graph.seg_name);
        out.seg_class.extend_from_slice(&graph.seg_class);
    }
    for (i, &(from, to, length_m)) in link_ends.iter().enumerate() {
        out.seg_first_point.push(out.points.len() as u32);
        out.points.push(from);
        out.points.push(to);
        out.seg_length_m.push(length_m);
        out.seg_way_id.push(-(i as i64) - 1);
        out.seg_name.push(0);
        out.seg_class.push(RoadClass::Residential as u8);
    }
    out.seg_first_point.push(out.points.len() as u32);
    out
}

/// The border of a tile that links leave from (they arrive at the opposite border of the
/// neighbour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Links go east, to the tile one column further.
    East,
    /// Links go north, to the tile one row further.
    North,
}

/// The link pattern across one border: up to [`LINKS_PER_BORDER`] nodes near the `side`
/// border (the outermost node in each of as many equal bands along the border), each paired
/// with the nearest node near the opposite border of the neighbouring copy, which is shifted
/// by `offset` (1e-7 degrees, `(lat, lon)`).
fn links(graph: &RoadGraph, side: Side, offset: (i32, i32)) -> Links {
    // Prefer junctions that are not turn-expansion copies (a copy has only the turns allowed
    // after one particular incoming arc); fall back to every node on a graph of copies only.
    let mut copies: HashMap<i64, u32> = HashMap::with_capacity(graph.node_count());
    for &id in &graph.node_osm_id {
        *copies.entry(id).or_insert(0) += 1;
    }
    let mut candidates: Vec<u32> = (0..graph.node_count() as u32)
        .filter(|&v| copies[&graph.node_osm_id[v as usize]] == 1)
        .collect();
    if candidates.is_empty() {
        candidates = (0..graph.node_count() as u32).collect();
    }
    // `across` runs towards the border, `along` runs along it.
    let across = |v: u32| {
        let c = graph.node_coord[v as usize];
        match side {
            Side::East => c.lon_e7,
            Side::North => c.lat_e7,
        }
    };
    let along = |v: u32| {
        let c = graph.node_coord[v as usize];
        match side {
            Side::East => c.lat_e7,
            Side::North => c.lon_e7,
        }
    };
    let (along_lo, along_hi) = candidates
        .iter()
        .fold((i32::MAX, i32::MIN), |(lo, hi), &v| {
            (lo.min(along(v)), hi.max(along(v)))
        });
    let (across_lo, across_hi) = candidates
        .iter()
        .fold((i32::MAX, i32::MIN), |(lo, hi), &v| {
            (lo.min(across(v)), hi.max(across(v)))
        });

    // Departure nodes: the outermost candidate of each band along the border.
    let span = i64::from(along_hi) - i64::from(along_lo) + 1;
    let mut outermost: Vec<Option<u32>> = vec![None; LINKS_PER_BORDER];
    for &v in &candidates {
        let band =
            ((i64::from(along(v)) - i64::from(along_lo)) * LINKS_PER_BORDER as i64 / span) as usize;
        let slot = &mut outermost[band.min(LINKS_PER_BORDER - 1)];
        // Ties go to the lower node id, so the choice is deterministic.
        if slot.is_none_or(|w| across(v) > across(w)) {
            *slot = Some(v);
        }
    }

    // Arrival nodes: candidates in the strip along the opposite border.
    let strip = (f64::from(across_hi - across_lo) * BORDER_STRIP) as i32;
    let arrivals: Vec<u32> = candidates
        .iter()
        .copied()
        .filter(|&v| across(v) <= across_lo + strip)
        .collect();
    let cos_lat = graph.node_coord[candidates[0] as usize]
        .lat()
        .to_radians()
        .cos();
    let planar = |a: Coord, b: Coord| {
        let dy = f64::from(a.lat_e7 - b.lat_e7);
        let dx = f64::from(a.lon_e7 - b.lon_e7) * cos_lat;
        dx * dx + dy * dy
    };
    outermost
        .into_iter()
        .flatten()
        .map(|a| {
            let from = graph.node_coord[a as usize];
            let b = arrivals
                .iter()
                .copied()
                .min_by(|&x, &y| {
                    let shifted = |v: u32| {
                        let c = graph.node_coord[v as usize];
                        Coord {
                            lat_e7: c.lat_e7 + offset.0,
                            lon_e7: c.lon_e7 + offset.1,
                        }
                    };
                    planar(from, shifted(x)).total_cmp(&planar(from, shifted(y)))
                })
                .unwrap_or(a);
            (a, b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heidelberg() -> RoadGraph {
        osm_data::import(
            &crate::maps::map_path("heidelberg"),
            &osm_data::Profile::default(),
            &mut |_| {},
        )
        .expect("the bundled Heidelberg map imports")
        .graph
    }

    #[test]
    fn two_by_two_tiling_is_valid_and_strongly_connected() {
        let g = heidelberg();
        let t = tile(&g, 2);
        assert_eq!(t.node_count(), 4 * g.node_count());
        assert!(t.arc_count() > 4 * g.arc_count());
        assert!(t.validate().is_ok());
        let forward = router::dijkstra::dijkstra_one_to_all(
            &t.first_out,
            &t.arc_head,
            &t.arc_time_ms,
            &[(0, 0)],
        );
        assert!(
            forward.iter().all(|&d| d != router::dijkstra::INF),
            "every node is reachable from node 0"
        );
        let backward = router::dijkstra::dijkstra_all_to_one(
            &t.first_out,
            &t.arc_head,
            &t.arc_time_ms,
            &[(0, 0)],
        );
        assert!(
            backward.iter().all(|&d| d != router::dijkstra::INF),
            "node 0 is reachable from every node"
        );
        // Tile (1, 1) lies north-east of tile (0, 0), a bounding box further each way.
        let (a, b) = (g.node_coord[0], t.node_coord[3 * g.node_count()]);
        assert!(b.lat_e7 > a.lat_e7 && b.lon_e7 > a.lon_e7);
        // Way ids stay distinct between tiles; link segments have negative ids.
        assert_eq!(
            t.seg_way_id[g.segment_count()],
            g.seg_way_id[0] + TILE_ID_STRIDE
        );
        assert!(t.seg_way_id[4 * g.segment_count()..]
            .iter()
            .all(|&id| id < 0));
    }

    #[test]
    fn one_tile_is_the_input_and_tiling_is_deterministic() {
        let g = heidelberg();
        assert_eq!(tile(&g, 1), g);
        assert_eq!(tile(&g, 3), tile(&g, 3));
    }
}
