//! Adapters to the peer libraries the benchmarks compare against, built from the same arcs
//! and the same millisecond weights as the router: `fast_paths` (a classic contraction
//! hierarchy with bidirectional Dijkstra queries) and `petgraph` (plain Dijkstra).
//!
//! **fast_paths and weight 0.** fast_paths skips arcs of weight 0 and self-loops (with a log
//! warning) and keeps only the lightest of parallel arcs. Road graphs have a few arcs of
//! 0 ms (very short segments, turn-expansion copies of one junction), so feeding the weights
//! unchanged would make some of its routes slower than the truth, and `max(1, w)` would make
//! some paths a few ms longer. Instead every weight is scaled: an arc of `w` ms weighs
//! `w × FAST_PATHS_SCALE`, or 1 if `w` is 0. A path of `d` ms over `z` zero arcs then
//! weighs `d × FAST_PATHS_SCALE + z`; as long as `z < FAST_PATHS_SCALE` the lightest path
//! under the scaled weights is a fastest path, and `weight / FAST_PATHS_SCALE` is its exact
//! travel time ([`fast_paths_ms`]). Self-loops never lie on a fastest path, and both
//! libraries use the lightest of parallel arcs, so the distances agree exactly. The scaling
//! costs fast_paths nothing (its weights are `usize` either way).

use fast_paths::{FastGraph, InputGraph};
use petgraph::graph::{DiGraph, NodeIndex};

/// Factor applied to every millisecond weight given to fast_paths (see the module docs).
pub const FAST_PATHS_SCALE: usize = 1 << 16;

/// Weight of a closed arc (skipped by both adapters).
const CLOSED: u32 = u32::MAX;

/// The fast_paths weight of an arc of `ms` milliseconds.
pub fn fast_paths_weight(ms: u32) -> usize {
    if ms == 0 {
        1
    } else {
        ms as usize * FAST_PATHS_SCALE
    }
}

/// The travel time (ms) of a fast_paths path weight (exact, see the module docs).
pub fn fast_paths_ms(weight: usize) -> u32 {
    u32::try_from(weight / FAST_PATHS_SCALE).unwrap_or(u32::MAX)
}

/// Start or end points `(node, offset ms)` as fast_paths takes them (offsets scaled, so that
/// [`fast_paths_ms`] of the result includes them exactly).
pub fn fast_paths_points(points: &[(u32, u32)]) -> Vec<(usize, usize)> {
    points
        .iter()
        .map(|&(v, ms)| (v as usize, ms as usize * FAST_PATHS_SCALE))
        .collect()
}

/// Arcs fast_paths would not take as they are: `(weight 0, self-loops)`.
pub fn arc_quirks(first_out: &[u32], head: &[u32], weight: &[u32]) -> (usize, usize) {
    let (mut zero, mut loops) = (0, 0);
    for v in 0..first_out.len().saturating_sub(1) {
        for a in first_out[v] as usize..first_out[v + 1] as usize {
            zero += usize::from(weight[a] == 0);
            loops += usize::from(head[a] as usize == v);
        }
    }
    (zero, loops)
}

/// A fast_paths input graph (frozen) with the arcs of a CSR graph; closed arcs and
/// self-loops are left out, weights are scaled with [`fast_paths_weight`].
pub fn fast_paths_input(first_out: &[u32], head: &[u32], weight: &[u32]) -> InputGraph {
    let mut input = InputGraph::new();
    for v in 0..first_out.len().saturating_sub(1) {
        for a in first_out[v] as usize..first_out[v + 1] as usize {
            let h = head[a] as usize;
            if h != v && weight[a] != CLOSED {
                input.add_edge(v, h, fast_paths_weight(weight[a]));
            }
        }
    }
    input.freeze();
    input
}

/// Prepares a fast_paths contraction hierarchy of a CSR graph.
pub fn fast_paths_prepare(first_out: &[u32], head: &[u32], weight: &[u32]) -> FastGraph {
    fast_paths::prepare(&fast_paths_input(first_out, head, weight))
}

/// A petgraph `DiGraph` with the arcs of a CSR graph (node `i` is `NodeIndex::new(i)`, edge
/// weights in ms); closed arcs are left out.
pub fn petgraph_graph(first_out: &[u32], head: &[u32], weight: &[u32]) -> DiGraph<(), u32> {
    let n = first_out.len().saturating_sub(1);
    let mut g = DiGraph::with_capacity(n, head.len());
    for _ in 0..n {
        g.add_node(());
    }
    for v in 0..n {
        for a in first_out[v] as usize..first_out[v + 1] as usize {
            if weight[a] != CLOSED {
                g.add_edge(
                    NodeIndex::new(v),
                    NodeIndex::new(head[a] as usize),
                    weight[a],
                );
            }
        }
    }
    g
}

/// Travel time (ms) from `s` to `t` by petgraph's Dijkstra, stopping at `t`.
pub fn petgraph_distance(g: &DiGraph<(), u32>, s: u32, t: u32) -> Option<u32> {
    let (s, t) = (NodeIndex::new(s as usize), NodeIndex::new(t as usize));
    petgraph::algo::dijkstra(g, s, Some(t), |e| *e.weight())
        .get(&t)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_weight_arcs_keep_distances_exact() {
        // 0 -(0)-> 1 -(5)-> 2 and a direct 0 -(5)-> 2; 2 -(0)-> 0 closes the cycle.
        let (first_out, head, weight) = (vec![0, 2, 3, 4], vec![1, 2, 2, 0], vec![0, 5, 5, 0]);
        let fg = fast_paths_prepare(&first_out, &head, &weight);
        let mut calc = fast_paths::create_calculator(&fg);
        let d = |calc: &mut fast_paths::PathCalculator, s, t| {
            calc.calc_path(&fg, s, t)
                .map(|p| fast_paths_ms(p.get_weight()))
        };
        assert_eq!(d(&mut calc, 0, 2), Some(5));
        assert_eq!(d(&mut calc, 2, 1), Some(0));
        assert_eq!(d(&mut calc, 1, 0), Some(5));
        let pg = petgraph_graph(&first_out, &head, &weight);
        assert_eq!(petgraph_distance(&pg, 0, 2), Some(5));
        assert_eq!(petgraph_distance(&pg, 2, 1), Some(0));
        assert_eq!(arc_quirks(&first_out, &head, &weight), (2, 0));
    }
}
