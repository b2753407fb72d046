//! What a group of changes writes, planned once for both backends: PostgreSQL writes it
//! with one statement per table (arrays bound as parameters, `UNNEST`ed by the server)
//! instead of one round trip per event, entity and key; SQLite, in the process, a statement
//! per row. The plan is made here, without I/O:
//! the sequence numbers, the entities' net writes (the last write of each entity in the
//! group wins, as if the changes were written one after another) and the first change whose
//! idempotency key repeats one stored or one earlier in the group.

use std::collections::HashMap;

use serde_json::Value;

use super::{Change, Committed};

/// The rows one group writes.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Rows<'a> {
    /// Events: `(seq, at_ms, body)`, in `seq` order.
    pub(super) events: Vec<(i64, i64, &'a Value)>,
    /// Entities upserted: `(kind, id, body, updated_seq)`, at most one row per entity.
    pub(super) upserts: Vec<(&'a str, &'a str, &'a Value, i64)>,
    /// Entities deleted: `(kind, id)`, none also upserted.
    pub(super) deletes: Vec<(&'a str, &'a str)>,
    /// Idempotency keys stored: `(key, response, seq)`.
    pub(super) keys: Vec<(&'a str, Value, i64)>,
    /// Each change's outcome, in order.
    pub(super) outcomes: Vec<Committed>,
}

/// The first change (its index) whose key is among `stored` or repeats an earlier change's,
/// with the response stored for it (the earlier change's own, or JSON `null`).
pub(super) fn first_duplicate(
    changes: &[Change],
    stored: &HashMap<String, Value>,
) -> Option<(usize, Value)> {
    let mut earlier: HashMap<&str, &Change> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        let Some(key) = change.idempotency_key.as_deref() else {
            continue;
        };
        if let Some(response) = stored.get(key) {
            return Some((i, response.clone()));
        }
        if let Some(first) = earlier.get(key) {
            return Some((i, first.response.clone().unwrap_or(Value::Null)));
        }
        earlier.insert(key, change);
    }
    None
}

/// The rows `changes` write after the log's last `seq` `last`, with no key repeated (see
/// [`first_duplicate`]).
pub(super) fn rows<'a>(changes: &'a [Change], mut last: i64) -> Rows<'a> {
    let mut rows = Rows::default();
    // Each entity's net write, in the order entities were first written.
    type Key<'a> = (&'a str, &'a str);
    let mut net: Vec<(Key<'a>, Option<(&'a Value, i64)>)> = Vec::new();
    let mut at: HashMap<Key<'a>, usize> = HashMap::new();
    let mut write = |key: Key<'a>, value: Option<(&'a Value, i64)>| match at.get(&key) {
        Some(&i) => net[i].1 = value,
        None => {
            at.insert(key, net.len());
            net.push((key, value));
        }
    };
    for change in changes {
        let first_seq = last + 1;
        for event in &change.events {
            last += 1;
            rows.events.push((last, change.at_ms, event));
        }
        // Upserts before deletes, within a change.
        for (kind, id, body) in &change.upserts {
            write((kind, id), Some((body, last)));
        }
        for (kind, id) in &change.deletes {
            write((kind, id), None);
        }
        if let Some(key) = &change.idempotency_key {
            let response = change.response.clone().unwrap_or(Value::Null);
            rows.keys.push((key, response, last));
        }
        rows.outcomes.push(Committed::New {
            first_seq,
            last_seq: last,
        });
    }
    for ((kind, id), value) in net {
        match value {
            Some((body, seq)) => rows.upserts.push((kind, id, body, seq)),
            None => rows.deletes.push((kind, id)),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn up(kind: &str, id: &str, n: i64) -> (String, String, Value) {
        (kind.into(), id.into(), json!(n))
    }

    fn del(kind: &str, id: &str) -> (String, String) {
        (kind.into(), id.into())
    }

    /// Worked by hand: after seq 10, changes of 2, 0 and 1 events.
    #[test]
    fn a_group_is_planned_as_its_changes_one_after_another() {
        let changes = vec![
            Change {
                idempotency_key: Some("a".into()),
                at_ms: 100,
                events: vec![json!(1), json!(2)],
                upserts: vec![up("call", "x", 1), up("crew", "c", 1)],
                response: Some(json!("ra")),
                ..Change::default()
            },
            // No events: its entities carry the last seq so far (12).
            Change {
                at_ms: 200,
                upserts: vec![up("call", "x", 2), up("call", "y", 2)],
                deletes: vec![del("crew", "c"), del("call", "gone")],
                ..Change::default()
            },
            // Upserted then deleted in one change: deleted. Deleted then upserted: upserted.
            Change {
                idempotency_key: Some("c".into()),
                at_ms: 300,
                events: vec![json!(3)],
                upserts: vec![up("call", "y", 3), up("crew", "c", 3)],
                deletes: vec![del("call", "y")],
                ..Change::default()
            },
        ];
        let rows = rows(&changes, 10);
        assert_eq!(
            rows.events,
            vec![
                (11, 100, &json!(1)),
                (12, 100, &json!(2)),
                (13, 300, &json!(3))
            ]
        );
        assert_eq!(
            rows.upserts,
            vec![("call", "x", &json!(2), 12), ("crew", "c", &json!(3), 13)]
        );
        assert_eq!(rows.deletes, vec![("call", "y"), ("call", "gone")]);
        assert_eq!(
            rows.keys,
            vec![("a", json!("ra"), 12), ("c", Value::Null, 13)]
        );
        assert_eq!(
            rows.outcomes,
            vec![
                Committed::New {
                    first_seq: 11,
                    last_seq: 12
                },
                Committed::New {
                    first_seq: 13,
                    last_seq: 12
                },
                Committed::New {
                    first_seq: 13,
                    last_seq: 13
                },
            ]
        );
    }

    #[test]
    fn the_first_repeated_key_is_found_stored_or_in_the_group() {
        let keyed = |key: Option<&str>, n: i64| Change {
            idempotency_key: key.map(Into::into),
            response: Some(json!(n)),
            ..Change::default()
        };
        let stored = HashMap::from([("s".to_string(), json!("stored"))]);
        let group = [keyed(None, 0), keyed(Some("k"), 1), keyed(Some("k"), 2)];
        assert_eq!(first_duplicate(&group, &stored), Some((2, json!(1))));
        let group = [
            keyed(Some("k"), 1),
            keyed(Some("s"), 2),
            keyed(Some("k"), 3),
        ];
        assert_eq!(first_duplicate(&group, &stored), Some((1, json!("stored"))));
        let group = [keyed(Some("k"), 1), keyed(None, 2), keyed(Some("j"), 3)];
        assert_eq!(first_duplicate(&group, &stored), None);
    }
}
