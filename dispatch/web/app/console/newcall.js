// A new call: its place by a typed address (searched as it is typed in the map's own
// addresses, `/api/geocode`), a map click (the nearest address offered, `/api/reverse`) or
// typed coordinates; the entrance, floor and flat; priority, crew, complaint and phone.
// The call keeps the address in its parts (`place`). Sent with an idempotency key so a
// retry never doubles it.

import { h, fill, newKey, toast, fmtDuration, fmtDistance } from '../common.js';
import { t, errorText } from '../i18n.js';
import { $, state, select } from './state.js';
import { onClick, setPick as markPick } from './map.js';
import { updateRoutes } from './routes.js';

let suggestTimer = null;

/** `49.41, 8.69` (or with `;` or a space) as `{lat, lon}`, else `null`. */
export function parseCoords(text) {
  const m = text.trim().match(/^(-?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)$/);
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

/** `{lat, lon}` as the text of a place field. */
export const coordsText = ({ lat, lon }) => `${lat.toFixed(5)}, ${lon.toFixed(5)}`;

/** The confirmed address of the new call: `/api/geocode`'s parts (`null`: none picked). */
let confirmed = null;
/** The address field was typed in since the last map click (a late reverse answer keeps it). */
let addressTyped = false;

export function wireForm() {
  onClick('call', (p) => {
    setPick(p);
    confirmed = null;
    addressTyped = false;
    $('call-where').value = coordsText(p);
    fill($('call-suggest'));
    reverse(p);
  });
  const where = $('call-where');
  where.addEventListener('input', () => {
    const text = where.value;
    const p = parseCoords(text);
    clearTimeout(suggestTimer);
    confirmed = null;
    if (p) {
      setPick(p);
      fill($('call-suggest'));
      return;
    }
    setPick(null);
    if (text.trim().length < 2) {
      fill($('call-suggest'));
      return;
    }
    suggestTimer = setTimeout(() => suggest(text.trim()), 200);
  });
  // An address typed over the confirmed one is the caller's word: its parts no longer hold.
  $('call-address').addEventListener('input', () => {
    confirmed = null;
    addressTyped = true;
  });
  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createCall();
  });
}

/** The address of a geocode match as the call keeps it: its parts, as mapped. */
function placeOf(m) {
  const a = m.address;
  return {
    street: a.street ?? undefined,
    housenumber: a.housenumber ?? undefined,
    block: a.block ?? undefined,
    building: a.building ?? undefined,
    entrance: a.entrance ?? undefined,
    city: a.city ?? undefined,
    name: a.place ?? undefined,
  };
}

/** Takes a match as the call's address: its parts, and its line in the address field. */
function confirm(m) {
  confirmed = { display: m.display, place: placeOf(m) };
  $('call-address').value = m.display;
}

/** Takes a geocode match as the call's place: its point, its parts, its line. */
function choose(m) {
  const p = { lat: m.point.lat, lon: m.point.lon };
  setPick(p);
  confirm(m);
  $('call-where').value = m.display;
  if (m.address.entrance && !$('call-entrance').value) $('call-entrance').value = m.address.entrance;
  fill($('call-suggest'));
  state.map.setView([p.lat, p.lon], Math.max(state.map.getZoom(), 17));
}

/** The addresses matching what is typed, as buttons (streets by name on a `.graph` map). */
async function suggest(q) {
  let found;
  try {
    found = await state.api.get(`/api/geocode?q=${encodeURIComponent(q)}&limit=8`);
  } catch (e) {
    if (e.status === 503) return suggestStreets(q);
    return;
  }
  if ($('call-where').value.trim() !== q) return;
  fill(
    $('call-suggest'),
    found.length ? null : h('span', { class: 'small muted' }, t('newcall.no_address')),
    found.map((m) =>
      h(
        'button',
        { type: 'button', class: `geo geo-${m.kind}`, onclick: () => choose(m) },
        m.display,
        m.kind === 'address' ? null : h('span', { class: 'small muted' }, ` · ${t(`newcall.kind.${m.kind}`)}`),
      ),
    ),
  );
}

/** A map click: the nearest address, offered (not taken) when it is close. */
async function reverse(p) {
  let found;
  try {
    found = await state.api.get(`/api/reverse?lat=${p.lat}&lon=${p.lon}`);
  } catch {
    return;
  }
  if (!state.pick || state.pick.lat !== p.lat || state.pick.lon !== p.lon) return;
  const m = found.address;
  // Beyond 150 m the nearest address is not this place: say there is none.
  if (!m || found.distance_m > 150) {
    fill($('call-suggest'), h('span', { class: 'small muted' }, t('newcall.no_nearest')));
    return;
  }
  // The call stays where it was clicked; the address is the nearest one (unless the
  // call taker typed one meanwhile).
  if (!addressTyped) confirm(m);
  fill(
    $('call-suggest'),
    h('span', { class: 'small muted reverse' },
      t('newcall.nearest', { address: m.display, distance: fmtDistance(found.distance_m) })),
  );
}

async function suggestStreets(q) {
  let found;
  try {
    found = await state.api.get(`/api/map/streets?q=${encodeURIComponent(q)}`);
  } catch {
    return;
  }
  if ($('call-where').value.trim() !== q) return;
  fill(
    $('call-suggest'),
    found.length ? null : h('span', { class: 'small muted' }, t('newcall.no_street')),
    found.map((s) =>
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            setPick({ lat: s.lat, lon: s.lon });
            $('call-where').value = s.name;
            if (!$('call-address').value) $('call-address').value = s.name;
            fill($('call-suggest'));
            state.map.setView([s.lat, s.lon], Math.max(state.map.getZoom(), 16));
          },
        },
        s.name,
      ),
    ),
  );
}

/** The call's place (the confirmed address and the caller's entrance, floor and flat;
 * `null` when none is known) and its line (the address field, then entrance, floor and
 * flat). */
function placeAndLine() {
  const extra = {
    entrance: $('call-entrance').value.trim() || undefined,
    floor: $('call-floor').value.trim() || undefined,
    apartment: $('call-apartment').value.trim() || undefined,
  };
  const place = { ...(confirmed?.place ?? {}), ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v)) };
  const hasPlace = Object.values(place).some((v) => v);
  const line = [
    $('call-address').value.trim(),
    extra.entrance && t('addr.entrance', { v: extra.entrance }),
    extra.floor && t('addr.floor', { v: extra.floor }),
    extra.apartment && t('addr.apartment', { v: extra.apartment }),
  ].filter(Boolean).join(', ');
  return { place: hasPlace ? place : null, line };
}

/** The place of the new call (`null`: none), and the open calls it may repeat. */
function setPick(p) {
  markPick(p);
  checkDuplicates(p);
}

let dupesAsked = 0;

/** Shows the open calls near `p` that the new call may repeat, each with *Link*. */
async function checkDuplicates(p) {
  const box = $('call-dupes');
  const asked = ++dupesAsked;
  if (!p) {
    box.hidden = true;
    fill(box);
    return;
  }
  let found;
  try {
    found = await state.api.get(`/api/calls/duplicates?lat=${p.lat}&lon=${p.lon}`);
  } catch {
    return;
  }
  if (asked !== dupesAsked) return;
  box.hidden = found.length === 0;
  fill(
    box,
    found.length ? h('strong', {}, t('dupes.heading')) : null,
    found.map((d) =>
      h(
        'div',
        { class: 'dupe', dataset: { callId: d.call.id } },
        h(
          'span',
          {},
          t('dupes.line', {
            call: d.call.id,
            distance: fmtDistance(d.distance_m),
            age: fmtDuration(d.age_s),
          }),
          d.call.address || d.call.complaint ? ` · ${[d.call.address, d.call.complaint].filter(Boolean).join(', ')}` : '',
        ),
        h('button', { type: 'button', class: 'link-call', onclick: () => linkTo(d.call.id) }, t('dupes.link', { call: d.call.id })),
      ),
    ),
    found.length ? h('span', { class: 'small muted' }, t('dupes.or_new')) : null,
  );
}

let linkKey = null;

/** Links the form's caller to open call `id`: no new call, no crew; the call is selected. */
async function linkTo(id) {
  const err = $('call-error');
  err.hidden = true;
  const pick = state.pick;
  if (!pick) return;
  const { line } = placeAndLine();
  const body = {
    lat: pick.lat,
    lon: pick.lon,
    complaint: $('call-complaint').value.trim(),
    address: line,
  };
  const phone = $('call-phone').value.trim();
  if (phone) body.phone = phone;
  linkKey = linkKey ?? newKey();
  try {
    const call = await state.api.post(`/api/calls/${id}/link`, body, { 'Idempotency-Key': linkKey });
    linkKey = null;
    state.calls.set(call.id, call);
    $('call-form').reset();
    confirmed = null;
    setPick(null);
    fill($('call-suggest'));
    select(call.id);
    toast(t('dupes.linked', { call: call.id }), 'ok');
  } catch (e) {
    if (!e.offline) linkKey = null;
    err.textContent = e.offline ? t('newcall.offline') : errorText(e);
    err.hidden = false;
  }
}

let pendingKey = null;

async function createCall() {
  const err = $('call-error');
  err.hidden = true;
  const pick = state.pick ?? parseCoords($('call-where').value);
  if (!pick) {
    err.textContent = t('newcall.no_place');
    err.hidden = false;
    return;
  }
  const body = {
    lat: pick.lat,
    lon: pick.lon,
    priority: document.querySelector('input[name=priority]:checked').value,
    needs: [$('call-needs').value],
    complaint: $('call-complaint').value.trim(),
  };
  const { place, line } = placeAndLine();
  body.address = line;
  if (place) body.place = place;
  const phone = $('call-phone').value.trim();
  if (phone) body.phone = phone;
  // The same key on a retry of this form, so a lost answer does not create the call twice.
  pendingKey = pendingKey ?? newKey();
  const button = $('call-submit');
  button.disabled = true;
  try {
    const call = await state.api.post('/api/calls', body, { 'Idempotency-Key': pendingKey });
    pendingKey = null;
    state.calls.set(call.id, call);
    $('call-form').reset();
    confirmed = null;
    setPick(null);
    await updateRoutes();
    select(call.id);
    toast(
      call.crew_id
        ? t('newcall.sent', { id: call.id, crew: call.crew_id, eta: fmtDuration(call.eta_s) })
        : t('newcall.queued', { id: call.id }),
      call.crew_id ? 'ok' : 'info',
    );
  } catch (e) {
    if (!e.offline) pendingKey = null;
    err.textContent = e.offline ? t('newcall.offline') : errorText(e);
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
}
