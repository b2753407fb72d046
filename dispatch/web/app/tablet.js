// The crew tablet: the current assignment with its route, distance, ETA and turns; the
// status steps; on scene and transporting, the hospital the service suggests for what the
// patient needs (or another the crew picks) with its route; free, the route back to the
// crew's station; the handover form; a notice when the crew is taken off its call (diverted,
// broken down, cancelled...). Status changes and handovers go through an outbox kept
// in localStorage and sent in order, so they survive a dropped connection (and a reload).
// Offline, the service worker (app/sw.js) gives the page and the last map and crew answers,
// and the assignment and routes come from localStorage.

import {
  L, Api, takeToken, signOut, showLogin, toast, h, fill, createMap,
  fmtDuration, fmtMinutes, fmtDistance, canTransition, STATUS_COLOURS, PRIORITY_COLOURS,
  placeIcon,
} from './common.js';
import {
  t, has, errorText, closeText, startPage, crewStatusName, priorityName, roleName,
} from './i18n.js';
import { formatAddress } from './address.js';

const $ = (id) => document.getElementById(id);

const S = {
  api: null,
  me: null,
  crewId: null,
  crew: null, // as the service last told
  assignment: null, // the last `assignment`/`reroute` message
  released: null, // {call_id, at}: the call the crew was last taken off, until acknowledged
  outbox: [], // [{kind: 'status', status} | {kind: 'handover', call_id, body}], oldest first
  flushing: false,
  retryTimer: null,
  online: true,
  ws: null,
  wsLive: false,
  lastSeq: null,
  backoff: 500,
  handoverDone: new Set(),
  map: null,
  roads: null,
  stations: [], // GET /api/stations
  hospitals: [], // GET /api/hospitals
  // The hospital for the current call: what the patient needs, the service's suggestion
  // ({id, eta_s}; null: none reachable; absent: not known yet), the crew's own pick (a
  // hospital id, or null for the suggestion).
  choice: null, // {call_id, need, suggested, picked}
  // Routes besides the call's, as drawn: {to, eta_s, distance_m, coords: [[lon, lat]...]}.
  routes: { hospital: null, home: null },
  sideKey: { hospital: null, home: null }, // what each was last asked for
  focusKey: null, // the route the map was last fitted to
  offlineReady: false,
};

const layers = { crew: null, call: null, route: null, hospital: null, home: null };
/** The hospital's and the station's symbols at the end of their routes. */
const marks = { hospital: null, home: null };

/** What a patient may need of a hospital (`GET /api/crews/{id}/hospital?capability=`). */
const NEEDS = ['general', 'pci', 'stroke', 'trauma', 'paediatric'];
/** The statuses in which the crew takes the patient to a hospital. */
const TO_HOSPITAL = new Set(['on_scene', 'transporting']);
/** Each side route's colour and dashes. */
const SIDE_STYLE = {
  hospital: { color: '#be185d', weight: 8, opacity: 0.85, className: 'route-hospital' },
  home: { color: '#15803d', weight: 7, opacity: 0.85, dashArray: '12 10', className: 'route-home' },
};

/** The status steps a crew takes, in order (their words: `step.<status>`). */
const STEPS = ['en_route', 'on_scene', 'transporting', 'at_hospital', 'available', 'out_of_service'];
const NEXT = {
  dispatched: 'en_route',
  en_route: 'on_scene',
  on_scene: 'transporting',
  transporting: 'at_hospital',
  at_hospital: 'available',
  out_of_service: 'available',
  off_duty: 'available',
};
/** Statuses with no call. */
const FREE = new Set(['available', 'out_of_service', 'off_duty']);

const key = (what) => `dispatch-tablet:${S.crewId}:${what}`;

function save() {
  localStorage.setItem(key('outbox'), JSON.stringify(S.outbox));
  localStorage.setItem(key('handovers'), JSON.stringify([...S.handoverDone]));
  if (S.assignment) localStorage.setItem(key('assignment'), JSON.stringify(S.assignment));
  else localStorage.removeItem(key('assignment'));
  if (S.crew) localStorage.setItem(key('crew'), JSON.stringify(S.crew));
  if (S.released) localStorage.setItem(key('released'), JSON.stringify(S.released));
  else localStorage.removeItem(key('released'));
  localStorage.setItem(key('routes'), JSON.stringify(S.routes));
  if (S.choice) localStorage.setItem(key('choice'), JSON.stringify(S.choice));
  else localStorage.removeItem(key('choice'));
  localStorage.setItem(key('stations'), JSON.stringify(S.stations));
  localStorage.setItem(key('hospitals'), JSON.stringify(S.hospitals));
}

function restore() {
  const read = (what, fallback) => {
    try {
      return JSON.parse(localStorage.getItem(key(what))) ?? fallback;
    } catch {
      return fallback;
    }
  };
  S.outbox = read('outbox', []);
  S.handoverDone = new Set(read('handovers', []));
  S.assignment = read('assignment', null);
  S.crew = read('crew', null);
  S.released = read('released', null);
  S.routes = { hospital: null, home: null, ...read('routes', {}) };
  S.choice = read('choice', null);
  if (S.choice) delete S.choice.pending;
  S.stations = read('stations', []);
  S.hospitals = read('hospitals', []);
}

/** The status the crew has set: the last one waiting to be sent, else the service's. */
function shownStatus() {
  for (let i = S.outbox.length - 1; i >= 0; i -= 1) {
    if (S.outbox[i].kind === 'status') return S.outbox[i].status;
  }
  return S.crew?.status ?? null;
}

function setConn() {
  const el = $('conn');
  const kind = S.wsLive && S.online ? 'live' : 'offline';
  el.className = `conn ${kind}`;
  el.textContent = t(kind === 'live' ? 'conn.online' : 'conn.offline');
  document.body.dataset.conn = kind;
}

// ---------------------------------------------------------------- start

async function main() {
  startPage();
  $('sign-out').addEventListener('click', async () => {
    await forgetKept();
    signOut();
  });
  const token = takeToken();
  if (!token) return showLogin(t('app.tablet'));
  S.api = new Api(token);
  try {
    S.me = await S.api.get('/api/me');
  } catch (e) {
    if (e.status === 401) return showLogin(t('app.tablet'), t('login.refused'));
    return showLogin(t('app.tablet'), t('login.unreachable', { message: errorText(e) }));
  }
  S.crewId = S.me.crew_id ?? new URL(location.href).searchParams.get('crew');
  if (!S.crewId) return pickCrew();
  $('title').textContent = t('tablet.title', { id: S.crewId });
  $('who').textContent = S.me.crew_id ? t('tablet.who.crew') : t('tablet.who.staff', { role: roleName(S.me.role), id: S.crewId });
  restore();
  const { map, roads } = await createMap($('map'), S.api);
  S.map = map;
  S.roads = roads;
  $('need').addEventListener('change', () => {
    if (!S.choice) return;
    S.choice = { call_id: S.choice.call_id, need: $('need').value, picked: null };
    save();
    suggestHospital();
  });
  $('hospital-pick').addEventListener('change', () => {
    if (!S.choice) return;
    const v = $('hospital-pick').value;
    S.choice = { ...S.choice, picked: v === S.choice.suggested?.id ? null : v };
    save();
    render();
  });
  $('handover-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitHandover();
  });
  $('refresh-route').addEventListener('click', () => refreshRoute(true));
  $('released-ok').addEventListener('click', () => {
    S.released = null;
    save();
    render();
  });
  const kept = S.crew;
  try {
    S.crew = await S.api.get(`/api/crews/${encodeURIComponent(S.crewId)}`);
  } catch (e) {
    if (e.status === 404 || e.status === 403) {
      fill(document.querySelector('main'), h('p', { class: 'banner' }, errorText(e)));
      return;
    }
  }
  // Offline, the worker's copy may be older than what this tablet last saw.
  if (kept && !navigator.onLine) S.crew = kept;
  loadHospitals();
  loadStations();
  render();
  if (S.assignment) drawAssignment(true);
  connect();
  window.addEventListener('online', () => flush());
  flush();
  shareGps();
  keepAwake();
  document.body.dataset.ready = 'true';
  registerWorker();
}

async function pickCrew() {
  const crews = await S.api.get('/api/crews').catch(() => []);
  fill(
    document.querySelector('main'),
    h(
      'section',
      { class: 'card', style: 'margin:16px' },
      h('h2', {}, t('tablet.pick_crew')),
      crews.map((c) => h('a', { class: 'big', href: `/tablet?crew=${encodeURIComponent(c.id)}` }, h('button', { class: 'big', type: 'button' }, c.id))),
    ),
  );
}

async function loadHospitals() {
  try {
    S.hospitals = await S.api.get('/api/hospitals');
    save();
  } catch {
    // Free text still works; the kept list, if any, stays.
  }
  fill($('hospital-list'), S.hospitals.map((x) => h('option', { value: x.name })));
  render();
}

async function loadStations() {
  try {
    S.stations = await S.api.get('/api/stations');
    save();
  } catch {
    // The kept list, if any, stays.
  }
  render();
}

// ---------------------------------------------------------------- offline

/**
 * Registers the service worker that keeps the page and the last answers for offline use
 * (browsers allow one on https and on localhost only). On the first visit, once it controls
 * the page, the answers the page read before are read again through it, so they are kept.
 */
async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('/tablet-sw.js', { scope: '/tablet' });
  } catch (e) {
    console.warn('the tablet cannot keep itself for offline use:', e);
    return;
  }
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => {
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
    });
    const id = encodeURIComponent(S.crewId);
    await Promise.allSettled(
      ['/api/me', '/api/map', `/api/crews/${id}`, '/api/stations', '/api/hospitals'].map((p) => S.api.get(p)),
    );
    if (S.roads) {
      S.roads.loaded = null;
      await S.roads.load();
    }
  }
  S.offlineReady = true;
}

/** Forgets the answers kept for offline use (at sign-out). */
async function forgetKept() {
  try {
    for (const name of await caches.keys()) {
      if (name.startsWith('tablet-data-')) await caches.delete(name);
    }
  } catch {
    // No caches here.
  }
}

// ---------------------------------------------------------------- the crew's stream

function connect() {
  if (S.ws) return;
  const params = S.lastSeq === null ? {} : { since: S.lastSeq };
  const ws = new WebSocket(S.api.wsUrl(`/ws/crews/${encodeURIComponent(S.crewId)}`, params));
  S.ws = ws;
  ws.onopen = () => {
    S.wsLive = true;
    S.backoff = 500;
    setConn();
    // Back online: send what waited, and read the crew again.
    flush();
    refreshCrew();
  };
  ws.onmessage = (m) => {
    try {
      onMessage(JSON.parse(m.data));
    } catch (e) {
      console.error(e);
    }
  };
  ws.onclose = (ev) => {
    if (S.ws !== ws) return;
    const why = closeText(ev.code);
    if (why) toast(why, ev.code === 1013 ? 'info' : 'error');
    S.ws = null;
    S.wsLive = false;
    setConn();
    setTimeout(connect, S.backoff);
    S.backoff = Math.min(S.backoff * 2, 5000);
  };
}

function onMessage(m) {
  if (typeof m.seq === 'number') S.lastSeq = Math.max(S.lastSeq ?? 0, m.seq);
  switch (m.type) {
    case 'assignment':
    case 'reroute': {
      const isNew = S.assignment?.call?.id !== m.call?.id;
      S.assignment = m;
      save();
      drawAssignment(isNew);
      if (isNew) toast(t('tablet.new_call', { id: m.call.id, what: m.call.complaint || priorityName(m.call.priority) }), 'ok');
      else if (m.type === 'reroute') toast(t('tablet.route_changed'), 'info');
      refreshCrew();
      break;
    }
    case 'crew_status':
      if (m.crew_id === S.crewId) {
        if (S.crew) S.crew.status = m.to;
        if (FREE.has(m.to)) clearAssignment();
        refreshCrew();
      }
      break;
    case 'crew_released':
      if (m.crew_id === S.crewId) {
        // Taken off the call: its route goes at once (a diversion's new assignment follows).
        if (S.assignment?.call?.id === m.call_id) clearAssignment();
        S.released = { call_id: m.call_id, at: m.at ?? Date.now() };
        save();
        toast(t('tablet.taken_off_toast', { id: m.call_id }), 'error');
      }
      refreshCrew();
      break;
    case 'crew_moved':
      if (m.crew_id === S.crewId && S.crew) {
        S.crew.position = { lat: m.lat, lon: m.lon };
        drawCrew();
        sideRoutes();
      }
      break;
    case 'error':
      toast(errorText({ code: m.error ?? m.code, field: m.field, message: m.message ?? t('conn.error') }), 'error');
      break;
    default:
      break;
  }
  render();
}

async function refreshCrew() {
  try {
    S.crew = await S.api.get(`/api/crews/${encodeURIComponent(S.crewId)}`);
    S.online = navigator.onLine;
    if (S.crew.call === null && S.outbox.length === 0) clearAssignment();
    save();
  } catch (e) {
    if (e.offline) S.online = false;
  }
  setConn();
  render();
}

// ---------------------------------------------------------------- outbox

function enqueue(item) {
  // Acting again acknowledges the notice of a call taken off the crew.
  if (item.kind === 'status') S.released = null;
  S.outbox.push(item);
  save();
  render();
  flush();
}

/** Sends what waits, oldest first; stops at the first that cannot be sent. */
async function flush() {
  if (S.flushing) return;
  S.flushing = true;
  clearTimeout(S.retryTimer);
  try {
    while (S.outbox.length) {
      const item = S.outbox[0];
      try {
        if (item.kind === 'status') {
          S.crew = await S.api.post(`/api/crews/${encodeURIComponent(S.crewId)}/status`, { status: item.status });
        } else {
          await S.api.post(`/api/calls/${item.call_id}/handover`, item.body);
          S.handoverDone.add(item.call_id);
          toast(t('th.recorded'), 'ok');
        }
        S.online = true;
      } catch (e) {
        if (e.offline || e.status >= 500) {
          S.online = !e.offline;
          S.retryTimer = setTimeout(flush, 2000);
          return;
        }
        if (!(await refused(item, e))) {
          S.retryTimer = setTimeout(flush, 2000);
          return;
        }
      }
      S.outbox.shift();
      save();
      render();
    }
    if (FREE.has(shownStatus())) clearAssignment();
  } finally {
    S.flushing = false;
    setConn();
    render();
  }
}

/**
 * The service refused `item`. A status it already has (the answer to an earlier try was
 * lost) counts as sent; anything else is reported. `false`: unknown yet, try again later.
 */
async function refused(item, e) {
  if (item.kind === 'status') {
    let crew;
    try {
      crew = await S.api.get(`/api/crews/${encodeURIComponent(S.crewId)}`);
    } catch (again) {
      if (again.offline) return false;
      crew = null;
    }
    if (crew) S.crew = crew;
    if (crew?.status !== item.status) {
      const status = has(`step.${item.status}`) ? t(`step.${item.status}`) : crewStatusName(item.status);
      toast(t('tablet.not_accepted', { status, message: errorText(e, { conflict: 'status' }) }), 'error');
    }
    return true;
  }
  $('handover-error').textContent = errorText(e, { conflict: 'handover' });
  $('handover-error').hidden = false;
  S.handoverDone.delete(item.call_id);
  return true;
}

// ---------------------------------------------------------------- assignment and route

function clearAssignment() {
  if (!S.assignment) return;
  S.assignment = null;
  S.choice = null;
  S.routes.hospital = null;
  S.sideKey.hospital = null;
  save();
  for (const k of ['call', 'route', 'hospital']) {
    layers[k]?.remove();
    layers[k] = null;
  }
  marks.hospital?.remove();
  marks.hospital = null;
  fill($('turns'));
}

function drawCrew() {
  if (!S.crew || !S.map) return;
  const ll = [S.crew.position.lat, S.crew.position.lon];
  if (!layers.crew) {
    layers.crew = L.circleMarker(ll, { radius: 12, weight: 4, color: '#ffffff', fillOpacity: 1, className: 'crew' })
      .bindTooltip(document.createTextNode(S.crewId), { permanent: true, direction: 'right', offset: [12, 0], className: 'crew-label' })
      .addTo(S.map);
  }
  layers.crew.setLatLng(ll);
  layers.crew.setStyle({ fillColor: STATUS_COLOURS[shownStatus()] ?? '#4b5563' });
}

function drawAssignment(fit) {
  const a = S.assignment;
  if (!a || !S.map) return;
  const call = a.call;
  layers.call?.remove();
  layers.call = L.marker([call.lat, call.lon], {
    icon: L.divIcon({ className: `call-marker prio-${call.priority}`, html: String(call.id), iconSize: [30, 30] }),
    keyboard: false,
  }).addTo(S.map);
  setRoute(a.route?.geometry?.coordinates ?? [], fit);
  refreshRoute(false);
}

function setRoute(coords, fit) {
  const lls = coords.map(([lon, lat]) => [lat, lon]);
  if (!layers.route) {
    layers.route = L.polyline([], { color: '#1d4ed8', weight: 8, opacity: 0.85, className: 'route' }).addTo(S.map);
  }
  layers.route.setLatLngs(lls);
  if (fit) S.focusKey = null;
  focusMap();
}

/**
 * Fits the map to the route that matters now (to the call while driving to it, to the
 * hospital on scene and transporting, back to the station when free) when it goes somewhere
 * new; the crew's own panning stays until then.
 */
function focusMap() {
  if (!S.map) return;
  const status = shownStatus();
  let kind = null;
  if (S.assignment && ['dispatched', 'en_route'].includes(status)) kind = 'route';
  else if (S.assignment && TO_HOSPITAL.has(status)) kind = 'hospital';
  else if (status === 'available') kind = 'home';
  const l = kind ? layers[kind] : null;
  const lls = l?.getLatLngs() ?? [];
  if (lls.length < 2 || l.options.opacity === 0) return;
  const end = lls.at(-1);
  const want = `${kind}:${end.lat.toFixed(4)},${end.lng.toFixed(4)}`;
  if (S.focusKey === want) return;
  S.focusKey = want;
  S.map.fitBounds(L.latLngBounds(lls).pad(0.15));
}

/** Reads the route again from where the crew is (turns; with `replace`, the line too). */
async function refreshRoute(replace) {
  const a = S.assignment;
  if (!a || !S.crew) return;
  let r;
  try {
    r = await S.api.route(S.crew.position, { lat: a.call.lat, lon: a.call.lon }, true);
  } catch (e) {
    if (replace) toast(t('tablet.route_failed', { message: errorText(e) }), 'error');
    // Offline: the turns as last read.
    if (a.steps) showTurns(a.steps);
    return;
  }
  if (S.assignment !== a) return;
  if (!r) {
    fill($('turns'), h('li', {}, t('tablet.no_road_route')));
    return;
  }
  if (replace || !a.route) {
    a.route = { eta_s: r.duration, distance_m: r.distance, geometry: r.geometry };
    setRoute(r.geometry.coordinates, false);
  }
  // Kept with the assignment, for a reload offline.
  a.steps = (r.legs?.[0]?.steps ?? []).map((st) => ({ name: st.name, distance: st.distance, maneuver: st.maneuver }));
  save();
  showTurns(a.steps);
  render();
}

function showTurns(steps) {
  const shown = steps.slice(0, 8);
  fill(
    $('turns'),
    shown.map((s) =>
      h('li', { class: 'turn' }, instruction(s), s.distance > 0 ? h('span', { class: 'd' }, fmtDistance(s.distance)) : null),
    ),
    steps.length > shown.length ? h('li', { class: 'muted' }, t('tablet.more_steps', { count: steps.length - shown.length })) : null,
  );
}

/** A route step in words: `Turn left onto Hauptstraße` (`Налево на Hauptstraße`). */
function instruction(step) {
  const m = step.maneuver ?? {};
  const onto = (what) => (step.name ? t('turn.onto', { what, name: step.name }) : what);
  switch (m.type) {
    case 'depart':
      return step.name ? t('turn.depart_on', { name: step.name }) : t('turn.depart');
    case 'arrive':
      return t('turn.arrive');
    case 'roundabout':
    case 'rotary':
      return onto(t('turn.roundabout', { exit: m.exit ?? '' }).trim());
    default: {
      // A turn, a fork, a merge, an end of road...: by its direction.
      const dir = m.modifier && has(`turn.${m.modifier}`) ? `turn.${m.modifier}` : 'turn.continue';
      return onto(t(m.type === 'new name' || m.type === 'continue' ? 'turn.continue' : dir));
    }
  }
}

// ---------------------------------------------------------------- hospital and station

/** The station the crew's `station` names (by id, else by name), if the service has it. */
function homeStation() {
  const named = S.crew?.station;
  if (!named) return null;
  return S.stations.find((st) => st.id === named) ?? S.stations.find((st) => st.name === named) ?? null;
}

/** The hospital the crew takes the patient to: its own pick, else the service's suggestion. */
function chosenHospital() {
  const id = S.choice?.picked ?? S.choice?.suggested?.id;
  return id ? S.hospitals.find((x) => x.id === id) ?? null : null;
}

/** The need a new call's patient starts with: the crew's speciality when it has one. */
function firstNeed() {
  return S.crew?.crew_type === 'paediatric' ? 'paediatric' : 'general';
}

/** Asks the service for the capable hospital the crew reaches soonest. */
async function suggestHospital() {
  const c = S.choice;
  if (!c || c.pending) return;
  c.pending = true;
  let r;
  try {
    r = await S.api.get(`/api/crews/${encodeURIComponent(S.crewId)}/hospital?capability=${encodeURIComponent(c.need)}`);
  } catch (e) {
    // Offline: asked again a little later; the crew may pick a hospital meanwhile.
    if (!e.offline) toast(errorText(e), 'error');
    setTimeout(() => {
      c.pending = false;
      if (S.choice === c) render();
    }, 5000);
    return;
  }
  c.pending = false;
  if (S.choice !== c) return;
  c.suggested = r.hospital ? { id: r.hospital.id, eta_s: r.eta_s ?? null } : null;
  if (r.hospital && !S.hospitals.some((x) => x.id === r.hospital.id)) S.hospitals.push(r.hospital);
  save();
  render();
}

/** The straight-line distance in metres (to order hospitals). */
function metres(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.hypot(x, y) * 6371000;
}

/** The hospital choice: the suggestion, then the capable hospitals, then the others. */
function renderHospitalCard(show) {
  $('hospital-card').hidden = !show;
  if (!show) return;
  const c = S.choice;
  const need = $('need');
  if (!need.options.length) {
    fill(need, NEEDS.map((n) => h('option', { value: n }, t(`tablet.need.${n}`))));
  }
  need.value = c.need;
  const suggested = c.suggested ? S.hospitals.find((x) => x.id === c.suggested.id) : null;
  $('hospital-suggested').textContent = suggested
    ? t('tablet.hospital.suggested', { name: suggested.name, eta: c.suggested.eta_s === null ? '–' : fmtMinutes(c.suggested.eta_s).replace(' ', '\u00a0') })
    : c.suggested === null ? t('tablet.hospital.suggested_none') : '';
  $('hospital-suggested').dataset.hospitalId = suggested?.id ?? '';
  const from = S.crew?.position;
  const near = (list) => (from ? [...list].sort((a, b) => metres(from, a.position) - metres(from, b.position)) : list);
  const others = S.hospitals.filter((x) => x.id !== suggested?.id);
  const capable = near(others.filter((x) => (x.capabilities ?? []).includes(c.need)));
  const rest = near(others.filter((x) => !(x.capabilities ?? []).includes(c.need)));
  const option = (x, label = x.name) => h('option', { value: x.id }, label);
  const chosen = chosenHospital();
  const pick = $('hospital-pick');
  const wanted = [suggested?.id, ...capable.map((x) => x.id), '|', ...rest.map((x) => x.id), chosen?.id].join(',');
  if (pick.dataset.list !== wanted) {
    fill(
      pick,
      chosen ? null : h('option', { value: '' }, '–'),
      suggested ? option(suggested) : null,
      capable.length ? h('optgroup', { label: t('tablet.hospital.capable') }, capable.map((x) => option(x))) : null,
      rest.length ? h('optgroup', { label: t('tablet.hospital.others') }, rest.map((x) => option(x))) : null,
    );
    pick.dataset.list = wanted;
  }
  pick.value = chosen?.id ?? '';
  const r = S.routes.hospital;
  const drawn = r && chosen && r.to === chosen.id;
  $('hospital-eta').textContent = drawn ? fmtMinutes(r.eta_s) : '–';
  $('hospital-distance').textContent = drawn ? fmtDistance(r.distance_m) : '–';
  // The handover names the hospital the crew drives to, unless the crew typed another.
  const field = $('h-hospital');
  if (chosen && (field.value === '' || field.dataset.auto === field.value)) {
    field.value = chosen.name;
    field.dataset.auto = chosen.name;
  }
}

function renderHomeCard(station) {
  $('home-card').hidden = !station;
  if (!station) return;
  $('home-name').textContent = station.name;
  $('home-card').dataset.stationId = station.id;
  const r = S.routes.home;
  const drawn = r && r.to === station.id;
  const there = drawn && r.distance_m < 50;
  $('home-there').hidden = !there;
  $('home-eta').textContent = drawn ? fmtMinutes(r.eta_s) : '–';
  $('home-distance').textContent = drawn ? fmtDistance(r.distance_m) : '–';
}

/**
 * Reads the routes besides the call's when what they go to or where the crew is changed:
 * to the chosen hospital (on scene, transporting), back to the station (available).
 */
function sideRoutes() {
  const status = shownStatus();
  const hospital = S.assignment && TO_HOSPITAL.has(status) ? chosenHospital() : null;
  const station = status === 'available' ? homeStation() : null;
  sideRoute('hospital', hospital && { id: hospital.id, lat: hospital.position.lat, lon: hospital.position.lon });
  sideRoute('home', station && { id: station.id, lat: station.lat, lon: station.lon });
}

async function sideRoute(kind, to) {
  if (!to || !S.crew || !S.map) {
    layers[kind]?.setStyle({ opacity: 0 });
    marks[kind]?.remove();
    marks[kind] = null;
    return;
  }
  const from = S.crew.position;
  // About 100 m moved, or another place to go: read the route again.
  const want = `${to.id}@${from.lat.toFixed(3)},${from.lon.toFixed(3)}`;
  const kept = S.routes[kind];
  drawSide(kind, kept && kept.to === to.id ? kept : null);
  if (S.sideKey[kind] === want) return;
  S.sideKey[kind] = want;
  let r;
  try {
    r = await S.api.route(from, to, false);
  } catch {
    S.sideKey[kind] = null; // offline: the kept route stays; try again later
    return;
  }
  if (S.sideKey[kind] !== want) return;
  const at = { lat: to.lat, lon: to.lon };
  S.routes[kind] = r
    ? { to: to.id, at, eta_s: r.duration, distance_m: r.distance, coords: r.geometry.coordinates }
    : { to: to.id, at, eta_s: null, distance_m: null, coords: [] };
  save();
  drawSide(kind, S.routes[kind]);
  render();
}

function drawSide(kind, route) {
  const lls = (route?.coords ?? []).map(([lon, lat]) => [lat, lon]);
  if (!layers[kind]) layers[kind] = L.polyline([], SIDE_STYLE[kind]).addTo(S.map);
  layers[kind].setLatLngs(lls);
  layers[kind].setStyle({ opacity: lls.length > 1 ? SIDE_STYLE[kind].opacity : 0 });
  const at = route?.at;
  if (!at) {
    marks[kind]?.remove();
    marks[kind] = null;
    return;
  }
  if (!marks[kind]) {
    marks[kind] = L.marker([at.lat, at.lon], { icon: placeIcon(kind === 'hospital' ? 'hospital' : 'station', 24), keyboard: false, interactive: false }).addTo(S.map);
  }
  marks[kind].setLatLng([at.lat, at.lon]);
}


// ---------------------------------------------------------------- handover

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

function submitHandover() {
  const a = S.assignment;
  if (!a) return;
  $('handover-error').hidden = true;
  const patient = {};
  if ($('h-name').value.trim()) patient.name = $('h-name').value.trim();
  if ($('h-birth').value) patient.birth_date = $('h-birth').value;
  if ($('h-sex').value) patient.sex = $('h-sex').value;
  const vitals = {};
  for (const [id, field] of [
    ['h-hr', 'heart_rate'],
    ['h-sys', 'systolic_bp'],
    ['h-dia', 'diastolic_bp'],
    ['h-spo2', 'spo2'],
    ['h-rr', 'respiratory_rate'],
    ['h-temp', 'temperature_c'],
    ['h-gcs', 'gcs'],
  ]) {
    const v = numberOrNull(id);
    if (v !== null) vitals[field] = v;
  }
  const body = { patient, hospital: $('h-hospital').value.trim(), vitals };
  const icd = $('h-icd').value.trim().toUpperCase();
  if (icd) body.diagnosis_icd10 = icd;
  const notes = $('h-notes').value.trim();
  if (notes) body.notes = notes;
  S.handoverDone.add(a.call.id);
  enqueue({ kind: 'handover', call_id: a.call.id, body });
}

// ---------------------------------------------------------------- render

function render() {
  const status = shownStatus();
  const now = $('status-now');
  now.textContent = status ? crewStatusName(status) : '…';
  now.className = `badge status-now st-${status}`;
  document.body.dataset.status = status ?? '';

  const waiting = S.outbox.length;
  $('outbox').hidden = waiting === 0;
  $('outbox').textContent = waiting
    ? t('tablet.outbox', { count: waiting }) + t(S.online ? 'tablet.outbox.sending' : 'tablet.outbox.offline')
    : '';
  $('outbox').dataset.count = String(waiting);

  const next = NEXT[status];
  fill(
    $('status-buttons'),
    [...STEPS]
      .sort((a, b) => (a === next ? -1 : b === next ? 1 : 0))
      .map((s) =>
        h(
          'button',
          {
            type: 'button',
            id: `status-${s}`,
            class: s === next ? 'next' : '',
            disabled: !status || !canTransition(status, s),
            onclick: () => enqueue({ kind: 'status', status: s }),
          },
          t(`step.${s}`),
        ),
      ),
  );

  const a = FREE.has(status) ? null : S.assignment;
  const rel = S.released;
  $('released').hidden = !rel;
  $('released').dataset.callId = rel ? String(rel.call_id) : '';
  $('released-text').textContent = rel
    ? a && a.call.id !== rel.call_id
      ? t('tablet.taken_off_go', { id: rel.call_id, other: a.call.id })
      : t('tablet.taken_off', { id: rel.call_id })
    : '';
  $('no-assignment').hidden = !!a;
  $('assignment-body').hidden = !a;
  $('turns-card').hidden = !a || !['dispatched', 'en_route'].includes(status);
  if (a) {
    const p = $('a-priority');
    p.textContent = priorityName(a.call.priority);
    p.className = `badge prio-${a.call.priority}`;
    p.style.background = PRIORITY_COLOURS[a.call.priority] ?? '';
    $('a-call').textContent = t('tablet.call', { id: a.call.id });
    $('a-call').dataset.callId = a.call.id;
    $('a-complaint').textContent = a.call.complaint || priorityName(a.call.priority);
    $('a-address').textContent = formatAddress(a.call);
    $('a-eta').textContent = a.route ? fmtMinutes(a.route.eta_s) : t('tablet.no_route');
    $('a-eta').title = a.route ? fmtDuration(a.route.eta_s) : '';
    $('a-distance').textContent = a.route ? fmtDistance(a.route.distance_m) : '–';
  }
  const handoverDue = a && ['transporting', 'at_hospital'].includes(status);
  const done = a && S.handoverDone.has(a.call.id);
  $('handover-card').hidden = !handoverDue && !(a && done);
  $('handover-form').hidden = !!done;
  $('handover-done').hidden = !done;
  if (done) {
    const pending = S.outbox.some((i) => i.kind === 'handover' && i.call_id === a.call.id);
    $('handover-done').textContent = pending
      ? t('th.saved_offline')
      : t('th.done');
  }
  // The route matters while driving to the call.
  layers.route?.setStyle({ opacity: a && ['dispatched', 'en_route'].includes(status) ? 0.85 : 0 });

  // On scene and transporting: the hospital.
  const toHospital = !!a && TO_HOSPITAL.has(status);
  if (toHospital && S.choice?.call_id !== a.call.id) {
    S.choice = { call_id: a.call.id, need: firstNeed(), picked: null };
    save();
  }
  if (toHospital && S.choice.suggested === undefined) suggestHospital();
  renderHospitalCard(toHospital);
  // Free: the way back to the station.
  renderHomeCard(status === 'available' ? homeStation() : null);
  sideRoutes();
  focusMap();
  drawCrew();
  setConn();
}

// ---------------------------------------------------------------- device

/** Reports the GPS position of a crew's own tablet, at most every 5 s. */
function shareGps() {
  if (!S.me.crew_id || !navigator.geolocation) return;
  let last = 0;
  navigator.geolocation.watchPosition(
    (p) => {
      const now = Date.now();
      if (now - last < 5000 || !S.ws || S.ws.readyState !== WebSocket.OPEN) return;
      last = now;
      S.ws.send(JSON.stringify({ type: 'position', lat: p.coords.latitude, lon: p.coords.longitude }));
    },
    () => {},
    { enableHighAccuracy: true, maximumAge: 5000 },
  );
}

async function keepAwake() {
  try {
    await navigator.wakeLock?.request('screen');
  } catch {
    // Not allowed here: the screen may dim.
  }
}

/** For the browser tests and for debugging from the developer tools. */
window.__tablet = {
  get outbox() { return S.outbox.map((i) => ({ ...i })); },
  get status() { return shownStatus(); },
  get assignment() { return S.assignment; },
  get connected() { return S.wsLive; },
  /** Whether the service worker keeps the page and the answers for offline use. */
  get offlineReady() { return S.offlineReady; },
  /** The last point of a drawn route (`route`, `hospital`, `home`) as {lat, lon}, if shown. */
  routeEnd(kind) {
    const l = layers[kind];
    const lls = l?.getLatLngs() ?? [];
    if (!l || lls.length < 2 || l.options.opacity === 0) return null;
    const p = lls.at(-1);
    return { lat: p.lat, lon: p.lng };
  },
};

main().catch((e) => {
  console.error(e);
  toast(t('start_failed.tablet', { message: errorText(e) }), 'error');
});
