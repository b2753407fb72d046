//! Integration tests of the dispatch core on the bundled Moscow fragment.

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
