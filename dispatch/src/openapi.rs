//! The OpenAPI 3.1 description of the HTTP API, generated from the handlers themselves
//! (utoipa): each handler carries its `#[utoipa::path]`, each route is registered through
//! `utoipa_axum` together with its description, and every request and response body is a
//! typed struct deriving `ToSchema`, so the description cannot drift from what is served.
//! It is served at `GET /api/openapi.json` (no token needed).
//!
//! Covered: `/health`, the REST API under `/api/` and the OSRM services (`/route/v1`,
//! `/table/v1`, `/nearest/v1`, described by the router crate). Not covered: the websockets
//! (`/ws/console`, `/ws/crews/{id}`; see the README) and the pages and their assets.
//!
//! Answers every operation may give besides its own are added here once: 401 without a
//! valid token (unless the operation is public), 500 when a handler fails or panics (the
//! cause is logged, not sent), 503 when the store is unavailable or the request took longer
//! than [`crate::server::REQUEST_TIMEOUT`].

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::error::ErrorBody;

/// The description's frame: title, tags, and the bearer token every operation needs unless
/// it says otherwise.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Ambulance dispatch",
        description = "The dispatch service of a 112 ambulance service: calls, crews, \
                       handovers, closures, the audit trail, the map, and OSRM-compatible \
                       routing. Every operation but `/health` and `/api/openapi.json` needs \
                       `Authorization: Bearer <token>`; what a token may do depends on its \
                       role (admin, dispatcher, or one crew). Errors are `ErrorBody` JSON, \
                       except the OSRM services' own.",
        license(name = "MIT OR Apache-2.0"),
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "calls", description = "112 calls: intake, re-triage, override, cancellation"),
        (name = "crews", description = "Crews: roster, position and status reports, hospitals"),
        (name = "handover", description = "The hospital handover and its FHIR R4 export"),
        (name = "closures", description = "Live road closures and slow-downs"),
        (name = "audit", description = "Who did what"),
        (name = "map", description = "The map the console and the tablet draw"),
        (name = "osrm", description = "OSRM v5 compatible routing"),
        (name = "service", description = "Health and this description"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token of the service's token file (see SECURITY.md).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole description: `paths` (the service's, collected from its routes) with the OSRM
/// services' and the answers common to every operation.
pub fn complete(mut doc: OpenApi) -> OpenApi {
    doc.merge(router::http::osrm_openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .entry(ErrorBody::name().into_owned())
        .or_insert_with(ErrorBody::schema);
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_common(op);
        }
    }
    doc
}

fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::content::ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    ErrorBody::name(),
                ))))
                .build(),
        )
        .build()
        .into()
}

/// 401 (unless public), 500 and 503 on `op`.
fn add_common(op: &mut Operation) {
    // `security: [{}]` (an empty requirement) marks a public operation.
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| *r == Default::default()));
    let responses = &mut op.responses.responses;
    if !public {
        responses
            .entry("401".into())
            .or_insert_with(|| error("No token, or an unknown one"));
    }
    responses
        .entry("500".into())
        .or_insert_with(|| error("A handler failed (the cause is logged, not sent)"));
    responses.entry("503".into()).or_insert_with(|| {
        error("The store is unavailable, or the request took too long: nothing was changed")
    });
}

/// `GET /api/openapi.json`.
pub fn json(doc: &OpenApi) -> String {
    doc.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot write the OpenAPI description");
        "{}".into()
    })
}
