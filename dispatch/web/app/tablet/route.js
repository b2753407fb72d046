// The tablet's assignment and its route: the crew's and the call's markers, the route to the
// call, the map fitted to the route that matters now, the turns in words.

import { L, toast, h, fill, fmtDistance, STATUS_COLOURS } from '../common.js';
import { t, has, errorText } from '../i18n.js';
import {
  $, S, layers, marks, TO_HOSPITAL, save, shownStatus, render,
} from './state.js';

export function clearAssignment() {
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

export function drawCrew() {
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

export function drawAssignment(fit) {
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
export function focusMap() {
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
export async function refreshRoute(replace) {
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
