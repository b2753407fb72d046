// The dispatcher console: the map with crews, calls, routes and closures; new calls, the
// decision and its candidates, override and cancel; live updates over /ws/console, resumed
// with ?since= after a dropped connection so no event is lost.

import {
  L, Api, ApiError, takeToken, signOut, showLogin, toast, h, fill, newKey, createMap,
  fmtDuration, fmtClock, fmtDistance, fmtTime, words, STATUS_COLOURS,
} from './common.js';

const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  me: null,
  map: null,
  crews: new Map(), // id -> crew
  calls: new Map(), // id -> call
  closures: [],
  closureVersion: 0,
  routes: new Map(), // crew id -> {key, callId, eta_s, distance_m, coords}
  selected: null, // call id
  handovers: new Map(), // call id -> handover record (staff only)
  pick: null, // {lat, lon} of the new call
  mode: 'call',
  draft: [], // corners of the area being drawn
  // The console stream.
  ws: null,
  hold: false,
  backoff: 500,
  connected: false,
  lastSeq: 0,
  seqs: [],
  gaps: 0,
  duplicates: 0,
  events: [],
  dirtyCalls: new Set(),
  dirtyCrews: new Set(),
  refreshTimer: null,
};

const layers = {
  crews: new Map(),
  calls: new Map(),
  routes: new Map(),
  closures: null,
  draft: null,
  pick: null,
};

const OPEN = (c) => c.status !== 'completed' && c.status !== 'cancelled';
const ROUTED = new Set(['dispatched', 'en_route']);
const PRIORITY_RANK = { emergency: 0, urgent: 1, non_urgent: 2 };

function setConn(kind, text) {
  const el = $('conn');
  el.className = `conn ${kind}`;
  el.textContent = text ?? kind;
  document.body.dataset.conn = kind;
}

// ---------------------------------------------------------------- start

async function main() {
  $('sign-out').addEventListener('click', signOut);
  const token = takeToken();
  if (!token) return showLogin('Dispatch console');
  state.api = new Api(token);
  try {
    state.me = await state.api.get('/api/me');
  } catch (e) {
    if (e.status === 401) return showLogin('Dispatch console', 'That token was not accepted.');
    return showLogin('Dispatch console', `The service cannot be reached: ${e.message}`);
  }
  const me = state.me;
  $('who').textContent = me.crew_id ? `crew ${me.crew_id}` : me.role;
  document.body.dataset.role = me.role;
  const { map } = await createMap($('map'), state.api);
  state.map = map;
  layers.closures = L.layerGroup().addTo(map);
  map.on('click', onMapClick);
  if (!me.staff) return crewView();

  wireForm();
  wireTools();
  state.lastSeq = me.last_seq;
  await loadAll();
  connect();
  setInterval(tick, 1000);
  document.body.dataset.ready = 'true';
}

/** Everything from the REST API: the starting point of the stream (events after `lastSeq`). */
async function loadAll() {
  const api = state.api;
  const [crews, calls, closures] = await Promise.all([
    api.get('/api/crews'),
    api.get('/api/calls'),
    api.get('/api/closures'),
  ]);
  state.crews = new Map(crews.map((c) => [c.id, c]));
  state.calls = new Map(calls.map((c) => [c.id, c]));
  state.closures = closures;
  drawClosures();
  await updateRoutes();
  render();
}

// ---------------------------------------------------------------- the stream

function connect() {
  if (state.hold || state.ws) return;
  const ws = new WebSocket(state.api.wsUrl('/ws/console', { since: state.lastSeq }));
  state.ws = ws;
  setConn('reconnecting', state.seqs.length ? 'reconnecting' : 'connecting');
  ws.onopen = () => {
    state.connected = true;
    state.backoff = 500;
    setConn('live');
  };
  ws.onmessage = (m) => {
    let entry;
    try {
      entry = JSON.parse(m.data);
    } catch {
      return;
    }
    onEntry(entry);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.connected = false;
    if (state.hold) {
      setConn('offline');
      return;
    }
    setConn('reconnecting');
    setTimeout(connect, state.backoff);
    state.backoff = Math.min(state.backoff * 2, 5000);
  };
}

/** One log entry, in `seq` order. */
function onEntry(e) {
  if (typeof e.seq !== 'number') return;
  if (e.seq <= state.lastSeq) {
    state.duplicates += 1;
    return;
  }
  if (e.seq !== state.lastSeq + 1) {
    // The service promises no gap; should one happen, reload everything rather than drift.
    state.gaps += 1;
    loadAll();
  }
  state.lastSeq = e.seq;
  state.seqs.push(e.seq);
  if (state.seqs.length > 10000) state.seqs.splice(0, 5000);
  state.events.unshift(e);
  if (state.events.length > 60) state.events.length = 60;
  switch (e.type) {
    case 'call_created':
    case 'call_queued':
    case 'call_cancelled':
    case 'call_status':
    case 'handover_recorded':
      state.dirtyCalls.add(e.call_id);
      break;
    case 'call_assigned':
      state.dirtyCalls.add(e.decision.call_id);
      state.dirtyCrews.add(e.decision.crew_id);
      break;
    case 'call_reassigned':
      state.dirtyCalls.add(e.decision.call_id);
      state.dirtyCrews.add(e.from_crew);
      state.dirtyCrews.add(e.to_crew);
      break;
    case 'crew_released':
      state.dirtyCalls.add(e.call_id);
      state.dirtyCrews.add(e.crew_id);
      break;
    case 'crew_added':
    case 'crew_status':
    case 'crew_moved':
    case 'crew_removed':
      state.dirtyCrews.add(e.crew_id);
      break;
    case 'closure_added':
    case 'closure_removed':
    case 'closures_changed':
      reloadClosures();
      break;
    case 'assignment':
    case 'reroute':
      if (e.route?.geometry) {
        const crew = state.crews.get(e.crew_id);
        state.routes.set(e.crew_id, {
          key: crew ? routeKey(crew, e.call) : null,
          callId: e.call.id,
          eta_s: e.route.eta_s,
          distance_m: e.route.distance_m,
          coords: e.route.geometry.coordinates.map(([lon, lat]) => [lat, lon]),
        });
      }
      break;
    default:
      break;
  }
  scheduleRefresh();
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshDirty, 40);
}

/** Re-reads the calls and crews the stream said changed. */
async function refreshDirty() {
  const calls = [...state.dirtyCalls];
  const crews = [...state.dirtyCrews];
  state.dirtyCalls.clear();
  state.dirtyCrews.clear();
  const api = state.api;
  await Promise.all([
    ...calls.map(async (id) => {
      try {
        state.calls.set(id, await api.get(`/api/calls/${id}`));
      } catch (e) {
        if (e.status === 404) state.calls.delete(id);
        else state.dirtyCalls.add(id);
      }
    }),
    ...crews.map(async (id) => {
      try {
        state.crews.set(id, await api.get(`/api/crews/${encodeURIComponent(id)}`));
      } catch (e) {
        if (e.status === 404) state.crews.delete(id);
        else state.dirtyCrews.add(id);
      }
    }),
  ]);
  await updateRoutes();
  render();
  if (state.dirtyCalls.size || state.dirtyCrews.size) setTimeout(scheduleRefresh, 2000);
}

// ---------------------------------------------------------------- routes

function routeKey(crew, callPos) {
  return `${crew.call}|${crew.position.lat},${crew.position.lon}|${callPos.lat},${callPos.lon}|${state.closureVersion}`;
}

/** The route of each crew on its way to a call (from the OSRM API, again after closures). */
async function updateRoutes() {
  const jobs = [];
  for (const crew of state.crews.values()) {
    const call = crew.call !== null && crew.call !== undefined ? state.calls.get(crew.call) : null;
    if (!call || !ROUTED.has(crew.status) || !OPEN(call)) {
      state.routes.delete(crew.id);
      continue;
    }
    const key = routeKey(crew, call.position);
    if (state.routes.get(crew.id)?.key === key) continue;
    jobs.push(
      state.api.route(crew.position, call.position).then(
        (r) => {
          if (!r) {
            state.routes.set(crew.id, { key, callId: call.id, eta_s: null, distance_m: null, coords: [] });
            return;
          }
          state.routes.set(crew.id, {
            key,
            callId: call.id,
            eta_s: r.duration,
            distance_m: r.distance,
            coords: r.geometry.coordinates.map(([lon, lat]) => [lat, lon]),
          });
        },
        () => {}, // kept as it was; tried again on the next change
      ),
    );
  }
  await Promise.all(jobs);
}

async function reloadClosures() {
  try {
    state.closures = await state.api.get('/api/closures');
  } catch (e) {
    toast(`Cannot read the closures: ${e.message}`, 'error');
    return;
  }
  state.closureVersion += 1;
  drawClosures();
  await updateRoutes();
  render();
}

// ---------------------------------------------------------------- map

function onMapClick(ev) {
  const { lat, lng } = ev.latlng;
  if (!state.me?.staff) return;
  if (state.mode === 'call') {
    setPick({ lat, lon: lng });
    $('call-where').value = `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
    fill($('call-suggest'));
  } else if (state.mode === 'close') {
    closeAt(lat, lng);
  } else if (state.mode === 'draw') {
    state.draft.push([lat, lng]);
    drawDraft();
  }
}

function setPick(p) {
  state.pick = p;
  if (layers.pick) layers.pick.remove();
  layers.pick = null;
  if (p) {
    layers.pick = L.circleMarker([p.lat, p.lon], {
      radius: 11,
      color: '#0b1220',
      weight: 3,
      fillColor: '#ffffff',
      fillOpacity: 0.7,
      className: 'pick',
      interactive: false,
    }).addTo(state.map);
  }
}

function setMode(mode) {
  state.mode = mode;
  for (const m of ['call', 'close', 'draw']) $(`mode-${m}`).classList.toggle('on', m === mode);
  $('draw-finish').hidden = mode !== 'draw';
  $('draw-cancel').hidden = mode !== 'draw';
  const hint = {
    call: null,
    close: 'Click a road to close it',
    draw: 'Click the corners of the area, then Finish area',
  }[mode];
  $('map-hint').hidden = !hint;
  $('map-hint').textContent = hint ?? '';
  $('map').style.cursor = mode === 'call' ? '' : 'crosshair';
  if (mode !== 'draw') {
    state.draft = [];
    drawDraft();
  }
}

function wireTools() {
  $('mode-call').addEventListener('click', () => setMode('call'));
  $('mode-close').addEventListener('click', () => setMode(state.mode === 'close' ? 'call' : 'close'));
  $('mode-draw').addEventListener('click', () => setMode(state.mode === 'draw' ? 'call' : 'draw'));
  $('draw-cancel').addEventListener('click', () => setMode('call'));
  $('draw-finish').addEventListener('click', finishArea);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.mode !== 'call') setMode('call');
  });
}

function drawDraft() {
  if (layers.draft) layers.draft.remove();
  layers.draft = null;
  if (state.draft.length) {
    layers.draft = L.polygon(state.draft, {
      color: '#b91c1c',
      weight: 3,
      dashArray: '6 4',
      fillOpacity: 0.15,
      className: 'draft',
      interactive: false,
    }).addTo(state.map);
  }
  $('draw-finish').disabled = state.draft.length < 3;
}

async function closeAt(lat, lon) {
  await addClosure({ point: { lat, lon }, radius_m: 25 });
}

async function finishArea() {
  if (state.draft.length < 3) return;
  const ring = state.draft.map(([lat, lon]) => [lon, lat]);
  ring.push(ring[0]);
  await addClosure({ polygon: { type: 'Polygon', coordinates: [ring] } });
}

async function addClosure(body) {
  try {
    const c = await state.api.post('/api/closures', body);
    toast(`Closure ${c.id}: ${c.arcs ?? 0} road pieces closed`, 'ok');
  } catch (e) {
    toast(`The closure was refused: ${e.message}`, 'error');
    return;
  }
  setMode('call');
  await reloadClosures();
}

async function removeClosure(id) {
  try {
    await state.api.del(`/api/closures/${id}`);
  } catch (e) {
    toast(`Cannot reopen closure ${id}: ${e.message}`, 'error');
    return;
  }
  await reloadClosures();
}

function drawClosures() {
  if (!layers.closures) return;
  layers.closures.clearLayers();
  const style = { color: '#b91c1c', weight: 3, fillColor: '#ef4444', fillOpacity: 0.25, className: 'closure' };
  for (const c of state.closures) {
    if (c.polygon?.coordinates?.[0]) {
      L.polygon(c.polygon.coordinates[0].map(([lon, lat]) => [lat, lon]), style)
        .bindTooltip(`Closure ${c.id}`)
        .addTo(layers.closures);
    } else if (c.point) {
      L.circle([c.point.lat, c.point.lon], { ...style, radius: c.radius_m ?? 30 })
        .bindTooltip(`Closure ${c.id}`)
        .addTo(layers.closures);
    }
  }
}

function drawCrews() {
  const seen = new Set();
  for (const crew of state.crews.values()) {
    seen.add(crew.id);
    const colour = STATUS_COLOURS[crew.status] ?? '#4b5563';
    const ll = [crew.position.lat, crew.position.lon];
    let m = layers.crews.get(crew.id);
    if (!m) {
      m = L.circleMarker(ll, { radius: 10, weight: 3, color: '#ffffff', fillOpacity: 1 })
        .bindTooltip(crew.id, { permanent: true, direction: 'right', offset: [10, 0], className: 'crew-label' })
        .addTo(state.map);
      layers.crews.set(crew.id, m);
    }
    m.setLatLng(ll);
    m.setStyle({ fillColor: colour });
    const el = m.getElement();
    if (el) el.setAttribute('class', `leaflet-interactive crew crew-${crew.id} st-${crew.status}`);
  }
  for (const [id, m] of layers.crews) {
    if (!seen.has(id)) {
      m.remove();
      layers.crews.delete(id);
    }
  }
}

function drawCalls() {
  const seen = new Set();
  for (const call of state.calls.values()) {
    if (!OPEN(call)) continue;
    seen.add(call.id);
    const ll = [call.position.lat, call.position.lon];
    const cls = `call-marker call-${call.id} prio-${call.priority} ${call.status === 'queued' ? 'queued' : ''}`;
    let m = layers.calls.get(call.id);
    if (!m) {
      m = L.marker(ll, { keyboard: false }).addTo(state.map);
      m.on('click', () => select(call.id));
      layers.calls.set(call.id, m);
    }
    m.setLatLng(ll);
    if (m.options.icon?.options?.className !== cls) {
      m.setIcon(L.divIcon({ className: cls, html: String(call.id), iconSize: [26, 26] }));
    }
  }
  for (const [id, m] of layers.calls) {
    if (!seen.has(id)) {
      m.remove();
      layers.calls.delete(id);
    }
  }
}

function drawRoutes() {
  for (const [id, line] of layers.routes) {
    if (!state.routes.has(id)) {
      line.remove();
      layers.routes.delete(id);
    }
  }
  for (const [crewId, r] of state.routes) {
    let line = layers.routes.get(crewId);
    if (!line) {
      line = L.polyline([], { color: '#1d4ed8', weight: 6, opacity: 0.85, className: `route route-${crewId}` })
        .addTo(state.map);
      layers.routes.set(crewId, line);
    }
    if (line._key !== r.key) {
      line.setLatLngs(r.coords);
      line._key = r.key;
    }
  }
}

// ---------------------------------------------------------------- new call

let suggestTimer = null;

function parseCoords(text) {
  const m = text.trim().match(/^(-?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)$/);
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

function wireForm() {
  const where = $('call-where');
  where.addEventListener('input', () => {
    const text = where.value;
    const p = parseCoords(text);
    clearTimeout(suggestTimer);
    if (p) {
      setPick(p);
      fill($('call-suggest'));
      return;
    }
    setPick(null);
    if (text.trim().length < 2) {
      fill($('call-suggest'));
      return;
    }
    suggestTimer = setTimeout(() => suggestStreets(text.trim()), 250);
  });
  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createCall();
  });
}

async function suggestStreets(q) {
  let found;
  try {
    found = await state.api.get(`/api/map/streets?q=${encodeURIComponent(q)}`);
  } catch {
    return;
  }
  if ($('call-where').value.trim() !== q) return;
  fill(
    $('call-suggest'),
    found.length ? null : h('span', { class: 'small muted' }, 'No street of that name on the map'),
    found.map((s) =>
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            setPick({ lat: s.lat, lon: s.lon });
            $('call-where').value = s.name;
            if (!$('call-address').value) $('call-address').value = s.name;
            fill($('call-suggest'));
            state.map.setView([s.lat, s.lon], Math.max(state.map.getZoom(), 16));
          },
        },
        s.name,
      ),
    ),
  );
}

let pendingKey = null;

async function createCall() {
  const err = $('call-error');
  err.hidden = true;
  const pick = state.pick ?? parseCoords($('call-where').value);
  if (!pick) {
    err.textContent = 'Give the location: click the map, type coordinates or pick a street.';
    err.hidden = false;
    return;
  }
  const body = {
    lat: pick.lat,
    lon: pick.lon,
    priority: document.querySelector('input[name=priority]:checked').value,
    needs: [$('call-needs').value],
    complaint: $('call-complaint').value.trim(),
    address: $('call-address').value.trim(),
  };
  const phone = $('call-phone').value.trim();
  if (phone) body.phone = phone;
  // The same key on a retry of this form, so a lost answer does not create the call twice.
  pendingKey = pendingKey ?? newKey();
  const button = $('call-submit');
  button.disabled = true;
  try {
    const call = await state.api.post('/api/calls', body, { 'Idempotency-Key': pendingKey });
    pendingKey = null;
    state.calls.set(call.id, call);
    $('call-form').reset();
    setPick(null);
    await updateRoutes();
    select(call.id);
    toast(
      call.crew_id ? `Call ${call.id}: ${call.crew_id} sent, ETA ${fmtDuration(call.eta_s)}` : `Call ${call.id} queued: no crew free`,
      call.crew_id ? 'ok' : 'info',
    );
  } catch (e) {
    if (!e.offline) pendingKey = null;
    err.textContent = e.offline ? 'No connection: try again (the call will not be doubled).' : e.message;
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- lists and detail

function render() {
  drawCrews();
  drawCalls();
  drawRoutes();
  renderCalls();
  renderCrews();
  renderDetail();
  renderClosures();
  renderEvents();
}

function sortedOpenCalls() {
  return [...state.calls.values()].filter(OPEN).sort((a, b) => {
    const qa = a.status === 'queued' ? 0 : 1;
    const qb = b.status === 'queued' ? 0 : 1;
    return qa - qb || PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.times.received - b.times.received || a.id - b.id;
  });
}

function crewOfCall(call) {
  const active = call.assignments.filter((a) => a.finished_at === null || a.finished_at === undefined);
  return active.map((a) => a.crew_id);
}

function renderCalls() {
  const open = sortedOpenCalls();
  $('calls-count').textContent = `${open.length} open, ${open.filter((c) => c.status === 'queued').length} waiting`;
  fill(
    $('calls'),
    open.length ? null : h('li', { class: 'muted' }, 'No open calls'),
    open.map((call) => {
      const crews = crewOfCall(call);
      const route = crews.map((id) => state.routes.get(id)).find((r) => r && r.eta_s !== null);
      return h(
        'li',
        {
          class: `clickable call-item ${call.status === 'queued' ? 'queued' : ''} ${state.selected === call.id ? 'selected' : ''}`,
          dataset: { callId: call.id, status: call.status },
          onclick: () => select(call.id),
        },
        h(
          'div',
          { class: 'line' },
          h('span', { class: `badge prio-${call.priority}` }, words(call.priority)),
          h('strong', {}, `#${call.id}`),
          h('span', { class: 'grow' }, call.complaint || call.address || 'no details'),
          h('span', { class: `badge cs-${call.status}` }, words(call.status)),
        ),
        h(
          'div',
          { class: 'line small' },
          call.status === 'queued'
            ? h('span', { class: 'wait', dataset: { since: call.times.received, prefix: 'waiting ' } }, `waiting ${fmtClock(Date.now() - call.times.received)}`)
            : h('span', { class: 'wait muted', dataset: { since: call.times.received, prefix: 'open ' } }, `open ${fmtClock(Date.now() - call.times.received)}`),
          h('span', { class: 'grow' }, call.address || ''),
          crews.length ? h('span', { class: 'crew-of-call' }, crews.join(', ')) : null,
          route ? h('span', { class: 'eta' }, `ETA ${fmtDuration(route.eta_s)}`) : null,
        ),
      );
    }),
  );
}

function renderCrews() {
  const crews = [...state.crews.values()].sort((a, b) => a.id.localeCompare(b.id));
  const free = crews.filter((c) => c.status === 'available').length;
  $('crews-count').textContent = `${free} of ${crews.length} available`;
  fill(
    $('crews'),
    crews.length ? null : h('li', { class: 'muted' }, 'No crews'),
    crews.map((crew) => {
      const r = state.routes.get(crew.id);
      return h(
        'li',
        {
          class: 'clickable crew-item',
          dataset: { crewId: crew.id, status: crew.status },
          onclick: () => {
            state.map.panTo([crew.position.lat, crew.position.lon]);
            if (crew.call !== null && crew.call !== undefined) select(crew.call);
          },
        },
        h(
          'div',
          { class: 'line' },
          h('span', { class: 'dot', style: `background:${STATUS_COLOURS[crew.status]}` }),
          h('strong', {}, crew.id),
          h('span', { class: 'small muted' }, words(crew.crew_type)),
          h('span', { class: 'grow small muted' }, crew.station ?? ''),
          h('span', { class: `badge st-${crew.status}` }, words(crew.status)),
        ),
        crew.call !== null && crew.call !== undefined
          ? h(
              'div',
              { class: 'line small' },
              h('span', {}, `call #${crew.call}`),
              r ? h('span', { class: 'route-info', dataset: { eta: r.eta_s ?? '', distance: r.distance_m ?? '' } }, r.eta_s === null ? 'no road route' : `${fmtDistance(r.distance_m)} · ETA ${fmtDuration(r.eta_s)}`) : null,
            )
          : null,
      );
    }),
  );
}

const REASONS = {
  nearest_by_road: 'smallest road ETA of the available crews able to serve',
  nearest_by_straight_line: 'nearest in a straight line',
  queued_then_released: 'the call waited in the queue; this crew became free and took it',
  dispatcher_override: 'chosen by the dispatcher',
  interim_general_crew: 'a general crew sent at once while the specialist is far or busy',
};

function reasonText(r) {
  if (r.kind === 'reassigned_faster') {
    return `arrives ${fmtDuration(r.gain_ms / 1000)} sooner than ${r.previous_crew}, which was released`;
  }
  return REASONS[r.kind] ?? words(r.kind);
}

function select(id) {
  state.selected = id;
  render();
  const el = document.querySelector(`#calls li[data-call-id="${id}"]`);
  el?.scrollIntoView({ block: 'nearest' });
}

function renderDetail() {
  const box = $('call-detail');
  const call = state.selected !== null ? state.calls.get(state.selected) : null;
  if (!call) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.dataset.callId = call.id;
  const crews = crewOfCall(call);
  const decision = call.decisions[call.decisions.length - 1];
  // Only dispatchers change calls.
  const open = OPEN(call) && state.me.staff;
  const overrideSelect = h(
    'select',
    { id: 'override-crew', 'aria-label': 'Crew to send' },
    [...state.crews.values()]
      .filter((c) => !crews.includes(c.id))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((c) => h('option', { value: c.id }, `${c.id} (${words(c.status)})`)),
  );
  const reason = h('input', { id: 'cancel-reason', type: 'text', maxlength: '500', placeholder: 'Why cancel (required)', 'aria-label': 'Reason to cancel' });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-call' }, 'Cancel call');
  cancel.addEventListener('click', () => {
    if (!reason.value.trim()) {
      toast('Say why the call is cancelled', 'error');
      reason.focus();
      return;
    }
    if (!cancel.classList.contains('armed')) {
      cancel.classList.add('armed');
      cancel.textContent = 'Confirm cancel';
      setTimeout(() => {
        cancel.classList.remove('armed');
        cancel.textContent = 'Cancel call';
      }, 4000);
      return;
    }
    cancelCall(call.id, reason.value.trim());
  });
  fill(
    box,
    h(
      'header',
      {},
      h('h2', {}, `Call #${call.id}`),
      h('span', { class: `badge prio-${call.priority}` }, words(call.priority)),
      h('span', { class: `badge cs-${call.status}`, id: 'detail-status' }, words(call.status)),
      h('button', { type: 'button', class: 'linkish', onclick: () => { state.selected = null; render(); } }, 'close'),
    ),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Complaint'), h('dd', {}, call.complaint || '–'),
      h('dt', {}, 'Address'), h('dd', {}, call.address || `${call.position.lat.toFixed(5)}, ${call.position.lon.toFixed(5)}`),
      call.phone ? [h('dt', {}, 'Phone'), h('dd', {}, call.phone)] : null,
      h('dt', {}, 'Received'), h('dd', {}, fmtTime(call.times.received)),
      h('dt', {}, 'Crew'),
      h('dd', { id: 'detail-crew' }, crews.length ? crews.join(', ') : call.status === 'queued' ? 'none free: queued' : '–'),
      h('dt', {}, 'ETA'),
      h(
        'dd',
        { id: 'detail-eta' },
        crews.length
          ? crews
              .map((id) => {
                const a = call.assignments.find((x) => x.crew_id === id);
                const r = state.routes.get(id);
                const now = r && r.eta_s !== null ? ` (now ${fmtDuration(r.eta_s)}, ${fmtDistance(r.distance_m)})` : '';
                return `${id}: ${fmtDuration(a.eta_ms / 1000)}${now}`;
              })
              .join('; ')
          : '–',
      ),
    ),
    decision
      ? h(
          'div',
          { id: 'decision' },
          h('p', { class: 'small' }, h('strong', {}, `Why ${decision.crew_id}: `), reasonText(decision.reason)),
          h(
            'table',
            { class: 'cands', id: 'candidates' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Candidate'), h('th', {}, 'Road ETA'))),
            h(
              'tbody',
              {},
              decision.candidates.map((c) =>
                h(
                  'tr',
                  { class: c.crew_id === decision.crew_id ? 'chosen' : '', dataset: { crewId: c.crew_id } },
                  h('td', {}, c.crew_id === decision.crew_id ? `${c.crew_id} ✓` : c.crew_id),
                  h('td', {}, fmtDuration(c.eta_ms / 1000)),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted small' }, 'No crew decision yet: the call waits for a free crew able to serve it.'),
    open
      ? h(
          'div',
          { class: 'row' },
          overrideSelect,
          h('button', { type: 'button', id: 'override', onclick: () => override(call.id, overrideSelect.value) }, 'Send this crew'),
        )
      : null,
    open ? h('div', { class: 'row' }, reason, cancel) : null,
    handoverBlock(call),
  );
}

function handoverBlock(call) {
  if (!state.me.staff || !call.times.handover) return null;
  const rec = state.handovers.get(call.id);
  if (!rec) {
    state.api
      .get(`/api/calls/${call.id}/handover`)
      .then((r) => {
        state.handovers.set(call.id, r);
        if (state.selected === call.id) renderDetail();
      })
      .catch(() => {});
    return h('p', { class: 'muted' }, 'Loading the handover…');
  }
  const ho = rec.handover;
  const v = ho.vitals ?? {};
  const vitals = [
    ['HR', v.heart_rate, '/min'],
    ['BP', v.systolic_bp !== null && v.systolic_bp !== undefined ? `${v.systolic_bp}/${v.diastolic_bp ?? '–'}` : null, ' mmHg'],
    ['SpO₂', v.spo2, ' %'],
    ['RR', v.respiratory_rate, '/min'],
    ['T', v.temperature_c, ' °C'],
    ['GCS', v.gcs, ''],
  ]
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x, u]) => `${k} ${x}${u}`)
    .join(' · ');
  return h(
    'div',
    { id: 'handover', class: 'card' },
    h('h2', {}, 'Handover'),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Patient'),
      h('dd', {}, [ho.patient?.name, ho.patient?.birth_date, ho.patient?.sex].filter(Boolean).join(', ') || '–'),
      h('dt', {}, 'Hospital'), h('dd', {}, ho.hospital),
      h('dt', {}, 'Diagnosis'), h('dd', {}, ho.diagnosis_icd10 ?? '–'),
      h('dt', {}, 'Vitals'), h('dd', {}, vitals || '–'),
      h('dt', {}, 'Notes'), h('dd', {}, ho.notes ?? '–'),
      h('dt', {}, 'Recorded'), h('dd', {}, fmtTime(rec.recorded_at)),
    ),
    h('button', { type: 'button', id: 'fhir-export', onclick: () => exportFhir(call.id) }, 'Export FHIR bundle'),
  );
}

async function exportFhir(id) {
  try {
    const bundle = await state.api.get(`/api/calls/${id}/handover/fhir`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }));
    const a = h('a', { href: url, download: `call-${id}-handover.fhir.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(`Cannot export: ${e.message}`, 'error');
  }
}

async function override(callId, crewId) {
  if (!crewId) return;
  try {
    const call = await state.api.post(`/api/calls/${callId}/assign`, { crew_id: crewId });
    state.calls.set(call.id, call);
    toast(`Call ${callId}: ${crewId} sent`, 'ok');
  } catch (e) {
    toast(`Override refused: ${e.message}`, 'error');
  }
  state.dirtyCrews.add(crewId);
  scheduleRefresh();
}

async function cancelCall(callId, reason) {
  try {
    const call = await state.api.post(`/api/calls/${callId}/cancel`, { reason });
    state.calls.set(call.id, call);
    toast(`Call ${callId} cancelled`, 'ok');
  } catch (e) {
    toast(`Cannot cancel: ${e.message}`, 'error');
  }
  scheduleRefresh();
}

function renderClosures() {
  fill(
    $('closures'),
    state.closures.length ? null : h('li', { class: 'muted' }, 'No closures. Use Close road or Draw closed area on the map.'),
    state.closures.map((c) =>
      h(
        'li',
        { class: 'closure-item', dataset: { closureId: c.id } },
        h(
          'div',
          { class: 'line' },
          h('strong', {}, `#${c.id}`),
          h(
            'span',
            { class: 'grow' },
            `${c.closed === false ? `slowed ×${c.factor}` : 'closed'} · ${c.polygon ? 'area' : c.point ? `${c.radius_m} m around a point` : `${c.way_ids?.length ?? 0} ways`} · ${c.arcs ?? 0} pieces${c.active === false ? ' · not active now' : ''}`,
          ),
          h('button', { type: 'button', class: 'reopen', onclick: () => removeClosure(c.id) }, 'Reopen'),
        ),
      ),
    ),
  );
}

function renderEvents() {
  $('last-seq').textContent = state.lastSeq ? `up to #${state.lastSeq}` : '';
  fill(
    $('events'),
    state.events.slice(0, 40).map((e) => h('li', { dataset: { seq: e.seq } }, `${e.seq} ${e.type} ${eventSummary(e)}`)),
  );
}

function eventSummary(e) {
  if (e.decision) return `call ${e.decision.call_id} → ${e.decision.crew_id}`;
  if (e.type === 'crew_status') return `${e.crew_id} ${e.from} → ${e.to}`;
  if (e.type === 'call_status') return `call ${e.call_id} ${e.status}`;
  if (e.type === 'assignment' || e.type === 'reroute') return `${e.crew_id} → call ${e.call?.id}`;
  return [e.crew_id, e.call_id !== undefined ? `call ${e.call_id}` : null].filter(Boolean).join(' ');
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('.wait[data-since]')) {
    el.textContent = `${el.dataset.prefix}${fmtClock(now - Number(el.dataset.since))}`;
  }
}

// ---------------------------------------------------------------- a crew's token

/** A crew token on the console: its own crew and calls, read-only, no medical data. */
async function crewView() {
  const me = state.me;
  const banner = $('crew-banner');
  banner.hidden = false;
  fill(
    banner,
    `Signed in as crew ${me.crew_id}: this is a read-only view of your own crew and calls. `,
    h('a', { href: '/tablet' }, 'Open the crew tablet'),
  );
  $('new-call').hidden = true;
  $('map-tools').hidden = true;
  $('events-card').hidden = true;
  $('closures-card').hidden = true;
  setConn('live', 'read-only');
  const refresh = async () => {
    try {
      const [crews, calls] = await Promise.all([state.api.get('/api/crews'), state.api.get('/api/calls')]);
      state.crews = new Map(crews.map((c) => [c.id, c]));
      state.calls = new Map(calls.map((c) => [c.id, c]));
      await updateRoutes();
      render();
      setConn('live', 'read-only');
    } catch (e) {
      setConn('offline', e.offline ? 'offline' : 'error');
    }
  };
  await refresh();
  setInterval(refresh, 10000);
  setInterval(tick, 1000);
  document.body.dataset.ready = 'true';
}

// ---------------------------------------------------------------- test hooks

/** For the browser tests and for debugging from the developer tools. */
window.__console = {
  get lastSeq() { return state.lastSeq; },
  get seqs() { return [...state.seqs]; },
  get gaps() { return state.gaps; },
  get duplicates() { return state.duplicates; },
  get connected() { return state.connected; },
  /** Drops the console socket; with `hold`, it stays down until `resume()`. */
  drop(hold = true) {
    state.hold = hold;
    state.ws?.close();
  },
  resume() {
    state.hold = false;
    connect();
  },
  /** The page coordinates of a point on the map. */
  pixelOf(lat, lon) {
    const p = state.map.latLngToContainerPoint([lat, lon]);
    const r = state.map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  },
  /** The route drawn for a crew, `[[lat, lon], ...]`. */
  route(crewId) {
    const r = state.routes.get(crewId);
    return r ? { eta_s: r.eta_s, distance_m: r.distance_m, coords: r.coords } : null;
  },
  view(lat, lon, zoom) {
    state.map.setView([lat, lon], zoom, { animate: false });
  },
};

main().catch((e) => {
  console.error(e);
  toast(e instanceof ApiError ? e.message : `The console failed to start: ${e}`, 'error');
});
