//! The [`Router`]: an `osm-data` graph prepared for exact fastest-route queries, snapping,
//! many-to-one ETAs and live closures.
//!
//! * Preparation: a nested-dissection order (cached next to the graph file as
//!   `NAME.cch`, keyed by a hash of the graph), the CCH topology, and a customization with
//!   the graph's travel times.
//! * Live state: the effective arc weights and their customized metric sit behind an
//!   `Arc` that is swapped atomically; a query takes a snapshot and never waits for a
//!   closure being applied. A closure re-customizes only the CCH edges it affects.
//! * Points on roads: a snapped point lies mid-segment, so a route starts with the rest
//!   of the segment in each drivable direction and ends with part of a segment. A point on a
//!   closed road is still reachable: the search expands through closed arcs around it (at
//!   their normal travel time) to the nearest open road, so a crew is routed to the
//!   closest reachable point and drives the last block, as crews do.
//! * Snapping: [`Router::snap`] refuses a coordinate farther than
//!   [`RouterOptions::max_snap_distance_m`] (1 km) from every road, so a call placed off the
//!   map is an error rather than a crew sent to the map's edge; [`Router::snap_within`]
//!   takes the radius from its caller (`f64::INFINITY` for OSRM's snapping at any distance).

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use osm_data::RoadGraph;

use crate::cch::{CchMetric, CchQuery, CchTopology};
use crate::error::RouterError;
use crate::snap::SnapIndex;

mod closure_book;
mod eta_index;
mod order_cache;
mod routes;
mod search_points;
mod snapping;

use closure_book::ClosureBook;
pub use closure_book::ClosuresCheckpoint;
pub use eta_index::EtaIndex;
pub use order_cache::{cache_path, compute_order};
use order_cache::{read_cached_order, structure_key, write_cached_order};

/// Settings of a [`Router`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouterOptions {
    /// [`Router::snap`] refuses a coordinate farther than this from every road
    /// (great-circle metres; default 1 km). [`Router::snap_within`] takes its own radius.
    pub max_snap_distance_m: f64,
    /// At most this many nodes are visited when expanding through closed roads around a point.
    pub max_closed_expansion: usize,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            max_snap_distance_m: 1_000.0,
            max_closed_expansion: 20_000,
        }
    }
}

/// The effective weights and their metric at one moment.
#[derive(Debug)]
pub struct LiveMetric {
    /// Effective travel time of each arc (ms, [`crate::cch::INF`] closed).
    pub weights: Vec<u32>,
    /// The customized CCH metric for `weights`.
    pub metric: CchMetric,
    /// Increases with every change.
    pub version: u64,
    /// How many drivable arcs are closed now (searches from a point skip looking for
    /// closed roads around it when there are none).
    pub closed_arcs: usize,
}

/// Where a search may start or end: a node with the time to or from the snapped point.
#[derive(Debug, Clone, Copy)]
struct Entry {
    node: u32,
    dist: u32,
    /// The arc that links this entry to the point: for a source entry the arc arriving at
    /// `node`, for a target entry the arc leaving `node`.
    arc: u32,
    /// The entry on the far side of `arc` (`u32::MAX`: `arc` is the point's own segment arc).
    next: u32,
}

/// An exact router over one road graph. Cheap to share (`Arc<Router>`) between threads.
#[derive(Debug)]
pub struct Router {
    graph: Arc<RoadGraph>,
    topology: Arc<CchTopology>,
    snap: SnapIndex,
    base_weights: Vec<u32>,
    arc_tail: Vec<u32>,
    /// Arcs of each segment, CSR.
    seg_first_arc: Vec<u32>,
    seg_arcs: Vec<u32>,
    /// Segments of each OSM way.
    way_segments: std::collections::HashMap<i64, Vec<u32>>,
    /// Incoming arcs of each node, CSR.
    in_first: Vec<u32>,
    in_arcs: Vec<u32>,
    live: RwLock<Arc<LiveMetric>>,
    book: Mutex<ClosureBook>,
    scratch: Mutex<Vec<CchQuery>>,
    options: RouterOptions,
}

impl Router {
    /// Loads a graph file and prepares it, reusing the cached order next to it when it
    /// matches the graph (and writing it when it does not; a read-only directory only costs
    /// the recomputation).
    pub fn open(graph_path: &Path) -> Result<Router, RouterError> {
        Router::prepare_file(osm_data::graph_file::load(graph_path)?, graph_path)
    }

    /// [`Router::open`] for a graph already read from `graph_path` (or just written there):
    /// prepares it with the order cached next to that file.
    pub fn prepare_file(graph: RoadGraph, graph_path: &Path) -> Result<Router, RouterError> {
        let key = structure_key(&graph);
        let cache = cache_path(graph_path);
        let order = match read_cached_order(&cache, key, graph.node_count()) {
            Some(order) => order,
            None => {
                let order = compute_order(&graph);
                // Not fatal: the next start recomputes it.
                let _ = write_cached_order(&cache, key, &order);
                order
            }
        };
        Router::with_order(graph, &order, RouterOptions::default())
    }

    /// Prepares a graph (computing its order).
    pub fn new(graph: RoadGraph, options: RouterOptions) -> Result<Router, RouterError> {
        let order = compute_order(&graph);
        Router::with_order(graph, &order, options)
    }

    /// Prepares a graph with a given nested-dissection order (`order[rank] = node`).
    pub fn with_order(
        graph: RoadGraph,
        order: &[u32],
        options: RouterOptions,
    ) -> Result<Router, RouterError> {
        let topology = CchTopology::new(&graph.first_out, &graph.arc_head, order)?;
        let base_weights = graph.arc_time_ms.clone();
        let metric = CchMetric::customize(&topology, &base_weights);
        let arc_tail = graph.arc_tails();
        let n = graph.node_count();
        let (seg_first_arc, seg_arcs) = group(graph.segment_count(), graph.arc_count(), |a| {
            graph.arc_segment(a as u32).0 as usize
        });
        let (in_first, in_arcs) = group(n, graph.arc_count(), |a| graph.arc_head[a] as usize);
        let snap = SnapIndex::new(&graph);
        let mut way_segments: std::collections::HashMap<i64, Vec<u32>> =
            std::collections::HashMap::new();
        for (s, &w) in graph.seg_way_id.iter().enumerate() {
            way_segments.entry(w).or_default().push(s as u32);
        }
        Ok(Router {
            way_segments,
            live: RwLock::new(Arc::new(LiveMetric {
                weights: base_weights.clone(),
                metric,
                version: 0,
                closed_arcs: 0,
            })),
            graph: Arc::new(graph),
            topology: Arc::new(topology),
            snap,
            base_weights,
            arc_tail,
            seg_first_arc,
            seg_arcs,
            in_first,
            in_arcs,
            book: Mutex::new(ClosureBook::new()),
            scratch: Mutex::new(Vec::new()),
            options,
        })
    }

    /// An independent router over the same graph and hierarchy, starting with this one's
    /// closures and live weights: closures added to or removed from either later do not
    /// affect the other. The graph, the hierarchy and the current metric are shared, not
    /// copied (a metric is copied only when one of them changes its weights). For work in
    /// parallel that needs its own closures, such as simulations of separate periods.
    pub fn fork(&self) -> Router {
        // The book is held while the weights are read, so the two agree.
        let book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        Router {
            graph: Arc::clone(&self.graph),
            topology: Arc::clone(&self.topology),
            snap: self.snap.clone(),
            base_weights: self.base_weights.clone(),
            arc_tail: self.arc_tail.clone(),
            seg_first_arc: self.seg_first_arc.clone(),
            seg_arcs: self.seg_arcs.clone(),
            way_segments: self.way_segments.clone(),
            in_first: self.in_first.clone(),
            in_arcs: self.in_arcs.clone(),
            live: RwLock::new(self.live()),
            book: Mutex::new(book.clone()),
            scratch: Mutex::new(Vec::new()),
            options: self.options,
        }
    }

    /// The road graph.
    pub fn graph(&self) -> &Arc<RoadGraph> {
        &self.graph
    }

    /// The CCH topology.
    pub fn topology(&self) -> &Arc<CchTopology> {
        &self.topology
    }

    /// The snapping index.
    pub fn snap_index(&self) -> &SnapIndex {
        &self.snap
    }

    /// The settings.
    pub fn options(&self) -> RouterOptions {
        self.options
    }

    /// A snapshot of the current weights and metric.
    pub fn live(&self) -> Arc<LiveMetric> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The arcs of a segment.
    pub fn segment_arcs(&self, seg: u32) -> &[u32] {
        &self.seg_arcs[self.seg_first_arc[seg as usize] as usize
            ..self.seg_first_arc[seg as usize + 1] as usize]
    }

    /// The tail node of an arc.
    pub fn arc_tail(&self, arc: u32) -> u32 {
        self.arc_tail[arc as usize]
    }
}

/// Groups `count` items by a key into CSR form: `(first, items)`.
fn group(keys: usize, count: usize, key: impl Fn(usize) -> usize) -> (Vec<u32>, Vec<u32>) {
    let mut first = vec![0u32; keys + 1];
    for i in 0..count {
        first[key(i) + 1] += 1;
    }
    for k in 0..keys {
        first[k + 1] += first[k];
    }
    let mut fill = first.clone();
    let mut items = vec![0u32; count];
    for i in 0..count {
        let k = key(i);
        items[fill[k] as usize] = i as u32;
        fill[k] += 1;
    }
    (first, items)
}
