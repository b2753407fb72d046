//! The handover at the hospital as the crew records it: the patient (with the identifiers
//! the patient's record knows: ОМС, СНИЛС, a local number), the vital signs, the ICD-10
//! diagnosis and notes, and their checks. Its HL7 FHIR R4 form is [`crate::fhir`]'s.

use serde::{Deserialize, Serialize};

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
    /// What the patient's record knows the patient by: the ОМС policy, the СНИЛС, or a
    /// local number (at most one of each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<PatientId>,
}

/// Which register a patient identifier is from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// The number of the compulsory medical insurance policy (полис ОМС): 16 digits.
    Oms,
    /// The personal insurance account number (СНИЛС): 11 digits, the last two a checksum;
    /// written `123-456-789 01`.
    Snils,
    /// A number of the region's own record system (up to 64 characters).
    Local,
}

/// A patient identifier, as entered by the call-taker or the crew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientId {
    /// Its register.
    pub kind: IdKind,
    /// The number (spaces and dashes are allowed in ОМС and СНИЛС numbers).
    #[schema(example = "112-233-445 95")]
    pub value: String,
}

impl PatientId {
    /// The number as the register writes it (ОМС: 16 digits; СНИЛС: `123-456-789 01`), or
    /// why it is not one.
    pub(crate) fn normalized(&self) -> Result<String, String> {
        let digits = || -> Result<String, String> {
            let v: String = self
                .value
                .chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .collect();
            match v.chars().all(|c| c.is_ascii_digit()) {
                true => Ok(v),
                false => Err(format!("{:?} has characters other than digits", self.value)),
            }
        };
        match self.kind {
            IdKind::Oms => {
                let v = digits()?;
                match v.len() {
                    16 => Ok(v),
                    n => Err(format!("an ОМС policy number has 16 digits, not {n}")),
                }
            }
            IdKind::Snils => {
                let v = digits()?;
                if v.len() != 11 {
                    return Err(format!("a СНИЛС has 11 digits, not {}", v.len()));
                }
                let d: Vec<u32> = v.bytes().map(|b| u32::from(b - b'0')).collect();
                let number: u32 = d[..9].iter().fold(0, |n, x| n * 10 + x);
                // The checksum is defined for numbers above 001-001-998.
                if number > 1_001_998 {
                    let sum: u32 = d[..9].iter().zip((1..=9).rev()).map(|(x, w)| x * w).sum();
                    let check = match sum % 101 {
                        100 => 0,
                        r => r,
                    };
                    if check != d[9] * 10 + d[10] {
                        return Err(format!(
                            "{:?} is not a СНИЛС: its checksum is {check:02}",
                            self.value
                        ));
                    }
                }
                Ok(format!("{}-{}-{} {}", &v[..3], &v[3..6], &v[6..9], &v[9..]))
            }
            IdKind::Local => {
                let v = self.value.trim();
                if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
                    return Err("a local number has 1 to 64 characters, none a control".into());
                }
                Ok(v.to_string())
            }
        }
    }
}

/// Checks a list of patient identifiers (at most one per register) and writes each as its
/// register does: 422 naming the field when one is wrong.
pub fn normalize_ids(field: &str, ids: &mut [PatientId]) -> Result<(), ApiError> {
    for (i, id) in ids.iter_mut().enumerate() {
        let name = format!("{field}[{i}].value");
        id.value = id
            .normalized()
            .map_err(|m| ApiError::invalid(&name, format!("{name}: {m}")))?;
    }
    let mut kinds: Vec<IdKind> = ids.iter().map(|i| i.kind).collect();
    kinds.sort();
    if kinds.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::invalid(
            field,
            format!("{field}: at most one identifier of each kind"),
        ));
    }
    Ok(())
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
    /// Checks values a tablet may get wrong and writes the patient's identifiers as their
    /// registers do: 422 naming the field.
    pub fn check(&mut self) -> Result<(), ApiError> {
        normalize_ids("patient.identifiers", &mut self.patient.identifiers)?;
        self.validate()
    }

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A complete handover without identifiers (the FHIR tests use it too).
    pub(crate) fn sample() -> Handover {
        Handover {
            patient: Patient {
                name: Some("Иван Петрович Сидоров".into()),
                birth_date: Some("1956-03-02".into()),
                sex: Some("male".into()),
                ..Patient::default()
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
    fn identifiers_are_written_as_their_registers_do() {
        let id = |kind, value: &str| PatientId {
            kind,
            value: value.into(),
        };
        // 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95.
        assert_eq!(
            id(IdKind::Snils, "11223344595").normalized().unwrap(),
            "112-233-445 95"
        );
        assert!(id(IdKind::Snils, "112-233-445 96")
            .normalized()
            .unwrap_err()
            .contains("checksum is 95"));
        // 9·9 + 8·8 + … + 1·1 = 285, 285 mod 101 = 83.
        assert_eq!(
            id(IdKind::Snils, "987 654 321 83").normalized().unwrap(),
            "987-654-321 83"
        );
        // 0 + 0 + 1·7 + 0 + 1·5 + 9·4 + 9·3 + 8·2 + 9·1 = 100, which gives 00; so does 202.
        assert_eq!(
            id(IdKind::Snils, "001019989 00").normalized().unwrap(),
            "001-019-989 00"
        );
        assert_eq!(
            id(IdKind::Snils, "20099899800").normalized().unwrap(),
            "200-998-998 00"
        );
        // Numbers up to 001-001-998 have no checksum.
        assert!(id(IdKind::Snils, "001-001-998 42").normalized().is_ok());
        assert!(id(IdKind::Snils, "1234567890").normalized().is_err());
        assert_eq!(
            id(IdKind::Oms, "7700 0000 0000 0018").normalized().unwrap(),
            "7700000000000018"
        );
        assert!(id(IdKind::Oms, "77000000000000").normalized().is_err());
        assert!(id(IdKind::Oms, "77000000000000AB").normalized().is_err());
        assert_eq!(
            id(IdKind::Local, " МО-17/42 ").normalized().unwrap(),
            "МО-17/42"
        );
        assert!(id(IdKind::Local, "   ").normalized().is_err());
        let mut two = vec![
            id(IdKind::Oms, "7700000000000018"),
            id(IdKind::Oms, "7700000000000026"),
        ];
        let e = normalize_ids("patient.identifiers", &mut two).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("patient.identifiers"));
        let mut bad = vec![id(IdKind::Local, "x"), id(IdKind::Snils, "1")];
        let e = normalize_ids("patient.identifiers", &mut bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("patient.identifiers[1].value"));
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
