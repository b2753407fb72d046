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

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($(($path:literal, $ctype:literal)),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $ctype,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)),
        }),*]
    };
}

/// Every file the pages use, by its path under `dispatch/web/`.
static ASSETS: &[Asset] = assets![
    ("console.html", "text/html; charset=utf-8"),
    ("tablet.html", "text/html; charset=utf-8"),
    ("app/style.css", "text/css; charset=utf-8"),
    ("app/common.js", "text/javascript; charset=utf-8"),
    ("app/i18n.js", "text/javascript; charset=utf-8"),
    ("app/i18n/en.js", "text/javascript; charset=utf-8"),
    ("app/i18n/ru.js", "text/javascript; charset=utf-8"),
    ("app/console.js", "text/javascript; charset=utf-8"),
    ("app/console/state.js", "text/javascript; charset=utf-8"),
    ("app/console/stream.js", "text/javascript; charset=utf-8"),
    ("app/console/map.js", "text/javascript; charset=utf-8"),
    ("app/console/routes.js", "text/javascript; charset=utf-8"),
    ("app/console/closures.js", "text/javascript; charset=utf-8"),
    ("app/console/newcall.js", "text/javascript; charset=utf-8"),
    ("app/console/calls.js", "text/javascript; charset=utf-8"),
    ("app/console/detail.js", "text/javascript; charset=utf-8"),
    ("app/console/crews.js", "text/javascript; charset=utf-8"),
    ("app/console/events.js", "text/javascript; charset=utf-8"),
    ("app/console/crewview.js", "text/javascript; charset=utf-8"),
    ("app/console/labels.js", "text/javascript; charset=utf-8"),
    ("app/console/alerts.js", "text/javascript; charset=utf-8"),
    ("app/tablet.js", "text/javascript; charset=utf-8"),
    ("app/tablet/state.js", "text/javascript; charset=utf-8"),
    ("app/tablet/outbox.js", "text/javascript; charset=utf-8"),
    ("app/tablet/route.js", "text/javascript; charset=utf-8"),
    ("app/tablet/places.js", "text/javascript; charset=utf-8"),
    ("app/tablet/handover.js", "text/javascript; charset=utf-8"),
    ("app/tablet/patient.js", "text/javascript; charset=utf-8"),
    ("app/address.js", "text/javascript; charset=utf-8"),
    ("app/sw.js", "text/javascript; charset=utf-8"),
    ("app/icon.svg", "image/svg+xml"),
    (
        "vendor/leaflet/leaflet.js",
        "text/javascript; charset=utf-8"
    ),
    ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
    ("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
    ("vendor/leaflet/images/layers.png", "image/png"),
    ("vendor/leaflet/images/layers-2x.png", "image/png"),
    ("vendor/leaflet/images/marker-icon.png", "image/png"),
    ("vendor/leaflet/images/marker-icon-2x.png", "image/png"),
    ("vendor/leaflet/images/marker-shadow.png", "image/png"),
];

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

/// The first 64 bits of a file's SHA-256, in hex: the validator of an embedded file.
fn content_tag(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// A strong validator for each embedded file, computed once.
fn etag(asset: &Asset) -> &'static str {
    static TAGS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| (a.path, format!("\"{}\"", content_tag(a.body))))
            .collect()
    })
    .get(asset.path)
    .map(String::as_str)
    .unwrap_or("\"0\"")
}

/// Serves an embedded file: `no-cache` (revalidated by its ETag, so a new binary's pages are
/// used at once) for the pages and their scripts, a week for vendored libraries.
fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let cache = if asset.path.starts_with("vendor/") {
        "public, max-age=604800"
    } else {
        "no-cache"
    };
    respond(asset.body, asset.content_type, etag(asset), cache, headers)
}

/// `body` with its type, validator and caching, or 304 when the client has it.
fn respond(
    body: &'static [u8],
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
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
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
    let mut files = vec!["/tablet".to_string()];
    files.extend(
        ASSETS
            .iter()
            .map(|a| a.path)
            .filter(|p| {
                !p.ends_with(".html")
                    && !p.starts_with("app/console")
                    && *p != "app/sw.js"
                    && !p.ends_with("LICENSE")
            })
            .map(|p| format!("/assets/{p}")),
    );
    files
}

/// The tablet's service worker: `app/sw.js` with its version (a digest of every embedded
/// file, so a new binary's worker differs and fetches the files again) and the list of files
/// to keep, and its validator.
fn worker() -> &'static (Vec<u8>, String) {
    static WORKER: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    WORKER.get_or_init(|| {
        let mut all = Vec::new();
        for a in ASSETS {
            all.extend_from_slice(a.path.as_bytes());
            all.extend_from_slice(a.body);
        }
        let version = content_tag(&all);
        let files = serde_json::to_string(&tablet_files()).unwrap_or_else(|_| "[]".into());
        let source = find("app/sw.js")
            .map(|a| String::from_utf8_lossy(a.body).into_owned())
            .unwrap_or_default()
            .replace("'__VERSION__'", &format!("'{version}'"))
            .replace("['__FILES__']", &files);
        let tag = format!("\"{}\"", content_tag(source.as_bytes()));
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
            assert!(a.content_type.starts_with(kind) && !a.body.is_empty());
        }
        // Each page's references to /assets/ resolve to embedded files.
        for page in ["console.html", "tablet.html"] {
            let html = std::str::from_utf8(find(page).unwrap().body).unwrap();
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
        for module in ASSETS
            .iter()
            .filter(|a| a.path == "app/tablet.js" || a.path.starts_with("app/tablet/"))
        {
            let source = std::str::from_utf8(module.body).unwrap();
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
