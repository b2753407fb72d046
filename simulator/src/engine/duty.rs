//! Shifts: crews coming on and going off duty by the world's shift plan
//! ([`crate::shifts::Roster`]). A crew going off duty on a call finishes it first (the core's
//! shift-end rule), then drives home; a crew coming on duty is free at once where it is and
//! heads for its station.

use dispatch_core::{CrewEdit, CrewStatus};

use super::sim::{Ev, Phase, Sim};
use super::unix;
use crate::error::SimError;
use crate::scheduler::{Rank, SimTime, HOUR_MS};

impl Sim<'_> {
    /// At the window's start: the crews off duty then are held off duty by the core, and a
    /// shift event is scheduled at each hour some crew comes on or goes off duty.
    pub(super) fn start_duty(&mut self) -> Result<(), SimError> {
        if self.world.roster.is_none() {
            return Ok(());
        }
        let first = self.window.admit_from.div_euclid(HOUR_MS);
        for c in 0..self.crews.len() {
            if !self.world.on_duty(c, first) {
                self.set_shift_end(c as u32, Some(unix(0)), unix(0))?;
                self.crews[c].off_duty = true;
            }
        }
        for h in first + 1..=self.end.div_euclid(HOUR_MS) {
            let changes = (0..self.crews.len())
                .any(|c| self.world.on_duty(c, h - 1) != self.world.on_duty(c, h));
            if changes {
                self.q.at(h * HOUR_MS, Rank::Shift, Ev::Shift);
            }
        }
        Ok(())
    }

    /// An hour when crews come on or go off duty.
    pub(super) fn on_shift(&mut self) -> Result<(), SimError> {
        let h = self.now() / HOUR_MS;
        for c in 0..self.crews.len() {
            let (was, is) = (self.world.on_duty(c, h - 1), self.world.on_duty(c, h));
            // A crew driving home before it is free (`--station-only`) checks its shift when
            // it gets there.
            if was == is || self.crews[c].homing {
                continue;
            }
            let c = c as u32;
            let now = unix(self.now());
            if is {
                self.set_shift_end(c, None, now)?;
                if self.crews[c as usize].off_duty {
                    self.crews[c as usize].off_duty = false;
                    self.set_status(c, CrewStatus::Available)?;
                }
            } else {
                // Off duty at once if free, else when its call is done.
                self.set_shift_end(c, Some(now), now)?;
            }
        }
        Ok(())
    }

    fn set_shift_end(&mut self, c: u32, end: Option<i64>, now: i64) -> Result<(), SimError> {
        let id = self.crews[c as usize].id.clone();
        let edit = CrewEdit {
            shift_end: Some(end),
            ..CrewEdit::default()
        };
        let events = self
            .d
            .update_crew(&id, edit, now)
            .map_err(|e| self.fail(e))?;
        self.absorb(events)
    }

    /// The core sent a crew off duty (its shift is over): it leaves the coverage count and
    /// drives home, where it waits for its next shift.
    pub(super) fn shift_over(&mut self, c: u32) {
        self.stop(c);
        self.uncount(c);
        let crew = &mut self.crews[c as usize];
        crew.off_duty = true;
        crew.call = None;
        let home = self.world.crew_station[c as usize];
        crew.base = home;
        let target = self.world.stations[home].snapped;
        let here = crew.at;
        crew.phase = Phase::Idle;
        if here.segment == target.segment && (here.fraction - target.fraction).abs() < 1e-9 {
            return;
        }
        // Cut off from its station, it waits where it is.
        self.start_drive(
            c,
            &target,
            Phase::Returning,
            Ev::AtStation,
            Rank::AtStation,
            None,
        );
    }

    /// Crew-hours on duty within the window's reported stretch of the hours of calls, under
    /// a shift plan.
    pub(super) fn crew_hours(&self) -> Option<f64> {
        self.world.roster.as_ref()?;
        let calls_end = (self.opts.hours * HOUR_MS as f64).round() as SimTime;
        let from = self.window.report_from.max(0);
        let until = self.window.report_until.min(calls_end);
        let mut total_ms = 0i64;
        let mut t = from;
        while t < until {
            let h = t.div_euclid(HOUR_MS);
            let next = ((h + 1) * HOUR_MS).min(until);
            let on = (0..self.crews.len())
                .filter(|&c| self.world.on_duty(c, h))
                .count() as i64;
            total_ms += on * (next - t);
            t = next;
        }
        Some(total_ms as f64 / HOUR_MS as f64)
    }
}
