// The call taker's address, in Russian, on the Moscow fragment: typed as it is said
// ("добролюбова 27ас1"), the map's own addresses are offered as it is typed; the chosen one,
// with the caller's entrance and flat, fills the call, which keeps the address in parts and
// reaches a crew. A map click offers the nearest address. A second caller a few metres away
// is shown as a possible duplicate and linked to the open call: no second call, no crew.
// Screenshots of the form in ru-RU.

import {
  scenario, step, check, until, must, newPage, open, clickMap, shot, noErrors, api,
  DISPATCHER,
} from './lib.mjs';

/** Great-circle distance (m), the test's own. */
function metres(a, b) {
  const r = (d) => (d * Math.PI) / 180;
  const h = Math.sin(r(b[0] - a[0]) / 2) ** 2
    + Math.cos(r(a[0])) * Math.cos(r(b[0])) * Math.sin(r(b[1] - a[1]) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

await scenario('address', async (browser) => {
  const map = await must(200, DISPATCHER, 'GET', '/api/map');
  const [clat, clon] = map.center;
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: clat, lon: clon, call_sign: '101' });
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A2', lat: clat, lon: clon, call_sign: '102' });

  const page = await newPage(browser, { width: 1440, height: 900 }, { locale: 'ru-RU' });
  await open(page, `/?token=${DISPATCHER}`);

  step('an address typed as it is said is offered from the map\'s own addresses as it is typed');
  await page.click('#call-where');
  await page.keyboard.type('добролюбова 27ас1', { delay: 40 });
  const first = await page.waitForSelector('#call-suggest button.geo-address');
  const offered = await first.textContent();
  check(/Добролюбова/.test(offered) && /27А/.test(offered), `the first offer is ${offered}`);
  await shot(page, 'address-suggest-ru');
  await first.click();
  const line = await page.inputValue('#call-address');
  check(line === offered.trim(), `the address field says ${line}`);
  await page.fill('#call-entrance', '2');
  await page.fill('#call-apartment', '15');
  await page.fill('#call-complaint', 'боль в груди');
  await page.click('#call-submit');

  step('the call keeps the address in parts and reaches a crew');
  const call = await until(async () => {
    const calls = (await must(200, DISPATCHER, 'GET', '/api/calls')).filter((c) => c.crew_id);
    return calls[0];
  }, 'a call with a crew');
  check(['A1', 'A2'].includes(call.crew_id), `crew ${call.crew_id}`);
  check(call.place.street === 'улица Добролюбова', `street ${JSON.stringify(call.place)}`);
  check(call.place.housenumber === '27А' && call.place.building === '1', `house ${JSON.stringify(call.place)}`);
  check(call.place.entrance === '2' && call.place.apartment === '15', `entrance, flat ${JSON.stringify(call.place)}`);
  check(/Добролюбова/.test(call.address) && /подъезд 2/.test(call.address) && /кв\. 15/.test(call.address), `address line ${call.address}`);
  await page.waitForSelector(`#detail-address:has-text("подъезд 2")`);
  // The form is done with its answer (it clears the picked place then): reads may show the
  // call before its group commit answers the page.
  await page.waitForSelector('#call-submit:not([disabled])');

  step('a map click next to the call offers the nearest address and shows the open call as a possible duplicate');
  // South-east of the call: its marker's timer sits above it, and a click there would
  // select the call (at zoom 17 in Moscow, 0.0002° north is 33 px: on the timer's edge).
  const here = [call.position.lat - 0.0002, call.position.lon + 0.0002];
  check(metres(here, [call.position.lat, call.position.lon]) < 150, 'the click is within 150 m');
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 17), here);
  await clickMap(page, here[0], here[1]);
  await page.waitForSelector('#call-suggest .reverse');
  const nearest = await page.inputValue('#call-address');
  check(nearest.length > 0, 'the nearest address fills the address field');
  const dupe = await page.waitForSelector(`#call-dupes:not([hidden]) .dupe[data-call-id="${call.id}"]`);
  check(/вызов/.test(await dupe.textContent()), `the duplicate says ${await dupe.textContent()}`);
  await shot(page, 'address-duplicate-ru');

  step('linking the second caller: no second call, no second crew, one timeline');
  await page.fill('#call-complaint', 'сосед: лежит в подъезде');
  await dupe.$eval('button.link-call', (b) => b.click());
  await until(async () => (await must(200, DISPATCHER, 'GET', `/api/calls/${call.id}`)).linked?.length === 1, 'the link');
  const calls = await must(200, DISPATCHER, 'GET', '/api/calls');
  check(calls.length === 1, `${calls.length} calls`);
  const crews = await must(200, DISPATCHER, 'GET', '/api/crews');
  check(crews.filter((c) => c.status === 'available').length === 1, 'the other crew is still free');
  await page.waitForSelector('#detail-linked .linked');
  check(/сосед/.test(await page.textContent('#detail-linked')), 'the linked caller is shown with the call');
  await page.waitForSelector('#events li:has-text("повторный звонок")');

  step('no English in the form, and no page errors');
  const text = await page.textContent('#new-call');
  check(!/\b(Location|Entrance|Flat|Floor|Link)\b/.test(text), `English in the form: ${text}`);
  const r = await api(DISPATCHER, 'GET', `/api/calls/duplicates?lat=${here[0]}&lon=${here[1]}`);
  check(r.status === 200 && r.body.length === 1, 'the API agrees');
  noErrors(page);
});
