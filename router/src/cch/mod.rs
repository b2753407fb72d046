//! Customizable contraction hierarchies (CCH), exact.
//!
//! A CCH (Dibbelt, Strasser, Wagner: "Customizable Contraction Hierarchies",
//! ACM JEA 2016) splits route planning into three phases:
//!
//! 1. **Preprocessing** ([`order`], [`topology`]) depends only on the road
//!    network's structure. A nested dissection order ranks the nodes
//!    (separators last, computed by inertial flow); contracting the nodes in
//!    that order and inserting every fill-in edge yields a chordal supergraph,
//!    the *CCH*, together with its *elimination tree* (the parent of a node is
//!    its lowest-ranked upper neighbour).
//! 2. **Customization** ([`metric`]) fills in travel times: every CCH edge
//!    starts with the minimum weight of the input arcs mapped onto it, then
//!    the *lower triangles* `z < x < y` are relaxed bottom-up. A partial
//!    re-customization recomputes only the edges affected by a few changed arc
//!    weights (road closures, congestion) and is bit-identical to a full run.
//! 3. **Queries** ([`query`], [`many`]) walk the elimination tree upwards
//!    from the sources and the targets (no priority queue); the shortest path
//!    meets at a common ancestor. Shortcuts are unpacked through the middle
//!    node of the triangle that produced their weight. [`many`] caches upward
//!    search spaces in buckets (Knopp et al. 2007) for many-to-one and
//!    one-to-many distance tables.
//!
//! All node ids given to or returned by the public API are *input* node ids,
//! all arc ids are *input* arc ids (indices into the `head`/`weight` arrays of
//! the CSR graph the topology was built from). Internally everything lives in
//! rank space. Weights are travel times in milliseconds; [`INF`] marks a closed
//! arc or an unreachable node and every addition saturates.
//!
//! Typical use, on the graph `0 → 1 → 2` with 10 s per arc:
//!
//! ```
//! use router::cch::{order, CchMetric, CchQuery, CchTopology};
//!
//! let (first_out, head, weight) = (vec![0, 1, 2, 2], vec![1, 2], vec![10_000, 10_000]);
//! let (lat, lon) = (vec![49.40, 49.41, 49.42], vec![8.69, 8.69, 8.69]);
//!
//! let order = order::nested_dissection_order(&first_out, &head, &lat, &lon);
//! let topo = CchTopology::new(&first_out, &head, &order)?;
//! let metric = CchMetric::customize(&topo, &weight);
//! let mut query = CchQuery::new(&topo);
//! // Start 2 s before node 0 (on the road leading to it), stop at node 2.
//! assert_eq!(query.run(&topo, &metric, &[(0, 2_000)], &[(2, 0)]), Some(22_000));
//! let path = query.path(&topo, &metric, &[(0, 0)], &[(2, 0)]).expect("reachable");
//! assert_eq!(path.arcs, vec![0, 1]);
//! assert_eq!(query.run(&topo, &metric, &[(2, 0)], &[(0, 0)]), None);
//! # Ok::<(), router::cch::CchError>(())
//! ```

pub mod many;
pub mod metric;
mod node_spaces;
pub mod order;
pub mod query;
pub mod topology;
mod walk_arcs;

mod inertial_flow;

#[cfg(test)]
mod tests;

pub use many::{BestScratch, Buckets};
pub use metric::CchMetric;
pub use query::{CchPath, CchQuery};
pub use topology::CchTopology;

/// Weight of a closed arc and distance of an unreachable node.
pub const INF: u32 = u32::MAX;

/// Internal "no such id" marker (same bit pattern as [`INF`], different meaning).
pub(crate) const INVALID: u32 = u32::MAX;

/// Errors reported when building a [`CchTopology`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CchError {
    /// `first_out` is empty, not non-decreasing, or does not end at `head.len()`.
    #[error("malformed CSR: {0}")]
    MalformedGraph(&'static str),
    /// An arc points to a node id `>= node_count`.
    #[error("arc {arc} has head {head} but the graph has only {node_count} nodes")]
    HeadOutOfRange {
        /// Offending arc id.
        arc: u32,
        /// Its head.
        head: u32,
        /// Number of nodes.
        node_count: u32,
    },
    /// The order is not a permutation of `0..node_count`.
    #[error("the order is not a permutation of the {0} nodes")]
    InvalidOrder(u32),
    /// More nodes or arcs than the 31-bit ids used internally can address.
    #[error("graph too large: {0}")]
    TooLarge(&'static str),
}

/// Saturating addition of two travel times: `INF` stays `INF`, sums never wrap.
#[inline(always)]
pub fn add(a: u32, b: u32) -> u32 {
    a.saturating_add(b)
}
