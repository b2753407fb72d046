//! Routes and one-to-one travel times between snapped points, on a pooled [`CchQuery`].

use super::Router;
use crate::cch::CchQuery;
use crate::error::RouterError;
use crate::route::{Route, RoutePiece};
use crate::snap::Snapped;

impl Router {
    pub(super) fn with_query<T>(&self, f: impl FnOnce(&mut CchQuery) -> T) -> T {
        let mut q = self
            .scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| CchQuery::new(&self.topology));
        let out = f(&mut q);
        self.scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(q);
        out
    }

    /// Fastest travel time (ms) from `s` to `t`, `None` if unreachable.
    pub fn eta(&self, s: &Snapped, t: &Snapped) -> Option<u32> {
        let live = self.live();
        let src = self.search_points(&live, s, true);
        let dst = self.search_points(&live, t, false);
        let via = self.with_query(|q| q.run(&self.topology, &live.metric, &src, &dst));
        let direct = self.direct(&live, s, t).map(|(d, _)| d);
        match (via, direct) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The fastest route from `s` to `t` with its geometry, `Ok(None)` if unreachable.
    pub fn route(&self, s: &Snapped, t: &Snapped) -> Result<Option<Route>, RouterError> {
        self.route_with(s, t, true)
    }

    /// The same route as [`Router::route`] (time, length, pieces) without building its
    /// geometry (`geometry` is empty), for callers that follow the pieces, such as a
    /// simulator moving crews along them.
    pub fn route_pieces(&self, s: &Snapped, t: &Snapped) -> Result<Option<Route>, RouterError> {
        self.route_with(s, t, false)
    }

    pub(super) fn route_with(
        &self,
        s: &Snapped,
        t: &Snapped,
        with_geometry: bool,
    ) -> Result<Option<Route>, RouterError> {
        let live = self.live();
        let src = self.entries(&live, s, true);
        let dst = self.entries(&live, t, false);
        let sp: Vec<(u32, u32)> = src.iter().map(|e| (e.node, e.dist)).collect();
        let tp: Vec<(u32, u32)> = dst.iter().map(|e| (e.node, e.dist)).collect();
        let found = self.with_query(|q| q.path(&self.topology, &live.metric, &sp, &tp));
        let direct = self.direct(&live, s, t);
        let g = &self.graph;
        let mut pieces: Vec<RoutePiece> = Vec::new();
        let piece = |arc: u32, from: f64, to: f64, ms: u32| {
            let (seg, _) = g.arc_segment(arc);
            RoutePiece {
                arc,
                segment: seg,
                from_fraction: from,
                to_fraction: to,
                duration_ms: ms,
                distance_m: f64::from(g.seg_length_m[seg as usize]) * (to - from).abs(),
            }
        };
        let full = |arc: u32, ms: u32| {
            let reversed = g.arc_segment(arc).1;
            if reversed {
                piece(arc, 1.0, 0.0, ms)
            } else {
                piece(arc, 0.0, 1.0, ms)
            }
        };
        let duration_ms = match (found, direct) {
            (None, None) => return Ok(None),
            (Some(p), Some((d, a))) if d <= p.distance => {
                pieces.push(piece(a, s.fraction, t.fraction, d));
                d
            }
            (None, Some((d, a))) => {
                pieces.push(piece(a, s.fraction, t.fraction, d));
                d
            }
            (Some(p), _) => {
                // Source side: from the point along its segment, then any closed arcs.
                let mut chain = Vec::new();
                let mut i = p.source as u32;
                while i != u32::MAX {
                    chain.push(src[i as usize]);
                    i = src[i as usize].next;
                }
                for e in chain.iter().rev() {
                    if e.next == u32::MAX {
                        let reversed = g.arc_segment(e.arc).1;
                        pieces.push(piece(
                            e.arc,
                            s.fraction,
                            if reversed { 0.0 } else { 1.0 },
                            e.dist,
                        ));
                    } else {
                        pieces.push(full(e.arc, self.full_time(&live, e.arc)));
                    }
                }
                for &a in &p.arcs {
                    pieces.push(full(a, live.weights[a as usize]));
                }
                let mut i = p.target as u32;
                while i != u32::MAX {
                    let e = dst[i as usize];
                    if e.next == u32::MAX {
                        let reversed = g.arc_segment(e.arc).1;
                        pieces.push(piece(
                            e.arc,
                            if reversed { 1.0 } else { 0.0 },
                            t.fraction,
                            e.dist,
                        ));
                    } else {
                        pieces.push(full(e.arc, self.full_time(&live, e.arc)));
                    }
                    i = e.next;
                }
                p.distance
            }
        };
        let mut geometry = Vec::new();
        if with_geometry {
            for pc in &pieces {
                self.snap.subline(
                    g,
                    pc.segment,
                    pc.from_fraction,
                    pc.to_fraction,
                    &mut geometry,
                );
            }
            if geometry.len() == 1 {
                geometry.push(geometry[0]);
            }
        }
        Ok(Some(Route {
            duration_ms,
            distance_m: pieces.iter().map(|p| p.distance_m).sum(),
            source: *s,
            target: *t,
            pieces,
            geometry,
        }))
    }
}
