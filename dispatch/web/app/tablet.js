// The crew tablet: the current assignment with its route, distance, ETA and turns; the
// status steps; on scene and transporting, the hospital the service suggests for what the
// patient needs (or another the crew picks) with its route; free, the route back to the
// crew's station; the handover form; a notice when the crew is taken off its call (diverted,
// broken down, cancelled...). Status changes and handovers go through an outbox kept
// in localStorage and sent in order, so they survive a dropped connection (and a reload).
// Offline, the service worker (app/sw.js) gives the page and the last map and crew answers,
// and the assignment and routes come from localStorage.
//
// The parts live in ./tablet/: the state, kept in localStorage (state.js), the outbox
// (outbox.js), the assignment and its route (route.js), the hospital and the station
// (places.js) and the handover form (handover.js).

import {
  Api, takeToken, signOut, showLogin, toast, h, fill, createMap,
  fmtDuration, fmtMinutes, fmtDistance, canTransition, PRIORITY_COLOURS,
} from './common.js';
import {
  t, errorText, closeText, startPage, crewStatusName, priorityName, roleName,
} from './i18n.js';
import { formatAddress } from './address.js';
import {
  $, S, layers, TO_HOSPITAL, STEPS, NEXT, FREE, save, restore, shownStatus, setConn, onRender,
} from './tablet/state.js';
import { enqueue, flush } from './tablet/outbox.js';
import {
  clearAssignment, drawCrew, drawAssignment, focusMap, refreshRoute,
} from './tablet/route.js';
import {
  homeStation, firstNeed, suggestHospital, renderHospitalCard, renderHomeCard, sideRoutes,
} from './tablet/places.js';
import { submitHandover } from './tablet/handover.js';
import { identify, renderPatientCard } from './tablet/patient.js';

// The parts draw the page again through render() of ./tablet/state.js, which calls this one.
onRender(render);

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
  $('patient-form').addEventListener('submit', (e) => {
    e.preventDefault();
    identify();
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
  renderPatientCard(a);
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
