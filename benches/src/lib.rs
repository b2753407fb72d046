//! Shared helpers for the criterion benchmarks in `benches/`: the bundled maps and seeded
//! workloads ([`maps`]), adapters to the peer libraries ([`peers`]) and the k×k tiling of a
//! real map into a large synthetic graph for scaling runs ([`tiling`]).

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod maps;
pub mod peers;
pub mod tiling;
