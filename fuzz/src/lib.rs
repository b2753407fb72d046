//! What one fuzz input checks, per target. Each module is self-contained (it uses only the
//! project's crates and their dependencies) so that the crates' integration tests include the
//! same file with `#[path]` and replay the committed corpora under stable `cargo test`.

pub mod graph_file;
pub mod json_bodies;
pub mod osrm_url;
pub mod pbf_import;
