//! The store's error type, and the redaction of passwords from database URLs in messages.

/// What went wrong in the [`Store`](super::Store). URLs in messages never show a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL's scheme is neither SQLite nor PostgreSQL.
    #[error(
        "unsupported database URL `{url}`: expected `sqlite://PATH` (e.g. sqlite://data/dispatch.db) \
         or `postgres://USER@HOST/DB`"
    )]
    UnsupportedUrl {
        /// The URL, password removed.
        url: String,
    },
    /// The URL has a supported scheme but cannot be parsed.
    #[error("invalid database URL `{url}`: {source}")]
    InvalidUrl {
        /// The URL, password removed.
        url: String,
        /// Why the driver rejected it.
        source: sqlx::Error,
    },
    /// The database cannot be opened or reached.
    #[error("cannot connect to `{url}`: {source}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The schema migrations failed.
    #[error("cannot migrate the database `{url}`: {source}")]
    Migrate {
        /// The URL, password removed.
        url: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed (the transaction, if any, is rolled back: nothing was written).
    #[error("store: {context}: {source}")]
    Query {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A failure injected by a test ([`Store::fail_next_commit`](super::Store::fail_next_commit))
    /// after the change's events were written and before it committed: the transaction is
    /// rolled back.
    #[error("store: injected failure in the middle of a commit (rolled back)")]
    Injected,
    /// This instance's leadership epoch is no longer the database's (another instance took
    /// over, or the lease expired): nothing was written.
    #[error("store: not the leader any more (epoch {epoch} was fenced off): nothing was written")]
    Fenced {
        /// The epoch the commit was made under.
        epoch: i64,
    },
    /// Leadership is for several instances on PostgreSQL; a SQLite store has one writer.
    #[error("store: leadership needs PostgreSQL (SQLite is for one instance)")]
    NoLeadership,
    /// JSON read from the database (SQLite TEXT) does not parse.
    #[error("store: {context}: stored JSON does not parse: {source}")]
    Corrupt {
        /// What the store was reading.
        context: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The event log does not rebuild the dispatch state: an event does not parse or does not
    /// apply (the log was written by another program or edited by hand).
    #[error("the event log does not replay at seq {seq}: {message}")]
    Replay {
        /// The first event that failed.
        seq: i64,
        /// Why.
        message: String,
    },
    /// In a group commit ([`Store::commit_all`](super::Store::commit_all)), change `index`
    /// has an idempotency key already stored (or repeats an earlier one's): nothing of the
    /// group was written.
    #[error("change {index} of a group repeats a stored idempotency key: nothing was written")]
    Duplicate {
        /// Which change of the group.
        index: usize,
        /// The response stored with the key.
        response: serde_json::Value,
    },
    /// A snapshot of the state could not be made (nothing was written).
    #[error("the snapshot after event {seq} could not be made: {message}")]
    Snapshot {
        /// The event it was of.
        seq: i64,
        /// Why.
        message: String,
    },
}

impl StoreError {
    /// A closure wrapping a driver error as [`StoreError::Query`] with `context`.
    pub(crate) fn query(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { context, source }
    }

    /// A closure wrapping a failed connection to `url` (shown redacted).
    pub(crate) fn connect(url: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |source| StoreError::Connect {
            url: redact_url(url),
            source,
        }
    }
}

/// `url` with the password (user-info after `:`, or a `password=` query parameter) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:s3cret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@db/x?sslmode=disable&password=s3cret"),
            "postgres://u:***@db/x?sslmode=disable&password=***"
        );
        assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact_url("sqlite://a/b.db"), "sqlite://a/b.db");
        assert_eq!(redact_url("mysql://x"), "mysql://x");
    }
}
