// The tablet's hospital and station: the hospital the service suggests for what the patient
// needs (or another the crew picks) and its card; the crew's station and its card; the
// routes to them besides the call's, with their symbols.

import {
  L, toast, h, fill, fmtMinutes, fmtDistance, placeIcon,
} from '../common.js';
import { t, errorText } from '../i18n.js';
import {
  $, S, layers, marks, NEEDS, TO_HOSPITAL, SIDE_STYLE, save, shownStatus, render,
} from './state.js';

/** The station the crew's `station` names (by id, else by name), if the service has it. */
export function homeStation() {
  const named = S.crew?.station;
  if (!named) return null;
  return S.stations.find((st) => st.id === named) ?? S.stations.find((st) => st.name === named) ?? null;
}

/** The hospital the crew takes the patient to: its own pick, else the service's suggestion. */
export function chosenHospital() {
  const id = S.choice?.picked ?? S.choice?.suggested?.id;
  return id ? S.hospitals.find((x) => x.id === id) ?? null : null;
}

/** The need a new call's patient starts with: the crew's speciality when it has one. */
export function firstNeed() {
  return S.crew?.crew_type === 'paediatric' ? 'paediatric' : 'general';
}

/** Asks the service for the capable hospital the crew reaches soonest. */
export async function suggestHospital() {
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
export function renderHospitalCard(show) {
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

export function renderHomeCard(station) {
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
export function sideRoutes() {
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
