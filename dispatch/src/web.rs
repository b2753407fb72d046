//! The dispatcher console (`/`) and the crew tablet (`/tablet`) as web pages, their assets,
//! and the read-only map APIs they draw from.
//!
//! The pages are plain HTML, CSS and ES modules from `dispatch/web/`, with Leaflet vendored
//! under `dispatch/web/vendor/`; every file is embedded in the binary, so the pages work with
//! no internet access and no build step. The map is drawn from the service's own road graph:
//!
//! * `GET /api/map`: the map's name, bounds, the view where most of its roads are, and its
//!   attribution;
//! * `GET /api/map/roads?bbox=minLon,minLat,maxLon,maxLat[&zoom=Z]`: the road segments in a
//!   box as a GeoJSON `FeatureCollection` of `LineString`s (properties `class`, `name`,
//!   `way_id`), simplified to about a pixel at zoom `Z` (minor roads left out when zoomed far
//!   out);
//! * `GET /api/map/streets?q=TEXT`: street names containing `TEXT` with a point on each, to
//!   place a call by its address;
//! * `GET /api/hospitals`: the hospitals the dispatcher knows;
//! * `GET /api/me`: the caller's role (and crew), and the sequence number of the newest log
//!   entry, from which a console starts its `/ws/console?since=` stream.
//!
//! The APIs need a valid token like every other; the pages and assets do not (they hold no
//! data).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use osm_data::tags::RoadClass;
use osm_data::{Coord, RoadGraph};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Auth, Role};
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
    ("app/tablet.js", "text/javascript; charset=utf-8"),
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

/// The page and asset routes, and the map APIs.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(console_page))
        .route("/tablet", get(tablet_page))
        .route("/assets/{*path}", get(asset))
        .route("/api/me", get(me))
        .route("/api/map", get(map_info))
        .route("/api/map/roads", get(roads))
        .route("/api/map/streets", get(streets))
        .route("/api/hospitals", get(hospitals))
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
            .map(|a| (a.path, format!("\"{:016x}\"", osm_data::fnv1a64(a.body))))
            .collect()
    })
    .get(asset.path)
    .map(String::as_str)
    .unwrap_or("\"0\"")
}

/// Serves an embedded file: `no-cache` (revalidated by its ETag, so a new binary's pages are
/// used at once) for the pages and their scripts, a week for vendored libraries.
fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let tag = etag(asset);
    let cache = if asset.path.starts_with("vendor/") {
        "public, max-age=604800"
    } else {
        "no-cache"
    };
    let mut out = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
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
    if asset.content_type.starts_with("text/html") {
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

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match find(&path) {
        Some(a) => serve(a, &headers),
        None => ApiError::not_found(format!("no asset {path:?}")).into_response(),
    }
}

async fn me(State(state): State<AppState>, Auth(role): Auth) -> Json<Value> {
    let (name, crew) = match &role {
        Role::Admin => ("admin", None),
        Role::Dispatcher => ("dispatcher", None),
        Role::Crew(id) => ("crew", Some(id.clone())),
    };
    Json(json!({
        "role": name,
        "crew_id": crew,
        "staff": role.is_staff(),
        "last_seq": state.0.hub.last_seq(),
    }))
}

async fn map_info(State(state): State<AppState>, Auth(_): Auth) -> Result<Json<Value>, ApiError> {
    let g = state.0.router.graph();
    let b = g
        .bounding_box()
        .ok_or_else(|| ApiError::internal("the map has no nodes"))?;
    // Where most junctions are (the 5th to 95th percentile each way): the town rather than
    // the long roads an extract's edge cuts.
    let quantiles = |mut v: Vec<f64>, lo: f64, hi: f64| {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            v.get(((v.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
        };
        (at(0.05).unwrap_or(lo), at(0.95).unwrap_or(hi))
    };
    let (s, n) = quantiles(
        g.node_coord.iter().map(|c| c.lat()).collect(),
        b.min_lat,
        b.max_lat,
    );
    let (w, e) = quantiles(
        g.node_coord.iter().map(|c| c.lon()).collect(),
        b.min_lon,
        b.max_lon,
    );
    Ok(Json(json!({
        "name": g.meta.source_name,
        "bounds": [[b.min_lat, b.min_lon], [b.max_lat, b.max_lon]],
        "view": [[s, w], [n, e]],
        "center": [(b.min_lat + b.max_lat) / 2.0, (b.min_lon + b.max_lon) / 2.0],
        "segments": g.segment_count(),
        "attribution": "© OpenStreetMap contributors, ODbL 1.0",
    })))
}

#[derive(Deserialize)]
struct RoadsQuery {
    bbox: Option<String>,
    zoom: Option<f64>,
}

/// `minLon,minLat,maxLon,maxLat`.
fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "bbox must be minLon,minLat,maxLon,maxLat in degrees, not {s:?}"
        ))
    };
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [w, south, e, n]: [f64; 4] = parts.try_into().map_err(|_| bad())?;
    let ok = [w, south, e, n].iter().all(|v| v.is_finite())
        && (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&south)
        && (-90.0..=90.0).contains(&n)
        && w <= e
        && south <= n;
    if ok {
        Ok([w, south, e, n])
    } else {
        Err(bad())
    }
}

/// Whether a road class is drawn at `zoom`: everything from 14 on, no service roads below,
/// only through roads below 12.
fn drawn_at(class: Option<RoadClass>, zoom: f64) -> bool {
    use RoadClass::*;
    match class {
        _ if zoom >= 14.0 => true,
        Some(Service | Pedestrian | Busway) => false,
        Some(Residential | LivingStreet | Unclassified | Road) => zoom >= 12.0,
        _ => true,
    }
}

/// Douglas–Peucker on points projected to metres: the indexes kept, first and last always.
fn simplify(p: &[[f64; 2]], tolerance_m: f64) -> Vec<usize> {
    if p.len() <= 2 || tolerance_m <= 0.0 {
        return (0..p.len()).collect();
    }
    let mut keep = vec![false; p.len()];
    keep[0] = true;
    keep[p.len() - 1] = true;
    let mut stack = vec![(0, p.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (ax, ay) = (p[a][0], p[a][1]);
        let (dx, dy) = (p[b][0] - ax, p[b][1] - ay);
        let len2 = dx * dx + dy * dy;
        let mut worst = (0.0, a);
        for (i, q) in p.iter().enumerate().take(b).skip(a + 1) {
            let d2 = if len2 == 0.0 {
                (q[0] - ax).powi(2) + (q[1] - ay).powi(2)
            } else {
                let t = (((q[0] - ax) * dx + (q[1] - ay) * dy) / len2).clamp(0.0, 1.0);
                (q[0] - ax - t * dx).powi(2) + (q[1] - ay - t * dy).powi(2)
            };
            if d2 > worst.0 {
                worst = (d2, i);
            }
        }
        if worst.0 > tolerance_m * tolerance_m {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    (0..p.len()).filter(|&i| keep[i]).collect()
}

/// Degrees rounded to 1e-6 (about 0.1 m), to keep the answer small.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

async fn roads(
    State(state): State<AppState>,
    Auth(_): Auth,
    q: Result<Query<RoadsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let router = state.0.router.clone();
    let g = router.graph();
    let [w, s, e, n] = match &q.bbox {
        Some(b) => parse_bbox(b)?,
        None => {
            let b = g
                .bounding_box()
                .ok_or_else(|| ApiError::internal("the map has no nodes"))?;
            [b.min_lon, b.min_lat, b.max_lon, b.max_lat]
        }
    };
    let zoom = match q.zoom {
        Some(z) if z.is_finite() && (0.0..=24.0).contains(&z) => Some(z),
        Some(z) => {
            return Err(ApiError::bad_request(format!(
                "zoom must be between 0 and 24, not {z}"
            )))
        }
        None => None,
    };
    let body = tokio::task::spawn_blocking(move || {
        let index = router.snap_index();
        let g: &RoadGraph = router.graph();
        let lo = index.project(Coord::from_degrees(s, w));
        let hi = index.project(Coord::from_degrees(n, e));
        // About one screen pixel at this zoom (Web Mercator at the box's latitude).
        let tolerance = zoom.map_or(0.5, |z| {
            156_543.03 * ((s + n) / 2.0).to_radians().cos() / 2f64.powf(z)
        });
        let mut features = Vec::new();
        let mut points = 0usize;
        for seg in index.segments_in_box(lo, hi) {
            let class = RoadClass::from_u8(g.seg_class[seg as usize]);
            if zoom.is_some_and(|z| !drawn_at(class, z)) {
                continue;
            }
            let pts = g.segment_points(seg);
            let projected: Vec<[f64; 2]> = pts.iter().map(|&c| index.project(c)).collect();
            let kept = simplify(&projected, tolerance);
            points += kept.len();
            let coords: Vec<Value> = kept
                .iter()
                .map(|&i| json!([round6(pts[i].lon()), round6(pts[i].lat())]))
                .collect();
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "class": class.map_or("road", RoadClass::as_str),
                    "name": g.segment_name(seg),
                    "way_id": g.seg_way_id[seg as usize],
                },
            }));
        }
        json!({
            "type": "FeatureCollection",
            "bbox": [w, s, e, n],
            "points": points,
            "features": features,
        })
        .to_string()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct StreetQuery {
    q: String,
}

/// How many streets `/api/map/streets` answers at most.
const STREETS: usize = 10;

async fn streets(
    State(state): State<AppState>,
    Auth(_): Auth,
    q: Result<Query<StreetQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let needle = q.q.trim().to_lowercase();
    if needle.chars().count() < 2 {
        return Err(ApiError::bad_request(
            "q must have at least 2 characters of a street name",
        ));
    }
    let router = state.0.router.clone();
    let found = tokio::task::spawn_blocking(move || street_matches(router.graph(), &needle))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!(found)))
}

/// Street names containing `needle` (lower case), names starting with it first, each with
/// the middle of its segment nearest to the middle of all its segments.
fn street_matches(g: &RoadGraph, needle: &str) -> Vec<Value> {
    let mut names: Vec<(bool, &str, u32)> = g
        .names
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, name)| {
            let lower = name.to_lowercase();
            lower
                .contains(needle)
                .then(|| (!lower.starts_with(needle), name.as_str(), i as u32))
        })
        .collect();
    names.sort();
    names.truncate(STREETS);
    let wanted: HashMap<u32, usize> = names
        .iter()
        .enumerate()
        .map(|(k, &(_, _, id))| (id, k))
        .collect();
    let mut mids: Vec<Vec<Coord>> = vec![Vec::new(); names.len()];
    for seg in 0..g.segment_count() as u32 {
        if let Some(&k) = wanted.get(&g.seg_name[seg as usize]) {
            let pts = g.segment_points(seg);
            mids[k].push(pts[pts.len() / 2]);
        }
    }
    names
        .iter()
        .zip(mids)
        .filter(|(_, m)| !m.is_empty())
        .map(|(&(_, name, _), m)| {
            let (la, lo) = m
                .iter()
                .fold((0.0, 0.0), |(a, b), c| (a + c.lat(), b + c.lon()));
            let centre = Coord::from_degrees(la / m.len() as f64, lo / m.len() as f64);
            let best = m
                .iter()
                .copied()
                .min_by(|a, b| {
                    osm_data::haversine_m(*a, centre).total_cmp(&osm_data::haversine_m(*b, centre))
                })
                .unwrap_or(centre);
            json!({"name": name, "lat": round6(best.lat()), "lon": round6(best.lon())})
        })
        .collect()
}

async fn hospitals(State(state): State<AppState>, Auth(_): Auth) -> Json<Value> {
    let core = state.core().await;
    Json(json!(core
        .hospitals()
        .filter_map(|h| serde_json::to_value(h).ok())
        .collect::<Vec<_>>()))
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
    fn bbox_is_validated() {
        assert_eq!(
            parse_bbox("8.6,49.3,8.8,49.5").unwrap(),
            [8.6, 49.3, 8.8, 49.5]
        );
        for bad in [
            "",
            "8.6,49.3,8.8",
            "8.8,49.3,8.6,49.5",
            "a,b,c,d",
            "8,95,9,96",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn simplification_keeps_ends_and_corners_and_drops_straight_points() {
        let line = [[0.0, 0.0], [5.0, 0.1], [10.0, 0.0], [10.0, 10.0]];
        assert_eq!(simplify(&line, 1.0), vec![0, 2, 3]);
        assert_eq!(simplify(&line, 0.01), vec![0, 1, 2, 3]);
        assert_eq!(simplify(&line[..2], 100.0), vec![0, 1]);
    }

    #[test]
    fn minor_roads_are_left_out_when_zoomed_out() {
        assert!(drawn_at(Some(RoadClass::Service), 15.0));
        assert!(!drawn_at(Some(RoadClass::Service), 13.0));
        assert!(drawn_at(Some(RoadClass::Residential), 13.0));
        assert!(!drawn_at(Some(RoadClass::Residential), 11.0));
        assert!(drawn_at(Some(RoadClass::Primary), 8.0));
    }
}
