//! The service's shared state: the router, the dispatch core behind one mutex (it is the
//! single writer), the event hub and the tokens.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use dispatch_core::{DispatchConfig, Dispatcher, Event};
use router::Router;
use serde_json::{json, Value};

use crate::auth::{HasTokens, Tokens};
use crate::error::ApiError;
use crate::hub::{Hub, Numbered};

/// Settings of the service.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// Accepted tokens.
    pub tokens: Tokens,
    /// Dispatch rules.
    pub dispatch: DispatchConfig,
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// What [`AppState`] holds.
pub struct Inner {
    /// The router.
    pub router: Arc<Router>,
    /// The dispatch core: the single writer of dispatch state.
    pub core: Mutex<Dispatcher>,
    /// Events, numbered and broadcast.
    pub hub: Hub,
    /// Tokens.
    pub tokens: Tokens,
    /// Answers of `POST /api/calls` by `Idempotency-Key`.
    pub idempotency: crate::api::IdempotencyCache,
    /// Handovers by call id, with the time they were recorded.
    pub handovers: Mutex<std::collections::HashMap<u64, (crate::handover::Handover, i64)>>,
}

impl HasTokens for AppState {
    fn tokens(&self) -> &Tokens {
        &self.0.tokens
    }
}

/// Current time, Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl AppState {
    /// New state over a prepared router.
    pub fn new(router: Arc<Router>, config: ServiceConfig) -> AppState {
        AppState(Arc::new(Inner {
            core: Mutex::new(Dispatcher::new(router.clone(), config.dispatch)),
            router,
            hub: Hub::default(),
            tokens: config.tokens,
            idempotency: Default::default(),
            handovers: Default::default(),
        }))
    }

    /// Runs one operation on the dispatch core and publishes its events (with the route for
    /// each assignment), all under the core's lock so events keep the order of decisions.
    pub fn apply<T>(
        &self,
        op: impl FnOnce(&mut Dispatcher, i64) -> Result<(Vec<Event>, T), ApiError>,
    ) -> Result<(Vec<Numbered>, T), ApiError> {
        let mut core = self.0.core.lock().unwrap_or_else(|e| e.into_inner());
        let now = now_ms();
        let (events, out) = op(&mut core, now)?;
        let mut published = Vec::with_capacity(events.len());
        for e in &events {
            let crew = event_crew(e);
            let mut v = serde_json::to_value(e).map_err(ApiError::internal)?;
            v["at"] = json!(now);
            published.push((v, crew.clone()));
            // The crew's tablet gets its assignment with the full route at once.
            if let Some((crew_id, call_id)) = assignment_of(e) {
                if let Some(msg) = assignment_message(&self.0.router, &core, &crew_id, call_id) {
                    published.push((msg, Some(crew_id)));
                }
            }
        }
        Ok((self.0.hub.publish(published), out))
    }
}

fn event_crew(e: &Event) -> Option<String> {
    match e {
        Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
            Some(decision.crew_id.clone())
        }
        Event::CrewAdded { crew_id, .. }
        | Event::CrewRemoved { crew_id }
        | Event::CrewStatus { crew_id, .. }
        | Event::CrewMoved { crew_id, .. }
        | Event::CrewReleased { crew_id, .. } => Some(crew_id.clone()),
        _ => None,
    }
}

fn assignment_of(e: &Event) -> Option<(String, dispatch_core::CallId)> {
    match e {
        Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
            Some((decision.crew_id.clone(), decision.call_id))
        }
        _ => None,
    }
}

/// The message a tablet receives for an assignment: the call and the route to it.
pub fn assignment_message(
    router: &Router,
    core: &Dispatcher,
    crew_id: &str,
    call_id: dispatch_core::CallId,
) -> Option<Value> {
    let crew = core.crew(crew_id)?;
    let call = core.call(call_id)?;
    let route = router.route(&crew.snapped, &call.snapped).ok().flatten();
    let route = route.map(|r| {
        json!({
            "eta_s": (r.duration_s() * 10.0).round() / 10.0,
            "distance_m": r.distance_m.round(),
            "geometry": {
                "type": "LineString",
                "coordinates": r.geometry.iter().map(|c| json!([c.lon(), c.lat()])).collect::<Vec<_>>(),
            },
        })
    });
    Some(json!({
        "type": "assignment",
        "crew_id": crew_id,
        "call": {
            "id": call.id,
            "lat": call.position.lat,
            "lon": call.position.lon,
            "priority": call.priority,
            "complaint": call.complaint,
            "address": call.address,
        },
        "route": route,
    }))
}
