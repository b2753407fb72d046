//! Integration tests of the simulator on the bundled maps.

mod cli;
mod helpers;
mod policies;
mod scenarios;
