//! Shared helpers: the shipped maps and their imports (from the workspace's `test-support`).

pub use test_support::{import, import_with, map_path, MAPS};
