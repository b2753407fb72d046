// The event stream in plain words, newest first, each with its time and who did it (a
// token's name, or `system` for what the dispatch rules decided on their own).

import { h, fill, fmtDuration, fmtDayTime, fmtTime } from '../common.js';
import {
  t, has, priorityName, callStatusName, crewStatusName, crewTypeName, handBackName, roleName,
} from '../i18n.js';
import { $, state } from './state.js';
import { reasonText } from './detail.js';

const dropReason = (r) => (has(`drop.${r}`) ? t(`drop.${r}`) : String(r));
const needList = (needs) => needs.map(crewTypeName).join(' + ');

/** What a call edit changed, in words. */
function callChanges(c = {}) {
  const out = [];
  if (c.priority) out.push(t('change.priority', { priority: priorityName(c.priority) }));
  if (c.position) out.push(t('change.position'));
  if (c.needs) out.push(t('change.needs', { needs: needList(c.needs) }));
  if (c.complaint !== undefined) out.push(t('change.complaint', { text: c.complaint }));
  if (c.address !== undefined) out.push(t('change.address', { text: c.address }));
  if (c.notes !== undefined) out.push(t('change.notes'));
  return out.join(', ') || t('ev.nothing');
}

/** What a crew change changed, in words. */
function crewChanges(c = {}) {
  const out = [];
  if (c.crew_type) out.push(t('change.type', { type: crewTypeName(c.crew_type) }));
  if ('call_sign' in c) out.push(c.call_sign === null ? t('change.call_sign_cleared') : t('change.call_sign', { text: c.call_sign }));
  if ('station' in c) out.push(c.station === null ? t('change.station_cleared') : t('change.station', { text: c.station }));
  if ('shift_end' in c) out.push(c.shift_end === null ? t('change.shift_cleared') : t('change.shift', { time: fmtDayTime(c.shift_end) }));
  return out.join(', ') || t('ev.nothing');
}

/** `text` then `: extra` when there is an extra (free text the user typed). */
const withText = (text, extra) => (extra ? `${text}: ${extra}` : text);

/** One log entry in plain words. */
export function describe(e) {
  switch (e.type) {
    case 'call_created':
      return t('ev.call_created', { call: e.call_id, priority: priorityName(e.priority) }) + (e.complaint ? `, ${e.complaint}` : '');
    case 'call_queued':
      return t('ev.call_queued', { call: e.call_id, needs: e.pending?.length ? `${needList(e.pending)} ` : '' }).replace(/ {2,}/g, ' ').trim();
    case 'call_assigned': {
      const d = e.decision;
      return t('ev.call_assigned', { crew: d.crew_id, call: d.call_id, eta: fmtDuration(d.eta_ms / 1000), reason: reasonText(d.reason) });
    }
    case 'call_reassigned':
      return t('ev.call_reassigned', { call: e.decision.call_id, to: e.to_crew, from: e.from_crew, reason: reasonText(e.decision.reason) });
    case 'call_cancelled':
      return withText(t('ev.call_cancelled', { call: e.call_id }), e.reason);
    case 'call_edited':
      return t('ev.call_edited', { call: e.call_id, changes: callChanges(e.changes) });
    case 'call_linked':
      return withText(t('ev.call_linked', { call: e.call_id }), [e.report?.address, e.report?.complaint].filter(Boolean).join(', '));
    case 'call_handed_back':
      return t('ev.call_handed_back', { call: e.call_id, crew: e.crew_id, reason: handBackName(e.reason) }) + (e.pickup ? t('ev.with_patient') : '');
    case 'needs_dropped':
      return t('ev.needs_dropped', { call: e.call_id, count: e.needs.length, reason: dropReason(e.reason) });
    case 'call_status':
      return t('ev.call_status', { call: e.call_id, status: callStatusName(e.status) });
    case 'handover_recorded':
      return t('ev.handover_recorded', { call: e.call_id });
    case 'patient_identified':
      return t('ev.patient_identified', { call: e.call_id, kinds: (e.kinds ?? []).map((k) => t(`idkind.${k}`)).join(', ') });
    case 'fhir_delivery':
      return t('ev.fhir_delivery', { call: e.call_id, version: e.version, state: t(`delivery_state.${e.state}`) });
    case 'crew_added':
      return t('ev.crew_added', {
        crew: e.crew_id,
        details: [crewTypeName(e.crew_type), e.call_sign, e.station].filter(Boolean).join(', '),
      });
    case 'crew_updated':
      return t('ev.crew_updated', { crew: e.crew_id, changes: crewChanges(e.changes) });
    case 'crew_removed':
      return t('ev.crew_removed', { crew: e.crew_id });
    case 'crew_status':
      return t('ev.crew_status', { crew: e.crew_id, from: crewStatusName(e.from), to: crewStatusName(e.to) });
    case 'crew_moved':
      return t('ev.crew_moved', { crew: e.crew_id });
    case 'crew_released':
      return t('ev.crew_released', { crew: e.crew_id, call: e.call_id });
    case 'assignment':
      return t('ev.assignment', { crew: e.crew_id, call: e.call?.id });
    case 'reroute':
      return t('ev.reroute', { crew: e.crew_id, call: e.call?.id })
        + (e.reason ? ` (${has(`reroute.${e.reason}`) ? t(`reroute.${e.reason}`) : e.reason})` : '');
    case 'closure_added':
      return t('ev.closure_added', { id: e.closure?.id ?? '' });
    case 'closure_removed':
      return t('ev.closure_removed', { id: e.id });
    case 'closures_changed':
      return t('ev.closures_changed', { list: e.active?.length ? e.active.join(', ') : t('ev.none') });
    case 'hospital_added':
      return t('ev.hospital_added', { name: e.name ?? e.hospital_id });
    default:
      return [t('ev.other', { type: e.type }), e.crew_id, e.call_id !== undefined ? t('ev.call', { call: e.call_id }) : null]
        .filter(Boolean)
        .join(' ');
  }
}

/** Who did it: a token's name; the role's name when the token is named after its role. */
function actorName(actor) {
  if (!actor?.name) return '';
  if (actor.role === 'system' || actor.name === actor.role) return roleName(actor.role ?? actor.name);
  return actor.name;
}

export function renderEvents() {
  $('last-seq').textContent = state.lastSeq ? t('events.up_to', { seq: state.lastSeq }) : '';
  fill(
    $('events'),
    state.events.slice(0, 40).map((e) => {
      const actor = actorName(e.actor);
      const text = describe(e);
      return h(
        'li',
        {
          dataset: { seq: e.seq, type: e.type, actor: e.actor?.name || null, role: e.actor?.role ?? null },
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
