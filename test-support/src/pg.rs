//! A throw-away PostgreSQL schema per test or bench run, in the database `TEST_DATABASE_URL`
//! names (feature `postgres`).

/// A throw-away PostgreSQL schema, dropped when this guard is dropped (also when a test fails).
pub struct PgSchema {
    admin_url: String,
    name: String,
}

impl PgSchema {
    /// Creates a schema with a unique name in the database at `admin_url`.
    pub async fn create(admin_url: &str) -> PgSchema {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("dispatch_test_{}_{nanos}_{n}", std::process::id());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await
            .expect("create a test schema");
        PgSchema {
            admin_url: admin_url.to_owned(),
            name,
        }
    }

    /// Runs `sql` in this schema (as the search path).
    pub async fn execute(&self, sql: &str) {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url())
            .await
            .expect("connect to the test schema");
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The admin URL with this schema as the search path.
    pub fn url(&self) -> String {
        let sep = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime: do the async cleanup on a thread of its own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(sqlx::Error::Io)?;
            rt.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .execute(&mut conn)
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {}: {done:?}", self.name);
        }
    }
}

/// `TEST_DATABASE_URL`, or `None` with a note that the PostgreSQL tests are skipped.
pub fn test_database_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL variant of this test is skipped");
    }
    url
}
