//! The handover in the patient's electronic record: HL7 FHIR R4.
//!
//! * [`bundle`]: a handover as FHIR resources, as a Bundle to read or a transaction to push;
//! * [`outbox`]: what is still to be sent and how each handover's delivery went, stored
//!   with the handover in one transaction;
//! * [`push`]: the worker that sends the outbox to the FHIR server (`--fhir-url`), with
//!   retries and backoff, never in the way of dispatch;
//! * [`summary`]: the patient's summary read from the record for the crew en route.

pub mod bundle;
pub mod outbox;
pub mod push;
pub mod summary;

use std::time::Duration;

pub use bundle::Systems;

/// How the service reaches the patient's record (`dispatch serve --fhir-url …`).
#[derive(Clone)]
pub struct FhirServer {
    /// The server's base URL (`http://fhir-proxy:8080/R4`): the transaction is posted there.
    pub url: String,
    /// How the service signs in, if it must.
    pub auth: Option<FhirAuth>,
    /// How long one request may take before it is tried again later.
    pub timeout: Duration,
}

/// The credentials of the FHIR server. Never printed: `Debug` shows the kind only.
#[derive(Clone)]
pub enum FhirAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic authentication.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for FhirAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FhirAuth::Bearer(_) => f.write_str("Bearer(***)"),
            FhirAuth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

impl FhirServer {
    /// `request` with this server's credentials, if it has any.
    pub(crate) fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some(FhirAuth::Bearer(token)) => request.bearer_auth(token),
            Some(FhirAuth::Basic { user, password }) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }
}

impl std::fmt::Debug for FhirServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirServer")
            .field("url", &crate::store::redact_url(&self.url))
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The `dispatch serve` options of the push to the patient's record.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FhirArgs {
    /// The FHIR R4 server handovers are pushed to, as transactions (its base URL, e.g.
    /// `http://fhir-proxy:8080/R4`; plain HTTP: a TLS proxy reaches an https:// server).
    /// Without it, handovers stay in this service only.
    #[arg(long, value_name = "URL")]
    pub fhir_url: Option<String>,
    /// A file holding the bearer token the FHIR server expects (one line).
    #[arg(
        long,
        value_name = "FILE",
        requires = "fhir_url",
        conflicts_with = "fhir_user"
    )]
    pub fhir_token_file: Option<std::path::PathBuf>,
    /// The user of the FHIR server's basic authentication (with `--fhir-password-file`).
    #[arg(long, requires_all = ["fhir_url", "fhir_password_file"])]
    pub fhir_user: Option<String>,
    /// A file holding that user's password (one line).
    #[arg(long, value_name = "FILE", requires = "fhir_user")]
    pub fhir_password_file: Option<std::path::PathBuf>,
    /// How long one request to the FHIR server may take (ms) before it is tried again later.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub fhir_timeout_ms: u64,
    /// The base URI of the identifier systems of what this service puts in FHIR resources
    /// (its calls, encounters, observations, local patient numbers).
    #[arg(long, default_value = "urn:ambulance-dispatch")]
    pub fhir_system: String,
}

/// Why the FHIR options cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// A secret's file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A secret's file is empty.
    #[error("{path} is empty")]
    Empty {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The URL is not an `http://` URL.
    #[error("--fhir-url must be an http:// URL, not {url:?}: this build speaks plain HTTP to the FHIR server; reach an https:// server through a TLS proxy on the same host or network (see the README)")]
    Url {
        /// The URL given (credentials hidden).
        url: String,
    },
}

impl FhirArgs {
    /// The server to push to, its secrets read from their files; `None` without `--fhir-url`.
    pub fn server(&self) -> Result<Option<FhirServer>, FhirError> {
        let Some(url) = &self.fhir_url else {
            return Ok(None);
        };
        if !url.starts_with("http://") {
            return Err(FhirError::Url {
                url: crate::store::redact_url(url),
            });
        }
        let secret = |path: &std::path::Path| -> Result<String, FhirError> {
            let text = std::fs::read_to_string(path).map_err(|source| FhirError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let line = text.lines().next().unwrap_or_default().trim().to_string();
            match line.is_empty() {
                true => Err(FhirError::Empty {
                    path: path.to_path_buf(),
                }),
                false => Ok(line),
            }
        };
        let auth = match (
            &self.fhir_token_file,
            &self.fhir_user,
            &self.fhir_password_file,
        ) {
            (Some(token), _, _) => Some(FhirAuth::Bearer(secret(token)?)),
            (None, Some(user), Some(password)) => Some(FhirAuth::Basic {
                user: user.clone(),
                password: secret(password)?,
            }),
            _ => None,
        };
        Ok(Some(FhirServer {
            url: url.clone(),
            auth,
            timeout: Duration::from_millis(self.fhir_timeout_ms),
        }))
    }

    /// The identifier systems.
    pub fn systems(&self) -> Systems {
        Systems {
            base: self.fhir_system.clone(),
        }
    }
}
