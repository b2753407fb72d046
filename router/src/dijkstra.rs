//! Plain Dijkstra on the CSR input graph: the reference the CCH is tested
//! against, and a fallback for one-off searches.
//!
//! Graphs are given as `first_out` (len `n + 1`), `head` and `weight` (len
//! `m`, travel time in ms, [`INF`] = closed arc). Searches start from several
//! points `(node, offset)` at once; distances saturate, closed arcs and
//! out-of-range points are skipped. Dijkstra uses a binary heap with lazy
//! deletion.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Distance of an unreachable node (same value as [`crate::cch::INF`]).
pub const INF: u32 = u32::MAX;

const NONE: u32 = u32::MAX;

/// The reverse of a CSR graph: the incoming arcs of every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseGraph {
    /// CSR offsets over the incoming arcs of every node (len `n + 1`).
    pub first_in: Vec<u32>,
    /// Tail of every incoming arc.
    pub tail: Vec<u32>,
    /// Id of every incoming arc in the forward graph.
    pub arc: Vec<u32>,
}

impl ReverseGraph {
    /// Builds the reverse CSR of `(first_out, head)` (stable: incoming arcs
    /// of a node are sorted by forward arc id).
    pub fn new(first_out: &[u32], head: &[u32]) -> Self {
        let n = first_out.len().saturating_sub(1);
        let mut first_in = vec![0u32; n + 1];
        for &h in head {
            first_in[h as usize + 1] += 1;
        }
        for v in 0..n {
            first_in[v + 1] += first_in[v];
        }
        let mut fill = first_in.clone();
        let mut tail = vec![0u32; head.len()];
        let mut arc = vec![0u32; head.len()];
        for u in 0..n {
            for a in first_out[u]..first_out[u + 1] {
                let h = head[a as usize] as usize;
                let i = fill[h] as usize;
                fill[h] += 1;
                tail[i] = u as u32;
                arc[i] = a;
            }
        }
        ReverseGraph {
            first_in,
            tail,
            arc,
        }
    }
}

/// Shortest distances from the best of `sources` (`(node, offset)`) to every
/// node; [`INF`] where unreachable.
pub fn dijkstra_one_to_all(
    first_out: &[u32],
    head: &[u32],
    weight: &[u32],
    sources: &[(u32, u32)],
) -> Vec<u32> {
    search(
        first_out.len().saturating_sub(1),
        sources,
        out_arcs(first_out, head, weight),
        |_, _| true,
    )
    .0
}

/// Shortest distances from every node to the best of `targets`
/// (`(node, offset)`: offset added after reaching the node); [`INF`] where
/// the targets are unreachable. Builds the reverse graph internally.
pub fn dijkstra_all_to_one(
    first_out: &[u32],
    head: &[u32],
    weight: &[u32],
    targets: &[(u32, u32)],
) -> Vec<u32> {
    dijkstra_all_to_one_with(&ReverseGraph::new(first_out, head), weight, targets)
}

/// [`dijkstra_all_to_one`] on a prebuilt reverse graph.
pub fn dijkstra_all_to_one_with(
    reverse: &ReverseGraph,
    weight: &[u32],
    targets: &[(u32, u32)],
) -> Vec<u32> {
    let r = reverse;
    search(
        r.first_in.len().saturating_sub(1),
        targets,
        |v, relax| {
            for i in r.first_in[v as usize]..r.first_in[v as usize + 1] {
                let a = r.arc[i as usize];
                relax(r.tail[i as usize], weight[a as usize], a);
            }
        },
        |_, _| true,
    )
    .0
}

/// Shortest path from the best of `sources` to the best of `targets`:
/// `(distance including offsets, input arcs in driving order)`, or `None`
/// if no target is reachable. Stops as soon as the answer is settled.
pub fn one_to_one(
    first_out: &[u32],
    head: &[u32],
    weight: &[u32],
    sources: &[(u32, u32)],
    targets: &[(u32, u32)],
) -> Option<(u32, Vec<u32>)> {
    let n = first_out.len().saturating_sub(1);
    // Best target offset per node (a node may appear more than once).
    let mut target_offset: Vec<(u32, u32)> = targets
        .iter()
        .copied()
        .filter(|&(v, o)| (v as usize) < n && o != INF)
        .collect();
    target_offset.sort_unstable();
    let offset_of = |v: u32| {
        let i = target_offset.partition_point(|&(t, _)| t < v);
        target_offset
            .get(i)
            .filter(|&&(t, _)| t == v)
            .map(|&(_, o)| o)
    };
    // Best known total (distance + target offset) and its target node.
    let mut best = (INF, NONE);
    let (_, pred) = search(n, sources, out_arcs(first_out, head, weight), |v, d| {
        if d >= best.0 {
            return false;
        }
        if let Some(o) = offset_of(v) {
            let total = d.saturating_add(o);
            if total < best.0 {
                best = (total, v);
            }
        }
        true
    });
    if best.0 == INF {
        return None;
    }
    let mut arcs = Vec::new();
    let mut v = best.1;
    while pred[v as usize] != NONE {
        let a = pred[v as usize];
        arcs.push(a);
        v = tail_of(first_out, a);
    }
    arcs.reverse();
    Some((best.0, arcs))
}

/// Tail of arc `a` (binary search in `first_out`).
pub fn tail_of(first_out: &[u32], a: u32) -> u32 {
    (first_out.partition_point(|&f| f <= a) - 1) as u32
}

/// The arcs out of each node of a CSR graph, as [`search`] expands them.
fn out_arcs<'a>(
    first_out: &'a [u32],
    head: &'a [u32],
    weight: &'a [u32],
) -> impl Fn(u32, &mut dyn FnMut(u32, u32, u32)) + 'a {
    move |v, relax| {
        for a in first_out[v as usize]..first_out[v as usize + 1] {
            relax(head[a as usize], weight[a as usize], a);
        }
    }
}

/// Generic multi-source Dijkstra; `expand(v, relax)` calls
/// `relax(neighbour, weight, arc)` for every arc out of `v`, and `settle(v, distance)` is
/// called as each node is settled, before its arcs: `false` ends the search.
fn search(
    n: usize,
    starts: &[(u32, u32)],
    expand: impl Fn(u32, &mut dyn FnMut(u32, u32, u32)),
    mut settle: impl FnMut(u32, u32) -> bool,
) -> (Vec<u32>, Vec<u32>) {
    let mut dist = vec![INF; n];
    let mut pred = vec![NONE; n];
    let mut heap = BinaryHeap::new();
    for &(v, o) in starts {
        if (v as usize) < n && o < dist[v as usize] {
            dist[v as usize] = o;
            heap.push(Reverse((o, v)));
        }
    }
    while let Some(Reverse((d, v))) = heap.pop() {
        if d > dist[v as usize] {
            continue;
        }
        if !settle(v, d) {
            break;
        }
        expand(v, &mut |h, w, a| {
            if w == INF || h == v {
                return;
            }
            let c = d.saturating_add(w);
            if c < dist[h as usize] {
                dist[h as usize] = c;
                pred[h as usize] = a;
                heap.push(Reverse((c, h)));
            }
        });
    }
    (dist, pred)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0 -> 1 (5), 1 -> 2 (5), 0 -> 2 (20), 2 -> 0 (1), 1 -> 1 (0), 2 -> 3 (INF)
    fn graph() -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        (
            vec![0, 2, 4, 6, 6],
            vec![1, 2, 2, 1, 0, 3],
            vec![5, 20, 5, 0, 1, INF],
        )
    }

    #[test]
    fn one_to_all_and_reverse() {
        let (f, h, w) = graph();
        assert_eq!(
            dijkstra_one_to_all(&f, &h, &w, &[(0, 0)]),
            vec![0, 5, 10, INF]
        );
        assert_eq!(
            dijkstra_one_to_all(&f, &h, &w, &[(0, 100), (2, 3)]),
            vec![4, 9, 3, INF]
        );
        assert_eq!(
            dijkstra_all_to_one(&f, &h, &w, &[(0, 0)]),
            vec![0, 6, 1, INF]
        );
        assert_eq!(
            dijkstra_all_to_one(&f, &h, &w, &[(3, 0)]),
            vec![INF, INF, INF, 0]
        );
    }

    #[test]
    fn one_to_one_path() {
        let (f, h, w) = graph();
        assert_eq!(
            one_to_one(&f, &h, &w, &[(0, 0)], &[(2, 0)]),
            Some((10, vec![0, 2]))
        );
        assert_eq!(
            one_to_one(&f, &h, &w, &[(0, 0)], &[(0, 7)]),
            Some((7, vec![]))
        );
        assert_eq!(one_to_one(&f, &h, &w, &[(0, 0)], &[(3, 0)]), None);
        assert_eq!(
            one_to_one(&f, &h, &w, &[(2, 0), (0, 0)], &[(1, 1)]),
            Some((6, vec![0]))
        );
        assert_eq!(tail_of(&f, 5), 2);
    }

    #[test]
    fn reverse_graph() {
        let (f, h, _) = graph();
        let r = ReverseGraph::new(&f, &h);
        assert_eq!(r.first_in, vec![0, 1, 3, 5, 6]);
        assert_eq!(r.tail, vec![2, 0, 1, 0, 1, 2]);
        assert_eq!(r.arc, vec![4, 0, 3, 1, 2, 5]);
    }
}
