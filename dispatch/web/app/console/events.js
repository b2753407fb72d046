// The event stream in plain words, newest first, each with its time and who did it (a
// token's name, or `system` for what the dispatch rules decided on their own).

import { h, fill, fmtDuration, fmtDayTime, fmtTime, words } from '../common.js';
import { $, state } from './state.js';
import { HAND_BACK_REASONS } from './calls.js';
import { reasonText } from './detail.js';

const DROP_REASONS = {
  patient_left_scene: 'the patient left the scene',
  call_closed: 'the call closed',
};

const needList = (needs) => needs.map(words).join(' + ');

/** What a call edit changed, in words. */
function callChanges(c = {}) {
  const out = [];
  if (c.priority) out.push(`priority ${words(c.priority)}`);
  if (c.position) out.push('place moved');
  if (c.needs) out.push(`needs ${needList(c.needs)}`);
  if (c.complaint !== undefined) out.push(`complaint "${c.complaint}"`);
  if (c.address !== undefined) out.push(`address "${c.address}"`);
  if (c.notes !== undefined) out.push('notes');
  return out.join(', ') || 'nothing';
}

/** What a crew change changed, in words. */
function crewChanges(c = {}) {
  const out = [];
  if (c.crew_type) out.push(`type ${words(c.crew_type)}`);
  if ('call_sign' in c) out.push(c.call_sign === null ? 'call sign cleared' : `call sign "${c.call_sign}"`);
  if ('station' in c) out.push(c.station === null ? 'station cleared' : `station "${c.station}"`);
  if ('shift_end' in c) out.push(c.shift_end === null ? 'shift end cleared' : `shift ends ${fmtDayTime(c.shift_end)}`);
  return out.join(', ') || 'nothing';
}

/** One log entry in plain words. */
export function describe(e) {
  switch (e.type) {
    case 'call_created':
      return `call ${e.call_id} received: ${words(e.priority)}${e.complaint ? `, ${e.complaint}` : ''}`;
    case 'call_queued':
      return `call ${e.call_id} waits: no ${e.pending?.length ? `${needList(e.pending)} ` : ''}crew free`;
    case 'call_assigned': {
      const d = e.decision;
      return `${d.crew_id} sent to call ${d.call_id}, ETA ${fmtDuration(d.eta_ms / 1000)}: ${reasonText(d.reason)}`;
    }
    case 'call_reassigned':
      return `call ${e.decision.call_id} goes to ${e.to_crew} instead of ${e.from_crew}: ${reasonText(e.decision.reason)}`;
    case 'call_cancelled':
      return `call ${e.call_id} cancelled${e.reason ? `: ${e.reason}` : ''}`;
    case 'call_edited':
      return `call ${e.call_id} changed: ${callChanges(e.changes)}`;
    case 'call_handed_back':
      return `call ${e.call_id} handed back by ${e.crew_id}: ${HAND_BACK_REASONS[e.reason] ?? words(e.reason)}${e.pickup ? ' (the patient is with the crew)' : ''}`;
    case 'needs_dropped':
      return `call ${e.call_id}: ${e.needs.length === 1 ? 'a need' : `${e.needs.length} needs`} dropped, ${DROP_REASONS[e.reason] ?? words(e.reason)}`;
    case 'call_status':
      return `call ${e.call_id} ${words(e.status)}`;
    case 'handover_recorded':
      return `call ${e.call_id}: handover recorded`;
    case 'crew_added':
      return `crew ${e.crew_id} added (${words(e.crew_type)}${e.call_sign ? `, ${e.call_sign}` : ''}${e.station ? `, ${e.station}` : ''})`;
    case 'crew_updated':
      return `crew ${e.crew_id} changed: ${crewChanges(e.changes)}`;
    case 'crew_removed':
      return `crew ${e.crew_id} removed`;
    case 'crew_status':
      return `${e.crew_id} ${words(e.from)} → ${words(e.to)}`;
    case 'crew_moved':
      return `${e.crew_id} moved`;
    case 'crew_released':
      return `${e.crew_id} taken off call ${e.call_id}`;
    case 'assignment':
      return `route sent to ${e.crew_id} for call ${e.call?.id}`;
    case 'reroute':
      return `new route for ${e.crew_id} to call ${e.call?.id}${e.reason ? ` (${words(e.reason)})` : ''}`;
    case 'closure_added':
      return `closure ${e.closure?.id ?? ''} added`;
    case 'closure_removed':
      return `closure ${e.id} reopened`;
    case 'closures_changed':
      return `closures in force now: ${e.active?.length ? e.active.join(', ') : 'none'}`;
    case 'hospital_added':
      return `hospital ${e.name ?? e.hospital_id} added`;
    default:
      return [words(e.type), e.crew_id, e.call_id !== undefined ? `call ${e.call_id}` : null].filter(Boolean).join(' ');
  }
}

export function renderEvents() {
  $('last-seq').textContent = state.lastSeq ? `up to #${state.lastSeq}` : '';
  fill(
    $('events'),
    state.events.slice(0, 40).map((e) => {
      const actor = e.actor?.name ?? '';
      const text = describe(e);
      return h(
        'li',
        {
          dataset: { seq: e.seq, type: e.type, actor: actor || null, role: e.actor?.role ?? null },
          title: `${fmtTime(e.at)} ${actor}: ${text}`,
        },
        `${e.seq} `,
        h('span', { class: 'ev-time' }, fmtTime(e.at)),
        ' ',
        actor ? h('span', { class: `ev-actor${e.actor?.role === 'system' ? ' system' : ''}` }, actor) : null,
        actor ? ': ' : null,
        h('span', { class: 'ev-text' }, text),
      );
    }),
  );
}
