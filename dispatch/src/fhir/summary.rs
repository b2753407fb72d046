//! The patient's summary for the crew en route, read from the patient's record: who the
//! patient is, active allergies, active conditions, active medications and the latest
//! observations, found by the identifiers the call-taker or the crew entered.
//!
//! It is read when asked and never stored, and it is given up after [`DEADLINE`]: a record
//! system that is down or slow makes the summary "not available" ([`Unavailable`]), never
//! anything else wait.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::FhirServer;

/// How long the whole summary may take.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// How many of the latest observations are shown (one per code).
const OBSERVATIONS: usize = 10;

/// Why there is no summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// The service has no FHIR server (`--fhir-url`).
    NoServer,
    /// The call has no patient identifier.
    NoIdentifier,
    /// The record system has no patient with those identifiers.
    NotFound,
    /// The record system did not answer within [`DEADLINE`].
    Timeout,
    /// The record system could not be reached.
    Unreachable,
    /// The record system refused (an HTTP error).
    Refused,
}

/// Who the record says the patient is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PatientFacts {
    /// The name, as the record writes it.
    pub name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `male`, `female`, `other` or `unknown`.
    pub gender: Option<String>,
}

/// One line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Fact {
    /// What it is (the code's text).
    pub text: String,
    /// More: an allergy's reaction, a medication's dosage, an observation's value.
    pub detail: Option<String>,
    /// An allergy the record marks as of high criticality.
    pub critical: bool,
    /// When (as the record writes it), if it says.
    pub at: Option<String>,
}

/// The patient's summary, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Whether the record was read.
    pub available: bool,
    /// Why not, when not.
    pub reason: Option<Unavailable>,
    /// The patient.
    pub patient: Option<PatientFacts>,
    /// Active allergies and intolerances.
    pub allergies: Vec<Fact>,
    /// Active conditions.
    pub conditions: Vec<Fact>,
    /// Active medications (statements and requests).
    pub medications: Vec<Fact>,
    /// The latest observations, one per code, newest first.
    pub observations: Vec<Fact>,
}

impl Summary {
    /// No summary, for `reason`.
    pub fn unavailable(reason: Unavailable) -> Summary {
        Summary {
            available: false,
            reason: Some(reason),
            patient: None,
            allergies: Vec::new(),
            conditions: Vec::new(),
            medications: Vec::new(),
            observations: Vec::new(),
        }
    }
}

/// Reads the summary of the patient with the first of `ids` (`(system, value)`) the record
/// knows, within [`DEADLINE`].
pub async fn fetch(
    client: &reqwest::Client,
    server: &FhirServer,
    ids: &[(String, String)],
) -> Summary {
    if ids.is_empty() {
        return Summary::unavailable(Unavailable::NoIdentifier);
    }
    match tokio::time::timeout(DEADLINE, gather(client, server, ids)).await {
        Ok(Ok(summary)) => summary,
        Ok(Err(reason)) => Summary::unavailable(reason),
        Err(_) => Summary::unavailable(Unavailable::Timeout),
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The resources a search finds (its first page).
async fn search(
    client: &reqwest::Client,
    server: &FhirServer,
    query: &str,
) -> Result<Vec<Value>, Unavailable> {
    let mut request = client
        .get(format!("{}/{query}", server.url.trim_end_matches('/')))
        .header(reqwest::header::ACCEPT, "application/fhir+json");
    request = server.authorized(request);
    let response = request.send().await.map_err(|e| match e.is_timeout() {
        true => Unavailable::Timeout,
        false => Unavailable::Unreachable,
    })?;
    if !response.status().is_success() {
        return Err(Unavailable::Refused);
    }
    let bundle: Value = response.json().await.map_err(|_| Unavailable::Refused)?;
    if bundle["resourceType"] != "Bundle" {
        return Err(Unavailable::Refused);
    }
    Ok(bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["search"]["mode"] != "include" && e["search"]["mode"] != "outcome")
                .map(|e| e["resource"].clone())
                .collect()
        })
        .unwrap_or_default())
}

async fn gather(
    client: &reqwest::Client,
    server: &FhirServer,
    ids: &[(String, String)],
) -> Result<Summary, Unavailable> {
    let mut patient = None;
    for (system, value) in ids {
        let found = search(
            client,
            server,
            &format!("Patient?identifier={}|{}", enc(system), enc(value)),
        )
        .await?;
        if let Some(p) = found.into_iter().next() {
            patient = Some(p);
            break;
        }
    }
    let patient = patient.ok_or(Unavailable::NotFound)?;
    let id = patient["id"].as_str().ok_or(Unavailable::Refused)?;
    let of = enc(&format!("Patient/{id}"));
    let queries = [
        format!("AllergyIntolerance?patient={of}&clinical-status=active"),
        format!("Condition?patient={of}&clinical-status=active"),
        format!("MedicationStatement?patient={of}&status=active"),
        format!("MedicationRequest?patient={of}&status=active"),
        format!("Observation?patient={of}&_sort=-date&_count=50"),
    ];
    let (allergies, conditions, statements, requests, observations) = tokio::join!(
        search(client, server, &queries[0]),
        search(client, server, &queries[1]),
        search(client, server, &queries[2]),
        search(client, server, &queries[3]),
        search(client, server, &queries[4]),
    );
    let mut medications: Vec<Fact> = statements?
        .iter()
        .map(|m| medication(m, "dosage"))
        .collect();
    medications.extend(requests?.iter().map(|m| medication(m, "dosageInstruction")));
    Ok(Summary {
        available: true,
        reason: None,
        patient: Some(facts(&patient)),
        allergies: allergies?.iter().map(allergy).collect(),
        conditions: conditions?.iter().map(condition).collect(),
        medications,
        observations: latest(&observations?),
    })
}

/// A CodeableConcept in words: its text, else its first coding's display or code.
fn concept(v: &Value) -> Option<String> {
    v["text"]
        .as_str()
        .or(v["coding"][0]["display"].as_str())
        .or(v["coding"][0]["code"].as_str())
        .map(str::to_string)
}

fn text_or_unknown(v: &Value) -> String {
    concept(v).unwrap_or_else(|| "?".into())
}

fn facts(p: &Value) -> PatientFacts {
    let name = &p["name"][0];
    let name = name["text"].as_str().map(str::to_string).or_else(|| {
        let given: Vec<&str> = name["given"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let family = name["family"].as_str()?;
        Some(format!("{} {family}", given.join(" ")).trim().to_string())
    });
    PatientFacts {
        name,
        birth_date: p["birthDate"].as_str().map(str::to_string),
        gender: p["gender"].as_str().map(str::to_string),
    }
}

fn allergy(a: &Value) -> Fact {
    Fact {
        text: text_or_unknown(&a["code"]),
        detail: concept(&a["reaction"][0]["manifestation"][0]),
        critical: a["criticality"] == "high",
        at: a["recordedDate"].as_str().map(str::to_string),
    }
}

fn condition(c: &Value) -> Fact {
    Fact {
        text: text_or_unknown(&c["code"]),
        detail: None,
        critical: false,
        at: c["onsetDateTime"]
            .as_str()
            .or(c["recordedDate"].as_str())
            .map(str::to_string),
    }
}

fn medication(m: &Value, dosage: &str) -> Fact {
    let text = concept(&m["medicationCodeableConcept"])
        .or_else(|| {
            m["medicationReference"]["display"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "?".into());
    Fact {
        text,
        detail: m[dosage][0]["text"].as_str().map(str::to_string),
        critical: false,
        at: m["effectiveDateTime"]
            .as_str()
            .or(m["authoredOn"].as_str())
            .map(str::to_string),
    }
}

/// An observation's value in words.
fn value(o: &Value) -> Option<String> {
    if let Some(q) = o.get("valueQuantity") {
        let v = q["value"].as_f64()?;
        let unit = q["unit"]
            .as_str()
            .or(q["code"].as_str())
            .unwrap_or_default();
        return Some(format!("{v} {unit}").trim().to_string());
    }
    if let Some(s) = o["valueString"].as_str() {
        return Some(s.to_string());
    }
    if o.get("valueCodeableConcept").is_some() {
        return concept(&o["valueCodeableConcept"]);
    }
    let parts: Vec<String> = o["component"]
        .as_array()?
        .iter()
        .filter_map(value)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

/// The newest observation of each code (the search is newest first), at most
/// [`OBSERVATIONS`].
fn latest(observations: &[Value]) -> Vec<Fact> {
    let mut seen = std::collections::HashSet::new();
    observations
        .iter()
        .filter(|o| seen.insert(concept(&o["code"])))
        .take(OBSERVATIONS)
        .map(|o| Fact {
            text: text_or_unknown(&o["code"]),
            detail: value(o),
            critical: false,
            at: o["effectiveDateTime"].as_str().map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_read_as_the_record_writes_them() {
        assert_eq!(
            facts(
                &json!({"name": [{"family": "Сидоров", "given": ["Иван", "Петрович"]}], "birthDate": "1956-03-02", "gender": "male"})
            ),
            PatientFacts {
                name: Some("Иван Петрович Сидоров".into()),
                birth_date: Some("1956-03-02".into()),
                gender: Some("male".into()),
            }
        );
        let a = allergy(&json!({
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}]},
            "criticality": "high",
            "reaction": [{"manifestation": [{"text": "anaphylaxis"}]}],
        }));
        assert_eq!(
            (a.text.as_str(), a.detail.as_deref(), a.critical),
            ("Penicillin", Some("anaphylaxis"), true)
        );
        let m = medication(
            &json!({"medicationCodeableConcept": {"text": "Warfarin 5 mg"}, "dosage": [{"text": "once a day"}]}),
            "dosage",
        );
        assert_eq!(
            (m.text.as_str(), m.detail.as_deref()),
            ("Warfarin 5 mg", Some("once a day"))
        );
        let bp = json!({"code": {"text": "Blood pressure"}, "component": [
            {"code": {"text": "Systolic"}, "valueQuantity": {"value": 150, "unit": "mmHg"}},
            {"code": {"text": "Diastolic"}, "valueQuantity": {"value": 90, "unit": "mmHg"}}]});
        assert_eq!(value(&bp).as_deref(), Some("150 mmHg / 90 mmHg"));
        // Newest first in, one per code out.
        let obs = [
            json!({"code": {"text": "Heart rate"}, "valueQuantity": {"value": 120, "unit": "/min"}, "effectiveDateTime": "2026-12-01"}),
            json!({"code": {"text": "Glucose"}, "valueString": "high", "effectiveDateTime": "2026-11-30"}),
            json!({"code": {"text": "Heart rate"}, "valueQuantity": {"value": 80, "unit": "/min"}, "effectiveDateTime": "2026-11-01"}),
        ];
        let got: Vec<(String, Option<String>)> = latest(&obs)
            .into_iter()
            .map(|f| (f.text, f.detail))
            .collect();
        assert_eq!(
            got,
            [
                ("Heart rate".into(), Some("120 /min".into())),
                ("Glucose".into(), Some("high".into()))
            ]
        );
    }
}
