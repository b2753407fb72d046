//! Websockets: `/ws/console` for dispatcher consoles (every event, resumable with
//! `?since=<seq>`) and `/ws/crews/{id}` for crew tablets (their assignment with the route as
//! soon as it is made; they send positions and status changes).

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use dispatch_core::CrewStatus;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Actor, Auth, Caller};
use crate::error::ApiError;
use crate::hub::{Backlog, Numbered};
use crate::journal;
use crate::state::{assignment_message, AppState, Effect};

/// The websocket routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/ws/console", get(console))
        .route("/ws/crews/{id}", get(crew))
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn console(
    State(state): State<AppState>,
    Auth(role): Auth,
    Query(q): Query<Since>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    role.require_staff()?;
    let since = q.since.unwrap_or(0);
    Ok(ws.on_upgrade(move |socket| stream(state, socket, since, None)))
}

async fn crew(
    State(state): State<AppState>,
    Caller { role, actor }: Caller,
    Path(id): Path<String>,
    Query(q): Query<Since>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    role.require_crew(&id)?;
    if state.core().await.crew(&id).is_none() {
        return Err(ApiError::not_found(format!("no crew with id {id:?}")));
    }
    let since = q.since.unwrap_or_else(|| state.0.hub.last_seq());
    Ok(ws.on_upgrade(move |socket| stream(state, socket, since, Some((id, actor)))))
}

/// Sends `n` unless it is not for this socket; `Err` when the client is gone.
async fn send(socket: &mut WebSocket, crew: Option<&str>, n: &Numbered) -> Result<(), ()> {
    if crew.is_some_and(|c| n.crew.as_deref() != Some(c)) {
        return Ok(());
    }
    socket
        .send(Message::Text(n.json.to_string().into()))
        .await
        .map_err(|_| ())
}

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
            for stored in &page {
                let n = journal::numbered(stored);
                if n.seq >= until {
                    break;
                }
                *last = n.seq;
                send(socket, crew, &n).await?;
            }
            backlog = state.0.hub.since(*last);
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
async fn stream(
    state: AppState,
    mut socket: WebSocket,
    since: u64,
    tablet: Option<(String, Actor)>,
) {
    let (crew, actor) = match tablet {
        Some((id, actor)) => (Some(id), actor),
        None => (None, Actor::system()),
    };
    let (backlog, mut rx) = match &crew {
        Some(id) => state.0.hub.subscribe_crew_since(id, since),
        None => state.0.hub.subscribe_since(since),
    };
    let mut last = since;
    if let Some(id) = &crew {
        // The current assignment, so a tablet that (re)connects knows where to go.
        let current = {
            let core = state.core().await;
            core.crew(id)
                .and_then(|c| c.call)
                .and_then(|call| assignment_message(&state.0.router, &core, id, call))
        };
        if let Some(msg) = current {
            if socket
                .send(Message::Text(msg.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
    let crew = crew.as_deref();
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
                Err(RecvError::Lagged(_)) => {
                    // Fell behind the channel: catch up from the log, still in order.
                    let backlog = state.0.hub.since(last);
                    if catch_up(&state, &mut socket, crew, &mut last, backlog).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(id) = crew {
                        if let Some(reply) = tablet_message(&state, id, &actor, &text).await {
                            if socket.send(Message::Text(reply.into())).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TabletMessage {
    Position { lat: f64, lon: f64 },
    Status { status: CrewStatus },
}

/// Applies a tablet's message; returns an error reply when it cannot be applied.
async fn tablet_message(state: &AppState, crew: &str, actor: &Actor, text: &str) -> Option<String> {
    let msg: TabletMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            return Some(
                json!({"type": "error", "error": "bad_request", "message": e.to_string()})
                    .to_string(),
            )
        }
    };
    let own_status = match msg {
        TabletMessage::Status { status } => Some((crew.to_string(), status)),
        TabletMessage::Position { .. } => None,
    };
    let result = state
        .apply(actor, None, |core, now| {
            let events = match msg {
                TabletMessage::Position { lat, lon } => core.move_crew(crew, lat, lon, now)?,
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
        Err(e) => Some(json!({"type": "error", "error": e.code, "message": e.message}).to_string()),
    }
}
