//! Upward search spaces of single nodes, computed once per metric and reused.
//!
//! The walk of [`EtreeWalk`] is linear in the min-plus sense: the space of points
//! `{(v₁, o₁), …, (v_k, o_k)}` (a node's distance `min over i of oᵢ + dᵢ(x)`, where `dᵢ` is
//! the space of `vᵢ` alone, from distance 0) is the merge of the single nodes' spaces, each
//! shifted by its offset. Saturating addition keeps this exact: `oᵢ + dᵢ(x)` is the same
//! sum the walk forms along the same upward path, in another order.
//!
//! Crews driving back to their stations report positions on the same roads again and again,
//! so the nodes of their points repeat (85 % of them on a day of Porto): a point's space is
//! then two sorted lists merged instead of an elimination tree walk relaxing a couple of
//! thousand arcs.

use super::topology::CchTopology;
use super::walk_arcs::ArcList;
use super::{add, INF};
use crate::cch::many::EtreeWalk;

/// Position of a node's space in the arena: `(start, len)`; `start == UNSET` if not cached.
const UNSET: u32 = u32::MAX;

/// The cached spaces of single nodes, for one metric version and one direction (the caller,
/// [`super::Buckets`], clears it when either changes).
#[derive(Debug, Clone)]
pub(crate) struct NodeSpaces {
    /// Per input node, where its space is in `arena`.
    at: Vec<(u32, u32)>,
    /// The spaces, `(rank, distance)` ascending by rank, one after another.
    arena: Vec<(u32, u32)>,
    /// The nodes with a cached space (to clear `at` quickly).
    cached: Vec<u32>,
    /// Entries `arena` may hold; when a new space would pass it, the cache starts over.
    limit: usize,
    /// Merge buffer.
    spare: Vec<(u32, u32)>,
}

impl NodeSpaces {
    /// Entries kept by default: 8 M (64 MB), about the spaces of 70,000 nodes of Porto's
    /// network. The least used are not tracked: past the limit, everything is dropped.
    pub(crate) const DEFAULT_LIMIT: usize = 8 << 20;

    pub(crate) fn new(node_count: usize, limit: usize) -> Self {
        NodeSpaces {
            at: vec![(UNSET, 0); node_count],
            arena: Vec::new(),
            cached: Vec::new(),
            limit,
            spare: Vec::new(),
        }
    }

    /// Forgets every space (another metric or direction).
    pub(crate) fn clear(&mut self) {
        for &v in &self.cached {
            self.at[v as usize] = (UNSET, 0);
        }
        self.cached.clear();
        self.arena.clear();
    }

    /// Number of nodes whose space is cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cached.len()
    }

    /// The space of `node` alone, walked over `arcs` if not cached yet.
    fn space(
        &mut self,
        t: &CchTopology,
        arcs: &ArcList,
        walk: &mut EtreeWalk,
        node: u32,
    ) -> (u32, u32) {
        let (start, len) = self.at[node as usize];
        if start != UNSET {
            return (start, len);
        }
        let mut first = self.arena.len();
        let arena = &mut self.arena;
        walk.run(t, arcs, &[(node, 0)], |x, d| arena.push((x, d)));
        if self.arena.len() > self.limit && first > 0 {
            // Full: start over with this space alone.
            let fresh = self.arena.split_off(first);
            self.clear();
            self.arena = fresh;
            first = 0;
        }
        let at = (first as u32, (self.arena.len() - first) as u32);
        self.at[node as usize] = at;
        self.cached.push(node);
        at
    }

    /// The space of `points` (`(input node, offset)`, as [`EtreeWalk::run`] takes them) into
    /// `out` (cleared first), ascending by rank, with only finite distances: what the walk
    /// from `points` visits.
    pub(crate) fn space_of(
        &mut self,
        t: &CchTopology,
        arcs: &ArcList,
        walk: &mut EtreeWalk,
        points: &[(u32, u32)],
        out: &mut Vec<(u32, u32)>,
    ) {
        out.clear();
        for &(v, offset) in points {
            if v as usize >= t.node_count() || offset == INF {
                continue;
            }
            let (start, len) = self.space(t, arcs, walk, v);
            let space = &self.arena[start as usize..(start + len) as usize];
            if out.is_empty() {
                out.extend(
                    space
                        .iter()
                        .map(|&(x, d)| (x, add(offset, d)))
                        .filter(|&(_, d)| d != INF),
                );
                continue;
            }
            let mut merged = std::mem::take(&mut self.spare);
            merge(out, space, offset, &mut merged);
            std::mem::swap(out, &mut merged);
            self.spare = merged;
        }
    }
}

/// `a` and `b` shifted by `offset`, merged by rank into `into` (cleared first), keeping the
/// smaller distance of a rank in both and dropping infinite ones.
fn merge(a: &[(u32, u32)], b: &[(u32, u32)], offset: u32, into: &mut Vec<(u32, u32)>) {
    into.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let x = a.get(i).map_or(u32::MAX, |e| e.0);
        let y = b.get(j).map_or(u32::MAX, |e| e.0);
        let entry = if x < y {
            i += 1;
            a[i - 1]
        } else {
            let shifted = (y, add(offset, b[j].1));
            j += 1;
            if x == y {
                i += 1;
                (x, a[i - 1].1.min(shifted.1))
            } else {
                shifted
            }
        };
        if entry.1 != INF {
            into.push(entry);
        }
    }
}
