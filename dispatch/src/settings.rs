//! The dispatch rules the service runs: [`DispatchConfig`] from `dispatch serve --config
//! FILE.toml`, then the command-line flags over it ([`RuleOverrides`]).

use std::path::{Path, PathBuf};

use dispatch_core::{DispatchConfig, DispatchError, RuleOverrides};

/// Why the rules cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
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
}

/// The rules: the defaults, then `file` (TOML, the fields of [`DispatchConfig`]), then the
/// flags.
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
            DispatchConfig::from_toml(&text).map_err(|source| SettingsError::Invalid {
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
}
