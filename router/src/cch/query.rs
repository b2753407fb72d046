//! Exact point-to-point queries by elimination tree walk, with path unpacking.
//!
//! In a customized CCH every shortest path is an *up-down* path: it climbs
//! along upward edges to its highest node, then descends. All upper
//! neighbours of a node are its ancestors in the elimination tree, so the
//! upward search space of a node is exactly its ancestor path. The query
//! (Bauer, Columbus, Rutter, Wagner; Buchhold, Sanders, Wagner) therefore
//! needs no priority queue: it walks the ancestors of the sources (forward,
//! upward weights) and of the targets (backward, downward weights) in
//! ascending rank, relaxing every upward edge of each node it settles, and the
//! answer is the minimum of `forward + backward` over the visited nodes. Both
//! walks are interleaved so a node whose distance already exceeds the best
//! answer does not relax its edges (pruning). The ancestors of several starts
//! are their parent chains merged, listed once before the walk
//! (`CchTopology::ancestors_into`). A query for the distance alone
//! ([`CchQuery::run`]) relaxes only the arcs no upward path through a middle
//! node beats (the metric's walk arcs, which give the same distances); a path
//! query relaxes all of them, so that its ties are broken as before.
//!
//! Multiple sources and targets with initial offsets are supported: a snapped
//! position on a road segment can start from either end of the segment.
//!
//! Paths are unpacked recursively (with an explicit stack): a shortcut
//! `x → y` with middle node `z` is replaced by `x → z` (down along edge
//! `(z, x)`) and `z → y` (up along `(z, y)`), until input arcs remain. The
//! metric stores both edge ids, so unpacking needs no search.
//!
//! A [`CchQuery`] holds per-thread scratch arrays of size `n`; only the
//! entries touched by a query are reset, so queries allocate nothing.

use super::metric::CchMetric;
use super::topology::{CchTopology, DOWN, UP};
use super::{add, INF, INVALID};

/// A shortest path found by [`CchQuery::path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CchPath {
    /// Travel time including the source and target offsets.
    pub distance: u32,
    /// Index into the `sources` slice of the source the path starts at.
    pub source: usize,
    /// Index into the `targets` slice of the target the path ends at.
    pub target: usize,
    /// The input arcs of the path, in driving order (empty if the chosen
    /// source and target are the same node).
    pub arcs: Vec<u32>,
}

/// Reusable scratch space for point-to-point queries (one per thread).
#[derive(Debug, Clone)]
pub struct CchQuery {
    fwd: Vec<u32>,
    bwd: Vec<u32>,
    fwd_pred: Vec<u32>,
    bwd_pred: Vec<u32>,
    fwd_starts: Vec<u32>,
    bwd_starts: Vec<u32>,
    fwd_seen: Vec<u32>,
    bwd_seen: Vec<u32>,
    edges: Vec<(u32, u32)>,
    stack: Vec<(u32, u32)>,
}

impl CchQuery {
    /// Allocates scratch space for queries on `topology`.
    pub fn new(topology: &CchTopology) -> Self {
        let n = topology.node_count();
        CchQuery {
            fwd: vec![INF; n],
            bwd: vec![INF; n],
            fwd_pred: vec![INVALID; n],
            bwd_pred: vec![INVALID; n],
            fwd_starts: Vec::new(),
            bwd_starts: Vec::new(),
            fwd_seen: Vec::new(),
            bwd_seen: Vec::new(),
            edges: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Shortest travel time from any of `sources` to any of `targets`.
    ///
    /// Points are `(input node, offset ms)`: a source `(s, a)` and a target
    /// `(t, b)` contribute `a + dist(s, t) + b`. Points with an out-of-range
    /// node or an [`INF`] offset are ignored. Returns `None` if no target is
    /// reachable.
    ///
    /// # Panics
    /// If the scratch space or the metric belong to a topology of another size.
    pub fn run(
        &mut self,
        topology: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
    ) -> Option<u32> {
        // Only the distance is wanted: the walks relax the arcs no upward path through a
        // middle node beats (the same distances; see `walk_arcs`).
        let arcs = metric.walk_arcs(topology);
        let (best, _) = self.search_by(
            topology,
            metric,
            sources,
            targets,
            |x, d, dist, _| arcs.up.relax(x, d, dist),
            |x, d, dist, _| arcs.down.relax(x, d, dist),
        );
        self.reset();
        (best != INF).then_some(best)
    }

    /// Shortest path from any of `sources` to any of `targets` (see
    /// [`run`](Self::run)), as input arcs plus the source and target used.
    pub fn path(
        &mut self,
        topology: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
    ) -> Option<CchPath> {
        let mut arcs = Vec::new();
        let (distance, source, target) =
            self.path_into(topology, metric, sources, targets, &mut arcs)?;
        Some(CchPath {
            distance,
            source,
            target,
            arcs,
        })
    }

    /// Like [`path`](Self::path) but writes the arcs into `arcs` (cleared
    /// first) and returns `(distance, source index, target index)`.
    pub fn path_into(
        &mut self,
        topology: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
        arcs: &mut Vec<u32>,
    ) -> Option<(u32, usize, usize)> {
        arcs.clear();
        let (best, meet) = self.search(topology, metric, sources, targets);
        if best == INF {
            self.reset();
            return None;
        }
        let t = topology;
        // Collect the up-down path of CCH edges through the meeting node.
        self.edges.clear();
        let mut x = meet;
        while self.fwd_pred[x as usize] != INVALID {
            let e = self.fwd_pred[x as usize];
            self.edges.push((e, UP));
            x = t.up_tail[e as usize];
        }
        let source = find_point(t, sources, x, self.fwd[x as usize]);
        self.edges.reverse();
        let mut y = meet;
        while self.bwd_pred[y as usize] != INVALID {
            let e = self.bwd_pred[y as usize];
            self.edges.push((e, DOWN));
            y = t.up_tail[e as usize];
        }
        let target = find_point(t, targets, y, self.bwd[y as usize]);
        for i in 0..self.edges.len() {
            let (e, dir) = self.edges[i];
            unpack(t, metric, e, dir, &mut self.stack, arcs);
        }
        self.reset();
        Some((best, source?, target?))
    }

    /// Interleaved elimination tree walks over all arcs, recording predecessors; returns
    /// `(best, meeting rank)`.
    fn search(
        &mut self,
        t: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
    ) -> (u32, u32) {
        self.search_by(
            t,
            metric,
            sources,
            targets,
            relax_all(t, &metric.up_weight),
            relax_all(t, &metric.down_weight),
        )
    }

    /// Interleaved elimination tree walks, `forward(x, d, dist, pred)` and `backward(…)`
    /// relaxing the arcs of a settled node `x` at distance `d` (only while below the best
    /// meeting so far); returns `(best, meeting rank)`.
    fn search_by(
        &mut self,
        t: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        targets: &[(u32, u32)],
        mut forward: impl FnMut(u32, u32, &mut [u32], &mut [u32]),
        mut backward: impl FnMut(u32, u32, &mut [u32], &mut [u32]),
    ) -> (u32, u32) {
        let n = t.node_count();
        assert_eq!(self.fwd.len(), n, "query scratch of another topology");
        assert_eq!(
            metric.up_weight.len(),
            t.edge_count(),
            "metric of another topology"
        );
        init_points(
            t,
            sources,
            &mut self.fwd,
            &mut self.fwd_pred,
            &mut self.fwd_starts,
        );
        init_points(
            t,
            targets,
            &mut self.bwd,
            &mut self.bwd_pred,
            &mut self.bwd_starts,
        );

        // Both walks' nodes, ascending, merged as they go.
        t.ancestors_into(&mut self.fwd_starts, &mut self.fwd_seen);
        t.ancestors_into(&mut self.bwd_starts, &mut self.bwd_seen);
        let mut best = INF;
        let mut meet = INVALID;
        let (mut i, mut j) = (0, 0);
        loop {
            let xf = self.fwd_seen.get(i).copied().unwrap_or(INVALID);
            let xb = self.bwd_seen.get(j).copied().unwrap_or(INVALID);
            let x = xf.min(xb);
            if x == INVALID {
                break;
            }
            let on_fwd = xf == x;
            let on_bwd = xb == x;
            i += usize::from(on_fwd);
            j += usize::from(on_bwd);
            let (df, db) = (self.fwd[x as usize], self.bwd[x as usize]);
            let through = add(df, db);
            if through < best {
                best = through;
                meet = x;
            }
            if on_fwd && df < best {
                forward(x, df, &mut self.fwd, &mut self.fwd_pred);
            }
            if on_bwd && db < best {
                backward(x, db, &mut self.bwd, &mut self.bwd_pred);
            }
        }
        (best, meet)
    }

    /// Resets every distance touched by the last search.
    fn reset(&mut self) {
        for &x in &self.fwd_seen {
            self.fwd[x as usize] = INF;
        }
        for &x in &self.bwd_seen {
            self.bwd[x as usize] = INF;
        }
        self.fwd_seen.clear();
        self.bwd_seen.clear();
    }
}

/// Seeds one search direction with its points.
fn init_points(
    t: &CchTopology,
    points: &[(u32, u32)],
    dist: &mut [u32],
    pred: &mut [u32],
    starts: &mut Vec<u32>,
) {
    starts.clear();
    for &(v, offset) in points {
        if v as usize >= t.node_count() || offset == INF {
            continue;
        }
        let r = t.rank[v as usize];
        if offset < dist[r as usize] {
            dist[r as usize] = offset;
            pred[r as usize] = INVALID;
        }
        if !starts.contains(&r) {
            starts.push(r);
        }
    }
}

/// For [`CchQuery::search_by`]: relaxes every upward edge of a settled node at `weights`
/// (the upward or the downward ones), recording predecessors.
fn relax_all<'a>(
    t: &'a CchTopology,
    weights: &'a [u32],
) -> impl FnMut(u32, u32, &mut [u32], &mut [u32]) + 'a {
    move |x, d, dist, pred| {
        let r = t.up_first[x as usize] as usize..t.up_first[x as usize + 1] as usize;
        relax(
            &t.up_head[r.clone()],
            &weights[r.clone()],
            r.start as u32,
            d,
            dist,
            pred,
        );
    }
}

/// Relaxes the upward edges `first_edge..` of a settled node with distance `d`.
#[inline(always)]
fn relax(
    heads: &[u32],
    weights: &[u32],
    first_edge: u32,
    d: u32,
    dist: &mut [u32],
    pred: &mut [u32],
) {
    for (i, (&y, &w)) in heads.iter().zip(weights).enumerate() {
        let c = add(d, w);
        if c < dist[y as usize] {
            dist[y as usize] = c;
            pred[y as usize] = first_edge + i as u32;
        }
    }
}

/// Index of the first point at rank `r` whose offset is `offset`.
fn find_point(t: &CchTopology, points: &[(u32, u32)], r: u32, offset: u32) -> Option<usize> {
    points
        .iter()
        .position(|&(v, o)| (v as usize) < t.node_count() && t.rank[v as usize] == r && o == offset)
}

/// Appends the input arcs of edge `e` in direction `dir` to `arcs`.
pub(crate) fn unpack(
    t: &CchTopology,
    metric: &CchMetric,
    e: u32,
    dir: u32,
    stack: &mut Vec<(u32, u32)>,
    arcs: &mut Vec<u32>,
) {
    stack.clear();
    stack.push((e, dir));
    while let Some((e, dir)) = stack.pop() {
        let u = if dir == UP {
            metric.up_unpack[e as usize]
        } else {
            metric.down_unpack[e as usize]
        };
        let [e_zx, e_zy] = match u {
            [INVALID, _] => {
                debug_assert!(false, "unpacking an unreachable edge");
                continue;
            }
            [arc, INVALID] => {
                arcs.push(arc);
                continue;
            }
            pair => pair,
        };
        debug_assert_eq!(t.up_tail[e_zx as usize], t.up_tail[e_zy as usize]);
        if dir == UP {
            // x → z → y: down along (z, x), then up along (z, y).
            stack.push((e_zy, UP));
            stack.push((e_zx, DOWN));
        } else {
            // y → z → x: down along (z, y), then up along (z, x).
            stack.push((e_zx, UP));
            stack.push((e_zy, DOWN));
        }
    }
}
