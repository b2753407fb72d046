//! Coverage bookkeeping for the coverage-keeping policy (DMEXCLP-style, after Jagtenberg,
//! van der Mei & Bhulai, "An efficient heuristic for real-time ambulance redeployment",
//! Operations Research for Health Care, 2015).
//!
//! Each demand cell `i` has a weight `w_i` and `k_i`, the number of idle crews based at
//! stations that reach it within the threshold `T` (crews driving back to a station count
//! at that station). With every crew busy with probability `q`, the expected covered
//! demand is `Σ w_i (1 − q^{k_i})`; one more crew at station `b` adds
//! `Σ_{i ∈ cover(b)} w_i (1 − q) q^{k_i}`. The policy uses that in three places:
//!
//! * a crew that becomes free goes to the station where it adds the most (ties: the first
//!   station), instead of its home;
//! * when a busy crew leaves a station empty, the idle crew whose move there gains the most
//!   expected coverage (at least `move_up_min_share` of the demand, from a station that
//!   keeps another idle crew, within `max_move_s` of driving) moves up;
//! * a non-urgent call does not take a crew that is the last idle crew of its station when
//!   that station alone covers more than `reserve_share` of the demand; the next of the five
//!   best candidates is sent, or the call waits (at most `max_hold_s`) for a crew to come
//!   free.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Settings of the coverage-keeping policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoverageOptions {
    /// A cell is covered by a station that reaches it within this time (s).
    pub threshold_s: f64,
    /// The probability `q` that a crew is busy; `None`: estimated from the workload.
    pub busy_fraction: Option<f64>,
    /// A station whose last idle crew alone covers more than this share of the demand
    /// keeps that crew for emergencies and urgent calls.
    pub reserve_share: f64,
    /// A non-urgent call held back for coverage waits at most this long (s).
    pub max_hold_s: f64,
    /// A move-up must gain at least this share of the demand in expected coverage.
    pub move_up_min_share: f64,
    /// A move-up drives at most this long (s).
    pub max_move_s: f64,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            threshold_s: 480.0,
            busy_fraction: None,
            reserve_share: 0.02,
            max_hold_s: 900.0,
            move_up_min_share: 0.005,
            max_move_s: 900.0,
        }
    }
}

impl CoverageOptions {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        SimError::non_negative("--coverage-threshold-s", self.threshold_s)?;
        SimError::non_negative("--reserve-share", self.reserve_share)?;
        SimError::non_negative("--max-hold-s", self.max_hold_s)?;
        SimError::non_negative("--move-up-min-share", self.move_up_min_share)?;
        SimError::non_negative("--max-move-s", self.max_move_s)?;
        if let Some(q) = self.busy_fraction {
            if !(q.is_finite() && (0.0..1.0).contains(&q)) {
                return Err(SimError::setting(
                    "--busy-fraction",
                    format!("must be in [0, 1), not {q}"),
                ));
            }
        }
        Ok(())
    }
}

/// The coverage state of a run.
#[derive(Debug, Clone)]
pub struct Coverage {
    weights: Vec<f64>,
    /// Cells each station covers.
    covers: Vec<Vec<u32>>,
    /// Idle crews counted at each cell.
    k: Vec<u32>,
    /// Idle crews counted at each station.
    idle: Vec<u32>,
    /// `(1 − q) q^k` for k = 0, 1, ...
    gain: Vec<f64>,
    total: f64,
    /// Driving time between stations (ms), `[from][to]`.
    station_ms: Vec<Vec<Option<u32>>>,
}

impl Coverage {
    /// The coverage state with no crew counted: `station_cell_ms[s][i]` is the driving time
    /// from station `s` to cell `i`, `station_ms[a][b]` between stations.
    pub fn new(
        weights: Vec<f64>,
        station_cell_ms: &[Vec<Option<u32>>],
        station_ms: Vec<Vec<Option<u32>>>,
        threshold_s: f64,
        q: f64,
        crews: usize,
    ) -> Coverage {
        let limit = (threshold_s * 1000.0).round() as u64;
        let covers = station_cell_ms
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(_, t)| t.is_some_and(|t| u64::from(t) <= limit))
                    .map(|(i, _)| i as u32)
                    .collect()
            })
            .collect();
        let gain = (0..=crews + 1)
            .map(|k| (1.0 - q) * q.powi(k as i32))
            .collect();
        Coverage {
            total: weights.iter().sum(),
            k: vec![0; weights.len()],
            idle: vec![0; station_cell_ms.len()],
            weights,
            covers,
            gain,
            station_ms,
        }
    }

    fn g(&self, k: u32) -> f64 {
        self.gain.get(k as usize).copied().unwrap_or(0.0)
    }

    /// Total demand weight.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Idle crews counted at station `s`.
    pub fn idle_at(&self, s: usize) -> u32 {
        self.idle[s]
    }

    /// Counts an idle crew at station `s`.
    pub fn add(&mut self, s: usize) {
        self.idle[s] += 1;
        for &i in &self.covers[s] {
            self.k[i as usize] += 1;
        }
    }

    /// Stops counting an idle crew at station `s`.
    pub fn remove(&mut self, s: usize) {
        debug_assert!(self.idle[s] > 0);
        self.idle[s] = self.idle[s].saturating_sub(1);
        for &i in &self.covers[s] {
            let k = &mut self.k[i as usize];
            *k = k.saturating_sub(1);
        }
    }

    /// What one more crew at station `s` adds to the expected covered demand.
    pub fn marginal_add(&self, s: usize) -> f64 {
        self.covers[s]
            .iter()
            .map(|&i| self.weights[i as usize] * self.g(self.k[i as usize]))
            .sum()
    }

    /// What one crew fewer at station `s` takes away (it has one counted).
    pub fn marginal_remove(&self, s: usize) -> f64 {
        self.covers[s]
            .iter()
            .map(|&i| {
                let k = self.k[i as usize];
                if k == 0 {
                    0.0
                } else {
                    self.weights[i as usize] * self.g(k - 1)
                }
            })
            .sum()
    }

    /// Demand that only station `s`'s idle crews cover (zero if none is counted there).
    pub fn sole_cover(&self, s: usize) -> f64 {
        if self.idle[s] == 0 {
            return 0.0;
        }
        let own = self.idle[s];
        self.covers[s]
            .iter()
            .filter(|&&i| self.k[i as usize] == own)
            .map(|&i| self.weights[i as usize])
            .sum()
    }

    /// The station where one more crew adds the most (ties: the lowest index).
    pub fn best_station(&self) -> usize {
        let mut best = (0, f64::NEG_INFINITY);
        for s in 0..self.covers.len() {
            let m = self.marginal_add(s);
            if m > best.1 {
                best = (s, m);
            }
        }
        best.0
    }

    /// The best move-up into station `to` (just left empty): `(from station, gain)`, from a
    /// station keeping at least one other idle crew, within `max_move_ms`, gaining at least
    /// `min_gain`; `donors` says which stations have an idle crew standing there.
    pub fn best_move_up(
        &mut self,
        to: usize,
        max_move_ms: u32,
        min_gain: f64,
        donors: impl Fn(usize) -> bool,
    ) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for from in 0..self.covers.len() {
            if from == to || self.idle[from] < 2 || !donors(from) {
                continue;
            }
            let Some(ms) = self.station_ms[from][to] else {
                continue;
            };
            if ms > max_move_ms {
                continue;
            }
            self.remove(from);
            let gain = self.marginal_add(to);
            self.add(from);
            let gain = gain - self.marginal_remove(from);
            if gain >= min_gain && best.is_none_or(|(_, g)| gain > g) {
                best = Some((from, gain));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two stations, three cells: A covers cells 0 and 1, B covers 1 and 2.
    fn two_stations(q: f64) -> Coverage {
        let near = Some(100_000);
        let far = Some(900_000);
        Coverage::new(
            vec![1.0, 2.0, 4.0],
            &[vec![near, near, far], vec![far, near, near]],
            vec![vec![Some(0), Some(60_000)], vec![Some(60_000), Some(0)]],
            480.0,
            q,
            4,
        )
    }

    #[test]
    fn marginal_coverage_follows_the_formula() {
        let mut c = two_stations(0.5);
        assert_eq!(c.marginal_add(0), (1.0 + 2.0) * 0.5);
        assert_eq!(c.marginal_add(1), (2.0 + 4.0) * 0.5);
        assert_eq!(c.best_station(), 1);
        c.add(1);
        // Cell 1 now has one crew: (1 - q) q = 0.25.
        assert_eq!(c.marginal_add(0), 1.0 * 0.5 + 2.0 * 0.25);
        assert_eq!(c.marginal_add(1), (2.0 + 4.0) * 0.25);
        assert_eq!(c.best_station(), 1);
        assert_eq!(c.marginal_remove(1), (2.0 + 4.0) * 0.5);
        assert_eq!(c.sole_cover(1), 6.0);
        c.add(0);
        assert_eq!(c.sole_cover(1), 4.0);
        c.remove(1);
        assert_eq!(c.sole_cover(1), 0.0);
        assert_eq!(c.idle_at(0), 1);
    }

    #[test]
    fn move_up_needs_a_donor_with_a_spare_crew() {
        let mut c = two_stations(0.5);
        c.add(0);
        assert_eq!(c.best_move_up(1, 600_000, 0.0, |_| true), None);
        c.add(0);
        let (from, gain) = c.best_move_up(1, 600_000, 0.0, |_| true).unwrap();
        assert_eq!(from, 0);
        // Removing one of two crews at A loses (1 + 2)·0.25; adding at B gains (2·0.5 + 4·0.5)
        // with cell 1 then at k = 1: 2·0.25 + 4·0.5.
        assert!(
            (gain - (2.0 * 0.25 + 4.0 * 0.5 - 3.0 * 0.25)).abs() < 1e-12,
            "{gain}"
        );
        assert_eq!(c.best_move_up(1, 30_000, 0.0, |_| true), None);
        assert_eq!(c.best_move_up(1, 600_000, 10.0, |_| true), None);
        assert_eq!(c.best_move_up(1, 600_000, 0.0, |_| false), None);
        assert_eq!(c.idle_at(0), 2);
    }
}
