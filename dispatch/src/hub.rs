//! The event hub: every event gets the next `seq` number, is kept in order, and is broadcast to
//! the dispatcher consoles and crew tablets. A console that reconnects with `?since=<seq>`
//! gets what it missed, in order, with no gap, then the live stream.

use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::broadcast;

/// One numbered event as sent to clients (the JSON object includes `seq` and `type`).
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its number.
    pub seq: u64,
    /// The JSON text sent to clients.
    pub json: std::sync::Arc<str>,
    /// The crew it concerns, if any (tablets get only their own).
    pub crew: Option<String>,
}

/// The ordered log, the broadcast channel of every event (consoles) and one channel per crew
/// (tablets), so a tablet is woken only by its own events, however many crews there are.
#[derive(Debug)]
pub struct Hub {
    log: Mutex<Vec<Numbered>>,
    tx: broadcast::Sender<Numbered>,
    crews: Mutex<std::collections::HashMap<String, broadcast::Sender<Numbered>>>,
}

impl Default for Hub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Hub {
            log: Mutex::new(Vec::new()),
            tx,
            crews: Mutex::default(),
        }
    }
}

impl Hub {
    /// Numbers, records and broadcasts events (JSON objects), in order. Returns them.
    pub fn publish(&self, events: Vec<(Value, Option<String>)>) -> Vec<Numbered> {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(events.len());
        for (mut v, crew) in events {
            let seq = log.len() as u64 + 1;
            if let Value::Object(m) = &mut v {
                m.insert("seq".into(), seq.into());
            }
            let n = Numbered {
                seq,
                json: v.to_string().into(),
                crew,
            };
            log.push(n.clone());
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

    /// Subscribes, then returns the events after `since` recorded so far: together they cover
    /// every event once the caller skips live ones with `seq` ≤ the last replayed.
    pub fn subscribe_since(&self, since: u64) -> (Vec<Numbered>, broadcast::Receiver<Numbered>) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.tx.subscribe();
        let start = (since as usize).min(log.len());
        (log[start..].to_vec(), rx)
    }

    /// Like [`Hub::subscribe_since`], for one crew's events only.
    pub fn subscribe_crew_since(
        &self,
        crew: &str,
        since: u64,
    ) -> (Vec<Numbered>, broadcast::Receiver<Numbered>) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self
            .crews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(crew.to_string())
            .or_insert_with(|| broadcast::channel(256).0)
            .subscribe();
        let start = (since as usize).min(log.len());
        let replay = log[start..]
            .iter()
            .filter(|n| n.crew.as_deref() == Some(crew))
            .cloned()
            .collect();
        (replay, rx)
    }

    /// The last `seq` given out.
    pub fn last_seq(&self) -> u64 {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
    }

    /// Events after `since`, in order.
    pub fn since(&self, since: u64) -> Vec<Numbered> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log[(since as usize).min(log.len())..].to_vec()
    }
}
