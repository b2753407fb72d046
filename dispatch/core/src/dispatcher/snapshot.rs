//! Snapshots: the dispatcher's state as data, to store and to start from instead of
//! replaying a whole event log.
//!
//! A [`Snapshot`] holds what the events built: the crews (by slot, so a crew added later
//! takes the same slot as it would have), the calls, the call id counter and the hospitals,
//! each with its point on the road. The indexes (available crews, ETA buckets, shift ends,
//! the queue, contested emergencies, counts of closed calls) are rebuilt from them by
//! [`Dispatcher::from_snapshot`], with the router as it is then, as a replay would. Cached
//! ETAs of responding crews are not kept (they are recomputed when needed).
//!
//! A snapshot fits the road graph it was taken on only: it names that graph by its size
//! and bounds, and restoring on another graph is refused (start from the log instead).

use std::sync::Arc;

use router::{Router, Snapped};
use serde::{Deserialize, Serialize};

use crate::call::Call;
use crate::crew::{Crew, CrewStatus};
use crate::error::DispatchError;
use crate::hospital::Hospital;
use crate::policy::DispatchConfig;

use super::Dispatcher;

/// The layout of [`Snapshot`]; a snapshot of another layout is refused.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The dispatcher's state as data (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_FORMAT`] when taken.
    pub format: u32,
    /// The road graph it was taken on.
    pub graph: GraphStamp,
    /// The crews by slot; `None` for a slot free to reuse.
    crews: Vec<Option<OnRoad<Crew>>>,
    /// The calls, by id.
    calls: Vec<OnRoad<Call>>,
    /// The id the next call gets.
    next_call_id: u64,
    /// The hospitals by slot.
    hospitals: Vec<OnRoad<Hospital>>,
}

impl Snapshot {
    /// How many crews and calls it holds.
    pub fn size(&self) -> (usize, usize) {
        (self.crews.iter().flatten().count(), self.calls.len())
    }
}

/// What names a road graph: its size and bounds (a snapshot is checked against it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphStamp {
    /// Nodes.
    pub nodes: u64,
    /// Arcs.
    pub arcs: u64,
    /// Segments.
    pub segments: u64,
    /// South-west and north-east corners, 1e-7 degrees (`[lat, lon, lat, lon]`).
    pub bounds: [i32; 4],
}

impl GraphStamp {
    /// The stamp of `router`'s graph.
    pub fn of(router: &Router) -> GraphStamp {
        let g = router.graph();
        let bounds = g
            .bounding_box()
            .map(|b| {
                let lo = osm_data::Coord::from_degrees(b.min_lat, b.min_lon);
                let hi = osm_data::Coord::from_degrees(b.max_lat, b.max_lon);
                [lo.lat_e7, lo.lon_e7, hi.lat_e7, hi.lon_e7]
            })
            .unwrap_or_default();
        GraphStamp {
            nodes: g.node_count() as u64,
            arcs: g.arc_count() as u64,
            segments: g.segment_count() as u64,
            bounds,
        }
    }
}

/// An item with its point on the road, which the item's own serialized form leaves out.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OnRoad<T> {
    #[serde(flatten)]
    item: T,
    on_road: Road,
}

/// A [`Snapped`] as data.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Road {
    segment: u32,
    fraction: f64,
    point: [i32; 2],
    distance_m: f64,
    input: [i32; 2],
}

impl From<&Snapped> for Road {
    fn from(s: &Snapped) -> Road {
        Road {
            segment: s.segment,
            fraction: s.fraction,
            point: [s.point.lat_e7, s.point.lon_e7],
            distance_m: s.distance_m,
            input: [s.input.lat_e7, s.input.lon_e7],
        }
    }
}

impl Road {
    /// The snapped point, checked against a graph of `segments` segments.
    fn snapped(&self, segments: u64) -> Result<Snapped, DispatchError> {
        if u64::from(self.segment) >= segments || !(0.0..=1.0).contains(&self.fraction) {
            return Err(DispatchError::Inconsistent(format!(
                "the snapshot's point on segment {} at {} is not on this map",
                self.segment, self.fraction
            )));
        }
        let coord = |c: [i32; 2]| osm_data::Coord {
            lat_e7: c[0],
            lon_e7: c[1],
        };
        Ok(Snapped {
            segment: self.segment,
            fraction: self.fraction,
            point: coord(self.point),
            distance_m: self.distance_m,
            input: coord(self.input),
        })
    }
}

impl Dispatcher {
    /// The state as data, to restore with [`Dispatcher::from_snapshot`].
    pub fn snapshot(&self) -> Snapshot {
        fn on_road<T>(item: T, s: &Snapped) -> OnRoad<T> {
            OnRoad {
                item,
                on_road: s.into(),
            }
        }
        Snapshot {
            format: SNAPSHOT_FORMAT,
            graph: GraphStamp::of(&self.router),
            crews: self
                .crews
                .iter()
                .map(|c| c.as_ref().map(|c| on_road(c.clone(), &c.snapped)))
                .collect(),
            calls: self
                .calls
                .values()
                .map(|c| on_road(c.clone(), &c.snapped))
                .collect(),
            next_call_id: self.next_call_id,
            hospitals: self
                .hospitals
                .iter()
                .map(|h| on_road(h.clone(), &h.snapped))
                .collect(),
        }
    }

    /// A dispatcher with the state of `snapshot`, its indexes rebuilt with `router` (see
    /// the module docs). Refused, with nothing built, when the snapshot is of another
    /// layout or another road graph, or does not hold together (a crew on a call that does
    /// not exist, two crews or calls with one id, ...).
    pub fn from_snapshot(
        router: Arc<Router>,
        config: DispatchConfig,
        snapshot: Snapshot,
    ) -> Result<Dispatcher, DispatchError> {
        let bad = |what: String| Err(DispatchError::Inconsistent(what));
        if snapshot.format != SNAPSHOT_FORMAT {
            return bad(format!(
                "a snapshot of format {}, this version reads format {SNAPSHOT_FORMAT}",
                snapshot.format
            ));
        }
        let here = GraphStamp::of(&router);
        if snapshot.graph != here {
            return bad(format!(
                "a snapshot of another road graph ({:?}, this one is {here:?})",
                snapshot.graph
            ));
        }
        let segments = here.segments;
        let mut d = Dispatcher::new(router, config);
        for kept in snapshot.calls {
            let mut call = kept.item;
            call.snapped = kept.on_road.snapped(segments)?;
            let id = call.id;
            if id.0 >= snapshot.next_call_id {
                return bad(format!(
                    "call {id} is not below the next call id {}",
                    snapshot.next_call_id
                ));
            }
            if d.calls.insert(call.id, call).is_some() {
                return Err(DispatchError::DuplicateCall(id));
            }
            if d.calls[&id].status.is_closed() {
                d.count_closed(id, 1);
            } else {
                d.open.insert(id);
            }
            d.reindex(id);
        }
        d.next_call_id = snapshot.next_call_id;
        for (slot, kept) in snapshot.crews.into_iter().enumerate() {
            let slot = slot as u32;
            let Some(kept) = kept else {
                d.crews.push(None);
                d.free_slots.insert(slot);
                continue;
            };
            let mut crew = kept.item;
            crew.snapped = kept.on_road.snapped(segments)?;
            if d.crew_slot.insert(crew.id.clone(), slot).is_some() {
                return Err(DispatchError::DuplicateCrew(crew.id));
            }
            if let Some(call) = crew.call {
                let on_it = d
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.assignment_of(&crew.id).is_some());
                if !on_it {
                    return bad(format!(
                        "crew {:?} works on call {call}, which does not list it",
                        crew.id
                    ));
                }
            }
            if crew.status == CrewStatus::Available {
                if let Some(end) = crew.shift_end {
                    d.shift_ends.insert((end, slot));
                }
                d.available.insert(&d.router, slot, crew.snapped.point);
                d.crew_etas.set(&d.router, slot, crew.snapped);
            }
            d.crews.push(Some(crew));
        }
        // Every crew an open call counts on works on it (the rules look crews up by them).
        for id in &d.open {
            for a in d.calls[id].active_assignments() {
                let on_it = d
                    .crew_slot
                    .get(&a.crew_id)
                    .and_then(|&s| d.crews[s as usize].as_ref())
                    .is_some_and(|c| c.call == Some(*id));
                if !on_it {
                    return bad(format!(
                        "call {id} counts on crew {:?}, which does not work on it",
                        a.crew_id
                    ));
                }
            }
        }
        for (slot, kept) in snapshot.hospitals.into_iter().enumerate() {
            let mut hospital = kept.item;
            hospital.snapped = kept.on_road.snapped(segments)?;
            if d.hospital_slot
                .insert(hospital.id.clone(), slot as u32)
                .is_some()
            {
                return Err(DispatchError::DuplicateHospital(hospital.id));
            }
            d.hospital_etas
                .set(&d.router, slot as u32, hospital.snapped);
            d.hospitals.push(hospital);
        }
        Ok(d)
    }
}
