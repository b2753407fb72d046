//! Many-to-one and one-to-many distances with cached search spaces (buckets).
//!
//! Bucket-based many-to-many (Knopp, Sanders, Schultes, Schulz, Wagner 2007)
//! on a CCH: the upward search space of every *source* (its elimination tree
//! ancestors with their tentative distances) is stored as bucket entries
//! `(slot, distance)` at the visited nodes. A target query then walks the
//! target's own ancestors backwards and scans the buckets there:
//! `dist(slot, target) = min over x of bucket(x, slot) + backward(x)`.
//! [`Buckets::targets`] is the mirror image (cached backward spaces of targets,
//! scanned by a forward walk from one source).
//!
//! This answers the dispatch question "which of N crews reaches this call
//! first" in the time of one elimination tree walk plus a tight scan over
//! contiguous per-node bucket vectors. Sources (crews) change individually:
//! [`Buckets::set`] only records the new points; the search space
//! is (re)computed lazily at the next query, which has the metric at hand.
//! Removal is eager and `O(search space · log)`, using per-slot bucket
//! positions and `swap_remove`.
//!
//! Buckets remember the [`version`](CchMetric::version) of the metric they
//! were built with; a query with a different metric rebuilds them all
//! automatically (or call [`Buckets::rebuild`] ahead of time).

use std::sync::Arc;

use super::metric::CchMetric;
use super::node_spaces::NodeSpaces;
use super::topology::CchTopology;
use super::walk_arcs::{ArcList, WalkArcs};
use super::{add, INF, INVALID};

/// Single-direction elimination tree walk over the ancestors of some points.
#[derive(Debug, Clone)]
pub(crate) struct EtreeWalk {
    dist: Vec<u32>,
    starts: Vec<u32>,
    seen: Vec<u32>,
}

impl EtreeWalk {
    pub(crate) fn new(n: usize) -> Self {
        EtreeWalk {
            dist: vec![INF; n],
            starts: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Walks the ancestors of `points` in ascending rank, relaxing the upward
    /// `arcs` (those of the upward weights: forward search, of the downward
    /// weights: backward search), and calls `visit(rank, distance)` for every
    /// settled node with a finite distance.
    pub(crate) fn run(
        &mut self,
        t: &CchTopology,
        arcs: &ArcList,
        points: &[(u32, u32)],
        mut visit: impl FnMut(u32, u32),
    ) {
        self.starts.clear();
        for &(v, offset) in points {
            if v as usize >= t.node_count() || offset == INF {
                continue;
            }
            let r = t.rank[v as usize];
            let d = &mut self.dist[r as usize];
            *d = (*d).min(offset);
            if !self.starts.contains(&r) {
                self.starts.push(r);
            }
        }
        t.ancestors_into(&mut self.starts, &mut self.seen);
        for i in 0..self.seen.len() {
            let x = self.seen[i];
            let d = self.dist[x as usize];
            if d == INF {
                continue;
            }
            visit(x, d);
            arcs.relax(x, d, &mut self.dist);
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

/// Reusable space of a pruned query ([`Buckets::best_distances`]), which also keeps its
/// last walk for `distance_via`.
#[derive(Debug, Clone, Default)]
pub struct BestScratch {
    /// Tentative distance per slot; all [`INF`] between queries.
    dist: Vec<u32>,
    /// The slots whose `dist` a query lowered.
    touched: Vec<u32>,
    /// The walk's settled `(rank, distance)`, ascending.
    log: Vec<(u32, u32)>,
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

/// Cached search spaces of many points in numbered *slots*, in one direction:
///
/// * of sources ([`Buckets::sources`]): forward spaces, for many-to-one queries ("which
///   crew reaches this call first"); a query's points are the target's
///   (`(input node, offset ms)`: time from that node to the target);
/// * of targets ([`Buckets::targets`]): backward spaces, for one-to-many queries ("which
///   hospital is closest for this crew"); a query's points are the source's (time from
///   the source to that node).
///
/// Queries return one distance per slot (`out[slot]`, [`INF`] for unused slots and
/// unreachable ones).
#[derive(Debug, Clone)]
pub struct Buckets {
    /// `true`: cached spaces are forward (upward weights), queries backward.
    pub(crate) forward: bool,
    buckets: Vec<Vec<Entry>>,
    /// A lower bound on the distances in each bucket (exact after a pruned query scanned
    /// it; removals may leave it lower than the true minimum, which stays a lower bound).
    bucket_min: Vec<u32>,
    slots: Vec<Slot>,
    dirty: Vec<u32>,
    /// Metric version the entries were computed with (0: none yet).
    version: u64,
    /// The arcs the walks relax, of that version.
    arcs: Arc<WalkArcs>,
    walk: EtreeWalk,
    /// The spaces of single nodes, of which a slot's space is merged.
    spaces: NodeSpaces,
    /// A new search space while it replaces the old one.
    fresh: Vec<(u32, u32)>,
    /// A slot's replaced `nodes` and `pos`, reused for the next replacement.
    spare: (Vec<u32>, Vec<u32>),
}

impl Buckets {
    /// Empty buckets of sources on `topology` (see [`Buckets`]).
    pub fn sources(topology: &CchTopology) -> Self {
        Buckets::new(topology, true)
    }

    /// Empty buckets of targets on `topology` (see [`Buckets`]).
    pub fn targets(topology: &CchTopology) -> Self {
        Buckets::new(topology, false)
    }

    fn new(t: &CchTopology, forward: bool) -> Self {
        Buckets {
            forward,
            buckets: vec![Vec::new(); t.node_count()],
            bucket_min: vec![INF; t.node_count()],
            slots: Vec::new(),
            dirty: Vec::new(),
            version: 0,
            arcs: Arc::default(),
            walk: EtreeWalk::new(t.node_count()),
            spaces: NodeSpaces::new(t.node_count(), NodeSpaces::DEFAULT_LIMIT),
            fresh: Vec::new(),
            spare: (Vec::new(), Vec::new()),
        }
    }

    /// Caches at most `limit` entries of single nodes' spaces (see [`NodeSpaces`]).
    #[cfg(test)]
    pub(crate) fn with_space_limit(mut self, limit: usize) -> Self {
        self.spaces = NodeSpaces::new(self.buckets.len(), limit);
        self
    }

    /// Number of nodes whose search space is cached.
    #[cfg(test)]
    pub(crate) fn cached_spaces(&self) -> usize {
        self.spaces.len()
    }

    /// Sets (inserts or replaces) the point in `slot` to `points` (`(input node, offset
    /// ms)`: from a source to that node, or from that node to a target). The search space
    /// is computed at the next query or refresh. Slots are dense indices: a query's output
    /// has `max slot + 1` entries.
    pub fn set(&mut self, slot: u32, points: &[(u32, u32)]) {
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

    /// Removes the point in `slot` (its distances become [`INF`]).
    pub fn remove(&mut self, slot: u32) {
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
            debug_assert_eq!(self.buckets[x as usize][p as usize].slot, slot);
            self.take_entry(x, p);
        }
        // Keep the allocations for the next insertion.
        let s = &mut self.slots[slot as usize];
        s.nodes = nodes;
        s.pos = pos;
        s.nodes.clear();
        s.pos.clear();
    }

    /// Computes the search space of `slot` (merged of its nodes' cached spaces) and stores
    /// it in place of the stored one (if any): entries at nodes in both are updated in place,
    /// so a point that moved a little (its search space mostly the same ancestors) costs
    /// little more than the merge.
    fn replace_entries(&mut self, t: &CchTopology, slot: u32) {
        debug_assert_eq!(
            self.arcs.version, self.version,
            "walk arcs of another metric"
        );
        let arcs = if self.forward {
            &self.arcs.up
        } else {
            &self.arcs.down
        };
        let mut fresh = std::mem::take(&mut self.fresh);
        self.spaces.space_of(
            t,
            arcs,
            &mut self.walk,
            &self.slots[slot as usize].points,
            &mut fresh,
        );
        let s = &mut self.slots[slot as usize];
        let old_nodes = std::mem::take(&mut s.nodes);
        let old_pos = std::mem::take(&mut s.pos);
        // The old lists' allocations are kept for the next replacement.
        let mut nodes = std::mem::take(&mut self.spare.0);
        let mut pos = std::mem::take(&mut self.spare.1);
        nodes.clear();
        pos.clear();
        nodes.reserve(fresh.len());
        pos.reserve(fresh.len());
        let (mut i, mut j) = (0, 0);
        while i < old_nodes.len() || j < fresh.len() {
            let old = old_nodes.get(i).copied().unwrap_or(INVALID);
            let (x, d) = fresh.get(j).copied().unwrap_or((INVALID, INF));
            if old < x {
                // Gone from the search space.
                self.take_entry(old, old_pos[i]);
                i += 1;
                continue;
            }
            let m = &mut self.bucket_min[x as usize];
            *m = (*m).min(d);
            let bucket = &mut self.buckets[x as usize];
            if old == x {
                bucket[old_pos[i] as usize].dist = d;
                pos.push(old_pos[i]);
                i += 1;
            } else {
                pos.push(bucket.len() as u32);
                bucket.push(Entry { slot, dist: d });
            }
            nodes.push(x);
            j += 1;
        }
        let s = &mut self.slots[slot as usize];
        s.nodes = nodes;
        s.pos = pos;
        self.spare = (old_nodes, old_pos);
        self.fresh = fresh;
    }

    /// Deletes the entry at `p` of the bucket at `x` (of a slot whose bookkeeping the caller
    /// holds), fixing the position of the entry moved into its place.
    fn take_entry(&mut self, x: u32, p: u32) {
        let bucket = &mut self.buckets[x as usize];
        bucket.swap_remove(p as usize);
        if let Some(moved) = bucket.get(p as usize) {
            let other = &mut self.slots[moved.slot as usize];
            match other.nodes.binary_search(&x) {
                Ok(j) => other.pos[j] = p,
                Err(_) => debug_assert!(false, "bucket entry without slot record"),
            }
        }
    }

    /// Whether the stored search spaces were built with another metric version.
    pub fn is_stale(&self, metric: &CchMetric) -> bool {
        self.version != metric.version()
    }

    /// Recomputes every search space with `metric` (after a customization).
    ///
    /// # Panics
    /// If the buckets, topology and metric do not belong together.
    pub fn rebuild(&mut self, t: &CchTopology, metric: &CchMetric) {
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
        self.arcs = Arc::clone(metric.walk_arcs(t));
        self.version = metric.version();
        self.spaces.clear();
        for b in &mut self.buckets {
            b.clear();
        }
        self.bucket_min.fill(INF);
        for s in &mut self.slots {
            s.nodes.clear();
            s.pos.clear();
            s.dirty = false;
        }
        self.dirty.clear();
        for slot in 0..self.slots.len() as u32 {
            self.replace_entries(t, slot);
        }
    }

    /// Applies pending changes now (rebuilding everything if `metric` changed), so the
    /// next query does not pay for them.
    pub fn refresh(&mut self, t: &CchTopology, metric: &CchMetric) {
        if self.is_stale(metric) {
            self.rebuild(t, metric);
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        for &slot in &dirty {
            self.slots[slot as usize].dirty = false;
            self.replace_entries(t, slot);
        }
        self.dirty = dirty;
        self.dirty.clear();
    }

    /// Distances between every slot and the best of `points` (the other end of the
    /// query) into `out` (resized to the number of slots). Pending changes are applied
    /// first; a different metric rebuilds every search space.
    ///
    /// # Panics
    /// If the buckets, topology and metric do not belong together.
    pub fn distances(
        &mut self,
        t: &CchTopology,
        metric: &CchMetric,
        points: &[(u32, u32)],
        out: &mut Vec<u32>,
    ) {
        self.refresh(t, metric);
        out.clear();
        out.resize(self.slots.len(), INF);
        let arcs = if self.forward {
            &self.arcs.down
        } else {
            &self.arcs.up
        };
        let buckets = &self.buckets;
        self.walk.run(t, arcs, points, |x, d| {
            for entry in &buckets[x as usize] {
                let c = add(entry.dist, d);
                let o = &mut out[entry.slot as usize];
                if c < *o {
                    *o = c;
                }
            }
        });
    }

    /// The `k` smallest distances among the slots `admit` accepts, exactly, without
    /// scanning the buckets that cannot hold one of them; into `found` as `(slot,
    /// distance)`, ascending by slot.
    ///
    /// `known` are distances known before the walk (along the same road). The walk keeps
    /// the `k` best admitted slots found so far; their `k`-th distance `T` only falls, and
    /// bounds the final `k`-th from above. A bucket at `x` whose smallest entry plus the
    /// walk's distance to `x` exceeds `T` is skipped: every slot it could improve ends
    /// above the final `k`-th. So every slot whose distance is at most the final `k`-th
    /// ends exact (ties included), and exactly those admitted slots are `found`. The work
    /// is the walk and the buckets scanned, whatever the number of slots.
    /// `scratch` keeps the walk for [`Buckets::distance_via`].
    ///
    /// # Panics
    /// If the buckets, topology and metric do not belong together.
    #[allow(clippy::too_many_arguments)]
    pub fn best_distances(
        &mut self,
        t: &CchTopology,
        metric: &CchMetric,
        points: &[(u32, u32)],
        k: usize,
        admit: impl Fn(u32) -> bool,
        known: &[(u32, u32)],
        scratch: &mut BestScratch,
        found: &mut Vec<(u32, u32)>,
    ) {
        self.refresh(t, metric);
        found.clear();
        let arcs = if self.forward {
            &self.arcs.down
        } else {
            &self.arcs.up
        };
        let BestScratch { dist, touched, log } = scratch;
        if dist.len() < self.slots.len() {
            dist.resize(self.slots.len(), INF);
        }
        // The k best admitted slots so far, ascending by distance.
        let mut best: Vec<(u32, u32)> = Vec::with_capacity(k + 1);
        let offer = |best: &mut Vec<(u32, u32)>, slot: u32, c: u32| {
            if let Some(i) = best.iter().position(|&(_, s)| s == slot) {
                if c < best[i].0 {
                    best[i].0 = c;
                    best.sort_unstable();
                }
            } else if best.len() < k {
                best.push((c, slot));
                best.sort_unstable();
            } else if best.last().is_some_and(|&(d, _)| c < d) {
                best.pop();
                best.push((c, slot));
                best.sort_unstable();
            }
        };
        // With k = 0 nothing is wanted from the buckets (only the walk, for `log`).
        let threshold = |best: &Vec<(u32, u32)>| {
            if k == 0 {
                0
            } else if best.len() < k {
                INF
            } else {
                best[k - 1].0
            }
        };
        for &(slot, c) in known {
            let Some(o) = dist.get_mut(slot as usize) else {
                continue;
            };
            if c < *o {
                if *o == INF {
                    touched.push(slot);
                }
                *o = c;
                if admit(slot) {
                    offer(&mut best, slot, c);
                }
            }
        }
        log.clear();
        let buckets = &self.buckets;
        let bucket_min = &mut self.bucket_min;
        self.walk.run(t, arcs, points, |x, d| {
            log.push((x, d));
            let m = &mut bucket_min[x as usize];
            let limit = threshold(&best);
            if limit != INF && add(*m, d) > limit {
                return;
            }
            let mut min = INF;
            for entry in &buckets[x as usize] {
                min = min.min(entry.dist);
                let c = add(entry.dist, d);
                let o = &mut dist[entry.slot as usize];
                if c < *o {
                    if *o == INF {
                        touched.push(entry.slot);
                    }
                    *o = c;
                    if c <= threshold(&best) && admit(entry.slot) {
                        offer(&mut best, entry.slot, c);
                    }
                }
            }
            *m = min;
        });
        let kth = (k > 0).then(|| threshold(&best));
        for &slot in touched.iter() {
            let c = std::mem::replace(&mut dist[slot as usize], INF);
            if c != INF && kth.is_some_and(|t| c <= t) && admit(slot) {
                found.push((slot, c));
            }
        }
        touched.clear();
        found.sort_unstable();
    }

    /// The exact bucket distance of one slot through the walk of the last
    /// [`Buckets::best_distances`] (kept in `scratch`).
    pub fn distance_via(&self, slot: u32, scratch: &BestScratch) -> u32 {
        let Some(s) = self.slots.get(slot as usize) else {
            return INF;
        };
        let log = &scratch.log;
        let mut best = INF;
        let mut j = 0;
        for (&x, &p) in s.nodes.iter().zip(&s.pos) {
            while j < log.len() && log[j].0 < x {
                j += 1;
            }
            if j == log.len() {
                break;
            }
            if log[j].0 == x {
                best = best.min(add(self.buckets[x as usize][p as usize].dist, log[j].1));
            }
        }
        best
    }

    /// Number of slots (`max slot ever set + 1`).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Total number of stored bucket entries.
    pub fn entry_count(&self) -> usize {
        self.slots.iter().map(|s| s.nodes.len()).sum()
    }
}
