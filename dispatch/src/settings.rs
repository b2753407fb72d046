//! The dispatch rules the service runs: [`DispatchConfig`] from `dispatch serve --config
//! FILE.toml`, then the command-line flags over it ([`RuleOverrides`]); and the stations the
//! same file lists (`[[stations]]`, see [`crate::stations`]).

use std::path::{Path, PathBuf};

use dispatch_core::{DispatchConfig, DispatchError, RuleOverrides};
use serde::Deserialize;

use crate::stations::{Station, StationError};

/// Why the rules, or a file the service starts with, cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The hospitals file (`--hospitals`) cannot be read.
    #[error("cannot read the hospitals file {path}: {source}")]
    HospitalsRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The hospitals file is not a JSON list of hospitals.
    #[error("hospitals file {path}: {source}")]
    HospitalsInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line and column.
        source: serde_json::Error,
    },
    /// The file cannot be read.
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file or a flag is not valid.
    #[error("{}{source}", .path.as_ref().map(|p| format!("settings file {}: ", p.display())).unwrap_or_default())]
    Invalid {
        /// The file, when the file is wrong (not a flag).
        path: Option<PathBuf>,
        /// What is wrong.
        source: DispatchError,
    },
    /// The file's stations are not valid.
    #[error("settings file {path}: {source}")]
    Stations {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: StationError,
    },
}

/// What the settings file gives the service.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The dispatch rules, flags applied.
    pub rules: DispatchConfig,
    /// The stations (checked but for the map: see [`crate::stations::check_on_map`]).
    pub stations: Vec<Station>,
}

/// The stations part of a settings file.
#[derive(Deserialize)]
struct StationsPart {
    #[serde(default)]
    stations: Vec<Station>,
}

/// The rules and the stations: the defaults, then `file` (TOML, the fields of
/// [`DispatchConfig`] and `[[stations]]`), then the flags.
pub fn read(file: Option<&Path>, flags: &RuleOverrides) -> Result<Settings, SettingsError> {
    let Some(path) = file else {
        return Ok(Settings {
            rules: dispatch_rules(None, flags)?,
            stations: Vec::new(),
        });
    };
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |source| SettingsError::Invalid {
        path: Some(path.to_path_buf()),
        source,
    };
    let part: StationsPart =
        toml::from_str(&text).map_err(|source| invalid(DispatchError::Settings { source }))?;
    let stations =
        crate::stations::validate(part.stations).map_err(|source| SettingsError::Stations {
            path: path.to_path_buf(),
            source,
        })?;
    let rules = rules_of(&text).map_err(invalid)?;
    Ok(Settings {
        rules: rules
            .with(flags)
            .map_err(|source| SettingsError::Invalid { path: None, source })?,
        stations,
    })
}

/// The rules of a settings file's text, its `[[stations]]` left aside.
fn rules_of(text: &str) -> Result<DispatchConfig, DispatchError> {
    let settings = |source| DispatchError::Settings { source };
    let mut table: toml::Table = toml::from_str(text).map_err(settings)?;
    if table.remove("stations").is_none() {
        // Read from the text itself, so that an error names its line.
        return DispatchConfig::from_toml(text);
    }
    toml::Value::Table(table).try_into().map_err(settings)
}

/// The rules: the defaults, then `file` (TOML, the fields of [`DispatchConfig`]; its
/// `[[stations]]` are left aside), then the flags.
pub fn dispatch_rules(
    file: Option<&Path>,
    flags: &RuleOverrides,
) -> Result<DispatchConfig, SettingsError> {
    let rules = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            rules_of(&text).map_err(|source| SettingsError::Invalid {
                path: Some(path.to_path_buf()),
                source,
            })?
        }
        None => DispatchConfig::default(),
    };
    rules
        .with(flags)
        .map_err(|source| SettingsError::Invalid { path: None, source })
}

/// The rules as TOML, as the service prints them at start (and as a file reads them).
pub fn to_toml(rules: &DispatchConfig) -> String {
    toml::to_string(rules).unwrap_or_else(|e| format!("# cannot show the rules: {e}\n"))
}

#[cfg(test)]
mod tests {
    use dispatch_core::QueueOrder;

    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(
            &path,
            "queue_order = \"eta_weighted\"\ndivert_gain_s = 240\n",
        )
        .unwrap();
        let r = dispatch_rules(Some(&path), &RuleOverrides::default()).unwrap();
        assert_eq!(r.queue_order, QueueOrder::EtaWeighted);
        assert_eq!(r.divert_gain_ms, 240_000);
        assert_eq!(r.reassign_gain_ms, 120_000);
        let flags = RuleOverrides {
            queue_order: Some(QueueOrder::Age),
            diversion: Some(false),
            divert_gain_s: Some(200.0),
            reassign_gain_s: Some(90.0),
        };
        let r = dispatch_rules(Some(&path), &flags).unwrap();
        assert_eq!(
            (
                r.queue_order,
                r.diversion,
                r.divert_gain_ms,
                r.reassign_gain_ms
            ),
            (QueueOrder::Age, false, 200_000, 90_000)
        );
        // What the service prints reads back as the same rules.
        assert_eq!(DispatchConfig::from_toml(&to_toml(&r)).unwrap(), r);
        std::fs::write(&path, "queue_order = \"lottery\"\n").unwrap();
        let e = dispatch_rules(Some(&path), &RuleOverrides::default()).unwrap_err();
        assert!(e.to_string().contains("rules.toml"), "{e}");
        let e = dispatch_rules(
            None,
            &RuleOverrides {
                divert_gain_s: Some(-1.0),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("divert_gain_s"), "{e}");
    }

    #[test]
    fn stations_are_read_beside_the_rules_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("service.toml");
        let stations = "[[stations]]\nid = \"S1\"\nname = \"Mitte\"\nlat = 49.41\nlon = 8.69\n\
                        [[stations]]\nid = \"S2\"\nlat = 49.40\nlon = 8.68\n";
        std::fs::write(&path, format!("divert_gain_s = 240\n{stations}")).unwrap();
        let s = read(Some(&path), &RuleOverrides::default()).unwrap();
        assert_eq!(s.rules.divert_gain_ms, 240_000);
        assert_eq!(s.stations.len(), 2);
        assert_eq!(
            (s.stations[1].id.as_str(), s.stations[1].name.as_str()),
            ("S2", "S2")
        );
        // The rules alone read the same file.
        let r = dispatch_rules(Some(&path), &RuleOverrides::default()).unwrap();
        assert_eq!(r, s.rules);
        std::fs::write(
            &path,
            format!("{stations}[[stations]]\nid = \"S1\"\nlat = 49.4\nlon = 8.7\n"),
        )
        .unwrap();
        let e = read(Some(&path), &RuleOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("service.toml") && e.contains("\"S1\" is given twice"),
            "{e}"
        );
        std::fs::write(&path, "[[stations]]\nid = \"S1\"\nlat = 49.4\n").unwrap();
        let e = read(Some(&path), &RuleOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("service.toml") && e.contains("lon"), "{e}");
        std::fs::write(&path, format!("{stations}nonsense = 1\n")).unwrap();
        assert!(read(Some(&path), &RuleOverrides::default()).is_err());
    }
}
