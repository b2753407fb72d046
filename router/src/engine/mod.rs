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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use osm_data::{Coord, RoadGraph};

use crate::cch::{self, CchMetric, CchQuery, CchTopology, INF};
use crate::closures::{self, Closure, ClosureArea, ClosureSpec};
use crate::error::RouterError;
use crate::route::{Route, RoutePiece};
use crate::snap::{SnapIndex, Snapped};

mod eta_index;
pub use eta_index::EtaIndex;

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
    /// Effective travel time of each arc (ms, [`INF`] closed).
    pub weights: Vec<u32>,
    /// The customized CCH metric for `weights`.
    pub metric: CchMetric,
    /// Increases with every change.
    pub version: u64,
    /// How many drivable arcs are closed now (searches from a point skip looking for
    /// closed roads around it when there are none).
    pub closed_arcs: usize,
}

#[derive(Debug, Default, Clone)]
struct ClosureBook {
    /// Shared with checkpoints (copied on write, so a checkpoint costs nothing until a
    /// closure is added or removed).
    list: Arc<Vec<Closure>>,
    /// Whether each closure of `list` is in force in the live weights.
    applied: Vec<bool>,
    next_id: u64,
}

/// The closures at one moment: see [`Router::closures_checkpoint`].
#[derive(Debug, Clone)]
pub struct ClosuresCheckpoint {
    list: Arc<Vec<Closure>>,
    next_id: u64,
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

const CACHE_MAGIC: &[u8; 8] = b"AMBCCHOR";
/// 2: the key is XXH3 and the check value CRC-32 (1: FNV-1a for both).
const CACHE_VERSION: u32 = 2;

/// A hash of what the order depends on: the graph's structure and coordinates.
fn structure_key(g: &RoadGraph) -> u64 {
    let mut bytes =
        Vec::with_capacity(4 * (g.first_out.len() + g.arc_head.len() + 2 * g.node_count()));
    let words = g.first_out.iter().chain(&g.arc_head).copied().chain(
        g.node_coord
            .iter()
            .flat_map(|c| [c.lat_e7 as u32, c.lon_e7 as u32]),
    );
    for w in words {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Computes the nested-dissection order of a graph (the expensive, metric-independent step).
pub fn compute_order(g: &RoadGraph) -> Vec<u32> {
    let lat: Vec<f64> = g.node_coord.iter().map(|c| c.lat()).collect();
    let lon: Vec<f64> = g.node_coord.iter().map(|c| c.lon()).collect();
    cch::order::nested_dissection_order(&g.first_out, &g.arc_head, &lat, &lon)
}

fn read_cached_order(path: &Path, key: u64, n: usize) -> Option<Vec<u32>> {
    let bytes = std::fs::read(path).ok()?;
    let body_len = bytes.len().checked_sub(4)?;
    let (body, crc) = bytes.split_at(body_len);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().ok()?)
        || body.len() < 28
        || &body[..8] != CACHE_MAGIC
    {
        return None;
    }
    let version = u32::from_le_bytes(body[8..12].try_into().ok()?);
    let file_key = u64::from_le_bytes(body[12..20].try_into().ok()?);
    let count = u64::from_le_bytes(body[20..28].try_into().ok()?) as usize;
    if version != CACHE_VERSION || file_key != key || count != n || body.len() != 28 + 4 * n {
        return None;
    }
    let order: Vec<u32> = body[28..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    cch::order::is_permutation(&order).then_some(order)
}

fn write_cached_order(path: &Path, key: u64, order: &[u32]) -> Result<(), RouterError> {
    let mut body = Vec::with_capacity(32 + 4 * order.len());
    body.extend_from_slice(CACHE_MAGIC);
    body.extend_from_slice(&CACHE_VERSION.to_le_bytes());
    body.extend_from_slice(&key.to_le_bytes());
    body.extend_from_slice(&(order.len() as u64).to_le_bytes());
    for &x in order {
        body.extend_from_slice(&x.to_le_bytes());
    }
    let crc = crc32fast::hash(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    osm_data::graph_file::write_atomically(path, &body).map_err(RouterError::Cache)
}

/// Path of the preprocessing cache of a graph file.
pub fn cache_path(graph_path: &Path) -> PathBuf {
    graph_path.with_extension("cch")
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
            book: Mutex::new(ClosureBook {
                next_id: 1,
                ..Default::default()
            }),
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

    /// Snaps a coordinate to the nearest drivable point within the snapping radius
    /// ([`RouterOptions::max_snap_distance_m`]): a coordinate farther from every road is
    /// refused with [`RouterError::NoSegment`].
    pub fn snap(&self, lat: f64, lon: f64) -> Result<Snapped, RouterError> {
        self.snap_within(lat, lon, self.options.max_snap_distance_m)
    }

    /// Snaps a coordinate to the nearest drivable point within `max_distance_m`
    /// (great-circle metres) whatever the router's own snapping radius: `f64::INFINITY`
    /// snaps to the nearest road at any distance, as OSRM does without `radiuses`. A
    /// nearest-neighbour search, as fast far off the map as on it.
    pub fn snap_within(
        &self,
        lat: f64,
        lon: f64,
        max_distance_m: f64,
    ) -> Result<Snapped, RouterError> {
        self.snap_n_within(lat, lon, 1, max_distance_m)?
            .into_iter()
            .next()
            .ok_or(RouterError::NoSegment {
                lat,
                lon,
                max_distance_m,
            })
    }

    /// The same answer as [`Router::snap`], faster when the coordinate is known to lie on
    /// (or very near) `segment`, e.g. a position along a route (see
    /// [`SnapIndex::nearest_near`]). A wrong segment only costs the time.
    pub fn snap_near(&self, lat: f64, lon: f64, segment: u32) -> Result<Snapped, RouterError> {
        check_coordinate(lat, lon)?;
        self.snap
            .nearest_near(
                &self.graph,
                Coord::from_degrees(lat, lon),
                segment,
                self.options.max_snap_distance_m,
            )
            .ok_or(RouterError::NoSegment {
                lat,
                lon,
                max_distance_m: self.options.max_snap_distance_m,
            })
    }

    /// Up to `n` nearest drivable points on distinct segments within the snapping radius
    /// ([`RouterOptions::max_snap_distance_m`]), nearest first; empty when no road is that
    /// near.
    pub fn snap_n(&self, lat: f64, lon: f64, n: usize) -> Result<Vec<Snapped>, RouterError> {
        self.snap_n_within(lat, lon, n, self.options.max_snap_distance_m)
    }

    /// Up to `n` nearest drivable points on distinct segments within `max_distance_m`
    /// (great-circle metres; `f64::INFINITY`: any distance), nearest first.
    pub fn snap_n_within(
        &self,
        lat: f64,
        lon: f64,
        n: usize,
        max_distance_m: f64,
    ) -> Result<Vec<Snapped>, RouterError> {
        check_coordinate(lat, lon)?;
        Ok(self
            .snap
            .nearest_n(Coord::from_degrees(lat, lon), n, max_distance_m))
    }

    /// Time (ms) of a part of an arc's segment: closed arcs keep their normal time here,
    /// since a point on a closed road must stay reachable.
    fn partial(&self, live: &LiveMetric, arc: u32, share: f64) -> u32 {
        let w = live.weights[arc as usize];
        let w = if w == INF {
            self.base_weights[arc as usize]
        } else {
            w
        };
        (f64::from(w) * share.clamp(0.0, 1.0)).round() as u32
    }

    fn full_time(&self, live: &LiveMetric, arc: u32) -> u32 {
        let w = live.weights[arc as usize];
        if w == INF {
            self.base_weights[arc as usize]
        } else {
            w
        }
    }

    /// Entries from which a search leaves a snapped point (`forward`) or reaches it.
    fn entries(&self, live: &LiveMetric, p: &Snapped, forward: bool) -> Vec<Entry> {
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
    fn expand_through_closed(&self, live: &LiveMetric, entries: &mut Vec<Entry>, forward: bool) {
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

    fn incoming(&self, v: u32) -> &[u32] {
        &self.in_arcs[self.in_first[v as usize] as usize..self.in_first[v as usize + 1] as usize]
    }

    /// Travel time on the same segment, when the target lies ahead of the source in a
    /// drivable direction: `(time, arc)`.
    fn direct(&self, live: &LiveMetric, s: &Snapped, t: &Snapped) -> Option<(u32, u32)> {
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

    fn with_query<T>(&self, f: impl FnOnce(&mut CchQuery) -> T) -> T {
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
        let src: Vec<(u32, u32)> = self
            .entries(&live, s, true)
            .iter()
            .map(|e| (e.node, e.dist))
            .collect();
        let dst: Vec<(u32, u32)> = self
            .entries(&live, t, false)
            .iter()
            .map(|e| (e.node, e.dist))
            .collect();
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

    fn route_with(
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

    /// Source points of a snapped position for [`SourceBuckets`]-style callers.
    pub fn source_points(&self, p: &Snapped) -> Vec<(u32, u32)> {
        let live = self.live();
        self.entries(&live, p, true)
            .iter()
            .map(|e| (e.node, e.dist))
            .collect()
    }

    /// Target points of a snapped position.
    pub fn target_points(&self, p: &Snapped) -> Vec<(u32, u32)> {
        let live = self.live();
        self.entries(&live, p, false)
            .iter()
            .map(|e| (e.node, e.dist))
            .collect()
    }

    // ----- closures -----

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

/// Refuses a latitude or longitude that is not a finite number of degrees in range.
fn check_coordinate(lat: f64, lon: f64) -> Result<(), RouterError> {
    if lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
    {
        Ok(())
    } else {
        Err(RouterError::InvalidCoordinate { lat, lon })
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
