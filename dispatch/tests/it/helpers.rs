//! Test helpers: a real server on an ephemeral port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use router::Router;

/// Path of a shipped map.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// A prepared router for a shipped map, shared by the tests of this binary.
pub fn shared_router(name: &'static str) -> Arc<Router> {
    static HEIDELBERG: OnceLock<Arc<Router>> = OnceLock::new();
    assert_eq!(name, "heidelberg", "only Heidelberg is shared");
    HEIDELBERG
        .get_or_init(|| {
            let g = osm_data::import(
                &data("heidelberg.osm.pbf"),
                &osm_data::Profile::default(),
                &mut |_| {},
            )
            .unwrap()
            .graph;
            Arc::new(Router::new(g, router::RouterOptions::default()).unwrap())
        })
        .clone()
}

/// A running server; stops when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The tokens every test server accepts.
pub const DISPATCHER: &str = "s3cret-dispatcher";
/// Admin token.
pub const ADMIN: &str = "r00t-admin";
/// Token of crew A1's tablet.
pub const CREW_A1: &str = "t4blet-a1";

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

/// Starts the service over `router` on an ephemeral port.
pub async fn start(router: Arc<Router>) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = dispatch::state::ServiceConfig {
        tokens: dispatch::auth::Tokens::from_pairs([
            (DISPATCHER, "dispatcher"),
            (ADMIN, "admin"),
            (CREW_A1, "crew:A1"),
        ])
        .unwrap(),
        ..Default::default()
    };
    tokio::spawn(dispatch::server::serve(
        router,
        config,
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        base: format!("http://{addr}"),
        stop: Some(tx),
    }
}
