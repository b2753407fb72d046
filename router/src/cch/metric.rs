//! Customization: travel times on the CCH edges, full or partial.
//!
//! *Basic customization* (Dibbelt, Strasser, Wagner 2016, section 5): every
//! edge direction starts with the minimum weight of the input arcs mapped onto
//! it (ties: the smallest arc id), then the nodes are processed bottom-up and
//! every lower triangle `z < x < y` relaxes the edge `(x, y)`:
//! `up(x, y) = min(up(x, y), down(z, x) + up(z, y))` and
//! `down(x, y) = min(down(x, y), down(z, y) + up(z, x))`. Triangles are
//! applied in ascending `z` and only a strict improvement replaces the value,
//! which fixes the unpacking information deterministically.
//!
//! For path unpacking every edge direction remembers where its weight came
//! from: the input arc, or the two lower edges `(z, x)` and `(z, y)` of the
//! winning triangle (so unpacking needs no search).
//!
//! *Partial re-customization* (as RoutingKit's
//! `CustomizableContractionHierarchyPartialCustomization`): the edges that
//! changed input arcs map onto are recomputed from scratch (input arcs and all
//! lower triangles). Whenever an edge's weights change, the edges having it in
//! a lower triangle (found through its upper and intermediate triangles) are
//! queued for the same recomputation, but only those for which that triangle
//! was or becomes tight (its sum, before or after, reaches their weight). The queue is processed in ascending edge id, which is a
//! bottom-up order, so the result is bit-identical to a full customization.
//!
//! Every customization or update stamps the metric with a process-wide unique
//! [`version`](CchMetric::version), so cached search spaces can tell when
//! they became stale.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::topology::{CchTopology, DOWN, UP};
use super::walk_arcs::WalkArcs;
use super::{add, INF, INVALID};

/// Unpacking data of one edge direction: `[arc, INVALID]` for an input arc,
/// `[e_zx, e_zy]` for the lower triangle through `z`, `[INVALID, INVALID]`
/// when the weight is infinite.
pub(crate) type Unpack = [u32; 2];

/// Unpacking data of an edge direction without any path.
const NO_UNPACK: Unpack = [INVALID, INVALID];

static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// Where the weight of one edge direction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeOrigin {
    /// The weight is infinite: no input arc and no triangle gives a path.
    Unreachable,
    /// The weight is that of this input arc.
    Arc(u32),
    /// The weight is that of the path through this middle node (a rank) of a
    /// lower triangle.
    Middle(u32),
}

/// Travel times of all CCH edges in both directions, plus unpacking data.
///
/// Equality (`==`) compares weights and unpacking data, not the version.
#[derive(Debug, Clone)]
pub struct CchMetric {
    pub(crate) up_weight: Vec<u32>,
    pub(crate) down_weight: Vec<u32>,
    pub(crate) up_unpack: Vec<Unpack>,
    pub(crate) down_unpack: Vec<Unpack>,
    version: u64,
    /// The arcs distance walks relax with these weights, built at the first such walk and
    /// shared by every cache of search spaces.
    walk: OnceLock<Arc<WalkArcs>>,
}

impl PartialEq for CchMetric {
    fn eq(&self, other: &Self) -> bool {
        self.up_weight == other.up_weight
            && self.down_weight == other.down_weight
            && self.up_unpack == other.up_unpack
            && self.down_unpack == other.down_unpack
    }
}

impl Eq for CchMetric {}

/// Weights and unpack info of both directions of one edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EdgeValue {
    up_weight: u32,
    up_unpack: Unpack,
    down_weight: u32,
    down_unpack: Unpack,
}

impl CchMetric {
    /// Basic customization of `topology` with one weight (milliseconds, [`INF`]
    /// = closed) per input arc.
    ///
    /// # Panics
    /// If `weights.len()` differs from the topology's input arc count.
    pub fn customize(topology: &CchTopology, weights: &[u32]) -> Self {
        assert_eq!(
            weights.len(),
            topology.input_arc_count(),
            "one weight per input arc"
        );
        let t = topology;
        let m = t.edge_count();
        let n = t.node_count();
        let mut up_weight = vec![INF; m];
        let mut down_weight = vec![INF; m];
        let mut up_unpack = vec![NO_UNPACK; m];
        let mut down_unpack = vec![NO_UNPACK; m];
        for e in 0..m {
            (up_weight[e], up_unpack[e]) = init_slot(t, weights, 2 * e as u32 + UP);
            (down_weight[e], down_unpack[e]) = init_slot(t, weights, 2 * e as u32 + DOWN);
        }

        // mark[y] = id of the edge (x, y) for the node x being processed.
        let mut mark = vec![INVALID; n];
        for x in 0..n {
            let (xb, xe) = (t.up_first[x] as usize, t.up_first[x + 1] as usize);
            for e in xb..xe {
                mark[t.up_head[e] as usize] = e as u32;
            }
            let (db, de) = (t.down_first[x] as usize, t.down_first[x + 1] as usize);
            for i in db..de {
                let e_zx = t.down_edge[i] as usize;
                let (down_zx, up_zx) = (down_weight[e_zx], up_weight[e_zx]);
                if down_zx == INF && up_zx == INF {
                    continue;
                }
                let z_end = t.up_first[t.down_tail[i] as usize + 1] as usize;
                for e_zy in e_zx + 1..z_end {
                    let e_xy = mark[t.up_head[e_zy] as usize] as usize;
                    debug_assert_eq!(t.up_tail[e_xy] as usize, x);
                    debug_assert_eq!(t.up_head[e_xy], t.up_head[e_zy]);
                    let c = add(down_zx, up_weight[e_zy]);
                    if c < up_weight[e_xy] {
                        up_weight[e_xy] = c;
                        up_unpack[e_xy] = [e_zx as u32, e_zy as u32];
                    }
                    let c = add(down_weight[e_zy], up_zx);
                    if c < down_weight[e_xy] {
                        down_weight[e_xy] = c;
                        down_unpack[e_xy] = [e_zx as u32, e_zy as u32];
                    }
                }
            }
        }
        CchMetric {
            up_weight,
            down_weight,
            up_unpack,
            down_unpack,
            version: next_version(),
            walk: OnceLock::new(),
        }
    }

    /// Partial re-customization after the weights of `changed_arcs` changed
    /// (increases and decreases, to and from [`INF`]). `weights` is the full,
    /// new weight vector. The result is bit-identical to
    /// `CchMetric::customize(topology, weights)` provided the metric was
    /// up to date for all other arcs. Duplicates in `changed_arcs` are fine.
    ///
    /// # Panics
    /// If `weights.len()` differs from the topology's input arc count, the
    /// metric belongs to a topology of another size, or an arc id is out of
    /// range.
    pub fn update(&mut self, topology: &CchTopology, weights: &[u32], changed_arcs: &[u32]) {
        assert_eq!(
            weights.len(),
            topology.input_arc_count(),
            "one weight per input arc"
        );
        assert_eq!(
            self.up_weight.len(),
            topology.edge_count(),
            "metric of another topology"
        );
        let mut queue: BinaryHeap<Reverse<u32>> = changed_arcs
            .iter()
            .filter_map(|&a| topology.arc_slot(a).map(|s| Reverse(s / 2)))
            .collect();
        // Every queued edge has a larger id than the one that queued it, so
        // popping in ascending order settles edges bottom-up and duplicates
        // come out consecutively.
        let mut last = INVALID;
        while let Some(Reverse(e)) = queue.pop() {
            if e == last {
                continue;
            }
            last = e;
            let new = self.recompute(topology, weights, e);
            let i = e as usize;
            let (old_up, old_down) = (self.up_weight[i], self.down_weight[i]);
            self.up_weight[i] = new.up_weight;
            self.up_unpack[i] = new.up_unpack;
            self.down_weight[i] = new.down_weight;
            self.down_unpack[i] = new.down_unpack;
            if new.up_weight == old_up && new.down_weight == old_down {
                continue;
            }
            let y = topology.up_head[i];
            for (w, e_xw, f) in topology.upper_triangles(e) {
                debug_assert!(f > e);
                // Through x: `y → w` costs down(e) + up(e_xw), `w → y` costs
                // down(e_xw) + up(e). The triangle matters for f if, before or
                // after the change, it reaches f's current weight (ties
                // included, as they decide the unpacking data).
                let (xw_up, xw_down) = (
                    self.up_weight[e_xw as usize],
                    self.down_weight[e_xw as usize],
                );
                let (f_yw, f_wy) = if w > y {
                    (self.up_weight[f as usize], self.down_weight[f as usize])
                } else {
                    (self.down_weight[f as usize], self.up_weight[f as usize])
                };
                let tight = |sum: u32, bound: u32| sum != INF && sum <= bound;
                if tight(add(old_down, xw_up), f_yw)
                    || tight(add(new.down_weight, xw_up), f_yw)
                    || tight(add(xw_down, old_up), f_wy)
                    || tight(add(xw_down, new.up_weight), f_wy)
                {
                    queue.push(Reverse(f));
                }
            }
        }
        self.version = next_version();
        self.walk = OnceLock::new();
    }

    /// Recomputes one edge from its input arcs and lower triangles, whose
    /// lower edges must be up to date.
    fn recompute(&self, t: &CchTopology, weights: &[u32], e: u32) -> EdgeValue {
        let (mut up_weight, mut up_unpack) = init_slot(t, weights, 2 * e + UP);
        let (mut down_weight, mut down_unpack) = init_slot(t, weights, 2 * e + DOWN);
        for (_, zx, zy) in t.lower_triangles(e) {
            let (e_zx, e_zy) = (zx as usize, zy as usize);
            let c = add(self.down_weight[e_zx], self.up_weight[e_zy]);
            if c < up_weight {
                up_weight = c;
                up_unpack = [zx, zy];
            }
            let c = add(self.down_weight[e_zy], self.up_weight[e_zx]);
            if c < down_weight {
                down_weight = c;
                down_unpack = [zx, zy];
            }
        }
        EdgeValue {
            up_weight,
            up_unpack,
            down_weight,
            down_unpack,
        }
    }

    /// The upward arcs distance walks relax with these weights (see [`WalkArcs`]), built
    /// once.
    pub(crate) fn walk_arcs(&self, topology: &CchTopology) -> &Arc<WalkArcs> {
        self.walk
            .get_or_init(|| Arc::new(WalkArcs::new(topology, self)))
    }

    /// Process-wide unique stamp of the current weights; changes on every
    /// [`customize`](Self::customize) and [`update`](Self::update).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Upward weight (lower → higher rank) of every edge.
    pub fn up_weights(&self) -> &[u32] {
        &self.up_weight
    }

    /// Downward weight (higher → lower rank) of every edge.
    pub fn down_weights(&self) -> &[u32] {
        &self.down_weight
    }

    /// Weight of `edge` in `direction` ([`UP`] or [`DOWN`]).
    pub fn weight(&self, edge: u32, direction: u32) -> u32 {
        if direction == UP {
            self.up_weight[edge as usize]
        } else {
            self.down_weight[edge as usize]
        }
    }

    /// Where the weight of `edge` in `direction` comes from.
    pub fn origin(&self, topology: &CchTopology, edge: u32, direction: u32) -> EdgeOrigin {
        let u = if direction == UP {
            self.up_unpack[edge as usize]
        } else {
            self.down_unpack[edge as usize]
        };
        match u {
            [INVALID, _] => EdgeOrigin::Unreachable,
            [arc, INVALID] => EdgeOrigin::Arc(arc),
            [e_zx, _] => EdgeOrigin::Middle(topology.edge_tail(e_zx)),
        }
    }
}

/// Minimum weight over the input arcs of a slot and the first arc reaching it.
#[inline]
fn init_slot(t: &CchTopology, weights: &[u32], slot: u32) -> (u32, Unpack) {
    let (b, e) = (
        t.slot_first[slot as usize] as usize,
        t.slot_first[slot as usize + 1] as usize,
    );
    let mut best = (INF, NO_UNPACK);
    for &a in &t.slot_arcs[b..e] {
        let w = weights[a as usize];
        if w < best.0 {
            best = (w, [a, INVALID]);
        }
    }
    best
}
