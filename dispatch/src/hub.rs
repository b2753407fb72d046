//! The event hub: the log entries the store has committed, in `seq` order, broadcast to the
//! dispatcher consoles and crew tablets. The newest entries (a window of a configurable
//! size) are kept in memory; a console that reconnects with `?since=<seq>` older than the
//! window reads the rest from the store (see `ws.rs`), so memory stays bounded however long
//! the service runs.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::broadcast;

/// One numbered log entry as sent to clients (the JSON object includes `seq` and `type`).
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its number in the log.
    pub seq: u64,
    /// The JSON text sent to clients.
    pub json: std::sync::Arc<str>,
    /// The crew it concerns, if any (tablets get only their own).
    pub crew: Option<String>,
}

/// The in-memory window of the log, the broadcast channel of every entry (consoles) and one
/// channel per crew (tablets), so a tablet is woken only by its own entries, however many
/// crews there are.
#[derive(Debug)]
pub struct Hub {
    log: Mutex<Window>,
    tx: broadcast::Sender<Numbered>,
    crews: Mutex<HashMap<String, broadcast::Sender<Numbered>>>,
}

#[derive(Debug)]
struct Window {
    entries: VecDeque<Numbered>,
    /// The seq of the last entry published (0 before any).
    last: u64,
    capacity: usize,
}

impl Window {
    /// The entries after `since` that are in memory, and whether older ones (after `since`)
    /// are missing from memory.
    fn after(&self, since: u64) -> (Vec<Numbered>, bool) {
        let first = self.last + 1 - self.entries.len() as u64;
        let start = since.saturating_add(1).max(first);
        let skip = (start - first) as usize;
        let from_memory = self.entries.iter().skip(skip).cloned().collect();
        (from_memory, since + 1 < first)
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(65_536, 0)
    }
}

/// What a subscriber receives first: the entries it missed that are still in memory, and
/// whether entries before those must be read from the store.
pub struct Backlog {
    /// Entries after the requested seq still in memory, in order.
    pub entries: Vec<Numbered>,
    /// Entries between the requested seq and the first of `entries` are only in the store.
    pub older_in_store: bool,
}

impl Hub {
    /// A hub keeping the last `capacity` entries in memory, whose log already ends at `last`.
    pub fn new(capacity: usize, last: u64) -> Hub {
        let (tx, _) = broadcast::channel(4096);
        Hub {
            log: Mutex::new(Window {
                entries: VecDeque::new(),
                last,
                capacity: capacity.max(1),
            }),
            tx,
            crews: Mutex::default(),
        }
    }

    /// Fills the window with entries already in the log (when the service starts); they must
    /// end at the hub's `last`.
    pub fn preload(&self, tail: Vec<Numbered>) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let skip = tail.len().saturating_sub(log.capacity);
        log.entries = tail.into_iter().skip(skip).collect();
        if let Some(last) = log.entries.back() {
            log.last = last.seq;
        }
    }

    /// Moves the window on to `last` when entries up to it are missing from the log (position
    /// reports compacted away): the window starts again after it, and clients asking for
    /// older entries are sent to the store.
    pub fn skip_to(&self, last: u64) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if last > log.last {
            log.entries.clear();
            log.last = last;
        }
    }

    /// Records and broadcasts entries the store committed as `first_seq`, `first_seq + 1`, …
    /// (JSON objects; `seq` is added). Returns them.
    pub fn publish(&self, first_seq: u64, entries: Vec<(Value, Option<String>)>) -> Vec<Numbered> {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if first_seq != log.last + 1 {
            // Only one writer appends to the log; a jump means another process wrote to it.
            tracing::warn!(
                expected = log.last + 1,
                got = first_seq,
                "the event log was written by someone else"
            );
        }
        let mut out = Vec::with_capacity(entries.len());
        for (i, (mut v, crew)) in entries.into_iter().enumerate() {
            let seq = first_seq + i as u64;
            if let Value::Object(m) = &mut v {
                m.insert("seq".into(), seq.into());
            }
            let n = Numbered {
                seq,
                json: v.to_string().into(),
                crew,
            };
            if log.entries.len() == log.capacity {
                log.entries.pop_front();
            }
            log.entries.push_back(n.clone());
            log.last = seq;
            // No receiver is fine: nobody is watching.
            let _ = self.tx.send(n.clone());
            if let Some(c) = &n.crew {
                if let Some(tx) = self.crews.lock().unwrap_or_else(|e| e.into_inner()).get(c) {
                    let _ = tx.send(n.clone());
                }
            }
            out.push(n);
        }
        out
    }

    /// Subscribes, then returns what was published after `since`: together they cover every
    /// entry once the caller skips live ones with `seq` ≤ the last it has sent.
    pub fn subscribe_since(&self, since: u64) -> (Backlog, broadcast::Receiver<Numbered>) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.tx.subscribe();
        let (entries, older_in_store) = log.after(since);
        (
            Backlog {
                entries,
                older_in_store,
            },
            rx,
        )
    }

    /// Like [`Hub::subscribe_since`], for one crew's entries only.
    pub fn subscribe_crew_since(
        &self,
        crew: &str,
        since: u64,
    ) -> (Backlog, broadcast::Receiver<Numbered>) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self
            .crews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(crew.to_string())
            .or_insert_with(|| broadcast::channel(256).0)
            .subscribe();
        let (mut entries, older_in_store) = log.after(since);
        entries.retain(|n| n.crew.as_deref() == Some(crew));
        (
            Backlog {
                entries,
                older_in_store,
            },
            rx,
        )
    }

    /// The seq of the last entry published.
    pub fn last_seq(&self) -> u64 {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).last
    }

    /// The entries after `since` still in memory, and whether older ones are only in the store.
    pub fn since(&self, since: u64) -> Backlog {
        let (entries, older_in_store) = self
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .after(since);
        Backlog {
            entries,
            older_in_store,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seqs(b: &Backlog) -> Vec<u64> {
        b.entries.iter().map(|n| n.seq).collect()
    }

    #[test]
    fn the_window_keeps_the_newest_and_says_when_older_ones_are_in_the_store() {
        let hub = Hub::new(3, 0);
        hub.publish(1, (0..5).map(|i| (json!({"i": i}), None)).collect());
        assert_eq!(hub.last_seq(), 5);
        let b = hub.since(0);
        assert_eq!(seqs(&b), [3, 4, 5]);
        assert!(b.older_in_store);
        let b = hub.since(1);
        assert_eq!(seqs(&b), [3, 4, 5]);
        assert!(b.older_in_store);
        let b = hub.since(2);
        assert_eq!(seqs(&b), [3, 4, 5]);
        assert!(!b.older_in_store);
        let b = hub.since(4);
        assert_eq!(seqs(&b), [5]);
        assert!(!b.older_in_store);
        assert!(hub.since(5).entries.is_empty());
        assert!(hub.since(9).entries.is_empty());
        assert!(hub.since(5).entries.is_empty() && !hub.since(5).older_in_store);
    }

    #[test]
    fn a_restarted_hub_continues_the_log() {
        let hub = Hub::new(10, 7);
        assert_eq!(hub.last_seq(), 7);
        let b = hub.since(3);
        assert!(b.entries.is_empty() && b.older_in_store);
        assert!(!hub.since(7).older_in_store);
        let out = hub.publish(8, vec![(json!({"type": "x"}), Some("A1".into()))]);
        assert_eq!(out[0].seq, 8);
        assert!(out[0].json.contains("\"seq\":8"));
        let (b, _rx) = hub.subscribe_crew_since("A1", 7);
        assert_eq!(seqs(&b), [8]);
        let (b, _rx) = hub.subscribe_crew_since("B2", 7);
        assert!(b.entries.is_empty());
    }
}
