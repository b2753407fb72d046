// The route of each crew on its way to a call: read from the OSRM API (again when the crew,
// the call or the closures change) and drawn on the map.

import { L } from '../common.js';
import { state, layers, OPEN, ROUTED } from './state.js';

/** What a drawn route depends on: when it changes, the route is read again. */
export function routeKey(crew, callPos) {
  return `${crew.call}|${crew.position.lat},${crew.position.lon}|${callPos.lat},${callPos.lon}|${state.closureVersion}`;
}

/** Keeps the route a tablet message (`assignment`, `reroute`) carried. */
export function takeRoute(e) {
  if (!e.route?.geometry) return;
  const crew = state.crews.get(e.crew_id);
  state.routes.set(e.crew_id, {
    key: crew ? routeKey(crew, e.call) : null,
    callId: e.call.id,
    eta_s: e.route.eta_s,
    distance_m: e.route.distance_m,
    coords: e.route.geometry.coordinates.map(([lon, lat]) => [lat, lon]),
  });
}

/** The route of each crew on its way to a call (from the OSRM API, again after closures). */
export async function updateRoutes() {
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

export function drawRoutes() {
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
