//! The one error type of the `osm-data` crate.

use std::path::PathBuf;

/// Everything that can go wrong while importing OpenStreetMap data or reading a graph file.
///
/// Each variant names the file (or the profile field) it concerns, so that the message
/// printed by a command-line tool is a complete, one-line explanation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{action} {path}: {cause}")]
    Io {
        /// What was being done ("cannot open", "cannot write", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        cause: std::io::Error,
    },
    /// The PBF file is truncated, corrupt or uses an unsupported feature.
    #[error("{path} is not a readable OpenStreetMap PBF file: {reason}")]
    Pbf {
        /// The PBF file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The PBF file decoded, but it holds no road an ambulance may drive on.
    #[error("{path} contains no drivable roads for profile '{profile}' ({ways} ways read)")]
    NoRoads {
        /// The PBF file.
        path: PathBuf,
        /// The profile's name.
        profile: String,
        /// How many ways the file holds in all.
        ways: u64,
    },
    /// The profile TOML is malformed or has an impossible value.
    #[error("invalid profile{}: {reason}", origin.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Profile {
        /// The profile file, when it came from one.
        origin: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },
    /// A graph's arrays disagree, or bytes given as a graph file do not decode (no file
    /// concerned: [`crate::RoadGraph::validate`], [`crate::graph_file::decode`]).
    #[error("malformed graph: {reason}")]
    MalformedGraph {
        /// What is wrong.
        reason: String,
    },
    /// The file is not a graph file, or one written by another format version, or damaged.
    #[error("{path}: {reason}")]
    GraphFile {
        /// The graph file.
        path: PathBuf,
        /// What is wrong ("not a graph file", "format version 3, this build reads 1", ...).
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        cause: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            cause,
        }
    }

    pub(crate) fn graph_file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::GraphFile {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
