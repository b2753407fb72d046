//! From the ways, nodes and restrictions of a PBF to the [`RoadGraph`]: junction
//! detection, chain collapsing, local turn expansion, largest strongly connected
//! component, and a locality-friendly node numbering.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::graph::{haversine_m, Coord, RoadGraph, ARC_REVERSED};
use crate::reader::OsmExtract;
use crate::tags::RestrictionKind;

/// What the build kept and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BuildStats {
    /// Drivable ways used.
    pub ways: usize,
    /// Junctions (before turn expansion).
    pub junctions: usize,
    /// Segments before keeping the largest strongly connected component.
    pub segments_before: usize,
    /// Routing nodes before keeping the largest strongly connected component.
    pub nodes_before: usize,
    /// Arcs before keeping the largest strongly connected component.
    pub arcs_before: usize,
    /// Routing nodes kept.
    pub nodes: usize,
    /// Arcs kept.
    pub arcs: usize,
    /// Segments kept.
    pub segments: usize,
    /// Share of routing nodes dropped as not strongly connected to the main network (0..1).
    pub dropped_node_share: f64,
    /// Turn restrictions applied.
    pub restrictions_applied: usize,
    /// Turn restrictions whose ways or via node are not in the drivable network.
    pub restrictions_unmatched: usize,
    /// Blocking barriers on drivable ways.
    pub blocking_barriers: usize,
    /// Way nodes missing from the file (ways are cut there).
    pub missing_nodes: usize,
}

struct Segment {
    from: u32,
    to: u32,
    points: Vec<u32>,
    way: usize,
    length_m: f64,
}

#[derive(Clone, Copy)]
struct JArc {
    tail: u32,
    head: u32,
    seg: u32,
    reversed: bool,
    time_ms: u32,
}

/// Builds the routable graph. `None` when nothing drivable remains.
pub fn build_graph(ex: &OsmExtract) -> Option<(RoadGraph, BuildStats)> {
    let mut stats = BuildStats {
        ways: ex.ways.len(),
        ..Default::default()
    };
    let n_raw = ex.node_ids.len();
    let index_of = |id: i64| ex.node_ids.binary_search(&id).ok().map(|i| i as u32);

    // 1. Ways as runs of nodes with known coordinates.
    let mut pieces: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut missing = vec![false; n_raw];
    for (wi, way) in ex.ways.iter().enumerate() {
        let mut run: Vec<u32> = Vec::new();
        for &id in &way.nodes {
            let Some(v) = index_of(id) else { continue };
            if ex.node_coords[v as usize].is_none() {
                missing[v as usize] = true;
                if run.len() >= 2 {
                    pieces.push((wi, std::mem::take(&mut run)));
                }
                run.clear();
                continue;
            }
            if run.last() != Some(&v) {
                run.push(v);
            }
        }
        if run.len() >= 2 {
            pieces.push((wi, run));
        }
    }
    stats.missing_nodes = missing.iter().filter(|&&m| m).count();
    if pieces.is_empty() {
        return None;
    }
    let coord = |v: u32| {
        let (lat, lon) = ex.node_coords[v as usize].unwrap_or_default();
        Coord {
            lat_e7: lat,
            lon_e7: lon,
        }
    };

    // 2. Junctions: shared nodes, way ends, barriers, restriction via nodes.
    let mut uses = vec![0u8; n_raw];
    let mut junction = vec![false; n_raw];
    for (_, run) in &pieces {
        for &v in run {
            uses[v as usize] = uses[v as usize].saturating_add(1);
        }
        junction[run[0] as usize] = true;
        junction[*run.last().unwrap_or(&run[0]) as usize] = true;
    }
    for v in 0..n_raw {
        if uses[v] >= 2 || (uses[v] >= 1 && ex.node_blocks[v]) {
            junction[v] = true;
        }
    }
    for r in &ex.restrictions {
        if let Some(v) = index_of(r.via_node) {
            if uses[v as usize] >= 1 {
                junction[v as usize] = true;
            }
        }
    }

    // 3. Segments between junctions.
    let mut segments: Vec<Segment> = Vec::new();
    for (wi, run) in &pieces {
        let mut start = 0;
        for i in 1..run.len() {
            if junction[run[i] as usize] {
                let points = run[start..=i].to_vec();
                let length_m = points
                    .windows(2)
                    .map(|w| haversine_m(coord(w[0]), coord(w[1])))
                    .sum();
                segments.push(Segment {
                    from: run[start],
                    to: run[i],
                    points,
                    way: *wi,
                    length_m,
                });
                start = i;
            }
        }
    }
    stats.segments_before = segments.len();

    // 4. Junction numbering and junction-level arcs.
    let mut jid = vec![u32::MAX; n_raw];
    let mut junction_raw: Vec<u32> = Vec::new();
    for v in 0..n_raw {
        if junction[v] && uses[v] > 0 {
            jid[v] = junction_raw.len() as u32;
            junction_raw.push(v as u32);
        }
    }
    let nj = junction_raw.len();
    stats.junctions = nj;
    let time_ms =
        |len: f64, kmh: f64| (len * 3600.0 / kmh).round().min(f64::from(u32::MAX - 1)) as u32;
    let mut jarcs: Vec<JArc> = Vec::new();
    for (si, s) in segments.iter().enumerate() {
        let rule = ex.ways[s.way].rule;
        let (a, b) = (jid[s.from as usize], jid[s.to as usize]);
        if let Some(kmh) = rule.forward_kmh {
            jarcs.push(JArc {
                tail: a,
                head: b,
                seg: si as u32,
                reversed: false,
                time_ms: time_ms(s.length_m, kmh),
            });
        }
        if let Some(kmh) = rule.backward_kmh {
            jarcs.push(JArc {
                tail: b,
                head: a,
                seg: si as u32,
                reversed: true,
                time_ms: time_ms(s.length_m, kmh),
            });
        }
    }
    let csr = |key: &dyn Fn(&JArc) -> u32| {
        let mut first = vec![0u32; nj + 1];
        for a in &jarcs {
            first[key(a) as usize + 1] += 1;
        }
        for i in 0..nj {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut list = vec![0u32; jarcs.len()];
        for (i, a) in jarcs.iter().enumerate() {
            let k = key(a) as usize;
            list[fill[k] as usize] = i as u32;
            fill[k] += 1;
        }
        (first, list)
    };
    let (first_in, in_list) = csr(&|a| a.head);
    let (first_out_j, out_list) = csr(&|a| a.tail);
    let ins = |j: u32| &in_list[first_in[j as usize] as usize..first_in[j as usize + 1] as usize];
    let outs =
        |j: u32| &out_list[first_out_j[j as usize] as usize..first_out_j[j as usize + 1] as usize];
    let way_of = |arc: u32| ex.ways[segments[jarcs[arc as usize].seg as usize].way].id;
    let is_u_turn = |a: u32, b: u32| {
        let (a, b) = (&jarcs[a as usize], &jarcs[b as usize]);
        a.seg == b.seg && a.reversed != b.reversed
    };

    // 5. Turn rules: forbidden (in-arc, out-arc) pairs at expanded junctions.
    let mut expanded = vec![false; nj];
    let mut forbidden: HashMap<(u32, u32), ()> = HashMap::new();
    for j in 0..nj as u32 {
        if ex.node_blocks[junction_raw[j as usize] as usize] {
            expanded[j as usize] = true;
            stats.blocking_barriers += 1;
            for &a in ins(j) {
                for &b in outs(j) {
                    if !is_u_turn(a, b) {
                        forbidden.insert((a, b), ());
                    }
                }
            }
        }
    }
    for r in &ex.restrictions {
        let Some(v) = index_of(r.via_node) else {
            stats.restrictions_unmatched += 1;
            continue;
        };
        let j = jid[v as usize];
        if j == u32::MAX {
            stats.restrictions_unmatched += 1;
            continue;
        }
        let from: Vec<u32> = ins(j)
            .iter()
            .copied()
            .filter(|&a| way_of(a) == r.from_way)
            .collect();
        let to: Vec<u32> = outs(j)
            .iter()
            .copied()
            .filter(|&b| way_of(b) == r.to_way)
            .collect();
        if from.is_empty() || to.is_empty() {
            stats.restrictions_unmatched += 1;
            continue;
        }
        stats.restrictions_applied += 1;
        expanded[j as usize] = true;
        for &a in &from {
            for &b in outs(j) {
                let forbid = match r.kind {
                    RestrictionKind::No => to.contains(&b),
                    RestrictionKind::NoUTurn => {
                        to.contains(&b) && (r.from_way != r.to_way || is_u_turn(a, b))
                    }
                    RestrictionKind::Only => !to.contains(&b),
                };
                if forbid {
                    forbidden.insert((a, b), ());
                }
            }
        }
    }

    // 6. Routing nodes: one per plain junction, one per incoming arc at expanded junctions.
    let mut node_of_junction = vec![u32::MAX; nj];
    let mut copy_node = vec![u32::MAX; jarcs.len()];
    let mut node_junction: Vec<u32> = Vec::new();
    for j in 0..nj as u32 {
        if expanded[j as usize] {
            for &a in ins(j) {
                copy_node[a as usize] = node_junction.len() as u32;
                node_junction.push(j);
            }
        } else {
            node_of_junction[j as usize] = node_junction.len() as u32;
            node_junction.push(j);
        }
    }
    let head_node = |a: u32| {
        let h = jarcs[a as usize].head as usize;
        if expanded[h] {
            copy_node[a as usize]
        } else {
            node_of_junction[h]
        }
    };
    let mut rarcs: Vec<(u32, u32, u32, u32)> = Vec::new(); // tail, head, time, seg|flag
    for (b, arc) in jarcs.iter().enumerate() {
        let b = b as u32;
        let seg = arc.seg | if arc.reversed { ARC_REVERSED } else { 0 };
        let head = head_node(b);
        if expanded[arc.tail as usize] {
            for &a in ins(arc.tail) {
                if !forbidden.contains_key(&(a, b)) {
                    rarcs.push((copy_node[a as usize], head, arc.time_ms, seg));
                }
            }
        } else {
            rarcs.push((node_of_junction[arc.tail as usize], head, arc.time_ms, seg));
        }
    }
    rarcs.retain(|&(t, h, _, _)| t != h);
    let n_nodes = node_junction.len();
    stats.nodes_before = n_nodes;
    stats.arcs_before = rarcs.len();

    // 7. Keep the largest strongly connected component.
    let mut g: DiGraph<(), (), u32> = DiGraph::with_capacity(n_nodes, rarcs.len());
    for _ in 0..n_nodes {
        g.add_node(());
    }
    g.extend_with_edges(rarcs.iter().map(|&(t, h, _, _)| (t, h)));
    let sccs = petgraph::algo::tarjan_scc(&g);
    let largest = sccs.iter().max_by_key(|c| {
        (
            c.len(),
            std::cmp::Reverse(c.iter().map(|n| n.index()).min()),
        )
    })?;
    let mut keep = vec![false; n_nodes];
    for n in largest {
        keep[NodeIndex::index(*n)] = true;
    }
    drop(g);

    // 8. Number kept nodes along a Hilbert curve so that nearby nodes have nearby ids.
    let node_coord_of = |v: usize| coord(junction_raw[node_junction[v] as usize]);
    let mut kept: Vec<u32> = (0..n_nodes as u32).filter(|&v| keep[v as usize]).collect();
    let bbox = kept
        .iter()
        .fold((i32::MAX, i32::MAX, i32::MIN, i32::MIN), |b, &v| {
            let c = node_coord_of(v as usize);
            (
                b.0.min(c.lat_e7),
                b.1.min(c.lon_e7),
                b.2.max(c.lat_e7),
                b.3.max(c.lon_e7),
            )
        });
    kept.sort_by_cached_key(|&v| (hilbert_key(node_coord_of(v as usize), bbox), v));
    let mut new_id = vec![u32::MAX; n_nodes];
    for (i, &v) in kept.iter().enumerate() {
        new_id[v as usize] = i as u32;
    }
    rarcs.retain(|&(t, h, _, _)| keep[t as usize] && keep[h as usize]);
    for a in &mut rarcs {
        a.0 = new_id[a.0 as usize];
        a.1 = new_id[a.1 as usize];
    }
    rarcs.sort_unstable();

    // 9. Segments still used, names, shapes.
    let mut seg_new = vec![u32::MAX; segments.len()];
    let mut graph = RoadGraph::default();
    let mut name_index: HashMap<&str, u32> = HashMap::new();
    graph.names.push(String::new());
    name_index.insert("", 0);
    graph.seg_first_point.push(0);
    for a in &mut rarcs {
        let old = (a.3 & !ARC_REVERSED) as usize;
        if seg_new[old] == u32::MAX {
            seg_new[old] = graph.seg_length_m.len() as u32;
            let s = &segments[old];
            let way = &ex.ways[s.way];
            graph.points.extend(s.points.iter().map(|&p| coord(p)));
            graph.seg_first_point.push(graph.points.len() as u32);
            graph.seg_length_m.push(s.length_m as f32);
            graph.seg_way_id.push(way.id);
            graph.seg_class.push(way.rule.class as u8);
            let next = graph.names.len() as u32;
            let name = *name_index.entry(way.name.as_str()).or_insert(next);
            if name == next {
                graph.names.push(way.name.clone());
            }
            graph.seg_name.push(name);
        }
        a.3 = seg_new[old] | (a.3 & ARC_REVERSED);
    }
    graph.node_coord = kept.iter().map(|&v| node_coord_of(v as usize)).collect();
    graph.node_osm_id = kept
        .iter()
        .map(|&v| ex.node_ids[junction_raw[node_junction[v as usize] as usize] as usize])
        .collect();
    graph.first_out = vec![0; kept.len() + 1];
    for a in &rarcs {
        graph.first_out[a.0 as usize + 1] += 1;
    }
    for i in 0..kept.len() {
        graph.first_out[i + 1] += graph.first_out[i];
    }
    graph.arc_head = rarcs.iter().map(|a| a.1).collect();
    graph.arc_time_ms = rarcs.iter().map(|a| a.2).collect();
    graph.arc_segment = rarcs.iter().map(|a| a.3).collect();

    stats.nodes = graph.node_count();
    stats.arcs = graph.arc_count();
    stats.segments = graph.segment_count();
    stats.dropped_node_share = 1.0 - stats.nodes as f64 / stats.nodes_before.max(1) as f64;
    Some((graph, stats))
}

/// Position of a coordinate on a 2^16 × 2^16 Hilbert curve over the bounding box.
fn hilbert_key(c: Coord, (min_lat, min_lon, max_lat, max_lon): (i32, i32, i32, i32)) -> u64 {
    const N: u64 = 1 << 16;
    let scale = |v: i32, lo: i32, hi: i32| {
        let span = (i64::from(hi) - i64::from(lo)).max(1);
        ((i64::from(v) - i64::from(lo)) * (N as i64 - 1) / span) as u64
    };
    let (mut x, mut y) = (
        scale(c.lon_e7, min_lon, max_lon),
        scale(c.lat_e7, min_lat, max_lat),
    );
    let mut d = 0u64;
    let mut s = N / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}
