//! Calls: intake, listing, re-triage and corrections, the dispatcher's override and
//! cancellation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatch_core::{
    CallEdit, CallId, CallStatus, CrewType, Dispatcher, Event, NewCall, Place, Position, Priority,
};
use serde::{Deserialize, Serialize};

use super::run_op;
use crate::auth::{Auth, Caller, Role};
use crate::edge::{parse_call_id, IdempotencyKey, JsonBody, Lat, Lon, QueryParams, Text};
use crate::error::{ApiError, ErrorBody};
use crate::journal;
use crate::state::{AppState, Applied, Effect};

/// A complaint, address or notes: at most 2,000 characters.
type LongText = Text<2_000>;
/// A cancellation reason: at most 500 characters.
type Reason = Text<500>;
/// A caller's phone number: at most 40 characters.
type Phone = Text<40>;
/// A part of an address (a street, a house number, a flat): at most 200 characters.
type Part = Text<200>;
/// The most crews one call may need.
const NEEDS_MAX: usize = 8;

/// An address in its parts, as the call taker confirmed it: what `/api/geocode` answered
/// (street, house, корпус, строение, town, a place's name) and what the caller adds
/// (подъезд, этаж, квартира). Every part is optional; blank parts are dropped.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PlaceRequest {
    #[schema(value_type = Option<String>, max_length = 200, example = "улица Гончарова")]
    street: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200, example = "4")]
    housenumber: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200)]
    block: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200, example = "3")]
    building: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200, example = "2")]
    entrance: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200)]
    floor: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200)]
    apartment: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200)]
    city: Option<Part>,
    #[schema(value_type = Option<String>, max_length = 200)]
    name: Option<Part>,
}

impl PlaceRequest {
    /// The core's place: each part trimmed, blank parts dropped.
    fn into_place(self) -> Place {
        let part = |p: Option<Part>| {
            p.map(|t| t.into_inner().trim().to_string())
                .filter(|s| !s.is_empty())
        };
        Place {
            street: part(self.street),
            housenumber: part(self.housenumber),
            block: part(self.block),
            building: part(self.building),
            entrance: part(self.entrance),
            floor: part(self.floor),
            apartment: part(self.apartment),
            city: part(self.city),
            name: part(self.name),
        }
    }
}

/// A new 112 call.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CallRequest {
    lat: Lat,
    lon: Lon,
    priority: Priority,
    #[serde(default)]
    needs: Vec<CrewType>,
    #[serde(default)]
    complaint: LongText,
    #[serde(default)]
    address: LongText,
    /// The address in its parts (from `/api/geocode`, plus entrance, floor, flat).
    #[serde(default)]
    place: Option<PlaceRequest>,
    #[serde(default)]
    phone: Option<Phone>,
    #[serde(default)]
    notes: LongText,
}

/// `needs` of at most [`NEEDS_MAX`] crews.
fn check_needs(needs: &[CrewType]) -> Result<(), ApiError> {
    if needs.len() > NEEDS_MAX {
        return Err(ApiError::invalid(
            "needs",
            format!("needs: at most {NEEDS_MAX} crews (got {})", needs.len()),
        ));
    }
    Ok(())
}

/// A call as dispatchers see it: the core's call, its first crew and that crew's ETA (for
/// clients that want one answer), and when it is late by its priority's norm.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallView {
    /// The call.
    #[serde(flatten)]
    pub call: dispatch_core::Call,
    /// The first crew sent, if any.
    pub crew_id: Option<String>,
    /// That crew's ETA when it was sent (seconds).
    pub eta_s: Option<f64>,
    /// When the call is late by its priority's norm (Unix ms).
    pub late_at: Option<i64>,
}

/// A call as its crew sees it: where, what, how urgent, the crew's own assignment and the
/// call's times; not the caller's phone, nor the dispatch decisions (other crews' ETAs),
/// nor other crews' assignments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrewCallView {
    /// The call's id.
    #[schema(value_type = u64)]
    pub id: CallId,
    /// Where, as given.
    pub position: Position,
    /// How urgent.
    pub priority: Priority,
    /// The crews it needs.
    pub needs: Vec<CrewType>,
    /// The chief complaint.
    pub complaint: String,
    /// The address.
    pub address: String,
    /// The address in its parts, when the call taker confirmed one.
    pub place: Option<Place>,
    /// The dispatcher's notes.
    pub notes: String,
    /// Where it stands.
    pub status: CallStatus,
    /// This crew's assignments to it.
    pub assignments: Vec<dispatch_core::Assignment>,
    /// Its timeline.
    pub times: dispatch_core::CallTimes,
    /// This crew.
    pub crew_id: Option<String>,
    /// This crew's ETA when it was sent (seconds).
    pub eta_s: Option<f64>,
}

/// A call: as dispatchers see it, or as its crew sees it (crew tokens).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CallResponse {
    /// As dispatchers see it.
    Staff(CallView),
    /// As its crew sees it.
    Crew(CrewCallView),
}

/// A call as the API shows it to dispatchers.
pub(crate) fn call_value(core: &Dispatcher, id: CallId) -> Option<CallView> {
    core.call(id).map(|c| view_of(c.clone(), &core.config()))
}

/// `call` as the API shows it to dispatchers.
fn view_of(call: dispatch_core::Call, config: &dispatch_core::DispatchConfig) -> CallView {
    let first = call.assignments.first();
    CallView {
        crew_id: first.map(|a| a.crew_id.clone()),
        eta_s: first.map(|a| f64::from(a.eta_ms) / 1000.0),
        late_at: call
            .times
            .received
            .map(|r| r + i64::from(config.norms.of(call.priority))),
        call,
    }
}

/// A call: from memory, or, a closed call past its retention, from the store (where every
/// call's latest state is kept).
pub(crate) async fn find_call(
    state: &AppState,
    id: CallId,
) -> Result<dispatch_core::Call, ApiError> {
    if let Some(c) = state.core().await.call(id) {
        return Ok(c.clone());
    }
    let stored = state
        .0
        .store
        .entity("call", &id.0.to_string())
        .await
        .map_err(ApiError::unavailable)?;
    stored
        .and_then(|v| serde_json::from_value::<dispatch_core::Call>(v).ok())
        .filter(|c| c.id == id && c.status.is_closed())
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id}")))
}

/// The call crew `crew` is on now, if any.
pub(crate) fn current_call<'a>(
    core: &'a Dispatcher,
    crew: &str,
) -> Option<&'a dispatch_core::Call> {
    core.crew(crew)
        .and_then(|c| c.call)
        .and_then(|id| core.call(id))
}

/// A call as crew `crew` sees it (see [`CrewCallView`]).
pub(crate) fn crew_view(core: &Dispatcher, id: CallId, crew: &str) -> Option<CrewCallView> {
    let call = core.call(id)?;
    let own: Vec<dispatch_core::Assignment> = call
        .assignments
        .iter()
        .filter(|a| a.crew_id == crew)
        .cloned()
        .collect();
    let first = own.first();
    Some(CrewCallView {
        id: call.id,
        position: call.position,
        priority: call.priority,
        needs: call.needs.clone(),
        complaint: call.complaint.clone(),
        address: call.address.clone(),
        place: call.place.clone(),
        notes: call.notes.clone(),
        status: call.status,
        crew_id: first.map(|a| a.crew_id.clone()),
        eta_s: first.map(|a| f64::from(a.eta_ms) / 1000.0),
        assignments: own,
        times: call.times,
    })
}

/// A call as the API shows it to dispatchers, or 404.
async fn call_json(state: &AppState, id: CallId) -> Result<CallView, ApiError> {
    let call = find_call(state, id).await?;
    Ok(view_of(call, &state.0.dispatch))
}

/// A new 112 call: decided at once (the crew that arrives first), or queued.
///
/// A retry with the same `Idempotency-Key` creates no second call and answers the first
/// answer. A point far from every road is refused (422 `off_map`: there it is a typo).
#[utoipa::path(
    post,
    path = "/api/calls",
    tag = "calls",
    params(IdempotencyKey),
    request_body = CallRequest,
    responses(
        (status = 201, description = "The call, as decided", body = CallView),
        (status = 400, description = "Not JSON, or a bad Idempotency-Key", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range, or off the map", body = ErrorBody),
    )
)]
pub(super) async fn create(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(req): JsonBody<CallRequest>,
) -> Result<Response, ApiError> {
    role.require_staff()?;
    check_needs(&req.needs)?;
    let new = NewCall {
        needs: req.needs,
        complaint: req.complaint.0,
        address: req.address.0,
        place: req.place.map(PlaceRequest::into_place),
        phone: req.phone.map(Text::into_inner),
        notes: req.notes.0,
        ..NewCall::at(req.lat.0, req.lon.0, req.priority)
    };
    let applied = state
        .apply(&actor, key, |core, now| {
            let events = core.new_call(new, now)?;
            let id = events
                .iter()
                .find_map(|e| match e {
                    Event::CallCreated { call_id, .. } => Some(*call_id),
                    _ => None,
                })
                .ok_or_else(|| ApiError::internal("no call_created event"))?;
            let v = call_value(core, id).ok_or_else(|| ApiError::internal("call vanished"))?;
            let stored = serde_json::to_value(&v).map_err(ApiError::internal)?;
            Ok(Effect {
                response: Some(stored),
                ..Effect::new(events, v)
            })
        })
        .await?;
    Ok(match applied {
        Applied::Done(v) => (StatusCode::CREATED, Json(v)).into_response(),
        // A retry with the same key gets the first answer (the call as it was then), as
        // stored with the key.
        Applied::Replayed(v) => (StatusCode::CREATED, Json(v)).into_response(),
    })
}

/// How many calls a page holds unless `limit` says otherwise.
pub(super) const PAGE_DEFAULT: u32 = 500;
/// The most calls a page may hold.
pub(super) const PAGE_MAX: u32 = 5_000;

/// `?status=&since=&limit=&cursor=`: which calls, and which page of them.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CallsQuery {
    /// Only calls in this status.
    status: Option<CallStatus>,
    /// Only calls received at or after this time (Unix ms).
    #[param(example = 1_767_225_600_000_i64)]
    since: Option<i64>,
    /// At most this many calls (1 to 5,000, default 500).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
    /// Where the page starts: the `X-Next-Cursor` of the page before (opaque). Without it,
    /// the first page.
    #[param(value_type = Option<String>, max_length = 20, pattern = "^[0-9]{1,20}$")]
    cursor: Option<String>,
}

/// The header that carries the next page's cursor.
pub(super) const NEXT_CURSOR: &str = "x-next-cursor";

/// The call id a cursor stands for (the last call of the page before).
fn parse_cursor(cursor: &str) -> Result<CallId, ApiError> {
    Some(cursor)
        .filter(|c| (1..=20).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u64>().ok())
        .map(CallId)
        .ok_or_else(|| {
            ApiError::field(
                StatusCode::BAD_REQUEST,
                "cursor",
                "cursor: not one the service gave (pass X-Next-Cursor back as it is)",
            )
        })
}

/// The calls, oldest (lowest id) first, a page at a time: every call for dispatchers; a
/// crew's current call only (as the crew sees it) for a crew token.
///
/// A page holds at most `limit` calls. When more may follow, the answer has an
/// `X-Next-Cursor` header: ask again with `cursor=` that value (and the same `status` and
/// `since`) for the next page; the last page has none. Calls made while paging appear on a
/// later page (their ids are higher); a call whose status changes between pages may be
/// missed or seen twice by a `status` filter.
#[utoipa::path(
    get,
    path = "/api/calls",
    tag = "calls",
    params(CallsQuery),
    responses(
        (status = 200, description = "A page of calls, oldest first", body = Vec<CallResponse>,
         headers(("x-next-cursor" = String, description = "Present when more calls may follow: the `cursor` of the next page"))),
        (status = 400, description = "A bad query parameter, or a cursor the service did not give", body = ErrorBody),
        (status = 422, description = "limit not between 1 and 5,000", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Auth(role): Auth,
    QueryParams(q): QueryParams<CallsQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit: between 1 and {PAGE_MAX} (got {limit})"),
        ));
    }
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let wanted = |c: &&dispatch_core::Call| {
        q.status.is_none_or(|s| c.status == s)
            && q.since.is_none_or(|since| c.received() >= since)
            && after.is_none_or(|a| c.id > a)
    };
    let core = state.core().await;
    let (calls, next): (Vec<CallResponse>, Option<CallId>) = match &role {
        // A crew sees its current call only, as a crew sees it.
        Role::Crew(own) => (
            current_call(&core, own)
                .filter(wanted)
                .and_then(|c| crew_view(&core, c.id, own))
                .map(CallResponse::Crew)
                .into_iter()
                .collect(),
            None,
        ),
        _ => {
            let mut page: Vec<&dispatch_core::Call> = core
                .calls_after(after.unwrap_or(CallId(0)))
                .filter(wanted)
                .take(limit as usize + 1)
                .collect();
            let more = page.len() > limit as usize;
            page.truncate(limit as usize);
            let next = more.then(|| page.last().map(|c| c.id)).flatten();
            (
                page.into_iter()
                    .filter_map(|c| call_value(&core, c.id))
                    .map(CallResponse::Staff)
                    .collect(),
                next,
            )
        }
    };
    drop(core);
    let mut response = Json(calls).into_response();
    if let Some(next) = next {
        if let Ok(value) = axum::http::HeaderValue::from_str(&next.0.to_string()) {
            response.headers_mut().insert(NEXT_CURSOR, value);
        }
    }
    Ok(response)
}

/// One call; a crew token may read only its current call, as the crew sees it.
#[utoipa::path(
    get,
    path = "/api/calls/{id}",
    tag = "calls",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    responses(
        (status = 200, description = "The call", body = CallResponse),
        (status = 403, description = "A crew asking for another call", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
    )
)]
pub(super) async fn get_one(
    State(state): State<AppState>,
    Auth(role): Auth,
    Path(id): Path<String>,
) -> Result<Json<CallResponse>, ApiError> {
    let id = parse_call_id(&id)?;
    if let Role::Crew(own) = &role {
        let core = state.core().await;
        return match current_call(&core, own) {
            Some(c) if c.id == id => crew_view(&core, id, own)
                .map(|v| Json(CallResponse::Crew(v)))
                .ok_or_else(|| ApiError::not_found(format!("no call with id {id}"))),
            _ => Err(ApiError::forbidden("a crew sees only its current call")),
        };
    }
    call_json(&state, id)
        .await
        .map(|v| Json(CallResponse::Staff(v)))
}

/// `PATCH /api/calls/{id}`: what changes (every field optional; `lat` and `lon` together).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CallPatch {
    priority: Option<Priority>,
    lat: Option<Lat>,
    lon: Option<Lon>,
    needs: Option<Vec<CrewType>>,
    complaint: Option<LongText>,
    address: Option<LongText>,
    /// The address in its parts, replacing the old ones (`{}` clears them).
    place: Option<PlaceRequest>,
    notes: Option<LongText>,
}

impl CallPatch {
    /// The core's edit, checked.
    fn into_edit(self) -> Result<CallEdit, ApiError> {
        let position = match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => Some(Position {
                lat: lat.0,
                lon: lon.0,
            }),
            (None, None) => None,
            (None, Some(_)) => return Err(ApiError::invalid("lat", "lat and lon go together")),
            (Some(_), None) => return Err(ApiError::invalid("lon", "lat and lon go together")),
        };
        if let Some(needs) = &self.needs {
            if needs.is_empty() {
                return Err(ApiError::invalid("needs", "needs: at least one crew"));
            }
            check_needs(needs)?;
        }
        let edit = CallEdit {
            priority: self.priority,
            position,
            needs: self.needs,
            complaint: self.complaint.map(Text::into_inner),
            address: self.address.map(Text::into_inner),
            place: self.place.map(PlaceRequest::into_place),
            notes: self.notes.map(Text::into_inner),
        };
        if edit.is_empty() {
            return Err(ApiError::invalid(
                "body",
                "nothing to change: give priority, lat and lon, needs, complaint, address, place or notes",
            ));
        }
        Ok(edit)
    }
}

/// Re-triage and corrections: the core decides again where it matters (see
/// `Dispatcher::edit_call`); crews still driving to a moved call get their new route.
#[utoipa::path(
    patch,
    path = "/api/calls/{id}",
    tag = "calls",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    request_body = CallPatch,
    responses(
        (status = 200, description = "The call, decided again", body = CallView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 409, description = "The call is closed", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A value out of range, nothing to change, or off the map", body = ErrorBody),
    )
)]
pub(super) async fn edit(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CallPatch>,
) -> Result<Json<CallView>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let edit = req.into_edit()?;
    let router = state.0.router.clone();
    state
        .apply(&actor, None, move |core, now| {
            let before = journal::driving_etas(&router, core);
            let events = core.edit_call(id, edit, now)?;
            let entries = journal::reroutes(&router, core, &before, "call_moved", now);
            Ok(Effect {
                entries,
                ..Effect::new(events, ())
            })
        })
        .await?;
    call_json(&state, id).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AssignRequest {
    crew_id: crate::edge::CrewId,
}

/// The dispatcher's override: send this crew.
#[utoipa::path(
    post,
    path = "/api/calls/{id}/assign",
    tag = "calls",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "The call with the crew sent", body = CallView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call or crew", body = ErrorBody),
        (status = 409, description = "The crew cannot take it, or the call is closed", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "A bad crew id", body = ErrorBody),
    )
)]
pub(super) async fn assign(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AssignRequest>,
) -> Result<Json<CallView>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.assign_override(id, &req.crew_id.0, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}

/// `POST /api/calls/{id}/cancel`: why (required).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelRequest {
    reason: Reason,
}

/// Cancels a call; its crews are released.
#[utoipa::path(
    post,
    path = "/api/calls/{id}/cancel",
    tag = "calls",
    params(("id" = u64, Path, description = "The call's id", example = 1)),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "The cancelled call", body = CallView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 409, description = "The call is closed", body = ErrorBody),
        (status = 413, description = "Body over 256 KiB", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    )
)]
pub(super) async fn cancel(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CancelRequest>,
) -> Result<Json<CallView>, ApiError> {
    role.require_staff()?;
    let id = parse_call_id(&id)?;
    let reason = req.reason.0.trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::invalid(
            "reason",
            "reason: say why the call is cancelled",
        ));
    }
    run_op(&state, &actor, None, move |core, now| {
        Ok(core.cancel_call(id, &reason, now)?)
    })
    .await?;
    call_json(&state, id).await.map(Json)
}
