// The console's map: crews coloured by status, open calls by priority; what a click does
// (the map mode: place a new call, close a road, draw a closed area, place a new crew, move
// the selected call); the marker of the picked place.

import { L, STATUS_COLOURS } from '../common.js';
import { t } from '../i18n.js';
import { $, state, layers, OPEN, select } from './state.js';

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

export function wireMap() {
  state.map.on('click', onMapClick);
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

export function drawCrews() {
  const seen = new Set();
  for (const crew of state.crews.values()) {
    seen.add(crew.id);
    const colour = STATUS_COLOURS[crew.status] ?? '#4b5563';
    const ll = [crew.position.lat, crew.position.lon];
    const label = crew.call_sign ? `${crew.id} · ${crew.call_sign}` : crew.id;
    let m = layers.crews.get(crew.id);
    if (!m) {
      // Leaflet shows a string tooltip as HTML: the label (a call sign is free text) goes in
      // as a text node.
      m = L.circleMarker(ll, { radius: 10, weight: 3, color: '#ffffff', fillOpacity: 1 })
        .bindTooltip(document.createTextNode(label), {
          permanent: true, direction: 'right', offset: [10, 0], className: 'crew-label',
        })
        .addTo(state.map);
      m._label = label;
      layers.crews.set(crew.id, m);
    }
    if (m._label !== label) {
      m.setTooltipContent(document.createTextNode(label));
      m._label = label;
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
