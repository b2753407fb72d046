// The tablet's other routes and the call's address: free, the way back to the crew's station
// (from /api/stations); on scene and transporting, the hospital the service suggests for
// what the patient needs (GET /api/crews/{id}/hospital), the capable hospitals first, and
// the route to another the crew picks; the call's address in its parts in the page's
// language (address.js, also checked as a function). Oracles: each route's last point is
// near its station's or hospital's coordinates as the API gives them. Screenshots at
// 1024x768 and 375x812 in en-US and ru-RU go to /tmp/shots/.

import { mkdirSync } from 'node:fs';
import {
  scenario, step, check, until, must, api, newPage, open, noErrors, CREW_A1, DISPATCHER,
} from './lib.mjs';

const SHOTS = '/tmp/shots';
mkdirSync(SHOTS, { recursive: true });
const shot = async (page, name) => {
  // The toasts of the moment would hide what the shot is for.
  await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  // Not in the middle of a zoom (the routes are scaled while it runs).
  await page.waitForSelector('.leaflet-zoom-anim', { state: 'detached' });
  await new Promise((r) => setTimeout(r, 400));
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
  console.log(`  screenshot ${SHOTS}/${name}.png`);
};

const crewStatus = async () => (await must(200, DISPATCHER, 'GET', '/api/crews/A1')).status;

/** Metres between two {lat, lon}. */
const metres = (a, b) => {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  return Math.hypot(x, (b.lat - a.lat) * rad) * 6371000;
};

/** Waits until the tablet draws the route `kind` to within 150 m of `to`; its end. */
const routeTo = (page, kind, to, what) =>
  until(async () => {
    const end = await page.evaluate((k) => window.__tablet.routeEnd(k), kind);
    return end && metres(end, to) < 150 && end;
  }, what);

const PLACE = { street: 'ул. Гончарова', housenumber: '4', block: '2', building: '3', entrance: '2', floor: '5', apartment: '17' };
const IN_WORDS = {
  'en-US': 'ул. Гончарова 4, block 2, building 3, entrance 2, floor 5, flat 17',
  'ru-RU': 'ул. Гончарова, д. 4, к. 2, стр. 3, подъезд 2, этаж 5, кв. 17',
};

await scenario('tablet routes', async (browser) => {
  const stations = await must(200, CREW_A1, 'GET', '/api/stations');
  const s1 = stations.find((s) => s.id === 'S1');
  check(s1 && Object.keys(s1).sort().join() === 'id,lat,lon,name', `the stations: ${JSON.stringify(stations)}`);
  const hospitals = await must(200, CREW_A1, 'GET', '/api/hospitals');
  check(hospitals.length === 4, `the hospitals: ${hospitals.length}`);
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: 49.4106, lon: 8.6946, station: 'S1' });

  const pages = {};
  for (const [locale, viewport] of [['en-US', { width: 1024, height: 768 }], ['ru-RU', { width: 375, height: 812 }]]) {
    pages[locale] = await newPage(browser, viewport, { locale });
    await open(pages[locale], `/tablet?token=${CREW_A1}`);
  }
  const tablet = pages['en-US'];
  const phone = pages['ru-RU'];

  step('the address in words, as a function: its parts, else the free text, else the point');
  const formatted = await tablet.evaluate(async (place) => {
    const { formatAddress, formatPlace } = await import('/assets/app/address.js');
    return [
      formatAddress({ place, address: 'x', lat: 1, lon: 2 }),
      formatAddress({ place: null, address: ' Hauptstraße 5 ', lat: 1, lon: 2 }),
      formatAddress({ place: { entrance: '' }, address: '', lat: 49.41, lon: 8.69 }),
      formatPlace({ name: 'Schule', housenumber: '7' }),
      formatPlace({ city: 'Heidelberg' }),
    ];
  }, PLACE);
  check(
    JSON.stringify(formatted) === JSON.stringify([IN_WORDS['en-US'], 'Hauptstraße 5', '49.41000, 8.69000', 'Schule, house 7', '']),
    `formatAddress: ${JSON.stringify(formatted)}`,
  );

  step('free: the way back to the station');
  for (const p of [tablet, phone]) {
    await p.waitForSelector('#home-card:not([hidden])');
    check((await p.textContent('#home-name')) === s1.name, 'the station by its name');
    await routeTo(p, 'home', s1, 'the route back to S1');
  }
  check((await tablet.textContent('#home-eta')).endsWith('min'), `its ETA: ${await tablet.textContent('#home-eta')}`);
  check((await phone.textContent('#home-card h2')) === 'На подстанцию', 'the Russian heading');
  await shot(tablet, 'tablet-available-en-1024x768');
  await shot(phone, 'tablet-available-ru-375x812');

  step('a call: the address in its parts in each page\'s language (or the free text)');
  let r = await api(DISPATCHER, 'POST', '/api/calls', {
    lat: 49.405, lon: 8.685, priority: 'emergency', complaint: 'chest pain', address: 'Bergheimer Straße 1', place: PLACE,
  });
  const withPlace = r.status === 201;
  if (!withPlace) {
    check(r.status === 422, `a call with a place: ${r.status}`);
    r = await api(DISPATCHER, 'POST', '/api/calls', { lat: 49.405, lon: 8.685, priority: 'emergency', complaint: 'chest pain', address: 'Bergheimer Straße 1' });
  }
  const call = r.body;
  check(call.crew_id === 'A1', 'A1 takes it');
  for (const [locale, p] of Object.entries(pages)) {
    await p.waitForSelector('#assignment-body:not([hidden])');
    await p.waitForSelector('#home-card', { state: 'hidden' });
    const want = withPlace ? IN_WORDS[locale] : 'Bergheimer Straße 1';
    check((await p.textContent('#a-address')) === want, `${locale}: ${await p.textContent('#a-address')}`);
  }

  step('on scene: the hospital the service suggests, with its route');
  await tablet.click('#status-en_route');
  await until(async () => (await crewStatus()) === 'en_route', 'en route');
  await tablet.click('#status-on_scene');
  await until(async () => (await crewStatus()) === 'on_scene', 'on scene');
  const general = await must(200, CREW_A1, 'GET', '/api/crews/A1/hospital?capability=general');
  await tablet.waitForSelector('#hospital-card:not([hidden])');
  await until(async () => (await tablet.getAttribute('#hospital-suggested', 'data-hospital-id')) === general.hospital.id, 'the suggestion');
  check((await tablet.textContent('#hospital-suggested')).includes(general.hospital.name), 'named');
  check((await tablet.inputValue('#hospital-pick')) === general.hospital.id, 'and chosen');
  await routeTo(tablet, 'hospital', general.hospital.position, `the route to ${general.hospital.name}`);

  step('a heart attack: the PCI hospital suggested, the capable ones first');
  await tablet.selectOption('#need', 'pci');
  const pci = await must(200, CREW_A1, 'GET', '/api/crews/A1/hospital?capability=pci');
  await until(async () => (await tablet.getAttribute('#hospital-suggested', 'data-hospital-id')) === pci.hospital.id, 'the PCI suggestion');
  check(pci.hospital.capabilities.includes('pci'), 'capable');
  await routeTo(tablet, 'hospital', pci.hospital.position, `the route to ${pci.hospital.name}`);
  // The list as it settles once the suggestion is in and the list is grouped for the new
  // need (the general suggestion may be the same hospital, so the first option alone does not
  // say the list was drawn again): the suggestion, then one group per kind.
  const capableIds = hospitals.filter((x) => x.capabilities.includes('pci')).map((x) => x.id);
  const groups = (l) => [...new Set(l.slice(1).map(([, g]) => g))].length;
  const wantGroups = [capableIds.length > 1, hospitals.length > capableIds.length].filter(Boolean).length;
  const listed = await until(async () => {
    const l = await tablet.$$eval('#hospital-pick option', (os) => os.map((o) => [o.value, o.parentElement?.tagName === 'OPTGROUP' ? o.parentElement.label : '']));
    return l.length === hospitals.length && l[0][0] === pci.hospital.id && groups(l) === wantGroups && l;
  }, 'the suggestion first, then every other hospital, grouped for the need');
  const ids = listed.map(([id]) => id);
  const firstOther = ids.findIndex((id) => !capableIds.includes(id));
  check(firstOther > 0 && ids.slice(firstOther).every((id) => !capableIds.includes(id)), `capable ones first: ${JSON.stringify(listed)}`);

  step('the crew picks another hospital: its route is drawn');
  const other = hospitals.find((x) => x.id !== pci.hospital.id && !x.capabilities.includes('pci'));
  await tablet.selectOption('#hospital-pick', other.id);
  const end = await routeTo(tablet, 'hospital', other.position, `the route to ${other.name}`);
  console.log(`  the route to ${other.name} ends ${metres(end, other.position).toFixed(0)} m from it`);
  check((await tablet.textContent('#hospital-eta')).endsWith('min'), 'its ETA');

  step('transporting: the same hospital, and the handover names it');
  await tablet.click('#status-transporting');
  await until(async () => (await crewStatus()) === 'transporting', 'transporting');
  await routeTo(tablet, 'hospital', other.position, 'the route kept');
  check((await tablet.inputValue('#h-hospital')) === other.name, 'the handover\'s hospital');
  await phone.waitForSelector('#hospital-card:not([hidden])');
  await phone.waitForSelector('#hospital-suggested[data-hospital-id]:not([data-hospital-id=""])');
  const ru = await phone.evaluate(() => [
    document.querySelector('#hospital-card h2').textContent,
    document.querySelector('label[for="need"]').textContent,
    document.querySelector('#need option[value="pci"]').textContent,
    document.querySelector('#hospital-suggested').textContent.split(':')[0],
  ]);
  check(JSON.stringify(ru) === JSON.stringify(['Стационар', 'Профиль пациента', 'ЧКВ (инфаркт)', 'Предложен']), `in Russian: ${ru}`);
  await tablet.evaluate(() => document.querySelector('#hospital-card').scrollIntoView());
  await shot(tablet, 'tablet-transporting-en-1024x768');
  await phone.evaluate(() => document.querySelector('#hospital-card').scrollIntoView());
  await shot(phone, 'tablet-transporting-ru-375x812');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow} px)`);

  step('the other sizes and languages');
  for (const [locale, viewport, name] of [['ru-RU', { width: 1024, height: 768 }, 'ru-1024x768'], ['en-US', { width: 375, height: 812 }, 'en-375x812']]) {
    const p = await newPage(browser, viewport, { locale });
    await open(p, `/tablet?token=${CREW_A1}`);
    await p.waitForSelector('#hospital-card:not([hidden])');
    await p.waitForSelector('#hospital-suggested[data-hospital-id]:not([data-hospital-id=""])');
    await until(() => p.evaluate(() => window.__tablet.routeEnd('hospital')), 'the suggested hospital\'s route');
    await p.evaluate(() => document.querySelector('#hospital-card').scrollIntoView());
    await shot(p, `tablet-transporting-${name}`);
    noErrors(p);
    await p.context().close();
  }

  step('at the hospital, then free: the way back to the station again');
  await tablet.click('#status-at_hospital');
  await until(async () => (await crewStatus()) === 'at_hospital', 'at hospital');
  await tablet.click('#status-available');
  await until(async () => (await crewStatus()) === 'available', 'available');
  await tablet.waitForSelector('#hospital-card', { state: 'hidden' });
  await tablet.waitForSelector('#home-card:not([hidden])');
  await routeTo(tablet, 'home', s1, 'the route back to S1');
  check((await tablet.evaluate(() => window.__tablet.routeEnd('hospital'))) === null, 'the hospital route is gone');
  noErrors(tablet, phone);
});
