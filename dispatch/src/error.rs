//! The service's one error type: every failure becomes `{"error": .., "message": ..}` with the
//! right HTTP status. 5xx bodies say nothing internal; their cause is logged once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dispatch_core::DispatchError;
use serde::Serialize;

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
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
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

    /// 503: the store cannot be reached or written; nothing was changed. Logged here.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "store unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the dispatch store is unavailable: nothing was changed, try again",
        )
    }

    /// 500: logged here, answered without detail.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
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
        (self.status, Json(body)).into_response()
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
