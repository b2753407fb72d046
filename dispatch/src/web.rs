//! The dispatcher console (`/`) and the crew tablet (`/tablet`) as web pages, and their
//! assets.
//!
//! The pages are plain HTML, CSS and ES modules from `dispatch/web/`, with Leaflet vendored
//! under `dispatch/web/vendor/`; every file is embedded in the binary, so the pages work with
//! no internet access and no build step. The map is drawn from the service's own road graph
//! (see [`crate::api`]'s map routes).
//!
//! The pages and assets need no token (they hold no data); the APIs they call do.
//!
//! The tablet works offline once loaded: its service worker (`/tablet-sw.js`, from
//! `web/app/sw.js`, scope `/tablet`) keeps the page and its files (a new binary gives the
//! worker a new version, which fetches them again) and the last answers of the map and crew
//! APIs, per token.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::{EmbeddedFile, RustEmbed};

use crate::error::ApiError;
use crate::state::AppState;

/// Every file under `dispatch/web/` but its README, embedded at build time (also in debug
/// builds, so that tests serve what the binary ships), each with its SHA-256.
#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "README.md"]
struct Web;

/// An embedded file, by its path under `dispatch/web/`.
struct Asset {
    path: String,
    file: EmbeddedFile,
}

fn find(path: &str) -> Option<Asset> {
    Web::get(path).map(|file| Asset {
        path: path.to_owned(),
        file,
    })
}

/// The type of an embedded file, by its extension. The files are ours and few: a table of
/// their six kinds says it with the charset, where a MIME-guessing crate would not.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}

/// The pages allow nothing from elsewhere: scripts, styles, images and sockets come from the
/// service itself.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'self'";

/// The page and asset routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(console_page))
        .route("/tablet", get(tablet_page))
        .route("/tablet-sw.js", get(tablet_worker))
        .route("/assets/{*path}", get(asset))
}

/// The first 64 bits of a SHA-256, in hex: the validator of an embedded file.
fn tag_of(sha256: &[u8]) -> String {
    let hex: String = sha256[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Serves an embedded file: `no-cache` (revalidated by its ETag, so a new binary's pages are
/// used at once) for the pages and their scripts, a week for vendored libraries.
fn serve(asset: Asset, headers: &HeaderMap) -> Response {
    let cache = if asset.path.starts_with("vendor/") {
        "public, max-age=604800"
    } else {
        "no-cache"
    };
    let tag = tag_of(&asset.file.metadata.sha256_hash());
    let content_type = content_type(&asset.path);
    respond(asset.file.data, content_type, &tag, cache, headers)
}

/// `body` with its type, validator and caching, or 304 when the client has it.
fn respond(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    tag: &str,
    cache: &'static str,
    headers: &HeaderMap,
) -> Response {
    let mut out = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
    };
    let h = out.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        // The address may hold `?token=`: never send it on.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    out
}

fn page(path: &str, headers: &HeaderMap) -> Response {
    match find(path) {
        Some(a) => serve(a, headers),
        None => ApiError::internal(format!("page {path} is not embedded")).into_response(),
    }
}

async fn console_page(headers: HeaderMap) -> Response {
    page("console.html", &headers)
}

async fn tablet_page(headers: HeaderMap) -> Response {
    page("tablet.html", &headers)
}

/// The files the tablet needs offline, as the service worker fetches them: the page (at
/// `/tablet`) and every embedded file but the console's and the worker itself.
fn tablet_files() -> Vec<String> {
    let mut assets: Vec<String> = Web::iter()
        .filter(|p| {
            !p.ends_with(".html")
                && !p.starts_with("app/console")
                && p.as_ref() != "app/sw.js"
                && !p.ends_with("LICENSE")
        })
        .map(|p| format!("/assets/{p}"))
        .collect();
    assets.sort();
    let mut files = vec!["/tablet".to_string()];
    files.extend(assets);
    files
}

/// The tablet's service worker: `app/sw.js` with its version (a digest of every embedded
/// file, so a new binary's worker differs and fetches the files again) and the list of files
/// to keep, and its validator.
fn worker() -> &'static (Vec<u8>, String) {
    static WORKER: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    WORKER.get_or_init(|| {
        // Each file's path and digest, in a fixed order.
        let mut all = Vec::new();
        let mut paths: Vec<_> = Web::iter().collect();
        paths.sort();
        for path in paths {
            all.extend_from_slice(path.as_bytes());
            if let Some(file) = Web::get(&path) {
                all.extend_from_slice(&file.metadata.sha256_hash());
            }
        }
        let version = tag_of(&sha256(&all));
        let version = version.trim_matches('"');
        let files = serde_json::to_string(&tablet_files()).unwrap_or_else(|_| "[]".into());
        let source = find("app/sw.js")
            .map(|a| String::from_utf8_lossy(&a.file.data).into_owned())
            .unwrap_or_default()
            .replace("'__VERSION__'", &format!("'{version}'"))
            .replace("['__FILES__']", &files);
        let tag = tag_of(&sha256(source.as_bytes()));
        (source.into_bytes(), tag)
    })
}

/// `GET /tablet-sw.js`: at the root, so that its scope may be `/tablet`; never cached by the
/// browser's HTTP cache (browsers check a worker for updates on each visit).
async fn tablet_worker(headers: HeaderMap) -> Response {
    let (body, tag) = worker();
    respond(
        body.as_slice(),
        "text/javascript; charset=utf-8",
        tag,
        "no-cache",
        &headers,
    )
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match find(&path) {
        Some(a) => serve(a, &headers),
        None => ApiError::not_found(format!("no asset {path:?}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_script_and_style_is_embedded() {
        for (path, kind) in [
            ("console.html", "text/html"),
            ("tablet.html", "text/html"),
            ("app/console.js", "text/javascript"),
            ("vendor/leaflet/leaflet.css", "text/css"),
        ] {
            let a = find(path).unwrap_or_else(|| panic!("{path} is not embedded"));
            assert!(content_type(&a.path).starts_with(kind) && !a.file.data.is_empty());
        }
        // Each page's references to /assets/ resolve to embedded files.
        for page in ["console.html", "tablet.html"] {
            let html = find(page).unwrap().file.data;
            let html = std::str::from_utf8(&html).unwrap();
            for part in html.split("/assets/").skip(1) {
                let path: String = part.chars().take_while(|c| !"\"'?#".contains(*c)).collect();
                assert!(find(&path).is_some(), "{page} refers to {path}");
            }
        }
    }

    #[test]
    fn the_tablet_worker_knows_its_version_and_the_tablets_files() {
        let (body, _) = worker();
        let js = std::str::from_utf8(body).unwrap();
        assert!(!js.contains("__VERSION__") && !js.contains("__FILES__"));
        let files = tablet_files();
        for f in [
            "/tablet",
            "/assets/app/tablet.js",
            "/assets/app/tablet/state.js",
            "/assets/app/address.js",
            "/assets/app/i18n/ru.js",
            "/assets/vendor/leaflet/leaflet.js",
        ] {
            assert!(files.iter().any(|x| x == f), "{f} in {files:?}");
            assert!(js.contains(&format!("\"{f}\"")), "the worker keeps {f}");
        }
        assert!(!files.iter().any(|f| f.contains("console")), "{files:?}");
        // The tablet's own modules are all embedded (a module imported by another is not
        // seen by the page test above): the entry's imports, and those of its parts in
        // app/tablet/.
        for module in Web::iter()
            .filter(|p| p == "app/tablet.js" || p.starts_with("app/tablet/"))
            .filter_map(|p| find(&p))
        {
            let source = std::str::from_utf8(&module.file.data).unwrap();
            let dir = &module.path[..module.path.rfind('/').unwrap()];
            for part in source.split(" from '").skip(1) {
                let name: String = part.chars().take_while(|c| *c != '\'').collect();
                let path = match (name.strip_prefix("./"), name.strip_prefix("../")) {
                    (Some(rest), _) => format!("{dir}/{rest}"),
                    (_, Some(rest)) => format!("{}/{rest}", &dir[..dir.rfind('/').unwrap()]),
                    _ => panic!("{} imports {name}", module.path),
                };
                assert!(find(&path).is_some(), "{} imports {name}", module.path);
            }
        }
    }
}
