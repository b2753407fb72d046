//! Who did what: `GET /api/audit?since=SEQ&limit=N` (dispatchers and admins), the event log
//! with each entry's actor, as JSON or, with `Accept: text/csv`, as CSV.
//!
//! Every entry of the log records its actor (see [`crate::journal::requested`]): the token's
//! name and role for what a request asked for, `system` for what the dispatch rules
//! decided on their own. The log is append-only in the store (the database refuses UPDATE
//! and DELETE of events), so the audit trail cannot be rewritten through it.
//!
//! JSON: `[{"seq", "at", "time", "type", "actor": {"name", "role"}, "call_id", "crew_id",
//! "event"}]`. CSV columns: `seq,time,actor,role,type,call_id,crew_id,event` (`time` in
//! RFC 3339 UTC, `event` the entry as JSON). Entries written before actors were recorded
//! show an empty actor.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Actor, Auth};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::StoredEvent;

/// The audit route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

/// How many entries one request returns at most (and by default).
pub const MAX_LIMIT: u32 = 10_000;

/// `?since=&limit=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Entries after this sequence number (default 0: from the start).
    #[param(inline)]
    since: Option<crate::edge::Seq>,
    /// At most this many (default and maximum 10,000).
    #[param(minimum = 1, maximum = 10_000)]
    limit: Option<u32>,
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Its sequence number in the log.
    pub seq: i64,
    /// When (Unix ms).
    pub at: i64,
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The entry's type (`call_created`, `crew_status`, `closure_added`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Who: a token's name and role, or `system`; `None` for entries written before actors
    /// were recorded.
    pub actor: Option<Actor>,
    /// The call it concerns, if any.
    pub call_id: Option<u64>,
    /// The crew it concerns, if any.
    pub crew_id: Option<String>,
    /// The entry as logged (its shape is its `type`'s).
    #[schema(value_type = Object)]
    pub event: Value,
}

impl AuditEntry {
    fn of(e: StoredEvent) -> AuditEntry {
        let v = e.event;
        let at = v.get("at").and_then(Value::as_i64).unwrap_or(e.at_ms);
        AuditEntry {
            seq: e.seq,
            at,
            time: crate::handover::instant(at),
            kind: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            actor: v
                .get("actor")
                .and_then(|a| serde_json::from_value(a.clone()).ok()),
            call_id: v
                .get("call_id")
                .or_else(|| v.pointer("/decision/call_id"))
                .or_else(|| v.pointer("/call/id"))
                .and_then(Value::as_u64),
            crew_id: v
                .get("crew_id")
                .or_else(|| v.pointer("/decision/crew_id"))
                .and_then(Value::as_str)
                .map(str::to_string),
            event: v,
        }
    }
}

/// Who did what: the event log with each entry's actor, as JSON or (with `Accept:
/// text/csv`) as CSV with the columns `seq,time,actor,role,type,call_id,crew_id,event`.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "The entries, in log order", content(
            (Vec<AuditEntry> = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A bad query parameter", body = ErrorBody),
        (status = 403, description = "Not a dispatcher", body = ErrorBody),
    )
)]
async fn audit(
    State(state): State<AppState>,
    Auth(role): Auth,
    headers: HeaderMap,
    crate::edge::QueryParams(q): crate::edge::QueryParams<AuditQuery>,
) -> Result<Response, ApiError> {
    role.require_staff()?;
    let limit = q.limit.unwrap_or(MAX_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::field(
            axum::http::StatusCode::BAD_REQUEST,
            "limit",
            format!("limit: 1 to {MAX_LIMIT} entries"),
        ));
    }
    // A `since` past every entry is simply the end of the log.
    let since = q.since.map_or(0, |s| s.0 as i64);
    let entries: Vec<AuditEntry> = state
        .0
        .store
        .events_since(since, i64::from(limit))
        .await
        .map_err(ApiError::unavailable)?
        .into_iter()
        .map(AuditEntry::of)
        .collect();
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(entries).into_response());
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let row = |w: &mut csv::Writer<Vec<u8>>, e: &AuditEntry| {
        let (name, role) = e
            .actor
            .as_ref()
            .map_or(("", ""), |a| (a.name.as_str(), a.role.as_str()));
        w.write_record([
            e.seq.to_string().as_str(),
            &e.time,
            name,
            role,
            &e.kind,
            &e.call_id.map(|c| c.to_string()).unwrap_or_default(),
            e.crew_id.as_deref().unwrap_or(""),
            &e.event.to_string(),
        ])
    };
    let written = w
        .write_record([
            "seq", "time", "actor", "role", "type", "call_id", "crew_id", "event",
        ])
        .and_then(|()| entries.iter().try_for_each(|e| row(&mut w, e)));
    let body = written
        .map_err(ApiError::internal)
        .and_then(|()| w.into_inner().map_err(ApiError::internal))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}
