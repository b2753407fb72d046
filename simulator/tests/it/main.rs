//! Integration tests of the simulator on the bundled maps.

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
