//! The coverage policy's part of a run (DMEXCLP-style, see [`crate::coverage`]): the
//! coverage tables built from the map, the reserve rule that keeps a station's last crew
//! from non-urgent calls, the calls held for it, and the move-up into an emptied station.

use std::collections::VecDeque;

use dispatch_core::CrewType;
use router::EtaIndex;

use super::sim::{Phase, Sim};
use super::{RunOptions, World};
use crate::calls::CallSpec;
use crate::coverage::Coverage;
use crate::error::SimError;
use crate::scheduler::HOUR_MS;

/// What the reserve rule says of a non-urgent call.
pub(super) enum Reserve {
    Go,
    Send(Option<String>),
    Hold,
}

impl Sim<'_> {
    pub(super) fn reserve_check(&mut self, i: usize) -> Reserve {
        let Some(at) = self.snapped(i) else {
            return Reserve::Go;
        };
        let Some(choice) = self.d.best_by_road(&at, CrewType::General) else {
            return Reserve::Go;
        };
        let Some(cv) = self.coverage.as_ref() else {
            return Reserve::Go;
        };
        let limit = self.opts.coverage.reserve_share * cv.total();
        let kept = |crew_id: &str| -> bool {
            let c = &self.crews[self.by_id[crew_id] as usize];
            match c.counted {
                Some(s) => cv.idle_at(s) == 1 && cv.sole_cover(s) > limit,
                None => false,
            }
        };
        match choice
            .candidates
            .iter()
            .position(|cand| !kept(&cand.crew_id))
        {
            Some(0) => Reserve::Go,
            Some(k) => Reserve::Send(Some(choice.candidates[k].crew_id.clone())),
            None => Reserve::Hold,
        }
    }

    pub(super) fn retry_held(&mut self) -> Result<(), SimError> {
        let max_hold = (self.opts.coverage.max_hold_s * 1000.0).round() as i64;
        let now = self.now();
        let mut still = VecDeque::new();
        while let Some(i) = self.held.pop_front() {
            if now - self.calls[i].t >= max_hold {
                self.enter_call(i, None)?;
                continue;
            }
            match self.reserve_check(i) {
                Reserve::Hold => still.push_back(i),
                Reserve::Go => self.enter_call(i, None)?,
                Reserve::Send(alt) => self.enter_call(i, alt)?,
            }
        }
        self.held = still;
        Ok(())
    }

    /// The coverage policy's move-up into a station a crew just left.
    pub(super) fn maybe_move_up(&mut self, to: usize) {
        let Some(cv) = self.coverage.as_mut() else {
            return;
        };
        if cv.idle_at(to) > 0 {
            return;
        }
        let min_gain = self.opts.coverage.move_up_min_share * cv.total();
        let max_ms = (self.opts.coverage.max_move_s * 1000.0).round() as u32;
        let mut standing = vec![false; self.world.stations.len()];
        for c in &self.crews {
            if let (Some(s), Phase::Idle) = (c.counted, c.phase) {
                standing[s] |= c.base == s;
            }
        }
        let Some((from, _gain)) = cv.best_move_up(to, max_ms, min_gain, |s| standing[s]) else {
            return;
        };
        let Some(c) = self
            .crews
            .iter()
            .position(|c| c.counted == Some(from) && c.phase == Phase::Idle && c.base == from)
        else {
            return;
        };
        self.count(|r| &mut r.1);
        self.stop(c as u32);
        self.send_to_station(c as u32, to);
    }
}

/// The coverage tables: driving times from each station to every demand cell and station.
pub(super) fn build_coverage(
    world: &World,
    calls: &[CallSpec],
    opts: &RunOptions,
) -> Result<Coverage, SimError> {
    let router = &world.router;
    let mut index = EtaIndex::one_to_many(router);
    let cells = &world.demand.cells;
    for (i, c) in cells.iter().enumerate() {
        index.set(router, i as u32, c.snapped);
    }
    for (j, s) in world.stations.iter().enumerate() {
        index.set(router, (cells.len() + j) as u32, s.snapped);
    }
    let mut station_cell = Vec::with_capacity(world.stations.len());
    let mut station_station = Vec::with_capacity(world.stations.len());
    for s in &world.stations {
        let mut etas = index.etas(router, &s.snapped);
        etas.resize(cells.len() + world.stations.len(), None);
        station_station.push(etas.split_off(cells.len()));
        station_cell.push(etas);
    }
    let q = match opts.coverage.busy_fraction {
        Some(q) => q,
        None => estimate_busy_fraction(calls, opts.hours, world.crew_station.len()),
    };
    Ok(Coverage::new(
        cells.iter().map(|c| c.weight).collect(),
        &station_cell,
        station_station,
        opts.coverage.threshold_s,
        q,
        world.crew_station.len(),
    ))
}

/// The share of time a crew is busy, estimated from the call stream: calls per hour times
/// the mean time a call takes a crew (turnout, about 10 min each way for the drives, on
/// scene, and for transports 10 min more and the handover), over the crews; within
/// [0.05, 0.95].
pub fn estimate_busy_fraction(calls: &[CallSpec], hours: f64, crews: usize) -> f64 {
    if calls.is_empty() || crews == 0 {
        return 0.05;
    }
    let drive_ms = 600_000.0;
    let total_ms: f64 = calls
        .iter()
        .map(|c| {
            let mut t = c.turnout_ms as f64 + 2.0 * drive_ms + c.on_scene_ms as f64;
            if c.transport {
                t += drive_ms + c.handover_ms as f64;
            }
            t
        })
        .sum();
    (total_ms / (hours * HOUR_MS as f64 * crews as f64)).clamp(0.05, 0.95)
}
