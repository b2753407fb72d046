// The console: sign-in by ?token=, the vector road map, a call created by clicking the map
// (crew, ETA and candidates shown), a call placed by street name that queues when every
// crew is busy (its waiting time counting), override, cancel, live crew updates; screenshots
// at tablet and phone size.

import {
  scenario, step, check, until, sleep, must, addCrews, newPage, open, clickMap, shot, noErrors,
  DISPATCHER, SPOTS, BASE,
} from './lib.mjs';

const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

await scenario('console', async (browser) => {
  await addCrews(3);
  const page = await newPage(browser, { width: 1280, height: 800 });

  step('a ?token= in the address signs in, and is then removed from the address');
  await open(page, `/?token=${DISPATCHER}`);
  check(!page.url().includes('token='), `the token stays in the address: ${page.url()}`);
  check((await page.textContent('#who')) === 'dispatcher', 'the role is shown');
  await until(async () => (await page.getAttribute('#conn', 'class')).includes('live'), 'the live stream');

  step('the road map is drawn from the service\'s roads, on a canvas');
  const roads = await until(
    () => page.evaluate(() => Number(document.getElementById('map').dataset.roads || 0)),
    'roads drawn',
  );
  check(roads > 500, `only ${roads} road segments drawn`);
  const painted = await page.evaluate(() => {
    const c = document.querySelector('.leaflet-roads-pane canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1;
    return n / (c.width * c.height);
  });
  check(painted > 0.03, `the road canvas is almost empty (${(painted * 100).toFixed(1)} % painted)`);
  const roadRequests = page.requests.filter((u) => u.includes('/api/map/roads?bbox='));
  check(roadRequests.length > 0, 'roads come from /api/map/roads');
  check(
    page.requests.every((u) => u.startsWith('http://127.0.0.1') || u.startsWith('ws://127.0.0.1') || u.startsWith('data:') || u.startsWith('blob:')),
    `everything comes from the service: ${page.requests.filter((u) => !u.includes('127.0.0.1')).join(', ')}`,
  );
  check((await texts(page, '#crews li.crew-item strong')).join() === 'A1,A2,A3', 'the crews are listed');

  step('a crew added elsewhere appears live');
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A4', lat: SPOTS[3][0], lon: SPOTS[3][1], station: 'S2' });
  await page.waitForSelector('#crews li[data-crew-id="A4"][data-status="available"]');
  await page.waitForSelector('path.crew-A4');

  step('clicking the map places a call; dispatching it shows the crew, its ETA and the candidates');
  const [lat, lon] = [49.405, 8.685];
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 15), [lat, lon]);
  await clickMap(page, lat, lon);
  const where = await page.inputValue('#call-where');
  const [wlat, wlon] = where.split(',').map(Number);
  check(Math.abs(wlat - lat) < 0.0003 && Math.abs(wlon - lon) < 0.0003, `the click placed the call at ${where}`);
  await page.fill('#call-complaint', 'chest pain');
  await page.fill('#call-address', 'Bergheimer Straße 1');
  await page.click('#call-submit');
  await page.waitForSelector('#call-detail:not([hidden]) #candidates');
  const calls = await must(200, DISPATCHER, 'GET', '/api/calls');
  check(calls.length === 1, `one call was created, not ${calls.length}`);
  const call = calls[0];
  check(call.complaint === 'chest pain' && call.address === 'Bergheimer Straße 1', 'with its details');
  const crew = call.crew_id;
  check(crew, `the call was assigned: ${JSON.stringify(call)}`);
  check((await page.textContent('#detail-crew')).includes(crew), 'the chosen crew is shown');
  const eta = await page.textContent('#detail-eta');
  const minutes = Math.floor(call.eta_s / 60);
  check(eta.includes(`${crew}: ${minutes} min`), `the ETA of ${call.eta_s} s is shown: ${eta}`);
  const decision = call.decisions[0];
  const rows = await page.$$eval('#candidates tbody tr', (trs) => trs.map((tr) => [tr.dataset.crewId, tr.className]));
  check(rows.length === decision.candidates.length && rows.length === 4, `all four candidates are listed: ${rows}`);
  check(rows.every(([id], i) => id === decision.candidates[i].crew_id), 'in the order of their ETAs');
  check(rows.find(([, cls]) => cls === 'chosen')?.[0] === crew, 'the chosen one is marked');
  check((await page.textContent('#decision')).includes('smallest road ETA'), 'and why it was chosen');
  await page.waitForSelector(`#calls li[data-call-id="${call.id}"][data-status="assigned"]`);
  await page.waitForSelector(`.call-marker.call-${call.id}`);
  await page.waitForSelector(`path.route-${crew}`);
  await page.waitForSelector(`#crews li[data-crew-id="${crew}"][data-status="dispatched"]`);

  step('override: another crew is sent instead');
  const other = decision.candidates.find((c) => c.crew_id !== crew).crew_id;
  await page.selectOption('#override-crew', other);
  await page.click('#override');
  await until(async () => (await page.textContent('#detail-crew')).includes(other), 'the new crew in the detail');
  const overridden = await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}`);
  check(overridden.assignments.map((a) => a.crew_id).join() === other, `the service sent ${other}: ${JSON.stringify(overridden.assignments)}`);
  check((await page.textContent('#decision')).includes('chosen by the dispatcher'), 'the override is explained');
  await page.waitForSelector(`#crews li[data-crew-id="${crew}"][data-status="available"]`);
  await page.waitForSelector(`path.route-${other}`);

  step('with every crew busy, a call placed by street name queues and its waiting time counts');
  for (const [la, lo] of [SPOTS[2], SPOTS[3], SPOTS[4]]) {
    const c = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: la + 0.001, lon: lo + 0.001, priority: 'urgent' });
    check(c.status === 'assigned', 'the other crews take these');
  }
  await page.fill('#call-where', 'Hauptstr');
  await page.click('#call-suggest button:has-text("Hauptstraße")');
  check((await page.inputValue('#call-address')) === 'Hauptstraße', 'the street fills the address');
  await page.check('input[name=priority][value=non_urgent]');
  await page.fill('#call-complaint', 'fall, hip pain');
  await page.click('#call-submit');
  await until(async () => (await page.textContent('#detail-crew')).includes('queued'), 'the queued call in the detail');
  const queued = (await must(200, DISPATCHER, 'GET', '/api/calls?status=queued'))[0];
  check(queued && queued.address === 'Hauptstraße' && queued.priority === 'non_urgent', `queued: ${JSON.stringify(queued)}`);
  const item = `#calls li.queued[data-call-id="${queued.id}"]`;
  await page.waitForSelector(item);
  const firstItem = await page.getAttribute('#calls li:first-child', 'data-call-id');
  check(Number(firstItem) === queued.id, 'waiting calls head the list');
  const wait1 = await page.textContent(`${item} .wait`);
  check(/^waiting \d+:\d\d$/.test(wait1), `a waiting time: ${wait1}`);
  await sleep(3200);
  const wait2 = await page.textContent(`${item} .wait`);
  const secs = (t) => t.replace('waiting ', '').split(':').reduce((a, b) => a * 60 + Number(b), 0);
  check(secs(wait2) >= secs(wait1) + 2, `the waiting time counts: ${wait1} then ${wait2}`);
  check((await page.textContent('#calls-count')).includes('1 waiting'), 'the count of waiting calls');
  await shot(page, 'console-1280x800');

  step('cancel, with a reason, confirmed with a second press');
  await page.click('#cancel-call');
  check((await page.textContent('#cancel-call')) === 'Cancel call', 'no reason: not armed');
  await page.fill('#cancel-reason', 'caller called back: not needed');
  await page.click('#cancel-call');
  check((await page.textContent('#cancel-call')) === 'Confirm cancel', 'asks to confirm');
  await page.click('#cancel-call');
  await until(async () => (await must(200, DISPATCHER, 'GET', `/api/calls/${queued.id}`)).status === 'cancelled', 'the cancelled call');
  // The audit reads the stored log: the call may read cancelled (memory) a moment before
  // its group commit stores the event.
  const cancelled = await until(async () => (await must(200, DISPATCHER, 'GET', `/api/audit`))
    .find((e) => e.type === 'call_cancelled'), 'the cancellation in the audit');
  check(cancelled.event.reason === 'caller called back: not needed', 'the reason is logged');
  await page.waitForSelector(item, { state: 'detached' });
  await page.waitForSelector(`.call-marker.call-${queued.id}`, { state: 'detached' });

  step('phone size');
  const phone = await newPage(browser, { width: 375, height: 812 });
  await open(phone, `/?token=${DISPATCHER}`);
  await phone.waitForSelector('#calls li.call-item');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
  const box = await phone.locator('#call-submit').boundingBox();
  check(box.height >= 44 && box.width >= 300, `a large dispatch button: ${JSON.stringify(box)}`);
  await shot(phone, 'console-375x812');

  step('without a token: the sign-in form, which refuses a wrong token');
  const fresh = await newPage(browser);
  await fresh.goto(`${BASE}/`);
  await fresh.fill('#login-token', 'not-a-token');
  await fresh.click('form.login button[type=submit]');
  await fresh.waitForSelector('form.login .error');
  check((await fresh.textContent('form.login .error')).includes('not accepted'), 'says the token was refused');
  await fresh.fill('#login-token', DISPATCHER);
  await fresh.click('form.login button[type=submit]');
  await fresh.waitForSelector('body[data-ready="true"]');
  check((await fresh.textContent('#who')) === 'dispatcher', 'signed in');
  await fresh.waitForSelector('#calls li.call-item');
  noErrors(page, phone, fresh);
});
