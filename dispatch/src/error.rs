//! The crate's error types.
//!
//! * [`Error`]: the library's one error type, what [`serve`](crate::server::serve) returns
//!   and what code using several parts returns (the crate's example). Each part's own error
//!   is one of its variants, kept whole with its sources and converted by `?`:
//!   [`StoreError`](crate::store::StoreError), [`TokenError`](crate::auth::TokenError),
//!   [`SettingsError`](crate::settings::SettingsError),
//!   [`StationError`](crate::stations::StationError), [`FhirError`](crate::fhir::FhirError)
//!   and the router's. A part's functions (opening the map, the store, the state) return
//!   the part's error, which says exactly what it could not do.
//! * [`ApiError`]: the HTTP surface's one error: every failure becomes
//!   `{"error": .., "message": ..}` with the right HTTP status. 5xx bodies say nothing
//!   internal; their cause travels with the error and is logged once, where the error is
//!   answered: by the service's error layer ([`log_answered_errors`]) for HTTP, by
//!   [`ApiError::log`] elsewhere (a tablet's socket).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatch_core::DispatchError;
use serde::Serialize;

/// What went wrong in the dispatch service's library, by the part it went wrong in.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The map cannot be opened or imported.
    #[error(transparent)]
    Map(#[from] router::RouterError),
    /// The store cannot be opened, read or written, or its log does not replay.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The tokens cannot be read or are invalid.
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokenError),
    /// The settings (rules, hospitals) cannot be read or are invalid.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The stations are invalid.
    #[error(transparent)]
    Stations(#[from] crate::stations::StationError),
    /// The FHIR server's address or the patient records cannot be used.
    #[error(transparent)]
    Fhir(#[from] crate::fhir::FhirError),
    /// The service cannot listen or stopped serving.
    #[error("cannot serve on {addr}: {source}")]
    Serve {
        /// The address it listens on (or was to).
        addr: String,
        /// The socket's error.
        source: std::io::Error,
    },
}

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `off_map`, `unavailable`, `internal`, and at the edge `invalid`, `too_large`,
    /// `too_many`; with several instances, `not_leader`, `no_leader` and `leader_lost`, see
    /// [`crate::cluster`]).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The input at fault, when one is: a JSON path (`vitals.heart_rate`, `needs[1]`), a
    /// query parameter or a header.
    pub field: Option<String>,
    /// What went wrong inside (500 and 503): logged, never answered.
    pub cause: Option<String>,
}

impl std::fmt::Display for ApiError {
    /// The message, and the cause when there is one (for logs, never for clients).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {cause}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The cause of an error answered over HTTP, for [`log_answered_errors`].
#[derive(Debug, Clone)]
struct AnsweredCause {
    code: &'static str,
    cause: String,
}

/// Logs, once, the cause of every error the service answers with one (5xx), within the
/// request's span (method and path).
pub async fn log_answered_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(a) = response.extensions().get::<AnsweredCause>() {
        tracing::error!(cause = %a.cause, code = a.code, status = response.status().as_u16(), "request failed");
    }
    response
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            cause: None,
        }
    }

    /// An input refused at the edge, naming `field`: 400 (`bad_request`, malformed), 413
    /// (`too_large`), 422 (`invalid`, a wrong value) or 429 (`too_many`).
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid",
            StatusCode::TOO_MANY_REQUESTS => "too_many",
            _ => "bad_request",
        };
        ApiError {
            field: Some(field.to_string()),
            ..Self::new(status, code, message)
        }
    }

    /// 422: `field` has a wrong value.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no valid token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token is required (Authorization: Bearer <token>, or ?token= on websockets)",
        )
    }

    /// 403: the role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404: no such thing.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `not_leader`: this instance of several on one database does not make changes now
    /// (see [`crate::cluster`]); nothing was changed.
    pub fn not_leader() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_leader",
            "this instance is not the leader: nothing was changed, try again",
        )
    }

    /// 503: the store cannot be reached or written; nothing was changed. The cause is kept
    /// for the log.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the dispatch store is unavailable: nothing was changed, try again",
            )
        }
    }

    /// 500: answered without detail; the cause is kept for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }
    }

    /// Logs the cause, if there is one: for an error answered other than over HTTP (HTTP
    /// answers are logged by [`log_answered_errors`]).
    pub fn log(&self) {
        if let Some(cause) = &self.cause {
            tracing::error!(%cause, code = self.code, "request failed");
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `invalid`, `too_large`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `off_map`, `timeout`, `unavailable`, `internal`, ...
    #[schema(example = "invalid")]
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
    /// The input that was wrong (`lat`, `needs[2]`, `Idempotency-Key`, `limit`, ...), when
    /// one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
            field: self.field,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(AnsweredCause {
                code: self.code,
                cause,
            });
        }
        response
    }
}

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        let message = e.to_string();
        match e {
            DispatchError::UnknownCrew(_)
            | DispatchError::UnknownCall(_)
            | DispatchError::UnknownHospital(_) => Self::not_found(message),
            DispatchError::OffMap(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "off_map", message)
            }
            _ => Self::new(StatusCode::CONFLICT, "conflict", message),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failure_is_logged_once_where_it_is_answered_and_its_cause_never_sent() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();

        // Made but handled elsewhere (say, mapped to another answer): nothing is logged.
        let quiet = ApiError::internal("the disk is on fire");
        assert_eq!(quiet.to_string(), "internal error: the disk is on fire");
        drop(quiet);
        assert!(sink.0.lock().unwrap().is_empty());

        let app = axum::Router::new()
            .route(
                "/fail",
                get(|| async { Err::<(), _>(ApiError::internal("the disk is on fire")) }),
            )
            .route(
                "/refuse",
                get(|| async { Err::<(), _>(ApiError::not_found("no such call")) }),
            )
            .layer(axum::middleware::from_fn(log_answered_errors));
        let answer = |path: &'static str| {
            let app = app.clone();
            rt.block_on(async move {
                let request = axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap();
                let response = app.oneshot(request).await.unwrap();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, String::from_utf8_lossy(&body).into_owned())
            })
        };
        let (status, body) = answer("/fail");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !body.contains("fire"),
            "the cause reached the client: {body}"
        );
        let (status, _) = answer("/refuse");
        assert_eq!(status, StatusCode::NOT_FOUND);

        let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(log.matches("the disk is on fire").count(), 1, "{log}");
        assert!(
            log.contains("code=\"internal\"") || log.contains("code=internal"),
            "{log}"
        );
        assert!(
            !log.contains("no such call"),
            "a client's mistake is not an error: {log}"
        );
    }
}
