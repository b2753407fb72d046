//! Integration tests of the dispatch core on the bundled Moscow fragment.

mod helpers;
mod multi;
mod props;
mod replay;
mod scenarios;
mod search;
