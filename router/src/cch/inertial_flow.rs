//! Inertial flow node separators (Schild & Sommer 2015, as in RoutingKit).
//!
//! **Reduction.** Road graphs are dominated by dead ends and degree-2 chains,
//! which never need more than one separator node each. Before any flow is
//! computed, trees hanging off the graph are peeled (2-core) and every
//! maximal chain of degree-2 core nodes is replaced by a single node. Each
//! reduced node carries the number of original nodes it stands for (used for
//! balance); a chain node in the separator becomes the chain's middle node.
//! A piece that is a tree is split at its centroid, a piece whose core is a
//! single cycle at two opposite cycle nodes.
//!
//! **Flow.** The reduced nodes are projected onto four lines (0°, 45°, 90°,
//! 135°). For every line the first 25 % (by weight) become sources and the
//! last 25 % sinks, and a minimum *node* separator between them is found with
//! unit-capacity max-flow on the node-split graph: every node `v` becomes
//! `v_in → v_out` with capacity 1, every undirected edge `{u, v}` becomes
//! `u_out → v_in` and `v_out → u_in` with infinite capacity. Sources and sinks
//! are contracted (infinite node capacity; sinks adjacent to a source are
//! demoted to ordinary nodes), so searches start at the border of the source
//! slab and stop at the sink slab. The split graph is never materialised: its
//! residual arcs are derived on the fly from two bit arrays (`sat[v]`: the
//! node arc of `v` carries flow; `flow[a]`: `u_out → v_in` of undirected arc
//! `a = (u, v)` carries flow). Max-flow is Dinic's algorithm: BFS level graph
//! plus blocking flow by DFS with current-arc pointers.
//!
//! **Selection.** The four problems advance lazily, one Dinic phase at a time,
//! always the one with the smallest current flow (as RoutingKit does): the
//! first to finish has a minimum cut among all four. Problems tied with it are
//! finished too, and the most balanced minimum cut wins. Balance is improved
//! by *piercing*: the residual-reachable source side and the sink side are
//! grown alternately (always the lighter one) through saturated node arcs
//! until the lighter side cannot grow, which keeps the cut minimum.

/// Role of a node in one flow problem.
const NONE: u8 = 0;
/// The node belongs to the (contracted) source slab.
const SOURCE: u8 = 1;
/// The node belongs to the (contracted) sink slab.
const TARGET: u8 = 2;
/// Level of an unreached or dead split node.
const UNSET: u32 = u32::MAX;
/// Fraction (in percent of the weight) of a piece used as sources and sinks.
const SIDE_PERCENT: u64 = 25;

/// Undirected simple graph: symmetric, sorted adjacency, no loops or duplicates.
struct UGraph<'a> {
    first_out: &'a [u32],
    head: &'a [u32],
    /// `back[a]` is the arc `(v, u)` for `a = (u, v)`.
    back: &'a [u32],
}

impl UGraph<'_> {
    #[inline(always)]
    fn range(&self, v: u32) -> (u32, u32) {
        (self.first_out[v as usize], self.first_out[v as usize + 1])
    }

    #[inline(always)]
    fn neighbours(&self, v: u32) -> &[u32] {
        let (b, e) = self.range(v);
        &self.head[b as usize..e as usize]
    }
}

/// Computes the reverse arc of every arc of a symmetric, sorted, simple graph.
fn back_arcs(first_out: &[u32], head: &[u32]) -> Vec<u32> {
    let k = first_out.len() - 1;
    let mut fill: Vec<u32> = first_out[..k].to_vec();
    let mut back = vec![0u32; head.len()];
    // Visiting tails in ascending order hits every neighbour list in ascending
    // order too, so the i-th arc into `w` pairs with the i-th arc out of `w`.
    for v in 0..k {
        for a in first_out[v]..first_out[v + 1] {
            let w = head[a as usize] as usize;
            let b = fill[w];
            fill[w] += 1;
            debug_assert_eq!(head[b as usize] as usize, v);
            back[a as usize] = b;
        }
    }
    back
}

/// Finds a small balanced node separator of a connected piece with at least
/// four nodes, given its symmetric, sorted, simple adjacency and planar
/// coordinates `(x, y)` of its nodes. Returns local ids, ascending, never
/// empty.
pub(crate) fn find_separator(first_out: &[u32], head: &[u32], x: &[f64], y: &[f64]) -> Vec<u32> {
    let mut separator = match reduce(first_out, head) {
        Reduction::Tree => vec![tree_centroid(first_out, head)],
        Reduction::Cycle(cycle) => vec![cycle[0], cycle[cycle.len() / 2]],
        Reduction::Graph(r) => {
            let back = back_arcs(&r.first_out, &r.head);
            let g = UGraph {
                first_out: &r.first_out,
                head: &r.head,
                back: &back,
            };
            let rx: Vec<f64> = r.rep.iter().map(|&v| x[v as usize]).collect();
            let ry: Vec<f64> = r.rep.iter().map(|&v| y[v as usize]).collect();
            match flow_separator(&g, &r.weight, &rx, &ry) {
                Some(cut) => cut.iter().map(|&c| r.rep[c as usize]).collect(),
                None => {
                    // Dense remainder: peel off the node of maximum degree.
                    let k = r.weight.len() as u32;
                    let v = (0..k)
                        .max_by_key(|&v| (g.neighbours(v).len(), v))
                        .unwrap_or(0);
                    vec![r.rep[v as usize]]
                }
            }
        }
    };
    separator.sort_unstable();
    separator.dedup();
    debug_assert!(!separator.is_empty());
    separator
}

/// The reduced graph of a piece.
struct Reduced {
    first_out: Vec<u32>,
    head: Vec<u32>,
    /// Number of original nodes each reduced node stands for.
    weight: Vec<u32>,
    /// Original node representing each reduced node.
    rep: Vec<u32>,
}

enum Reduction {
    /// The piece is a tree.
    Tree,
    /// The 2-core is a single cycle, given in cycle order.
    Cycle(Vec<u32>),
    /// Trees peeled, chains compressed.
    Graph(Reduced),
}

/// Peels hanging trees and compresses degree-2 chains.
fn reduce(first_out: &[u32], head: &[u32]) -> Reduction {
    let k = first_out.len() - 1;
    let nbrs = |v: usize| &head[first_out[v] as usize..first_out[v + 1] as usize];
    let mut deg: Vec<u32> = (0..k).map(|v| first_out[v + 1] - first_out[v]).collect();
    let mut weight = vec![1u32; k];
    let mut removed = vec![false; k];
    let mut queue: Vec<u32> = (0..k as u32).filter(|&v| deg[v as usize] <= 1).collect();
    while let Some(v) = queue.pop() {
        let v = v as usize;
        if removed[v] {
            continue;
        }
        removed[v] = true;
        for &u in nbrs(v) {
            let u = u as usize;
            if !removed[u] {
                weight[u] += weight[v];
                deg[u] -= 1;
                if deg[u] == 1 {
                    queue.push(u as u32);
                }
            }
        }
    }
    let Some(first_core) = (0..k).find(|&v| !removed[v]) else {
        return Reduction::Tree;
    };
    let is_branch = |v: usize| !removed[v] && deg[v] != 2;
    if !(0..k).any(is_branch) {
        // Connected 2-core without branch nodes: a simple cycle.
        let mut cycle = vec![first_core as u32];
        let mut prev = usize::MAX;
        let mut cur = first_core;
        loop {
            let next = nbrs(cur)
                .iter()
                .map(|&w| w as usize)
                .find(|&w| !removed[w] && w != prev);
            match next {
                Some(w) if w != first_core => {
                    cycle.push(w as u32);
                    prev = cur;
                    cur = w;
                }
                _ => break,
            }
        }
        return Reduction::Cycle(cycle);
    }

    let mut id = vec![u32::MAX; k];
    let mut r_weight = Vec::new();
    let mut rep = Vec::new();
    for v in 0..k {
        if is_branch(v) {
            id[v] = rep.len() as u32;
            rep.push(v as u32);
            r_weight.push(weight[v]);
        }
    }
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let mut chain = Vec::new();
    for u in 0..k {
        if !is_branch(u) {
            continue;
        }
        for &w in nbrs(u) {
            let w = w as usize;
            if removed[w] {
                continue;
            }
            if is_branch(w) {
                if u < w {
                    edges.push((id[u], id[w]));
                }
                continue;
            }
            if id[w] != u32::MAX {
                continue; // chain already walked from its other end
            }
            // Walk the chain u - w - ... - end.
            chain.clear();
            let (mut prev, mut cur) = (u, w);
            let end = loop {
                chain.push(cur as u32);
                let next = nbrs(cur)
                    .iter()
                    .map(|&z| z as usize)
                    .find(|&z| !removed[z] && z != prev)
                    .unwrap_or(u);
                if is_branch(next) {
                    break next;
                }
                prev = cur;
                cur = next;
            };
            let c = rep.len() as u32;
            for &v in &chain {
                id[v as usize] = c;
            }
            rep.push(chain[chain.len() / 2]);
            r_weight.push(chain.iter().map(|&v| weight[v as usize]).sum());
            edges.push((c, id[u]));
            if end != u {
                edges.push((c, id[end]));
            }
        }
    }

    // Symmetric CSR, sorted and deduplicated.
    let kr = rep.len();
    let mut first = vec![0u32; kr + 1];
    for &(a, b) in &edges {
        first[a as usize + 1] += 1;
        first[b as usize + 1] += 1;
    }
    for v in 0..kr {
        first[v + 1] += first[v];
    }
    let mut fill = first.clone();
    let mut adj = vec![0u32; first[kr] as usize];
    for &(a, b) in &edges {
        adj[fill[a as usize] as usize] = b;
        fill[a as usize] += 1;
        adj[fill[b as usize] as usize] = a;
        fill[b as usize] += 1;
    }
    let mut out_first = vec![0u32; kr + 1];
    let mut len = 0;
    for v in 0..kr {
        let (b, e) = (first[v] as usize, first[v + 1] as usize);
        adj[b..e].sort_unstable();
        for i in b..e {
            if i == b || adj[i] != adj[i - 1] {
                adj[len] = adj[i];
                len += 1;
            }
        }
        out_first[v + 1] = len as u32;
    }
    adj.truncate(len);
    Reduction::Graph(Reduced {
        first_out: out_first,
        head: adj,
        weight: r_weight,
        rep,
    })
}

/// A node whose removal leaves components of at most half the tree's size.
fn tree_centroid(first_out: &[u32], head: &[u32]) -> u32 {
    let k = first_out.len() - 1;
    let mut parent = vec![u32::MAX; k];
    let mut bfs = Vec::with_capacity(k);
    let mut seen = vec![false; k];
    bfs.push(0u32);
    seen[0] = true;
    let mut i = 0;
    while i < bfs.len() {
        let v = bfs[i] as usize;
        i += 1;
        for &w in &head[first_out[v] as usize..first_out[v + 1] as usize] {
            if !seen[w as usize] {
                seen[w as usize] = true;
                parent[w as usize] = v as u32;
                bfs.push(w);
            }
        }
    }
    let mut size = vec![1u32; k];
    let mut heaviest_child = vec![0u32; k];
    for &v in bfs.iter().rev() {
        let p = parent[v as usize];
        if p != u32::MAX {
            size[p as usize] += size[v as usize];
            heaviest_child[p as usize] = heaviest_child[p as usize].max(size[v as usize]);
        }
    }
    let total = bfs.len() as u32;
    bfs.iter()
        .copied()
        .find(|&v| {
            2 * heaviest_child[v as usize] <= total && 2 * (total - size[v as usize]) <= total
        })
        .unwrap_or(0)
}

/// Scratch memory shared by the four flow problems of one piece.
struct Scratch {
    level: Vec<u32>,
    cur: Vec<u32>,
    queue: Vec<u32>,
    stack: Vec<u32>,
    target_level: u32,
}

/// State of one of the four flow problems.
struct Cutter {
    role: Vec<u8>,
    /// Sources with a non-source neighbour: where every search starts.
    seeds: Vec<u32>,
    sat: Vec<bool>,
    flow: Vec<bool>,
    value: u32,
    finished: bool,
}

/// A minimum node separator together with the weight of its lighter side.
struct Cut {
    separator: Vec<u32>,
    lighter_side: u64,
}

impl Cutter {
    /// Sets up the problem for nodes sorted by their projection (`sorted`).
    fn new(g: &UGraph, weight: &[u32], total: u64, sorted: &[u32]) -> Self {
        let k = weight.len();
        let need = (total * SIDE_PERCENT / 100).max(1);
        let mut role = vec![NONE; k];
        let (mut acc, mut s_end) = (0u64, 0usize);
        while s_end < k && acc < need {
            role[sorted[s_end] as usize] = SOURCE;
            acc += u64::from(weight[sorted[s_end] as usize]);
            s_end += 1;
        }
        let (mut acc, mut t_begin) = (0u64, k);
        while t_begin > s_end && acc < need {
            t_begin -= 1;
            role[sorted[t_begin] as usize] = TARGET;
            acc += u64::from(weight[sorted[t_begin] as usize]);
        }
        // A sink next to a source would make the cut infinite: demote it.
        let mut targets = 0;
        for &t in &sorted[t_begin..] {
            if g.neighbours(t).iter().any(|&w| role[w as usize] == SOURCE) {
                role[t as usize] = NONE;
            } else {
                targets += 1;
            }
        }
        let seeds: Vec<u32> = sorted[..s_end]
            .iter()
            .copied()
            .filter(|&s| g.neighbours(s).iter().any(|&w| role[w as usize] != SOURCE))
            .collect();
        let valid = targets > 0 && !seeds.is_empty();
        Cutter {
            role,
            seeds,
            sat: vec![false; k],
            flow: vec![false; g.head.len()],
            value: if valid { 0 } else { u32::MAX },
            finished: !valid,
        }
    }

    /// Residual arc number `i` (in `0..=deg`) out of split node `x`.
    #[inline(always)]
    fn residual(&self, g: &UGraph, x: u32, i: u32) -> Option<u32> {
        let v = x >> 1;
        let (begin, end) = g.range(v);
        if x & 1 == 0 {
            // v_in: node arc, or cancel the flow some neighbour sends to v.
            if i == 0 {
                (!self.sat[v as usize]).then_some(x | 1)
            } else {
                let a = (begin + i - 1) as usize;
                self.flow[g.back[a] as usize].then(|| 2 * g.head[a] + 1)
            }
        } else if begin + i < end {
            // v_out: infinite capacity arc into a neighbour's in-node.
            Some(2 * g.head[(begin + i) as usize])
        } else {
            // v_out: cancel the flow over v's own node arc.
            self.sat[v as usize].then_some(x & !1)
        }
    }

    /// Residual arc number `i` (in `0..=deg`) *into* split node `x`, as its tail.
    #[inline(always)]
    fn residual_pred(&self, g: &UGraph, x: u32, i: u32) -> Option<u32> {
        let v = x >> 1;
        let (begin, end) = g.range(v);
        if x & 1 == 0 {
            if begin + i < end {
                Some(2 * g.head[(begin + i) as usize] + 1)
            } else {
                self.sat[v as usize].then_some(x | 1)
            }
        } else if i == 0 {
            (!self.sat[v as usize]).then_some(x & !1)
        } else {
            let a = (begin + i - 1) as usize;
            self.flow[a].then(|| 2 * g.head[a])
        }
    }

    /// Whether split node `x` is the in-node of a sink (reaching it = done).
    #[inline(always)]
    fn is_sink(&self, x: u32) -> bool {
        x & 1 == 0 && self.role[(x >> 1) as usize] == TARGET
    }

    /// Runs one Dinic phase; marks the cutter finished when the flow is maximum.
    fn advance(&mut self, g: &UGraph, s: &mut Scratch) {
        if self.finished {
            return;
        }
        if self.build_levels(g, s) {
            let pushed = self.blocking_flow(g, s);
            debug_assert!(pushed > 0);
            self.value += pushed;
        } else {
            self.finished = true;
        }
    }

    /// BFS in the residual graph from the source slab; returns whether a sink
    /// is reachable (its level is stored in `s.target_level`).
    fn build_levels(&self, g: &UGraph, s: &mut Scratch) -> bool {
        s.level.fill(UNSET);
        s.queue.clear();
        for (v, &r) in self.role.iter().enumerate() {
            if r == SOURCE {
                s.level[2 * v] = 0;
                s.level[2 * v + 1] = 0;
            }
        }
        s.queue.extend(self.seeds.iter().map(|&v| 2 * v + 1));
        let mut target_level = UNSET;
        let mut next = 0;
        while next < s.queue.len() {
            let x = s.queue[next];
            next += 1;
            let lx = s.level[x as usize];
            if lx >= target_level {
                break;
            }
            let (begin, end) = g.range(x >> 1);
            for i in 0..=(end - begin) {
                if let Some(y) = self.residual(g, x, i) {
                    if s.level[y as usize] == UNSET {
                        s.level[y as usize] = lx + 1;
                        s.queue.push(y);
                        if self.is_sink(y) {
                            target_level = target_level.min(lx + 1);
                        }
                    }
                }
            }
        }
        s.target_level = target_level;
        target_level != UNSET
    }

    /// Augments along level-graph paths until none is left (blocking flow);
    /// returns their number.
    fn blocking_flow(&mut self, g: &UGraph, s: &mut Scratch) -> u32 {
        s.cur.fill(0);
        let mut pushed = 0;
        for si in 0..self.seeds.len() {
            let x0 = 2 * self.seeds[si] + 1;
            s.stack.clear();
            s.stack.push(x0);
            while let Some(&x) = s.stack.last() {
                let lx = s.level[x as usize];
                if lx == UNSET {
                    break; // the seed itself became a dead end
                }
                if lx == s.target_level {
                    if self.is_sink(x) {
                        self.augment(g, &s.stack, &s.cur);
                        pushed += 1;
                        s.stack.truncate(1);
                        continue;
                    }
                } else {
                    let (begin, end) = g.range(x >> 1);
                    let deg = end - begin;
                    let mut found = None;
                    while s.cur[x as usize] <= deg {
                        if let Some(y) = self.residual(g, x, s.cur[x as usize]) {
                            if s.level[y as usize] == lx + 1 {
                                found = Some(y);
                                break;
                            }
                        }
                        s.cur[x as usize] += 1;
                    }
                    if let Some(y) = found {
                        s.stack.push(y);
                        continue;
                    }
                }
                // Dead end: retreat and never enter x again in this phase.
                s.level[x as usize] = UNSET;
                s.stack.pop();
                if let Some(&p) = s.stack.last() {
                    s.cur[p as usize] += 1;
                }
            }
        }
        pushed
    }

    /// Pushes one unit along the path `stack`, using the arcs chosen by `cur`.
    fn augment(&mut self, g: &UGraph, stack: &[u32], cur: &[u32]) {
        for &x in &stack[..stack.len() - 1] {
            let v = x >> 1;
            let (begin, end) = g.range(v);
            let i = cur[x as usize];
            if x & 1 == 0 {
                if i == 0 {
                    debug_assert!(!self.sat[v as usize]);
                    self.sat[v as usize] = true;
                } else {
                    let b = g.back[(begin + i - 1) as usize] as usize;
                    debug_assert!(self.flow[b]);
                    self.flow[b] = false;
                }
            } else if begin + i < end {
                let a = (begin + i) as usize;
                debug_assert!(!self.flow[a]);
                self.flow[a] = true;
            } else {
                debug_assert!(self.sat[v as usize]);
                self.sat[v as usize] = false;
            }
        }
    }

    /// The most balanced minimum separator of the (finished) maximum flow.
    fn balanced_cut(&self, g: &UGraph, weight: &[u32], total: u64) -> Cut {
        debug_assert!(self.finished && self.value != u32::MAX);
        let k = self.role.len();
        let w = |v: u32| u64::from(weight[v as usize]);
        let mut in_x = vec![false; 2 * k];
        let mut in_y = vec![false; 2 * k];
        let mut stack = Vec::new();
        let mut cand_x = Vec::new();
        let mut cand_y = Vec::new();
        let (mut count_x, mut count_y) = (0u64, 0u64);

        // Grows the source side: everything residual-reachable from `stack`.
        let grow_x =
            |stack: &mut Vec<u32>, in_x: &mut [bool], cand: &mut Vec<u32>, count: &mut u64| {
                while let Some(x) = stack.pop() {
                    if x & 1 == 0 && self.sat[(x >> 1) as usize] {
                        cand.push(x >> 1);
                    }
                    let (begin, end) = g.range(x >> 1);
                    for i in 0..=(end - begin) {
                        if let Some(y) = self.residual(g, x, i) {
                            if !in_x[y as usize] {
                                in_x[y as usize] = true;
                                if y & 1 == 1 {
                                    *count += w(y >> 1);
                                }
                                stack.push(y);
                            }
                        }
                    }
                }
            };
        // Grows the sink side: everything that reaches `stack` in the residual graph.
        let grow_y =
            |stack: &mut Vec<u32>, in_y: &mut [bool], cand: &mut Vec<u32>, count: &mut u64| {
                while let Some(x) = stack.pop() {
                    if x & 1 == 1 && self.sat[(x >> 1) as usize] {
                        cand.push(x >> 1);
                    }
                    let (begin, end) = g.range(x >> 1);
                    for i in 0..=(end - begin) {
                        if let Some(y) = self.residual_pred(g, x, i) {
                            if !in_y[y as usize] {
                                in_y[y as usize] = true;
                                if y & 1 == 0 {
                                    *count += w(y >> 1);
                                }
                                stack.push(y);
                            }
                        }
                    }
                }
            };

        for (v, &r) in self.role.iter().enumerate() {
            if r == SOURCE {
                in_x[2 * v] = true;
                in_x[2 * v + 1] = true;
                count_x += w(v as u32);
            } else if r == TARGET {
                in_y[2 * v] = true;
                in_y[2 * v + 1] = true;
                count_y += w(v as u32);
            }
        }
        stack.extend(self.seeds.iter().map(|&v| 2 * v + 1));
        grow_x(&mut stack, &mut in_x, &mut cand_x, &mut count_x);
        stack.extend(
            (0..k as u32)
                .filter(|&v| self.role[v as usize] == TARGET)
                .map(|v| 2 * v),
        );
        grow_y(&mut stack, &mut in_y, &mut cand_y, &mut count_y);

        loop {
            let grow_source_side = count_x <= count_y;
            let (cand, in_own, in_other) = if grow_source_side {
                (&mut cand_x, &in_x, &in_y)
            } else {
                (&mut cand_y, &in_y, &in_x)
            };
            // Source side pierces v_out (v_in inside), sink side v_in (v_out inside).
            let pierce = loop {
                match cand.pop() {
                    None => break None,
                    Some(v) => {
                        let (inside, outside) = if grow_source_side {
                            (2 * v as usize, 2 * v as usize + 1)
                        } else {
                            (2 * v as usize + 1, 2 * v as usize)
                        };
                        if in_own[inside] && !in_own[outside] && !in_other[outside] {
                            break Some(outside as u32);
                        }
                    }
                }
            };
            match pierce {
                Some(p) if grow_source_side => {
                    in_x[p as usize] = true;
                    count_x += w(p >> 1);
                    stack.push(p);
                    grow_x(&mut stack, &mut in_x, &mut cand_x, &mut count_x);
                }
                Some(p) => {
                    in_y[p as usize] = true;
                    count_y += w(p >> 1);
                    stack.push(p);
                    grow_y(&mut stack, &mut in_y, &mut cand_y, &mut count_y);
                }
                None => {
                    let (side, count) = if grow_source_side {
                        (&in_x, count_x)
                    } else {
                        (&in_y, count_y)
                    };
                    // Separator: nodes cut between their in- and out-copy.
                    let separator: Vec<u32> = (0..k as u32)
                        .filter(|&v| side[2 * v as usize] != side[2 * v as usize + 1])
                        .collect();
                    debug_assert_eq!(separator.len() as u32, self.value);
                    let sep_weight: u64 = separator.iter().map(|&v| w(v)).sum();
                    let rest = total.saturating_sub(count + sep_weight);
                    return Cut {
                        lighter_side: count.min(rest),
                        separator,
                    };
                }
            }
        }
    }
}

/// Inertial flow on a reduced graph; `None` if no direction gives a finite
/// cut (dense graphs). Returns reduced node ids.
fn flow_separator(g: &UGraph, weight: &[u32], x: &[f64], y: &[f64]) -> Option<Vec<u32>> {
    let k = weight.len();
    let total: u64 = weight.iter().map(|&w| u64::from(w)).sum();
    let diag = std::f64::consts::FRAC_1_SQRT_2;
    let mut sorted: Vec<u32> = (0..k as u32).collect();
    let mut keys = vec![0f64; k];
    let mut cutters: Vec<Cutter> = Vec::with_capacity(4);
    for (cx, cy) in [(1.0, 0.0), (diag, diag), (0.0, 1.0), (-diag, diag)] {
        for v in 0..k {
            keys[v] = cx * x[v] + cy * y[v];
        }
        // A total order: the result does not depend on the previous order.
        sorted.sort_unstable_by(|a, b| {
            keys[*a as usize]
                .total_cmp(&keys[*b as usize])
                .then(a.cmp(b))
        });
        cutters.push(Cutter::new(g, weight, total, &sorted));
    }

    let mut scratch = Scratch {
        level: vec![UNSET; 2 * k],
        cur: vec![0; 2 * k],
        queue: Vec::with_capacity(2 * k),
        stack: Vec::new(),
        target_level: UNSET,
    };

    // Lazily advance the cutter with the smallest flow until one is finished.
    let best = loop {
        let i = (0..cutters.len())
            .min_by_key(|&i| (cutters[i].value, i))
            .unwrap_or(0);
        if cutters[i].finished {
            break cutters[i].value;
        }
        cutters[i].advance(g, &mut scratch);
    };
    if best == u32::MAX {
        return None;
    }
    // Let the cutters tied with the best value finish, to compare balance.
    for c in cutters.iter_mut() {
        while !c.finished && c.value <= best {
            c.advance(g, &mut scratch);
        }
    }
    let mut chosen: Option<Cut> = None;
    for c in cutters.iter().filter(|c| c.finished && c.value == best) {
        let cut = c.balanced_cut(g, weight, total);
        if chosen
            .as_ref()
            .is_none_or(|b| cut.lighter_side > b.lighter_side)
        {
            chosen = Some(cut);
        }
    }
    chosen.map(|c| c.separator).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(k: usize, edges: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
        let mut adj = vec![Vec::new(); k];
        for &(a, b) in edges {
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
        let mut first = vec![0u32];
        let mut head = Vec::new();
        for l in &mut adj {
            l.sort_unstable();
            l.dedup();
            head.extend_from_slice(l);
            first.push(head.len() as u32);
        }
        (first, head)
    }

    #[test]
    fn tree_is_split_at_centroid() {
        // Path 0 - 1 - 2 - 3 - 4.
        let (f, h) = csr(5, &[(0, 1), (1, 2), (2, 3), (3, 4)]);
        assert_eq!(find_separator(&f, &h, &[0.0; 5], &[0.0; 5]), vec![2]);
    }

    #[test]
    fn cycle_is_split_in_two() {
        let (f, h) = csr(6, &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)]);
        let s = find_separator(&f, &h, &[0.0; 6], &[0.0; 6]);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn ladder_gets_two_node_separator() {
        // 2 × 10 ladder along x: a minimum separator has 2 nodes.
        let mut edges = Vec::new();
        for i in 0..10u32 {
            edges.push((i, i + 10));
            if i + 1 < 10 {
                edges.push((i, i + 1));
                edges.push((i + 10, i + 11));
            }
        }
        let (f, h) = csr(20, &edges);
        let x: Vec<f64> = (0..20).map(|v| f64::from(v % 10)).collect();
        let y: Vec<f64> = (0..20).map(|v| f64::from(v / 10)).collect();
        let s = find_separator(&f, &h, &x, &y);
        assert_eq!(s.len(), 2, "{s:?}");
        let cols: Vec<u32> = s.iter().map(|v| v % 10).collect();
        assert!(
            cols.iter().all(|&c| (2..=7).contains(&c)),
            "balanced: {s:?}"
        );
    }

    #[test]
    fn complete_graph_falls_back() {
        let mut edges = Vec::new();
        for a in 0..5u32 {
            for b in a + 1..5 {
                edges.push((a, b));
            }
        }
        let (f, h) = csr(5, &edges);
        let s = find_separator(&f, &h, &[0.0, 1.0, 2.0, 3.0, 4.0], &[0.0; 5]);
        assert!(!s.is_empty() && s.len() < 5);
    }
}
