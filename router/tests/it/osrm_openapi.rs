//! The OpenAPI description of the OSRM routes (`router::http::osrm_openapi`) against what
//! the routes answer: real answers over Heidelberg, served on an ephemeral port, each checked
//! against the schema the description gives for its path, status and content type. The
//! schemas are made strict for the check (no member that a schema does not list), so a
//! member written but not described fails as much as one described but not written.

use std::collections::BTreeSet;
use std::sync::Arc;

use router::http::{osrm_openapi, osrm_routes};
use router::{ClosureArea, ClosureSpec, Router, RouterOptions};
use serde_json::{json, Value};

use crate::helpers::{graph, router};

/// Two points in Heidelberg's old town and one south of it, `lon,lat`.
const A: &str = "8.6946,49.4106";
const B: &str = "8.6765,49.4034";
const C: &str = "8.70,49.40";
/// Paris: 450 km from Heidelberg.
const PARIS: &str = "2.3522,48.8566";
/// The point that closures cut off from every open road (see [`cut_off`]), `(lon, lat)`.
const ISLAND: (f64, f64) = (8.6765, 49.4034);

/// The OpenAPI document as JSON.
fn document() -> Value {
    serde_json::to_value(osrm_openapi()).expect("the OpenAPI document serializes")
}

/// Adds `additionalProperties: false` to every object schema that lists its properties, so
/// that a member the schema does not describe fails validation.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(strict);
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// A JSON Schema 2020-12 validator for `schema` (as found in the document: a `$ref` to a
/// component, usually), with the document's components embedded so the `$ref`s resolve.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    });
    strict(&mut root);
    jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("the schema {schema} does not compile: {e}"))
}

/// The OpenAPI path of a request path: `/route/v1/driving/...` is
/// `/route/v1/{profile}/{coordinates}`.
fn template(path: &str) -> String {
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    format!("/{service}/v1/{{profile}}/{{coordinates}}")
}

/// The names of the query parameters of the `GET` of `template`.
fn query_parameters(doc: &Value, template: &str) -> BTreeSet<String> {
    doc["paths"][template]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{template}: no parameters"))
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// A router over Heidelberg in which [`ISLAND`] cannot be reached: every road within 1 km
/// of it is closed, and the search through closed roads around a point (which reaches a
/// call inside a closed area) gives up after 10 nodes, long before an open road. A table
/// to or from it has `null` cells.
fn cut_off() -> Arc<Router> {
    let g = graph("heidelberg");
    let order = router::engine::compute_order(&g);
    let options = RouterOptions {
        max_closed_expansion: 10,
        ..RouterOptions::default()
    };
    let r = Router::with_order(g, &order, options).unwrap();
    r.add_closure(
        ClosureSpec {
            area: ClosureArea::Near {
                lat: ISLAND.1,
                lon: ISLAND.0,
                radius_m: 1_000.0,
            },
            factor: None,
            from_ms: None,
            until_ms: None,
        },
        0,
    )
    .unwrap();
    Arc::new(r)
}

/// One answer: status, `Content-Type` less its parameters, body.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Answer {
    let response = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let body = response.text().await.unwrap();
    Answer {
        status,
        content_type,
        body,
    }
}

/// Serves `app` on an ephemeral port of 127.0.0.1; the base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Checks `answer` of `GET path` against the document: the status and content type are
/// described for the path, every query parameter is, and the body is valid against the
/// schema given for them. The body as JSON (`Null` for text).
fn check(doc: &Value, path: &str, answer: &Answer) -> Value {
    let template = template(path);
    let operation = &doc["paths"][&template]["get"];
    assert!(operation.is_object(), "{path}: {template} is not described");
    let documented = query_parameters(doc, &template);
    if let Some((_, query)) = path.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or("");
            assert!(
                documented.contains(name),
                "{path}: query parameter {name:?} is not described ({documented:?})"
            );
        }
    }
    let response = &operation["responses"][answer.status.to_string()];
    assert!(
        response.is_object(),
        "{path}: status {} is not described: {}",
        answer.status,
        answer.body
    );
    let schema = &response["content"][&answer.content_type]["schema"];
    assert!(
        schema.is_object(),
        "{path}: status {} has no content {:?} described",
        answer.status,
        answer.content_type
    );
    let instance = if answer.content_type == "application/json" {
        serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{path}: {e}"))
    } else {
        Value::String(answer.body.clone())
    };
    let validator = validator(doc, schema);
    let errors = validator.iter_errors(&instance).into_errors();
    assert!(
        errors.is_empty(),
        "{path}: the answer does not match its schema {schema}:\n{errors}\n{instance}"
    );
    if answer.content_type == "application/json" {
        instance
    } else {
        Value::Null
    }
}

#[test]
fn the_openapi_document_describes_what_the_osrm_routes_answer() {
    let doc = document();
    for service in ["route", "table", "nearest"] {
        let operation = &doc["paths"][format!("/{service}/v1/{{profile}}/{{coordinates}}")]["get"];
        assert_eq!(operation["tags"], json!(["osrm"]), "{service}");
        for status in ["200", "400"] {
            assert!(
                operation["responses"][status].is_object(),
                "{service} {status}"
            );
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let heidelberg = Arc::new(router("heidelberg"));
    let (base, island) = rt.block_on(async {
        (
            serve(osrm_routes(heidelberg.clone())).await,
            serve(osrm_routes(cut_off())).await,
        )
    });
    let answer = |base: &str, path: &str| {
        let a = rt.block_on(get(&client, base, path));
        let v = check(&doc, path, &a);
        (a.status, a.content_type, v)
    };

    // route: polyline and GeoJSON, steps and annotations, three legs' worth of maneuvers.
    let (status, _, v) = answer(&base, &format!("/route/v1/driving/{A};{B}"));
    assert_eq!(status, 200, "{v}");
    assert!(v["routes"][0]["geometry"].is_string(), "{v}");
    let (status, _, v) = answer(
        &base,
        &format!(
            "/route/v1/driving/{A};{B}?geometries=geojson&overview=full&steps=true&annotations=true"
        ),
    );
    assert_eq!(status, 200, "{v}");
    let route = &v["routes"][0];
    assert_eq!(route["geometry"]["type"], "LineString", "{v}");
    let leg = &route["legs"][0];
    for key in ["duration", "distance", "speed", "weight", "nodes"] {
        assert!(leg["annotation"][key].is_array(), "{key}: {v}");
    }
    let steps = leg["steps"].as_array().unwrap();
    assert!(steps.len() >= 2, "{v}");
    assert_eq!(steps[0]["maneuver"]["type"], "depart");
    assert_eq!(steps.last().unwrap()["maneuver"]["type"], "arrive");
    assert!(steps[0]["geometry"]["coordinates"].is_array(), "{v}");
    let (status, _, v) = answer(
        &base,
        &format!(
            "/route/v1/driving/{A};{B};{C}?geometries=polyline6&steps=true&alternatives=true&annotations=duration,nodes&radiuses=;unlimited;500&bearings=&approaches=&hints="
        ),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["routes"][0]["legs"].as_array().unwrap().len(), 2, "{v}");
    assert!(
        v["routes"][0]["legs"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["maneuver"]["modifier"].is_string()),
        "no turn: {v}"
    );
    let (status, _, v) = answer(
        &base,
        &format!("/route/v1/driving/{A};{B}?overview=false&annotations=speed"),
    );
    assert_eq!(status, 200, "{v}");
    assert!(v["routes"][0].get("geometry").is_none(), "{v}");

    // table: durations and distances, and a null cell to the point cut off by a closure.
    let (island_lon, island_lat) = ISLAND;
    let (status, _, v) = answer(
        &base,
        &format!("/table/v1/driving/{A};{B};{C}?annotations=duration,distance&sources=0;1"),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["distances"].as_array().unwrap().len(), 2, "{v}");
    let (status, _, v) = answer(
        &island,
        &format!(
            "/table/v1/driving/{A};{island_lon},{island_lat};{C}?annotations=duration,distance"
        ),
    );
    assert_eq!(status, 200, "{v}");
    assert!(v["durations"][0][1].is_null(), "no null cell: {v}");
    assert!(v["distances"][0][1].is_null(), "no null cell: {v}");
    assert!(v["durations"][0][2].is_number(), "{v}");
    let (status, _, v) = answer(
        &island,
        &format!("/table/v1/driving/{A};{C}?destinations=1&annotations=distance"),
    );
    assert_eq!(status, 200, "{v}");
    assert!(
        v.get("durations").is_none() && v["distances"].is_array(),
        "{v}"
    );

    // nearest: three results with their junctions.
    let (status, _, v) = answer(&base, &format!("/nearest/v1/driving/{A}?number=3"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["waypoints"].as_array().unwrap().len(), 3, "{v}");

    // Errors: OSRM's JSON, and the text axum answers for a path that is not UTF-8.
    for (path, code) in [
        (format!("/route/v1/driving/{A}"), "InvalidOptions"),
        (
            format!("/route/v1/driving/{A};{B}?geometries=wkt"),
            "InvalidOptions",
        ),
        (format!("/route/v1/driving/{A};8.67"), "InvalidQuery"),
        (
            format!("/table/v1/driving/{A};{B}?sources=5"),
            "InvalidOptions",
        ),
        (
            format!("/nearest/v1/driving/{PARIS}?radiuses=1000"),
            "NoSegment",
        ),
        (format!("/nearest/v1/driving/{A}?number=1000"), "TooBig"),
    ] {
        let (status, content_type, v) = answer(&base, &path);
        assert_eq!((status, content_type.as_str()), (400, "application/json"));
        assert_eq!(v["code"], code, "{path}: {v}");
    }
    let (status, content_type, _) = answer(&base, &format!("/route/v1/driving/%FF;{A}"));
    assert_eq!((status, content_type.as_str()), (400, "text/plain"));
}

/// The validation above is not vacuous: answers with a member missing, a member too many or
/// a cell of the wrong type fail it.
#[test]
fn the_schemas_refuse_what_the_routes_never_answer() {
    let doc = document();
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let waypoint = json!({"distance": 1.5, "hint": "", "location": [8.69, 49.41], "name": ""});
    let table = json!({
        "code": "Ok",
        "sources": [waypoint],
        "destinations": [waypoint],
        "durations": [[null]],
    });
    let v = validator(&doc, &schema("TableResponse"));
    assert!(v.is_valid(&table));
    for broken in [
        json!({"code": "Ok", "sources": [waypoint], "durations": [[1.0]]}),
        json!({"code": "Ok", "sources": [], "destinations": [], "durations": [["1.0"]]}),
        json!({"code": "Ok", "sources": [], "destinations": [], "durations": null}),
        json!({"code": "Ok", "sources": [], "destinations": [], "extra": 1}),
        json!({"code": "NoRoute", "sources": [], "destinations": []}),
    ] {
        assert!(!v.is_valid(&broken), "{broken}");
    }
    let error = validator(&doc, &schema("OsrmErrorBody"));
    assert!(error.is_valid(&json!({"code": "NoSegment", "message": "m"})));
    assert!(!error.is_valid(&json!({"code": "Ok", "message": "m"})));
    let route = validator(&doc, &schema("Route"));
    let leg = json!({"distance": 1.0, "duration": 1.0, "steps": [], "summary": "", "weight": 1.0});
    let mut r = json!({"distance": 1.0, "duration": 1.0, "legs": [leg], "weight": 1.0,
        "weight_name": "duration"});
    assert!(route.is_valid(&r));
    r["geometry"] = json!("_p~iF~ps|U");
    assert!(route.is_valid(&r));
    r["geometry"] = json!({"type": "LineString", "coordinates": [[8.69, 49.41], [8.7, 49.4]]});
    assert!(route.is_valid(&r));
    r["geometry"] = json!({"type": "Point", "coordinates": [8.69, 49.41]});
    assert!(!route.is_valid(&r));
    r["geometry"] = Value::Null;
    assert!(!route.is_valid(&r));
}
