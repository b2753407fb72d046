//! Integration tests of the simulator on the bundled maps.

mod helpers;
mod policies;
mod scenarios;
