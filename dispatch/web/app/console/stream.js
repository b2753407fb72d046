// The console stream: the state from the REST API, then `/ws/console?since=<seq>` from that
// log position; after a dropped connection it reconnects with the last `seq` it saw, so
// every entry arrives once, in order. An entry marks the calls and crews it concerns, which
// are read again shortly after (several entries in a burst, one read each).

import { toast } from '../common.js';
import { closeText } from '../i18n.js';
import { state, render, setConn } from './state.js';
import { updateRoutes, takeRoute } from './routes.js';
import { drawClosures, reloadClosures } from './closures.js';

/** Everything from the REST API: the starting point of the stream (events after `lastSeq`). */
export async function loadAll() {
  const api = state.api;
  const [crews, calls, closures] = await Promise.all([
    api.get('/api/crews'),
    api.all('/api/calls?limit=5000'),
    api.get('/api/closures'),
  ]);
  state.crews = new Map(crews.map((c) => [c.id, c]));
  state.calls = new Map(calls.map((c) => [c.id, c]));
  state.closures = closures;
  drawClosures();
  await updateRoutes();
  render();
}

export function connect() {
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
  ws.onclose = (ev) => {
    if (state.ws !== ws) return;
    const why = closeText(ev.code);
    if (why) toast(why, ev.code === 1013 ? 'info' : 'error');
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

/** Drops the socket; with `hold`, it stays down until `resume()` (tests, debugging). */
export function drop(hold = true) {
  state.hold = hold;
  state.ws?.close();
}

export function resume() {
  state.hold = false;
  connect();
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
    case 'call_edited':
    case 'call_linked':
    case 'needs_dropped':
      state.dirtyCalls.add(e.call_id);
      break;
    case 'handover_recorded':
      // A new version: read again when shown.
      state.handovers.delete(e.call_id);
      state.deliveries.delete(e.call_id);
      state.dirtyCalls.add(e.call_id);
      break;
    case 'fhir_delivery':
      state.deliveries.set(e.call_id, e);
      state.dirtyCalls.add(e.call_id);
      break;
    case 'call_handed_back': {
      const list = state.handBacks.get(e.call_id) ?? [];
      list.push({ crew_id: e.crew_id, reason: e.reason, at: e.at, pickup: e.pickup ?? null });
      state.handBacks.set(e.call_id, list);
      state.dirtyCalls.add(e.call_id);
      state.dirtyCrews.add(e.crew_id);
      break;
    }
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
    case 'crew_updated':
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
      takeRoute(e);
      break;
    default:
      break;
  }
  scheduleRefresh();
}

export function scheduleRefresh() {
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

