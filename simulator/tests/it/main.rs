//! Integration tests of the simulator on the bundled maps.

mod cli;
mod helpers;
mod inputs;
mod policies;
mod scenarios;
mod segments;
