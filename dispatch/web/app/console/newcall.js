// A new call: its place by a map click, typed coordinates or a street name; priority, crew,
// complaint, address and phone; sent with an idempotency key so a retry never doubles it.

import { h, fill, newKey, toast, fmtDuration } from '../common.js';
import { t, errorText } from '../i18n.js';
import { $, state, select } from './state.js';
import { onClick, setPick } from './map.js';
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

export function wireForm() {
  onClick('call', (p) => {
    setPick(p);
    $('call-where').value = coordsText(p);
    fill($('call-suggest'));
  });
  const where = $('call-where');
  where.addEventListener('input', () => {
    const text = where.value;
    const p = parseCoords(text);
    clearTimeout(suggestTimer);
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
    suggestTimer = setTimeout(() => suggestStreets(text.trim()), 250);
  });
  $('call-form').addEventListener('submit', (e) => {
    e.preventDefault();
    createCall();
  });
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
    address: $('call-address').value.trim(),
  };
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
