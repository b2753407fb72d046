//! Where searches start and end: the nodes around a snapped point with the time to or from
//! it (through closed roads, at their normal time, to the nearest open road), and the drive
//! along one road between two points on it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Entry, LiveMetric, Router};
use crate::cch::{self, INF};
use crate::snap::Snapped;

impl Router {
    /// Time (ms) of a part of an arc's segment: closed arcs keep their normal time here,
    /// since a point on a closed road must stay reachable.
    pub(super) fn partial(&self, live: &LiveMetric, arc: u32, share: f64) -> u32 {
        let w = live.weights[arc as usize];
        let w = if w == INF {
            self.base_weights[arc as usize]
        } else {
            w
        };
        (f64::from(w) * share.clamp(0.0, 1.0)).round() as u32
    }

    pub(super) fn full_time(&self, live: &LiveMetric, arc: u32) -> u32 {
        let w = live.weights[arc as usize];
        if w == INF {
            self.base_weights[arc as usize]
        } else {
            w
        }
    }

    /// Entries from which a search leaves a snapped point (`forward`) or reaches it.
    pub(super) fn entries(&self, live: &LiveMetric, p: &Snapped, forward: bool) -> Vec<Entry> {
        let g = &self.graph;
        let mut entries = Vec::with_capacity(4);
        for &a in self.segment_arcs(p.segment) {
            let (_, reversed) = g.arc_segment(a);
            // Share of the arc from the point to the arc's head.
            let ahead = if reversed {
                p.fraction
            } else {
                1.0 - p.fraction
            };
            let (node, share) = if forward {
                (g.arc_head[a as usize], ahead)
            } else {
                (self.arc_tail[a as usize], 1.0 - ahead)
            };
            entries.push(Entry {
                node,
                dist: self.partial(live, a, share),
                arc: a,
                next: u32::MAX,
            });
        }
        self.expand_through_closed(live, &mut entries, forward);
        entries
    }

    /// Dijkstra from the entries through closed arcs only (at their normal time), so that a
    /// point inside a closed area connects to the open roads around it.
    pub(super) fn expand_through_closed(
        &self,
        live: &LiveMetric,
        entries: &mut Vec<Entry>,
        forward: bool,
    ) {
        if live.closed_arcs == 0 {
            return;
        }
        let g = &self.graph;
        let has_closed = |v: u32| {
            if forward {
                g.out_arcs(v).any(|a| live.weights[a as usize] == INF)
            } else {
                self.incoming(v)
                    .iter()
                    .any(|&a| live.weights[a as usize] == INF)
            }
        };
        if !entries.iter().any(|e| has_closed(e.node)) {
            return;
        }
        let mut best: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
        let mut heap = BinaryHeap::new();
        for (i, e) in entries.iter().enumerate() {
            let keep = best.get(&e.node).is_none_or(|&j| entries[j].dist > e.dist);
            if keep {
                best.insert(e.node, i);
                heap.push(Reverse((e.dist, i)));
            }
        }
        let mut settled = 0usize;
        while let Some(Reverse((d, i))) = heap.pop() {
            let v = entries[i].node;
            if best.get(&v) != Some(&i) {
                continue;
            }
            settled += 1;
            if settled > self.options.max_closed_expansion {
                break;
            }
            let arcs: Vec<u32> = if forward {
                g.out_arcs(v).collect()
            } else {
                self.incoming(v).to_vec()
            };
            for a in arcs {
                if live.weights[a as usize] != INF || self.base_weights[a as usize] == INF {
                    continue;
                }
                let u = if forward {
                    g.arc_head[a as usize]
                } else {
                    self.arc_tail[a as usize]
                };
                let nd = cch::add(d, self.base_weights[a as usize]);
                if best.get(&u).is_none_or(|&j| entries[j].dist > nd) {
                    best.insert(u, entries.len());
                    heap.push(Reverse((nd, entries.len())));
                    entries.push(Entry {
                        node: u,
                        dist: nd,
                        arc: a,
                        next: i as u32,
                    });
                }
            }
        }
    }

    pub(super) fn incoming(&self, v: u32) -> &[u32] {
        &self.in_arcs[self.in_first[v as usize] as usize..self.in_first[v as usize + 1] as usize]
    }

    /// Travel time on the same segment, when the target lies ahead of the source in a
    /// drivable direction: `(time, arc)`.
    pub(super) fn direct(&self, live: &LiveMetric, s: &Snapped, t: &Snapped) -> Option<(u32, u32)> {
        if s.segment != t.segment {
            return None;
        }
        self.segment_arcs(s.segment)
            .iter()
            .filter_map(|&a| {
                let reversed = self.graph.arc_segment(a).1;
                let share = if reversed {
                    s.fraction - t.fraction
                } else {
                    t.fraction - s.fraction
                };
                (share >= 0.0).then(|| (self.partial(live, a, share), a))
            })
            .min()
    }

    /// The search points `(node, time)` of a snapped position under `live`: where a search
    /// from it (`forward`) or to it starts, as the CCH queries and buckets take them.
    pub(super) fn search_points(
        &self,
        live: &LiveMetric,
        p: &Snapped,
        forward: bool,
    ) -> Vec<(u32, u32)> {
        self.entries(live, p, forward)
            .iter()
            .map(|e| (e.node, e.dist))
            .collect()
    }

    /// Source points of a snapped position for [`crate::cch::Buckets::sources`]-style callers.
    pub fn source_points(&self, p: &Snapped) -> Vec<(u32, u32)> {
        self.search_points(&self.live(), p, true)
    }

    /// Target points of a snapped position.
    pub fn target_points(&self, p: &Snapped) -> Vec<(u32, u32)> {
        self.search_points(&self.live(), p, false)
    }
}
