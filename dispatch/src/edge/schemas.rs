//! The OpenAPI schemas of the domain types: what each accepts, as far as JSON Schema can say
//! it (a schema may be looser than the check, never stricter: `Text`'s control characters
//! and `CrewId`'s character set are in their descriptions).

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::{CrewId, Lat, Lon, Seq, Text, UnixMs};

fn number(description: &str, lo: f64, hi: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Number))
        .description(Some(description))
        .minimum(Some(lo))
        .maximum(Some(hi))
        .into()
}

fn integer(description: &str, lo: f64, hi: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .description(Some(description))
        .minimum(Some(lo))
        .maximum(Some(hi))
        .into()
}

impl PartialSchema for Lat {
    fn schema() -> RefOr<Schema> {
        number("A latitude, degrees (WGS 84).", -90.0, 90.0)
    }
}
impl ToSchema for Lat {}

impl PartialSchema for Lon {
    fn schema() -> RefOr<Schema> {
        number("A longitude, degrees (WGS 84).", -180.0, 180.0)
    }
}
impl ToSchema for Lon {}

impl PartialSchema for Seq {
    fn schema() -> RefOr<Schema> {
        integer("A position in the event log.", 0.0, i64::MAX as f64)
    }
}
impl ToSchema for Seq {}

impl PartialSchema for UnixMs {
    fn schema() -> RefOr<Schema> {
        integer(
            "A time, Unix milliseconds, from 2000-01-01 (inclusive) to 2100-01-01 (exclusive).",
            946_684_800_000.0,
            4_102_444_799_999.0,
        )
    }
}
impl ToSchema for UnixMs {}

impl PartialSchema for CrewId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(
                "A crew id: 1 to 64 letters (any script), digits, `-`, `_` or `.`.",
            ))
            .min_length(Some(1))
            .max_length(Some(64))
            .examples([serde_json::json!("A1")])
            .into()
    }
}
impl ToSchema for CrewId {}

impl<const MAX: usize> PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(format!(
                "Free text of at most {MAX} characters, with no control characters but \
                 line breaks and tabs."
            )))
            .max_length(Some(MAX))
            .into()
    }
}
impl<const MAX: usize> ToSchema for Text<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text{MAX}"))
    }
}
