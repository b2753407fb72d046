// The crew tablet: the assignment arrives with its route, distance, ETA and turns; the status
// buttons step through the work cycle; steps taken offline are sent in order when the
// connection is back; the handover form posts and the dispatcher exports it as FHIR; the
// crew's token never shows medical data on the console. Screenshots at tablet and phone size.

import {
  scenario, step, check, until, sleep, must, api, newPage, open, shot, noErrors, link,
  DISPATCHER, CREW_A1,
} from './lib.mjs';

const crewStatus = async () => (await must(200, DISPATCHER, 'GET', '/api/crews/A1')).status;

const PATIENT = 'Erika Mustermann';
const NOTES = 'STEMI, aspirin 500 mg given';

await scenario('tablet', async (browser) => {
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: 49.4106, lon: 8.6946, station: 'S1' });
  const tablet = await newPage(browser, { width: 1280, height: 800 });
  const net = await link();

  step('the crew signs in by ?token= and stands by');
  await open(tablet, `/tablet?token=${CREW_A1}`, net.base);
  check((await tablet.textContent('#title')) === 'Crew A1', 'the crew is named');
  check((await tablet.textContent('#status-now')) === 'available', 'available');
  check(await tablet.isVisible('#no-assignment'), 'no assignment yet');
  await until(() => tablet.evaluate(() => window.__tablet.connected), 'the tablet stream');

  step('a call comes in: the assignment with its route, distance, ETA and turns');
  const call = await must(201, DISPATCHER, 'POST', '/api/calls', {
    lat: 49.405, lon: 8.685, priority: 'emergency', complaint: 'chest pain', address: 'Bergheimer Straße 1',
  });
  check(call.crew_id === 'A1', 'A1 takes it');
  await tablet.waitForSelector('#assignment-body:not([hidden])');
  check((await tablet.textContent('#a-call')) === `Call #${call.id}`, 'the call');
  check((await tablet.textContent('#a-complaint')) === 'chest pain', 'the complaint');
  check((await tablet.textContent('#a-address')) === 'Bergheimer Straße 1', 'the address');
  check((await tablet.textContent('#status-now')) === 'dispatched', 'dispatched');
  const osrm = await must(200, CREW_A1, 'GET', `/route/v1/driving/8.6946,49.4106;8.685,49.405?steps=true&overview=false`);
  const route = osrm.routes[0];
  check((await tablet.textContent('#a-eta')) === `${Math.round(route.duration / 60)} min`, `the ETA of ${route.duration} s`);
  check((await tablet.textContent('#a-distance')) === `${(route.distance / 1000).toFixed(1)} km`, `the distance of ${route.distance} m`);
  check(Math.abs(call.eta_s - route.duration) < 1, 'the dispatch ETA is the route\'s');
  await tablet.waitForSelector('path.route');
  const turns = await until(async () => {
    const t = await tablet.$$eval('#turns li.turn', (lis) => lis.map((li) => li.textContent));
    return t.length >= 2 && t;
  }, 'the turn list');
  const steps = route.legs[0].steps;
  check(turns.length === Math.min(8, steps.length), `${turns.length} turns shown of ${steps.length}`);
  check(turns[0].startsWith('Start'), `departure first: ${turns[0]}`);
  if (steps.length <= 8) check(turns.at(-1).startsWith('Arrive'), `arrival last: ${turns.at(-1)}`);
  const named = steps.find((s, i) => i > 0 && i < 8 && s.name && s.maneuver.type === 'turn');
  if (named) check(turns.some((t) => t.includes(named.name)), `street names in the turns: ${turns}`);
  const next = await tablet.locator('#status-buttons button.next');
  check((await next.textContent()) === 'En route', 'the next step is the big button');
  const box = await next.boundingBox();
  check(box.height >= 64, `a large touch target (${box.height} px)`);
  check(await tablet.isDisabled('#status-at_hospital'), 'steps that cannot come next are disabled');
  await shot(tablet, 'tablet-1280x800');

  step('phone size');
  const phone = await newPage(browser, { width: 375, height: 812 });
  await open(phone, `/tablet?token=${CREW_A1}`);
  await phone.waitForSelector('#assignment-body:not([hidden])');
  await phone.waitForSelector('#turns li.turn');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
  const pbox = await phone.locator('#status-buttons button.next').boundingBox();
  check(pbox.height >= 64 && pbox.width >= 300, `a large button on a phone: ${JSON.stringify(pbox)}`);
  await shot(phone, 'tablet-375x812');
  await phone.context().close();

  step('en route, from the button');
  await tablet.click('#status-en_route');
  await until(async () => (await crewStatus()) === 'en_route', 'en_route at the service');
  await tablet.waitForSelector('#outbox[hidden]', { state: 'attached' });

  step('offline: on scene and transporting wait on the tablet');
  await net.offline(tablet.context());
  await tablet.click('#status-on_scene');
  await tablet.click('#status-transporting');
  check((await tablet.textContent('#status-now')) === 'transporting', 'the tablet shows the step taken');
  await tablet.waitForSelector('#outbox[data-count="2"]');
  check((await tablet.textContent('#outbox')).includes('2 changes waiting'), 'and says two changes wait');
  await sleep(2500);
  const held = await crewStatus();
  check(held === 'en_route', `nothing reached the service: ${held}`);
  check(
    JSON.stringify(await tablet.evaluate(() => window.__tablet.outbox.map((i) => i.status))) === '["on_scene","transporting"]',
    'kept in order',
  );

  step('back online: sent in order');
  await net.online(tablet.context());
  await until(async () => (await crewStatus()) === 'transporting', 'transporting at the service', 20000);
  await tablet.waitForSelector('#outbox[hidden]', { state: 'attached' });
  const times = (await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}`)).times;
  check(times.en_route < times.on_scene && times.on_scene <= times.left_scene, `on scene, then left: ${JSON.stringify(times)}`);

  step('at hospital: the handover form posts');
  await tablet.waitForSelector('#handover-card:not([hidden])');
  await tablet.click('#status-at_hospital');
  await until(async () => (await crewStatus()) === 'at_hospital', 'at_hospital at the service');
  await tablet.fill('#h-hospital', 'Universitätsklinikum Heidelberg');
  await tablet.fill('#h-name', PATIENT);
  await tablet.fill('#h-birth', '1956-03-02');
  await tablet.selectOption('#h-sex', 'female');
  for (const [id, v] of [['#h-hr', '96'], ['#h-sys', '150'], ['#h-dia', '90'], ['#h-spo2', '93'], ['#h-rr', '20'], ['#h-temp', '36.9'], ['#h-gcs', '15']]) {
    await tablet.fill(id, v);
  }
  await tablet.fill('#h-icd', 'i21.9');
  await tablet.fill('#h-notes', NOTES);
  await shot(tablet, 'tablet-handover-1280x800');
  await tablet.click('#handover-submit');
  await until(async () => (await tablet.textContent('#handover-done')) === 'Handover recorded.', 'the handover recorded');
  const record = await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}/handover`);
  check(record.handover.patient.name === PATIENT && record.handover.vitals.spo2 === 93, `stored: ${JSON.stringify(record)}`);
  check(record.handover.diagnosis_icd10 === 'I21.9', 'the ICD-10 code, upper case');

  step('the dispatcher exports it as an HL7 FHIR bundle');
  const fhir = await api(DISPATCHER, 'GET', `/api/calls/${call.id}/handover/fhir`);
  check(fhir.status === 200 && fhir.headers.get('content-type') === 'application/fhir+json', `FHIR export: ${fhir.status}`);
  const kinds = fhir.body.entry.map((e) => e.resource.resourceType);
  check(fhir.body.resourceType === 'Bundle' && kinds.includes('Patient') && kinds.includes('Condition'), `a Bundle: ${kinds}`);
  check(JSON.stringify(fhir.body).includes('Mustermann'), 'with the patient');
  check((await api(CREW_A1, 'GET', `/api/calls/${call.id}/handover/fhir`)).status === 403, 'not for the crew');

  step('the dispatcher\'s console shows the handover');
  const console_ = await newPage(browser);
  await open(console_, `/?token=${DISPATCHER}`);
  await console_.click(`#calls li[data-call-id="${call.id}"]`);
  await console_.waitForSelector('#handover');
  const shown = await console_.textContent('#handover');
  check(shown.includes(PATIENT) && shown.includes(NOTES) && shown.includes('I21.9'), `the handover on the console: ${shown}`);
  check(await console_.isVisible('#fhir-export'), 'with its FHIR export');

  step('the crew\'s token on the console: its own call, no medical data');
  const crewConsole = await newPage(browser);
  await open(crewConsole, `/?token=${CREW_A1}`);
  check((await crewConsole.textContent('#crew-banner')).includes('crew A1'), 'a crew view');
  check(await crewConsole.isHidden('#new-call'), 'no call taking');
  await crewConsole.click(`#calls li[data-call-id="${call.id}"]`);
  await crewConsole.waitForSelector('#call-detail:not([hidden])');
  await sleep(500);
  const html = await crewConsole.content();
  for (const secret of [PATIENT, 'Mustermann', NOTES, 'I21.9', '1956-03-02']) {
    check(!html.includes(secret), `the crew's console shows ${secret}`);
  }
  check(!(await crewConsole.isVisible('#handover')), 'no handover block');
  check(!crewConsole.requests.some((u) => u.includes('/handover')), 'the page never asks for the handover');
  check(!(await crewConsole.isVisible('#override')) && !(await crewConsole.isVisible('#cancel-call')), 'no override or cancel');

  step('available: the assignment ends');
  await tablet.click('#status-available');
  await until(async () => (await crewStatus()) === 'available', 'available at the service');
  await tablet.waitForSelector('#no-assignment:not([hidden])');
  check((await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}`)).status === 'completed', 'the call is completed');
  noErrors(tablet, console_, crewConsole);
});
