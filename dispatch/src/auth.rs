//! Bearer tokens and roles.
//!
//! The token file is TOML with a `[tokens]` table mapping each token to its role, and
//! optionally a name (who is at that desk or tablet; the audit log records it with every
//! change the token makes; without one, the role is the name):
//!
//! ```toml
//! [tokens]
//! "s3cret" = "dispatcher"
//! "s3cret-desk-3" = { role = "dispatcher", name = "desk-3" }
//! "t4blet" = "crew:A12"
//! "r00t" = "admin"
//! ```
//!
//! `dispatcher` and `admin` see and do everything; `crew:<id>` sees and changes only its own
//! crew and assignment. The service never runs open: with no token file it writes one with a
//! random admin token and says where.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;

use crate::error::ApiError;

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Everything, including configuration.
    Admin,
    /// Every call and crew, medical data included.
    Dispatcher,
    /// One crew's own tablet.
    Crew(String),
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "dispatcher" => Some(Role::Dispatcher),
            _ => s
                .strip_prefix("crew:")
                .filter(|id| !id.is_empty())
                .map(|id| Role::Crew(id.to_string())),
        }
    }

    /// Dispatchers and admins.
    pub fn is_staff(&self) -> bool {
        matches!(self, Role::Admin | Role::Dispatcher)
    }

    /// Whether this role may act for crew `id`.
    pub fn may_act_for(&self, id: &str) -> bool {
        match self {
            Role::Crew(own) => own == id,
            _ => true,
        }
    }

    /// Refuses unless staff.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only dispatchers and admins may do this",
            ))
        }
    }

    /// Refuses unless staff or crew `id`.
    pub fn require_crew(&self, id: &str) -> Result<(), ApiError> {
        if self.may_act_for(id) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token may not act for crew {id}"
            )))
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Dispatcher => f.write_str("dispatcher"),
            Role::Crew(id) => write!(f, "crew:{id}"),
        }
    }
}

/// Who made a change, as the audit log records it: a token's name and role, or
/// [`Actor::system`] for what the dispatch rules decided on their own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    /// The token's name (`system` for the rules).
    pub name: String,
    /// Its role (`admin`, `dispatcher`, `crew:<id>`, or `system`).
    pub role: String,
}

impl Actor {
    /// The dispatch rules and the service's own timers.
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: "system".into(),
        }
    }
}

/// A token's holder: its role and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// What it may do.
    pub role: Role,
    /// Who it is (the role when the file names nobody).
    pub name: String,
}

impl Holder {
    /// The actor the audit log records for it.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.name.clone(),
            role: self.role.to_string(),
        }
    }
}

/// The tokens the service accepts.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    holders: HashMap<String, Holder>,
}

/// A token's entry in the file: a role, or a role and a name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Role(String),
    Named { role: String, name: String },
}

#[derive(Deserialize)]
struct TokenFile {
    tokens: HashMap<String, Entry>,
}

/// Errors reading the token file.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unreadable or unwritable file.
    #[error("token file {path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Malformed content.
    #[error("token file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Tokens {
    /// Tokens from `(token, role)` pairs (roles as in the file).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Tokens, String> {
        Tokens::from_named(pairs.into_iter().map(|(t, r)| (t, r, None)))
    }

    /// Tokens from `(token, role, name)` (roles as in the file; no name: the role).
    pub fn from_named<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    ) -> Result<Tokens, String> {
        let mut holders = HashMap::new();
        for (token, role, name) in entries {
            if token.len() < 4 {
                return Err(format!(
                    "token {token:?} is too short (at least 4 characters)"
                ));
            }
            let r = Role::parse(role)
                .ok_or_else(|| format!("unknown role {role:?} (admin, dispatcher or crew:<id>)"))?;
            let name = match name.map(str::trim) {
                Some("") => return Err(format!("the name of a {role} token is empty")),
                Some(n) => n.to_string(),
                None => r.to_string(),
            };
            holders.insert(token.to_string(), Holder { role: r, name });
        }
        Ok(Tokens { holders })
    }

    /// Reads a token file.
    pub fn load(path: &Path) -> Result<Tokens, TokenError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| TokenError::Io {
            path: p.clone(),
            cause,
        })?;
        let file: TokenFile = toml::from_str(&text).map_err(|e| TokenError::Invalid {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        Tokens::from_named(file.tokens.iter().map(|(t, e)| match e {
            Entry::Role(r) => (t.as_str(), r.as_str(), None),
            Entry::Named { role, name } => (t.as_str(), role.as_str(), Some(name.as_str())),
        }))
        .map_err(|reason| TokenError::Invalid { path: p, reason })
    }

    /// Reads the token file, or creates it with one random admin token. Returns the tokens and,
    /// when the file was created, the new admin token.
    pub fn load_or_create(path: &Path) -> Result<(Tokens, Option<String>), TokenError> {
        if path.exists() {
            return Ok((Tokens::load(path)?, None));
        }
        let token = random_token().map_err(|cause| TokenError::Io {
            path: path.display().to_string(),
            cause,
        })?;
        let text = format!(
            "# Tokens of the dispatch service: token = role (admin, dispatcher, crew:<id>).\n[tokens]\n\"{token}\" = \"admin\"\n"
        );
        osm_data::graph_file::write_atomically(path, text.as_bytes()).map_err(|e| {
            TokenError::Io {
                path: path.display().to_string(),
                cause: std::io::Error::other(e.to_string()),
            }
        })?;
        Ok((Tokens::load(path)?, Some(token)))
    }

    /// The role of a token.
    pub fn role(&self, token: &str) -> Option<&Role> {
        self.holder(token).map(|h| &h.role)
    }

    /// The holder of a token.
    pub fn holder(&self, token: &str) -> Option<&Holder> {
        self.holders.get(token)
    }
}

fn random_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The caller's role, from `Authorization: Bearer <token>` or a `token` query parameter.
#[derive(Debug, Clone)]
pub struct Auth(pub Role);

/// The caller, role and name, for handlers that change something (the audit log records
/// who): from the same token as [`Auth`].
#[derive(Debug, Clone)]
pub struct Caller {
    /// What it may do.
    pub role: Role,
    /// Who it is.
    pub actor: Actor,
}

impl<S: HasTokens + Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let holder = holder_of(parts, state.tokens())?;
        Ok(Caller {
            role: holder.role.clone(),
            actor: holder.actor(),
        })
    }
}

/// The holder of the request's token.
fn holder_of<'t>(parts: &Parts, tokens: &'t Tokens) -> Result<&'t Holder, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = parts.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v)
    });
    let token = header.or(query).ok_or_else(ApiError::unauthorized)?;
    tokens.holder(token).ok_or_else(ApiError::unauthorized)
}

/// Anything that holds the service's tokens.
pub trait HasTokens {
    /// The tokens.
    fn tokens(&self) -> &Tokens;
}

impl<S: HasTokens + Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        holder_of(parts, state.tokens()).map(|h| Auth(h.role.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_scope() {
        let t = Tokens::from_pairs([
            ("s3cret", "dispatcher"),
            ("t4blet", "crew:A12"),
            ("r00t", "admin"),
        ])
        .unwrap();
        assert_eq!(t.role("s3cret"), Some(&Role::Dispatcher));
        assert_eq!(t.role("t4blet"), Some(&Role::Crew("A12".into())));
        assert!(t.role("nope").is_none());
        let crew = Role::Crew("A12".into());
        assert!(crew.may_act_for("A12") && !crew.may_act_for("B1") && !crew.is_staff());
        assert!(Tokens::from_pairs([("abcd", "pilot")]).is_err());
        assert!(Tokens::from_pairs([("ab", "admin")]).is_err());
        assert!(Tokens::from_pairs([("abcd", "crew:")]).is_err());
    }

    #[test]
    fn a_missing_file_is_created_with_a_random_admin_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let (t, created) = Tokens::load_or_create(&path).unwrap();
        let token = created.unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(t.role(&token), Some(&Role::Admin));
        let (t2, again) = Tokens::load_or_create(&path).unwrap();
        assert!(again.is_none());
        assert_eq!(t2.role(&token), Some(&Role::Admin));
        std::fs::write(&path, "[tokens]\n\"abcd\" = \"wizard\"\n").unwrap();
        let e = Tokens::load(&path).unwrap_err().to_string();
        assert!(e.contains("wizard") && e.contains("tokens.toml"), "{e}");
    }

    #[test]
    fn tokens_may_carry_a_name_and_the_plain_form_stays_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(
            &path,
            "[tokens]\n\"s3cret\" = \"dispatcher\"\n\"desk3-token\" = { role = \"dispatcher\", name = \"desk-3\" }\n\"t4blet\" = \"crew:A12\"\n",
        )
        .unwrap();
        let t = Tokens::load(&path).unwrap();
        let named = t.holder("desk3-token").unwrap();
        assert_eq!(named.role, Role::Dispatcher);
        assert_eq!(
            named.actor(),
            Actor {
                name: "desk-3".into(),
                role: "dispatcher".into()
            }
        );
        assert_eq!(t.holder("s3cret").unwrap().name, "dispatcher");
        assert_eq!(t.holder("t4blet").unwrap().actor().role, "crew:A12");
        std::fs::write(
            &path,
            "[tokens]\n\"abcd\" = { role = \"admin\", name = \" \" }\n",
        )
        .unwrap();
        assert!(Tokens::load(&path).is_err());
        std::fs::write(&path, "[tokens]\n\"abcd\" = { name = \"x\" }\n").unwrap();
        assert!(Tokens::load(&path).is_err());
    }
}
