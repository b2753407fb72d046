// The selected call: what it is (complaint, address, needs and dropped needs, notes, when
// it is late), its crews and ETAs, why its crew was chosen with the free candidates and the
// crews that could be diverted; override, cancel (with a reason), edit (re-triage, needs,
// complaint, address, notes) and moving its place by a map click; the handover.
//
// The view is drawn again on every change; the controls (override, cancel, the edit form)
// are built once per selected call, so what the dispatcher types survives live updates.

import {
  h, fill, toast, fmtDuration, fmtDistance, fmtTime,
} from '../common.js';
import {
  t, errorText, has, fmtMinutesLong, priorityName, callStatusName, crewStatusName, crewTypeName, handBackName,
} from '../i18n.js';
import {
  $, state, render, OPEN, PRIORITIES, CREW_TYPES, crewOfCall, isLate, lateText,
} from './state.js';
import { onClick, setMode } from './map.js';
import { scheduleRefresh } from './stream.js';

/** Why a crew was sent, in words. */
export function reasonText(r) {
  if (r.kind === 'reassigned_faster') {
    return t('reason.reassigned_faster', { gain: fmtDuration(r.gain_ms / 1000), crew: r.previous_crew });
  }
  if (r.kind === 'diverted') {
    return r.gain_ms === null || r.gain_ms === undefined
      ? t('reason.diverted_none_free', { call: r.from_call })
      : t('reason.diverted', { call: r.from_call, gain: fmtMinutesLong(r.gain_ms / 1000) });
  }
  return has(`reason.${r.kind}`) ? t(`reason.${r.kind}`) : t('reason.other');
}

/** The controls of the selected call, built once per call: {callId, parts...}. */
let built = null;
/** The call whose place the next map click in `move` mode sets. */
let moving = null;

export function wireDetail() {
  onClick('move', (p) => {
    const id = moving;
    moving = null;
    setMode('call');
    if (id !== null) moveCall(id, p);
  });
}

export function renderDetail() {
  const box = $('call-detail');
  const call = state.selected !== null ? state.calls.get(state.selected) : null;
  if (!call) {
    box.hidden = true;
    built = null;
    delete box.dataset.callId;
    return;
  }
  box.hidden = false;
  if (built?.callId !== call.id) build(box, call);
  box.dataset.callId = call.id;
  const crews = crewOfCall(call);
  fill(built.header, headerOf(call));
  fill(built.view, viewOf(call, crews), decisionOf(call));
  // Only dispatchers change calls.
  const open = OPEN(call) && state.me.staff;
  built.actions.hidden = !open;
  if (open) updateOverride(crews);
  else closeEdit();
  fill(built.handover, handoverBlock(call));
}

function build(box, call) {
  const header = h('header', {});
  const view = h('div', { id: 'detail-view', class: 'detail-view' });
  const handover = h('div', {});
  const actions = h('div', { id: 'detail-actions', class: 'detail-actions' });
  built = { callId: call.id, header, view, actions, handover, edit: null };

  const overrideSelect = h('select', { id: 'override-crew', 'aria-label': t('detail.override_crew') });
  built.overrideSelect = overrideSelect;
  const reason = h('input', {
    id: 'cancel-reason', type: 'text', maxlength: '500', placeholder: t('detail.cancel_reason'), 'aria-label': t('detail.cancel_reason.label'),
  });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-call' }, t('detail.cancel'));
  cancel.addEventListener('click', () => {
    if (!reason.value.trim()) {
      toast(t('detail.cancel_needs_reason'), 'error');
      reason.focus();
      return;
    }
    if (!cancel.classList.contains('armed')) {
      cancel.classList.add('armed');
      cancel.textContent = t('detail.cancel_confirm');
      setTimeout(() => {
        cancel.classList.remove('armed');
        cancel.textContent = t('detail.cancel');
      }, 4000);
      return;
    }
    cancelCall(call.id, reason.value.trim());
  });
  const editBox = h('div', { id: 'call-edit', class: 'edit-box', hidden: true });
  built.editBox = editBox;
  const patient = patientRow(call.id);
  fill(
    actions,
    h(
      'div',
      { class: 'row' },
      overrideSelect,
      h('button', { type: 'button', id: 'override', onclick: () => override(call.id, overrideSelect.value) }, t('detail.override')),
    ),
    h('div', { class: 'row' }, reason, cancel),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'edit-call', onclick: () => (built.edit ? closeEdit() : openEdit(call.id)) }, t('detail.edit')),
      h(
        'button',
        {
          type: 'button',
          id: 'move-call',
          title: t('detail.move.title'),
          onclick: () => {
            moving = call.id;
            setMode('move');
          },
        },
        t('detail.move'),
      ),
    ),
    patient,
    editBox,
  );
  fill(box, header, view, actions, handover);
}

/** The patient's identifier, as the call-taker enters it (the crew reads the patient's
 * record with it): the one entered, and a form to enter or change it. */
function patientRow(callId) {
  const kind = h(
    'select',
    { id: 'patient-kind', 'aria-label': t('tp.kind') },
    ...['oms', 'snils', 'local'].map((k) => h('option', { value: k }, t(`idkind.${k}`))),
  );
  const value = h('input', { id: 'patient-value', type: 'text', maxlength: '64', placeholder: t('tp.value'), 'aria-label': t('tp.value') });
  const entered = h('span', { id: 'patient-entered', class: 'muted' });
  const show = (ids) => {
    entered.textContent = ids.length
      ? ids.map((i) => `${t(`idkind.${i.kind}`)} ${i.value}`).join(', ')
      : t('detail.patient_none');
  };
  state.api.get(`/api/calls/${callId}/patient`).then((p) => show(p.identifiers)).catch(() => {});
  const save = async () => {
    if (!value.value.trim()) return;
    try {
      const p = await state.api.put(`/api/calls/${callId}/patient`, { identifiers: [{ kind: kind.value, value: value.value.trim() }] });
      show(p.identifiers);
      value.value = '';
      toast(t('detail.patient_saved', { id: callId }), 'ok');
    } catch (e) {
      toast(t('detail.patient_refused', { message: errorText(e) }), 'error');
    }
  };
  return h(
    'div',
    { class: 'row', id: 'patient-row' },
    h('span', {}, t('tp.heading')),
    kind,
    value,
    h('button', { type: 'button', id: 'patient-save', onclick: save }, t('detail.patient_save')),
    entered,
  );
}

function headerOf(call) {
  return [
    h('h2', {}, t('detail.heading', { id: call.id })),
    h('span', { class: `badge prio-${call.priority}`, id: 'detail-priority' }, priorityName(call.priority)),
    call.handed_back ? h('span', { class: 'badge handed-back-badge' }, t('calls.handed_back')) : null,
    h('span', { class: `badge cs-${call.status}`, id: 'detail-status' }, callStatusName(call.status)),
    h('button', { type: 'button', class: 'linkish', id: 'detail-close', onclick: () => { state.selected = null; render(); } }, t('close')),
  ];
}

function viewOf(call, crews) {
  const dropped = new Set(call.dropped_needs ?? []);
  const handBacks = state.handBacks.get(call.id) ?? [];
  return h(
    'dl',
    { class: 'kv' },
    h('dt', {}, t('detail.complaint')), h('dd', { id: 'detail-complaint' }, call.complaint || '–'),
    h('dt', {}, t('detail.address')),
    h('dd', { id: 'detail-address' }, call.address || `${call.position.lat.toFixed(5)}, ${call.position.lon.toFixed(5)}`),
    call.phone ? [h('dt', {}, t('detail.phone')), h('dd', {}, call.phone)] : null,
    h('dt', {}, t('detail.needs')),
    h(
      'dd',
      { id: 'detail-needs' },
      call.needs.map((n, i) => [
        i ? ', ' : null,
        h('span', { class: dropped.has(i) ? 'need dropped' : 'need', dataset: { index: i } }, dropped.has(i) ? t('detail.need_dropped', { need: crewTypeName(n) }) : crewTypeName(n)),
      ]),
    ),
    h('dt', {}, t('detail.notes')), h('dd', { id: 'detail-notes', class: 'notes' }, call.notes || '–'),
    call.linked?.length
      ? [
        h('dt', {}, t('detail.linked')),
        h(
          'dd',
          { id: 'detail-linked' },
          call.linked.map((r) =>
            h('div', { class: 'linked' }, `${fmtTime(r.received)} · ${[r.address, r.complaint, r.phone].filter(Boolean).join(', ') || '–'}`)),
        ),
      ]
      : null,
    h('dt', {}, t('detail.received')), h('dd', {}, fmtTime(call.times.received)),
    h('dt', {}, t('detail.late_at')),
    h(
      'dd',
      {
        id: 'detail-late',
        class: isLate(call) ? 'late' : '',
        dataset: { lateAt: call.late_at ?? null, onScene: call.times.on_scene ?? null },
      },
      lateText(call.late_at, call.times.on_scene),
    ),
    call.handed_back || handBacks.length
      ? [
          h('dt', {}, t('detail.handed_back')),
          h(
            'dd',
            { id: 'detail-handback' },
            call.handed_back ? t('detail.handed_back_waits') : null,
            handBacks
              .map((b) => t('detail.handed_back_one', { crew: b.crew_id, reason: handBackName(b.reason), time: fmtTime(b.at) })
                + (b.pickup ? t('detail.patient_at', { place: `${b.pickup.lat.toFixed(5)}, ${b.pickup.lon.toFixed(5)}` }) : ''))
              .join('; '),
          ),
        ]
      : null,
    h('dt', {}, t('detail.crew')),
    h('dd', { id: 'detail-crew' }, crews.length ? crews.join(', ') : call.status === 'queued' ? t('detail.crew_queued') : '–'),
    h('dt', {}, t('detail.eta')),
    h(
      'dd',
      { id: 'detail-eta' },
      crews.length
        ? crews
            .map((id) => {
              const a = call.assignments.find((x) => x.crew_id === id);
              const r = state.routes.get(id);
              const now = r && r.eta_s !== null ? t('detail.eta_now', { eta: fmtDuration(r.eta_s), distance: fmtDistance(r.distance_m) }) : '';
              return t('detail.eta_one', { crew: id, eta: fmtDuration(a.eta_ms / 1000) }) + now;
            })
            .join('; ')
        : '–',
    ),
  );
}

function candidateTable(id, title, list, chosen) {
  return h(
    'table',
    { class: 'cands', id },
    h('thead', {}, h('tr', {}, h('th', {}, title), h('th', {}, t('detail.road_eta')))),
    h(
      'tbody',
      {},
      list.map((c) =>
        h(
          'tr',
          { class: c.crew_id === chosen ? 'chosen' : '', dataset: { crewId: c.crew_id } },
          h('td', {}, c.crew_id === chosen ? `${c.crew_id} ✓` : c.crew_id),
          h('td', {}, fmtDuration(c.eta_ms / 1000)),
        ),
      ),
    ),
  );
}

function decisionOf(call) {
  // A crew's view of its call carries no decisions (they list the other crews).
  if (!call.decisions) return null;
  const decision = call.decisions[call.decisions.length - 1];
  if (!decision) {
    return h('p', { class: 'muted small' }, t('detail.no_decision'));
  }
  return h(
    'div',
    { id: 'decision' },
    h('p', { class: 'small', id: 'decision-reason' }, h('strong', {}, t('detail.why', { crew: decision.crew_id })), reasonText(decision.reason)),
    decision.candidates.length
      ? candidateTable('candidates', t('detail.candidate'), decision.candidates, decision.crew_id)
      : h('p', { class: 'muted small', id: 'candidates-none' }, t('detail.no_candidates')),
    decision.divertible?.length
      ? [
          h('p', { class: 'small muted' }, t('detail.divertible_note')),
          candidateTable('divertible', t('detail.divertible'), decision.divertible, decision.crew_id),
        ]
      : null,
  );
}

function updateOverride(crews) {
  const select = built.overrideSelect;
  if (document.activeElement === select) return;
  const was = select.value;
  const ids = [...state.crews.values()]
    .filter((c) => !crews.includes(c.id))
    .sort((a, b) => a.id.localeCompare(b.id));
  fill(select, ids.map((c) => h('option', { value: c.id }, t('detail.override_option', { crew: c.id, status: crewStatusName(c.status) }))));
  if (ids.some((c) => c.id === was)) select.value = was;
}

// ---------------------------------------------------------------- edit

/** Opens the edit form with the call's values as they are now. */
function openEdit(id) {
  const call = state.calls.get(id);
  if (!call || !built) return;
  const counts = Object.fromEntries(CREW_TYPES.map((ty) => [ty, call.needs.filter((n) => n === ty).length]));
  const priority = h(
    'select',
    { id: 'edit-priority' },
    PRIORITIES.map((p) => h('option', { value: p, selected: p === call.priority }, priorityName(p))),
  );
  const needInputs = Object.fromEntries(
    CREW_TYPES.map((ty) => [ty, h('input', { id: `edit-need-${ty}`, type: 'number', min: '0', max: '9', inputmode: 'numeric', value: counts[ty] })]),
  );
  const complaint = h('input', { id: 'edit-complaint', maxlength: '2000' });
  complaint.value = call.complaint;
  const address = h('input', { id: 'edit-address', maxlength: '2000' });
  address.value = call.address;
  const notes = h('textarea', { id: 'edit-notes', maxlength: '2000', placeholder: t('edit.notes.placeholder') });
  notes.value = call.notes ?? '';
  const error = h('p', { id: 'edit-error', class: 'error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'edit-save', class: 'primary' }, t('save_changes'));
  const form = h(
    'form',
    {
      id: 'call-edit-form',
      autocomplete: 'off',
      onsubmit: (e) => {
        e.preventDefault();
        saveEdit(call, { priority, needInputs, complaint, address, notes, error, save, counts });
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'edit-priority' }, t('edit.priority')), priority),
    h(
      'fieldset',
      { class: 'needs' },
      h('legend', {}, t('edit.needs')),
      CREW_TYPES.map((ty) => h('label', { class: 'need-count' }, h('span', {}, crewTypeName(ty)), needInputs[ty])),
    ),
    h('div', { class: 'field' }, h('label', { for: 'edit-complaint' }, t('edit.complaint')), complaint),
    h('div', { class: 'field' }, h('label', { for: 'edit-address' }, t('edit.address')), address),
    h('div', { class: 'field' }, h('label', { for: 'edit-notes' }, t('edit.notes')), notes),
    error,
    h('div', { class: 'row' }, save, h('button', { type: 'button', id: 'edit-discard', onclick: closeEdit }, t('discard'))),
  );
  built.edit = form;
  fill(built.editBox, form);
  built.editBox.hidden = false;
  priority.focus();
}

function closeEdit() {
  if (!built?.edit) return;
  built.edit = null;
  fill(built.editBox);
  built.editBox.hidden = true;
}

/** The needs after the edit: the call's own order kept, fewer taken from the end, more added. */
function newNeeds(old, counts) {
  const out = [...old];
  for (const ty of CREW_TYPES) {
    let have = out.filter((n) => n === ty).length;
    while (have > counts[ty]) {
      out.splice(out.lastIndexOf(ty), 1);
      have -= 1;
    }
    for (; have < counts[ty]; have += 1) out.push(ty);
  }
  return out;
}

async function saveEdit(call, f) {
  f.error.hidden = true;
  const body = {};
  if (f.priority.value !== call.priority) body.priority = f.priority.value;
  const counts = {};
  for (const ty of CREW_TYPES) {
    const v = f.needInputs[ty].value.trim();
    const n = v === '' ? 0 : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 9) {
      f.error.textContent = t('edit.need_range', { type: crewTypeName(ty) });
      f.error.hidden = false;
      return;
    }
    counts[ty] = n;
  }
  if (CREW_TYPES.some((ty) => counts[ty] !== f.counts[ty])) {
    const needs = newNeeds(call.needs, counts);
    if (!needs.length) {
      f.error.textContent = t('edit.need_one');
      f.error.hidden = false;
      return;
    }
    body.needs = needs;
  }
  for (const k of ['complaint', 'address', 'notes']) {
    const v = f[k].value.trim();
    if (v !== (call[k] ?? '')) body[k] = v;
  }
  if (!Object.keys(body).length) {
    closeEdit();
    toast(t('nothing_changed'), 'info');
    return;
  }
  f.save.disabled = true;
  try {
    const updated = await state.api.patch(`/api/calls/${call.id}`, body);
    state.calls.set(updated.id, updated);
    closeEdit();
    toast(t('detail.changed', { id: call.id }), 'ok');
    render();
  } catch (e) {
    const message = errorText(e, { conflict: 'call_edit' });
    f.error.textContent = message;
    f.error.hidden = false;
    toast(t('detail.change_refused', { message }), 'error');
  } finally {
    f.save.disabled = false;
  }
  scheduleRefresh();
}

async function moveCall(id, p) {
  try {
    const updated = await state.api.patch(`/api/calls/${id}`, { lat: p.lat, lon: p.lon });
    state.calls.set(updated.id, updated);
    toast(t('detail.moved', { id }), 'ok');
    render();
  } catch (e) {
    toast(t('detail.move_refused', { id, message: errorText(e, { conflict: 'call_edit' }) }), 'error');
  }
  scheduleRefresh();
}

// ---------------------------------------------------------------- override, cancel, handover

async function override(callId, crewId) {
  if (!crewId) return;
  try {
    const call = await state.api.post(`/api/calls/${callId}/assign`, { crew_id: crewId });
    state.calls.set(call.id, call);
    toast(t('detail.sent', { id: callId, crew: crewId }), 'ok');
  } catch (e) {
    toast(t('detail.override_refused', { message: errorText(e, { conflict: 'assign' }) }), 'error');
  }
  state.dirtyCrews.add(crewId);
  scheduleRefresh();
}

async function cancelCall(callId, reason) {
  try {
    const call = await state.api.post(`/api/calls/${callId}/cancel`, { reason });
    state.calls.set(call.id, call);
    toast(t('detail.cancelled', { id: callId }), 'ok');
  } catch (e) {
    toast(t('detail.cancel_refused', { message: errorText(e, { conflict: 'call_cancel' }) }), 'error');
  }
  scheduleRefresh();
}

function handoverBlock(call) {
  if (!state.me.staff || !call.times.handover) return null;
  const rec = state.handovers.get(call.id);
  if (!rec) {
    state.api
      .get(`/api/calls/${call.id}/handover`)
      .then((r) => {
        state.handovers.set(call.id, r);
        if (state.selected === call.id) renderDetail();
      })
      .catch(() => {});
    return h('p', { class: 'muted' }, t('handover.loading'));
  }
  const ho = rec.handover;
  const v = ho.vitals ?? {};
  const vitals = [
    ['vital.hr', v.heart_rate],
    ['vital.bp', v.systolic_bp !== null && v.systolic_bp !== undefined ? `${v.systolic_bp}/${v.diastolic_bp ?? '–'}` : null],
    ['vital.spo2', v.spo2],
    ['vital.rr', v.respiratory_rate],
    ['vital.t', v.temperature_c],
    ['vital.gcs', v.gcs],
  ]
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => t(k, { v: x }))
    .join(' · ');
  const sex = ho.patient?.sex && has(`sex.${ho.patient.sex}`) ? t(`sex.${ho.patient.sex}`) : ho.patient?.sex;
  return h(
    'div',
    { id: 'handover', class: 'card' },
    h('h2', {}, t('handover.heading')),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, t('handover.patient')),
      h('dd', {}, [ho.patient?.name, ho.patient?.birth_date, sex].filter(Boolean).join(', ') || '–'),
      h('dt', {}, t('handover.hospital')), h('dd', {}, ho.hospital),
      h('dt', {}, t('handover.diagnosis')), h('dd', {}, ho.diagnosis_icd10 ?? '–'),
      h('dt', {}, t('handover.vitals')), h('dd', {}, vitals || '–'),
      h('dt', {}, t('handover.notes')), h('dd', {}, ho.notes ?? '–'),
      h('dt', {}, t('handover.recorded_at')), h('dd', {}, fmtTime(rec.recorded_at)),
      ...deliveryRow(call.id),
    ),
    h('button', { type: 'button', id: 'fhir-export', onclick: () => exportFhir(call.id) }, t('handover.export')),
  );
}

/** The handover's delivery to the patient's record (none when the service sends none). */
function deliveryRow(id) {
  if (!state.deliveries.has(id)) {
    state.deliveries.set(id, null);
    state.api
      .get(`/api/calls/${id}/handover/delivery`)
      .then((d) => {
        if (!state.deliveries.get(id)) state.deliveries.set(id, d);
        if (state.selected === id) renderDetail();
      })
      .catch(() => {}); // 404: not sent anywhere
    return [];
  }
  const d = state.deliveries.get(id);
  if (!d) return [];
  let text;
  if (d.state === 'sent') {
    text = t('delivery.sent', { version: d.version, time: fmtTime(d.sent.at), count: d.sent.resources.length });
  } else if (d.state === 'failed') {
    text = t('delivery.failed', { reason: deliveryError(d.error) });
  } else if (d.error) {
    text = t('delivery.retrying', { version: d.version, attempts: d.attempts, time: fmtTime(d.next_attempt_at), reason: deliveryError(d.error) });
  } else {
    text = t('delivery.pending', { version: d.version });
  }
  const retry = d.state === 'failed' || d.error
    ? h('button', { type: 'button', id: 'delivery-retry', onclick: () => retryDelivery(id) }, t('delivery.retry'))
    : null;
  return [
    h('dt', {}, t('delivery.heading')),
    h('dd', { id: 'delivery', dataset: { state: d.state }, title: d.error?.message ?? d.sent?.resources.join(' ') ?? '' }, text, ' ', retry),
  ];
}

/** Why an attempt failed, in the page's language (the server's own words in the tooltip). */
function deliveryError(e) {
  if (!e) return '';
  if (e.status === null || e.status === undefined) return t('delivery.unreachable');
  const said = e.outcome?.issue?.[0]?.diagnostics ?? e.outcome?.issue?.[0]?.details?.text;
  return t('delivery.refused', { status: e.status }) + (said ? ` (${said})` : '');
}

async function retryDelivery(id) {
  try {
    const d = await state.api.post(`/api/calls/${id}/handover/delivery/retry`, {});
    state.deliveries.set(id, d);
    toast(t('delivery.retried', { id }), 'ok');
  } catch (e) {
    toast(t('delivery.retry_failed', { message: errorText(e) }), 'error');
  }
  if (state.selected === id) renderDetail();
}

async function exportFhir(id) {
  try {
    const bundle = await state.api.get(`/api/calls/${id}/handover/fhir`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }));
    const a = h('a', { href: url, download: `call-${id}-handover.fhir.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(t('handover.export_failed', { message: errorText(e) }), 'error');
  }
}
