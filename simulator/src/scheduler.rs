//! The discrete-event scheduler: a priority queue of timed events with a fixed tie rule.
//!
//! Time is [`SimTime`], milliseconds since the start of the run; the wall clock is never
//! read. The dispatch core gets Unix milliseconds: `SimTime` 0 is [`EPOCH_UNIX_MS`].
//!
//! Tie rule: events at the same instant run in the order of their [`Rank`] (a crew that
//! becomes free at the instant a call comes in can take it), then in the order they were
//! scheduled (a sequence number). Nothing else (no hash, no address) decides an order, so
//! a run is a pure function of its inputs and seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Simulated time, milliseconds since the start of the run.
pub type SimTime = i64;

/// Unix time (ms) of `SimTime` 0: 2026-01-01T00:00:00Z, a Thursday at midnight, so hours of
/// the run are hours of the day.
pub const EPOCH_UNIX_MS: i64 = 1_767_225_600_000;

/// Milliseconds per hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The order of events at the same instant, first to last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    /// Road closures open or close.
    Closure = 0,
    /// Crews come on or go off duty (a shift plan).
    Shift = 1,
    /// A crew finishes a handover at the hospital.
    Handover = 2,
    /// A crew finishes on scene.
    SceneDone = 3,
    /// A crew arrives at a hospital.
    AtHospital = 4,
    /// A crew arrives on scene.
    OnScene = 5,
    /// A crew has turned out and starts driving.
    Turnout = 6,
    /// A crew reaches its station.
    AtStation = 7,
    /// A moving crew reports its position.
    Position = 8,
    /// A call held back by the policy is tried again.
    Retry = 9,
    /// A call comes in.
    Call = 10,
}

/// One scheduled entry: when, its rank, its sequence number and its payload.
#[derive(Debug)]
struct Entry<E> {
    key: (SimTime, Rank, u64),
    payload: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A min-queue of events by `(time, rank, sequence)`.
#[derive(Debug)]
pub struct Scheduler<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
    now: SimTime,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler {
            heap: BinaryHeap::new(),
            seq: 0,
            now: 0,
        }
    }
}

impl<E> Scheduler<E> {
    /// An empty scheduler at time 0.
    pub fn new() -> Scheduler<E> {
        Scheduler::default()
    }

    /// The time of the event last taken (0 before any).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `payload` at `at` (never before now: earlier times run now).
    pub fn at(&mut self, at: SimTime, rank: Rank, payload: E) {
        let at = at.max(self.now);
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            key: (at, rank, self.seq),
            payload,
        }));
    }

    /// Takes the next event, advancing the clock to it.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(e) = self.heap.pop()?;
        self.now = e.key.0;
        Some((e.key.0, e.payload))
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.key.0)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_runs_by_rank_then_insertion() {
        let mut s = Scheduler::new();
        s.at(10, Rank::Call, "call-a");
        s.at(10, Rank::Handover, "handover");
        s.at(5, Rank::Call, "early");
        s.at(10, Rank::Call, "call-b");
        s.at(10, Rank::OnScene, "scene");
        let order: Vec<&str> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["early", "handover", "scene", "call-a", "call-b"]);
        assert_eq!(s.now(), 10);
    }

    #[test]
    fn the_past_is_scheduled_now() {
        let mut s = Scheduler::new();
        s.at(100, Rank::Call, 1);
        assert_eq!(s.pop(), Some((100, 1)));
        s.at(50, Rank::Call, 2);
        assert_eq!(s.pop(), Some((100, 2)));
    }
}
