//! The one error type of the simulator, [`SimError`].

use std::path::PathBuf;

/// What can go wrong preparing or running a simulation. Each variant says which file,
/// which line or which setting.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A setting is impossible (zero crews, a negative rate, ...).
    #[error("invalid setting {name}: {reason}")]
    Setting {
        /// The setting (as on the command line).
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {cause}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// Malformed rows of an input file, each with its line number.
    #[error("{path}: {} malformed row(s): {}", errors.len(), errors.iter().take(10).map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The rows that could not be read.
        errors: Vec<RowError>,
    },
    /// The map could not be imported or prepared.
    #[error("map {path}: {cause}")]
    Map {
        /// The map file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// A point of the scenario (a station, a hospital) is off the map.
    #[error("{what} {id} at ({lat:.6}, {lon:.6}) is off the map: {cause}")]
    OffMap {
        /// Station or hospital.
        what: &'static str,
        /// Its id.
        id: String,
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Why (the router's answer).
        cause: router::RouterError,
    },
    /// The dispatch core refused an operation the simulator expected to succeed.
    #[error("dispatch core refused an operation at t={at_s:.1} s: {cause}")]
    Dispatch {
        /// Simulated time, seconds.
        at_s: f64,
        /// The core's error.
        cause: dispatch_core::DispatchError,
    },
    /// A road closure of the scenario is invalid.
    #[error("closure {index}: {cause}")]
    Closure {
        /// Its position in the scenario (from 1).
        index: usize,
        /// The router's answer.
        cause: router::RouterError,
    },
    /// The report could not be drawn.
    #[error("cannot draw {what}: {cause}")]
    Plot {
        /// Which plot.
        what: &'static str,
        /// Why.
        cause: String,
    },
    /// Writing JSON or CSV output failed.
    #[error("cannot write {path}: {cause}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// The live run against a dispatch service failed.
    #[error("live run: {0}")]
    Live(String),
}

/// One malformed row of an input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    /// Line number in the file, from 1.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl SimError {
    /// An impossible setting.
    pub fn setting(name: &'static str, reason: impl Into<String>) -> SimError {
        SimError::Setting {
            name,
            reason: reason.into(),
        }
    }

    /// Checks a setting that must be a finite, non-negative number.
    pub fn non_negative(name: &'static str, value: f64) -> Result<(), SimError> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(SimError::setting(
                name,
                format!("must be a non-negative number, not {value}"),
            ))
        }
    }

    /// An I/O error on a file.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, cause: std::io::Error) -> SimError {
        SimError::Io {
            action,
            path: path.into(),
            cause,
        }
    }
}
