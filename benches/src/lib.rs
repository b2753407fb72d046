//! Shared helpers for the criterion benchmarks in `benches/`: the bundled maps and seeded
//! workloads ([`maps`]), adapters to the peer libraries ([`peers`]) and the k×k tiling of a
//! real map into a large synthetic graph for scaling runs ([`tiling`]).

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod maps;
pub mod peers;
pub mod tiling;

/// A bench's setting: the environment variable `name` as a number, `default` when it is
/// unset or not a number.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
