// The crew tablet's service worker (served at /tablet-sw.js, scope /tablet): the tablet keeps
// working when the network goes, also across a reload.
//
// * The page and its files (the app shell): kept at install, answered from the cache. The
//   service fills in VERSION (a digest of every file it embeds) and FILES, so a new binary
//   gives a new worker, which fetches them all again and drops the old copy.
// * The map and crew APIs the tablet reads (GET /api/me, /api/map, /api/map/roads,
//   /api/stations, /api/hospitals, /api/crews/{id}, /api/crews/{id}/hospital): from the
//   network; its last answer is kept and given when the network fails. Roads for a view never
//   loaded give the kept roads nearest to it.
//
// The token travels in the Authorization header, which a cache key ignores: answers are kept
// in one cache per token (named by a digest of the header, never the token itself), so one
// token's answers are never given to another. Nothing else is cached: not the routes (the
// tablet keeps its own in localStorage), not the websocket, not a POST (status steps and
// handovers wait in the tablet's outbox).

const VERSION = '__VERSION__';
const FILES = ['__FILES__'];
const SHELL = `tablet-shell-${VERSION}`;
const DATA = 'tablet-data-';
/** Road answers kept per token (each a view at a zoom). */
const MAX_ROADS = 60;

const API = [
  /^\/api\/me$/,
  /^\/api\/map$/,
  /^\/api\/map\/roads$/,
  /^\/api\/stations$/,
  /^\/api\/hospitals$/,
  /^\/api\/crews\/[^/]+$/,
  /^\/api\/crews\/[^/]+\/hospital$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(FILES.map((f) => new Request(f, { cache: 'no-cache' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('tablet-shell-') && name !== SHELL) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === '/tablet') {
    event.respondWith(shell(request, '/tablet'));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(shell(request, url.pathname));
  } else if (API.some((re) => re.test(url.pathname))) {
    event.respondWith(data(request, url));
  }
});

/** A file of the app shell: the kept copy, else the network (kept for next time). */
async function shell(request, path) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(path);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok && FILES.includes(path)) await cache.put(path, response.clone());
  return response;
}

/** The cache of the token `request` carries (`null` without one). */
async function tokenCache(request) {
  const auth = request.headers.get('Authorization');
  if (!auth) return null;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(auth));
  const hex = [...new Uint8Array(digest)].slice(0, 12).map((b) => b.toString(16).padStart(2, '0')).join('');
  return caches.open(DATA + hex);
}

/** An API answer: the network's (kept), else the kept one. */
async function data(request, url) {
  const cache = await tokenCache(request);
  if (!cache) return fetch(request);
  const key = url.href;
  try {
    const response = await fetch(request);
    if (response.ok) {
      await cache.put(key, response.clone());
      if (url.pathname === '/api/map/roads') await trimRoads(cache);
    }
    return response;
  } catch (offline) {
    const kept = (await cache.match(key)) ?? (url.pathname === '/api/map/roads' ? await nearestRoads(cache, url) : undefined);
    if (kept) return kept;
    throw offline;
  }
}

/** `[minLon, minLat, maxLon, maxLat]` and zoom of a roads address. */
function view(url) {
  const bbox = (url.searchParams.get('bbox') ?? '').split(',').map(Number);
  return { bbox: bbox.length === 4 && bbox.every(Number.isFinite) ? bbox : null, zoom: Number(url.searchParams.get('zoom') ?? 0) };
}

/**
 * The kept roads that best stand in for a view never loaded: one that covers it at the same
 * zoom, else the one overlapping it most (nearest zoom on ties), else the newest.
 */
async function nearestRoads(cache, url) {
  const want = view(url);
  const keys = (await cache.keys()).filter((r) => new URL(r.url).pathname === '/api/map/roads');
  if (!keys.length) return undefined;
  if (!want.bbox) return cache.match(keys.at(-1));
  const [w0, s0, e0, n0] = want.bbox;
  let best = null;
  let bestScore = -Infinity;
  for (const k of keys) {
    const got = view(new URL(k.url));
    if (!got.bbox) continue;
    const [w, s, e, n] = got.bbox;
    const overlap = Math.max(0, Math.min(e, e0) - Math.max(w, w0)) * Math.max(0, Math.min(n, n0) - Math.max(s, s0));
    const area = (e0 - w0) * (n0 - s0) || 1;
    const covers = w <= w0 && s <= s0 && e >= e0 && n >= n0;
    const score = (covers && got.zoom === want.zoom ? 10 : 0) + overlap / area - Math.abs(got.zoom - want.zoom) * 0.01;
    if (score > bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return cache.match(best ?? keys.at(-1));
}

/** Keeps the newest MAX_ROADS road answers. */
async function trimRoads(cache) {
  const keys = (await cache.keys()).filter((r) => new URL(r.url).pathname === '/api/map/roads');
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ROADS))) await cache.delete(k);
}
