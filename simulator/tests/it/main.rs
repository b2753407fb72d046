//! Integration tests of the simulator on the bundled maps.

// Tests unwrap: a panic is their failure report. Their helpers are `pub` for the other
// modules of this test crate, which is all `unreachable_pub` would say.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod cli;
mod exceptions;
mod helpers;
mod inputs;
#[cfg(feature = "live")]
mod live;
mod plan;
mod policies;
#[cfg(feature = "live")]
mod readme;
mod replay;
mod scenarios;
mod segments;
