// The tablet's state: the crew, its assignment and released call, the outbox, the stream's
// bookkeeping, the hospital choice and the side routes; the map layers and marks; the status
// steps and what the crew may need; keeping the state in localStorage and reading it back;
// the status shown, the connection badge and the render hook.

import { t } from '../i18n.js';

export const $ = (id) => document.getElementById(id);

export const S = {
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

export const layers = { crew: null, call: null, route: null, hospital: null, home: null };
/** The hospital's and the station's symbols at the end of their routes. */
export const marks = { hospital: null, home: null };

/** What a patient may need of a hospital (`GET /api/crews/{id}/hospital?capability=`). */
export const NEEDS = ['general', 'pci', 'stroke', 'trauma', 'paediatric'];
/** The statuses in which the crew takes the patient to a hospital. */
export const TO_HOSPITAL = new Set(['on_scene', 'transporting']);
/** Each side route's colour and dashes. */
export const SIDE_STYLE = {
  hospital: { color: '#be185d', weight: 8, opacity: 0.85, className: 'route-hospital' },
  home: { color: '#15803d', weight: 7, opacity: 0.85, dashArray: '12 10', className: 'route-home' },
};

/** The status steps a crew takes, in order (their words: `step.<status>`). */
export const STEPS = ['en_route', 'on_scene', 'transporting', 'at_hospital', 'available', 'out_of_service'];
export const NEXT = {
  dispatched: 'en_route',
  en_route: 'on_scene',
  on_scene: 'transporting',
  transporting: 'at_hospital',
  at_hospital: 'available',
  out_of_service: 'available',
  off_duty: 'available',
};
/** Statuses with no call. */
export const FREE = new Set(['available', 'out_of_service', 'off_duty']);

export const key = (what) => `dispatch-tablet:${S.crewId}:${what}`;

export function save() {
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

export function restore() {
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
export function shownStatus() {
  for (let i = S.outbox.length - 1; i >= 0; i -= 1) {
    if (S.outbox[i].kind === 'status') return S.outbox[i].status;
  }
  return S.crew?.status ?? null;
}

export function setConn() {
  const el = $('conn');
  const kind = S.wsLive && S.online ? 'live' : 'offline';
  el.className = `conn ${kind}`;
  el.textContent = t(kind === 'live' ? 'conn.online' : 'conn.offline');
  document.body.dataset.conn = kind;
}

let renderAll = () => {};

/** Sets what `render()` draws (the tablet's entry does, once). */
export function onRender(f) {
  renderAll = f;
}

/** Draws the page and the map again from the state. */
export function render() {
  renderAll();
}
