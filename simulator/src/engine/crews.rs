//! The crews' side: what a crew does at each step of a call (turnout, the drive, on scene,
//! the transport and handover, free again and back to its station), each step reported to
//! the core as a tablet would.

use dispatch_core::{CallId, Capability, CrewEdit, CrewStatus, Priority};
use router::Snapped;

use super::drive::Drive;
use super::sim::{Ev, Phase, Sim};
use super::unix;
use crate::calls::CallSpec;
use crate::error::SimError;
use crate::scheduler::{Rank, HOUR_MS};

impl Sim<'_> {
    pub(super) fn on_assigned(&mut self, c: u32, call: usize) {
        let was = self.crews[c as usize].phase;
        self.stop(c);
        self.uncount(c);
        let left_station = if was == Phase::Idle {
            Some(self.crews[c as usize].base)
        } else {
            None
        };
        let crew = &mut self.crews[c as usize];
        crew.call = Some(call);
        crew.phase = Phase::Turnout;
        // A crew standing at a station turns out; one already on the road starts at once.
        let turnout = if was == Phase::Idle {
            self.calls[call].turnout_ms
        } else {
            0
        };
        let tok = crew.token;
        self.q
            .at(self.now() + turnout, Rank::Turnout, Ev::Turnout(c, tok));
        if let Some(s) = left_station {
            self.maybe_move_up(s);
        }
    }

    /// Starts a crew's drive to `to`; `known_ms` is the drive's time if the caller already
    /// has it from where the crew is. Returns false if `to` cannot be reached.
    pub(super) fn start_drive(
        &mut self,
        c: u32,
        to: &Snapped,
        phase: Phase,
        arrive: fn(u32, u32) -> Ev,
        rank: Rank,
        known_ms: Option<u32>,
    ) -> bool {
        let now = self.now();
        let from = self.crews[c as usize].at;
        // The core uses the positions of free crews (to dispatch them), of crews on their
        // way to an emergency (re-assignment only takes emergencies over) and, with
        // diversion on, of crews on their way to any call (an emergency may divert them);
        // the positions of the others change no decision, so they are not reported, and
        // their drives are routed only if they are stopped on the way (which then routes
        // them).
        let matters = match phase {
            Phase::Returning => !self.opts.station_only && !self.crews[c as usize].off_duty,
            Phase::ToScene => {
                self.opts.rules.diversion
                    || self.crews[c as usize]
                        .call
                        .is_some_and(|i| self.calls[i].priority == Priority::Emergency)
            }
            _ => false,
        };
        let drive = if matters {
            match self.router.route_pieces(&from, to) {
                Ok(Some(route)) => Drive::new(&route, now),
                _ => return false,
            }
        } else {
            match known_ms.or_else(|| self.router.eta(&from, to)) {
                Some(ms) => Drive::lazy(from, *to, now, ms),
                None => return false,
            }
        };
        let end = drive.end;
        let crew = &mut self.crews[c as usize];
        crew.drive = Some(drive);
        crew.phase = phase;
        let tok = crew.token;
        self.q.at(end, rank, arrive(c, tok));
        if matters && now + self.interval < end {
            self.q
                .at(now + self.interval, Rank::Position, Ev::Position(c, tok));
        }
        true
    }

    pub(super) fn on_turnout(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        self.set_status(c, CrewStatus::EnRoute)?;
        let target = match self.d.call(CallId(self.calls[call].id)) {
            Some(k) => k.snapped,
            None => return Ok(()),
        };
        if self.start_drive(c, &target, Phase::ToScene, Ev::OnScene, Rank::OnScene, None) {
            let end = self.crews[c as usize].drive.as_ref().map_or(0, |d| d.end);
            self.maybe_break_down(c, call, end);
        } else {
            // Cut off (a closure): tell the core where the crew really is and stand it down;
            // the core sends another crew.
            self.count(|r| &mut r.3);
            self.report_position(c)?;
            self.crews[c as usize].phase = Phase::Idle;
            self.crews[c as usize].token += 1;
            self.set_status(c, CrewStatus::Available)?;
        }
        Ok(())
    }

    pub(super) fn arrive(&mut self, c: u32) {
        let crew = &mut self.crews[c as usize];
        if let Some(d) = crew.drive.take() {
            crew.at = d.target;
        }
    }

    pub(super) fn on_scene(&mut self, c: u32) -> Result<(), SimError> {
        self.stay(
            c,
            CrewStatus::OnScene,
            Phase::OnScene,
            |k| k.on_scene_ms,
            Rank::SceneDone,
            Ev::SceneDone,
        )
    }

    /// A crew arrived where it stays for a while (on scene, at the hospital): its position is
    /// reported, its status set, and the end of its stay (`dur` of its call) scheduled.
    pub(super) fn stay(
        &mut self,
        c: u32,
        status: CrewStatus,
        phase: Phase,
        dur: fn(&CallSpec) -> i64,
        rank: Rank,
        done: fn(u32, u32) -> Ev,
    ) -> Result<(), SimError> {
        self.arrive(c);
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        self.report_position(c)?;
        self.set_status(c, status)?;
        let crew = &mut self.crews[c as usize];
        crew.phase = phase;
        let tok = crew.token;
        self.q
            .at(self.now() + dur(&self.calls[call]), rank, done(c, tok));
        Ok(())
    }

    /// Sets a crew's status in the core now and takes in what followed.
    pub(super) fn set_status(&mut self, c: u32, to: CrewStatus) -> Result<(), SimError> {
        let id = self.crews[c as usize].id.clone();
        let events = self
            .d
            .set_crew_status(&id, to, unix(self.now()))
            .map_err(|e| self.fail(e))?;
        self.absorb(events)
    }

    pub(super) fn on_scene_done(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call else {
            return Ok(());
        };
        let id = self.crews[c as usize].id.clone();
        // One crew takes the patient: the first to finish on scene (of a call that needs
        // several crews, the others are free when they are done).
        let transport = self.calls[call].transport
            && !self.world.hospitals.is_empty()
            && self.hospital_of[call].is_none();
        if transport {
            let here = self.crews[c as usize].at;
            let chosen = match &self.calls[call].hospital {
                // A replayed call goes where the patient really went.
                Some(named) => self.world.hospital_index(named).map(|h| (h, None)),
                None => {
                    let found = self
                        .d
                        .hospital_for(&id, Capability::General)
                        .map_err(|e| self.fail(e))?;
                    found.and_then(|(hid, eta)| {
                        // The core's ETA is the drive's time if it was taken from where
                        // the crew is (the core holds the position the crew reported).
                        let known = self
                            .d
                            .crew(&id)
                            .is_some_and(|k| {
                                k.snapped.segment == here.segment
                                    && k.snapped.fraction == here.fraction
                            })
                            .then_some(eta);
                        self.world.hospital_index(&hid).map(|h| (h, known))
                    })
                }
            };
            let target = chosen.and_then(|(h, known)| {
                let at = self.d.hospital(&self.world.hospitals[h].id)?.snapped;
                Some((h, known, at))
            });
            if let Some((h, known, target)) = target {
                self.hospital_of[call] = Some(h);
                self.set_status(c, CrewStatus::Transporting)?;
                if self.start_drive(
                    c,
                    &target,
                    Phase::ToHospital,
                    Ev::AtHospital,
                    Rank::AtHospital,
                    known,
                ) {
                    return Ok(());
                }
                // Unreachable after all: hand over where it is.
                let crew = &mut self.crews[c as usize];
                crew.phase = Phase::ToHospital;
                let tok = crew.token;
                self.q
                    .at(self.now(), Rank::AtHospital, Ev::AtHospital(c, tok));
                return Ok(());
            }
        }
        self.crews[c as usize].call = None;
        self.done_with_call(c)
    }

    pub(super) fn on_at_hospital(&mut self, c: u32) -> Result<(), SimError> {
        self.stay(
            c,
            CrewStatus::AtHospital,
            Phase::Handover,
            |k| k.handover_ms,
            Rank::Handover,
            Ev::Handover,
        )
    }

    pub(super) fn on_handover(&mut self, c: u32) -> Result<(), SimError> {
        let Some(call) = self.crews[c as usize].call.take() else {
            return Ok(());
        };
        let now = unix(self.now());
        let events = self
            .d
            .handover_recorded(CallId(self.calls[call].id), now)
            .map_err(|e| self.fail(e))?;
        drop(events);
        self.done_with_call(c)
    }

    /// The crew's part of its call is done: it is free, or under
    /// [`super::RunOptions::station_only`] free once back at its station (the core holds it
    /// off duty on the way, by a shift end of now, so it takes no call there).
    pub(super) fn done_with_call(&mut self, c: u32) -> Result<(), SimError> {
        if self.opts.station_only && !self.at_base(c) {
            let id = self.crews[c as usize].id.clone();
            let now = unix(self.now());
            let edit = CrewEdit {
                shift_end: Some(Some(now)),
                ..CrewEdit::default()
            };
            self.d
                .update_crew(&id, edit, now)
                .map_err(|e| self.fail(e))?;
            self.crews[c as usize].homing = true;
        }
        self.set_status(c, CrewStatus::Available)
    }

    /// Whether a crew stands at its station.
    fn at_base(&self, c: u32) -> bool {
        let crew = &self.crews[c as usize];
        let home = self.world.stations[crew.base].snapped;
        crew.drive.is_none()
            && crew.at.segment == home.segment
            && (crew.at.fraction - home.fraction).abs() < 1e-9
    }

    /// A homing crew (held off duty by the core) drives back to its station.
    pub(super) fn go_home(&mut self, c: u32) -> Result<(), SimError> {
        self.stop(c);
        let base = self.station_for_freed(c);
        self.crews[c as usize].base = base;
        let target = self.world.stations[base].snapped;
        if self.start_drive(
            c,
            &target,
            Phase::Returning,
            Ev::AtStation,
            Rank::AtStation,
            None,
        ) {
            return Ok(());
        }
        // Cut off from its station: free where it is.
        self.back_on_duty(c)
    }

    /// A homing crew is free again (at its station, or cut off from it), unless its shift
    /// has ended meanwhile: then it stays off duty.
    fn back_on_duty(&mut self, c: u32) -> Result<(), SimError> {
        self.crews[c as usize].homing = false;
        self.crews[c as usize].phase = Phase::Idle;
        if !self.world.on_duty(c as usize, self.now() / HOUR_MS) {
            self.crews[c as usize].off_duty = true;
            return Ok(());
        }
        let id = self.crews[c as usize].id.clone();
        let now = unix(self.now());
        let edit = CrewEdit {
            shift_end: Some(None),
            ..CrewEdit::default()
        };
        self.d
            .update_crew(&id, edit, now)
            .map_err(|e| self.fail(e))?;
        self.report_position(c)?;
        self.set_status(c, CrewStatus::Available)
    }

    /// A crew became available: it heads for its station (or the best one for coverage).
    pub(super) fn on_available(&mut self, c: u32) -> Result<(), SimError> {
        self.stop(c);
        self.crews[c as usize].call = None;
        self.report_position(c)?;
        // Under `station_only` the station was chosen when the crew was freed.
        let base = if self.opts.station_only {
            self.crews[c as usize].base
        } else {
            self.station_for_freed(c)
        };
        self.send_to_station(c, base);
        if !self.held.is_empty() && !self.retry_due {
            self.retry_due = true;
            self.q.at(self.now(), Rank::Retry, Ev::Retry);
        }
        Ok(())
    }

    /// The station a freed crew heads for: its own, or under the coverage policy the one
    /// where it adds the most coverage (a relocation, counted).
    fn station_for_freed(&mut self, c: u32) -> usize {
        let base = match self.coverage.as_ref() {
            Some(cv) => cv.best_station(),
            None => self.crews[c as usize].base,
        };
        if base != self.crews[c as usize].base {
            self.count(|r| &mut r.1);
        }
        base
    }

    pub(super) fn send_to_station(&mut self, c: u32, s: usize) {
        self.uncount(c);
        self.crews[c as usize].base = s;
        if let Some(cv) = self.coverage.as_mut() {
            cv.add(s);
            self.crews[c as usize].counted = Some(s);
        }
        let target = self.world.stations[s].snapped;
        let here = self.crews[c as usize].at;
        if here.segment == target.segment && (here.fraction - target.fraction).abs() < 1e-9 {
            self.crews[c as usize].phase = Phase::Idle;
            return;
        }
        if !self.start_drive(
            c,
            &target,
            Phase::Returning,
            Ev::AtStation,
            Rank::AtStation,
            None,
        ) {
            // Cut off from the station: it waits where it is.
            self.crews[c as usize].phase = Phase::Idle;
        }
    }

    pub(super) fn on_at_station(&mut self, c: u32) -> Result<(), SimError> {
        self.arrive(c);
        self.crews[c as usize].phase = Phase::Idle;
        if self.crews[c as usize].homing {
            return self.back_on_duty(c);
        }
        if self.crews[c as usize].off_duty {
            return Ok(());
        }
        self.report_position(c)
    }

    pub(super) fn on_position(&mut self, c: u32) -> Result<(), SimError> {
        let now = self.now();
        let Some(drive) = self.crews[c as usize].drive.as_ref() else {
            return Ok(());
        };
        let end = drive.end;
        let here = drive.at(&self.router, now);
        self.report(c, &here)?;
        if now + self.interval < end {
            let tok = self.crews[c as usize].token;
            self.q
                .at(now + self.interval, Rank::Position, Ev::Position(c, tok));
        }
        Ok(())
    }
}
