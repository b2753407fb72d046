// Shared by the console and the tablet: the token, the API client, the DOM helper and the
// road map drawn from the service's own graph. Words and formats come from ./i18n.js (its
// formats are exported here too).

import { t, errorText, langSwitch } from './i18n.js';

export {
  fmtDuration, fmtMinutes, fmtDistance, fmtTime, fmtHm, fmtDayTime,
} from './i18n.js';

export const L = window.L;

const TOKEN_KEY = 'dispatch-token';

/** The token: from `?token=` (then removed from the address bar), else the one this tab stored. */
export function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Signs out: forgets the token and shows the sign-in form. */
export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

/** An error answered by the service (`status` 0: no connection). */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** The input the service refused (`lat`, `vitals.heart_rate`), if it said. */
    this.field = field;
  }
  get offline() {
    return this.status === 0;
  }
}

/** The service's HTTP API with a bearer token. */
export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body, headers = {}) {
    return (await this.exchange(method, path, body, headers)).data;
  }

  /** The answer's JSON and its `Response` (for its headers). */
  async exchange(method, path, body, headers = {}) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'offline', 'no connection to the dispatch service');
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      throw new ApiError(
        response.status,
        data?.error ?? data?.code ?? 'http',
        data?.message ?? `${response.status} ${response.statusText}`,
        data?.field ?? null,
      );
    }
    return { data, response };
  }

  /** Every item of a paged list (`GET /api/calls`): its pages, following `X-Next-Cursor`. */
  async all(path) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const url = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path;
      const { data, response } = await this.exchange('GET', url);
      items.push(...(data ?? []));
      cursor = response.headers.get('X-Next-Cursor');
    } while (cursor);
    return items;
  }

  get(path) {
    return this.request('GET', path);
  }
  post(path, body = {}, headers = {}) {
    return this.request('POST', path, body, headers);
  }
  put(path, body) {
    return this.request('PUT', path, body);
  }
  patch(path, body) {
    return this.request('PATCH', path, body);
  }
  del(path) {
    return this.request('DELETE', path);
  }

  /** A websocket address on this service, with the token and `params`. */
  wsUrl(path, params = {}) {
    const q = new URLSearchParams({ token: this.token, ...params });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}${path}?${q}`;
  }

  /** A route between two `{lat, lon}` points over the OSRM API (`null` when none). */
  async route(from, to, steps = false) {
    const coords = `${from.lon},${from.lat};${to.lon},${to.lat}`;
    try {
      const r = await this.get(
        `/route/v1/driving/${coords}?overview=full&geometries=geojson&steps=${steps}`,
      );
      return r.routes?.[0] ?? null;
    } catch (e) {
      if (e.status === 400) return null; // NoRoute, NoSegment
      throw e;
    }
  }
}

/** A random key for `Idempotency-Key` (works outside secure contexts too). */
export function newKey() {
  if (window.crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * Builds an element: `h('button', {class: 'big', onclick: f}, 'Go')`. Strings become text
 * nodes (never HTML), `null`/`false` children and attributes (and `null` data values) are
 * skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[dk] = String(dv);
    }
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * A local time typed as `18:30` (its next occurrence from `now`) or `2025-05-01 18:30`, in
 * Unix milliseconds; `null` when it is not one.
 */
export function parseDayTime(text, now = Date.now()) {
  const t = String(text ?? '').trim();
  let m = t.match(/^(\d{1,2})[:.](\d{2})$/);
  if (m) {
    const [hh, mm] = [Number(m[1]), Number(m[2])];
    if (hh > 23 || mm > 59) return null;
    const d = new Date(now);
    d.setHours(hh, mm, 0, 0);
    if (d.getTime() <= now) d.setDate(d.getDate() + 1);
    return d.getTime();
  }
  m = t.match(/^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2})[:.](\d{2})$/);
  if (m) {
    const [y, mo, da, hh, mm] = m.slice(1).map(Number);
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || hh > 23 || mm > 59) return null;
    const d = new Date(y, mo - 1, da, hh, mm, 0, 0);
    return d.getMonth() === mo - 1 ? d.getTime() : null;
  }
  return null;
}

/** Elapsed milliseconds as a clock: `m:ss` or `h:mm:ss`. */
export function fmtClock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, '0');
  const hh = Math.floor(s / 3600);
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** Crew status colours (also in style.css as `.st-<status>`). */
/** The map symbol of a hospital (an `H`) or a station (a small house), `size` px square:
 * the same on the console and the tablet. */
export function placeIcon(kind, size = 22) {
  const el = h('div', {});
  if (kind === 'hospital') el.append('H');
  else {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 16 16');
    svg.setAttribute('width', '14');
    svg.setAttribute('height', '14');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M8 1.5 1 7.5h2V14h4v-4h2v4h4V7.5h2z');
    path.setAttribute('fill', 'currentColor');
    svg.append(path);
    el.append(svg);
  }
  return L.divIcon({ className: `place-marker ${kind}-marker`, html: el, iconSize: [size, size] });
}

export const STATUS_COLOURS = {
  available: '#15803d',
  dispatched: '#b45309',
  en_route: '#1d4ed8',
  on_scene: '#7e22ce',
  transporting: '#be185d',
  at_hospital: '#0e7490',
  out_of_service: '#4b5563',
  off_duty: '#78716c',
};

/** Call priority colours. */
export const PRIORITY_COLOURS = {
  emergency: '#dc2626',
  urgent: '#ea580c',
  non_urgent: '#0369a1',
};

/** The crew status steps a crew may take (the dispatcher core's rule). */
export function canTransition(from, to) {
  if (from === to) return false;
  if (to === 'out_of_service') return true;
  const ok = {
    available: ['dispatched', 'off_duty'],
    dispatched: ['en_route', 'available'],
    en_route: ['on_scene', 'available'],
    on_scene: ['transporting', 'available'],
    transporting: ['at_hospital'],
    at_hospital: ['available'],
    out_of_service: ['available'],
    off_duty: ['available'],
  };
  return (ok[from] ?? []).includes(to);
}

/** Shows the sign-in form in place of the page. */
export function showLogin(title, message) {
  const input = h('input', {
    id: 'login-token',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: t('login.placeholder'),
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: (e) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        location.reload();
      },
    },
    h('div', { class: 'line' }, h('h1', { class: 'grow' }, title), langSwitch()),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
    h('label', { for: 'login-token' }, t('login.token')),
    input,
    h('button', { type: 'submit', class: 'primary big' }, t('login.submit')),
  );
  fill(document.body, h('main', { class: 'login-page' }, form));
  input.focus();
}

/** A short message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = h('div', { class: `toast ${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

// Road styles by class: colour and width at zoom 15.
const ROAD_STYLE = {
  motorway: ['#d9473f', 6],
  motorway_link: ['#d9473f', 4],
  trunk: ['#e06c3c', 6],
  trunk_link: ['#e06c3c', 4],
  primary: ['#e8912f', 5.5],
  primary_link: ['#e8912f', 4],
  secondary: ['#e3bd2b', 5],
  secondary_link: ['#e3bd2b', 3.5],
  tertiary: ['#fffbe0', 4.5],
  tertiary_link: ['#fffbe0', 3.5],
  unclassified: ['#ffffff', 3.5],
  residential: ['#ffffff', 3.5],
  living_street: ['#f1f1f1', 3],
  road: ['#ffffff', 3],
  service: ['#fafafa', 2],
  pedestrian: ['#e6e0f0', 2.5],
  busway: ['#c9def5', 2.5],
};
// Drawn first to last, so major roads lie on top.
const ROAD_ORDER = Object.keys(ROAD_STYLE).reverse();

/**
 * The road map: fetches the roads in view from `/api/map/roads` (simplified for the zoom)
 * and draws them on a canvas, one multi-line per road class. Sets `data-roads` on the map's
 * element to the number of road segments drawn, keeps them in `features` and fires
 * `roadsload` (`{features, zoom}`) on the map.
 */
export class RoadLayer {
  constructor(map, api) {
    this.map = map;
    this.api = api;
    // Its own pane under the overlays, so routes and markers stay on top.
    map.createPane('roads').style.zIndex = '350';
    this.renderer = L.canvas({ padding: 0.4, pane: 'roads' });
    this.group = L.layerGroup().addTo(map);
    this.loaded = null; // {bounds, zoom}
    this.seq = 0;
    this.timer = null;
    this.count = 0;
    map.on('moveend', () => this.schedule());
    this.schedule(0);
  }

  schedule(delay = 150) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), delay);
  }

  async load() {
    const zoom = Math.round(this.map.getZoom());
    const view = this.map.getBounds();
    if (this.loaded && this.loaded.zoom === zoom && this.loaded.bounds.contains(view)) return;
    const bounds = view.pad(0.4);
    const bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map((x) => x.toFixed(5))
      .join(',');
    const seq = ++this.seq;
    let fc;
    try {
      fc = await this.api.get(`/api/map/roads?bbox=${bbox}&zoom=${zoom}`);
    } catch (e) {
      if (!e.offline) toast(t('map.roads_failed', { message: errorText(e) }), 'error');
      setTimeout(() => this.schedule(0), 5000);
      return;
    }
    if (seq !== this.seq) return; // a newer view is loading
    const byClass = new Map();
    for (const f of fc.features) {
      const c = ROAD_STYLE[f.properties.class] ? f.properties.class : 'road';
      if (!byClass.has(c)) byClass.set(c, []);
      byClass.get(c).push(f.geometry.coordinates.map(([lon, lat]) => [lat, lon]));
    }
    const scale = Math.min(1.6, Math.max(0.35, (zoom - 10) / 5));
    const fresh = L.layerGroup();
    for (const c of ROAD_ORDER) {
      const lines = byClass.get(c);
      if (!lines) continue;
      const [colour, width] = ROAD_STYLE[c];
      // A thin grey casing under light roads keeps them visible on the light background.
      if (colour.startsWith('#f')) {
        L.polyline(lines, {
          renderer: this.renderer,
          color: '#a8adb3',
          weight: width * scale + 1.5,
          interactive: false,
        }).addTo(fresh);
      }
      L.polyline(lines, {
        renderer: this.renderer,
        color: colour,
        weight: width * scale,
        interactive: false,
      }).addTo(fresh);
    }
    this.map.removeLayer(this.group);
    this.group = fresh.addTo(this.map);
    this.loaded = { bounds, zoom };
    this.count = fc.features.length;
    this.features = fc.features;
    this.map.getContainer().dataset.roads = String(this.count);
    // For layers drawn from the same roads (the console's street names).
    this.map.fire('roadsload', { features: fc.features, zoom });
  }
}

/** A Leaflet map over `el` fitted to the service's map, with its roads. */
export async function createMap(el, api) {
  const info = await api.get('/api/map');
  const map = L.map(el, { zoomSnap: 1, minZoom: 9, maxZoom: 19, zoomControl: false });
  L.control.zoom({ zoomInTitle: t('map.zoom_in'), zoomOutTitle: t('map.zoom_out') }).addTo(map);
  const bounds = L.latLngBounds(info.bounds);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(info.attribution);
  map.setMaxBounds(bounds.pad(0.5));
  map.fitBounds(info.view ? L.latLngBounds(info.view) : bounds);
  const roads = new RoadLayer(map, api);
  return { map, roads, info };
}
