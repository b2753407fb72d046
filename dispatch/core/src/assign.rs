//! Finding the best crew for a need: exact road ETAs for every crew at once (bucket
//! many-to-one), a straight-line nearest search over an R-tree of the available crews, and
//! a pruned exact search that walks crews in straight-line order and stops early.
//!
//! Which crews qualify: `available` ones whose type can serve the need
//! ([`CrewType::can_serve`]); an interim role admits only `general` crews. Unreachable crews
//! (cut off by closures) never qualify. The best is the smallest ETA, ties to the lowest
//! crew id; the candidates are the five best in that order.
//!
//! The pruned search's lower bound: a route is a polyline on the map from the crew's
//! snapped point to the call's, so in the R-tree's projected plane it is at least as long as
//! the straight line between them; and every part of it takes at least its projected length
//! divided by the fastest projected speed of any arc (segment's projected length over the
//! arc's effective travel time; closed arcs count with their normal time, as the router
//! drives them near a point). Snapped positions share the projection used for the fractions
//! along segments, so the bound holds exactly, up to rounding, which a 3 ms margin covers.

use osm_data::Coord;
use router::cch::INF;
use router::{Router, Snapped};
use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree};

use crate::crew::{Crew, CrewStatus, CrewType};
use crate::dispatcher::Dispatcher;
use crate::policy::{top_k, Candidate, Choice, Policy, CANDIDATES};

/// Road ETAs (ms) of crews to one point, as `(slot, eta)` ascending by slot: every
/// available crew's ([`Dispatcher::crew_etas_to`]) or only what a decision needs
/// ([`Dispatcher::best_crew_etas_to`]). A crew not listed has no ETA here.
#[derive(Debug, Clone, Default)]
pub(crate) struct CrewEtas(Vec<(u32, u32)>);

impl CrewEtas {
    /// The ETA of the crew in `slot`, if listed.
    pub(crate) fn get(&self, slot: u32) -> Option<u32> {
        let i = self.0.binary_search_by_key(&slot, |&(s, _)| s).ok()?;
        Some(self.0[i].1)
    }
}

/// A crew position in the R-tree: projected metres, with the crew's slot.
pub(crate) type TreePoint = GeomWithData<[f64; 2], u32>;

/// The R-tree of the available crews' positions. The straight-line policy asks it on every
/// decision, so there it follows every change. Under the road-ETA policy (the buckets
/// answer) only the pruned search asks it, so there changes only mark it stale and it is
/// rebuilt when next asked: moving crews report every few seconds, and each report would
/// otherwise cost a removal and an insertion.
#[derive(Debug)]
pub(crate) struct CrewTree {
    tree: RTree<TreePoint>,
    /// Follow every change (else mark stale).
    eager: bool,
    stale: bool,
}

impl CrewTree {
    pub(crate) fn new(eager: bool) -> CrewTree {
        CrewTree {
            tree: RTree::new(),
            eager,
            stale: false,
        }
    }

    /// The entry of the crew in `slot` at `at`: its projected point.
    fn point(router: &Router, slot: u32, at: Coord) -> TreePoint {
        GeomWithData::new(router.snap_index().project(at), slot)
    }

    /// The crew in `slot` is available at `at` (projected only if the tree follows).
    pub(crate) fn insert(&mut self, router: &Router, slot: u32, at: Coord) {
        if self.eager {
            self.tree.insert(CrewTree::point(router, slot, at));
        } else {
            self.stale = true;
        }
    }

    /// The crew in `slot`, available at `at`, is no longer.
    pub(crate) fn remove(&mut self, router: &Router, slot: u32, at: Coord) {
        if self.eager {
            self.tree.remove(&CrewTree::point(router, slot, at));
        } else {
            self.stale = true;
        }
    }

    /// Builds the tree anew from every available crew's slot and position.
    fn rebuild(&mut self, router: &Router, crews: impl Iterator<Item = (u32, Coord)>) {
        let points = crews.map(|(slot, at)| CrewTree::point(router, slot, at));
        self.tree = RTree::bulk_load(points.collect());
        self.stale = false;
    }

    /// The tree, if it is current.
    pub(crate) fn current(&self) -> Option<&RTree<TreePoint>> {
        (!self.stale).then_some(&self.tree)
    }
}

/// The role a crew is sought for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// One of the call's needs.
    Need(CrewType),
    /// A general crew sent while a specialist is far or not free.
    Interim,
}

impl Role {
    /// Whether a crew of type `t` can take this role.
    pub(crate) fn admits(self, t: CrewType) -> bool {
        match self {
            Role::Need(n) => t.can_serve(n),
            Role::Interim => t == CrewType::General,
        }
    }
}

/// The fastest speed anywhere on the map, for the pruned search's lower bound.
#[derive(Debug)]
pub(crate) struct SpeedBound {
    /// Projected length of each segment (metres).
    seg_len: Vec<f64>,
    /// The weights version the speed was computed for.
    version: Option<u64>,
    /// Metres per millisecond (infinite when some arc takes no time).
    max_m_per_ms: f64,
}

impl SpeedBound {
    pub(crate) fn new(router: &Router) -> SpeedBound {
        let g = router.graph();
        let snap = router.snap_index();
        let seg_len = (0..g.segment_count() as u32)
            .map(|s| {
                let pts: Vec<[f64; 2]> = g
                    .segment_points(s)
                    .iter()
                    .map(|&c| snap.project(c))
                    .collect();
                pts.windows(2)
                    .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
                    .sum()
            })
            .collect();
        SpeedBound {
            seg_len,
            version: None,
            max_m_per_ms: f64::INFINITY,
        }
    }

    /// Refreshes the speed for the router's current weights.
    pub(crate) fn refresh(&mut self, router: &Router) {
        let live = router.live();
        if self.version == Some(live.version) {
            return;
        }
        let g = router.graph();
        let mut max = 0.0f64;
        for a in 0..g.arc_count() {
            let w = live.weights[a];
            let w = if w == INF { g.arc_time_ms[a] } else { w };
            let len = self.seg_len[g.arc_segment(a as u32).0 as usize];
            if w == 0 {
                if len > 0.0 {
                    max = f64::INFINITY;
                }
                continue;
            }
            max = max.max(len / f64::from(w));
        }
        self.max_m_per_ms = max;
        self.version = Some(live.version);
    }

    /// A lower bound (ms) on the road time between two snapped points `d` projected metres
    /// apart.
    pub(crate) fn lower_bound_ms(&self, d: f64) -> u32 {
        if !(self.max_m_per_ms.is_finite() && self.max_m_per_ms > 0.0) {
            return 0;
        }
        let t = (d / self.max_m_per_ms).floor() - 3.0;
        if t <= 0.0 {
            0
        } else {
            t.min(f64::from(u32::MAX)) as u32
        }
    }
}

impl Dispatcher {
    /// A point projected into the R-tree's plane.
    pub(crate) fn project(&self, c: Coord) -> [f64; 2] {
        self.router.snap_index().project(c)
    }

    /// Rebuilds the R-tree of the available crews if it is stale.
    pub(crate) fn update_available_tree(&mut self) {
        if self.available.current().is_none() {
            let crews = self.crews.iter().enumerate().filter_map(|(slot, c)| {
                let c = c.as_ref()?;
                (c.status == CrewStatus::Available).then_some((slot as u32, c.snapped.point))
            });
            self.available.rebuild(&self.router, crews);
        }
    }

    /// Exact road ETAs (ms) of every available crew to `at`, by slot (`None`: empty slot,
    /// busy crew or unreachable; see [`Dispatcher::crew_eta`] for any crew).
    pub(crate) fn crew_etas_to(&mut self, at: &Snapped) -> CrewEtas {
        let etas = self.crew_etas.etas(&self.router, at);
        CrewEtas(
            etas.into_iter()
                .enumerate()
                .filter_map(|(slot, eta)| Some((slot as u32, eta?)))
                .collect(),
        )
    }

    /// What [`Dispatcher::candidates`] for `role` needs and no more: the exact road ETAs (ms)
    /// of the five best available crews able to take `role` (ties at the fifth included)
    /// and of the crews in `also` (by slot), `None` for every other crew. The buckets that
    /// cannot hold one of these are not scanned (`EtaIndex::best_etas`), so this costs a
    /// fraction of [`Dispatcher::crew_etas_to`] when many crews are free.
    pub(crate) fn best_crew_etas_to(&mut self, at: &Snapped, role: Role, also: &[u32]) -> CrewEtas {
        let crews = &self.crews;
        let able = |slot: u32| {
            crews
                .get(slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|c| c.status == CrewStatus::Available && role.admits(c.crew_type))
        };
        CrewEtas(
            self.crew_etas
                .best_etas(&self.router, at, CANDIDATES, able, also),
        )
    }

    /// The exact road ETA (ms) of the crew in `slot` to `at`: from `etas` (those of
    /// [`Dispatcher::crew_etas_to`] for `at`) for an available crew, computed one to one for
    /// a busy one. Both are the exact fastest time, so they are the same number.
    pub(crate) fn crew_eta(&self, slot: u32, at: &Snapped, etas: &CrewEtas) -> Option<u32> {
        let crew = self.crews.get(slot as usize)?.as_ref()?;
        if crew.status == CrewStatus::Available {
            etas.get(slot)
        } else {
            self.router.eta(&crew.snapped, at)
        }
    }

    /// The available crews able to take `role`, as slots.
    fn able_slots(&self, role: Role) -> impl Iterator<Item = (u32, &Crew)> {
        self.crews.iter().enumerate().filter_map(move |(s, c)| {
            let c = c.as_ref()?;
            (c.status == CrewStatus::Available && role.admits(c.crew_type)).then_some((s as u32, c))
        })
    }

    /// The five best candidates for `role` by road ETA, from ETAs indexed by slot. The
    /// order is [`crate::policy::candidate_order`]; the five are selected before any crew
    /// id is copied (this runs for every call over every crew).
    pub(crate) fn candidates(&self, etas: &CrewEtas, role: Role) -> Vec<Candidate> {
        let mut all: Vec<(u32, &str)> = etas
            .0
            .iter()
            .filter_map(|&(s, eta)| {
                let c = self.crews.get(s as usize)?.as_ref()?;
                (c.status == CrewStatus::Available && role.admits(c.crew_type))
                    .then_some((eta, c.id.as_str()))
            })
            .collect();
        if all.len() > CANDIDATES {
            all.select_nth_unstable(CANDIDATES - 1);
            all.truncate(CANDIDATES);
        }
        all.sort_unstable();
        all.into_iter()
            .map(|(eta_ms, id)| Candidate {
                crew_id: id.to_string(),
                eta_ms,
            })
            .collect()
    }

    /// The available crew for `role` nearest to `at` in a straight line that `accept`s,
    /// with its distance (projected metres); equal distances go to the lowest crew id.
    fn nearest_slot_by_line(
        &self,
        at: &Snapped,
        role: Role,
        accept: impl Fn(u32) -> bool,
    ) -> Option<(u32, f64)> {
        let q = self.project(at.point);
        let mut best: Option<(u32, f64)> = None;
        // Current under the straight-line policy; the others call this after
        // `update_available_tree`.
        let tree = self.available.current();
        debug_assert!(tree.is_some(), "straight-line search on a stale R-tree");
        let tree = tree?;
        for p in tree.nearest_neighbor_iter(&q) {
            let d = p.distance_2(&q).sqrt();
            if let Some((_, bd)) = best {
                if d > bd {
                    break;
                }
            }
            let slot = p.data;
            let Some(crew) = self.crews[slot as usize].as_ref() else {
                continue;
            };
            if !role.admits(crew.crew_type) || !accept(slot) {
                continue;
            }
            best = match best {
                Some((b, _)) if self.crew_id_of(b) <= crew.id.as_str() => best,
                _ => Some((slot, d)),
            };
        }
        best
    }

    pub(crate) fn crew_id_of(&self, slot: u32) -> &str {
        self.crews[slot as usize]
            .as_ref()
            .map(|c| c.id.as_str())
            .unwrap_or("")
    }

    /// The crew the configured policy picks for `role` at `at`: `(slot, eta, candidates)`.
    pub(crate) fn choose(
        &self,
        at: &Snapped,
        etas: &CrewEtas,
        role: Role,
    ) -> Option<(u32, u32, Vec<Candidate>)> {
        let candidates = self.candidates(etas, role);
        match self.config.policy {
            Policy::RoadEta => {
                let best = candidates.first()?;
                let slot = self.crew_slot[&best.crew_id];
                Some((slot, best.eta_ms, candidates))
            }
            Policy::StraightLine => {
                let eta = |s: u32| etas.get(s);
                let (slot, _) = self.nearest_slot_by_line(at, role, |s| eta(s).is_some())?;
                Some((slot, eta(slot)?, candidates))
            }
        }
    }

    /// The available crew able to serve `need` with the smallest exact road ETA to `at`
    /// (ties: lowest crew id), with the five best candidates; from one bucket many-to-one
    /// query over every crew.
    pub fn best_by_road(&mut self, at: &Snapped, need: CrewType) -> Option<Choice> {
        let etas = self.crew_etas_to(at);
        Choice::best_of(self.candidates(&etas, Role::Need(need)))
    }

    /// The same answer as [`Dispatcher::best_by_road`], found by walking the available crews
    /// in straight-line order and computing exact ETAs one by one (`Router::eta`) until the
    /// lower bound of the next crew (straight-line distance over the fastest speed on the
    /// map) exceeds the fifth best ETA found (or the k-th, when only k < 5 crews qualify).
    /// The bound must *exceed* it, not just reach it: a crew at exactly that ETA with a lower
    /// id would change the candidates.
    pub fn best_by_road_pruned(&mut self, at: &Snapped, need: CrewType) -> Option<Choice> {
        self.pruned_search(at, need).0
    }

    /// [`Dispatcher::best_by_road_pruned`] with the number of exact ETAs it computed.
    pub(crate) fn pruned_search(
        &mut self,
        at: &Snapped,
        need: CrewType,
    ) -> (Option<Choice>, usize) {
        self.speed.refresh(&self.router);
        let role = Role::Need(need);
        let k = self.able_slots(role).take(CANDIDATES).count();
        if k == 0 {
            return (None, 0);
        }
        let mut evaluated = 0;
        let q = self.project(at.point);
        let mut found: Vec<Candidate> = Vec::with_capacity(k + 1);
        self.update_available_tree();
        let Some(tree) = self.available.current() else {
            return (None, 0);
        };
        for p in tree.nearest_neighbor_iter(&q) {
            let lb = self.speed.lower_bound_ms(p.distance_2(&q).sqrt());
            if found.len() >= k && lb > found[k - 1].eta_ms {
                break;
            }
            let Some(crew) = self.crews[p.data as usize].as_ref() else {
                continue;
            };
            if !role.admits(crew.crew_type) {
                continue;
            }
            evaluated += 1;
            if let Some(eta) = self.router.eta(&crew.snapped, at) {
                found.push(Candidate {
                    crew_id: crew.id.clone(),
                    eta_ms: eta,
                });
                found = top_k(found, k);
            }
        }
        (Choice::best_of(found), evaluated)
    }

    /// The available crew able to serve `need` nearest to `at` in a straight line (between
    /// snapped points; ties: lowest crew id), with the distance in metres.
    pub fn nearest_by_straight_line(
        &mut self,
        at: &Snapped,
        need: CrewType,
    ) -> Option<(String, f64)> {
        self.update_available_tree();
        let (slot, d) = self.nearest_slot_by_line(at, Role::Need(need), |_| true)?;
        Some((self.crew_id_of(slot).to_string(), d))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::crew::NewCrew;
    use crate::policy::DispatchConfig;

    fn router() -> Router {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/moscow-fragment.osm.pbf");
        let graph = osm_data::import(&path, &Default::default(), &mut |_| {})
            .unwrap()
            .graph;
        Router::new(graph, Default::default()).unwrap()
    }

    fn random_point(r: &Router, rng: &mut StdRng) -> Snapped {
        let b = r.graph().bounding_box().unwrap();
        loop {
            let lat = rng.gen_range(b.min_lat..b.max_lat);
            let lon = rng.gen_range(b.min_lon..b.max_lon);
            if let Ok(p) = r.snap(lat, lon) {
                return p;
            }
        }
    }

    #[test]
    fn lower_bound_never_exceeds_the_road_time_and_pruning_skips_crews() {
        let seed = 20_261_125;
        println!("seed {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        let r = Arc::new(router());
        let mut d = Dispatcher::new(r.clone(), DispatchConfig::default());
        d.speed.refresh(&r);
        println!("fastest: {:.1} km/h", d.speed.max_m_per_ms * 3_600.0);
        let mut tightest = 0.0f64;
        for _ in 0..3_000 {
            let (a, b) = (random_point(&r, &mut rng), random_point(&r, &mut rng));
            let (pa, pb) = (d.project(a.point), d.project(b.point));
            let dist = ((pa[0] - pb[0]).powi(2) + (pa[1] - pb[1]).powi(2)).sqrt();
            let lb = d.speed.lower_bound_ms(dist);
            let eta = r.eta(&a, &b).unwrap();
            assert!(lb <= eta, "bound {lb} > eta {eta} for {a:?} -> {b:?}");
            if eta > 0 {
                tightest = tightest.max(f64::from(lb) / f64::from(eta));
            }
        }
        println!("tightest bound/eta: {tightest:.3}");

        for i in 0..60 {
            let p = random_point(&r, &mut rng);
            let c = NewCrew {
                id: format!("C{i:02}"),
                crew_type: crate::CrewType::General,
                station: None,
                call_sign: None,
                shift_end: None,
                lat: p.point.lat(),
                lon: p.point.lon(),
            };
            d.add_crew(c, 0).unwrap();
        }
        let mut evaluated = 0;
        for _ in 0..100 {
            let at = random_point(&r, &mut rng);
            let (choice, n) = d.pruned_search(&at, crate::CrewType::General);
            assert_eq!(choice, d.best_by_road(&at, crate::CrewType::General));
            evaluated += n;
        }
        println!("pruned search: {evaluated} exact ETAs for 100 calls x 60 crews");
        assert!(evaluated < 100 * 60);
    }
}
