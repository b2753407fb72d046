// The open calls: waiting ones first (by priority, handed-back calls at the head of their
// priority, then oldest first, as the service's queue), each with its waiting time (its
// timer: amber from 75 % of its priority's norm, red past it, stopped when the first crew
// is on scene), its crews and ETA; handed-back and late calls marked.

import { h, fill, fmtDuration, fmtClock } from '../common.js';
import { t, priorityName, callStatusName, handBackName } from '../i18n.js';
import {
  $, state, OPEN, PRIORITY_RANK, crewOfCall, isLate, lateText, select,
} from './state.js';

/** Share of the norm from which a call's timer is amber. */
export const AMBER_AT = 0.75;

/**
 * A call's timer at `now`: the time since it was received (stopped when the first crew is
 * on scene), and its level against the norm of its priority (`late_at` − received): `ok`,
 * `amber` from 75 % of it, `red` once it is reached; `null` with no norm.
 */
export function callTimer(call, now = Date.now()) {
  const received = call.times?.received ?? now;
  const onScene = call.times?.on_scene ?? null;
  const elapsed = Math.max(0, (onScene ?? now) - received);
  const norm = typeof call.late_at === 'number' ? call.late_at - received : null;
  let level = null;
  if (norm !== null && norm > 0) level = elapsed >= norm ? 'red' : elapsed >= AMBER_AT * norm ? 'amber' : 'ok';
  return { elapsed, level, stopped: onScene !== null };
}

/** The timer's words in the list: waiting, open, or on scene after (stopped). */
function timerText(call, now) {
  const { elapsed, stopped } = callTimer(call, now);
  const key = stopped ? 'calls.on_scene_after' : call.status === 'queued' ? 'calls.waiting' : 'calls.open_for';
  return t(key, { clock: fmtClock(elapsed) });
}

/** The list's timer element of a call: its words and its level. */
function setListTimer(el, call, now) {
  const { level, stopped } = callTimer(call, now);
  const text = timerText(call, now);
  if (el.textContent !== text) el.textContent = text;
  const quiet = call.status !== 'queued' && (level === 'ok' || level === null);
  el.className = `wait timer-${level ?? 'none'}${stopped ? ' stopped' : ''}${quiet ? ' muted' : ''}`;
  el.dataset.timer = level ?? 'none';
}

export function sortedOpenCalls() {
  return [...state.calls.values()].filter(OPEN).sort((a, b) => {
    const qa = a.status === 'queued' ? 0 : 1;
    const qb = b.status === 'queued' ? 0 : 1;
    return (
      qa - qb ||
      PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
      (b.handed_back ? 1 : 0) - (a.handed_back ? 1 : 0) ||
      a.times.received - b.times.received ||
      a.id - b.id
    );
  });
}

/** The last hand-back of a call the console saw, as words (`null`: none seen). */
export function lastHandBack(callId) {
  const list = state.handBacks.get(callId);
  if (!list?.length) return null;
  const b = list[list.length - 1];
  return t('calls.handed_back_by', { crew: b.crew_id, reason: handBackName(b.reason) });
}

function listTimer(call, now) {
  const el = h('span', { class: 'wait', dataset: { callId: call.id } });
  setListTimer(el, call, now);
  return el;
}

export function renderCalls() {
  const open = sortedOpenCalls();
  const now = Date.now();
  $('calls-count').textContent = t('calls.count', { open: open.length, waiting: open.filter((c) => c.status === 'queued').length });
  fill(
    $('calls'),
    open.length ? null : h('li', { class: 'muted' }, t('calls.none')),
    open.map((call) => {
      const crews = crewOfCall(call);
      const route = crews.map((id) => state.routes.get(id)).find((r) => r && r.eta_s !== null);
      const late = isLate(call, now);
      const handBack = lastHandBack(call.id);
      const cls = [
        'clickable call-item',
        call.status === 'queued' ? 'queued' : '',
        state.selected === call.id ? 'selected' : '',
        call.handed_back ? 'handed-back' : '',
        late ? 'late' : '',
      ];
      return h(
        'li',
        {
          class: cls.filter(Boolean).join(' '),
          dataset: {
            callId: call.id,
            status: call.status,
            priority: call.priority,
            handedBack: call.handed_back ? 'true' : null,
            lateAt: call.late_at ?? null,
            onScene: call.times.on_scene ? 'true' : null,
          },
          onclick: () => select(call.id),
        },
        h(
          'div',
          { class: 'line' },
          h('span', { class: `badge prio-${call.priority}` }, priorityName(call.priority)),
          h('strong', {}, t('calls.number', { id: call.id })),
          h('span', { class: 'grow' }, call.complaint || call.address || t('calls.no_details')),
          call.handed_back ? h('span', { class: 'badge handed-back-badge' }, t('calls.handed_back')) : null,
          h('span', { class: 'badge late-badge', hidden: !late }, t('calls.late')),
          h('span', { class: `badge cs-${call.status}` }, callStatusName(call.status)),
        ),
        h(
          'div',
          { class: 'line small' },
          listTimer(call, now),
          h('span', { class: 'grow' }, call.address || ''),
          crews.length ? h('span', { class: 'crew-of-call' }, crews.join(', ')) : null,
          route ? h('span', { class: 'eta' }, t('calls.eta', { eta: fmtDuration(route.eta_s) })) : null,
        ),
        handBack ? h('div', { class: 'line small handback-note' }, handBack) : null,
      );
    }),
  );
}

/** Every second: the timers count, and calls that became late are marked. */
export function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('#calls .wait[data-call-id]')) {
    const call = state.calls.get(Number(el.dataset.callId));
    if (call) setListTimer(el, call, now);
  }
  for (const li of document.querySelectorAll('#calls li.call-item[data-late-at]')) {
    const late = !li.dataset.onScene && now >= Number(li.dataset.lateAt);
    li.classList.toggle('late', late);
    const badge = li.querySelector('.late-badge');
    if (badge) badge.hidden = !late;
  }
  const late = document.getElementById('detail-late');
  if (late?.dataset.lateAt) {
    const at = Number(late.dataset.lateAt);
    const onScene = late.dataset.onScene ? Number(late.dataset.onScene) : null;
    late.classList.toggle('late', !onScene && now >= at);
    late.textContent = lateText(at, onScene, now);
  }
}
