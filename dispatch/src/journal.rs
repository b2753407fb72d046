//! The event log as the service writes and reads it: what one dispatch operation puts in the
//! log (its events, the assignment messages for tablets, the entity snapshots), and the
//! rebuilding of the dispatch state from the log when the service starts.
//!
//! Every log entry is a JSON object with a `type`. Entries of the dispatch core's
//! [`Event`] types rebuild the state through [`Dispatcher::replay`]; `closure_added` and
//! `closure_removed` rebuild the router's closures (the closure ids come out the same, as
//! the router numbers closures in order); `assignment` and `reroute` entries (the messages a
//! crew's tablet receives, stored without their route geometry, which is computed again when
//! sent), `closures_changed` (a closure's time window opened or closed), `fhir_delivery`
//! (how the push of a handover to the patient's record went, see [`crate::fhir`]) and
//! `patient_identified` (a call's patient identifiers were entered) change nothing on
//! replay. Clients receive every entry with its `seq`, the entry's sequence number in the log.

use std::collections::BTreeSet;
use std::sync::Arc;

use dispatch_core::{
    CallId, CrewStatus, DecisionReason, DispatchConfig, Dispatcher, Event, Snapshot,
};
use router::Router;
use serde_json::{json, Value};

use crate::auth::Actor;
use crate::hub::Numbered;
use crate::store::{Store, StoreError, StoredEvent};

/// One entry to append: what is stored, what is sent to clients now, and the crew it concerns.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The JSON kept in the log.
    pub stored: Value,
    /// The JSON sent to clients (the stored one, or a fuller version of it).
    pub published: Value,
    /// The crew whose tablet receives it.
    pub crew: Option<String>,
    /// Whether the request asked for it (its caller is its actor) or the rules followed
    /// (`system`).
    pub by_caller: bool,
}

impl Entry {
    /// Sets the entry's `actor` (stored and published).
    fn with_actor(mut self, actor: &Actor) -> Entry {
        let a = json!(actor);
        self.stored["actor"] = a.clone();
        self.published["actor"] = a;
        self
    }
}

/// Whether an event records what the request itself asked for, so that its caller is its
/// actor: the call created, edited, linked or cancelled, the crew added, changed, removed or moved,
/// the handover, a hospital, the dispatcher's override, and the crew status the request
/// set (`own_status`). Everything else (assignments, queueing, hand-backs, releases,
/// dropped needs, the statuses that follow them) is what the dispatch rules decided:
/// `system`.
pub fn requested(e: &Event, own_status: Option<&(String, CrewStatus)>) -> bool {
    match e {
        Event::CallCreated { .. }
        | Event::CallEdited { .. }
        | Event::CallLinked { .. }
        | Event::CallCancelled { .. }
        | Event::CrewAdded { .. }
        | Event::CrewUpdated { .. }
        | Event::CrewRemoved { .. }
        | Event::CrewMoved { .. }
        | Event::HandoverRecorded { .. }
        | Event::HospitalAdded { .. } => true,
        Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
            decision.reason == DecisionReason::DispatcherOverride
        }
        Event::CrewStatus { crew_id, to, .. } => {
            own_status.is_some_and(|(c, s)| c == crew_id && s == to)
        }
        _ => false,
    }
}

/// The log entries of the events of one operation made at `now` by `actor`: each event
/// (with its time in `at` and its actor), and after each assignment the message for the
/// crew's tablet with its route (the decision's actor).
pub fn entries(
    router: &Router,
    core: &Dispatcher,
    events: &[Event],
    now: i64,
    actor: &Actor,
    own_status: Option<&(String, CrewStatus)>,
) -> Vec<Entry> {
    let system = Actor::system();
    let mut out = Vec::with_capacity(events.len() + 1);
    for e in events {
        let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({"type": "unserializable"}));
        if v.get("at").is_none() {
            v["at"] = json!(now);
        }
        let who = if requested(e, own_status) {
            actor
        } else {
            &system
        };
        out.push(
            Entry {
                stored: v.clone(),
                published: v,
                crew: event_crew(e),
                by_caller: who == actor,
            }
            .with_actor(who),
        );
        if let Some((crew_id, call_id)) = assignment_of(e) {
            if let Some(mut full) = assignment_message(router, core, &crew_id, call_id) {
                full["at"] = json!(now);
                out.push(without_geometry(full, Some(crew_id)).with_actor(who));
            }
        }
    }
    out
}

/// A further entry of an operation (closures, re-routes) with its time and actor: the
/// caller's if it asked for it, else `system`.
pub fn stamped(e: Entry, caller: &Actor, now: i64) -> Entry {
    let mut e = if e.by_caller {
        e.with_actor(caller)
    } else {
        e.with_actor(&Actor::system())
    };
    if e.stored.get("at").is_none() {
        e.stored["at"] = json!(now);
        e.published["at"] = json!(now);
    }
    e
}

/// The message a tablet receives when its route changes (a closure opened or closed):
/// like [`assignment_message`], of type `reroute` with the `reason`.
pub fn reroute_entry(
    router: &Router,
    core: &Dispatcher,
    crew_id: &str,
    call_id: CallId,
    reason: &str,
    now: i64,
) -> Option<Entry> {
    let mut full = assignment_message(router, core, crew_id, call_id)?;
    full["type"] = json!("reroute");
    full["reason"] = json!(reason);
    full["at"] = json!(now);
    Some(without_geometry(full, Some(crew_id.to_string())))
}

/// `reroute` entries (with `reason`) for the crews that were driving to the same call
/// before a change (`before`, from [`driving_etas`]) and whose ETA is not what it was.
pub fn reroutes(
    router: &Router,
    core: &Dispatcher,
    before: &[(String, CallId, Option<u32>)],
    reason: &str,
    now: i64,
) -> Vec<Entry> {
    driving_etas(router, core)
        .into_iter()
        .filter(|(crew, call, eta)| {
            before
                .iter()
                .any(|(c, k, e)| c == crew && k == call && e != eta)
        })
        .filter_map(|(crew, call, _)| reroute_entry(router, core, &crew, call, reason, now))
        .collect()
}

/// The crews driving to a call (dispatched or en route) and their calls.
pub fn driving(core: &Dispatcher) -> Vec<(String, CallId)> {
    core.crews()
        .filter(|c| matches!(c.status, CrewStatus::Dispatched | CrewStatus::EnRoute))
        .filter_map(|c| Some((c.id.clone(), c.call?)))
        .collect()
}

/// The ETA (ms) of every driving crew to its call under the router's current weights.
pub fn driving_etas(router: &Router, core: &Dispatcher) -> Vec<(String, CallId, Option<u32>)> {
    driving(core)
        .into_iter()
        .map(|(crew, call)| {
            let eta = core
                .crew(&crew)
                .zip(core.call(call))
                .and_then(|(c, k)| router.eta(&c.snapped, &k.snapped));
            (crew, call, eta)
        })
        .collect()
}

/// A stored `assignment` or `reroute` entry as it is published: its route's geometry, which
/// the log does not keep, computed again from where the crew is now (a standby following the
/// log sends its tablets what the leader sent its own). Other entries are left as they are.
pub fn with_geometry(router: &Router, core: &Dispatcher, entry: &mut Value) {
    if !matches!(
        entry.get("type").and_then(Value::as_str),
        Some("assignment" | "reroute")
    ) || entry["route"].is_null()
        || entry["route"].get("geometry").is_some()
    {
        return;
    }
    let crew = entry["crew_id"].as_str().unwrap_or_default().to_string();
    let Some(call) = entry["call"]["id"].as_u64().map(CallId) else {
        return;
    };
    if let Some(geometry) = assignment_message(router, core, &crew, call)
        .and_then(|mut full| full.get_mut("route")?.get_mut("geometry").map(Value::take))
    {
        entry["route"]["geometry"] = geometry;
    }
}

/// An entry stored without the route geometry and published with it.
fn without_geometry(full: Value, crew: Option<String>) -> Entry {
    let mut stored = full.clone();
    if let Some(route) = stored.get_mut("route").and_then(Value::as_object_mut) {
        route.remove("geometry");
    }
    Entry {
        stored,
        published: full,
        crew,
        by_caller: false,
    }
}

/// The crew an event concerns, if any (its tablet receives it).
pub fn event_crew(e: &Event) -> Option<String> {
    match e {
        Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
            Some(decision.crew_id.clone())
        }
        Event::CrewAdded { crew_id, .. }
        | Event::CrewUpdated { crew_id, .. }
        | Event::CrewRemoved { crew_id }
        | Event::CrewStatus { crew_id, .. }
        | Event::CrewMoved { crew_id, .. }
        | Event::CrewReleased { crew_id, .. } => Some(crew_id.clone()),
        _ => None,
    }
}

fn assignment_of(e: &Event) -> Option<(String, CallId)> {
    match e {
        Event::CallAssigned { decision } | Event::CallReassigned { decision, .. } => {
            Some((decision.crew_id.clone(), decision.call_id))
        }
        _ => None,
    }
}

/// The message a tablet receives for an assignment: the call and the route to it (`route`
/// is `null` when the call cannot be reached by road).
pub fn assignment_message(
    router: &Router,
    core: &Dispatcher,
    crew_id: &str,
    call_id: CallId,
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
            "place": call.place,
        },
        "route": route,
    }))
}

/// Entity snapshots to write with a change.
#[derive(Debug, Default)]
pub struct Snapshots {
    /// `(kind, id, body)` created or replaced.
    pub upserts: Vec<(String, String, Value)>,
    /// `(kind, id)` removed.
    pub deletes: Vec<(String, String)>,
}

/// The entity snapshots an operation's events change, of kinds `call` and `crew`, so the
/// database can be queried for the current state without replaying the log.
pub fn snapshots(core: &Dispatcher, events: &[Event]) -> Snapshots {
    let mut calls = BTreeSet::new();
    let mut crews = BTreeSet::new();
    for e in events {
        if let Some(id) = e.call_id() {
            calls.insert(id);
        }
        if let Some(c) = event_crew(e) {
            crews.insert(c);
        }
        if let Event::CallReassigned { from_crew, .. } = e {
            crews.insert(from_crew.clone());
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for id in calls {
        if let Some(v) = core.call(id).and_then(|c| serde_json::to_value(c).ok()) {
            upserts.push(("call".to_string(), id.0.to_string(), v));
        }
    }
    for id in crews {
        match core.crew(&id).and_then(|c| serde_json::to_value(c).ok()) {
            Some(v) => upserts.push(("crew".to_string(), id, v)),
            None => deletes.push(("crew".to_string(), id)),
        }
    }
    Snapshots { upserts, deletes }
}

/// The crew a stored entry concerns, if any.
pub fn stored_crew(v: &Value) -> Option<String> {
    match serde_json::from_value::<Event>(v.clone()) {
        Ok(e) => event_crew(&e),
        Err(_) => v.get("crew_id").and_then(Value::as_str).map(str::to_string),
    }
}

/// A stored entry as sent to clients.
pub fn numbered(e: &StoredEvent) -> Numbered {
    let mut v = e.event.clone();
    if let Value::Object(m) = &mut v {
        m.insert("seq".into(), e.seq.into());
    }
    Numbered {
        seq: e.seq as u64,
        json: v.to_string().into(),
        crew: stored_crew(&e.event),
    }
}

/// Applies one stored log entry to `core` (and, with `closures`, the closures it adds or
/// removes to the router), as a restart or a standby following the log does.
fn replay_entry(
    core: &mut Dispatcher,
    router: &Router,
    stored: &StoredEvent,
    closures: bool,
    now: i64,
) -> Result<(), StoreError> {
    let fail = |message: String| StoreError::Replay {
        seq: stored.seq,
        message,
    };
    match stored.event.get("type").and_then(Value::as_str) {
        Some(
            "assignment" | "reroute" | "closures_changed" | "fhir_delivery" | "patient_identified",
        ) => {}
        Some("closure_added") => {
            if closures {
                // Without the request limits: the log holds what was accepted then.
                let spec = router::http::read_closure_request(stored.event["request"].clone())
                    .map_err(|e| fail(e.to_string()))?;
                let added = router
                    .add_closure(spec, now)
                    .map_err(|e| fail(e.to_string()))?;
                let logged = stored.event["closure"]["id"].as_u64();
                if logged != Some(added.id) {
                    return Err(fail(format!(
                        "closure {logged:?} came back as {}",
                        added.id
                    )));
                }
            }
        }
        Some("closure_removed") => {
            if closures {
                let id = stored.event["id"]
                    .as_u64()
                    .ok_or_else(|| fail("closure_removed without an id".into()))?;
                router
                    .remove_closure(id, now)
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        _ => {
            let event: Event = serde_json::from_value(stored.event.clone())
                .map_err(|e| fail(format!("not a dispatch event: {e}")))?;
            core.replay(&event).map_err(|e| fail(e.to_string()))?;
        }
    }
    Ok(())
}

/// Applies a page of the log that follows entry `after`, in order, as a restart does,
/// stopping at a gap in the numbers or at an entry that does not apply. Gaps that end at or
/// before `compacted` (the store's compaction mark, [`Store::track_compacted`]: removed
/// position reports) are expected. Returns how many were applied (the first ones of the
/// page) and what stopped it, if anything.
pub fn replay_page(
    core: &mut Dispatcher,
    router: &Router,
    page: &[StoredEvent],
    after: i64,
    compacted: i64,
    closures: bool,
    now: i64,
) -> (usize, Option<StoreError>) {
    let mut last = after;
    for (i, stored) in page.iter().enumerate() {
        if stored.seq != last + 1 && (stored.seq <= last || stored.seq - 1 > compacted) {
            let message = format!("the log jumps from seq {last} to {}", stored.seq);
            return (
                i,
                Some(StoreError::Replay {
                    seq: last + 1,
                    message,
                }),
            );
        }
        if let Err(e) = replay_entry(core, router, stored, closures, now) {
            return (i, Some(e));
        }
        last = stored.seq;
    }
    (page.len(), None)
}

/// How many log entries are read per query while restoring.
const PAGE: i64 = 10_000;

/// The state rebuilt from the store by [`restore`].
pub struct Restored {
    /// The dispatcher.
    pub core: Dispatcher,
    /// The log's newest entries (for the hub).
    pub tail: Vec<Numbered>,
    /// The number of the last entry applied.
    pub last: i64,
    /// The number of the entry the snapshot it started from was of; 0 for none.
    pub snapshot: i64,
}

/// Rebuilds the dispatcher from the store (its latest snapshot and the log after it, or the
/// whole log), and returns it with the last `keep` entries (for the hub) and the log's last
/// sequence number. With `closures`, the closures of the log are also added to the router
/// (when the service starts: the router must have none).
pub async fn restore(
    store: &Store,
    router: Arc<Router>,
    config: DispatchConfig,
    keep: usize,
    closures: bool,
) -> Result<Restored, StoreError> {
    restore_until(store, router, config, keep, closures, i64::MAX).await
}

/// Like [`restore`], from the log's entries up to `until` only.
///
/// Starts from the latest stored snapshot at or before `until` that fits (see
/// [`from_snapshot`]) and replays the log after it; with none, replays the whole log.
pub async fn restore_until(
    store: &Store,
    router: Arc<Router>,
    config: DispatchConfig,
    keep: usize,
    closures: bool,
    until: i64,
) -> Result<Restored, StoreError> {
    let now = crate::state::now_ms();
    let (mut core, start) =
        match from_snapshot(store, &router, config, until, closures, now).await? {
            Some(found) => found,
            None => (Dispatcher::new(router.clone(), config), 0),
        };
    let mut tail = std::collections::VecDeque::with_capacity(keep.min(1 << 16));
    // Gaps are expected where position reports were compacted (before the latest snapshot).
    let compacted = store.track_compacted().await?;
    let mut after = start;
    while after < until {
        let mut page = store.events_since(after, PAGE.min(until - after)).await?;
        // Past gaps, a page may reach beyond `until`.
        page.retain(|e| e.seq <= until);
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        if let (_, Some(e)) =
            replay_page(&mut core, &router, &page, after, compacted, closures, now)
        {
            return Err(e);
        }
        after = last;
        if keep > 0 {
            for stored in &page {
                if tail
                    .back()
                    .is_some_and(|n: &Numbered| n.seq + 1 != stored.seq as u64)
                {
                    // The hub's window has no gaps: it starts again after a compacted one.
                    tail.clear();
                }
                if tail.len() == keep {
                    tail.pop_front();
                }
                tail.push_back(numbered(stored));
            }
        }
    }
    // The newest entries from before the snapshot too, for clients that resume.
    let missing = keep.saturating_sub(tail.len()) as i64;
    if missing > 0 && start > 0 {
        let from = (start - missing).max(0);
        let earlier = store.events_since(from, start - from).await?;
        // The hub's window has no gaps: back from the snapshot's entry to the first gap.
        let mut want = start;
        for stored in earlier.iter().rev().skip_while(|e| e.seq > start) {
            if stored.seq != want {
                break;
            }
            tail.push_front(numbered(stored));
            want -= 1;
        }
    }
    if start > 0 {
        tracing::info!(
            snapshot = start,
            replayed = after - start,
            "state restored from a snapshot and the log after it"
        );
    }
    Ok(Restored {
        core,
        tail: tail.into(),
        last: after,
        snapshot: start,
    })
}

/// The dispatcher of the latest stored snapshot at or before event `until`, with that
/// event's number; `None` when there is none, or when it cannot be used (unreadable, of
/// another format or road graph, not holding together: said in the log), so that the
/// whole log is replayed instead. With `closures`, the log's closure events up to the
/// snapshot are then replayed to the router (a snapshot holds the dispatcher only).
pub async fn from_snapshot(
    store: &Store,
    router: &Arc<Router>,
    config: DispatchConfig,
    until: i64,
    closures: bool,
    now: i64,
) -> Result<Option<(Dispatcher, i64)>, StoreError> {
    let Some((seq, body)) = store.latest_snapshot(until).await? else {
        return Ok(None);
    };
    let restored = serde_json::from_str::<Snapshot>(&body)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            Dispatcher::from_snapshot(router.clone(), config, s).map_err(|e| e.to_string())
        });
    let mut core = match restored {
        Ok(core) => core,
        Err(error) => {
            tracing::warn!(
                snapshot = seq,
                %error,
                "the snapshot cannot be used: replaying the whole log"
            );
            return Ok(None);
        }
    };
    if closures {
        // Closure entries only: they change the router, never the core.
        for stored in store.closure_events(seq).await? {
            replay_entry(&mut core, router, &stored, true, now)?;
        }
    }
    Ok(Some((core, seq)))
}

/// Takes a snapshot of `core`, the state after event `seq`, and stores it (the caller holds
/// the core, which must match the log up to `seq`; the snapshot is serialized and written
/// after the core is let go). Returns its size in bytes.
pub async fn save_snapshot(
    store: &Store,
    snapshot: Snapshot,
    seq: i64,
) -> Result<usize, StoreError> {
    let failed = |message: String| StoreError::Snapshot { seq, message };
    let body = tokio::task::spawn_blocking(move || serde_json::to_string(&snapshot))
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e| failed(e.to_string()))?;
    store
        .save_snapshot(seq, crate::state::now_ms(), &body)
        .await?;
    Ok(body.len())
}
