// The crews panel: every crew with its call sign, type, station, status, shift end (24-hour
// local time) and call; adding a crew (its place by a map click or typed coordinates),
// changing its type, station, call sign and shift end (an empty field clears it), and
// removing it (a second press confirms; a crew on a call is refused by the service).
//
// The form lives outside the list, so live updates of the list leave what is typed alone.

import {
  h, fill, toast, fmtDuration, fmtDistance, fmtDayTime, parseDayTime, STATUS_COLOURS,
} from '../common.js';
import { t, errorText, crewStatusName, crewTypeName } from '../i18n.js';
import { $, state, layers, render, CREW_TYPES, select } from './state.js';
import { onClick, setMode, pickMarker } from './map.js';
import { parseCoords, coordsText } from './newcall.js';
import { scheduleRefresh } from './stream.js';

/** The open form: `{mode: 'add'}` or `{mode: 'edit', id, was: {...}}`; `null`: closed. */
let form = null;

export function wireCrews() {
  $('crew-add').addEventListener('click', () => (form?.mode === 'add' ? closeForm() : openForm(null)));
  onClick('crew', (p) => {
    if (form?.mode !== 'add') return;
    $('crew-where').value = coordsText(p);
    placeCrew(p);
    setMode('call');
  });
}

function placeCrew(p) {
  layers.crewPick = pickMarker(layers.crewPick, p, 'crew-pick');
}

export function renderCrews() {
  const crews = [...state.crews.values()].sort((a, b) => a.id.localeCompare(b.id));
  const free = crews.filter((c) => c.status === 'available').length;
  $('crews-count').textContent = t('crews.count', { free, all: crews.length });
  if (form?.mode === 'edit' && !state.crews.has(form.id)) {
    closeForm();
    toast(t('crews.removed_while_editing'), 'info');
  }
  const staff = state.me?.staff;
  fill(
    $('crews'),
    crews.length ? null : h('li', { class: 'muted' }, t('crews.none')),
    crews.map((crew) => {
      const r = state.routes.get(crew.id);
      const onCall = crew.call !== null && crew.call !== undefined;
      return h(
        'li',
        {
          class: `clickable crew-item ${form?.id === crew.id ? 'selected' : ''}`,
          dataset: { crewId: crew.id, status: crew.status },
          onclick: () => {
            state.map.panTo([crew.position.lat, crew.position.lon]);
            if (onCall) select(crew.call);
          },
        },
        h(
          'div',
          { class: 'line' },
          h('span', { class: 'dot', style: `background:${STATUS_COLOURS[crew.status] ?? '#4b5563'}` }),
          h('strong', {}, crew.id),
          crew.call_sign ? h('span', { class: 'call-sign' }, crew.call_sign) : null,
          h('span', { class: 'small muted crew-type' }, crewTypeName(crew.crew_type)),
          h('span', { class: 'grow small muted station' }, crew.station ?? ''),
          h('span', { class: `badge st-${crew.status}` }, crewStatusName(crew.status)),
          staff
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'linkish crew-edit',
                  'aria-label': t('crews.edit.label', { id: crew.id }),
                  onclick: (e) => {
                    e.stopPropagation();
                    openForm(crew.id);
                  },
                },
                t('crews.edit'),
              )
            : null,
        ),
        crew.shift_end || onCall
          ? h(
              'div',
              { class: 'line small' },
              crew.shift_end ? h('span', { class: 'shift-end' }, t('crews.shift_ends', { time: fmtDayTime(crew.shift_end) })) : null,
              onCall ? h('span', {}, t('crews.on_call', { id: crew.call })) : null,
              onCall && r
                ? h(
                    'span',
                    { class: 'route-info', dataset: { eta: r.eta_s ?? '', distance: r.distance_m ?? '' } },
                    r.eta_s === null ? t('crews.no_route') : t('crews.route', { distance: fmtDistance(r.distance_m), eta: fmtDuration(r.eta_s) }),
                  )
                : null,
            )
          : null,
      );
    }),
  );
}

// ---------------------------------------------------------------- the form

const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id }, label), input);

/** Opens the form to add a crew (`id` null) or to change crew `id`. */
function openForm(id) {
  const crew = id === null ? null : state.crews.get(id);
  if (id !== null && !crew) return;
  closeForm();
  const add = crew === null;
  const shiftText = crew?.shift_end ? fmtDayTime(crew.shift_end) : '';
  form = add
    ? { mode: 'add', id: null }
    : {
        mode: 'edit',
        id,
        was: {
          crew_type: crew.crew_type,
          station: crew.station ?? '',
          call_sign: crew.call_sign ?? '',
          shift: shiftText,
        },
      };
  const idInput = h('input', {
    id: 'crew-id', maxlength: '64', required: true, placeholder: t('crew.form.id.placeholder'), readonly: !add, autocapitalize: 'characters',
  });
  idInput.value = crew?.id ?? '';
  const type = h(
    'select',
    { id: 'crew-type' },
    CREW_TYPES.map((ty) => h('option', { value: ty, selected: ty === (crew?.crew_type ?? 'general') }, crewTypeName(ty))),
  );
  const optional = t(add ? 'crew.form.optional' : 'crew.form.empty_none');
  const station = h('input', { id: 'crew-station', maxlength: '100', placeholder: optional });
  station.value = crew?.station ?? '';
  const callSign = h('input', { id: 'crew-call-sign', maxlength: '100', placeholder: optional });
  callSign.value = crew?.call_sign ?? '';
  const shift = h('input', { id: 'crew-shift-end', placeholder: t('crew.form.shift.placeholder'), inputmode: 'numeric' });
  shift.value = shiftText;
  const error = h('p', { id: 'crew-form-error', class: 'error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'crew-save', class: 'primary' }, t(add ? 'crew.form.add' : 'save_changes'));
  const parts = { idInput, type, station, callSign, shift, error, save };
  let where = null;
  if (add) {
    where = h('input', { id: 'crew-where', placeholder: t('crew.form.where.placeholder') });
    where.addEventListener('input', () => placeCrew(parseCoords(where.value)));
    parts.where = where;
  }
  const remove = add ? null : h('button', { type: 'button', id: 'crew-remove', class: 'danger' }, t('crew.form.remove'));
  remove?.addEventListener('click', () => {
    if (!remove.classList.contains('armed')) {
      remove.classList.add('armed');
      remove.textContent = t('crew.form.remove_confirm');
      setTimeout(() => {
        remove.classList.remove('armed');
        remove.textContent = t('crew.form.remove');
      }, 4000);
      return;
    }
    remove.classList.remove('armed');
    remove.textContent = t('crew.form.remove');
    removeCrew(id, error);
  });
  const el = h(
    'form',
    {
      id: 'crew-form',
      class: 'edit-box',
      autocomplete: 'off',
      dataset: { mode: form.mode, crewId: id },
      onsubmit: (e) => {
        e.preventDefault();
        if (add) addCrew(parts);
        else editCrew(id, parts);
      },
    },
    h('h3', {}, add ? t('crew.form.new') : t('crew.form.edit', { id })),
    h('div', { class: 'row' }, field('crew-id', t('crew.form.id'), idInput), field('crew-type', t('crew.form.type'), type)),
    h('div', { class: 'row' }, field('crew-call-sign', t('crew.form.call_sign'), callSign), field('crew-station', t('crew.form.station'), station)),
    field('crew-shift-end', t('crew.form.shift'), shift),
    add
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: 'crew-where' }, t('crew.form.position')),
          h(
            'div',
            { class: 'row' },
            where,
            h(
              'button',
              { type: 'button', id: 'crew-pick', class: 'no-grow', onclick: () => setMode(state.mode === 'crew' ? 'call' : 'crew') },
              t('crew.form.pick'),
            ),
          ),
        )
      : null,
    error,
    h(
      'div',
      { class: 'row' },
      save,
      remove,
      h('button', { type: 'button', id: 'crew-form-close', onclick: closeForm }, t('discard')),
    ),
  );
  fill($('crew-form-box'), el);
  $('crew-form-box').hidden = false;
  (add ? idInput : callSign).focus();
  render();
}

function closeForm() {
  if (!form) return;
  form = null;
  fill($('crew-form-box'));
  $('crew-form-box').hidden = true;
  layers.crewPick = pickMarker(layers.crewPick, null);
  if (state.mode === 'crew') setMode('call');
  render();
}

function fail(p, message) {
  p.error.textContent = message;
  p.error.hidden = false;
}

async function addCrew(p) {
  p.error.hidden = true;
  const id = p.idInput.value.trim();
  if (!id) return fail(p, t('crew.form.need_id'));
  const pos = parseCoords(p.where.value);
  if (!pos) return fail(p, t('crew.form.need_place'));
  const body = { id, lat: pos.lat, lon: pos.lon, crew_type: p.type.value };
  if (p.station.value.trim()) body.station = p.station.value.trim();
  if (p.callSign.value.trim()) body.call_sign = p.callSign.value.trim();
  if (p.shift.value.trim()) {
    const end = parseDayTime(p.shift.value);
    if (end === null) return fail(p, t('crew.form.bad_shift'));
    body.shift_end = end;
  }
  p.save.disabled = true;
  try {
    const crew = await state.api.post('/api/crews', body);
    state.crews.set(crew.id, crew);
    closeForm();
    toast(t('crew.added', { id: crew.id }), 'ok');
  } catch (e) {
    fail(p, errorText(e, { conflict: 'crew_add' }));
  } finally {
    p.save.disabled = false;
  }
  scheduleRefresh();
}

async function editCrew(id, p) {
  p.error.hidden = true;
  const was = form.was;
  const body = {};
  if (p.type.value !== was.crew_type) body.crew_type = p.type.value;
  for (const [k, input] of [['station', p.station], ['call_sign', p.callSign]]) {
    const v = input.value.trim();
    if (v !== was[k]) body[k] = v || null;
  }
  const shift = p.shift.value.trim();
  if (shift !== was.shift) {
    if (!shift) body.shift_end = null;
    else {
      const end = parseDayTime(shift);
      if (end === null) return fail(p, t('crew.form.bad_shift'));
      body.shift_end = end;
    }
  }
  if (!Object.keys(body).length) {
    closeForm();
    toast(t('nothing_changed'), 'info');
    return;
  }
  p.save.disabled = true;
  try {
    const crew = await state.api.patch(`/api/crews/${encodeURIComponent(id)}`, body);
    state.crews.set(crew.id, crew);
    closeForm();
    toast(t('crew.changed', { id }), 'ok');
  } catch (e) {
    const message = errorText(e);
    fail(p, message);
    toast(t('detail.change_refused', { message }), 'error');
  } finally {
    p.save.disabled = false;
  }
  scheduleRefresh();
}

async function removeCrew(id, error) {
  error.hidden = true;
  try {
    await state.api.del(`/api/crews/${encodeURIComponent(id)}`);
    state.crews.delete(id);
    closeForm();
    toast(t('crew.removed', { id }), 'ok');
  } catch (e) {
    const message = errorText(e, { conflict: 'crew_remove' });
    error.textContent = message;
    error.hidden = false;
    toast(t('crew.remove_refused', { id, message }), 'error');
  }
  state.dirtyCrews.add(id);
  scheduleRefresh();
}
