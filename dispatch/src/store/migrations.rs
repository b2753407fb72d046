//! The schema migrations of each backend, embedded in the binary (`dispatch/migrations/`)
//! and run by sqlx's migrator at [`Store::open`](super::Store::open).
//!
//! They are listed here rather than embedded by `sqlx::migrate!`, whose procedural macro
//! compiles sqlx's database drivers (SQLite's C library included) a second time for the
//! compiler: a minute and more of a first build on two cores. A test checks this list
//! against the files, so a migration added there and not here fails it. Versions,
//! descriptions and checksums (SHA-384 of the SQL) are those `sqlx::migrate!` gave, so
//! databases migrated before keep working.

use std::borrow::Cow;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::Acquire;

use super::{redact_url, StoreError};

/// `(version, description, SQL)` of each migration, in order.
type List = &'static [(i64, &'static str, &'static str)];

/// SQLite's migrations.
pub(super) const SQLITE: List = &[
    (
        1,
        "store",
        include_str!("../../migrations/sqlite/0001_store.sql"),
    ),
    (
        2,
        "append only",
        include_str!("../../migrations/sqlite/0002_append_only.sql"),
    ),
    (
        3,
        "snapshots",
        include_str!("../../migrations/sqlite/0003_snapshots.sql"),
    ),
    (
        4,
        "track compaction",
        include_str!("../../migrations/sqlite/0004_track_compaction.sql"),
    ),
];

/// PostgreSQL's migrations.
pub(super) const POSTGRES: List = &[
    (
        1,
        "store",
        include_str!("../../migrations/postgres/0001_store.sql"),
    ),
    (
        2,
        "append only",
        include_str!("../../migrations/postgres/0002_append_only.sql"),
    ),
    (
        3,
        "leadership",
        include_str!("../../migrations/postgres/0003_leadership.sql"),
    ),
    (
        4,
        "snapshots",
        include_str!("../../migrations/postgres/0004_snapshots.sql"),
    ),
    (
        5,
        "track compaction",
        include_str!("../../migrations/postgres/0005_track_compaction.sql"),
    ),
];

/// A list of migrations as sqlx's migrator takes them.
#[derive(Debug)]
struct Embedded(List);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// The migrator of a backend's list.
pub(super) async fn migrator(list: List) -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(list)).await
}

/// Runs the migrations of `list` not yet run on the database at `url` (for the error).
pub(super) async fn run<'a, A>(list: List, pool: A, url: &str) -> Result<(), StoreError>
where
    A: Acquire<'a>,
    <A::Connection as Deref>::Target: Migrate,
{
    let migrate = |source| StoreError::Migrate {
        url: redact_url(url),
        source,
    };
    migrator(list)
        .await
        .map_err(migrate)?
        .run(pool)
        .await
        .map_err(migrate)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `NNNN_words.sql` of a directory, as `sqlx::migrate!` reads them.
    fn files(dir: &str) -> Vec<(i64, String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut out: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_str().unwrap().to_string();
                let (version, words) = name.split_once('_').unwrap();
                (
                    version.parse().unwrap(),
                    words.replace('_', " "),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn listed(list: List) -> Vec<(i64, String, String)> {
        list.iter()
            .map(|&(v, d, sql)| (v, d.to_string(), sql.to_string()))
            .collect()
    }

    #[test]
    fn the_lists_are_the_migration_files() {
        assert_eq!(listed(SQLITE), files("migrations/sqlite"));
        assert_eq!(listed(POSTGRES), files("migrations/postgres"));
    }

    #[tokio::test]
    async fn checksums_are_sha384_of_the_sql() {
        use sha2::{Digest, Sha384};
        let m = migrator(POSTGRES).await.unwrap();
        for (migration, (_, _, sql)) in m.iter().zip(POSTGRES) {
            assert_eq!(
                &*migration.checksum,
                Sha384::digest(sql.as_bytes()).as_slice()
            );
        }
    }
}
