//! The road graph an ambulance drives on: compact arrays, ready for routing.
//!
//! * **Nodes** are road junctions (and the ends of dead ends); chains of degree-2 OSM nodes are
//!   collapsed into one *segment* that keeps its full geometry.
//! * **Segments** are stretches of one OSM way between two junctions: geometry, length,
//!   way id, name, road class.
//! * **Arcs** are the directed moves along a segment, stored in CSR form (`first_out`,
//!   `arc_head`), each with its travel time in milliseconds.
//!
//! Turn restrictions and blocking barriers are encoded by **local turn expansion**: a
//! junction that has any turn rule is split into one routing node per incoming arc, and each
//! copy has only the outgoing arcs that the rules allow from that incoming arc. Junctions
//! without rules stay single nodes. The graph stays node-based almost everywhere (a
//! fully edge-based graph is about three times larger), yet every path in it obeys
//! every turn rule, so any shortest-path algorithm (Dijkstra, CH, CCH) honours them
//! without knowing they exist. Copies share their junction's coordinate and OSM id.

/// A coordinate in 1e-7 degrees (the precision OSM stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Coord {
    /// Latitude × 1e7.
    pub lat_e7: i32,
    /// Longitude × 1e7.
    pub lon_e7: i32,
}

impl Coord {
    /// From degrees.
    pub fn from_degrees(lat: f64, lon: f64) -> Coord {
        Coord {
            lat_e7: (lat * 1e7).round() as i32,
            lon_e7: (lon * 1e7).round() as i32,
        }
    }

    /// Latitude in degrees.
    pub fn lat(self) -> f64 {
        f64::from(self.lat_e7) * 1e-7
    }

    /// Longitude in degrees.
    pub fn lon(self) -> f64 {
        f64::from(self.lon_e7) * 1e-7
    }
}

/// Mean Earth radius used for all distances, metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Rounded to six decimals: degrees to 1e-6 (about 0.1 m), the precision of the coordinates
/// the services answer with and of the simulator's summaries.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Great-circle distance between two coordinates, metres.
pub fn haversine_m(a: Coord, b: Coord) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.lat().to_radians(),
        a.lon().to_radians(),
        b.lat().to_radians(),
        b.lon().to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Bounding box of a graph, degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

/// Where a graph came from; stored in the graph file's header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphMeta {
    /// File name of the source PBF.
    pub source_name: String,
    /// Size of the source PBF, bytes.
    pub source_size: u64,
    /// XXH3 (64-bit) hash of the source PBF's bytes.
    pub source_hash: u64,
    /// Name of the profile used.
    pub profile_name: String,
    /// Content hash of the profile used.
    pub profile_hash: u64,
}

/// Flag in [`RoadGraph::arc_segment`] marking an arc that runs against its segment's geometry.
pub const ARC_REVERSED: u32 = 1 << 31;

/// The routable road graph. All ids are dense `u32` indexes into these arrays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoadGraph {
    /// Provenance.
    pub meta: GraphMeta,
    /// Coordinate of each node.
    pub node_coord: Vec<Coord>,
    /// OSM node id of each node (turn-expansion copies share their junction's id).
    pub node_osm_id: Vec<i64>,
    /// CSR offsets: the arcs leaving node `v` are `first_out[v]..first_out[v + 1]`.
    pub first_out: Vec<u32>,
    /// Head node of each arc.
    pub arc_head: Vec<u32>,
    /// Travel time of each arc, milliseconds.
    pub arc_time_ms: Vec<u32>,
    /// Segment of each arc, with [`ARC_REVERSED`] set when the arc runs against the geometry.
    pub arc_segment: Vec<u32>,
    /// CSR offsets into `points`: segment `s` is `points[seg_first_point[s]..seg_first_point[s + 1]]`.
    pub seg_first_point: Vec<u32>,
    /// Shape points of all segments (each segment includes both end points).
    pub points: Vec<Coord>,
    /// Length of each segment, metres.
    pub seg_length_m: Vec<f32>,
    /// OSM way id of each segment.
    pub seg_way_id: Vec<i64>,
    /// Index into `names` of each segment's street name.
    pub seg_name: Vec<u32>,
    /// Road class of each segment ([`crate::tags::RoadClass`] as `u8`).
    pub seg_class: Vec<u8>,
    /// Distinct street names (index 0 is the empty name).
    pub names: Vec<String>,
}

impl RoadGraph {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_coord.len()
    }

    /// Number of arcs.
    pub fn arc_count(&self) -> usize {
        self.arc_head.len()
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.seg_length_m.len()
    }

    /// The arcs leaving `node`.
    pub fn out_arcs(&self, node: u32) -> std::ops::Range<u32> {
        self.first_out[node as usize]..self.first_out[node as usize + 1]
    }

    /// The tail of every arc (derived from the CSR offsets).
    pub fn arc_tails(&self) -> Vec<u32> {
        let mut tails = Vec::with_capacity(self.arc_count());
        for v in 0..self.node_count() as u32 {
            tails.extend(self.out_arcs(v).map(|_| v));
        }
        tails
    }

    /// Segment of an arc and whether the arc runs against the segment's geometry.
    pub fn arc_segment(&self, arc: u32) -> (u32, bool) {
        let s = self.arc_segment[arc as usize];
        (s & !ARC_REVERSED, s & ARC_REVERSED != 0)
    }

    /// Shape points of a segment, in geometry order.
    pub fn segment_points(&self, seg: u32) -> &[Coord] {
        let s = seg as usize;
        &self.points[self.seg_first_point[s] as usize..self.seg_first_point[s + 1] as usize]
    }

    /// Street name of a segment ("" when unnamed).
    pub fn segment_name(&self, seg: u32) -> &str {
        &self.names[self.seg_name[seg as usize] as usize]
    }

    /// Bounding box of all shape points (`None` for an empty graph).
    pub fn bounding_box(&self) -> Option<BoundingBox> {
        let first = self.points.first()?;
        let mut b = BoundingBox {
            min_lat: first.lat(),
            min_lon: first.lon(),
            max_lat: first.lat(),
            max_lon: first.lon(),
        };
        for p in &self.points {
            b.min_lat = b.min_lat.min(p.lat());
            b.max_lat = b.max_lat.max(p.lat());
            b.min_lon = b.min_lon.min(p.lon());
            b.max_lon = b.max_lon.max(p.lon());
        }
        Some(b)
    }

    /// Arcs whose segment belongs to OSM way `way_id`.
    pub fn arcs_of_way(&self, way_id: i64) -> Vec<u32> {
        (0..self.arc_count() as u32)
            .filter(|&a| self.seg_way_id[self.arc_segment(a).0 as usize] == way_id)
            .collect()
    }

    /// Checks the internal consistency of the arrays (used after loading and in tests):
    /// [`crate::Error::MalformedGraph`] saying which disagree.
    pub fn validate(&self) -> crate::Result<()> {
        self.check_arrays()
            .map_err(|reason| crate::Error::MalformedGraph { reason })
    }

    pub(crate) fn check_arrays(&self) -> Result<(), String> {
        let n = self.node_count();
        let m = self.arc_count();
        let s = self.segment_count();
        if self.node_osm_id.len() != n || self.first_out.len() != n + 1 {
            return Err("node arrays disagree in length".into());
        }
        if self.first_out.first() != Some(&0)
            || self.first_out.last().map(|&x| x as usize) != Some(m)
        {
            return Err("arc offsets do not cover the arcs".into());
        }
        if self.first_out.windows(2).any(|w| w[0] > w[1]) {
            return Err("arc offsets are not sorted".into());
        }
        if self.arc_time_ms.len() != m || self.arc_segment.len() != m {
            return Err("arc arrays disagree in length".into());
        }
        if self.arc_head.iter().any(|&h| h as usize >= n) {
            return Err("an arc points past the last node".into());
        }
        if self
            .arc_segment
            .iter()
            .any(|&x| (x & !ARC_REVERSED) as usize >= s)
        {
            return Err("an arc refers to a missing segment".into());
        }
        if self.seg_first_point.len() != s + 1
            || self.seg_way_id.len() != s
            || self.seg_name.len() != s
            || self.seg_class.len() != s
        {
            return Err("segment arrays disagree in length".into());
        }
        if self.seg_first_point.last().map(|&x| x as usize) != Some(self.points.len())
            || self
                .seg_first_point
                .windows(2)
                .any(|w| u64::from(w[1]) < u64::from(w[0]) + 2)
        {
            return Err("segment shapes are inconsistent".into());
        }
        if self
            .seg_name
            .iter()
            .any(|&x| x as usize >= self.names.len())
        {
            return Err("a segment refers to a missing name".into());
        }
        if self
            .seg_class
            .iter()
            .any(|&c| crate::tags::RoadClass::from_u8(c).is_none())
        {
            return Err("a segment has an unknown road class".into());
        }
        Ok(())
    }
}
