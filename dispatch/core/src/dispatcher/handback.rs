//! Calls handed back and needs that end with the scene.
//!
//! * **Breakdown.** A crew that goes out of service (or is removed) while on its way, on
//!   scene or transporting hands its call back: [`Event::CallHandedBack`] says why, the crew
//!   is released, and the call is decided again at once at its priority: another crew, or
//!   the head of its priority's queue. The call keeps its timeline. A crew that broke down
//!   while transporting has the patient on board, so the next crew goes to where it stands
//!   (the hand-back's `pickup`), not to the original scene. A crew at the hospital has
//!   delivered its patient: going out of service there ends its part as usual.
//! * **Cut off.** A closure that leaves a crew on its way with no road to its call hands
//!   the call back the same way ([`Dispatcher::check_routes`]); the crew is free again.
//! * **Needs end with the scene.** When a crew starts transporting, the patient has left
//!   the scene: crews still on their way to it are released and the needs left without a
//!   crew are dropped ([`Event::NeedsDropped`]), so no specialist is sent to an empty scene
//!   (while the patient is still on scene with an interim crew, the specialist is still
//!   sent). When the last crew of a call finishes, or the call is cancelled, its unfilled
//!   needs are dropped the same way before it closes.

use std::collections::VecDeque;

use crate::call::CallId;
use crate::crew::CrewStatus;
use crate::event::{DropReason, Event, HandBackReason};

use super::{Dispatcher, Outcome};

impl Dispatcher {
    /// Re-decides every call whose crew on its way can no longer reach it by road (a
    /// closure cut it off): the call is handed back ([`HandBackReason::CutOff`]) and goes to
    /// another crew or the head of its queue; the cut-off crew is free again. Then, if calls
    /// wait, every available crew takes its turn at the queue (a road opened again may
    /// bring one within reach). Call it after the router's closures changed.
    pub fn check_routes(&mut self, now: i64) -> Outcome {
        let cut: Vec<(u32, CallId)> = self
            .crews
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| {
                let c = c.as_ref()?;
                let call = c.call?;
                if !c.status.is_responding() {
                    return None;
                }
                let to = &self.calls.get(&call)?.snapped;
                self.router
                    .eta(&c.snapped, to)
                    .is_none()
                    .then_some((slot as u32, call))
            })
            .collect();
        let mut events = Vec::new();
        for &(slot, call) in &cut {
            self.hand_back(call, slot, HandBackReason::CutOff, now, &mut events);
            self.set_status(slot, CrewStatus::Available, now, &mut events);
        }
        let mut calls: Vec<CallId> = cut.iter().map(|c| c.1).collect();
        calls.dedup();
        for call in calls {
            self.dispatch_pending(call, now, &mut events);
        }
        // The cut-off crews, then (if calls wait) every available crew in id order: a road
        // opened again may bring a waiting call within reach.
        let mut freed: VecDeque<u32> = cut.into_iter().map(|c| c.0).collect();
        if !self.waiting.is_empty() {
            freed.extend(
                self.crews()
                    .filter(|c| c.status == CrewStatus::Available)
                    .map(|c| self.crew_slot[&c.id]),
            );
        }
        self.settle(freed, now, &mut events);
        Ok(events)
    }

    /// The crew in `slot` hands back `call_id` ([`Event::CallHandedBack`], with the
    /// patient's new place if the crew was transporting) and is released from it; the
    /// crew's new status and the call's new decision are the caller's.
    pub(crate) fn hand_back(
        &mut self,
        call_id: CallId,
        slot: u32,
        reason: HandBackReason,
        now: i64,
        events: &mut Vec<Event>,
    ) {
        let crew = self.crew_at(slot);
        let pickup = (crew.status == CrewStatus::Transporting).then_some(crew.snapped);
        let event = Event::CallHandedBack {
            call_id,
            crew_id: crew.id.clone(),
            reason,
            pickup: pickup.map(|_| crew.position),
        };
        self.emit_near(event, pickup.as_ref(), events);
        self.detach(call_id, slot, now, events);
    }

    /// A crew on a call breaks down or is removed: the call is handed back, the crew goes
    /// out of service, and the call is decided again.
    pub(crate) fn break_down(
        &mut self,
        slot: u32,
        call_id: CallId,
        reason: HandBackReason,
        now: i64,
        events: &mut Vec<Event>,
    ) {
        self.hand_back(call_id, slot, reason, now, events);
        self.set_status(slot, CrewStatus::OutOfService, now, events);
        self.dispatch_pending(call_id, now, events);
    }

    /// The patient of `call_id` left the scene (a crew is transporting): crews still on
    /// their way are released (returned, to be settled by the caller), then the needs left
    /// without a crew are dropped.
    pub(crate) fn patient_left_scene(
        &mut self,
        call_id: CallId,
        now: i64,
        events: &mut Vec<Event>,
    ) -> VecDeque<u32> {
        let call = &self.calls[&call_id];
        let responding: VecDeque<u32> = call
            .active_assignments()
            .filter(|a| self.is_responding(&a.crew_id))
            .map(|a| self.crew_slot[&a.crew_id])
            .collect();
        for &slot in &responding {
            self.detach(call_id, slot, now, events);
            self.set_status(slot, CrewStatus::Available, now, events);
        }
        self.drop_pending(call_id, DropReason::PatientLeftScene, events);
        responding
    }

    /// Drops the needs of `call_id` left without a crew, if any.
    pub(crate) fn drop_pending(
        &mut self,
        call_id: CallId,
        reason: DropReason,
        events: &mut Vec<Event>,
    ) {
        let needs = self.calls[&call_id].pending_needs();
        if !needs.is_empty() {
            self.emit(
                Event::NeedsDropped {
                    call_id,
                    needs,
                    reason,
                },
                events,
            );
        }
    }
}
