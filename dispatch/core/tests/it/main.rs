//! Integration tests of the dispatch core on the bundled Moscow fragment.

// Tests unwrap: a panic is their failure report. Their helpers are `pub` for the other
// modules of this test crate, which is all `unreachable_pub` would say.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod archive;
mod divert;
mod duplicates;
mod edits;
mod handback;
mod helpers;
mod multi;
mod props;
mod queue;
mod replay;
mod scenarios;
mod search;
mod snapshot;
