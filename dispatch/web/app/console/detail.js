// The selected call: what it is (complaint, address, needs and dropped needs, notes, when
// it is late), its crews and ETAs, why its crew was chosen with the free candidates and the
// crews that could be diverted; override, cancel (with a reason), edit (re-triage, needs,
// complaint, address, notes) and moving its place by a map click; the handover.
//
// The view is drawn again on every change; the controls (override, cancel, the edit form)
// are built once per selected call, so what the dispatcher types survives live updates.

import {
  h, fill, toast, fmtDuration, fmtDistance, fmtTime, fmtMinutes, words,
} from '../common.js';
import {
  $, state, render, OPEN, PRIORITIES, CREW_TYPES, crewOfCall, isLate, lateText,
} from './state.js';
import { onClick, setMode } from './map.js';
import { scheduleRefresh } from './stream.js';
import { HAND_BACK_REASONS } from './calls.js';

const REASONS = {
  nearest_by_road: 'smallest road ETA of the available crews able to serve',
  nearest_by_straight_line: 'nearest in a straight line',
  queued_then_released: 'the call waited in the queue; this crew became free and took it',
  dispatcher_override: 'chosen by the dispatcher',
  interim_general_crew: 'a general crew sent at once while the specialist is far or busy',
};

/** Why a crew was sent, in words. */
export function reasonText(r) {
  if (r.kind === 'reassigned_faster') {
    return `arrives ${fmtDuration(r.gain_ms / 1000)} sooner than ${r.previous_crew}, which was released`;
  }
  if (r.kind === 'diverted') {
    return r.gain_ms === null || r.gain_ms === undefined
      ? `diverted from call ${r.from_call}: no crew free`
      : `diverted from call ${r.from_call}, ${fmtMinutes(r.gain_ms / 1000)} sooner than the best free crew`;
  }
  return REASONS[r.kind] ?? words(r.kind);
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

  const overrideSelect = h('select', { id: 'override-crew', 'aria-label': 'Crew to send' });
  built.overrideSelect = overrideSelect;
  const reason = h('input', {
    id: 'cancel-reason', type: 'text', maxlength: '500', placeholder: 'Why cancel (required)', 'aria-label': 'Reason to cancel',
  });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'cancel-call' }, 'Cancel call');
  cancel.addEventListener('click', () => {
    if (!reason.value.trim()) {
      toast('Say why the call is cancelled', 'error');
      reason.focus();
      return;
    }
    if (!cancel.classList.contains('armed')) {
      cancel.classList.add('armed');
      cancel.textContent = 'Confirm cancel';
      setTimeout(() => {
        cancel.classList.remove('armed');
        cancel.textContent = 'Cancel call';
      }, 4000);
      return;
    }
    cancelCall(call.id, reason.value.trim());
  });
  const editBox = h('div', { id: 'call-edit', class: 'edit-box', hidden: true });
  built.editBox = editBox;
  fill(
    actions,
    h(
      'div',
      { class: 'row' },
      overrideSelect,
      h('button', { type: 'button', id: 'override', onclick: () => override(call.id, overrideSelect.value) }, 'Send this crew'),
    ),
    h('div', { class: 'row' }, reason, cancel),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'edit-call', onclick: () => (built.edit ? closeEdit() : openEdit(call.id)) }, 'Edit call'),
      h(
        'button',
        {
          type: 'button',
          id: 'move-call',
          title: 'Move the call here: then click the map where the call is',
          onclick: () => {
            moving = call.id;
            setMode('move');
          },
        },
        'Move on the map…',
      ),
    ),
    editBox,
  );
  fill(box, header, view, actions, handover);
}

function headerOf(call) {
  return [
    h('h2', {}, `Call #${call.id}`),
    h('span', { class: `badge prio-${call.priority}`, id: 'detail-priority' }, words(call.priority)),
    call.handed_back ? h('span', { class: 'badge handed-back-badge' }, 'handed back') : null,
    h('span', { class: `badge cs-${call.status}`, id: 'detail-status' }, words(call.status)),
    h('button', { type: 'button', class: 'linkish', onclick: () => { state.selected = null; render(); } }, 'close'),
  ];
}

function viewOf(call, crews) {
  const dropped = new Set(call.dropped_needs ?? []);
  const handBacks = state.handBacks.get(call.id) ?? [];
  return h(
    'dl',
    { class: 'kv' },
    h('dt', {}, 'Complaint'), h('dd', { id: 'detail-complaint' }, call.complaint || '–'),
    h('dt', {}, 'Address'),
    h('dd', { id: 'detail-address' }, call.address || `${call.position.lat.toFixed(5)}, ${call.position.lon.toFixed(5)}`),
    call.phone ? [h('dt', {}, 'Phone'), h('dd', {}, call.phone)] : null,
    h('dt', {}, 'Needs'),
    h(
      'dd',
      { id: 'detail-needs' },
      call.needs.map((n, i) => [
        i ? ', ' : null,
        h('span', { class: dropped.has(i) ? 'need dropped' : 'need', dataset: { index: i } }, dropped.has(i) ? `${words(n)} (dropped)` : words(n)),
      ]),
    ),
    h('dt', {}, 'Notes'), h('dd', { id: 'detail-notes', class: 'notes' }, call.notes || '–'),
    h('dt', {}, 'Received'), h('dd', {}, fmtTime(call.times.received)),
    h('dt', {}, 'Late at'),
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
          h('dt', {}, 'Handed back'),
          h(
            'dd',
            { id: 'detail-handback' },
            call.handed_back ? 'waits at the head of its queue. ' : null,
            handBacks
              .map((b) => `by ${b.crew_id} (${HAND_BACK_REASONS[b.reason] ?? words(b.reason)}) at ${fmtTime(b.at)}${b.pickup ? `, patient now at ${b.pickup.lat.toFixed(5)}, ${b.pickup.lon.toFixed(5)}` : ''}`)
              .join('; '),
          ),
        ]
      : null,
    h('dt', {}, 'Crew'),
    h('dd', { id: 'detail-crew' }, crews.length ? crews.join(', ') : call.status === 'queued' ? 'none free: queued' : '–'),
    h('dt', {}, 'ETA'),
    h(
      'dd',
      { id: 'detail-eta' },
      crews.length
        ? crews
            .map((id) => {
              const a = call.assignments.find((x) => x.crew_id === id);
              const r = state.routes.get(id);
              const now = r && r.eta_s !== null ? ` (now ${fmtDuration(r.eta_s)}, ${fmtDistance(r.distance_m)})` : '';
              return `${id}: ${fmtDuration(a.eta_ms / 1000)}${now}`;
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
    h('thead', {}, h('tr', {}, h('th', {}, title), h('th', {}, 'Road ETA'))),
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
    return h('p', { class: 'muted small' }, 'No crew decision yet: the call waits for a free crew able to serve it.');
  }
  return h(
    'div',
    { id: 'decision' },
    h('p', { class: 'small', id: 'decision-reason' }, h('strong', {}, `Why ${decision.crew_id}: `), reasonText(decision.reason)),
    decision.candidates.length
      ? candidateTable('candidates', 'Candidate', decision.candidates, decision.crew_id)
      : h('p', { class: 'muted small', id: 'candidates-none' }, 'No free crew was able to serve it.'),
    decision.divertible?.length
      ? [
          h('p', { class: 'small muted' }, 'Crews on their way to less urgent calls that could be diverted:'),
          candidateTable('divertible', 'Could be diverted', decision.divertible, decision.crew_id),
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
  fill(select, ids.map((c) => h('option', { value: c.id }, `${c.id} (${words(c.status)})`)));
  if (ids.some((c) => c.id === was)) select.value = was;
}

// ---------------------------------------------------------------- edit

/** Opens the edit form with the call's values as they are now. */
function openEdit(id) {
  const call = state.calls.get(id);
  if (!call || !built) return;
  const counts = Object.fromEntries(CREW_TYPES.map((t) => [t, call.needs.filter((n) => n === t).length]));
  const priority = h(
    'select',
    { id: 'edit-priority' },
    PRIORITIES.map((p) => h('option', { value: p, selected: p === call.priority }, words(p))),
  );
  const needInputs = Object.fromEntries(
    CREW_TYPES.map((t) => [t, h('input', { id: `edit-need-${t}`, type: 'number', min: '0', max: '9', inputmode: 'numeric', value: counts[t] })]),
  );
  const complaint = h('input', { id: 'edit-complaint', maxlength: '2000' });
  complaint.value = call.complaint;
  const address = h('input', { id: 'edit-address', maxlength: '2000' });
  address.value = call.address;
  const notes = h('textarea', { id: 'edit-notes', maxlength: '2000', placeholder: 'directions, re-triage, what the caller said' });
  notes.value = call.notes ?? '';
  const error = h('p', { id: 'edit-error', class: 'error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'edit-save', class: 'primary' }, 'Save changes');
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
    h('div', { class: 'field' }, h('label', { for: 'edit-priority' }, 'Priority'), priority),
    h(
      'fieldset',
      { class: 'needs' },
      h('legend', {}, 'Crews needed'),
      CREW_TYPES.map((t) => h('label', { class: 'need-count' }, h('span', {}, words(t)), needInputs[t])),
    ),
    h('div', { class: 'field' }, h('label', { for: 'edit-complaint' }, 'Complaint'), complaint),
    h('div', { class: 'field' }, h('label', { for: 'edit-address' }, 'Address'), address),
    h('div', { class: 'field' }, h('label', { for: 'edit-notes' }, 'Notes'), notes),
    error,
    h('div', { class: 'row' }, save, h('button', { type: 'button', id: 'edit-discard', onclick: closeEdit }, 'Discard')),
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
  for (const t of CREW_TYPES) {
    let have = out.filter((n) => n === t).length;
    while (have > counts[t]) {
      out.splice(out.lastIndexOf(t), 1);
      have -= 1;
    }
    for (; have < counts[t]; have += 1) out.push(t);
  }
  return out;
}

async function saveEdit(call, f) {
  f.error.hidden = true;
  const body = {};
  if (f.priority.value !== call.priority) body.priority = f.priority.value;
  const counts = {};
  for (const t of CREW_TYPES) {
    const v = f.needInputs[t].value.trim();
    const n = v === '' ? 0 : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 9) {
      f.error.textContent = `Crews needed: ${words(t)} must be a number from 0 to 9.`;
      f.error.hidden = false;
      return;
    }
    counts[t] = n;
  }
  if (CREW_TYPES.some((t) => counts[t] !== f.counts[t])) {
    const needs = newNeeds(call.needs, counts);
    if (!needs.length) {
      f.error.textContent = 'The call needs at least one crew.';
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
    toast('Nothing changed', 'info');
    return;
  }
  f.save.disabled = true;
  try {
    const updated = await state.api.patch(`/api/calls/${call.id}`, body);
    state.calls.set(updated.id, updated);
    closeEdit();
    toast(`Call ${call.id} changed`, 'ok');
    render();
  } catch (e) {
    f.error.textContent = e.message;
    f.error.hidden = false;
    toast(`The change was refused: ${e.message}`, 'error');
  } finally {
    f.save.disabled = false;
  }
  scheduleRefresh();
}

async function moveCall(id, p) {
  try {
    const updated = await state.api.patch(`/api/calls/${id}`, { lat: p.lat, lon: p.lon });
    state.calls.set(updated.id, updated);
    toast(`Call ${id} moved`, 'ok');
    render();
  } catch (e) {
    toast(`Cannot move call ${id}: ${e.message}`, 'error');
  }
  scheduleRefresh();
}

// ---------------------------------------------------------------- override, cancel, handover

async function override(callId, crewId) {
  if (!crewId) return;
  try {
    const call = await state.api.post(`/api/calls/${callId}/assign`, { crew_id: crewId });
    state.calls.set(call.id, call);
    toast(`Call ${callId}: ${crewId} sent`, 'ok');
  } catch (e) {
    toast(`Override refused: ${e.message}`, 'error');
  }
  state.dirtyCrews.add(crewId);
  scheduleRefresh();
}

async function cancelCall(callId, reason) {
  try {
    const call = await state.api.post(`/api/calls/${callId}/cancel`, { reason });
    state.calls.set(call.id, call);
    toast(`Call ${callId} cancelled`, 'ok');
  } catch (e) {
    toast(`Cannot cancel: ${e.message}`, 'error');
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
    return h('p', { class: 'muted' }, 'Loading the handover…');
  }
  const ho = rec.handover;
  const v = ho.vitals ?? {};
  const vitals = [
    ['HR', v.heart_rate, '/min'],
    ['BP', v.systolic_bp !== null && v.systolic_bp !== undefined ? `${v.systolic_bp}/${v.diastolic_bp ?? '–'}` : null, ' mmHg'],
    ['SpO₂', v.spo2, ' %'],
    ['RR', v.respiratory_rate, '/min'],
    ['T', v.temperature_c, ' °C'],
    ['GCS', v.gcs, ''],
  ]
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x, u]) => `${k} ${x}${u}`)
    .join(' · ');
  return h(
    'div',
    { id: 'handover', class: 'card' },
    h('h2', {}, 'Handover'),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Patient'),
      h('dd', {}, [ho.patient?.name, ho.patient?.birth_date, ho.patient?.sex].filter(Boolean).join(', ') || '–'),
      h('dt', {}, 'Hospital'), h('dd', {}, ho.hospital),
      h('dt', {}, 'Diagnosis'), h('dd', {}, ho.diagnosis_icd10 ?? '–'),
      h('dt', {}, 'Vitals'), h('dd', {}, vitals || '–'),
      h('dt', {}, 'Notes'), h('dd', {}, ho.notes ?? '–'),
      h('dt', {}, 'Recorded'), h('dd', {}, fmtTime(rec.recorded_at)),
    ),
    h('button', { type: 'button', id: 'fhir-export', onclick: () => exportFhir(call.id) }, 'Export FHIR bundle'),
  );
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
    toast(`Cannot export: ${e.message}`, 'error');
  }
}
