//! Metric-independent CCH structure: chordal supergraph and elimination tree.
//!
//! Nodes are renumbered by rank. Every input arc `u → v` (not a self-loop)
//! becomes the undirected edge `{rank u, rank v}`; contracting the nodes in
//! rank order and connecting all upper neighbours of each contracted node
//! pairwise gives the chordal completion. As in RoutingKit this is done by
//! merging each node's sorted, deduplicated upper neighbour list (minus its
//! lowest entry) into the list of its lowest upper neighbour, which is its
//! parent in the *elimination tree*. All upper neighbours of a node are
//! ancestors of it in that tree, which is what makes the elimination tree
//! query possible.
//!
//! Edges are stored once, in CSR by their lower endpoint, sorted by the upper
//! one; an edge id is its CSR index, so edge ids increase with the lower
//! endpoint. Each edge `{x, y}`, `x < y`, has two directions: *up* (`x → y`)
//! and *down* (`y → x`). The input arcs that map onto each direction are
//! kept (CSR over *slots* `2 · edge + direction`) so a metric can be
//! initialised or partially re-initialised from input weights.
//!
//! Triangles: for an edge `(x, y)` its *lower triangles* are the nodes
//! `z < x` adjacent to both (they relax the edge during customization); its
//! *upper* (`x < y < w`) and *intermediate* (`x < w < y`) triangles are the
//! nodes `w > x` adjacent to `x`, and they tell which edges depend on it.

use super::order::is_permutation;
use super::{CchError, INVALID};

/// Direction of an edge slot: from the lower to the higher ranked endpoint.
pub const UP: u32 = 0;
/// Direction of an edge slot: from the higher to the lower ranked endpoint.
pub const DOWN: u32 = 1;

/// The metric-independent part of a CCH, shareable between threads.
///
/// Built once per road graph and node order; cheap to share via
/// `Arc<CchTopology>`. All node ids stored inside are ranks.
#[derive(Debug, Clone)]
pub struct CchTopology {
    /// `rank[input node]`.
    pub(crate) rank: Vec<u32>,
    /// `order[rank]` = input node.
    pub(crate) order: Vec<u32>,
    /// CSR offsets of the upward edges, by lower endpoint (len `n + 1`).
    pub(crate) up_first: Vec<u32>,
    /// Upper endpoint of every edge (sorted within each lower endpoint).
    pub(crate) up_head: Vec<u32>,
    /// Lower endpoint of every edge.
    pub(crate) up_tail: Vec<u32>,
    /// CSR offsets of the downward adjacency, by upper endpoint (len `n + 1`).
    pub(crate) down_first: Vec<u32>,
    /// Lower endpoint of every downward adjacency entry (sorted ascending).
    pub(crate) down_tail: Vec<u32>,
    /// Edge id of every downward adjacency entry.
    pub(crate) down_edge: Vec<u32>,
    /// Elimination tree parent of every rank, [`INVALID`] for roots.
    pub(crate) parent: Vec<u32>,
    /// Slot `2 · edge + direction` of every input arc, [`INVALID`] for self-loops.
    pub(crate) arc_slot: Vec<u32>,
    /// CSR offsets over slots into `slot_arcs` (len `2 · edges + 1`).
    pub(crate) slot_first: Vec<u32>,
    /// Input arcs of every slot, ascending by arc id.
    pub(crate) slot_arcs: Vec<u32>,
}

impl CchTopology {
    /// Builds the CCH of the graph `(first_out, head)` for `order`
    /// (`order[rank] = node`, as returned by
    /// [`nested_dissection_order`](super::order::nested_dissection_order)).
    pub fn new(first_out: &[u32], head: &[u32], order: &[u32]) -> Result<Self, CchError> {
        if first_out.is_empty() {
            return Err(CchError::MalformedGraph(
                "first_out must have n + 1 entries",
            ));
        }
        let n = first_out.len() - 1;
        if n >= (1 << 31) - 1 || head.len() >= (1 << 31) - 1 {
            return Err(CchError::TooLarge("at most 2^31 - 2 nodes and arcs"));
        }
        if first_out[0] != 0 || first_out[n] as usize != head.len() {
            return Err(CchError::MalformedGraph(
                "first_out must start at 0 and end at head.len()",
            ));
        }
        if first_out.windows(2).any(|w| w[0] > w[1]) {
            return Err(CchError::MalformedGraph("first_out must be non-decreasing"));
        }
        if let Some((a, &h)) = head.iter().enumerate().find(|(_, &h)| h as usize >= n) {
            return Err(CchError::HeadOutOfRange {
                arc: a as u32,
                head: h,
                node_count: n as u32,
            });
        }
        if order.len() != n || !is_permutation(order) {
            return Err(CchError::InvalidOrder(n as u32));
        }

        let order = order.to_vec();
        let mut rank = vec![0u32; n];
        for (r, &v) in order.iter().enumerate() {
            rank[v as usize] = r as u32;
        }

        // Upper neighbour lists from the input arcs.
        let mut upper: Vec<Vec<u32>> = vec![Vec::new(); n];
        for u in 0..n {
            for &v in &head[first_out[u] as usize..first_out[u + 1] as usize] {
                let (ru, rv) = (rank[u], rank[v as usize]);
                if ru != rv {
                    upper[ru.min(rv) as usize].push(ru.max(rv));
                }
            }
        }

        // Chordal completion, building the upward CSR on the fly.
        let mut parent = vec![INVALID; n];
        let mut up_first = Vec::with_capacity(n + 1);
        up_first.push(0u32);
        let mut up_head: Vec<u32> = Vec::new();
        for x in 0..n {
            let mut list = std::mem::take(&mut upper[x]);
            list.sort_unstable();
            list.dedup();
            if let Some((&p, rest)) = list.split_first() {
                parent[x] = p;
                upper[p as usize].extend_from_slice(rest);
            }
            up_head.extend_from_slice(&list);
            if up_head.len() >= (1 << 31) - 1 {
                return Err(CchError::TooLarge("more than 2^31 - 2 CCH edges"));
            }
            up_first.push(up_head.len() as u32);
        }
        drop(upper);
        let m = up_head.len();
        let mut up_tail = vec![0u32; m];
        for x in 0..n {
            up_tail[up_first[x] as usize..up_first[x + 1] as usize].fill(x as u32);
        }

        // Downward adjacency: counting sort of the edges by upper endpoint.
        let mut down_first = vec![0u32; n + 1];
        for &y in &up_head {
            down_first[y as usize + 1] += 1;
        }
        for y in 0..n {
            down_first[y + 1] += down_first[y];
        }
        let mut fill = down_first.clone();
        let mut down_tail = vec![0u32; m];
        let mut down_edge = vec![0u32; m];
        for e in 0..m {
            let y = up_head[e] as usize;
            let i = fill[y] as usize;
            fill[y] += 1;
            down_tail[i] = up_tail[e];
            down_edge[i] = e as u32;
        }

        let mut topo = CchTopology {
            rank,
            order,
            up_first,
            up_head,
            up_tail,
            down_first,
            down_tail,
            down_edge,
            parent,
            arc_slot: Vec::new(),
            slot_first: Vec::new(),
            slot_arcs: Vec::new(),
        };

        // Map every input arc onto its edge slot.
        let mut arc_slot = vec![INVALID; head.len()];
        let mut slot_first = vec![0u32; 2 * m + 1];
        for u in 0..n {
            for a in first_out[u]..first_out[u + 1] {
                let (ru, rv) = (topo.rank[u], topo.rank[head[a as usize] as usize]);
                if ru == rv {
                    continue;
                }
                let e = topo
                    .edge(ru.min(rv), ru.max(rv))
                    .ok_or(CchError::MalformedGraph("internal: arc without CCH edge"))?;
                let slot = 2 * e + if ru < rv { UP } else { DOWN };
                arc_slot[a as usize] = slot;
                slot_first[slot as usize + 1] += 1;
            }
        }
        for s in 0..2 * m {
            slot_first[s + 1] += slot_first[s];
        }
        let mut fill = slot_first.clone();
        let mut slot_arcs = vec![0u32; slot_first[2 * m] as usize];
        for (a, &slot) in arc_slot.iter().enumerate() {
            if slot != INVALID {
                slot_arcs[fill[slot as usize] as usize] = a as u32;
                fill[slot as usize] += 1;
            }
        }
        topo.arc_slot = arc_slot;
        topo.slot_first = slot_first;
        topo.slot_arcs = slot_arcs;
        Ok(topo)
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.rank.len()
    }

    /// Number of CCH edges (each has an up and a down direction).
    pub fn edge_count(&self) -> usize {
        self.up_head.len()
    }

    /// Number of input arcs the topology was built from.
    pub fn input_arc_count(&self) -> usize {
        self.arc_slot.len()
    }

    /// `rank[input node]`.
    pub fn ranks(&self) -> &[u32] {
        &self.rank
    }

    /// `order[rank]` = input node.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Rank of an input node.
    #[inline]
    pub fn rank_of(&self, node: u32) -> u32 {
        self.rank[node as usize]
    }

    /// Elimination tree parent of a rank, `None` for a root.
    #[inline]
    pub fn parent(&self, x: u32) -> Option<u32> {
        let p = self.parent[x as usize];
        (p != INVALID).then_some(p)
    }

    /// The ancestors of the ranks in `starts` (themselves included), ascending and each
    /// once, into `out` (cleared first): the nodes an elimination tree walk from them
    /// visits, in its order. `starts` may hold repeats; it is used up (overwritten).
    pub(crate) fn ancestors_into(&self, starts: &mut [u32], out: &mut Vec<u32>) {
        out.clear();
        // Each chain ascends, and from where two chains meet they are one; so the chains
        // are merged by advancing the lowest head each step (every head equal to it moves
        // once: one takes the parent, the others drop out). The heads live in `starts`.
        let heads = starts;
        loop {
            let live = heads.iter().filter(|&&h| h != INVALID).count();
            if live <= 1 {
                // One chain left (or none): follow it alone.
                let mut y = heads
                    .iter()
                    .copied()
                    .find(|&h| h != INVALID)
                    .unwrap_or(INVALID);
                while y != INVALID {
                    out.push(y);
                    y = self.parent[y as usize];
                }
                return;
            }
            let x = heads.iter().copied().min().unwrap_or(INVALID);
            out.push(x);
            let p = self.parent[x as usize];
            let mut moved = false;
            for h in heads.iter_mut() {
                if *h == x {
                    *h = if moved { INVALID } else { p };
                    moved = true;
                }
            }
        }
    }

    /// Edge ids of the upward edges of rank `x` (their heads ascend).
    #[inline]
    pub fn up_edges(&self, x: u32) -> std::ops::Range<u32> {
        self.up_first[x as usize]..self.up_first[x as usize + 1]
    }

    /// Lower endpoint (tail) of an edge.
    #[inline]
    pub fn edge_tail(&self, e: u32) -> u32 {
        self.up_tail[e as usize]
    }

    /// Upper endpoint (head) of an edge.
    #[inline]
    pub fn edge_head(&self, e: u32) -> u32 {
        self.up_head[e as usize]
    }

    /// Id of the edge between ranks `x < y`, if any (binary search).
    #[inline]
    pub fn edge(&self, x: u32, y: u32) -> Option<u32> {
        debug_assert!(x < y);
        let r = self.up_edges(x);
        let heads = &self.up_head[r.start as usize..r.end as usize];
        heads.binary_search(&y).ok().map(|i| r.start + i as u32)
    }

    /// Input arcs mapped onto `edge` in `direction` ([`UP`] or [`DOWN`]),
    /// ascending by arc id.
    pub fn input_arcs(&self, edge: u32, direction: u32) -> &[u32] {
        let s = (2 * edge + direction) as usize;
        &self.slot_arcs[self.slot_first[s] as usize..self.slot_first[s + 1] as usize]
    }

    /// Slot `2 · edge + direction` an input arc maps onto; `None` for self-loops.
    pub fn arc_slot(&self, arc: u32) -> Option<u32> {
        let s = self.arc_slot[arc as usize];
        (s != INVALID).then_some(s)
    }

    /// Lower triangles of edge `e = (x, y)`: all `(z, e_zx, e_zy)` with
    /// `z < x` adjacent to both endpoints, in ascending `z`.
    pub fn lower_triangles(&self, e: u32) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        let (x, y) = (self.up_tail[e as usize], self.up_head[e as usize]);
        let d = self.down_first[x as usize] as usize..self.down_first[x as usize + 1] as usize;
        d.filter_map(move |i| {
            let z = self.down_tail[i];
            let e_zx = self.down_edge[i];
            let rest = e_zx + 1..self.up_first[z as usize + 1];
            let heads = &self.up_head[rest.start as usize..rest.end as usize];
            heads
                .binary_search(&y)
                .ok()
                .map(|j| (z, e_zx, rest.start + j as u32))
        })
    }

    /// Upper and intermediate triangles of edge `e = (x, y)`: for every other
    /// upper neighbour `w` of `x`, yields `(w, e_xw, f)` where `f` is the edge
    /// between `y` and `w`, whose lower triangles contain `x`. Every such `f`
    /// has a lower endpoint above `x`, hence a larger id than `e`.
    pub fn upper_triangles(&self, e: u32) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        let (x, y) = (self.up_tail[e as usize], self.up_head[e as usize]);
        self.up_edges(x)
            .filter(move |&f| f != e)
            .filter_map(move |e_xw| {
                let w = self.up_head[e_xw as usize];
                let f = self.edge(w.min(y), w.max(y));
                debug_assert!(f.is_some(), "chordal graph: upper neighbours are adjacent");
                f.map(|f| (w, e_xw, f))
            })
    }

    /// Heap memory used by this structure, in bytes (approximate).
    pub fn memory_bytes(&self) -> usize {
        4 * (self.rank.len()
            + self.order.len()
            + self.up_first.len()
            + self.up_head.len()
            + self.up_tail.len()
            + self.down_first.len()
            + self.down_tail.len()
            + self.down_edge.len()
            + self.parent.len()
            + self.arc_slot.len()
            + self.slot_first.len()
            + self.slot_arcs.len())
    }
}
