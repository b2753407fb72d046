//! The upward arcs an elimination tree walk needs for one metric, without the shortcuts that
//! an upward path through a middle node beats or ties.
//!
//! The upper neighbours of a node `x` form a clique in the CCH (the fill-in of its
//! elimination), so every pair `z < y` of them is joined by an edge. If
//! `w(x → z) + w(z → y) ≤ w(x → y)` for such a `z`, the arc `x → y` can be dropped from
//! an upward walk: `x → z → y` is upward too and no longer. Its two arcs span fewer ranks
//! than `x → y`, so by induction on that span each of them is kept or replaced the same
//! way, and every upward distance a walk computes (with each node's distance the least over
//! its upward paths) is exactly the one the full arc set gives. Closed arcs ([`INF`]) are
//! dropped too.
//!
//! On city graphs the top separators are cliques of dozens of nodes, which every search
//! space crosses; most of their arcs are beaten through a middle node, so the walks of
//! [`super::many`] relax a fraction of the arcs. Only distances are the same: a walk that
//! records predecessors may meet a tie through another node, so path queries keep all arcs.

use super::metric::CchMetric;
use super::topology::CchTopology;
use super::{add, INF, INVALID};

/// One direction's kept arcs, CSR by the lower endpoint (a rank).
#[derive(Debug, Clone, Default)]
pub(crate) struct ArcList {
    pub(crate) first: Vec<u32>,
    pub(crate) head: Vec<u32>,
    pub(crate) weight: Vec<u32>,
}

impl ArcList {
    /// The kept arcs from rank `x`, as `(head, weight)` slices.
    #[inline]
    pub(crate) fn of(&self, x: u32) -> (&[u32], &[u32]) {
        let (b, e) = (
            self.first[x as usize] as usize,
            self.first[x as usize + 1] as usize,
        );
        (&self.head[b..e], &self.weight[b..e])
    }

    /// Lowers `dist` of the heads of the kept arcs from rank `x`, settled at distance `d`.
    #[inline]
    pub(crate) fn relax(&self, x: u32, d: u32, dist: &mut [u32]) {
        let (heads, weights) = self.of(x);
        for (&y, &w) in heads.iter().zip(weights) {
            let c = add(d, w);
            let dy = &mut dist[y as usize];
            if c < *dy {
                *dy = c;
            }
        }
    }
}

/// The kept arcs of both directions for one metric version.
#[derive(Debug, Clone, Default)]
pub(crate) struct WalkArcs {
    /// Forward walks: `x → y` at the edge's upward weight.
    pub(crate) up: ArcList,
    /// Backward walks: `y → x` at the edge's downward weight, listed at `x`.
    pub(crate) down: ArcList,
    /// The metric version these were built from (0: none).
    pub(crate) version: u64,
}

impl WalkArcs {
    /// The kept arcs of `metric`; the work of one customization.
    pub(crate) fn new(t: &CchTopology, metric: &CchMetric) -> WalkArcs {
        let n = t.node_count();
        let (up_w, down_w) = (&metric.up_weight, &metric.down_weight);
        // For the node `x` being processed, by upper neighbour `y`: the edge `(x, y)` and the
        // best upward path `x → z → y` (and `y → z → x`) through a middle node `z`.
        let mut edge_to = vec![INVALID; n];
        let mut via_up = vec![INF; n];
        let mut via_down = vec![INF; n];
        let mut arcs = WalkArcs {
            version: metric.version(),
            ..WalkArcs::default()
        };
        arcs.up.first.reserve(n + 1);
        arcs.down.first.reserve(n + 1);
        for x in 0..n {
            arcs.up.first.push(arcs.up.head.len() as u32);
            arcs.down.first.push(arcs.down.head.len() as u32);
            let (b, e) = (t.up_first[x] as usize, t.up_first[x + 1] as usize);
            for i in b..e {
                edge_to[t.up_head[i] as usize] = i as u32;
            }
            for i in b..e {
                let (xz_up, zx_down) = (up_w[i], down_w[i]);
                if xz_up == INF && zx_down == INF {
                    continue;
                }
                let z = t.up_head[i] as usize;
                for j in t.up_first[z] as usize..t.up_first[z + 1] as usize {
                    let y = t.up_head[j] as usize;
                    if edge_to[y] == INVALID {
                        continue;
                    }
                    via_up[y] = via_up[y].min(add(xz_up, up_w[j]));
                    via_down[y] = via_down[y].min(add(down_w[j], zx_down));
                }
            }
            for i in b..e {
                let y = t.up_head[i] as usize;
                if up_w[i] != INF && up_w[i] < via_up[y] {
                    arcs.up.head.push(y as u32);
                    arcs.up.weight.push(up_w[i]);
                }
                if down_w[i] != INF && down_w[i] < via_down[y] {
                    arcs.down.head.push(y as u32);
                    arcs.down.weight.push(down_w[i]);
                }
                edge_to[y] = INVALID;
                via_up[y] = INF;
                via_down[y] = INF;
            }
        }
        arcs.up.first.push(arcs.up.head.len() as u32);
        arcs.down.first.push(arcs.down.head.len() as u32);
        arcs
    }
}
