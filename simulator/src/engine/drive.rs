//! The drive model: a crew's drive along a routed path, its position at any instant
//! interpolated along the route's pieces, or only its duration for a drive whose positions
//! no decision uses (routed later if the crew is stopped on the way).

use router::{Route, Router, Snapped};

use crate::demand::point_on_segment;
use crate::scheduler::SimTime;

#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    pub(super) seg: u32,
    pub(super) from: f64,
    pub(super) to: f64,
    t0: i64,
    pub(super) dur: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Drive {
    pub(super) start: SimTime,
    pub(super) pieces: Vec<Piece>,
    /// Where the drive started.
    pub(super) from: Snapped,
    pub(super) target: Snapped,
    pub(super) end: SimTime,
    /// Only the time is known yet (a drive whose positions no decision uses); the pieces
    /// are routed if the crew is stopped on the way or before the weights change.
    pub(super) lazy: bool,
}

impl Drive {
    /// A drive of `duration_ms` whose pieces are routed only when needed.
    pub(super) fn lazy(from: Snapped, target: Snapped, start: SimTime, duration_ms: u32) -> Drive {
        Drive {
            start,
            pieces: Vec::new(),
            from,
            target,
            end: start + i64::from(duration_ms),
            lazy: true,
        }
    }

    /// Routes the pieces of a lazy drive (the same route: the weights have not changed
    /// since it started).
    pub(super) fn materialize(&mut self, router: &Router) {
        if self.lazy {
            self.lazy = false;
            if let Ok(Some(route)) = router.route_pieces(&self.from, &self.target) {
                debug_assert_eq!(self.start + i64::from(route.duration_ms), self.end);
                self.pieces = Drive::new(&route, self.start).pieces;
            }
        }
    }

    pub(super) fn new(route: &Route, start: SimTime) -> Drive {
        let mut t0 = 0;
        let pieces = route
            .pieces
            .iter()
            .map(|p| {
                let piece = Piece {
                    seg: p.segment,
                    from: p.from_fraction,
                    to: p.to_fraction,
                    t0,
                    dur: i64::from(p.duration_ms),
                };
                t0 += i64::from(p.duration_ms);
                piece
            })
            .collect();
        Drive {
            start,
            pieces,
            from: route.source,
            target: route.target,
            end: start + i64::from(route.duration_ms),
            lazy: false,
        }
    }

    /// Where the crew is at `t`.
    pub(super) fn at(&self, router: &Router, t: SimTime) -> Snapped {
        let dt = t - self.start;
        if t >= self.end || self.pieces.is_empty() {
            return self.target;
        }
        let i = self
            .pieces
            .partition_point(|p| p.t0 <= dt)
            .saturating_sub(1);
        let p = self.pieces[i];
        let share = if p.dur > 0 {
            ((dt - p.t0) as f64 / p.dur as f64).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let fraction = p.from + (p.to - p.from) * share;
        let point = point_on_segment(router, p.seg, fraction);
        Snapped {
            segment: p.seg,
            fraction,
            point,
            distance_m: 0.0,
            input: point,
        }
    }
}
