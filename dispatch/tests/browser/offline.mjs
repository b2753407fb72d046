// The tablet offline: once loaded, its service worker keeps the page, its files and the
// crew's map and crew answers; with the network gone, a reload still shows the assignment,
// its address in words, the route and the turns; status steps taken offline wait in the
// outbox (also across a reload) and reach the service in order when the network is back;
// the kept answers are per token.

import { mkdirSync } from 'node:fs';
import {
  scenario, step, check, until, sleep, must, api, newPage, open, noErrors, link, BASE, DISPATCHER, CREW_A1,
} from './lib.mjs';

mkdirSync('/tmp/shots', { recursive: true });

const crewStatus = async () => (await must(200, DISPATCHER, 'GET', '/api/crews/A1')).status;

/** Metres between two {lat, lon}. */
const metres = (a, b) => {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  return Math.hypot(x, (b.lat - a.lat) * rad) * 6371000;
};

const CALL = { lat: 49.405, lon: 8.685, priority: 'emergency', complaint: 'chest pain', address: 'Bergheimer Straße 1' };
const PLACE = { street: 'Bergheimer Straße', housenumber: '1', entrance: '2', floor: '3', apartment: '14' };

await scenario('offline', async (browser) => {
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: 49.4106, lon: 8.6946, station: 'S1' });
  const tablet = await newPage(browser, { width: 1024, height: 768 });
  const context = tablet.context();
  const net = await link();

  step('the tablet loads and keeps itself for offline use');
  await open(tablet, `/tablet?token=${CREW_A1}`, net.base);
  await until(() => tablet.evaluate(() => window.__tablet.connected), 'the tablet stream');
  await until(() => tablet.evaluate(() => window.__tablet.offlineReady), 'the service worker', 20000);
  check(await tablet.evaluate(() => !!navigator.serviceWorker.controller), 'the worker controls the page');
  const sw = await api(CREW_A1, 'GET', '/tablet-sw.js');
  check(sw.status === 200 && sw.headers.get('content-type').startsWith('text/javascript'), `the worker is served: ${sw.status}`);

  step('a call with its address in parts (or the free text, before calls have `place`)');
  let r = await api(DISPATCHER, 'POST', '/api/calls', { ...CALL, place: PLACE });
  const withPlace = r.status === 201;
  if (!withPlace) {
    check(r.status === 422, `a call with a place: ${r.status} ${JSON.stringify(r.body)}`);
    r = await api(DISPATCHER, 'POST', '/api/calls', CALL);
  }
  const call = r.body;
  check(r.status === 201 && call.crew_id === 'A1', `A1 takes the call: ${JSON.stringify(call)}`);
  const address = withPlace ? 'Bergheimer Straße 1, entrance 2, floor 3, flat 14' : CALL.address;
  await tablet.waitForSelector('#assignment-body:not([hidden])');
  check((await tablet.textContent('#a-address')) === address, `the address: ${await tablet.textContent('#a-address')}`);
  await tablet.waitForSelector('#turns li.turn');
  const turnsOnline = await tablet.$$eval('#turns li.turn', (lis) => lis.map((li) => li.textContent));

  step('en route, online');
  await tablet.click('#status-en_route');
  await until(async () => (await crewStatus()) === 'en_route', 'en_route at the service');
  await tablet.waitForSelector('#outbox[hidden]', { state: 'attached' });
  // The tablet reads its crew again after the step (through the worker, which keeps it).
  await sleep(1000);

  step('the network goes; a reload still shows the assignment, its address, route and turns');
  await net.offline(context);
  const probe = await tablet.evaluate(async (token) => {
    try {
      await fetch('/api/crews/A1/hospital?capability=stroke', { headers: { Authorization: `Bearer ${token}` } });
      return 'answered';
    } catch {
      return 'failed';
    }
  }, CREW_A1);
  check(probe === 'failed', 'offline for the worker too (an answer never kept fails)');
  await tablet.reload();
  await tablet.waitForSelector('body[data-ready="true"]');
  check((await tablet.textContent('#conn')) === 'offline', 'says it is offline');
  check((await tablet.textContent('#a-call')) === `Call #${call.id}`, 'the call');
  check((await tablet.textContent('#a-complaint')) === 'chest pain', 'the complaint');
  check((await tablet.textContent('#a-address')) === address, 'the address');
  check((await tablet.textContent('#status-now')) === 'en route', `the status: ${await tablet.textContent('#status-now')}`);
  const end = await until(() => tablet.evaluate(() => window.__tablet.routeEnd('route')), 'the route drawn');
  check(metres(end, CALL) < 150, `the route ends at the call: ${JSON.stringify(end)}`);
  const turnsOffline = await until(async () => {
    const t = await tablet.$$eval('#turns li.turn', (lis) => lis.map((li) => li.textContent));
    return t.length >= 2 && t;
  }, 'the turns');
  check(JSON.stringify(turnsOffline) === JSON.stringify(turnsOnline), `the same turns: ${turnsOffline}`);
  const roads = await until(async () => Number(await tablet.getAttribute('#map', 'data-roads')) > 100 && tablet.getAttribute('#map', 'data-roads'), 'the roads from the kept answers');
  console.log(`  ${roads} roads drawn offline`);
  await tablet.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  await tablet.waitForSelector('.leaflet-zoom-anim', { state: 'detached' });
  await sleep(400);
  await tablet.screenshot({ path: '/tmp/shots/tablet-offline-en-1024x768.png' });
  console.log('  screenshot /tmp/shots/tablet-offline-en-1024x768.png');

  step('steps taken offline wait, also across a reload');
  await tablet.click('#status-on_scene');
  await tablet.waitForSelector('#outbox[data-count="1"]');
  await tablet.reload();
  await tablet.waitForSelector('body[data-ready="true"]');
  check((await tablet.textContent('#status-now')) === 'on scene', 'the step taken shows after the reload');
  await tablet.waitForSelector('#outbox[data-count="1"]');
  check((await tablet.textContent('#a-address')) === address, 'the address after the second reload');
  await tablet.click('#status-transporting');
  await tablet.waitForSelector('#outbox[data-count="2"]');
  check(
    JSON.stringify(await tablet.evaluate(() => window.__tablet.outbox.map((i) => i.status))) === '["on_scene","transporting"]',
    'kept in order',
  );
  await sleep(2500);
  const held = await crewStatus();
  check(held === 'en_route', `nothing reached the service: ${held}`);

  step('the network is back: the steps reach the service in order');
  await net.online(context);
  await until(async () => (await crewStatus()) === 'transporting', 'transporting at the service', 20000);
  await tablet.waitForSelector('#outbox[hidden]', { state: 'attached' });
  const times = (await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}`)).times;
  check(times.en_route < times.on_scene && times.on_scene <= times.left_scene, `on scene, then left: ${JSON.stringify(times)}`);
  const log = await must(200, DISPATCHER, 'GET', '/api/audit');
  const steps = log.filter((e) => e.type === 'crew_status' && e.crew_id === 'A1').map((e) => e.event?.to ?? e.to);
  check(JSON.stringify(steps.slice(-3)) === '["en_route","on_scene","transporting"]', `the log: ${steps}`);
  await until(() => tablet.evaluate(() => window.__tablet.connected), 'the stream again');

  step('each token has its own kept answers: offline, none is given to another token');
  const staff = await context.newPage();
  await staff.goto(`${net.base}/tablet?token=${DISPATCHER}&crew=A1`);
  await staff.waitForSelector('body[data-ready="true"]');
  await until(() => staff.evaluate(() => window.__tablet.offlineReady), 'the worker for the staff page');
  const dataCaches = await staff.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('tablet-data-')).length);
  check(dataCaches === 2, `one cache per token: ${dataCaches}`);
  await net.offline(context);
  const roles = await staff.evaluate(async (tokens) => {
    const out = [];
    for (const token of tokens) {
      try {
        const r = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
        out.push((await r.json()).role);
      } catch {
        out.push('none');
      }
    }
    return out;
  }, [DISPATCHER, CREW_A1, 'an-unknown-token-0001']);
  check(JSON.stringify(roles) === '["dispatcher","crew","none"]', `offline /api/me by token: ${roles}`);
  await net.online(context);
  await staff.close();
  noErrors(tablet);
  console.log(`  base ${BASE}, through ${net.base}`);
});
