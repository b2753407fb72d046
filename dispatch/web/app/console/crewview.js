// A crew's token on the console: a read-only view of its own crew and calls, read again
// every 10 s; no call taking, closures, crew changes or events, and no medical data.

import { h, fill } from '../common.js';
import { t } from '../i18n.js';
import { $, state, render, setConn } from './state.js';
import { updateRoutes } from './routes.js';
import { tick } from './calls.js';

export async function crewView() {
  const me = state.me;
  const banner = $('crew-banner');
  banner.hidden = false;
  fill(
    banner,
    t('crewview.banner', { id: me.crew_id }),
    h('a', { href: '/tablet' }, t('crewview.tablet')),
  );
  $('new-call').hidden = true;
  $('map-tools').hidden = true;
  $('events-card').hidden = true;
  $('closures-card').hidden = true;
  $('crew-add').hidden = true;
  setConn('live', 'read_only');
  const refresh = async () => {
    try {
      const [crews, calls] = await Promise.all([state.api.get('/api/crews'), state.api.get('/api/calls')]);
      state.crews = new Map(crews.map((c) => [c.id, c]));
      state.calls = new Map(calls.map((c) => [c.id, c]));
      await updateRoutes();
      render();
      setConn('live', 'read_only');
    } catch (e) {
      setConn('offline', e.offline ? 'offline' : 'error');
    }
  };
  await refresh();
  setInterval(refresh, 10000);
  setInterval(tick, 1000);
  document.body.dataset.ready = 'true';
}
