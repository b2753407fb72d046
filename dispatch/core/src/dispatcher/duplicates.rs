//! Duplicate calls: a second caller about a patient already on an open call.
//!
//! [`Dispatcher::possible_duplicates`] names the open calls a new call may repeat (within
//! [`crate::Duplicates::radius_m`] and [`crate::Duplicates::window_ms`]), for the console
//! to show before the new call is dispatched. The dispatcher then either creates the call
//! as usual (a crew of its own) or links it to the open call ([`Dispatcher::link_call`]):
//! the report joins that call's timeline ([`Event::CallLinked`]) and no crew is sent for
//! it. A second crew for the same place is then asked for as one more need of the open
//! call ([`Dispatcher::edit_call`]).

use osm_data::{haversine_m, Coord};
use serde::Serialize;

use crate::call::{CallId, LinkedReport};
use crate::error::DispatchError;
use crate::event::Event;

use super::{Dispatcher, Outcome};

/// An open call a new call may repeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PossibleDuplicate {
    /// The open call.
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub call_id: CallId,
    /// How far its place is from the new call's (metres, rounded to 1 m).
    pub distance_m: f64,
    /// How long ago it was received (ms; 0 when in the future).
    pub age_ms: i64,
}

impl Dispatcher {
    /// The open calls received within the duplicates window before `now` whose place is
    /// within the duplicates radius of `(lat, lon)`, nearest first (ties: the older call
    /// first). Closed calls are never duplicates: a patient whose call closed is a new
    /// call.
    pub fn possible_duplicates(&self, lat: f64, lon: f64, now: i64) -> Vec<PossibleDuplicate> {
        let rule = self.config.duplicates;
        let here = Coord::from_degrees(lat, lon);
        let mut found: Vec<PossibleDuplicate> = self
            .open_calls()
            .filter_map(|call| {
                let received = call.times.received?;
                let age_ms = now.saturating_sub(received).max(0);
                if age_ms > i64::from(rule.window_ms) {
                    return None;
                }
                let d = haversine_m(
                    here,
                    Coord::from_degrees(call.position.lat, call.position.lon),
                );
                (d <= f64::from(rule.radius_m)).then(|| PossibleDuplicate {
                    call_id: call.id,
                    distance_m: d.round(),
                    age_ms,
                })
            })
            .collect();
        found.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then(b.age_ms.cmp(&a.age_ms))
                .then(a.call_id.cmp(&b.call_id))
        });
        found
    }

    /// Links another caller's report to open call `call_id`: recorded on that call's
    /// timeline, and no crew sent for it. The report's `received` is `now` when it is 0.
    /// An unknown or closed call is an error and changes nothing.
    pub fn link_call(&mut self, call_id: CallId, mut report: LinkedReport, now: i64) -> Outcome {
        self.open_call(call_id)?;
        if !(report.lat.is_finite() && report.lon.is_finite()) {
            return Err(DispatchError::Inconsistent(format!(
                "linked report at ({}, {}): not a point",
                report.lat, report.lon
            )));
        }
        if report.received == 0 {
            report.received = now;
        }
        let event = Event::CallLinked { call_id, report };
        self.replay(&event)?;
        Ok(vec![event])
    }
}
