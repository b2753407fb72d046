//! The worker that sends handovers to the patient's record: it takes the outbox rows that
//! are due ([`super::outbox`]), posts each handover as a `transaction` Bundle
//! ([`super::bundle::transaction`]) to the FHIR server, and records how it went.
//!
//! It runs beside dispatch and never in its way: it holds no lock while it talks to the
//! server, each request has a timeout (`--fhir-timeout-ms`), and a server that is down or
//! slow only delays the next attempt ([`super::outbox::backoff_ms`]). Only the leader sends;
//! after a failover, or a restart after `kill -9`, the new leader sends what is left, and
//! the conditional requests of the bundle make a repeat harmless. An error that may pass
//! (no connection, a timeout, 408, 429, 5xx) is tried again; any other refusal (4xx, an
//! answer that is not a transaction response) waits for a dispatcher's retry.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::outbox::{self, Attempt, Delivery, DeliveryError, Outbox, DELIVERY, OUTBOX};
use super::FhirServer;
use crate::api::HandoverRecord;
use crate::auth::Actor;
use crate::error::ApiError;
use crate::journal::Entry;
use crate::state::{now_ms, AppState, Effect};

/// Runs the worker until the service stops: looks for due rows every second, and at once
/// when a handover is recorded or retried ([`AppState::wake_fhir`]).
pub async fn run(state: AppState, server: Arc<FhirServer>) {
    let client = match reqwest::Client::builder().timeout(server.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot make the FHIR client: handovers are not pushed");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = state.0.fhir_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if !state.is_leader() {
            continue;
        }
        let due = match due_rows(&state).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the FHIR outbox; trying again");
                continue;
            }
        };
        for row in due {
            let attempt = send(&state, &client, &server, &row).await;
            if let Err(e) = record(&state, &row, attempt).await {
                tracing::warn!(call = row.call_id, error = %e, "cannot record a FHIR delivery; it is sent again");
            }
        }
    }
}

/// The rows due now, the longest waiting first.
async fn due_rows(state: &AppState) -> Result<Vec<Outbox>, crate::store::StoreError> {
    let now = now_ms();
    let mut rows: Vec<Outbox> = state
        .0
        .store
        .entities(OUTBOX)
        .await?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value(v).ok())
        .filter(|r: &Outbox| r.next_at <= now)
        .collect();
    rows.sort_by_key(|r| (r.next_at, r.call_id));
    Ok(rows)
}

/// The most entries one transaction carries. Medplum runs a transaction with conditional
/// requests under strict isolation and takes at most 8 entries in it; other servers take
/// more, and fewer is fine for all. A handover's bundle is sent in transactions of at most
/// this many, in order, each one's references to what an earlier one created rewritten to
/// the server's ids ([`chunks`]).
pub const MAX_ENTRIES: usize = 8;

/// One attempt at `row`: its bundle, in transactions of at most [`MAX_ENTRIES`].
async fn send(
    state: &AppState,
    client: &reqwest::Client,
    server: &FhirServer,
    row: &Outbox,
) -> Attempt {
    let now = now_ms();
    let bundle = match bundle_of(state, row).await {
        Ok(b) => b,
        Err(e) if e.status.is_server_error() => {
            return Attempt::Retry(DeliveryError {
                at: now,
                status: None,
                message: e.message,
                outcome: None,
            })
        }
        Err(e) => {
            return Attempt::Failed(DeliveryError {
                at: now,
                status: None,
                message: e.message,
                outcome: None,
            })
        }
    };
    let mut resolved: Vec<(String, String)> = Vec::new();
    let mut ids = Vec::new();
    for mut chunk in chunks(&bundle, MAX_ENTRIES) {
        rewrite(&mut chunk, &resolved);
        let urls: Vec<String> = chunk["entry"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|e| e["fullUrl"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        match post(client, server, &chunk, now).await {
            Ok(got) if got.len() == urls.len() => {
                resolved.extend(urls.into_iter().zip(got.iter().cloned()));
                ids.extend(got);
            }
            Ok(got) => {
                return Attempt::Failed(DeliveryError {
                    at: now,
                    status: None,
                    message: format!(
                        "the FHIR server answered {} entries for a transaction of {}",
                        got.len(),
                        urls.len()
                    ),
                    outcome: None,
                })
            }
            Err(failed) => return failed,
        }
    }
    Attempt::Sent(ids)
}

/// Posts one transaction: the server's ids of its entries, or the failed attempt.
async fn post(
    client: &reqwest::Client,
    server: &FhirServer,
    bundle: &Value,
    now: i64,
) -> Result<Vec<String>, Attempt> {
    let mut request = client
        .post(server.url.trim_end_matches('/'))
        .header(reqwest::header::CONTENT_TYPE, "application/fhir+json")
        .header(reqwest::header::ACCEPT, "application/fhir+json")
        .json(bundle);
    request = server.authorized(request);
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            let message = match e.is_timeout() {
                true => format!("no answer within {} ms", server.timeout.as_millis()),
                false => format!("cannot reach the FHIR server: {}", without_url(&e)),
            };
            return Err(Attempt::Retry(DeliveryError {
                at: now,
                status: None,
                message,
                outcome: None,
            }));
        }
    };
    let status = response.status();
    let body: Option<Value> = response.json().await.ok();
    if status.is_success() {
        return body.as_ref().and_then(resources_of).ok_or_else(|| {
            Attempt::Failed(DeliveryError {
                at: now,
                status: Some(status.as_u16()),
                message: format!(
                    "the FHIR server answered {status} without a transaction response"
                ),
                outcome: None,
            })
        });
    }
    let outcome = body.filter(|b| b["resourceType"] == "OperationOutcome");
    let said = outcome.as_ref().and_then(|o| {
        o["issue"][0]["diagnostics"]
            .as_str()
            .or(o["issue"][0]["details"]["text"].as_str())
    });
    let message = match said {
        Some(m) => format!("the FHIR server answered {status}: {m}"),
        None => format!("the FHIR server answered {status}"),
    };
    let error = DeliveryError {
        at: now,
        status: Some(status.as_u16()),
        message,
        outcome,
    };
    let passing = status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    Err(match passing {
        true => Attempt::Retry(error),
        false => Attempt::Failed(error),
    })
}

/// A transaction Bundle as transactions of at most `max` entries each, in order.
pub fn chunks(bundle: &Value, max: usize) -> Vec<Value> {
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    entries
        .chunks(max.max(1))
        .map(|part| {
            let mut b = bundle.clone();
            b["entry"] = Value::Array(part.to_vec());
            b
        })
        .collect()
}

/// Replaces every string of `value` that is one of the `urn:uuid:`s of `resolved` by the
/// server's id of it (`Patient/123`).
pub fn rewrite(value: &mut Value, resolved: &[(String, String)]) {
    match value {
        Value::String(s) => {
            if let Some((_, id)) = resolved.iter().find(|(urn, _)| urn == s) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, resolved)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, resolved)),
        _ => {}
    }
}

/// A client error without the URL (which may hold credentials).
fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    last.unwrap_or_else(|| "connection failed".into())
}

/// The transaction Bundle of the row's version of its call's handover.
async fn bundle_of(state: &AppState, row: &Outbox) -> Result<Value, ApiError> {
    let id = dispatch_core::CallId(row.call_id);
    let record: HandoverRecord = state
        .0
        .store
        .entity(
            "handover_version",
            &format!("{}:{}", row.call_id, row.version),
        )
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no version {} of the handover of call {id}",
                row.version
            ))
        })
        .and_then(|v| serde_json::from_value(v).map_err(ApiError::internal))?;
    let call = crate::api::find_call(state, id).await?;
    let mut handover = record.handover;
    if handover.patient.identifiers.is_empty() {
        handover.patient.identifiers = crate::api::entered_ids(state, id).await?;
    }
    Ok(super::bundle::transaction(
        &super::bundle::Source {
            call_id: row.call_id,
            handover: &handover,
            version: row.version,
            received_ms: call.times.received.unwrap_or(record.recorded_at),
            handover_ms: record.recorded_at,
        },
        &state.0.fhir_systems,
    ))
}

/// The server's ids (`Patient/123`) of a transaction response, in order; `None` if it is not
/// one.
pub fn resources_of(body: &Value) -> Option<Vec<String>> {
    if body["resourceType"] != "Bundle" || body["type"] != "transaction-response" {
        return None;
    }
    body["entry"]
        .as_array()?
        .iter()
        .map(|e| {
            let location = e["response"]["location"].as_str()?;
            let path = location.split("/_history/").next()?;
            // `Type/id`, whatever the base before it.
            let mut parts = path.rsplit('/');
            let id = parts.next()?;
            let kind = parts.next()?;
            Some(format!("{kind}/{id}"))
        })
        .collect()
}

/// Writes the outcome of an attempt: the delivery record, and the row kept (its next
/// attempt) or removed, under the handovers' lock so that a version recorded meanwhile is
/// not lost; consoles get a `fhir_delivery` entry.
async fn record(state: &AppState, row: &Outbox, attempt: Attempt) -> Result<(), ApiError> {
    let _one = state.0.handovers.lock().await;
    let key = row.call_id.to_string();
    let current: Option<Outbox> = read(state, OUTBOX, &key).await?;
    let before: Option<Delivery> = read(state, DELIVERY, &key).await?;
    let Some(before) = before else {
        return Err(ApiError::internal(
            "an outbox row without its delivery record",
        ));
    };
    let (keep, delivery) = outbox::attempted(before, row, current.as_ref(), attempt, now_ms());
    write(state, &Actor::system(), keep, delivery).await
}

/// An entity as `T`, `None` when there is none.
pub(crate) async fn read<T: serde::de::DeserializeOwned>(
    state: &AppState,
    kind: &str,
    key: &str,
) -> Result<Option<T>, ApiError> {
    state
        .0
        .store
        .entity(kind, key)
        .await
        .map_err(ApiError::unavailable)?
        .map(|v| serde_json::from_value(v).map_err(ApiError::internal))
        .transpose()
}

/// Stores a delivery record and its row (or removes the row), and tells consoles; the log
/// entry is `actor`'s (the worker's, `system`, or the dispatcher who asked for a retry).
pub(crate) async fn write(
    state: &AppState,
    actor: &Actor,
    row: Option<Outbox>,
    delivery: Delivery,
) -> Result<(), ApiError> {
    let key = delivery.call_id.to_string();
    let body = serde_json::to_value(&delivery).map_err(ApiError::internal)?;
    let mut entry = body.clone();
    entry["type"] = Value::from("fhir_delivery");
    let mut upserts = vec![(DELIVERY.to_string(), key.clone(), body)];
    let mut deletes = Vec::new();
    match row {
        Some(r) => upserts.push((
            OUTBOX.to_string(),
            key,
            serde_json::to_value(&r).map_err(ApiError::internal)?,
        )),
        None => deletes.push((OUTBOX.to_string(), key)),
    }
    let by_caller = actor.role != "system";
    state
        .apply(actor, None, move |_, _| {
            Ok(Effect {
                upserts,
                deletes,
                entries: vec![Entry {
                    stored: entry.clone(),
                    published: entry,
                    crew: None,
                    by_caller,
                }],
                ..Effect::new(Vec::new(), ())
            })
        })
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bundle_goes_in_parts_whose_references_follow_the_server_ids() {
        let entry = |n: u32, refers: Option<u32>| {
            let mut r = json!({"resourceType": "Observation"});
            if let Some(to) = refers {
                r["subject"] = json!({"reference": format!("urn:uuid:{to}")});
            }
            json!({"fullUrl": format!("urn:uuid:{n}"), "resource": r})
        };
        let bundle = json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [entry(1, None), entry(2, Some(1)), entry(3, Some(1)), entry(4, Some(3)), entry(5, Some(4))],
        });
        let parts = chunks(&bundle, 2);
        let sizes: Vec<usize> = parts
            .iter()
            .map(|p| p["entry"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert!(parts.iter().all(|p| p["type"] == "transaction"));
        // After the first part, 1 and 2 are known: part two points at 1's id, and at 3 (in
        // its own part) by its urn.
        let mut second = parts[1].clone();
        let resolved = vec![
            ("urn:uuid:1".to_string(), "Patient/p".to_string()),
            ("urn:uuid:2".to_string(), "Observation/o2".to_string()),
        ];
        rewrite(&mut second, &resolved);
        assert_eq!(
            second["entry"][0]["resource"]["subject"]["reference"],
            "Patient/p"
        );
        assert_eq!(second["entry"][0]["fullUrl"], "urn:uuid:3");
        assert_eq!(
            second["entry"][1]["resource"]["subject"]["reference"],
            "urn:uuid:3"
        );
        assert_eq!(chunks(&bundle, 8).len(), 1);
    }

    #[test]
    fn ids_come_from_the_locations_of_a_transaction_response() {
        let body = json!({
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {"response": {"status": "201 Created", "location": "Patient/p1/_history/1"}},
                {"response": {"status": "200 OK", "location": "https://fhir.example/R4/Encounter/e9/_history/3"}},
                {"response": {"status": "200 OK", "location": "Observation/o2"}},
            ],
        });
        assert_eq!(
            resources_of(&body),
            Some(vec![
                "Patient/p1".into(),
                "Encounter/e9".into(),
                "Observation/o2".into()
            ])
        );
        let mut no_location = body.clone();
        no_location["entry"][1]["response"] = json!({"status": "200 OK"});
        assert_eq!(resources_of(&no_location), None);
        assert_eq!(
            resources_of(&json!({"resourceType": "OperationOutcome"})),
            None
        );
        let mut batch = body;
        batch["type"] = json!("batch-response");
        assert_eq!(resources_of(&batch), None);
    }
}
