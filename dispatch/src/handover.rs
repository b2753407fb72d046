//! The handover at the hospital and its export to the patient's electronic record as an
//! HL7 FHIR R4 `Bundle`: Patient, Encounter (period, hospitalization destination),
//! Observations with LOINC codes (heart rate, blood pressure, SpO2, respiratory rate,
//! temperature, GCS) and a Condition with the ICD-10 diagnosis.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::ApiError;

/// The patient, as far as known at handover.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Birth date, `YYYY-MM-DD`.
    #[serde(default)]
    pub birth_date: Option<String>,
    /// `male`, `female`, `other` or `unknown`.
    #[serde(default)]
    pub sex: Option<String>,
}

/// Vital signs measured by the crew.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vitals {
    /// Beats per minute.
    pub heart_rate: Option<f64>,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp: Option<f64>,
    /// Diastolic blood pressure, mmHg.
    pub diastolic_bp: Option<f64>,
    /// Oxygen saturation, %.
    pub spo2: Option<f64>,
    /// Breaths per minute.
    pub respiratory_rate: Option<f64>,
    /// Body temperature, °C.
    pub temperature_c: Option<f64>,
    /// Glasgow Coma Scale total, 3–15.
    pub gcs: Option<u8>,
}

/// A handover as posted by the crew or a dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The patient.
    #[serde(default)]
    pub patient: Patient,
    /// The receiving hospital's name.
    pub hospital: String,
    /// Vital signs.
    #[serde(default)]
    pub vitals: Vitals,
    /// ICD-10 code of the working diagnosis, e.g. `I21.9`.
    #[serde(default)]
    pub diagnosis_icd10: Option<String>,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
}

impl Handover {
    /// Checks values a tablet may get wrong: 422 naming the field.
    pub fn validate(&self) -> Result<(), ApiError> {
        let bad = |field: &str, message: String| {
            Err(ApiError::invalid(field, format!("{field}: {message}")))
        };
        let texts = [
            ("hospital", Some(&self.hospital), 200),
            ("patient.name", self.patient.name.as_ref(), 200),
            ("notes", self.notes.as_ref(), 4_000),
        ];
        for (field, text, max) in texts {
            if let Some(t) = text {
                if t.chars().count() > max {
                    return bad(field, format!("at most {max} characters"));
                }
                if t.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                {
                    return bad(field, "control characters are not allowed".into());
                }
            }
        }
        if self.hospital.trim().is_empty() {
            return bad("hospital", "required".into());
        }
        if let Some(sex) = &self.patient.sex {
            if !matches!(sex.as_str(), "male" | "female" | "other" | "unknown") {
                return bad(
                    "patient.sex",
                    format!("male, female, other or unknown, not {sex:?}"),
                );
            }
        }
        if let Some(d) = &self.patient.birth_date {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let today = time::OffsetDateTime::now_utc().date();
            match time::Date::parse(d, &format) {
                Ok(date) if date.year() >= 1880 && date <= today => {}
                Ok(_) => {
                    return bad(
                        "patient.birth_date",
                        format!("{d} is not a plausible birth date"),
                    )
                }
                Err(_) => {
                    return bad(
                        "patient.birth_date",
                        format!("a real date as YYYY-MM-DD, not {d:?}"),
                    )
                }
            }
        }
        let v = &self.vitals;
        let ranges = [
            ("vitals.heart_rate", v.heart_rate, 0.0, 350.0),
            ("vitals.systolic_bp", v.systolic_bp, 0.0, 350.0),
            ("vitals.diastolic_bp", v.diastolic_bp, 0.0, 250.0),
            ("vitals.spo2", v.spo2, 0.0, 100.0),
            ("vitals.respiratory_rate", v.respiratory_rate, 0.0, 120.0),
            ("vitals.temperature_c", v.temperature_c, 20.0, 45.0),
        ];
        for (name, value, lo, hi) in ranges {
            if let Some(x) = value {
                if let Err(e) = crate::edge::in_range(x, lo, hi) {
                    return bad(name, e.to_string());
                }
            }
        }
        if let (Some(sys), Some(dia)) = (v.systolic_bp, v.diastolic_bp) {
            if dia > sys {
                return bad(
                    "vitals.diastolic_bp",
                    format!("higher than the systolic pressure ({dia} > {sys})"),
                );
            }
        }
        if let Some(g) = v.gcs {
            if !(3..=15).contains(&g) {
                return bad("vitals.gcs", format!("between 3 and 15, not {g}"));
            }
        }
        if let Some(code) = &self.diagnosis_icd10 {
            let b = code.as_bytes();
            let ok = (3..=8).contains(&b.len())
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_alphanumeric()
                && code[3..]
                    .chars()
                    .all(|c| c == '.' || c.is_ascii_alphanumeric());
            if !ok {
                return bad(
                    "diagnosis_icd10",
                    format!("{code:?} is not an ICD-10 code (e.g. I21.9)"),
                );
            }
        }
        Ok(())
    }
}

/// RFC 3339 text of a Unix-millisecond time.
pub(crate) fn instant(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A stable `urn:uuid:` for resource `n` of call `call` (version-4 layout, derived, not random,
/// so exporting twice gives the same document).
fn urn(call: u64, n: u64) -> String {
    let h = osm_data::fnv1a64(format!("ambulance-call-{call}-{n}").as_bytes());
    let l = osm_data::fnv1a64(format!("{h}-{call}").as_bytes());
    format!(
        "urn:uuid:{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h & 0x0fff) as u16,
        ((l >> 48) as u16 & 0x3fff) | 0x8000,
        l & 0xffff_ffff_ffff
    )
}

fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code})
}

fn loinc(code: &str, display: &str) -> Value {
    json!({"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display})
}

/// The FHIR R4 `Bundle` (type `collection`) of a handover. `received_ms` starts the
/// encounter (the 112 call), `handover_ms` ends it.
pub fn fhir_bundle(call_id: u64, h: &Handover, received_ms: i64, handover_ms: i64) -> Value {
    let patient_ref = urn(call_id, 1);
    let encounter_ref = urn(call_id, 2);
    let mut patient = json!({"resourceType": "Patient"});
    if let Some(name) = &h.patient.name {
        let mut parts: Vec<&str> = name.split_whitespace().collect();
        let family = parts.pop().unwrap_or_default();
        patient["name"] = json!([{"text": name, "family": family, "given": parts}]);
    }
    if let Some(sex) = &h.patient.sex {
        patient["gender"] = json!(sex);
    }
    if let Some(d) = &h.patient.birth_date {
        patient["birthDate"] = json!(d);
    }
    let encounter = json!({
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER", "display": "emergency"},
        "subject": {"reference": patient_ref},
        "period": {"start": instant(received_ms), "end": instant(handover_ms)},
        "hospitalization": {"destination": {"display": h.hospital}},
    });
    let observation = |n: u64, code: Value, body: Value| {
        let mut o = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}],
            "code": code,
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
            "effectiveDateTime": instant(handover_ms),
        });
        if let (Value::Object(o), Value::Object(b)) = (&mut o, body) {
            o.extend(b);
        }
        (urn(call_id, n), o)
    };
    let v = &h.vitals;
    let mut entries: Vec<(String, Value)> = vec![
        (patient_ref.clone(), patient),
        (encounter_ref.clone(), encounter),
    ];
    let singles = [
        (10, "8867-4", "Heart rate", v.heart_rate, "/min", "/min"),
        (
            11,
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
            v.spo2,
            "%",
            "%",
        ),
        (
            12,
            "9279-1",
            "Respiratory rate",
            v.respiratory_rate,
            "/min",
            "/min",
        ),
        (
            13,
            "8310-5",
            "Body temperature",
            v.temperature_c,
            "Cel",
            "Cel",
        ),
        (
            14,
            "9269-2",
            "Glasgow coma score total",
            v.gcs.map(f64::from),
            "{score}",
            "{score}",
        ),
    ];
    for (n, code, display, value, unit, ucum) in singles {
        if let Some(x) = value {
            entries.push(observation(
                n,
                loinc(code, display),
                json!({"valueQuantity": quantity(x, unit, ucum)}),
            ));
        }
    }
    if v.systolic_bp.is_some() || v.diastolic_bp.is_some() {
        let mut components = Vec::new();
        for (code, display, value) in [
            ("8480-6", "Systolic blood pressure", v.systolic_bp),
            ("8462-4", "Diastolic blood pressure", v.diastolic_bp),
        ] {
            if let Some(x) = value {
                components.push(json!({"code": loinc(code, display), "valueQuantity": quantity(x, "mm[Hg]", "mm[Hg]")}));
            }
        }
        entries.push(observation(
            15,
            loinc("85354-9", "Blood pressure panel with all children optional"),
            json!({"component": components}),
        ));
    }
    if let Some(code) = &h.diagnosis_icd10 {
        entries.push((
            urn(call_id, 20),
            json!({
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "provisional"}]},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}],
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code}], "text": code},
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_ref},
                "recordedDate": instant(handover_ms),
            }),
        ));
    }
    if let Some(notes) = &h.notes {
        if let Some((_, enc)) = entries.iter_mut().find(|(u, _)| *u == encounter_ref) {
            enc["text"] = json!({"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", escape(notes))});
        }
    }
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(handover_ms),
        "identifier": {"system": "urn:ambulance-dispatch:call", "value": call_id.to_string()},
        "entry": entries.into_iter().map(|(url, r)| json!({"fullUrl": url, "resource": r})).collect::<Vec<_>>(),
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Handover {
        Handover {
            patient: Patient {
                name: Some("Иван Петрович Сидоров".into()),
                birth_date: Some("1956-03-02".into()),
                sex: Some("male".into()),
            },
            hospital: "GKB No. 15".into(),
            vitals: Vitals {
                heart_rate: Some(96.0),
                systolic_bp: Some(150.0),
                diastolic_bp: Some(90.0),
                spo2: Some(93.0),
                respiratory_rate: Some(20.0),
                temperature_c: Some(36.9),
                gcs: Some(15),
            },
            diagnosis_icd10: Some("I21.9".into()),
            notes: Some("ST elevation <V2-V4> & pain".into()),
        }
    }

    #[test]
    fn bundle_has_every_resource_with_its_codes() {
        let b = fhir_bundle(7, &sample(), 1_764_000_000_000, 1_764_002_400_000);
        assert_eq!(b["resourceType"], "Bundle");
        let entries = b["entry"].as_array().unwrap();
        let kinds: Vec<&str> = entries
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Observation").count(), 6);
        assert!(
            kinds.contains(&"Patient")
                && kinds.contains(&"Encounter")
                && kinds.contains(&"Condition")
        );
        let codes: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["resource"]["code"]["coding"][0]["code"].as_str())
            .collect();
        for c in [
            "8867-4", "59408-5", "9279-1", "8310-5", "9269-2", "85354-9", "I21.9",
        ] {
            assert!(codes.contains(&c), "{c} missing");
        }
        let enc = &entries[1]["resource"];
        assert_eq!(enc["period"]["start"], "2025-11-24T16:00:00Z");
        assert_eq!(
            enc["hospitalization"]["destination"]["display"],
            "GKB No. 15"
        );
        assert!(enc["text"]["div"]
            .as_str()
            .unwrap()
            .contains("&lt;V2-V4&gt; &amp;"));
        // Stable ids: exporting twice gives the same document.
        assert_eq!(
            b,
            fhir_bundle(7, &sample(), 1_764_000_000_000, 1_764_002_400_000)
        );
        assert_ne!(urn(7, 1), urn(8, 1));
    }

    #[test]
    fn bad_handovers_name_the_field() {
        let field = |h: Handover| h.validate().unwrap_err().field.unwrap();
        let mut h = sample();
        h.vitals.spo2 = Some(130.0);
        assert_eq!(field(h), "vitals.spo2");
        for date in ["02.03.1956", "1956-02-30", "2999-01-01", "1700-01-01"] {
            let mut h = sample();
            h.patient.birth_date = Some(date.into());
            assert_eq!(field(h), "patient.birth_date", "{date}");
        }
        let mut h = sample();
        h.patient.birth_date = Some("1956-02-29".into());
        assert!(h.validate().is_ok(), "1956 was a leap year");
        let mut h = sample();
        h.patient.birth_date = Some("1957-02-29".into());
        assert_eq!(field(h), "patient.birth_date");
        let mut h = sample();
        h.diagnosis_icd10 = Some("heart attack".into());
        assert_eq!(field(h), "diagnosis_icd10");
        let mut h = sample();
        h.vitals.gcs = Some(2);
        assert_eq!(field(h), "vitals.gcs");
        let mut h = sample();
        (h.vitals.systolic_bp, h.vitals.diastolic_bp) = (Some(80.0), Some(120.0));
        assert_eq!(field(h), "vitals.diastolic_bp");
        let mut h = sample();
        h.notes = Some("\u{7}bell".into());
        assert_eq!(field(h), "notes");
        assert!(sample().validate().is_ok());
    }
}
