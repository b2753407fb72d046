//! The dispatch rules the service runs: [`dispatch_core::DispatchConfig`] from
//! `dispatch serve --config FILE.toml`, then the command-line flags over it.

use std::path::{Path, PathBuf};

use dispatch_core::{DispatchConfig, QueueOrder};

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
    /// The file is not valid settings.
    #[error("settings file {path}: {source}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        source: toml::de::Error,
    },
    /// A flag's value is out of range.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Rules given as flags; each set one replaces the file's.
#[derive(Debug, Clone, Default)]
pub struct RuleFlags {
    /// `--queue-order`.
    pub queue_order: Option<QueueOrder>,
    /// `--diversion true|false`.
    pub diversion: Option<bool>,
    /// `--divert-gain-s`.
    pub divert_gain_s: Option<f64>,
    /// `--reassign-gain-s`.
    pub reassign_gain_s: Option<f64>,
}

/// Seconds as the core's milliseconds.
fn ms(flag: &'static str, s: f64) -> Result<u32, SettingsError> {
    let ms = s * 1000.0;
    if ms.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&ms) {
        Ok(ms.round() as u32)
    } else {
        Err(SettingsError::Flag {
            flag,
            message: format!("{s} is not a duration from 0 to {} s", u32::MAX / 1000),
        })
    }
}

/// The rules: the defaults, then `file` (TOML, the fields of [`DispatchConfig`]), then the
/// flags.
pub fn dispatch_rules(
    file: Option<&Path>,
    flags: &RuleFlags,
) -> Result<DispatchConfig, SettingsError> {
    let mut rules = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            toml::from_str(&text).map_err(|source| SettingsError::Invalid {
                path: path.to_path_buf(),
                source,
            })?
        }
        None => DispatchConfig::default(),
    };
    if let Some(q) = flags.queue_order {
        rules.queue_order = q;
    }
    if let Some(d) = flags.diversion {
        rules.diversion = d;
    }
    if let Some(s) = flags.divert_gain_s {
        rules.divert_gain_ms = ms("--divert-gain-s", s)?;
    }
    if let Some(s) = flags.reassign_gain_s {
        rules.reassign_gain_ms = ms("--reassign-gain-s", s)?;
    }
    Ok(rules)
}

/// The rules as TOML, as the service prints them at start (and as a file reads them).
pub fn to_toml(rules: &DispatchConfig) -> String {
    toml::to_string(rules).unwrap_or_else(|e| format!("# cannot show the rules: {e}\n"))
}

#[cfg(test)]
mod tests {
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
        let r = dispatch_rules(Some(&path), &RuleFlags::default()).unwrap();
        assert_eq!(r.queue_order, QueueOrder::EtaWeighted);
        assert_eq!(r.divert_gain_ms, 240_000);
        assert_eq!(r.reassign_gain_ms, 120_000);
        let flags = RuleFlags {
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
        let printed: DispatchConfig = toml::from_str(&to_toml(&r)).unwrap();
        assert_eq!(printed, r);
        std::fs::write(&path, "queue_order = \"lottery\"\n").unwrap();
        let e = dispatch_rules(Some(&path), &RuleFlags::default()).unwrap_err();
        assert!(e.to_string().contains("rules.toml"), "{e}");
        let e = dispatch_rules(
            None,
            &RuleFlags {
                divert_gain_s: Some(-1.0),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--divert-gain-s"), "{e}");
    }
}
