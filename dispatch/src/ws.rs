//! Websockets: `/ws/console` for dispatcher consoles (every event, resumable with
//! `?since=<seq>`) and `/ws/crews/{id}` for crew tablets (their assignment with the route as
//! soon as it is made; they send positions and status changes).

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use dispatch_core::CrewStatus;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Actor, Auth, Caller};
use crate::edge::{crew_path, Lat, Lon, QueryParams, Seq};
use crate::error::ApiError;
use crate::hub::{Backlog, Numbered};
use crate::journal;
use crate::metrics::Socket;
use crate::state::{assignment_message, AppState, Effect};

/// The websocket routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/ws/console", get(console))
        .route("/ws/crews/{id}", get(crew))
}

/// Largest message a client may send (and frame), bytes: a tablet sends small JSON.
pub const MESSAGE_LIMIT: usize = 64 * 1024;
/// Messages a client may send per second, on average…
pub const MESSAGES_PER_SECOND: f64 = 10.0;
/// …and in a burst. A client above that is closed with a reason (policy violation).
pub const MESSAGE_BURST: f64 = 40.0;

/// How long one message to a client may take to send before the client counts as stuck
/// and is closed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// `?since=` (the token may come as `?token=` too).
#[derive(Deserialize)]
struct Since {
    since: Option<Seq>,
}

/// Websocket limits: message and frame size.
fn limited(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MESSAGE_LIMIT)
        .max_frame_size(MESSAGE_LIMIT)
}

async fn console(
    State(state): State<AppState>,
    Auth(role): Auth,
    QueryParams(q): QueryParams<Since>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    role.require_staff()?;
    let since = q.since.map_or(0, |s| s.0);
    Ok(limited(ws).on_upgrade(move |socket| stream(state, socket, since, None)))
}

async fn crew(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<Since>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // Kept for a standby, which passes the tablet's messages on to the leader with it.
    let token = crate::auth::token_of(&headers, &uri)
        .unwrap_or_default()
        .to_string();
    let id = crew_path(id)?;
    role.require_crew(&id)?;
    if state.core().await.crew(&id).is_none() {
        return Err(ApiError::not_found(format!("no crew with id {id:?}")));
    }
    let since = q.since.map_or_else(|| state.0.hub.last_seq(), |s| s.0);
    let tablet = Tablet { id, actor, token };
    Ok(limited(ws).on_upgrade(move |socket| stream(state, socket, since, Some(tablet))))
}

/// A token bucket: [`MESSAGES_PER_SECOND`] on average, [`MESSAGE_BURST`] at once.
struct Rate {
    tokens: f64,
    at: Instant,
}

impl Rate {
    fn new() -> Rate {
        Rate {
            tokens: MESSAGE_BURST,
            at: Instant::now(),
        }
    }

    /// Takes one message; false when the client is over its rate.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * MESSAGES_PER_SECOND;
        self.tokens = (self.tokens + refill).min(MESSAGE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Closes `socket` with a policy-violation code and `reason` (a close reason is at most 123
/// bytes).
async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    // The client may be gone already: nothing more to do then.
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Sends `n` unless it is not for this socket; `Err` when the client is gone or stuck.
async fn send(socket: &mut WebSocket, crew: Option<&str>, n: &Numbered) -> Result<(), ()> {
    match crew {
        Some(c) if n.crew.as_deref() != Some(c) => Ok(()),
        Some(_) => send_text(socket, crew_safe(&n.json)).await,
        None => send_text(socket, n.json.to_string()).await,
    }
}

/// An entry as a tablet may see it: a dispatch decision without its candidates (the other
/// crews and their ETAs).
fn crew_safe(json: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(json) else {
        return json.to_string();
    };
    if let Some(d) = v.get_mut("decision").and_then(|d| d.as_object_mut()) {
        d.remove("candidates");
        d.remove("divertible");
    }
    v.to_string()
}

/// Sends one text message within [`SEND_TIMEOUT`]; `Err` when the client is gone or does not
/// read.
async fn send_text(socket: &mut WebSocket, text: String) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::warn!("a websocket client stopped reading: closed");
            Err(())
        }
    }
}

/// The close code for a client that fell behind (1013, try again later).
pub const CLOSE_BEHIND: u16 = 1013;
/// The close code for a client over its limits (1008, policy violation).
pub const CLOSE_POLICY: u16 = 1008;
/// The close code for a message too big (1009).
pub const CLOSE_TOO_BIG: u16 = 1009;

/// How many entries are read from the store at a time for a client far behind.
const STORE_PAGE: i64 = 1_000;

/// Sends what was published after `*last` (from the store for entries no longer in memory,
/// then from memory), advancing `*last`. The first `backlog` is the hub's answer to the
/// subscription.
async fn catch_up(
    state: &AppState,
    socket: &mut WebSocket,
    crew: Option<&str>,
    last: &mut u64,
    mut backlog: Backlog,
) -> Result<(), ()> {
    loop {
        if backlog.older_in_store {
            let until = backlog.entries.first().map_or(u64::MAX, |n| n.seq);
            let page = state
                .0
                .store
                .events_since(*last as i64, STORE_PAGE)
                .await
                .map_err(
                    |e| tracing::error!(error = %e, "cannot read the event log for a client"),
                )?;
            if page.is_empty() {
                // The hub says older entries exist but the store has none: give up on them.
                backlog.older_in_store = false;
                continue;
            }
            let before = *last;
            for stored in &page {
                let n = journal::numbered(stored);
                if n.seq >= until {
                    break;
                }
                *last = n.seq;
                send(socket, crew, &n).await?;
            }
            backlog = state.0.hub.since(*last);
            if *last == before {
                // Nothing in the store before the window: the entries between were compacted
                // away (position reports), so the window follows on.
                backlog.older_in_store = false;
            }
            continue;
        }
        for n in &backlog.entries {
            if n.seq <= *last {
                continue;
            }
            *last = n.seq;
            send(socket, crew, n).await?;
        }
        return Ok(());
    }
}

/// Replays the entries after `since`, then streams live ones, with no gap and no repeat.
/// For a crew, only its own entries, its current assignment first, and its messages are read.
/// A tablet's messages change things as its token's holder (`actor`).
async fn stream(state: AppState, mut socket: WebSocket, since: u64, tablet: Option<Tablet>) {
    let (crew, actor, token) = match tablet {
        Some(t) => (Some(t.id), t.actor, t.token),
        None => (None, Actor::system(), String::new()),
    };
    // Counted as open until this function returns (the socket is closed then).
    let _open = state.0.metrics.websocket(match crew {
        Some(_) => Socket::Crew,
        None => Socket::Console,
    });
    let (backlog, mut rx) = match &crew {
        Some(id) => state.0.hub.subscribe_crew_since(id, since),
        None => state.0.hub.subscribe_since(since),
    };
    let mut last = since;
    if let Some(id) = &crew {
        // The current assignment, so a tablet that (re)connects knows where to go.
        if send_current(&state, &mut socket, id).await.is_err() {
            return;
        }
    }
    let crew = crew.as_deref();
    let mut rate = Rate::new();
    if catch_up(&state, &mut socket, crew, &mut last, backlog)
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            live = rx.recv() => match live {
                Ok(n) => {
                    if n.seq <= last {
                        continue;
                    }
                    if n.seq > last + 1 && crew.is_none() {
                        // A console must not miss an entry: fetch what came in between.
                        let backlog = state.0.hub.since(last);
                        if catch_up(&state, &mut socket, crew, &mut last, backlog).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    last = n.seq;
                    if send(&mut socket, crew, &n).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => match crew {
                    // A console that fell behind the channel is closed rather than kept
                    // reading the log while everything else moves on: it resumes from
                    // where it was with `?since=`, and misses nothing.
                    None => {
                        let reason = format!("fell behind: reconnect with ?since={last}");
                        close(&mut socket, CLOSE_BEHIND, &reason).await;
                        return;
                    }
                    // A tablet needs only where to go now: its current assignment.
                    Some(id) => {
                        last = state.0.hub.last_seq();
                        if send_current(&state, &mut socket, id).await.is_err() {
                            return;
                        }
                    }
                },
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => {
                if matches!(incoming, Some(Ok(Message::Text(_) | Message::Binary(_)))) && !rate.take() {
                    let reason = format!("too many messages: at most {MESSAGES_PER_SECOND} a second");
                    tracing::warn!(crew, "a websocket client sent too many messages: closed");
                    close(&mut socket, CLOSE_POLICY, &reason).await;
                    return;
                }
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(id) = crew {
                            if let Some(reply) = tablet_message(&state, id, &actor, &token, &text).await {
                                if send_text(&mut socket, reply).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    Some(Err(e)) => {
                        // Most likely a message over the size limit; the socket may still
                        // take a close frame.
                        let reason = format!("message refused (at most {} KiB): {e}", MESSAGE_LIMIT / 1024);
                        let reason: String = reason.chars().take(100).collect();
                        close(&mut socket, CLOSE_TOO_BIG, &reason).await;
                        return;
                    }
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Ok(_)) => {}
                }
            },
        }
    }
}

/// Sends crew `id` its current assignment, if it has one.
async fn send_current(state: &AppState, socket: &mut WebSocket, id: &str) -> Result<(), ()> {
    let current = {
        let core = state.core().await;
        core.crew(id)
            .and_then(|c| c.call)
            .and_then(|call| assignment_message(&state.0.router, &core, id, call))
    };
    match current {
        Some(msg) => send_text(socket, msg.to_string()).await,
        None => Ok(()),
    }
}

/// What a tablet sends: `{"type": "position", "lat", "lon"}` or `{"type": "status",
/// "status"}`.
enum TabletMessage {
    Position { lat: Lat, lon: Lon },
    Status { status: CrewStatus },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionMessage {
    lat: Lat,
    lon: Lon,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusMessage {
    status: CrewStatus,
}

impl TabletMessage {
    /// Parses a tablet's message; errors name the field.
    fn parse(text: &str) -> Result<TabletMessage, ApiError> {
        let mut value: serde_json::Value = crate::edge::parse_json(text.as_bytes())?;
        let kind = value
            .as_object_mut()
            .and_then(|m| m.remove("type"))
            .ok_or_else(|| ApiError::invalid("type", "type: missing (position or status)"))?;
        match kind.as_str() {
            Some("position") => {
                crate::edge::from_value::<PositionMessage>(value).map(|p| TabletMessage::Position {
                    lat: p.lat,
                    lon: p.lon,
                })
            }
            Some("status") => crate::edge::from_value::<StatusMessage>(value)
                .map(|s| TabletMessage::Status { status: s.status }),
            _ => Err(ApiError::invalid(
                "type",
                format!("type: position or status, not {kind}"),
            )),
        }
    }
}

/// A crew tablet's connection: its crew, its token's holder and the token.
struct Tablet {
    id: String,
    actor: Actor,
    token: String,
}

/// Applies a tablet's message (a standby passes it on to the leader); returns an error reply
/// when it cannot be applied.
async fn tablet_message(
    state: &AppState,
    crew: &str,
    actor: &Actor,
    token: &str,
    text: &str,
) -> Option<String> {
    let msg = match TabletMessage::parse(text) {
        Ok(m) => m,
        Err(e) => return Some(error_message(e)),
    };
    if let Some(cluster) = state.0.cluster.as_deref().filter(|_| !state.is_leader()) {
        return forward_tablet_message(state, cluster, crew, token, msg).await;
    }
    let own_status = match msg {
        TabletMessage::Status { status } => Some((crew.to_string(), status)),
        TabletMessage::Position { .. } => None,
    };
    let result = state
        .apply(actor, None, |core, now| {
            let events = match msg {
                TabletMessage::Position { lat, lon } => core.move_crew(crew, lat.0, lon.0, now)?,
                TabletMessage::Status { status } => core.set_crew_status(crew, status, now)?,
            };
            Ok(Effect {
                own_status,
                ..Effect::new(events, ())
            })
        })
        .await;
    match result {
        Ok(_) => None,
        Err(e) => Some(error_message(e)),
    }
}

/// Sends a tablet's message to the leader as the request of the HTTP API that does the same.
async fn forward_tablet_message(
    state: &AppState,
    cluster: &crate::cluster::Cluster,
    crew: &str,
    token: &str,
    msg: TabletMessage,
) -> Option<String> {
    use axum::http::{header, HeaderValue, Method};
    let crew_path = form_urlencoded::byte_serialize(crew.as_bytes()).collect::<String>();
    let (method, path, body) = match msg {
        TabletMessage::Position { lat, lon } => (
            Method::PUT,
            format!("/api/crews/{crew_path}/position"),
            json!({"lat": lat.0, "lon": lon.0}),
        ),
        TabletMessage::Status { status } => (
            Method::POST,
            format!("/api/crews/{crew_path}/status"),
            json!({"status": status}),
        ),
    };
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(header::AUTHORIZATION, v);
    }
    let answer = crate::cluster::forward(
        state,
        cluster,
        method,
        &path,
        &headers,
        body.to_string().into(),
    )
    .await;
    if answer.status().is_success() {
        return None;
    }
    let bytes = axum::body::to_bytes(answer.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let mut reply: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({"error": "unavailable"}));
    reply["type"] = json!("error");
    Some(reply.to_string())
}

/// An error as a tablet receives it: `{"type": "error", "error", "message", "field"?}`.
fn error_message(e: ApiError) -> String {
    e.log();
    let mut v = json!({"type": "error", "error": e.code, "message": e.message});
    if let Some(field) = e.field {
        v["field"] = json!(field);
    }
    v.to_string()
}
