// The console's map: crews coloured by status with their type and call sign, open calls by
// priority with their timer against the norm, hospitals (with what they treat) and
// stations, street names (./labels.js); what a click does (the map mode: place a new call,
// close a road, draw a closed area, place a new crew, move the selected call); the marker
// of the picked place.

import { L, STATUS_COLOURS, h, placeIcon } from '../common.js';
import { t, priorityName, crewTypeName } from '../i18n.js';
import { $, state, layers, OPEN, select } from './state.js';
import { callTimer } from './calls.js';
import { StreetLabels } from './labels.js';

/** Mode → what a click at `{lat, lon}` does (set by the modules that own the modes). */
const handlers = new Map();

/** What the map's hint says in each mode (none: placing a new call). */
const HINTS = {
  call: null,
  close: 'hint.close',
  draw: 'hint.draw',
  crew: 'hint.crew',
  move: 'hint.move',
};

/** Lets a module handle the map's clicks in `mode`. */
export function onClick(mode, f) {
  handlers.set(mode, f);
}

function onMapClick(ev) {
  const { lat, lng } = ev.latlng;
  if (!state.me?.staff) return;
  handlers.get(state.mode)?.({ lat, lon: lng });
}

/** Sets what a click on the map does; the tool buttons and the hint follow. */
export function setMode(mode) {
  state.mode = mode;
  for (const m of ['call', 'close', 'draw']) $(`mode-${m}`).classList.toggle('on', m === mode);
  $('draw-finish').hidden = mode !== 'draw';
  $('draw-cancel').hidden = mode !== 'draw';
  const hint = HINTS[mode] ? t(HINTS[mode]) : null;
  $('map-hint').hidden = !hint;
  $('map-hint').textContent = hint ?? '';
  $('map').style.cursor = mode === 'call' ? '' : 'crosshair';
  document.body.dataset.mapMode = mode;
  if (mode !== 'draw') {
    state.draft = [];
    drawDraft();
  }
}

/** Below this zoom a call's timer shows only once it is amber or red (fewer labels). */
const TIMERS_ALL_FROM = 14;

export function wireMap() {
  state.map.on('click', onMapClick);
  layers.streets = new StreetLabels(state.map);
  const far = () => state.map.getContainer().classList.toggle('zoom-far', state.map.getZoom() < TIMERS_ALL_FROM);
  state.map.on('zoomend', far);
  far();
}

export function wireTools(finishArea) {
  $('mode-call').addEventListener('click', () => setMode('call'));
  $('mode-close').addEventListener('click', () => setMode(state.mode === 'close' ? 'call' : 'close'));
  $('mode-draw').addEventListener('click', () => setMode(state.mode === 'draw' ? 'call' : 'draw'));
  $('draw-cancel').addEventListener('click', () => setMode('call'));
  $('draw-finish').addEventListener('click', finishArea);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.mode !== 'call') setMode('call');
  });
}

/** A ring marker at a picked place (`null`: none); `className` tells them apart. */
export function pickMarker(old, p, className) {
  old?.remove();
  if (!p) return null;
  return L.circleMarker([p.lat, p.lon], {
    radius: 11,
    color: '#0b1220',
    weight: 3,
    fillColor: '#ffffff',
    fillOpacity: 0.7,
    className,
    interactive: false,
  }).addTo(state.map);
}

/** The place of the new call. */
export function setPick(p) {
  state.pick = p;
  layers.pick = pickMarker(layers.pick, p, 'pick');
}

export function drawDraft() {
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

/** A crew's type as its letter (`Р` for resuscitation), its name on hover. */
function crewLetter(type) {
  const key = `crew_letter.${type}`;
  return h('span', { class: `crew-type ct-${type}`, title: crewTypeName(type) }, t(key) === key ? '?' : t(key));
}

/** A crew's label: its type's letter, id and call sign (as text, never HTML). */
function crewLabel(crew) {
  const text = crew.call_sign ? `${crew.id} · ${crew.call_sign}` : crew.id;
  return h('span', { class: 'crew-label-body', dataset: { crewId: crew.id, crewType: crew.crew_type } }, crewLetter(crew.crew_type), ' ', text);
}

export function drawCrews() {
  const seen = new Set();
  for (const crew of state.crews.values()) {
    seen.add(crew.id);
    const colour = STATUS_COLOURS[crew.status] ?? '#4b5563';
    const ll = [crew.position.lat, crew.position.lon];
    const key = `${crew.crew_type}|${crew.id}|${crew.call_sign ?? ''}`;
    let m = layers.crews.get(crew.id);
    if (!m) {
      // Leaflet shows a string tooltip as HTML: the label (a call sign is free text) goes in
      // as elements with text nodes.
      m = L.circleMarker(ll, { radius: 10, weight: 3, color: '#ffffff', fillOpacity: 1 })
        .bindTooltip(crewLabel(crew), {
          permanent: true, direction: 'right', offset: [10, 0], className: 'crew-label',
        })
        .addTo(state.map);
      m._label = key;
      layers.crews.set(crew.id, m);
    }
    if (m._label !== key) {
      m.setTooltipContent(crewLabel(crew));
      m._label = key;
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

/** A call's marker: its number, and its timer (minutes since received) above it. */
function callIcon(call, cls) {
  const timer = h('span', { class: 'call-timer' });
  const el = h('div', {}, h('span', { class: 'call-no' }, String(call.id)), timer);
  setTimer(timer, call);
  return L.divIcon({ className: cls, html: el, iconSize: [26, 26] });
}

/** A call's timer element: whole minutes, and its level (`timer-ok|amber|red`, stopped). */
export function setTimer(el, call, now = Date.now()) {
  const { elapsed, level, stopped } = callTimer(call, now);
  const text = t('unit.min', { n: Math.floor(elapsed / 60000) });
  if (el.textContent !== text) el.textContent = text;
  const cls = `call-timer timer-${level ?? 'none'}${stopped ? ' stopped' : ''}`;
  if (el.className !== cls) el.className = cls;
  el.dataset.timer = level ?? 'none';
}

/** What a call's marker says on hover: number, priority, complaint (text only). */
function callTip(call) {
  return h('span', {}, `${t('calls.number', { id: call.id })} · ${priorityName(call.priority)}`, call.complaint ? h('br') : null, call.complaint || null);
}

export function drawCalls() {
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
      m.bindTooltip(callTip(call), { direction: 'top', offset: [0, -32], className: 'call-tip' });
      layers.calls.set(call.id, m);
    }
    m.setLatLng(ll);
    m._call = call;
    if (m.options.icon?.options?.className !== cls) m.setIcon(callIcon(call, cls));
    const tip = `${call.priority}|${call.complaint}`;
    if (m._tip !== tip) {
      m.setTooltipContent(callTip(call));
      m._tip = tip;
    }
    tickCall(m);
  }
  for (const [id, m] of layers.calls) {
    if (!seen.has(id)) {
      m.remove();
      layers.calls.delete(id);
    }
  }
}

function tickCall(m, now = Date.now()) {
  const el = m.getElement()?.querySelector('.call-timer');
  if (el && m._call) setTimer(el, m._call, now);
}

/** Every second: the timers on the call markers. */
export function tickMarkers() {
  const now = Date.now();
  for (const m of layers.calls.values()) tickCall(m, now);
}

// ---------------------------------------------------------------- hospitals and stations


/** What a hospital treats, in words. */
export function capabilitiesText(caps) {
  return (caps ?? []).map((c) => (t(`capability.${c}`) === `capability.${c}` ? c : t(`capability.${c}`))).join(t('list_sep'));
}

/** A Leaflet tooltip with a name and a second line, as text. */
function placeTip(name, line) {
  return h('span', {}, h('strong', {}, name), line ? h('br') : null, line || null);
}

/**
 * Hospitals from `/api/hospitals` (an `H`; name and what it treats on hover) and stations
 * from `/api/stations` (a house and its name; none while the service has no such list).
 */
export async function drawPlaces() {
  const api = state.api;
  const [hospitals, stations] = await Promise.all([
    api.get('/api/hospitals').catch(() => []),
    api.get('/api/stations').catch(() => []),
  ]);
  layers.places?.remove();
  const group = L.layerGroup();
  state.hospitals = Array.isArray(hospitals) ? hospitals : [];
  state.stations = Array.isArray(stations) ? stations : [];
  for (const hsp of state.hospitals) {
    const pos = hsp.position ?? { lat: hsp.lat, lon: hsp.lon };
    L.marker([pos.lat, pos.lon], { icon: placeIcon('hospital'), keyboard: false, zIndexOffset: -500 })
      .bindTooltip(placeTip(hsp.name, t('hospital.treats', { list: capabilitiesText(hsp.capabilities) })), {
        direction: 'top', offset: [0, -12], className: 'place-tip',
      })
      .addTo(group);
  }
  for (const st of state.stations) {
    const pos = st.position ?? { lat: st.lat, lon: st.lon };
    L.marker([pos.lat, pos.lon], { icon: placeIcon('station'), keyboard: false, zIndexOffset: -600 })
      .bindTooltip(h('span', { class: 'station-name' }, st.name || st.id), {
        permanent: true, direction: 'bottom', offset: [0, 8], className: 'station-label',
      })
      .addTo(group);
  }
  layers.places = group.addTo(state.map);
}
