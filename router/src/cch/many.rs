//! Many-to-one and one-to-many distances with cached search spaces (buckets).
//!
//! Bucket-based many-to-many (Knopp, Sanders, Schultes, Schulz, Wagner 2007)
//! on a CCH: the upward search space of every *source* (its elimination tree
//! ancestors with their tentative distances) is stored as bucket entries
//! `(slot, distance)` at the visited nodes. A target query then walks the
//! target's own ancestors backwards and scans the buckets there:
//! `dist(slot, target) = min over x of bucket(x, slot) + backward(x)`.
//! [`TargetBuckets`] is the mirror image (cached backward spaces of targets,
//! scanned by a forward walk from one source).
//!
//! This answers the dispatch question "which of N crews reaches this call
//! first" in the time of one elimination tree walk plus a tight scan over
//! contiguous per-node bucket vectors. Sources (crews) change individually:
//! [`SourceBuckets::set_source`] only records the new points; the search space
//! is (re)computed lazily at the next query, which has the metric at hand.
//! Removal is eager and `O(search space · log)`, using per-slot bucket
//! positions and `swap_remove`.
//!
//! Buckets remember the [`version`](CchMetric::version) of the metric they
//! were built with; a query with a different metric rebuilds them all
//! automatically (or call [`SourceBuckets::rebuild`] ahead of time).

use super::metric::CchMetric;
use super::topology::CchTopology;
use super::{add, INF, INVALID};

/// Single-direction elimination tree walk over the ancestors of some points.
#[derive(Debug, Clone)]
pub(crate) struct EtreeWalk {
    dist: Vec<u32>,
    front: Vec<u32>,
    seen: Vec<u32>,
}

impl EtreeWalk {
    pub(crate) fn new(n: usize) -> Self {
        EtreeWalk {
            dist: vec![INF; n],
            front: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Walks the ancestors of `points` in ascending rank, relaxing upward
    /// edges with `weights` (upward weights: forward search, downward weights:
    /// backward search), and calls `visit(rank, distance)` for every settled
    /// node with a finite distance.
    pub(crate) fn run(
        &mut self,
        t: &CchTopology,
        weights: &[u32],
        points: &[(u32, u32)],
        mut visit: impl FnMut(u32, u32),
    ) {
        self.front.clear();
        for &(v, offset) in points {
            if v as usize >= t.node_count() || offset == INF {
                continue;
            }
            let r = t.rank[v as usize];
            let d = &mut self.dist[r as usize];
            *d = (*d).min(offset);
            if !self.front.contains(&r) {
                self.front.push(r);
            }
        }
        loop {
            let x = match self.front.len() {
                0 => break,
                1 => self.front[0],
                _ => self.front.iter().copied().min().unwrap_or(INVALID),
            };
            if let Some(i) = self.front.iter().position(|&f| f == x) {
                self.front.swap_remove(i);
            }
            let p = t.parent[x as usize];
            if p != INVALID && !self.front.contains(&p) {
                self.front.push(p);
            }
            self.seen.push(x);
            let d = self.dist[x as usize];
            if d == INF {
                continue;
            }
            visit(x, d);
            let (b, e) = (
                t.up_first[x as usize] as usize,
                t.up_first[x as usize + 1] as usize,
            );
            for (&y, &w) in t.up_head[b..e].iter().zip(&weights[b..e]) {
                let c = add(d, w);
                let dy = &mut self.dist[y as usize];
                if c < *dy {
                    *dy = c;
                }
            }
        }
        for &x in &self.seen {
            self.dist[x as usize] = INF;
        }
        self.seen.clear();
    }
}

/// One cached search space entry: `dist` from/to the slot's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    slot: u32,
    dist: u32,
}

/// Per-slot bookkeeping.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// Current points (node, offset); empty when the slot is unused.
    points: Vec<(u32, u32)>,
    /// Whether `points` changed since the search space was stored.
    dirty: bool,
    /// Ranks holding an entry of this slot (ascending) ...
    nodes: Vec<u32>,
    /// ... and the entry's index in that node's bucket.
    pos: Vec<u32>,
}

/// Direction-agnostic bucket store.
#[derive(Debug, Clone)]
struct Buckets {
    /// `true`: cached spaces are forward (upward weights), queries backward.
    forward: bool,
    buckets: Vec<Vec<Entry>>,
    slots: Vec<Slot>,
    dirty: Vec<u32>,
    /// Metric version the entries were computed with (0: none yet).
    version: u64,
    walk: EtreeWalk,
}

impl Buckets {
    fn new(t: &CchTopology, forward: bool) -> Self {
        Buckets {
            forward,
            buckets: vec![Vec::new(); t.node_count()],
            slots: Vec::new(),
            dirty: Vec::new(),
            version: 0,
            walk: EtreeWalk::new(t.node_count()),
        }
    }

    fn set(&mut self, slot: u32, points: &[(u32, u32)]) {
        let i = slot as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, Slot::default);
        }
        let s = &mut self.slots[i];
        s.points.clear();
        s.points.extend_from_slice(points);
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(slot);
        }
    }

    fn remove(&mut self, slot: u32) {
        let i = slot as usize;
        if i >= self.slots.len() {
            return;
        }
        self.remove_entries(slot);
        self.slots[i].points.clear();
        // A pending dirty flag is harmless: an empty slot stores nothing.
    }

    /// Deletes the stored entries of `slot` from the buckets.
    fn remove_entries(&mut self, slot: u32) {
        let nodes = std::mem::take(&mut self.slots[slot as usize].nodes);
        let pos = std::mem::take(&mut self.slots[slot as usize].pos);
        for (&x, &p) in nodes.iter().zip(&pos) {
            let bucket = &mut self.buckets[x as usize];
            debug_assert_eq!(bucket[p as usize].slot, slot);
            bucket.swap_remove(p as usize);
            if let Some(moved) = bucket.get(p as usize) {
                let other = &mut self.slots[moved.slot as usize];
                match other.nodes.binary_search(&x) {
                    Ok(j) => other.pos[j] = p,
                    Err(_) => debug_assert!(false, "bucket entry without slot record"),
                }
            }
        }
        // Keep the allocations for the next insertion.
        let s = &mut self.slots[slot as usize];
        s.nodes = nodes;
        s.pos = pos;
        s.nodes.clear();
        s.pos.clear();
    }

    /// Computes and stores the search space of `slot`.
    fn insert_entries(&mut self, t: &CchTopology, metric: &CchMetric, slot: u32) {
        let weights = if self.forward {
            &metric.up_weight
        } else {
            &metric.down_weight
        };
        let s = &mut self.slots[slot as usize];
        debug_assert!(s.nodes.is_empty());
        let buckets = &mut self.buckets;
        self.walk.run(t, weights, &s.points, |x, d| {
            let bucket = &mut buckets[x as usize];
            s.nodes.push(x);
            s.pos.push(bucket.len() as u32);
            bucket.push(Entry { slot, dist: d });
        });
    }

    fn is_stale(&self, metric: &CchMetric) -> bool {
        self.version != metric.version()
    }

    fn rebuild(&mut self, t: &CchTopology, metric: &CchMetric) {
        assert_eq!(
            self.buckets.len(),
            t.node_count(),
            "buckets of another topology"
        );
        assert_eq!(
            metric.up_weight.len(),
            t.edge_count(),
            "metric of another topology"
        );
        for b in &mut self.buckets {
            b.clear();
        }
        for s in &mut self.slots {
            s.nodes.clear();
            s.pos.clear();
            s.dirty = false;
        }
        self.dirty.clear();
        for slot in 0..self.slots.len() as u32 {
            self.insert_entries(t, metric, slot);
        }
        self.version = metric.version();
    }

    fn refresh(&mut self, t: &CchTopology, metric: &CchMetric) {
        if self.is_stale(metric) {
            self.rebuild(t, metric);
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        for &slot in &dirty {
            self.slots[slot as usize].dirty = false;
            self.remove_entries(slot);
            self.insert_entries(t, metric, slot);
        }
        self.dirty = dirty;
        self.dirty.clear();
    }

    fn query(
        &mut self,
        t: &CchTopology,
        metric: &CchMetric,
        points: &[(u32, u32)],
        out: &mut Vec<u32>,
    ) {
        self.refresh(t, metric);
        out.clear();
        out.resize(self.slots.len(), INF);
        let weights = if self.forward {
            &metric.down_weight
        } else {
            &metric.up_weight
        };
        let buckets = &self.buckets;
        self.walk.run(t, weights, points, |x, d| {
            for entry in &buckets[x as usize] {
                let c = add(entry.dist, d);
                let o = &mut out[entry.slot as usize];
                if c < *o {
                    *o = c;
                }
            }
        });
    }

    fn entry_count(&self) -> usize {
        self.slots.iter().map(|s| s.nodes.len()).sum()
    }
}

/// Cached forward search spaces of many sources, for many-to-one queries
/// ("which crew reaches this call first").
///
/// Sources live in numbered *slots*; `distances_to` returns one distance per
/// slot (`out[slot]`, [`INF`] for unused slots and unreachable targets).
#[derive(Debug, Clone)]
pub struct SourceBuckets(Buckets);

impl SourceBuckets {
    /// Creates empty buckets for `topology`.
    pub fn new(topology: &CchTopology) -> Self {
        SourceBuckets(Buckets::new(topology, true))
    }

    /// Sets (inserts or replaces) the source in `slot` to `points`
    /// (`(input node, offset ms)`: time from the source to that node). The
    /// search space is computed at the next query or refresh. Slots are dense
    /// indices: the output of queries has `max slot + 1` entries.
    pub fn set_source(&mut self, slot: u32, points: &[(u32, u32)]) {
        self.0.set(slot, points);
    }

    /// Removes the source in `slot` (its distances become [`INF`]).
    pub fn remove_source(&mut self, slot: u32) {
        self.0.remove(slot);
    }

    /// Distances from every source slot to the best of `targets`
    /// (`(input node, offset ms)`: time from that node to the target) into
    /// `out` (resized to the number of slots). Pending source changes are
    /// applied first; if `metric` is not the one the buckets were built with,
    /// all search spaces are rebuilt.
    ///
    /// # Panics
    /// If the buckets, topology and metric do not belong together.
    pub fn distances_to(
        &mut self,
        topology: &CchTopology,
        metric: &CchMetric,
        targets: &[(u32, u32)],
        out: &mut Vec<u32>,
    ) {
        self.0.query(topology, metric, targets, out);
    }

    /// Recomputes every search space with `metric` (after a customization).
    pub fn rebuild(&mut self, topology: &CchTopology, metric: &CchMetric) {
        self.0.rebuild(topology, metric);
    }

    /// Applies pending source changes now (rebuilding everything if `metric`
    /// changed), so the next query does not pay for them.
    pub fn refresh(&mut self, topology: &CchTopology, metric: &CchMetric) {
        self.0.refresh(topology, metric);
    }

    /// Whether the stored search spaces were built with another metric version.
    pub fn is_stale(&self, metric: &CchMetric) -> bool {
        self.0.is_stale(metric)
    }

    /// Number of slots (`max slot ever set + 1`).
    pub fn slot_count(&self) -> usize {
        self.0.slots.len()
    }

    /// Total number of stored bucket entries.
    pub fn entry_count(&self) -> usize {
        self.0.entry_count()
    }
}

/// Cached backward search spaces of many targets, for one-to-many queries
/// ("which hospital is closest for this crew").
///
/// Targets live in numbered *slots*; `distances_from` returns one distance
/// per slot (`out[slot]`, [`INF`] for unused slots and unreachable targets).
#[derive(Debug, Clone)]
pub struct TargetBuckets(Buckets);

impl TargetBuckets {
    /// Creates empty buckets for `topology`.
    pub fn new(topology: &CchTopology) -> Self {
        TargetBuckets(Buckets::new(topology, false))
    }

    /// Sets (inserts or replaces) the target in `slot` to `points`
    /// (`(input node, offset ms)`: time from that node to the target). The
    /// search space is computed at the next query or refresh.
    pub fn set_target(&mut self, slot: u32, points: &[(u32, u32)]) {
        self.0.set(slot, points);
    }

    /// Removes the target in `slot` (its distances become [`INF`]).
    pub fn remove_target(&mut self, slot: u32) {
        self.0.remove(slot);
    }

    /// Distances from the best of `sources` (`(input node, offset ms)`: time
    /// from the source to that node) to every target slot into `out`
    /// (resized to the number of slots). Pending changes are applied first;
    /// a different metric triggers a full rebuild.
    ///
    /// # Panics
    /// If the buckets, topology and metric do not belong together.
    pub fn distances_from(
        &mut self,
        topology: &CchTopology,
        metric: &CchMetric,
        sources: &[(u32, u32)],
        out: &mut Vec<u32>,
    ) {
        self.0.query(topology, metric, sources, out);
    }

    /// Recomputes every search space with `metric` (after a customization).
    pub fn rebuild(&mut self, topology: &CchTopology, metric: &CchMetric) {
        self.0.rebuild(topology, metric);
    }

    /// Applies pending target changes now (rebuilding everything if `metric`
    /// changed).
    pub fn refresh(&mut self, topology: &CchTopology, metric: &CchMetric) {
        self.0.refresh(topology, metric);
    }

    /// Whether the stored search spaces were built with another metric version.
    pub fn is_stale(&self, metric: &CchMetric) -> bool {
        self.0.is_stale(metric)
    }

    /// Number of slots (`max slot ever set + 1`).
    pub fn slot_count(&self) -> usize {
        self.0.slots.len()
    }

    /// Total number of stored bucket entries.
    pub fn entry_count(&self) -> usize {
        self.0.entry_count()
    }
}
