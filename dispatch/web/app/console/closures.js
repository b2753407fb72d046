// Road closures: a road picked on the map (*Close road*) or an area drawn (*Draw closed
// area*), listed and reopened; drawn on the map. Routes are read again after each change.

import { L, toast, h, fill } from '../common.js';
import { t, errorText } from '../i18n.js';
import { $, state, layers, render } from './state.js';
import { onClick, setMode, drawDraft } from './map.js';
import { updateRoutes } from './routes.js';

export function wireClosures() {
  onClick('close', ({ lat, lon }) => closeAt(lat, lon));
  onClick('draw', ({ lat, lon }) => {
    state.draft.push([lat, lon]);
    drawDraft();
  });
}

/** Reads the closures again, then the routes they change. */
export async function reloadClosures() {
  try {
    state.closures = await state.api.get('/api/closures');
  } catch (e) {
    toast(t('closures.read_failed', { message: errorText(e) }), 'error');
    return;
  }
  state.closureVersion += 1;
  drawClosures();
  await updateRoutes();
  render();
}

async function closeAt(lat, lon) {
  await addClosure({ point: { lat, lon }, radius_m: 25 });
}

export async function finishArea() {
  if (state.draft.length < 3) return;
  const ring = state.draft.map(([lat, lon]) => [lon, lat]);
  ring.push(ring[0]);
  await addClosure({ polygon: { type: 'Polygon', coordinates: [ring] } });
}

async function addClosure(body) {
  try {
    const c = await state.api.post('/api/closures', body);
    toast(t('closures.added', { id: c.id, count: c.arcs ?? 0 }), 'ok');
  } catch (e) {
    toast(t('closures.refused', { message: errorText(e) }), 'error');
    return;
  }
  setMode('call');
  await reloadClosures();
}

async function removeClosure(id) {
  try {
    await state.api.del(`/api/closures/${id}`);
  } catch (e) {
    toast(t('closures.reopen_failed', { id, message: errorText(e) }), 'error');
    return;
  }
  await reloadClosures();
}

export function drawClosures() {
  if (!layers.closures) return;
  layers.closures.clearLayers();
  const style = { color: '#b91c1c', weight: 3, fillColor: '#ef4444', fillOpacity: 0.25, className: 'closure' };
  for (const c of state.closures) {
    if (c.polygon?.coordinates?.[0]) {
      L.polygon(c.polygon.coordinates[0].map(([lon, lat]) => [lat, lon]), style)
        .bindTooltip(document.createTextNode(t('closures.tooltip', { id: c.id })))
        .addTo(layers.closures);
    } else if (c.point) {
      L.circle([c.point.lat, c.point.lon], { ...style, radius: c.radius_m ?? 30 })
        .bindTooltip(document.createTextNode(t('closures.tooltip', { id: c.id })))
        .addTo(layers.closures);
    }
  }
}

export function renderClosures() {
  fill(
    $('closures'),
    state.closures.length ? null : h('li', { class: 'muted' }, t('closures.none')),
    state.closures.map((c) =>
      h(
        'li',
        { class: 'closure-item', dataset: { closureId: c.id } },
        h(
          'div',
          { class: 'line' },
          h('strong', {}, t('calls.number', { id: c.id })),
          h(
            'span',
            { class: 'grow' },
            [
              c.closed === false ? t('closures.slowed', { factor: c.factor }) : t('closures.closed'),
              c.polygon
                ? t('closures.area')
                : c.point
                  ? t('closures.around', { radius: c.radius_m })
                  : t('closures.ways', { count: c.way_ids?.length ?? 0 }),
              t('closures.pieces', { count: c.arcs ?? 0 }),
              c.active === false ? t('closures.inactive') : null,
            ].filter(Boolean).join(' · '),
          ),
          h('button', { type: 'button', class: 'reopen', onclick: () => removeClosure(c.id) }, t('closures.reopen')),
        ),
      ),
    ),
  );
}
