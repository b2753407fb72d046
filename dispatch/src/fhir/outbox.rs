//! The outbox of the push to the patient's record, and each handover's delivery.
//!
//! Recording a handover writes, in the same transaction, an outbox row (`fhir_outbox`, one
//! per call: the version to send, the attempts made, when to try next) and the call's
//! delivery record (`fhir_delivery`: pending, sent with the server's ids, or failed with the
//! server's `OperationOutcome`), so nothing recorded is ever left unsent, whatever stops the
//! service. The worker ([`super::push`]) takes rows that are due, and after each attempt
//! writes the delivery and either removes the row (sent, or refused by the server) or sets
//! its next attempt ([`backoff_ms`]). A later version of the handover replaces the row: the
//! latest version is what is sent (each bundle holds the whole handover). The transitions
//! are the pure functions here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The entity kind of outbox rows.
pub const OUTBOX: &str = "fhir_outbox";
/// The entity kind of delivery records.
pub const DELIVERY: &str = "fhir_delivery";

/// A handover still to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// The call.
    pub call_id: u64,
    /// The version of its handover to send.
    pub version: u64,
    /// Attempts made for this version.
    pub attempts: u32,
    /// When it is due (Unix ms).
    pub next_at: i64,
}

/// Where a handover's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt, or for the next after an error that may pass (the
    /// server down, slow, or overloaded).
    Pending,
    /// The server took it.
    Sent,
    /// The server refused it: it is not tried again until a dispatcher asks.
    Failed,
}

/// Why an attempt did not go through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryError {
    /// When (Unix ms).
    pub at: i64,
    /// The server's HTTP status, if it answered.
    pub status: Option<u16>,
    /// What went wrong, in words.
    pub message: String,
    /// The server's `OperationOutcome`, if it gave one.
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
}

/// A version the server took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sent {
    /// The version.
    pub version: u64,
    /// When (Unix ms).
    pub at: i64,
    /// The server's ids of what it created or updated (`Patient/123`, …), in bundle order.
    pub resources: Vec<String>,
}

/// A handover's delivery to the patient's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The call.
    pub call_id: u64,
    /// The latest version of its handover: the one delivered, or to be.
    pub version: u64,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made for this version.
    pub attempts: u32,
    /// When the next attempt is due (Unix ms), while pending.
    pub next_attempt_at: Option<i64>,
    /// The last attempt's error, if it failed (kept while a retry is pending).
    pub error: Option<DeliveryError>,
    /// The last version the server took, if any.
    pub sent: Option<Sent>,
    /// When this record last changed (Unix ms).
    pub updated_at: i64,
}

/// What one attempt gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// Taken: the server's ids.
    Sent(Vec<String>),
    /// Not taken, for a reason that may pass: tried again later.
    Retry(DeliveryError),
    /// Refused: not tried again until asked.
    Failed(DeliveryError),
}

/// How long after attempt `attempts` (1 for the first) the next one is made: 1 s, doubling,
/// at most 5 minutes.
pub fn backoff_ms(attempts: u32) -> i64 {
    (1_000_i64 << attempts.saturating_sub(1).min(9)).min(300_000)
}

/// A new version recorded at `now`: due at once, whatever came before; what was sent
/// before is kept.
pub fn recorded(
    before: Option<Delivery>,
    call_id: u64,
    version: u64,
    now: i64,
) -> (Outbox, Delivery) {
    let outbox = Outbox {
        call_id,
        version,
        attempts: 0,
        next_at: now,
    };
    let delivery = Delivery {
        call_id,
        version,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        error: None,
        sent: before.and_then(|d| d.sent),
        updated_at: now,
    };
    (outbox, delivery)
}

/// A dispatcher asks for another attempt at `now` (after a refusal, or sooner than the
/// backoff): due at once, the attempts counted again from 0.
pub fn retried(delivery: Delivery, now: i64) -> (Outbox, Delivery) {
    let (outbox, fresh) = recorded(None, delivery.call_id, delivery.version, now);
    (
        outbox,
        Delivery {
            sent: delivery.sent,
            error: delivery.error,
            ..fresh
        },
    )
}

/// The outcome of an attempt at `row` made at `now`: the row to keep (`None`: remove it)
/// and the delivery record after it. When a later version was recorded meanwhile
/// (`current`, the row as it is now, is of another version), that version's row and
/// pending state stay, and only what was sent is recorded.
pub fn attempted(
    delivery: Delivery,
    row: &Outbox,
    current: Option<&Outbox>,
    attempt: Attempt,
    now: i64,
) -> (Option<Outbox>, Delivery) {
    if current.is_some_and(|c| c.version != row.version) {
        let sent = match attempt {
            Attempt::Sent(resources) => Some(Sent {
                version: row.version,
                at: now,
                resources,
            }),
            _ => delivery.sent.clone(),
        };
        return (
            current.cloned(),
            Delivery {
                sent,
                updated_at: now,
                ..delivery
            },
        );
    }
    let attempts = row.attempts + 1;
    match attempt {
        Attempt::Sent(resources) => (
            None,
            Delivery {
                state: DeliveryState::Sent,
                attempts,
                next_attempt_at: None,
                error: None,
                sent: Some(Sent {
                    version: row.version,
                    at: now,
                    resources,
                }),
                updated_at: now,
                ..delivery
            },
        ),
        Attempt::Retry(error) => {
            let next_at = now + backoff_ms(attempts);
            (
                Some(Outbox {
                    attempts,
                    next_at,
                    ..row.clone()
                }),
                Delivery {
                    state: DeliveryState::Pending,
                    attempts,
                    next_attempt_at: Some(next_at),
                    error: Some(error),
                    updated_at: now,
                    ..delivery
                },
            )
        }
        Attempt::Failed(error) => (
            None,
            Delivery {
                state: DeliveryState::Failed,
                attempts,
                next_attempt_at: None,
                error: Some(error),
                updated_at: now,
                ..delivery
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(at: i64) -> DeliveryError {
        DeliveryError {
            at,
            status: Some(503),
            message: "down".into(),
            outcome: None,
        }
    }

    #[test]
    fn backoff_doubles_from_a_second_to_five_minutes() {
        let got: Vec<i64> = (1..=11).map(backoff_ms).collect();
        assert_eq!(
            got,
            [
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
                300_000
            ]
        );
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(u32::MAX), 300_000);
    }

    #[test]
    fn a_delivery_goes_pending_retry_sent_and_keeps_what_was_sent() {
        let (row, d) = recorded(None, 4, 1, 100);
        assert_eq!((row.attempts, row.next_at), (0, 100));
        assert_eq!(d.state, DeliveryState::Pending);
        // Down twice: due 1 s, then 2 s after each attempt.
        let (row, d) = attempted(d, &row, Some(&row.clone()), Attempt::Retry(error(200)), 200);
        let row = row.unwrap();
        assert_eq!((row.attempts, row.next_at), (1, 1_200));
        assert_eq!(
            (d.state, d.attempts, d.next_attempt_at),
            (DeliveryState::Pending, 1, Some(1_200))
        );
        let (row, d) = attempted(
            d,
            &row,
            Some(&row.clone()),
            Attempt::Retry(error(1_300)),
            1_300,
        );
        let row = row.unwrap();
        assert_eq!((row.attempts, row.next_at), (2, 3_300));
        // Taken: the row goes, the ids stay.
        let ids = vec!["Patient/p1".to_string(), "Encounter/e1".to_string()];
        let (row, d) = attempted(
            d,
            &row,
            Some(&row.clone()),
            Attempt::Sent(ids.clone()),
            3_400,
        );
        assert_eq!(row, None);
        assert_eq!(
            (d.state, d.attempts, d.error.clone()),
            (DeliveryState::Sent, 3, None)
        );
        assert_eq!(
            d.sent,
            Some(Sent {
                version: 1,
                at: 3_400,
                resources: ids.clone()
            })
        );
        // Version 2: pending again, what was sent is kept; refused: failed, not retried.
        let (row, d) = recorded(Some(d), 4, 2, 5_000);
        assert_eq!(d.sent.as_ref().unwrap().version, 1);
        let refused = DeliveryError {
            status: Some(400),
            ..error(5_100)
        };
        let (left, d) = attempted(
            d,
            &row,
            Some(&row.clone()),
            Attempt::Failed(refused.clone()),
            5_100,
        );
        assert_eq!(left, None);
        assert_eq!(
            (d.state, d.error.clone()),
            (DeliveryState::Failed, Some(refused.clone()))
        );
        // A dispatcher retries: due at once, attempts from 0, the error shown until then.
        let (row, d) = retried(d, 9_000);
        assert_eq!((row.version, row.attempts, row.next_at), (2, 0, 9_000));
        assert_eq!(
            (d.state, d.error, d.sent.unwrap().version),
            (DeliveryState::Pending, Some(refused), 1)
        );
    }

    #[test]
    fn a_version_recorded_during_an_attempt_stays_due() {
        let (row1, d) = recorded(None, 4, 1, 100);
        // While version 1 is being sent, version 2 is recorded.
        let (row2, d) = recorded(Some(d), 4, 2, 150);
        let (left, after) = attempted(
            d.clone(),
            &row1,
            Some(&row2),
            Attempt::Sent(vec!["Patient/p".into()]),
            200,
        );
        assert_eq!(left, Some(row2.clone()));
        assert_eq!((after.state, after.version), (DeliveryState::Pending, 2));
        assert_eq!(after.sent.unwrap().version, 1);
        // An error of version 1's attempt does not count against version 2.
        let (left, after) = attempted(d, &row1, Some(&row2), Attempt::Retry(error(200)), 200);
        assert_eq!(left, Some(row2));
        assert_eq!((after.attempts, after.error), (0, None));
    }
}
