//! The emergency-vehicle routing profile: which roads, how fast, which turns.
//!
//! The defaults live in `profiles/emergency.toml` (compiled in); a user file overrides any
//! subset of its fields. The profile's hash is stored in each graph file so a graph built
//! with another profile is recognised.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tags::RoadClass;

/// The built-in emergency profile, as TOML text.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("../profiles/emergency.toml");

/// The profile format version this build understands.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// A complete routing profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A short name, stored in the graph file.
    pub name: String,
    /// Profile format version (must be [`PROFILE_FORMAT_VERSION`]).
    pub version: u32,
    /// Speeds.
    pub speed: SpeedRules,
    /// Access rules.
    pub access: AccessRules,
    /// One-way rules.
    pub oneway: OnewayRules,
    /// Turn rules.
    pub turns: TurnRules,
}

/// How travel speed is derived from tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedRules {
    /// Upper bound of any travel speed, km/h.
    pub cap_kmh: f64,
    /// Legal speed per road class when `maxspeed` is missing, km/h.
    pub default_kmh: BTreeMap<RoadClass, f64>,
    /// Share of the legal speed kept on average, per road class.
    pub factor: BTreeMap<RoadClass, f64>,
}

/// Which ways and nodes an ambulance may pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRules {
    /// Ways reserved for emergency vehicles are drivable.
    pub emergency_ways: bool,
    /// Bus/PSV lanes and busways are drivable.
    pub psv_lanes: bool,
    /// `barrier=*` values that block passage unless emergency access is tagged.
    pub blocking_barriers: Vec<String>,
}

/// One-way handling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnewayRules {
    /// Allow driving against a one-way on minor roads.
    pub contraflow: bool,
    /// Travel-time multiplier for contraflow (≥ 1).
    pub contraflow_penalty: f64,
    /// Road classes where contraflow is allowed.
    pub contraflow_classes: Vec<RoadClass>,
}

/// Turn handling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnRules {
    /// Honour turn-restriction relations.
    pub restrictions: bool,
}

impl Default for Profile {
    fn default() -> Self {
        // The built-in text is tested to parse; failing here is a build defect, not user input.
        toml::from_str(DEFAULT_PROFILE_TOML).expect("built-in profile parses")
    }
}

impl Profile {
    /// Reads a profile file; fields it leaves out keep their default values.
    pub fn from_file(path: &Path) -> Result<Profile> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("cannot read profile", path, e))?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::Profile { reason, .. } => Error::Profile {
                origin: Some(path.to_path_buf()),
                reason,
            },
            other => other,
        })
    }

    /// Parses a profile from TOML text, layered over the defaults, and validates it.
    pub fn from_toml(text: &str) -> Result<Profile> {
        let invalid = |reason: String| Error::Profile {
            origin: None,
            reason,
        };
        let mut base: toml::Table =
            toml::from_str(DEFAULT_PROFILE_TOML).expect("built-in profile parses");
        let user: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        merge(&mut base, user);
        let profile: Profile = toml::Value::Table(base)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        profile.validate().map_err(invalid)?;
        Ok(profile)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.version != PROFILE_FORMAT_VERSION {
            return Err(format!(
                "version {} is not supported (this build reads version {PROFILE_FORMAT_VERSION})",
                self.version
            ));
        }
        if !(self.speed.cap_kmh.is_finite() && self.speed.cap_kmh > 0.0) {
            return Err(format!(
                "speed.cap_kmh must be > 0, not {}",
                self.speed.cap_kmh
            ));
        }
        for class in RoadClass::ALL {
            for (table, map) in [
                ("default_kmh", &self.speed.default_kmh),
                ("factor", &self.speed.factor),
            ] {
                match map.get(&class) {
                    Some(v) if v.is_finite() && *v > 0.0 => {}
                    Some(v) => {
                        return Err(format!(
                            "speed.{table}.{} must be > 0, not {v}",
                            class.as_str()
                        ))
                    }
                    None => return Err(format!("speed.{table}.{} is missing", class.as_str())),
                }
            }
        }
        if !(self.oneway.contraflow_penalty.is_finite() && self.oneway.contraflow_penalty >= 1.0) {
            return Err(format!(
                "oneway.contraflow_penalty must be >= 1, not {}",
                self.oneway.contraflow_penalty
            ));
        }
        Ok(())
    }

    /// A stable 64-bit hash of the profile's content (XXH3 of its canonical TOML).
    pub fn content_hash(&self) -> u64 {
        let canonical = toml::to_string(self).unwrap_or_default();
        xxhash_rust::xxh3::xxh3_64(canonical.as_bytes())
    }

    /// Travel speed in km/h for a road of `class` whose legal speed is `legal_kmh`
    /// (`None`: unknown, use the class default).
    pub fn travel_speed_kmh(&self, class: RoadClass, legal_kmh: Option<f64>) -> f64 {
        let legal = legal_kmh.unwrap_or_else(|| self.speed.default_kmh[&class]);
        (legal * self.speed.factor[&class])
            .min(self.speed.cap_kmh)
            .max(1.0)
    }
}

/// Merges `user` into `base`: tables recursively, other values replaced.
fn merge(base: &mut toml::Table, user: toml::Table) {
    for (key, value) in user {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge(b, u),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_parses_and_validates() {
        let p = Profile::from_toml("").unwrap();
        assert_eq!(p, Profile::default());
        assert_eq!(p.name, "emergency");
        assert!(!p.oneway.contraflow);
    }

    #[test]
    fn user_file_overrides_only_what_it_names() {
        let p =
            Profile::from_toml("[oneway]\ncontraflow = true\n[speed.factor]\nresidential = 1.0\n")
                .unwrap();
        assert!(p.oneway.contraflow);
        assert_eq!(p.speed.factor[&RoadClass::Residential], 1.0);
        assert_eq!(p.speed.factor[&RoadClass::Motorway], 0.9);
        assert_ne!(p.content_hash(), Profile::default().content_hash());
    }

    #[test]
    fn bad_profiles_are_refused_with_the_field_named() {
        let e = Profile::from_toml("[speed]\ncap_kmh = -3.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cap_kmh"), "{e}");
        let e = Profile::from_toml("[speed.factor]\nresidential = 0.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("speed.factor.residential"), "{e}");
        let e = Profile::from_toml("version = 7\n").unwrap_err().to_string();
        assert!(e.contains("version 7"), "{e}");
        let e = Profile::from_toml("[access]\nteleport = true\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("teleport"), "{e}");
        assert!(Profile::from_toml("not toml [").is_err());
    }

    #[test]
    fn speed_is_capped_and_uses_class_default() {
        let p = Profile::default();
        assert_eq!(p.travel_speed_kmh(RoadClass::Residential, None), 40.0 * 0.8);
        assert_eq!(p.travel_speed_kmh(RoadClass::Motorway, Some(200.0)), 130.0);
        assert_eq!(p.travel_speed_kmh(RoadClass::Primary, Some(50.0)), 45.0);
    }
}
