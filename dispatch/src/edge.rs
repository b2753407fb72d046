//! The service's edge: every input a client sends is checked once, here, into domain types,
//! and a bad one is answered with JSON naming the field (see [`ApiError`]):
//!
//! * JSON bodies ([`JsonBody`]): at most [`BODY_LIMIT`] bytes (413), `Content-Type:
//!   application/json` (400), well-formed JSON (400, with line and column), values of the
//!   right type and range (422, with the field's path, e.g. `vitals.heart_rate`);
//! * query strings ([`QueryParams`]): 400 naming the parameter;
//! * the `Idempotency-Key` header ([`IdempotencyKey`]): 1 to 200 visible ASCII characters;
//! * values: coordinates ([`Lat`], [`Lon`]), free text ([`Text`]: a bounded length, no
//!   control characters but line breaks and tabs), crew ids ([`CrewId`]), call ids
//!   ([`parse_call_id`]), log sequence numbers ([`Seq`]), times ([`UnixMs`]).
//!
//! A domain type's `Deserialize` refuses a bad value, so a struct made of them is valid once
//! parsed, and the error names the field through its path.

use std::fmt;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use dispatch_core::CallId;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

mod schemas;
mod strict;

/// Largest JSON body, bytes (256 KiB).
pub const BODY_LIMIT: usize = 256 * 1024;

/// Longest `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_MAX: usize = 200;

/// Why a value was refused (the message; the field is its path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// A JSON body, parsed into `T` (whose fields' types check their values).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

fn is_json(parts: &axum::http::HeaderMap) -> bool {
    parts
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "Content-Type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_)
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::field(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body",
                    format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
                )
            }
            _ => ApiError::field(StatusCode::BAD_REQUEST, "body", e.body_text()),
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON document into `T`: 400 when it is not JSON, 422 naming the field when a
/// value is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // First the syntax (400), then the values (422): parsing through a `Value` makes every
    // error of the second step a data error with its path (serde_json reports some wrong
    // types, an integer for an enum say, as syntax errors when parsing text directly).
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "body",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    from_value(value)
}

/// Reads `T` from a JSON value: 422 naming the field when a value is wrong (a struct must be
/// an object, never a list of its fields).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(strict::Strict(value)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = field_of(&path, &message);
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            &field,
            format!("{field}: {}", strip_position(&message)),
        )
    })
}

/// The field an error is about: its path, or for a missing or unknown field (reported at
/// the enclosing object) the name serde quotes in backticks.
fn field_of(path: &str, message: &str) -> String {
    let quoted = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .and_then(|rest| rest.split('`').next());
    match (path, quoted) {
        (".", Some(name)) => name.to_string(),
        (".", None) => "body".to_string(),
        // An unknown field's path already ends with it; a missing one's is its object's.
        (p, Some(name)) if p != name && !p.ends_with(&format!(".{name}")) => {
            format!("{p}.{name}")
        }
        (p, _) => p.to_string(),
    }
}

/// serde_json's " at line L column C" is noise once the field is named.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// Query parameters parsed into `T`: 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                let field = field_of(&path, &message);
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    &field,
                    format!("{field}: {message}"),
                )
            })
    }
}

/// The `Idempotency-Key` header, when given: 1 to [`IDEMPOTENCY_KEY_MAX`] visible ASCII
/// characters (`!` to `~`). A retry with the same key does the change once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let bytes = value.as_bytes();
        if bytes.is_empty()
            || bytes.len() > IDEMPOTENCY_KEY_MAX
            || !bytes.iter().all(|b| (b'!'..=b'~').contains(b))
        {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key",
                format!(
                    "Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters (no spaces)"
                ),
            ));
        }
        // Checked visible ASCII above, so this is text.
        Ok(IdempotencyKey(Some(
            String::from_utf8_lossy(bytes).into_owned(),
        )))
    }
}

/// A latitude, degrees, −90 to 90.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Lat(pub f64);

impl TryFrom<f64> for Lat {
    type Error = Invalid;
    fn try_from(x: f64) -> Result<Self, Invalid> {
        in_range(x, -90.0, 90.0).map(Lat)
    }
}

/// A longitude, degrees, −180 to 180.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Lon(pub f64);

impl TryFrom<f64> for Lon {
    type Error = Invalid;
    fn try_from(x: f64) -> Result<Self, Invalid> {
        in_range(x, -180.0, 180.0).map(Lon)
    }
}

/// `x` if finite and within `lo..=hi`.
pub fn in_range(x: f64, lo: f64, hi: f64) -> Result<f64, Invalid> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(Invalid(format!("must be between {lo} and {hi} (got {x})")))
    }
}

/// Free text of at most `MAX` characters, with no control characters but line breaks and
/// tabs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct Text<const MAX: usize>(pub String);

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let n = s.chars().count();
        if n > MAX {
            return Err(Invalid(format!("at most {MAX} characters (got {n})")));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Invalid("control characters are not allowed".into()));
        }
        Ok(Text(s))
    }
}

impl<const MAX: usize> Text<MAX> {
    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A crew id: 1 to 64 letters (any script), digits, `-`, `_` or `.` (it appears in URLs and
/// in tokens' `crew:<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct CrewId(pub String);

impl TryFrom<String> for CrewId {
    type Error = Invalid;
    fn try_from(id: String) -> Result<Self, Invalid> {
        let n = id.chars().count();
        if (1..=64).contains(&n)
            && id
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            Ok(CrewId(id))
        } else {
            Err(Invalid("1 to 64 letters, digits, '-', '_' or '.'".into()))
        }
    }
}

/// A crew id from a URL path: one outside the character set cannot name a crew (404).
pub fn crew_path(id: String) -> Result<String, ApiError> {
    CrewId::try_from(id.clone())
        .map(|c| c.0)
        .map_err(|_| ApiError::not_found(format!("no crew with id {id:?}")))
}

/// A call id from a URL path (a number; anything else names no call: 404).
pub fn parse_call_id(id: &str) -> Result<CallId, ApiError> {
    id.parse::<u64>()
        .ok()
        .filter(|&n| n > 0 && i64::try_from(n).is_ok())
        .map(CallId)
        .ok_or_else(|| ApiError::not_found(format!("no call with id {id:?}")))
}

/// A position in the event log (`since=`): 0 to 2⁶³ − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u64")]
pub struct Seq(pub u64);

impl TryFrom<u64> for Seq {
    type Error = Invalid;
    fn try_from(n: u64) -> Result<Self, Invalid> {
        if i64::try_from(n).is_ok() {
            Ok(Seq(n))
        } else {
            Err(Invalid(format!("at most {} (got {n})", i64::MAX)))
        }
    }
}

/// A time, Unix milliseconds, between 2000-01-01 and 2100-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct UnixMs(pub i64);

impl TryFrom<i64> for UnixMs {
    type Error = Invalid;
    fn try_from(ms: i64) -> Result<Self, Invalid> {
        const FROM: i64 = 946_684_800_000;
        const TO: i64 = 4_102_444_800_000;
        if (FROM..TO).contains(&ms) {
            Ok(UnixMs(ms))
        } else {
            Err(Invalid(format!(
                "a time in Unix milliseconds between {FROM} (2000) and {TO} (2100) (got {ms})"
            )))
        }
    }
}

/// For a field that may be absent (unchanged), `null` (cleared) or a value:
/// `#[serde(default, deserialize_with = "double_option")]` on an `Option<Option<T>>`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl utoipa::IntoParams for IdempotencyKey {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(utoipa::openapi::Required::False)
            .description(Some(
                "Makes a retry safe: a second request with the same key does nothing and \
                 answers the first answer. 1 to 200 visible ASCII characters (`!` to `~`).",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .min_length(Some(1))
                    .max_length(Some(IDEMPOTENCY_KEY_MAX))
                    .pattern(Some("^[!-~]+$")),
            ))
            .build()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        lat: Lat,
        lon: Lon,
        #[serde(default)]
        notes: Text<5>,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        crews: Vec<CrewId>,
    }

    fn refused(json: &str) -> ApiError {
        parse_json::<Sample>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn errors_name_the_field_and_the_status_tells_syntax_from_values() {
        let e = refused(r#"{"lat": 91, "lon": 0}"#);
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("lat"))
        );
        assert!(e.message.contains("between -90 and 90"), "{}", e.message);
        let e = refused(r#"{"lat": 1, "lon": 0, "notes": "toolong"}"#);
        assert_eq!(e.field.as_deref(), Some("notes"));
        let e = refused(r#"{"lat": 1, "lon": 0, "notes": "a\u0000"}"#);
        assert_eq!(e.field.as_deref(), Some("notes"));
        let e = refused(r#"{"lat": 1, "lon": 0, "inner": {"crews": ["ok", "<b>"]}}"#);
        assert_eq!(e.field.as_deref(), Some("inner.crews[1]"));
        let e = refused(r#"{"lat": 1}"#);
        assert_eq!(e.field.as_deref(), Some("lon"));
        let e = refused(r#"{"lat": 1, "lon": 2, "extra": 3}"#);
        assert_eq!(e.field.as_deref(), Some("extra"));
        let e = refused(r#"{"lat": 1, "lon": 2"#);
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::BAD_REQUEST, Some("body"))
        );
        let e = refused(r#"{"lat": 1, "lon": 2} {}"#);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = refused(r#"{"lat": 1e400, "lon": 2}"#);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(parse_json::<Sample>(
            br#"{"lat": -90, "lon": 180, "notes": "\u0436\u0436\u0436\u0436\u0436"}"#
        )
        .is_ok());
    }

    #[test]
    fn sequence_numbers_and_times_have_bounds() {
        assert!(Seq::try_from(u64::MAX).is_err());
        assert_eq!(Seq::try_from(i64::MAX as u64), Ok(Seq(i64::MAX as u64)));
        assert!(UnixMs::try_from(-1).is_err());
        assert!(UnixMs::try_from(1_800_000_000_000).is_ok());
        assert!(parse_call_id("18446744073709551615").is_err());
        assert!(parse_call_id("0").is_err());
        assert_eq!(parse_call_id("7").unwrap(), CallId(7));
    }
}
