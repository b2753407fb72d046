//! The closures in force: the book of closures ([`Router::add_closure`] and the rest), the
//! arcs each covers, and the live weights recomputed when one starts, ends, is added or is
//! removed (only the CCH edges affected are customized again).

use std::sync::Arc;

use osm_data::Coord;

use super::{LiveMetric, Router};
use crate::cch::INF;
use crate::closures::{self, Closure, ClosureArea, ClosureSpec};
use crate::error::RouterError;

#[derive(Debug, Default, Clone)]
pub(super) struct ClosureBook {
    /// Shared with checkpoints (copied on write, so a checkpoint costs nothing until a
    /// closure is added or removed).
    list: Arc<Vec<Closure>>,
    /// Whether each closure of `list` is in force in the live weights.
    applied: Vec<bool>,
    next_id: u64,
}

impl ClosureBook {
    /// No closures; the first gets id 1.
    pub(super) fn new() -> Self {
        ClosureBook {
            next_id: 1,
            ..Default::default()
        }
    }
}

/// The closures at one moment: see [`Router::closures_checkpoint`].
#[derive(Debug, Clone)]
pub struct ClosuresCheckpoint {
    list: Arc<Vec<Closure>>,
    next_id: u64,
}

impl Router {
    /// The arcs a closure area covers.
    pub fn resolve_area(&self, area: &ClosureArea) -> Vec<u32> {
        let g = &self.graph;
        let mut segs: Vec<u32> = match area {
            ClosureArea::Ways(ids) => ids
                .iter()
                .filter_map(|w| self.way_segments.get(w))
                .flatten()
                .copied()
                .collect(),
            ClosureArea::Polygon(ring) => {
                use geo::Intersects;
                let poly = geo::Polygon::new(geo::LineString::from(ring.clone()), vec![]);
                let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
                for &(lon, lat) in ring {
                    let p = self.snap.project(Coord::from_degrees(lat, lon));
                    lo = [lo[0].min(p[0]), lo[1].min(p[1])];
                    hi = [hi[0].max(p[0]), hi[1].max(p[1])];
                }
                self.snap
                    .segments_in_box(lo, hi)
                    .into_iter()
                    .filter(|&s| {
                        let line: geo::LineString<f64> = g
                            .segment_points(s)
                            .iter()
                            .map(|c| (c.lon(), c.lat()))
                            .collect();
                        poly.intersects(&line)
                    })
                    .collect()
            }
            ClosureArea::Near { lat, lon, radius_m } => self
                .snap
                .segments_within(Coord::from_degrees(*lat, *lon), *radius_m),
        };
        segs.sort_unstable();
        segs.dedup();
        segs.iter()
            .flat_map(|&s| self.segment_arcs(s).iter().copied())
            .collect()
    }

    /// Adds a closure; it takes effect at once if its window covers `now_ms`.
    pub fn add_closure(&self, spec: ClosureSpec, now_ms: i64) -> Result<Closure, RouterError> {
        spec.validate()?;
        let arcs = self.resolve_area(&spec.area);
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let closure = Closure {
            id: book.next_id,
            spec,
            arcs,
        };
        book.next_id += 1;
        Arc::make_mut(&mut book.list).push(closure.clone());
        book.applied.push(false);
        self.apply(&mut book, now_ms);
        Ok(closure)
    }

    /// Removes a closure; the roads reopen at once.
    pub fn remove_closure(&self, id: u64, now_ms: i64) -> Result<Closure, RouterError> {
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let pos = book
            .list
            .iter()
            .position(|c| c.id == id)
            .ok_or(RouterError::UnknownClosure(id))?;
        let removed = Arc::make_mut(&mut book.list).remove(pos);
        if book.applied.remove(pos) {
            let arcs = removed.arcs.clone();
            self.reweigh(&book, arcs, now_ms);
        }
        self.apply(&mut book, now_ms);
        Ok(removed)
    }

    /// Puts back a closure removed with [`Router::remove_closure`], under its own id (to undo
    /// a removal that could not be recorded).
    pub fn reinstate_closure(&self, closure: Closure, now_ms: i64) {
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        let pos = book.list.partition_point(|c| c.id < closure.id);
        book.next_id = book.next_id.max(closure.id + 1);
        Arc::make_mut(&mut book.list).insert(pos, closure);
        book.applied.insert(pos, false);
        self.apply(&mut book, now_ms);
    }

    /// The closures, in force or scheduled.
    pub fn closures(&self) -> Vec<Closure> {
        self.book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .list
            .to_vec()
    }

    /// The closures as they are now, to put back with [`Router::rollback_closures`] if a
    /// change that adds or removes closures does not go through. Cheap: the list is shared
    /// until changed.
    pub fn closures_checkpoint(&self) -> ClosuresCheckpoint {
        let book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        ClosuresCheckpoint {
            list: book.list.clone(),
            next_id: book.next_id,
        }
    }

    /// Puts the closures back as they were at `checkpoint` (ids and the next id included),
    /// re-weighing the roads of what was added or removed since. Nothing to do, and nothing
    /// done, when nothing changed.
    pub fn rollback_closures(&self, checkpoint: ClosuresCheckpoint, now_ms: i64) {
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&book.list, &checkpoint.list) && book.next_id == checkpoint.next_id {
            return;
        }
        let kept: Vec<u64> = checkpoint.list.iter().map(|c| c.id).collect();
        let now: Vec<u64> = book.list.iter().map(|c| c.id).collect();
        let mut touched: Vec<u32> = Vec::new();
        for c in book.list.iter().filter(|c| !kept.contains(&c.id)) {
            touched.extend_from_slice(&c.arcs);
        }
        for c in checkpoint.list.iter().filter(|c| !now.contains(&c.id)) {
            touched.extend_from_slice(&c.arcs);
        }
        let applied: Vec<bool> = checkpoint
            .list
            .iter()
            .map(|c| c.spec.active_at(now_ms))
            .collect();
        for (c, (was, is)) in book
            .list
            .iter()
            .zip(book.applied.iter())
            .filter(|(c, _)| kept.contains(&c.id))
            .map(|(c, was)| (c, (*was, c.spec.active_at(now_ms))))
        {
            if was != is {
                touched.extend_from_slice(&c.arcs);
            }
        }
        book.list = checkpoint.list;
        book.applied = applied;
        book.next_id = checkpoint.next_id;
        self.reweigh(&book, touched, now_ms);
    }

    /// Re-evaluates time windows at `now_ms` (call it every second or so). Returns whether
    /// any weight changed.
    pub fn refresh(&self, now_ms: i64) -> bool {
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        self.apply(&mut book, now_ms)
    }

    /// Brings the live weights in line with the closures in force at `now_ms`: only the arcs
    /// of closures whose state changed are recomputed. Callers hold the book.
    fn apply(&self, book: &mut ClosureBook, now_ms: i64) -> bool {
        let mut touched = Vec::new();
        for (c, applied) in book.list.iter().zip(book.applied.iter_mut()) {
            let active = c.spec.active_at(now_ms);
            if active != *applied {
                touched.extend_from_slice(&c.arcs);
                *applied = active;
            }
        }
        self.reweigh(book, touched, now_ms)
    }

    /// Recomputes the weights of `arcs` and re-customizes those that changed.
    fn reweigh(&self, book: &ClosureBook, mut arcs: Vec<u32>, now_ms: i64) -> bool {
        arcs.sort_unstable();
        arcs.dedup();
        let current = self.live();
        let fresh = closures::effective_weights_of(&arcs, &self.base_weights, &book.list, now_ms);
        let changed: Vec<u32> = arcs
            .iter()
            .zip(&fresh)
            .filter(|(&a, &w)| current.weights[a as usize] != w)
            .map(|(&a, _)| a)
            .collect();
        if changed.is_empty() {
            return false;
        }
        let mut weights = current.weights.clone();
        let mut closed_arcs = current.closed_arcs;
        for (&a, &w) in arcs.iter().zip(&fresh) {
            let old = std::mem::replace(&mut weights[a as usize], w);
            if self.base_weights[a as usize] != INF {
                closed_arcs += usize::from(w == INF);
                closed_arcs -= usize::from(old == INF);
            }
        }
        debug_assert_eq!(
            closed_arcs,
            weights
                .iter()
                .zip(&self.base_weights)
                .filter(|&(&w, &b)| w == INF && b != INF)
                .count()
        );
        let mut metric = current.metric.clone();
        metric.update(&self.topology, &weights, &changed);
        let next = Arc::new(LiveMetric {
            weights,
            metric,
            version: current.version + 1,
            closed_arcs,
        });
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = next;
        true
    }
}
