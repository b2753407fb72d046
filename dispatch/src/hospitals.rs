//! Hospitals: from the map (`amenity=hospital` / `healthcare=hospital`) or a JSON file, added
//! to the dispatcher when the service starts (each once: they are in the event log), and the
//! capable hospital a crew reaches soonest (`GET /api/crews/{id}/hospital?capability=`).
//!
//! From the map, a hospital tagged `emergency=no` is left out; every other one has a general
//! emergency department, and `healthcare:speciality` adds `pci` (cardiology), `stroke`
//! (neurology, stroke), `trauma` (trauma, traumatology, orthopaedics) and `paediatric`
//! (paediatrics). A file is a JSON array of
//! `{"id", "name", "lat", "lon", "capabilities": ["general", "pci", "stroke", "trauma", "paediatric"]}`.

use crate::settings::SettingsError;
use std::path::Path;

use dispatch_core::{Capability, DispatchError, Hospital, NewHospital};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::{AppState, Effect};

/// The hospitals of the map's places.
pub fn from_places(places: &[osm_data::Place]) -> Vec<NewHospital> {
    places
        .iter()
        .filter(|p| p.tags.get("emergency").map(String::as_str) != Some("no"))
        .map(|p| {
            let mut capabilities = vec![Capability::General];
            let specialities = p
                .tags
                .get("healthcare:speciality")
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_default();
            for s in specialities.split(';').map(str::trim) {
                let c = match s {
                    "cardiology" => Capability::Pci,
                    "neurology" | "stroke" => Capability::Stroke,
                    "trauma" | "traumatology" | "orthopaedics" => Capability::Trauma,
                    "paediatrics" | "pediatrics" => Capability::Paediatric,
                    _ => continue,
                };
                if !capabilities.contains(&c) {
                    capabilities.push(c);
                }
            }
            NewHospital {
                id: format!("osm:{}", p.osm_id),
                name: if p.name.is_empty() {
                    format!("Hospital {}", p.osm_id)
                } else {
                    p.name.clone()
                },
                lat: p.lat,
                lon: p.lon,
                capabilities,
            }
        })
        .collect()
}

/// Reads a hospitals file (see the module docs).
pub fn load_file(path: &Path) -> Result<Vec<NewHospital>, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::HospitalsRead {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| SettingsError::HospitalsInvalid {
        path: path.to_path_buf(),
        source,
    })
}

/// Adds the hospitals the dispatcher does not know yet (by id), in one logged change; a
/// hospital too far from any road is skipped with a warning. Returns how many were added.
pub async fn register(state: &AppState, hospitals: Vec<NewHospital>) -> Result<usize, ApiError> {
    let applied = state
        .apply(&crate::auth::Actor::system(), None, move |core, now| {
        let mut events = Vec::new();
        let mut added = 0;
        for h in hospitals {
            if core.hospital(&h.id).is_some() {
                continue;
            }
            let (id, name) = (h.id.clone(), h.name.clone());
            match core.add_hospital(h, now) {
                Ok(e) => {
                    events.extend(e);
                    added += 1;
                }
                Err(DispatchError::OffMap(why)) => {
                    tracing::warn!(%id, %name, %why, "hospital skipped: not near a road of the map");
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(Effect::new(events, added))
    })
    .await?;
    Ok(match applied {
        crate::state::Applied::Done(n) => n,
        crate::state::Applied::Replayed(_) => 0,
    })
}

/// The capable hospital a crew reaches soonest.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NearestHospital {
    /// What was asked for.
    pub capability: Capability,
    /// The hospital; `null` when none with the capability is reachable.
    pub hospital: Option<Hospital>,
    /// The crew's ETA to it (seconds); absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_s: Option<f64>,
}

/// The capable hospital a crew reaches soonest, or none when none is reachable.
pub async fn nearest_for(
    state: &AppState,
    crew_id: &str,
    capability: Capability,
) -> Result<NearestHospital, ApiError> {
    let mut core = state.core().await;
    let best = core.hospital_for(crew_id, capability)?;
    Ok(match best {
        Some((id, eta_ms)) => NearestHospital {
            capability,
            hospital: core.hospital(&id).cloned(),
            eta_s: Some(f64::from(eta_ms) / 1000.0),
        },
        None => NearestHospital {
            capability,
            hospital: None,
            eta_s: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: &str, name: &str, tags: &[(&str, &str)]) -> osm_data::Place {
        osm_data::Place {
            osm_id: id.into(),
            name: name.into(),
            lat: 49.4,
            lon: 8.7,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn map_tags_give_capabilities_and_hospitals_without_an_emergency_department_are_left_out() {
        let got = from_places(&[
            place(
                "w1",
                "Uniklinik",
                &[
                    ("amenity", "hospital"),
                    (
                        "healthcare:speciality",
                        "Cardiology; paediatrics;trauma;dermatology",
                    ),
                ],
            ),
            place(
                "w2",
                "Reha",
                &[("amenity", "hospital"), ("emergency", "no")],
            ),
            place(
                "n3",
                "",
                &[
                    ("healthcare", "hospital"),
                    ("healthcare:speciality", "neurology"),
                ],
            ),
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].id, "osm:w1");
        assert_eq!(
            got[0].capabilities,
            [
                Capability::General,
                Capability::Pci,
                Capability::Paediatric,
                Capability::Trauma
            ]
        );
        assert_eq!(got[1].id, "osm:n3");
        assert_eq!(got[1].name, "Hospital n3");
        assert_eq!(
            got[1].capabilities,
            [Capability::General, Capability::Stroke]
        );
    }

    #[test]
    fn a_hospitals_file_is_read_and_a_bad_one_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("h.json");
        std::fs::write(
            &good,
            r#"[{"id": "H1", "name": "City", "lat": 49.41, "lon": 8.69, "capabilities": ["general", "stroke"]}]"#,
        )
        .unwrap();
        let h = load_file(&good).unwrap();
        assert_eq!(h[0].capabilities, [Capability::General, Capability::Stroke]);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"[{"id": "H1", "capabilities": ["spa"]}]"#).unwrap();
        let err = load_file(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.json"), "{err}");
    }
}
