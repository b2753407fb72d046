// The crews panel and the call detail's edits against the real service: a crew added through
// the panel (placed by a map click, and by typed coordinates), changed (call sign, type,
// cleared station and shift end) and removed (refused with the service's message while it
// is on a call); a crew id with markup refused, a call sign, complaint and address with
// markup shown as text; a queued call re-triaged to an emergency moves to the head of the
// list; notes, needs (refused once the patient left the scene) and the place changed from
// the detail; a crew broken down (out of service through the API) hands its call back,
// marked in the list and the detail, its tablet told at once, and the next free crew takes
// it; a diversion explained with the crews that could be diverted. Screenshots at desktop
// and phone size.

import {
  scenario, step, check, until, must, api, newPage, open, clickMap, shot, noErrors,
  DISPATCHER, CREW_A1, SPOTS,
} from './lib.mjs';

const XSS = '<img src=x onerror=alert(1)>';

const text = async (page, sel) => (await page.textContent(sel))?.trim() ?? '';
const near = (a, b, eps = 0.0003) => Math.abs(a - b) < eps;
const firstCall = (page) => page.getAttribute('#calls li.call-item:first-child', 'data-call-id').then(Number);
const pad = (n) => String(n).padStart(2, '0');
const hm = (ms) => `${pad(new Date(ms).getHours())}:${pad(new Date(ms).getMinutes())}`;

/** The newest event of a type the console lists: {text, actor}. */
async function lastEvent(page, type) {
  return page.$eval(`#events li[data-type="${type}"]`, (li) => ({ text: li.textContent, actor: li.dataset.actor }));
}

await scenario('crews', async (browser) => {
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: SPOTS[0][0], lon: SPOTS[0][1], station: 'S1' });
  const page = await newPage(browser, { width: 1280, height: 800 });
  const dialogs = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await open(page, `/?token=${DISPATCHER}`);
  await until(async () => (await page.getAttribute('#conn', 'class')).includes('live'), 'the live stream');

  step('a crew added through the panel: placed by a click on the map, with call sign, station and shift end');
  await page.click('#crew-add');
  await page.waitForSelector('#crew-form[data-mode="add"]');
  await page.fill('#crew-id', 'B2');
  await page.selectOption('#crew-type', 'general');
  await page.fill('#crew-station', 'Station 2');
  await page.fill('#crew-call-sign', 'Florian 2/83-1');
  await page.fill('#crew-shift-end', '23:45');
  await page.click('#crew-pick');
  check(await page.isVisible('#map-hint'), 'the map says what a click does');
  const [bLat, bLon] = SPOTS[1];
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 15), [bLat, bLon]);
  await clickMap(page, bLat, bLon);
  const where = (await page.inputValue('#crew-where')).split(',').map(Number);
  check(near(where[0], bLat) && near(where[1], bLon), `the click placed the crew at ${where}`);
  await page.waitForSelector('path.crew-pick');
  check(!(await page.isVisible('#map-hint')), 'the map is back to placing calls');
  await page.click('#crew-save');
  await page.waitForSelector('#crews li[data-crew-id="B2"]');
  await page.waitForSelector('#crew-form', { state: 'detached' });
  const b2 = await must(200, DISPATCHER, 'GET', '/api/crews/B2');
  check(b2.call_sign === 'Florian 2/83-1' && b2.station === 'Station 2' && b2.crew_type === 'general', `B2 as entered: ${JSON.stringify(b2)}`);
  check(near(b2.position.lat, bLat) && near(b2.position.lon, bLon), `B2 where the map was clicked: ${JSON.stringify(b2.position)}`);
  check(b2.shift_end > Date.now() && hm(b2.shift_end) === '23:45', `the shift ends at the next 23:45: ${b2.shift_end}`);
  const b2Item = '#crews li[data-crew-id="B2"]';
  check((await text(page, `${b2Item} .call-sign`)) === 'Florian 2/83-1', 'the call sign is listed');
  check((await text(page, `${b2Item} .station`)) === 'Station 2', 'the station is listed');
  check((await text(page, `${b2Item} .shift-end`)).endsWith('23:45'), `the shift end in 24-hour time: ${await text(page, `${b2Item} .shift-end`)}`);
  await page.waitForSelector('path.crew-B2');
  const added = await until(() => lastEvent(page, 'crew_added'), 'the crew_added event');
  check(added.text.includes('crew B2 added') && added.actor === 'dispatcher', `the event in words, with its actor: ${JSON.stringify(added)}`);

  step('a crew added by typed coordinates');
  await page.click('#crew-add');
  await page.fill('#crew-id', 'C3');
  await page.selectOption('#crew-type', 'psychiatric');
  await page.fill('#crew-where', '49.395, 8.68');
  await page.click('#crew-save');
  await page.waitForSelector('#crews li[data-crew-id="C3"]');
  const c3 = await must(200, DISPATCHER, 'GET', '/api/crews/C3');
  check(c3.crew_type === 'psychiatric' && c3.position.lat === 49.395 && c3.position.lon === 8.68, `C3: ${JSON.stringify(c3)}`);
  check(c3.station === null && c3.call_sign === null && c3.shift_end === null, 'with no station, call sign or shift end');

  step('editing a crew: call sign and type changed, station and shift end cleared');
  await page.click(`${b2Item} button.crew-edit`);
  await page.waitForSelector('#crew-form[data-mode="edit"][data-crew-id="B2"]');
  check((await page.inputValue('#crew-call-sign')) === 'Florian 2/83-1', 'the form shows the call sign');
  check((await page.inputValue('#crew-shift-end')).endsWith('23:45'), 'and the shift end');
  check(await page.getAttribute('#crew-id', 'readonly') !== null, 'the id stays');
  await page.fill('#crew-call-sign', 'Florian 2/83-2');
  await page.selectOption('#crew-type', 'resuscitation');
  await page.fill('#crew-station', '');
  await page.fill('#crew-shift-end', '');
  await page.click('#crew-save');
  await page.waitForSelector('#crew-form', { state: 'detached' });
  const b2e = await must(200, DISPATCHER, 'GET', '/api/crews/B2');
  check(b2e.call_sign === 'Florian 2/83-2' && b2e.crew_type === 'resuscitation', `changed: ${JSON.stringify(b2e)}`);
  check(b2e.station === null && b2e.shift_end === null, `cleared: ${JSON.stringify(b2e)}`);
  await until(async () => (await text(page, `${b2Item} .call-sign`)) === 'Florian 2/83-2', 'the new call sign listed');
  check((await text(page, `${b2Item} .crew-type`)) === 'resuscitation', 'the new type listed');
  check((await page.$(`${b2Item} .shift-end`)) === null, 'no shift end listed');
  const updated = await until(() => lastEvent(page, 'crew_updated'), 'the crew_updated event');
  check(
    updated.text.includes('crew B2 changed') && updated.text.includes('Florian 2/83-2') && updated.text.includes('station cleared'),
    `the change in words: ${updated.text}`,
  );

  step('markup: refused as a crew id, shown as text as a call sign');
  const refused = await api(DISPATCHER, 'POST', '/api/crews', { id: XSS, lat: 49.4, lon: 8.7 });
  check(refused.status === 422 && refused.body?.field === 'id', `the service refuses the id (${refused.status} ${JSON.stringify(refused.body)})`);
  await page.click('#crew-add');
  await page.fill('#crew-id', XSS);
  await page.fill('#crew-where', '49.4, 8.7');
  await page.click('#crew-save');
  await page.waitForSelector('#crew-form-error:not([hidden])');
  check((await text(page, '#crew-form-error')).includes('id'), `the service's message: ${await text(page, '#crew-form-error')}`);
  check((await must(200, DISPATCHER, 'GET', '/api/crews')).length === 3, 'no crew was added');
  await page.click('#crew-form-close');
  await page.click('#crews li[data-crew-id="C3"] button.crew-edit');
  await page.fill('#crew-call-sign', XSS);
  await page.click('#crew-save');
  await until(async () => (await page.$$eval('#crews li[data-crew-id="C3"] .call-sign', (e) => e.map((x) => x.textContent))).join() === XSS, 'the call sign as text');
  check((await must(200, DISPATCHER, 'GET', '/api/crews/C3')).call_sign === XSS, 'stored as typed');
  await until(async () => (await page.$$eval('.crew-label', (ls) => ls.map((l) => l.textContent))).some((t) => t.includes(XSS)), 'the map label as text');

  step('markup in a call\'s complaint and address is shown as text');
  const e1 = await must(201, DISPATCHER, 'POST', '/api/calls', {
    lat: 49.4095, lon: 8.6925, priority: 'emergency', complaint: XSS, address: XSS,
  });
  check(e1.crew_id === 'A1', `A1 takes the first emergency: ${e1.crew_id}`);
  const e1Item = `#calls li[data-call-id="${e1.id}"]`;
  await page.waitForSelector(e1Item);
  await page.click(e1Item);
  await page.waitForSelector(`#call-detail[data-call-id="${e1.id}"]`);
  check((await text(page, '#detail-complaint')) === XSS && (await text(page, '#detail-address')) === XSS, 'the detail shows the text');
  check((await text(page, `${e1Item} .line .grow`)) === XSS, 'the list shows the text');
  check((await page.$$('img')).length === 0, 'no img element was made from the text');
  check(dialogs.length === 0, `no script ran: ${dialogs}`);

  step('removing a crew on a call is refused with the service\'s message; a free crew is removed');
  await page.click('#crews li[data-crew-id="A1"] button.crew-edit');
  await page.click('#crew-remove');
  check((await text(page, '#crew-remove')) === 'Confirm remove', 'asks to confirm');
  await page.click('#crew-remove');
  await page.waitForSelector('#crew-form-error:not([hidden])');
  const conflict = await text(page, '#crew-form-error');
  check(conflict.includes('is on call'), `the 409 message: ${conflict}`);
  await must(200, DISPATCHER, 'GET', '/api/crews/A1');
  check(await page.isVisible('#crews li[data-crew-id="A1"]'), 'A1 is still listed');
  await page.click('#crew-form-close');
  await page.click('#crews li[data-crew-id="C3"] button.crew-edit');
  await page.click('#crew-remove');
  await page.click('#crew-remove');
  await page.waitForSelector('#crews li[data-crew-id="C3"]', { state: 'detached' });
  check((await api(DISPATCHER, 'GET', '/api/crews/C3')).status === 404, 'C3 is gone');
  await until(async () => (await lastEvent(page, 'crew_removed')).text.includes('crew C3 removed'), 'the crew_removed event');

  step('a queued call re-triaged to an emergency from the detail moves to the head of the list');
  const e2 = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: SPOTS[1][0] + 0.001, lon: SPOTS[1][1], priority: 'emergency' });
  check(e2.crew_id === 'B2', `B2 takes the second emergency: ${e2.crew_id}`);
  const p = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: SPOTS[2][0], lon: SPOTS[2][1], priority: 'non_urgent', complaint: 'fall' });
  const q = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: SPOTS[3][0], lon: SPOTS[3][1], priority: 'non_urgent', complaint: 'dizzy' });
  check(p.status === 'queued' && q.status === 'queued', 'both wait: every crew is busy');
  await page.waitForSelector(`#calls li[data-call-id="${q.id}"]`);
  check((await firstCall(page)) === p.id, 'the older call heads the list');
  await page.click(`#calls li[data-call-id="${q.id}"]`);
  await page.waitForSelector(`#call-detail[data-call-id="${q.id}"]`);
  check((await text(page, '#detail-late')).includes(hm(q.late_at)), `late at the non-urgent norm: ${await text(page, '#detail-late')}`);
  await page.click('#edit-call');
  await page.waitForSelector('#call-edit-form');
  await page.selectOption('#edit-priority', 'emergency');
  await page.fill('#edit-notes', 'second caller: now unconscious');
  await page.click('#edit-save');
  await page.waitForSelector('#call-edit-form', { state: 'detached' });
  await until(async () => (await firstCall(page)) === q.id, 'the re-triaged call at the head of the list');
  const q2 = await must(200, DISPATCHER, 'GET', `/api/calls/${q.id}`);
  check(q2.priority === 'emergency' && q2.notes === 'second caller: now unconscious' && q2.status === 'queued', `re-triaged: ${JSON.stringify(q2)}`);
  check(q2.late_at - q2.times.received === 20 * 60000, 'late after 20 minutes now');
  await until(async () => (await text(page, '#detail-priority')) === 'emergency', 'the new priority in the detail');
  check((await text(page, '#detail-notes')) === 'second caller: now unconscious', 'the notes in the detail');
  check((await text(page, '#detail-late')).includes(hm(q2.late_at)), `the new late time: ${await text(page, '#detail-late')}`);
  check((await page.getAttribute(`#calls li[data-call-id="${q.id}"]`, 'data-priority')) === 'emergency', 'the list shows the new priority');
  const edited = await until(() => lastEvent(page, 'call_edited'), 'the call_edited event');
  check(edited.text.includes(`call ${q.id} changed: priority emergency`) && edited.actor === 'dispatcher', `in words: ${JSON.stringify(edited)}`);
  await shot(page, 'console-crews-1280x800');

  step('needs and the place changed from the detail');
  await page.click(`#calls li[data-call-id="${p.id}"]`);
  await page.waitForSelector(`#call-detail[data-call-id="${p.id}"]`);
  await page.click('#edit-call');
  await page.fill('#edit-need-general', '0');
  await page.fill('#edit-need-resuscitation', '1');
  await page.click('#edit-save');
  await page.waitForSelector('#call-edit-form', { state: 'detached' });
  check((await must(200, DISPATCHER, 'GET', `/api/calls/${p.id}`)).needs.join() === 'resuscitation', 'P needs a resuscitation crew now');
  await until(async () => (await text(page, '#detail-needs')) === 'resuscitation', 'the needs in the detail');
  const moved = [49.398, 8.69];
  await page.click('#move-call');
  check(await page.isVisible('#map-hint'), 'the map says a click moves the call');
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 15), moved);
  await clickMap(page, moved[0], moved[1]);
  await until(async () => {
    const c = await must(200, DISPATCHER, 'GET', `/api/calls/${p.id}`);
    return near(c.position.lat, moved[0]) && near(c.position.lon, moved[1]);
  }, 'the call moved where the map was clicked');

  step('a need cannot change once the patient has left the scene: the 409 message shows');
  for (const s of ['en_route', 'on_scene', 'transporting']) {
    await must(200, DISPATCHER, 'POST', '/api/crews/B2/status', { status: s });
  }
  await page.click(`#calls li[data-call-id="${e2.id}"]`);
  await page.waitForSelector(`#call-detail[data-call-id="${e2.id}"]`);
  await page.click('#edit-call');
  await page.fill('#edit-need-paediatric', '1');
  await page.click('#edit-save');
  await page.waitForSelector('#edit-error:not([hidden])');
  check((await text(page, '#edit-error')).includes('left the scene'), `the service's message: ${await text(page, '#edit-error')}`);
  await page.click('#edit-discard');

  step('a crew on a call goes out of service: the call is handed back, marked, and its tablet told');
  const tablet = await newPage(browser, { width: 1280, height: 800 });
  await open(tablet, `/tablet?token=${CREW_A1}`);
  await tablet.waitForSelector('#assignment-body:not([hidden])');
  check((await text(tablet, '#a-call')) === `Call #${e1.id}`, 'the tablet shows its call');
  check((await text(tablet, '#a-complaint')) === XSS, 'as text on the tablet too');
  await until(() => tablet.evaluate(() => window.__tablet.connected), 'the tablet stream');
  await must(200, DISPATCHER, 'POST', '/api/crews/A1/status', { status: 'out_of_service' });
  await page.waitForSelector(`${e1Item}.handed-back[data-status="queued"]`);
  check((await firstCall(page)) === e1.id, 'the handed-back emergency heads the list');
  check((await text(page, `${e1Item} .handback-note`)) === 'handed back by A1: breakdown', 'with why');
  const handedBack = await until(() => lastEvent(page, 'call_handed_back'), 'the call_handed_back event');
  check(handedBack.text.includes(`call ${e1.id} handed back by A1: breakdown`), `in words: ${handedBack.text}`);
  await tablet.waitForSelector('#released:not([hidden])');
  check((await text(tablet, '#released-text')).startsWith(`Taken off call #${e1.id}`), `the tablet says so: ${await text(tablet, '#released-text')}`);
  await tablet.waitForSelector('#no-assignment:not([hidden])');
  check((await tablet.evaluate(() => window.__tablet.assignment)) === null, 'the tablet dropped the route');
  await shot(tablet, 'tablet-released-1280x800');

  step('the next free crew takes the handed-back call');
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'D4', lat: 49.4093, lon: 8.6921 });
  await page.waitForSelector(`${e1Item}[data-status="assigned"]:not(.handed-back)`);
  check((await text(page, `${e1Item} .crew-of-call`)) === 'D4', 'D4 is on it');
  check((await text(page, `${e1Item} .handback-note`)) === 'handed back by A1: breakdown', 'the hand-back is still told');
  await page.click(e1Item);
  await until(async () => (await text(page, '#detail-crew')) === 'D4', 'D4 in the detail');
  check((await text(page, '#detail-handback')).includes('by A1 (breakdown)'), `the detail tells the hand-back: ${await text(page, '#detail-handback')}`);

  step('a diversion: the emergency\'s decision says from which call, and lists the crews that could be diverted');
  await must(200, DISPATCHER, 'POST', `/api/calls/${q.id}/cancel`, { reason: 'test: out of the way' });
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'F5', lat: 49.4, lon: 8.7, crew_type: 'resuscitation' });
  await until(async () => (await must(200, DISPATCHER, 'GET', `/api/calls/${p.id}`)).crew_id === 'F5', 'F5 on its way to P');
  const g = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: 49.4005, lon: 8.7005, priority: 'emergency', complaint: 'cardiac arrest' });
  check(g.crew_id === 'F5', `F5 is diverted to the emergency: ${JSON.stringify(g.decisions)}`);
  await page.waitForSelector(`#calls li[data-call-id="${g.id}"]`);
  await page.click(`#calls li[data-call-id="${g.id}"]`);
  await page.waitForSelector(`#call-detail[data-call-id="${g.id}"] #divertible`);
  const why = await text(page, '#decision-reason');
  check(why.includes(`diverted from call ${p.id}: no crew free`), `the reason: ${why}`);
  const pool = await page.$$eval('#divertible tbody tr', (trs) => trs.map((tr) => [tr.dataset.crewId, tr.className]));
  check(pool.length >= 1 && pool[0][0] === 'F5' && pool[0][1] === 'chosen', `the crews that could be diverted: ${JSON.stringify(pool)}`);
  await page.waitForSelector(`#calls li[data-call-id="${p.id}"].handed-back`);
  check(
    (await text(page, `#calls li[data-call-id="${p.id}"] .handback-note`)) === 'handed back by F5: crew diverted to an emergency',
    'the call it left is handed back',
  );
  await shot(page, 'console-diversion-1280x800');

  step('phone size');
  const phone = await newPage(browser, { width: 375, height: 812 });
  await open(phone, `/?token=${DISPATCHER}`);
  await phone.waitForSelector('#crews li.crew-item');
  await phone.click('#crews li[data-crew-id="B2"] button.crew-edit');
  await phone.waitForSelector('#crew-form');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
  await phone.locator('#crew-form').scrollIntoViewIfNeeded();
  await shot(phone, 'console-crews-375x812');
  check((await page.$$('img')).length === 0 && dialogs.length === 0, 'still no img element and no script');
  noErrors(page, tablet, phone);
});
