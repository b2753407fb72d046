// The console's state: what the service told it (crews, calls, closures, routes), what the
// dispatcher is doing (selected call, map mode) and the stream's bookkeeping; the map
// layers; small queries shared by the other modules.

import { fmtDayTime } from '../common.js';
import { t } from '../i18n.js';

export const $ = (id) => document.getElementById(id);

export const state = {
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
  deliveries: new Map(), // call id -> its handover's delivery to the patient's record, null: none
  handBacks: new Map(), // call id -> [{crew_id, reason, at, pickup}] seen on the stream
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

export const layers = {
  crews: new Map(),
  calls: new Map(),
  routes: new Map(),
  closures: null,
  draft: null,
  pick: null,
  crewPick: null,
};

export const OPEN = (c) => c.status !== 'completed' && c.status !== 'cancelled';
export const ROUTED = new Set(['dispatched', 'en_route']);
export const PRIORITY_RANK = { emergency: 0, urgent: 1, non_urgent: 2 };
export const PRIORITIES = ['emergency', 'urgent', 'non_urgent'];
export const CREW_TYPES = ['general', 'resuscitation', 'paediatric', 'psychiatric'];

let renderAll = () => {};

/** Sets what `render()` draws (the console's entry does, once). */
export function onRender(f) {
  renderAll = f;
}

/** Draws the map and the panel again from the state. */
export function render() {
  renderAll();
}

/** The connection badge: `kind` (live, reconnecting, offline) and its words (a `conn.*` key). */
export function setConn(kind, text) {
  const el = $('conn');
  el.className = `conn ${kind}`;
  el.textContent = t(`conn.${text ?? kind}`);
  document.body.dataset.conn = kind;
}

/** The crews working on a call now. */
export function crewOfCall(call) {
  const active = call.assignments.filter((a) => a.finished_at === null || a.finished_at === undefined);
  return active.map((a) => a.crew_id);
}

/** Whether a call is late: open, no crew on scene yet, and past its priority's norm. */
export function isLate(call, now = Date.now()) {
  return OPEN(call) && !call.times.on_scene && typeof call.late_at === 'number' && now >= call.late_at;
}

/** When the call is late, as words: `14:32`, `14:32 (late)`, `14:32 (on scene in time)`. */
export function lateText(lateAt, onScene, now = Date.now()) {
  if (typeof lateAt !== 'number') return '–';
  const time = fmtDayTime(lateAt);
  if (onScene) return t(onScene > lateAt ? 'late.reached_late' : 'late.in_time', { time });
  return now >= lateAt ? t('late.late', { time }) : time;
}

/** Selects a call: its detail opens and its list entry scrolls into view. */
export function select(id) {
  state.selected = id;
  render();
  const el = document.querySelector(`#calls li[data-call-id="${id}"]`);
  el?.scrollIntoView({ block: 'nearest' });
}
