//! A handover as HL7 FHIR R4 resources: the Patient (with its identifiers), the receiving
//! hospital as a Location, the Encounter (class `EMER`, its period, the hospitalization
//! destination), an Observation per vital sign (LOINC), a Condition (ICD-10) and the
//! Composition that ties them together as the ambulance's transfer note; as a `collection`
//! Bundle to read (`GET /api/calls/{id}/handover/fhir`) or a `transaction` Bundle to push to
//! the patient's record ([`transaction`]).
//!
//! Every resource carries a business identifier from this service ([`Systems`]), and the
//! transaction creates or updates each one conditionally on it, so sending the same
//! handover twice (a retry after a timeout) changes nothing more, and a later version of
//! the handover updates what the first created:
//! * the Patient is created only if no patient has its identifier (`ifNoneExist`): the
//!   record's own data on a known patient (address, contacts) is never overwritten;
//! * the Location likewise, by the hospital's name;
//! * the Encounter, Observations, Condition and Composition are conditional updates
//!   (`PUT Type?identifier=…`): created the first time, replaced by a later version.
//!
//! References inside a bundle are `urn:uuid:` full URLs (UUID version 5 of the call and the
//! resource, so the same handover gives the same bundle).

use serde_json::{json, Value};

use crate::handover::{instant, Handover, IdKind};

/// The identifier systems: the registers' for patients, and this service's own for what
/// it creates, under one base URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Systems {
    /// The base of this service's own systems (`--fhir-system`), e.g. `urn:ambulance-dispatch`
    /// or `https://emias.example/sid/ambulance`.
    pub base: String,
}

impl Default for Systems {
    fn default() -> Self {
        Systems {
            base: "urn:ambulance-dispatch".into(),
        }
    }
}

/// The system of the ОМС policy number (the Russian core implementation guide's).
pub const OMS: &str = "http://fhir.ru/core/systems/OMS";
/// The system of the СНИЛС (the Russian core implementation guide's).
pub const SNILS: &str = "http://fhir.ru/core/systems/snils";

impl Systems {
    /// This service's system for `kind` (`patient`, `encounter`, …): the base, then `:kind`
    /// for a URN base or `/kind` for a URL.
    pub fn own(&self, kind: &str) -> String {
        let base = self.base.trim_end_matches(['/', ':']);
        match base.starts_with("urn:") {
            true => format!("{base}:{kind}"),
            false => format!("{base}/{kind}"),
        }
    }

    /// The system of a patient identifier.
    pub fn patient(&self, kind: IdKind) -> String {
        match kind {
            IdKind::Oms => OMS.into(),
            IdKind::Snils => SNILS.into(),
            IdKind::Local => self.own("patient"),
        }
    }
}

/// What a bundle is built from: the call, its handover and when.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The call.
    pub call_id: u64,
    /// Its handover (the version sent).
    pub handover: &'a Handover,
    /// The version.
    pub version: u64,
    /// When the 112 call was received (Unix ms): the encounter's start.
    pub received_ms: i64,
    /// When the handover was recorded (Unix ms): the encounter's end.
    pub handover_ms: i64,
}

/// One resource of a handover: its `urn:uuid:`, the resource, the identifier it is matched
/// on, and whether it is only created (never updated) when it exists.
struct Res {
    full_url: String,
    resource: Value,
    system: String,
    value: String,
    create_only: bool,
}

/// A stable `urn:uuid:` for resource `n` of call `call`.
fn urn(call: u64, n: u64) -> String {
    let name = format!("ambulance-call-{call}-resource-{n}");
    format!(
        "urn:uuid:{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
    )
}

fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code})
}

fn loinc(code: &str, display: &str) -> Value {
    json!({"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": display})
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn narrative(text: &str) -> Value {
    json!({"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", escape(text))})
}

/// The vital signs: `(n, LOINC, display, value, unit, UCUM)`.
type Single<'a> = (u64, &'a str, &'a str, Option<f64>, &'a str, &'a str);

/// Every resource of a handover, in bundle order.
fn resources(src: &Source, sys: &Systems) -> Vec<Res> {
    let call = src.call_id;
    let h = src.handover;
    let patient_ref = urn(call, 1);
    let encounter_ref = urn(call, 2);
    let location_ref = urn(call, 3);
    let own = |kind: &str, value: String| (sys.own(kind), value);

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
    let mut ids = h.patient.identifiers.clone();
    ids.sort_by_key(|i| i.kind);
    // Matched on the first known register (ОМС, СНИЛС, local); a patient with none is
    // this call's own, matched on the call.
    let (p_system, p_value) = match ids.first() {
        Some(id) => (sys.patient(id.kind), id.value.clone()),
        None => own("call-patient", call.to_string()),
    };
    let mut identifiers: Vec<Value> = ids
        .iter()
        .map(|id| {
            let mut v = json!({"system": sys.patient(id.kind), "value": id.value});
            let kind = match id.kind {
                IdKind::Oms => None,
                IdKind::Snils => Some(("SB", "Social Beneficiary Identifier")),
                IdKind::Local => Some(("MR", "Medical record number")),
            };
            if let Some((code, display)) = kind {
                v["type"] = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": code, "display": display}]});
            }
            v
        })
        .collect();
    if identifiers.is_empty() {
        identifiers.push(json!({"system": p_system, "value": p_value}));
    }
    patient["identifier"] = json!(identifiers);

    let (l_system, l_value) = own("hospital", h.hospital.clone());
    let location = json!({
        "resourceType": "Location",
        "identifier": [{"system": l_system, "value": l_value}],
        "status": "active",
        "name": h.hospital,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "HOSP", "display": "Hospital"}]}],
    });

    let (e_system, e_value) = own("call", call.to_string());
    let mut encounter = json!({
        "resourceType": "Encounter",
        "identifier": [{"system": e_system, "value": e_value}],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER", "display": "emergency"},
        "subject": {"reference": patient_ref},
        "period": {"start": instant(src.received_ms), "end": instant(src.handover_ms)},
        "hospitalization": {"destination": {"reference": location_ref, "display": h.hospital}},
    });
    if let Some(notes) = &h.notes {
        encounter["text"] = narrative(notes);
    }

    let mut out = vec![
        Res {
            full_url: patient_ref.clone(),
            resource: patient,
            system: p_system,
            value: p_value,
            create_only: true,
        },
        Res {
            full_url: location_ref,
            resource: location,
            system: l_system,
            value: l_value,
            create_only: true,
        },
        Res {
            full_url: encounter_ref.clone(),
            resource: encounter,
            system: e_system,
            value: e_value,
            create_only: false,
        },
    ];

    let effective = instant(src.handover_ms);
    let observation = |n: u64, code_id: &str, code: Value, body: Value| {
        let (system, value) = own("observation", format!("{call}-{code_id}"));
        let mut o = json!({
            "resourceType": "Observation",
            "identifier": [{"system": system, "value": value}],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}],
            "code": code,
            "subject": {"reference": patient_ref},
            "encounter": {"reference": encounter_ref},
            "effectiveDateTime": effective,
        });
        if let (Value::Object(o), Value::Object(b)) = (&mut o, body) {
            o.extend(b);
        }
        Res {
            full_url: urn(call, n),
            resource: o,
            system,
            value,
            create_only: false,
        }
    };
    let v = &h.vitals;
    let singles: [Single; 5] = [
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
            out.push(observation(
                n,
                code,
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
        out.push(observation(
            15,
            "85354-9",
            loinc("85354-9", "Blood pressure panel with all children optional"),
            json!({"component": components}),
        ));
    }
    let vitals: Vec<Value> = out[3..]
        .iter()
        .map(|r| json!({"reference": r.full_url}))
        .collect();
    let mut condition_ref = None;
    if let Some(code) = &h.diagnosis_icd10 {
        let (system, value) = own("condition", call.to_string());
        let full_url = urn(call, 20);
        condition_ref = Some(full_url.clone());
        out.push(Res {
            full_url,
            resource: json!({
                "resourceType": "Condition",
                "identifier": [{"system": system, "value": value}],
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "provisional"}]},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}],
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code}], "text": code},
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_ref},
                "recordedDate": effective,
            }),
            system,
            value,
            create_only: false,
        });
    }

    // The document: what was found, in sections.
    let mut sections = Vec::new();
    if !vitals.is_empty() {
        sections.push(json!({
            "title": "Витальные показатели",
            "code": loinc("8716-3", "Vital signs"),
            "entry": vitals,
        }));
    }
    if let Some(r) = condition_ref {
        sections.push(json!({
            "title": "Диагноз",
            "code": loinc("29548-5", "Diagnosis Narrative"),
            "entry": [{"reference": r}],
        }));
    }
    if let Some(notes) = &h.notes {
        sections.push(json!({
            "title": "Примечания",
            "code": loinc("48767-8", "Annotation comment"),
            "text": narrative(notes),
        }));
    }
    let (system, value) = own("handover", call.to_string());
    let mut composition = json!({
        "resourceType": "Composition",
        "identifier": {"system": system, "value": value},
        "status": "final",
        "type": loinc("18761-7", "Transfer summary note"),
        "subject": {"reference": patient_ref},
        "encounter": {"reference": encounter_ref},
        "date": effective,
        "author": [{"display": "Скорая медицинская помощь"}],
        "title": format!("Передача пациента бригадой скорой помощи, вызов {call}, версия {}", src.version),
    });
    if !sections.is_empty() {
        composition["section"] = json!(sections);
    }
    out.push(Res {
        full_url: urn(call, 30),
        resource: composition,
        system,
        value,
        create_only: false,
    });
    out
}

/// The handover as a `collection` Bundle, to read.
pub fn collection(src: &Source, sys: &Systems) -> Value {
    let entries: Vec<Value> = resources(src, sys)
        .into_iter()
        .map(|r| json!({"fullUrl": r.full_url, "resource": r.resource}))
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(src.handover_ms),
        "identifier": {"system": sys.own("call"), "value": src.call_id.to_string()},
        "entry": entries,
    })
}

/// `system|value` as a search parameter's value, each part percent-encoded.
fn token(system: &str, value: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("identifier={}|{}", enc(system), enc(value))
}

/// The handover as a `transaction` Bundle, to push: each resource created or updated
/// conditionally on its identifier (see the module's documentation).
pub fn transaction(src: &Source, sys: &Systems) -> Value {
    let entries: Vec<Value> = resources(src, sys)
        .into_iter()
        .map(|r| {
            let kind = r.resource["resourceType"].as_str().unwrap_or_default().to_string();
            let request = match r.create_only {
                true => json!({"method": "POST", "url": kind, "ifNoneExist": token(&r.system, &r.value)}),
                false => json!({"method": "PUT", "url": format!("{kind}?{}", token(&r.system, &r.value))}),
            };
            json!({"fullUrl": r.full_url, "resource": r.resource, "request": request})
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handover::PatientId;

    fn sample() -> Handover {
        let mut h = crate::handover::tests::sample();
        h.patient.identifiers = vec![
            PatientId {
                kind: IdKind::Snils,
                value: "112-233-445 95".into(),
            },
            PatientId {
                kind: IdKind::Oms,
                value: "7700000000000018".into(),
            },
        ];
        h
    }

    fn source(h: &Handover) -> Source<'_> {
        Source {
            call_id: 7,
            handover: h,
            version: 2,
            received_ms: 1_764_000_000_000,
            handover_ms: 1_764_002_400_000,
        }
    }

    #[test]
    fn bundle_has_every_resource_with_its_codes() {
        let h = sample();
        let b = collection(&source(&h), &Systems::default());
        assert_eq!(b["resourceType"], "Bundle");
        let entries = b["entry"].as_array().unwrap();
        let kinds: Vec<&str> = entries
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "Patient",
                "Location",
                "Encounter",
                "Observation",
                "Observation",
                "Observation",
                "Observation",
                "Observation",
                "Observation",
                "Condition",
                "Composition"
            ]
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
        let enc = &entries[2]["resource"];
        assert_eq!(enc["period"]["start"], "2025-11-24T16:00:00Z");
        assert_eq!(enc["class"]["code"], "EMER");
        assert_eq!(
            enc["hospitalization"]["destination"]["reference"],
            entries[1]["fullUrl"]
        );
        assert!(enc["text"]["div"]
            .as_str()
            .unwrap()
            .contains("&lt;V2-V4&gt; &amp;"));
        // The patient's identifiers, ОМС first; the document's sections point at the rest.
        let p = &entries[0]["resource"];
        assert_eq!(p["identifier"][0]["system"], OMS);
        assert_eq!(p["identifier"][1]["system"], SNILS);
        assert_eq!(p["identifier"][1]["type"]["coding"][0]["code"], "SB");
        let doc = &entries[10]["resource"];
        assert_eq!(doc["subject"]["reference"], entries[0]["fullUrl"]);
        let refs: Vec<&Value> = doc["section"][0]["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["reference"])
            .collect();
        let obs: Vec<&Value> = entries[3..9].iter().map(|e| &e["fullUrl"]).collect();
        assert_eq!(refs, obs);
        assert_eq!(
            doc["section"][1]["entry"][0]["reference"],
            entries[9]["fullUrl"]
        );
        // Stable ids: exporting twice gives the same document; other calls, other ids.
        assert_eq!(b, collection(&source(&h), &Systems::default()));
        assert_ne!(urn(7, 1), urn(8, 1));
        assert!(urn(7, 1).starts_with("urn:uuid:"));
        assert_eq!(urn(7, 1).len(), "urn:uuid:".len() + 36);
    }

    #[test]
    fn a_transaction_matches_each_resource_on_its_identifier() {
        let h = sample();
        let sys = Systems {
            base: "https://emias.example/sid/ambulance/".into(),
        };
        let b = transaction(&source(&h), &sys);
        assert_eq!(b["type"], "transaction");
        let requests: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["request"])
            .collect();
        assert_eq!(
            requests[0],
            &json!({"method": "POST", "url": "Patient", "ifNoneExist": "identifier=http%3A%2F%2Ffhir.ru%2Fcore%2Fsystems%2FOMS|7700000000000018"})
        );
        assert_eq!(
            requests[1],
            &json!({"method": "POST", "url": "Location", "ifNoneExist": "identifier=https%3A%2F%2Femias.example%2Fsid%2Fambulance%2Fhospital|GKB+No.+15"})
        );
        assert_eq!(
            requests[2],
            &json!({"method": "PUT", "url": "Encounter?identifier=https%3A%2F%2Femias.example%2Fsid%2Fambulance%2Fcall|7"})
        );
        assert_eq!(
            requests[3]["url"],
            "Observation?identifier=https%3A%2F%2Femias.example%2Fsid%2Fambulance%2Fobservation|7-8867-4"
        );
        assert_eq!(requests.last().unwrap()["method"], "PUT");
        // No identifier: the patient is the call's own.
        let mut anonymous = sample();
        anonymous.patient.identifiers.clear();
        let b = transaction(&source(&anonymous), &Systems::default());
        assert_eq!(
            b["entry"][0]["request"]["ifNoneExist"],
            "identifier=urn%3Aambulance-dispatch%3Acall-patient|7"
        );
        assert_eq!(
            b["entry"][0]["resource"]["identifier"],
            json!([{"system": "urn:ambulance-dispatch:call-patient", "value": "7"}])
        );
    }
}
