// The patient card: the identifier of the call's patient (the crew may enter one when the
// call-taker could not) and the patient's summary from the electronic record (allergies,
// conditions, medications, latest observations), read when a call comes and after an
// identifier is entered. Kept in memory for the call on screen only: never saved on the
// tablet, and the service worker does not keep it.

import { h, fill } from '../common.js';
import { t, errorText } from '../i18n.js';
import { $, S } from './state.js';

/** The call whose summary is on screen: {call_id, summary} (summary null while it loads). */
let shown = null;

/** Shows the card for assignment `a` (none: hidden, and the summary forgotten). */
export function renderPatientCard(a) {
  $('patient-card').hidden = !a;
  if (!a) {
    shown = null;
    return;
  }
  if (shown?.call_id !== a.call.id) {
    shown = { call_id: a.call.id, summary: null };
    load(a.call.id);
  }
  draw();
}

async function load(id) {
  let summary;
  try {
    summary = await S.api.get(`/api/calls/${id}/patient/summary`);
  } catch (e) {
    summary = { available: false, reason: S.online ? 'refused' : 'offline', error: errorText(e) };
  }
  if (shown?.call_id !== id) return;
  shown.summary = summary;
  draw();
}

/** The crew's identifier form: stored for the call, then the summary read again. */
export async function identify() {
  const id = shown?.call_id;
  const value = $('p-value').value.trim();
  if (!id || !value) return;
  $('patient-error').hidden = true;
  try {
    await S.api.put(`/api/calls/${id}/patient`, { identifiers: [{ kind: $('p-kind').value, value }] });
  } catch (e) {
    $('patient-error').textContent = errorText(e);
    $('patient-error').hidden = false;
    return;
  }
  $('p-value').value = '';
  shown.summary = null;
  draw();
  load(id);
}

function draw() {
  const s = shown?.summary;
  const status = $('patient-status');
  const card = $('patient-card');
  card.dataset.state = !s ? 'loading' : s.available ? 'available' : s.reason;
  if (!s) {
    status.textContent = t('tp.loading');
    fill($('patient-summary'));
    return;
  }
  if (!s.available) {
    status.textContent = t('tp.not_available', { reason: t(`tp.reason.${s.reason}`) });
    status.title = s.error ?? '';
    fill($('patient-summary'));
    return;
  }
  status.textContent = [s.patient?.name, s.patient?.birth_date].filter(Boolean).join(', ') || t('tp.found');
  status.title = '';
  fill(
    $('patient-summary'),
    section('tp.allergies', s.allergies, 'allergies'),
    section('tp.conditions', s.conditions, 'conditions'),
    section('tp.medications', s.medications, 'medications'),
    section('tp.observations', s.observations, 'observations'),
  );
}

function section(key, facts, id) {
  return h(
    'div',
    { class: `facts facts-${id}` },
    h('h3', {}, t(key)),
    facts.length
      ? h(
        'ul',
        {},
        ...facts.map((f) => h(
          'li',
          {},
          f.text,
          f.detail ? h('span', { class: 'muted' }, ` — ${f.detail}`) : null,
          f.critical ? h('span', { class: 'critical' }, ` — ${t('tp.critical')}`) : null,
        )),
      )
      : h('p', { class: 'muted' }, t('tp.none')),
  );
}
