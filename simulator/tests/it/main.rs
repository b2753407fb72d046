//! Integration tests of the simulator on the bundled maps.

mod cli;
mod helpers;
mod inputs;
#[cfg(feature = "live")]
mod live;
mod policies;
mod scenarios;
mod segments;
