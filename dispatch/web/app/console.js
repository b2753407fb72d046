// The dispatcher console, the entry: signs in, draws the map, loads the state and follows
// the stream. The parts live in ./console/: the state (state.js), the stream (stream.js),
// the map and its modes (map.js), routes (routes.js), closures (closures.js), the new-call
// form (newcall.js), the open calls (calls.js), the selected call (detail.js), the crews
// panel (crews.js), the event list (events.js), a crew token's read-only view
// (crewview.js), street names (labels.js) and the alert for a waiting emergency
// (alerts.js).

import { L, Api, takeToken, signOut, showLogin, toast, createMap } from './common.js';
import { t, errorText, roleName, startPage } from './i18n.js';
import { $, state, layers, onRender } from './console/state.js';
import { connect, loadAll, drop, resume } from './console/stream.js';
import {
  wireMap, wireTools, drawCrews, drawCalls, drawPlaces, tickMarkers,
} from './console/map.js';
import { drawRoutes } from './console/routes.js';
import { wireClosures, finishArea, renderClosures } from './console/closures.js';
import { wireForm } from './console/newcall.js';
import { renderCalls, tick } from './console/calls.js';
import { renderDetail, wireDetail } from './console/detail.js';
import { renderCrews, wireCrews } from './console/crews.js';
import { renderEvents } from './console/events.js';
import { crewView } from './console/crewview.js';
import { alerts, wireAlerts, primeAlerts, checkAlerts } from './console/alerts.js';

onRender(() => {
  drawCrews();
  drawCalls();
  drawRoutes();
  renderCalls();
  renderCrews();
  renderDetail();
  renderClosures();
  renderEvents();
  checkAlerts();
});

async function main() {
  startPage();
  $('sign-out').addEventListener('click', signOut);
  const token = takeToken();
  if (!token) return showLogin(t('app.console'));
  state.api = new Api(token);
  try {
    state.me = await state.api.get('/api/me');
  } catch (e) {
    if (e.status === 401) return showLogin(t('app.console'), t('login.refused'));
    return showLogin(t('app.console'), t('login.unreachable', { message: errorText(e) }));
  }
  const me = state.me;
  $('who').textContent = me.crew_id ? t('crew.form.edit', { id: me.crew_id }) : roleName(me.role);
  document.body.dataset.role = me.role;
  const { map } = await createMap($('map'), state.api);
  state.map = map;
  layers.closures = L.layerGroup().addTo(map);
  wireMap();
  drawPlaces().catch((e) => console.warn('hospitals and stations', e));
  if (!me.staff) return crewView();

  wireForm();
  wireTools(finishArea);
  wireClosures();
  wireDetail();
  wireCrews();
  state.lastSeq = me.last_seq;
  wireAlerts();
  await loadAll();
  primeAlerts();
  connect();
  setInterval(() => {
    tick();
    tickMarkers();
  }, 1000);
  document.body.dataset.ready = 'true';
}

/** For the browser tests and for debugging from the developer tools. */
window.__console = {
  get lastSeq() { return state.lastSeq; },
  get seqs() { return [...state.seqs]; },
  get gaps() { return state.gaps; },
  get duplicates() { return state.duplicates; },
  get connected() { return state.connected; },
  /** Drops the console socket; with `hold`, it stays down until `resume()`. */
  drop,
  resume,
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
  /** The street names drawn now, `[{name, cls}]`, and how long drawing them took (ms). */
  get streetLabels() {
    const s = layers.streets;
    return s ? { labels: s.labels, ms: s.ms } : null;
  },
  /** Alerts for a waiting emergency: sounded, and left silent by the mute switch. */
  get alerts() { return alerts.sounded; },
  get alertsSilenced() { return alerts.silenced; },
  get muted() { return alerts.muted; },
};

main().catch((e) => {
  console.error(e);
  toast(t('start_failed.console', { message: errorText(e) }), 'error');
});
