//! [`EtaIndex`]: cached travel times between many moving points (crews, hospitals) and one
//! point per query, over bucket search spaces ([`crate::cch::many`]) kept between queries.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::{LiveMetric, Router};
use crate::cch::{BestScratch, Buckets, INF};
use crate::snap::Snapped;

/// Cached ETAs between many moving points and one point at a time, in either direction:
/// crews to a call ([`EtaIndex::many_to_one`]) or a crew to hospitals
/// ([`EtaIndex::one_to_many`]). Each point's upward search space is kept between queries and
/// recomputed only when that point moves or the weights change.
#[derive(Debug)]
pub struct EtaIndex {
    /// Forward (the points are sources: many-to-one) or backward (targets: one-to-many).
    buckets: Buckets,
    points: Vec<Option<Snapped>>,
    version: u64,
    out: Vec<u32>,
    /// Space of [`EtaIndex::best_etas`].
    scratch: BestScratch,
    /// The slots on each segment (for the direct times along one road).
    on_segment: HashMap<u32, Vec<u32>, FixedState>,
}

impl EtaIndex {
    /// Many sources (crews), one target per query (the call).
    pub fn many_to_one(router: &Router) -> EtaIndex {
        Self::with(router, Buckets::sources(&router.topology))
    }

    /// One source per query (a crew), many targets (hospitals).
    pub fn one_to_many(router: &Router) -> EtaIndex {
        Self::with(router, Buckets::targets(&router.topology))
    }

    fn with(router: &Router, buckets: Buckets) -> EtaIndex {
        EtaIndex {
            buckets,
            points: Vec::new(),
            version: router.live().version,
            out: Vec::new(),
            scratch: BestScratch::default(),
            on_segment: HashMap::default(),
        }
    }

    fn load(&mut self, router: &Router, live: &LiveMetric, slot: u32) {
        let Some(p) = self.points[slot as usize] else {
            return;
        };
        let pts = router.search_points(live, &p, self.buckets.forward);
        self.buckets.set(slot, &pts);
    }

    /// Puts (or moves) the point in `slot`.
    pub fn set(&mut self, router: &Router, slot: u32, at: Snapped) {
        if self.points.len() <= slot as usize {
            self.points.resize(slot as usize + 1, None);
        }
        self.unlist(slot);
        self.on_segment.entry(at.segment).or_default().push(slot);
        self.points[slot as usize] = Some(at);
        let live = router.live();
        if live.version == self.version {
            self.load(router, &live, slot);
        }
    }

    /// Removes the point in `slot`.
    pub fn remove(&mut self, slot: u32) {
        self.unlist(slot);
        if let Some(p) = self.points.get_mut(slot as usize) {
            *p = None;
            self.buckets.remove(slot);
        }
    }

    /// Takes `slot` off the list of its segment.
    fn unlist(&mut self, slot: u32) {
        let Some(p) = self.get(slot) else {
            return;
        };
        if let Some(list) = self.on_segment.get_mut(&p.segment) {
            list.retain(|&s| s != slot);
            if list.is_empty() {
                self.on_segment.remove(&p.segment);
            }
        }
    }

    /// The point in `slot`.
    pub fn get(&self, slot: u32) -> Option<Snapped> {
        self.points.get(slot as usize).copied().flatten()
    }

    /// Travel time (ms) between every slot and `other` (to it for many-to-one, from it for
    /// one-to-many); `None` for empty slots and unreachable pairs. Indexed by slot.
    pub fn etas(&mut self, router: &Router, other: &Snapped) -> Vec<Option<u32>> {
        let live = router.live();
        let pts = self.prepare(router, &live, other);
        self.buckets
            .distances(&router.topology, &live.metric, &pts, &mut self.out);
        self.points
            .iter()
            .enumerate()
            .map(|(slot, p)| {
                let p = p.as_ref()?;
                let via = self.out.get(slot).copied().unwrap_or(INF);
                let d = via.min(self.direct(router, &live, p, other));
                (d != INF).then_some(d)
            })
            .collect()
    }

    /// Reloads every point after a change of weights; the search points of `other`.
    fn prepare(&mut self, router: &Router, live: &LiveMetric, other: &Snapped) -> Vec<(u32, u32)> {
        if live.version != self.version {
            self.version = live.version;
            for slot in 0..self.points.len() as u32 {
                self.load(router, live, slot);
            }
        }
        router.search_points(live, other, !self.buckets.forward)
    }

    /// The travel time on the same road between the point in `slot` and `other`.
    fn direct(&self, router: &Router, live: &LiveMetric, p: &Snapped, other: &Snapped) -> u32 {
        let d = if self.buckets.forward {
            router.direct(live, p, other)
        } else {
            router.direct(live, other, p)
        };
        d.map_or(INF, |(d, _)| d)
    }

    /// The same travel times as [`EtaIndex::etas`] for the `k` best slots that `admit`
    /// accepts (ties at the `k`-th included) and for the slots in `also`, as `(slot, time)`
    /// ascending by slot; no other slot is listed. Buckets that cannot hold one of the `k`
    /// best are not scanned and nothing is done per indexed point, so the cost does not
    /// grow with the number of points the way [`EtaIndex::etas`] does.
    pub fn best_etas(
        &mut self,
        router: &Router,
        other: &Snapped,
        k: usize,
        admit: impl Fn(u32) -> bool,
        also: &[u32],
    ) -> Vec<(u32, u32)> {
        let live = router.live();
        let pts = self.prepare(router, &live, other);
        // Points on the same road as `other` may reach it directly.
        let known: Vec<(u32, u32)> = self
            .on_segment
            .get(&other.segment)
            .into_iter()
            .flatten()
            .filter_map(|&slot| {
                let p = self.get(slot)?;
                let d = self.direct(router, &live, &p, other);
                (d != INF).then_some((slot, d))
            })
            .collect();
        let mut found = Vec::new();
        self.buckets.best_distances(
            &router.topology,
            &live.metric,
            &pts,
            k,
            admit,
            &known,
            &mut self.scratch,
            &mut found,
        );
        for &slot in also {
            let Err(i) = found.binary_search_by_key(&slot, |&(s, _)| s) else {
                continue;
            };
            let Some(p) = self.get(slot) else {
                continue;
            };
            let via = self.buckets.distance_via(slot, &self.scratch);
            let d = via.min(self.direct(router, &live, &p, other));
            if d != INF {
                found.insert(i, (slot, d));
            }
        }
        found
    }
}
