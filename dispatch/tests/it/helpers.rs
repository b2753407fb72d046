//! Test helpers: a real server on an ephemeral port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use router::Router;
use serde_json::Value;
use test_support::pg::{test_database_url, PgSchema};
use tokio_tungstenite::tungstenite::Message;

/// Path of a file in `data/` (a shipped map: `heidelberg.osm.pbf`).
pub fn data(name: &str) -> PathBuf {
    test_support::data_dir().join(name)
}

/// A prepared router for a shipped map (`heidelberg` or `moscow-fragment`), shared by the
/// tests of this binary.
pub fn shared_router(name: &'static str) -> Arc<Router> {
    static HEIDELBERG: OnceLock<Arc<Router>> = OnceLock::new();
    static MOSCOW: OnceLock<Arc<Router>> = OnceLock::new();
    let cell = match name {
        "heidelberg" => &HEIDELBERG,
        "moscow-fragment" => &MOSCOW,
        _ => panic!("only heidelberg and moscow-fragment are shared"),
    };
    cell.get_or_init(|| {
        let g = osm_data::import(
            &data(&format!("{name}.osm.pbf")),
            &osm_data::Profile::default(),
            &mut |_| {},
        )
        .unwrap()
        .graph;
        Arc::new(Router::new(g, router::RouterOptions::default()).unwrap())
    })
    .clone()
}

/// A Heidelberg router of its own, for a test that changes its closures (they must not leak
/// into the other tests). The order is computed once and shared.
pub fn own_router() -> Arc<Router> {
    static ORDER: OnceLock<Vec<u32>> = OnceLock::new();
    let g = osm_data::import(
        &data("heidelberg.osm.pbf"),
        &osm_data::Profile::default(),
        &mut |_| {},
    )
    .unwrap()
    .graph;
    let order = ORDER.get_or_init(|| router::engine::compute_order(&g));
    Arc::new(Router::with_order(g, order, Default::default()).unwrap())
}

/// A running server; stops when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The service's state (for tests that inject failures).
    pub state: dispatch::state::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    db: Option<TestDb>,
}

impl TestServer {
    /// Its database.
    pub fn db(&self) -> &TestDb {
        self.db
            .as_ref()
            .expect("the database lives as long as the server")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        // The database goes after the server was told to stop.
        self.db.take();
    }
}

/// The tokens every test server accepts (at least 16 characters, as the service demands).
pub const DISPATCHER: &str = "s3cret-dispatcher-0001";
/// Admin token.
pub const ADMIN: &str = "r00t-admin-token-0001";
/// Token of crew A1's tablet.
pub const CREW_A1: &str = "t4blet-a1-token-0001";
/// A dispatcher's token with a name, `desk-3`.
pub const DESK3: &str = "s3cret-desk-3-token-0001";

/// An HTTP client that sends the dispatcher's token.
pub fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A throw-away database for one test: a SQLite file in a temporary directory, or a
/// PostgreSQL schema in the database named by `TEST_DATABASE_URL`; removed when dropped.
pub enum TestDb {
    /// A SQLite file.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL schema.
    Postgres(PgSchema),
}

impl TestDb {
    /// A new SQLite file.
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A new PostgreSQL schema, `None` (with a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<TestDb> {
        Some(TestDb::Postgres(
            PgSchema::create(&test_database_url()?).await,
        ))
    }

    /// Its URL for `--db` or `Store::open`.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("dispatch.db").display()),
            TestDb::Postgres(schema) => schema.url(),
        }
    }
}

/// Starts the service over `router` on an ephemeral port with a fresh SQLite store.
pub async fn start(router: Arc<Router>) -> TestServer {
    start_on(router, TestDb::sqlite()).await
}

/// Starts the service over `router` on an ephemeral port with its state in `db`.
pub async fn start_on(router: Arc<Router>, db: TestDb) -> TestServer {
    start_with(router, db, |_| {}).await
}

/// Like [`start_on`], with settings changed by `configure`.
pub async fn start_with(
    router: Arc<Router>,
    db: TestDb,
    configure: impl FnOnce(&mut dispatch::state::ServiceConfig),
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut config = dispatch::state::ServiceConfig {
        tokens: test_tokens(),
        ..Default::default()
    };
    configure(&mut config);
    let store = dispatch::store::Store::open(&db.url()).await.unwrap();
    let state = dispatch::state::AppState::open(router, config, store)
        .await
        .unwrap();
    tokio::spawn(dispatch::server::serve(
        state.clone(),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        base: format!("http://{addr}"),
        state,
        stop: Some(tx),
        db: Some(db),
    }
}

/// The tokens of the test servers.
pub fn test_tokens() -> dispatch::auth::Tokens {
    dispatch::auth::Tokens::from_named([
        (DISPATCHER, "dispatcher", None),
        (ADMIN, "admin", None),
        (CREW_A1, "crew:A1", None),
        (DESK3, "dispatcher", Some("desk-3")),
    ])
    .unwrap()
}

/// Runs a scenario `async fn NAME(db: TestDb)` on both stores, as the tests `NAME::sqlite`
/// and `NAME::postgres` (which passes, with a note, when `TEST_DATABASE_URL` is unset).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::TestDb::sqlite()).await
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::helpers::TestDb::postgres().await {
                    super::$name(db).await
                }
            }
        }
    )*};
}

/// GETs `url`, which must answer 200, and returns its JSON.
pub async fn get(c: &reqwest::Client, url: String) -> Value {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

/// POSTs JSON; the status and the JSON answer (`null` when there is none).
pub async fn post(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A websocket client.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Steps crew `id` through `statuses` with `c`, as its tablet does; each must answer 200.
pub async fn crew_steps(c: &reqwest::Client, base: &str, id: &str, statuses: &[&str]) {
    for status in statuses {
        let (code, v) = post(
            c,
            format!("{base}/api/crews/{id}/status"),
            serde_json::json!({"status": status}),
        )
        .await;
        assert_eq!(code, 200, "{status}: {v}");
    }
}

/// Opens a websocket at `path` (with its query) on the server at `base`.
pub async fn ws(base: &str, path: &str) -> Ws {
    let url = format!("{}{path}", base.replace("http://", "ws://"));
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next JSON text message, within 10 s.
pub async fn next_json(socket: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// Validates a FHIR R4 document with the `fhir.resources` Python package (R4B models) when it
/// is installed (CI installs it); says so when it is not.
pub fn validate_fhir(bundle: &Value) {
    let script = "import json,sys\nfrom fhir.resources.R4B.bundle import Bundle\nBundle.model_validate(json.load(sys.stdin))\nprint('valid')";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        println!("python3 not found: FHIR schema validation skipped");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bundle.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'fhir") {
        println!("fhir.resources not installed: FHIR schema validation skipped");
        return;
    }
    assert!(
        out.status.success(),
        "the Bundle is not valid FHIR R4:\n{stderr}"
    );
}
