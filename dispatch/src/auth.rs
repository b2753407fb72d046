//! Bearer tokens and roles.
//!
//! The token file is TOML with a `[tokens]` table mapping each token to its role, and
//! optionally a name (who is at that desk or tablet; the audit log records it with every
//! change the token makes; without one, the role is the name):
//!
//! ```toml
//! [tokens]
//! "s3cret-dispatcher-0001" = "dispatcher"
//! "s3cret-desk-3-token-0001" = { role = "dispatcher", name = "desk-3" }
//! "t4blet-a12-token-0001" = "crew:A12"
//! "sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" = "admin"
//! ```
//!
//! A token has at least [`MIN_TOKEN_CHARS`] characters; a shorter one is refused at start.
//! Instead of the token itself, the file may hold its SHA-256 digest,
//! `"sha256:<64 hex digits>"` (`printf %s "$TOKEN" | sha256sum`), so the clear token need not
//! be kept on the server's disk.
//!
//! `dispatcher` and `admin` see and do everything; `crew:<id>` sees and changes only its own
//! crew and assignment. The service never runs open: with no token file it writes one (mode
//! 0600) with a random admin token of 128 bits and says where; [`loose_permissions`] finds a
//! file that others than its owner may read or write.
//!
//! In memory only the SHA-256 digest of each token is kept, and a presented token is found by
//! comparing its digest with every stored one in constant time. Neither the tokens nor their
//! digests appear in a `Debug` output or an error.

use std::path::Path;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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

/// A token's holder: its role and its name (never the token).
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

/// The fewest characters a token may have (a `sha256:` digest entry is exempt).
pub const MIN_TOKEN_CHARS: usize = 16;

/// The prefix of an entry that gives a token's SHA-256 digest instead of the token.
const DIGEST_PREFIX: &str = "sha256:";

/// A SHA-256 digest.
type Digest = [u8; 32];

/// The tokens the service accepts: the SHA-256 digest of each and its holder.
///
/// Its `Debug` output shows the holders only, neither tokens nor digests.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<(Digest, Holder)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field(
                "holders",
                &self.entries.iter().map(|(_, h)| h).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Errors reading the token file or building the tokens. None shows a token or a digest.
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
    /// Malformed content: not TOML, or no `[tokens]` table.
    #[error("token file {path}{}: {reason}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: String,
        /// Where, when known.
        line: Option<usize>,
        /// What is wrong (the file's text is not quoted).
        reason: String,
    },
    /// A refused entry, named by its role and name and, in a file, its line.
    #[error("{}: {entry} {problem}", place(.path, .line))]
    Entry {
        /// The file, when the tokens come from one.
        path: Option<String>,
        /// The entry's line in the file, when it could be found.
        line: Option<usize>,
        /// The entry, by its role and name (`the dispatcher token "desk-3"`).
        entry: String,
        /// What is wrong with it.
        problem: EntryProblem,
    },
}

fn place(path: &Option<String>, line: &Option<usize>) -> String {
    match (path, line) {
        (Some(p), Some(l)) => format!("token file {p}, line {l}"),
        (Some(p), None) => format!("token file {p}"),
        (None, _) => "tokens".into(),
    }
}

/// What is wrong with a token entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    /// Fewer than [`MIN_TOKEN_CHARS`] characters.
    #[error(
        "is too short: a token needs at least {} characters (or give its digest as \"sha256:<64 hex digits>\")",
        MIN_TOKEN_CHARS
    )]
    TooShort,
    /// `sha256:` not followed by 64 hex digits.
    #[error("is not a digest: \"sha256:\" must be followed by 64 hex digits")]
    BadDigest,
    /// A role other than `admin`, `dispatcher` and `crew:<id>` (not quoted: a token written
    /// where the role belongs must not be shown).
    #[error("has an unknown role (admin, dispatcher or crew:<id>)")]
    UnknownRole,
    /// A blank name.
    #[error("has an empty name")]
    EmptyName,
    /// The same token (or its digest) as another entry.
    #[error("is the same token as {0}")]
    Duplicate(String),
    /// A value that is neither a role nor `{ role = "..", name = ".." }`.
    #[error("must be a role or {{ role = \"..\", name = \"..\" }}")]
    Malformed,
    /// A key other than `role` and `name` in `{ .. }`.
    #[error("has an unknown key {0:?} (role, name)")]
    UnknownKey(String),
}

/// An entry as read: its token (or `sha256:` digest), role and name.
struct RawEntry<'a> {
    key: &'a str,
    role: &'a str,
    name: Option<&'a str>,
}

/// Names an entry without its token: `the dispatcher token "desk-3"`, `the crew:A12 token`.
fn describe(role: Option<&str>, name: Option<&str>) -> String {
    let role = role.and_then(Role::parse);
    match (role, name.map(str::trim).filter(|n| !n.is_empty())) {
        (Some(r), Some(n)) => format!("the {r} token {n:?}"),
        (Some(r), None) => format!("the {r} token"),
        (None, Some(n)) => format!("the token {n:?}"),
        (None, None) => "a token".into(),
    }
}

/// The digest of an entry's key: the SHA-256 of a clear token, or the digest it gives (the
/// prefix in any case: `SHA256:...` must not become a clear token anyone with the digest
/// could present).
fn digest_of(key: &str) -> Result<Digest, EntryProblem> {
    let prefix = DIGEST_PREFIX.len();
    match key.get(..prefix) {
        Some(p) if p.eq_ignore_ascii_case(DIGEST_PREFIX) => {
            parse_hex(&key[prefix..]).ok_or(EntryProblem::BadDigest)
        }
        _ if key.chars().count() < MIN_TOKEN_CHARS => Err(EntryProblem::TooShort),
        _ => Ok(sha256(key)),
    }
}

fn sha256(token: &str) -> Digest {
    Sha256::digest(token.as_bytes()).into()
}

fn parse_hex(hex: &str) -> Option<Digest> {
    let hex = hex.as_bytes();
    if hex.len() != 64 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// The line of `key` in a token file's text, if it stands at the start of one (quoted or
/// bare); for error messages only.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let bare = l
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            bare || l.starts_with(&format!("\"{key}\"")) || l.starts_with(&format!("'{key}'"))
        })
        .map(|i| i + 1)
}

/// A TOML syntax error without the file's text: its line, and its message with whatever it
/// quotes left out (the key of a duplicate key is a token).
fn syntax_error(text: &str, e: &toml::de::Error) -> (Option<usize>, String) {
    // Quoted parts alternate with the rest; punctuation (`=`, `.`) and the table's name are
    // kept, the rest not.
    let message: String = e
        .message()
        .trim()
        .split(['`', '"'])
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => part.replace('\n', "; "),
            _ if part == "tokens" || part.chars().all(|c| c.is_ascii_punctuation()) => {
                format!("`{part}`")
            }
            _ => "`…`".to_string(),
        })
        .collect();
    let line = e
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| before.matches('\n').count() + 1);
    (line, message)
}

impl Tokens {
    /// Tokens from `(token, role)` pairs (roles as in the file; a token may be given as
    /// `sha256:<64 hex digits>`).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Tokens, TokenError> {
        Tokens::from_named(pairs.into_iter().map(|(t, r)| (t, r, None)))
    }

    /// Tokens from `(token, role, name)` (roles as in the file; no name: the role). Refuses a
    /// token of fewer than [`MIN_TOKEN_CHARS`] characters, an unknown role, an empty name and
    /// the same token twice.
    pub fn from_named<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    ) -> Result<Tokens, TokenError> {
        Tokens::build(
            entries
                .into_iter()
                .map(|(key, role, name)| RawEntry { key, role, name }),
            None,
        )
    }

    /// Tokens from entries; `file` (its path and text) places an error.
    fn build<'a>(
        entries: impl IntoIterator<Item = RawEntry<'a>>,
        file: Option<(&Path, &str)>,
    ) -> Result<Tokens, TokenError> {
        let refuse = |e: &RawEntry<'_>, problem: EntryProblem| TokenError::Entry {
            path: file.map(|(p, _)| p.display().to_string()),
            line: file.and_then(|(_, text)| line_of(text, e.key)),
            entry: describe(Some(e.role), e.name),
            problem,
        };
        let mut tokens = Tokens::default();
        for e in entries {
            let role = Role::parse(e.role).ok_or_else(|| refuse(&e, EntryProblem::UnknownRole))?;
            let name = match e.name.map(str::trim) {
                Some("") => return Err(refuse(&e, EntryProblem::EmptyName)),
                Some(n) => n.to_string(),
                None => role.to_string(),
            };
            let digest = digest_of(e.key).map_err(|p| refuse(&e, p))?;
            if let Some(other) = tokens.find(&digest) {
                let role = other.role.to_string();
                let name = Some(other.name.as_str()).filter(|n| *n != role);
                let other = describe(Some(&role), name);
                return Err(refuse(&e, EntryProblem::Duplicate(other)));
            }
            tokens.entries.push((digest, Holder { role, name }));
        }
        Ok(tokens)
    }

    /// Reads a token file.
    pub fn load(path: &Path) -> Result<Tokens, TokenError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| TokenError::Io {
            path: p.clone(),
            cause,
        })?;
        let invalid = |line, reason: String| TokenError::Invalid {
            path: p.clone(),
            line,
            reason,
        };
        let file: toml::Table = text.parse().map_err(|e| {
            let (line, reason) = syntax_error(&text, &e);
            invalid(line, reason)
        })?;
        let table = match file.get("tokens") {
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(invalid(None, "`tokens` is not a table".into())),
            None => return Err(invalid(None, "no [tokens] table".into())),
        };
        let malformed =
            |key: &str, role: Option<&str>, name: Option<&str>, problem| TokenError::Entry {
                path: Some(p.clone()),
                line: line_of(&text, key),
                entry: describe(role, name),
                problem,
            };
        let mut entries = Vec::with_capacity(table.len());
        for (key, value) in table {
            let entry = match value {
                toml::Value::String(role) => RawEntry {
                    key,
                    role,
                    name: None,
                },
                toml::Value::Table(t) => {
                    let string = |k: &str| t.get(k).and_then(toml::Value::as_str);
                    let (role, name) = (string("role"), string("name"));
                    if let Some(k) = t.keys().find(|k| !matches!(k.as_str(), "role" | "name")) {
                        return Err(malformed(
                            key,
                            role,
                            name,
                            EntryProblem::UnknownKey(k.clone()),
                        ));
                    }
                    if t.get("name").is_some() && name.is_none() {
                        return Err(malformed(key, role, None, EntryProblem::Malformed));
                    }
                    let Some(role) = role else {
                        return Err(malformed(key, None, name, EntryProblem::Malformed));
                    };
                    RawEntry { key, role, name }
                }
                _ => return Err(malformed(key, None, None, EntryProblem::Malformed)),
            };
            entries.push(entry);
        }
        Tokens::build(entries, Some((path, &text)))
    }

    /// Reads the token file, or creates it (mode 0600 on unix, atomically) with one random
    /// admin token. Returns the tokens and, when the file was created, the new admin token:
    /// the caller shows it to the operator once, and nothing else records it but the file.
    pub fn load_or_create(path: &Path) -> Result<(Tokens, Option<String>), TokenError> {
        if path.exists() {
            return Ok((Tokens::load(path)?, None));
        }
        let io = |cause| TokenError::Io {
            path: path.display().to_string(),
            cause,
        };
        let token = random_token().map_err(io)?;
        let text = format!(
            "# Tokens of the dispatch service: \"token\" = \"role\" (admin, dispatcher, crew:<id>),\n\
             # or \"token\" = {{ role = \"..\", name = \"..\" }}; a token may be given as its digest,\n\
             # \"sha256:<64 hex digits>\" (printf %s \"$TOKEN\" | sha256sum). Keep this file mode 600.\n\
             [tokens]\n\"{token}\" = \"admin\"\n"
        );
        write_private(path, text.as_bytes()).map_err(io)?;
        Ok((Tokens::load(path)?, Some(token)))
    }

    /// The role of a token.
    pub fn role(&self, token: &str) -> Option<&Role> {
        self.holder(token).map(|h| &h.role)
    }

    /// The holder of a token: its digest is compared with every stored digest in constant
    /// time, so neither the answer's timing nor the order of the entries tells how close a
    /// wrong token came.
    pub fn holder(&self, token: &str) -> Option<&Holder> {
        self.find(&sha256(token))
    }

    /// The holder of a digest, compared with all of them in constant time.
    fn find(&self, digest: &Digest) -> Option<&Holder> {
        let mut found = Choice::from(0);
        let mut at = 0u64;
        for (i, (d, _)) in self.entries.iter().enumerate() {
            let hit = d[..].ct_eq(&digest[..]);
            at.conditional_assign(&(i as u64), hit);
            found |= hit;
        }
        bool::from(found).then(|| &self.entries[at as usize].1)
    }
}

/// 128 random bits from the operating system, as 32 hex digits.
pub(crate) fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a file only its owner may read atomically: a temporary file in the same directory
/// (`tempfile` creates it exclusively, mode 0600 on unix), synced, renamed over `path`, and
/// the directory synced.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut f = tempfile::NamedTempFile::new_in(&dir)?;
    f.write_all(bytes)?;
    f.as_file().sync_all()?;
    f.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        // The rename is durable once the directory is; best effort (the file is complete
        // either way).
        let _ = d.sync_all();
    }
    Ok(())
}

/// A token file that others than its owner may read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoosePermissions {
    /// The file.
    pub path: std::path::PathBuf,
    /// Its permission bits (`0o644`).
    pub mode: u32,
}

impl std::fmt::Display for LoosePermissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.path.display();
        write!(
            f,
            "token file {p} is readable or writable by group or others (mode {:04o}); \
             run: chmod 600 {p}",
            self.mode
        )
    }
}

/// Whether the token file at `path` is readable or writable by group or others (unix; never
/// elsewhere). `dispatch serve` logs it as a warning.
pub fn loose_permissions(path: &Path) -> Result<Option<LoosePermissions>, TokenError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|cause| TokenError::Io {
            path: path.display().to_string(),
            cause,
        })?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Ok(Some(LoosePermissions {
                path: path.to_path_buf(),
                mode,
            }));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(None)
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

/// The request's token: `Authorization: Bearer …`, else `?token=`.
pub fn token_of<'r>(
    headers: &'r axum::http::HeaderMap,
    uri: &'r axum::http::Uri,
) -> Option<&'r str> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v)
    });
    header.or(query)
}

/// The holder of the request's token.
fn holder_of<'t>(parts: &Parts, tokens: &'t Tokens) -> Result<&'t Holder, ApiError> {
    let token = token_of(&parts.headers, &parts.uri).ok_or_else(ApiError::unauthorized)?;
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

    const DISPATCHER: &str = "s3cret-dispatcher-0001";
    const CREW: &str = "t4blet-a12-token-0001";
    const ADMIN: &str = "r00t-admin-token-0001";

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn roles_parse_and_scope() {
        let t = Tokens::from_pairs([
            (DISPATCHER, "dispatcher"),
            (CREW, "crew:A12"),
            (ADMIN, "admin"),
        ])
        .unwrap();
        assert_eq!(t.role(DISPATCHER), Some(&Role::Dispatcher));
        assert_eq!(t.role(CREW), Some(&Role::Crew("A12".into())));
        assert_eq!(t.role(ADMIN), Some(&Role::Admin));
        assert!(t.role("nope").is_none());
        let crew = Role::Crew("A12".into());
        assert!(crew.may_act_for("A12") && !crew.may_act_for("B1") && !crew.is_staff());
        let long = "abcdefghijklmnop";
        assert!(Tokens::from_pairs([(long, "pilot")]).is_err());
        assert!(Tokens::from_pairs([(long, "crew:")]).is_err());
        assert!(Tokens::from_pairs([(long, "admin")]).is_ok());
    }

    #[test]
    fn a_wrong_token_of_the_same_length_is_refused() {
        let t = Tokens::from_pairs([(DISPATCHER, "dispatcher")]).unwrap();
        let mut wrong = DISPATCHER.to_string();
        wrong.pop();
        wrong.push('2');
        assert_eq!(wrong.len(), DISPATCHER.len());
        assert!(t.holder(&wrong).is_none());
        assert!(t.holder(&DISPATCHER[..DISPATCHER.len() - 1]).is_none());
        assert!(t.holder(&format!("{DISPATCHER} ")).is_none());
        assert!(t.holder("").is_none());
        assert!(t.holder(DISPATCHER).is_some());
    }

    #[test]
    fn a_short_token_is_refused_by_role_and_name_never_shown() {
        let short = "r00t-admin";
        let e = Tokens::from_named([(DISPATCHER, "dispatcher", None), (short, "admin", None)])
            .unwrap_err();
        assert!(
            matches!(&e, TokenError::Entry { problem: EntryProblem::TooShort, entry, .. } if entry == "the admin token"),
            "{e:?}"
        );
        let (_dir, path) = file(&format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"s3cret-desk-3\" = {{ role = \"dispatcher\", name = \"desk-3\" }}\n"
        ));
        let e = Tokens::load(&path).unwrap_err();
        let (shown, debug) = (e.to_string(), format!("{e:?}"));
        for text in [&shown, &debug] {
            assert!(!text.contains("s3cret-desk-3"), "{text}");
            assert!(!text.contains(DISPATCHER), "{text}");
        }
        for part in [
            "tokens.toml",
            "line 3",
            "dispatcher",
            "desk-3",
            "at least 16",
        ] {
            assert!(shown.contains(part), "{part}: {shown}");
        }
        // Not even a very short one, nor one that stands where the role belongs.
        let (_dir, path) = file("[tokens]\n\"ab\" = \"crew:B7\"\n");
        let shown = Tokens::load(&path).unwrap_err().to_string();
        assert!(
            shown.contains("crew:B7") && !shown.contains("\"ab\""),
            "{shown}"
        );
        let (_dir, path) = file(&format!("[tokens]\n\"admin\" = \"{DISPATCHER}\"\n"));
        let shown = Tokens::load(&path).unwrap_err().to_string();
        assert!(
            shown.contains("line 2") && shown.contains("unknown role"),
            "{shown}"
        );
        assert!(!shown.contains(DISPATCHER), "{shown}");
    }

    #[test]
    fn toml_errors_do_not_quote_the_file() {
        // A duplicate key is a TOML error whose message would name the token.
        let (_dir, path) = file(&format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"{DISPATCHER}\" = \"admin\"\n"
        ));
        let e = Tokens::load(&path).unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains(DISPATCHER) && !format!("{e:?}").contains(DISPATCHER));
        assert!(
            shown.contains("line 3") && shown.contains("duplicate"),
            "{shown}"
        );
        let (_dir, path) = file(&format!("[tokens]\n\"{DISPATCHER}\" = \"dispatcher\n"));
        let shown = Tokens::load(&path).unwrap_err().to_string();
        assert!(
            !shown.contains(DISPATCHER) && shown.contains("line 2"),
            "{shown}"
        );
        let (_dir, path) = file("tokens = 3\n");
        assert!(Tokens::load(&path).is_err());
        let (_dir, path) = file("[other]\n");
        assert!(Tokens::load(&path)
            .unwrap_err()
            .to_string()
            .contains("no [tokens]"));
    }

    #[test]
    fn clear_and_sha256_entries_are_both_found() {
        let digest = "25852d61d3024f3e0aa93d4d53316a18d08f73f3e211f996ca81eb2e441ba79e";
        let (_dir, path) = file(&format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"sha256:{digest}\" = {{ role = \"admin\", name = \"ops\" }}\n\"sha256:{}\" = \"crew:A12\"\n",
            hex(&sha256(CREW)).to_uppercase()
        ));
        let t = Tokens::load(&path).unwrap();
        assert_eq!(t.role(DISPATCHER), Some(&Role::Dispatcher));
        assert_eq!(t.holder(ADMIN).unwrap().name, "ops");
        assert_eq!(t.role(CREW), Some(&Role::Crew("A12".into())));
        // The digest is not a token.
        assert!(t.holder(&format!("sha256:{digest}")).is_none());
        assert!(t.holder(digest).is_none());
        let t = Tokens::from_pairs([(format!("SHA256:{digest}").as_str(), "admin")]).unwrap();
        assert!(t.holder(ADMIN).is_some() && t.holder(&format!("SHA256:{digest}")).is_none());
        for bad in [
            "sha256:abc",
            &format!("sha256:{}", "g".repeat(64)),
            &format!("sha256:+{}", &digest[1..]),
            &format!("Sha256:{digest}0"),
        ] {
            let e = Tokens::from_pairs([(bad, "admin")]).unwrap_err();
            assert!(
                matches!(
                    &e,
                    TokenError::Entry {
                        problem: EntryProblem::BadDigest,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
        // The same token twice, in clear and as its digest.
        let e = Tokens::from_named([
            (ADMIN, "admin", None),
            (&format!("sha256:{digest}"), "dispatcher", Some("desk-9")),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("desk-9") && e.contains("the admin token"), "{e}");
        assert!(!e.contains(digest) && !e.contains(ADMIN), "{e}");
    }

    fn hex(d: &Digest) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn debug_shows_holders_but_no_token_nor_digest() {
        let t = Tokens::from_named([
            (DISPATCHER, "dispatcher", Some("desk-3")),
            (ADMIN, "admin", None),
        ])
        .unwrap();
        let debug = format!("{t:?} {:?}", t.holder(DISPATCHER));
        assert!(
            debug.contains("desk-3") && debug.contains("Admin"),
            "{debug}"
        );
        for secret in [
            DISPATCHER.to_string(),
            ADMIN.to_string(),
            hex(&sha256(ADMIN)),
        ] {
            assert!(!debug.contains(&secret), "{debug}");
        }
        // Nor as bytes.
        let bytes = format!("{:?}", sha256(ADMIN));
        assert!(!debug.contains(&bytes[1..20]), "{debug}");
    }

    #[test]
    fn a_missing_file_is_created_private_with_a_random_admin_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let (t, created) = Tokens::load_or_create(&path).unwrap();
        let token = created.unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t.role(&token), Some(&Role::Admin));
        assert_eq!(loose_permissions(&path).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // Nothing is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["tokens.toml"]);
        let (t2, again) = Tokens::load_or_create(&path).unwrap();
        assert!(again.is_none());
        assert_eq!(t2.role(&token), Some(&Role::Admin));
        let other = Tokens::load_or_create(&dir.path().join("b.toml"))
            .unwrap()
            .1;
        assert_ne!(other.unwrap(), token);
        std::fs::write(&path, "[tokens]\n\"abcdefghijklmnop\" = \"wizard\"\n").unwrap();
        let e = Tokens::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("unknown role") && e.contains("tokens.toml"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = file(&format!("[tokens]\n\"{ADMIN}\" = \"admin\"\n"));
        for (mode, loose) in [
            (0o644, true),
            (0o640, true),
            (0o602, true),
            (0o600, false),
            (0o400, false),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let found = loose_permissions(&path).unwrap();
            assert_eq!(found.is_some(), loose, "{mode:o}");
            if let Some(w) = found {
                assert_eq!(w.mode, mode);
                let shown = w.to_string();
                assert!(
                    shown.contains(&format!("chmod 600 {}", path.display()))
                        && shown.contains("0644") == (mode == 0o644),
                    "{shown}"
                );
            }
        }
        assert!(loose_permissions(&path.with_extension("gone")).is_err());
    }

    #[test]
    fn tokens_may_carry_a_name_and_the_plain_form_stays_valid() {
        let (_dir, path) = file(&format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"desk3-token-0001\" = {{ role = \"dispatcher\", name = \"desk-3\" }}\n'{CREW}' = \"crew:A12\"\n"
        ));
        let t = Tokens::load(&path).unwrap();
        let named = t.holder("desk3-token-0001").unwrap();
        assert_eq!(named.role, Role::Dispatcher);
        assert_eq!(
            named.actor(),
            Actor {
                name: "desk-3".into(),
                role: "dispatcher".into()
            }
        );
        assert_eq!(t.holder(DISPATCHER).unwrap().name, "dispatcher");
        assert_eq!(t.holder(CREW).unwrap().actor().role, "crew:A12");
        for bad in [
            format!("[tokens]\n\"{ADMIN}\" = {{ role = \"admin\", name = \" \" }}\n"),
            format!("[tokens]\n\"{ADMIN}\" = {{ name = \"x\" }}\n"),
            format!("[tokens]\n\"{ADMIN}\" = {{ role = \"admin\", nmae = \"x\" }}\n"),
            format!("[tokens]\n\"{ADMIN}\" = 7\n"),
        ] {
            let (_dir, path) = file(&bad);
            let e = Tokens::load(&path).unwrap_err().to_string();
            assert!(e.contains("line 2") && !e.contains(ADMIN), "{e}");
        }
    }
}
