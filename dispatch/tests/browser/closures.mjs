// Closures on the console's map: a road picked with "Close road" and an area drawn with
// "Draw closed area" each change the crew's drawn route to the service's new fastest route;
// reopening brings the old one back.

import {
  scenario, step, check, until, must, api, newPage, open, clickMap, shot, noErrors, DISPATCHER, CREW_A1,
} from './lib.mjs';

const CREW = [49.4106, 8.6946];
const CALL = [49.395, 8.68];

/** Metres between two [lat, lon]. */
function metres([a, b], [c, d]) {
  const k = Math.PI / 180;
  const x = (d - b) * k * Math.cos(((a + c) / 2) * k);
  const y = (c - a) * k;
  return Math.hypot(x, y) * 6371008.8;
}

/** How close a line ([[lat, lon], ...]) passes to a point, metres (by its vertices). */
const nearest = (coords, p) => Math.min(...coords.map((c) => metres(c, p)));

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The route the service gives now, from the crew to the call. */
async function serviceRoute() {
  const r = await must(200, DISPATCHER, 'GET', `/route/v1/driving/${CREW[1]},${CREW[0]};${CALL[1]},${CALL[0]}?overview=full&geometries=geojson`);
  return r.routes[0];
}

await scenario('closures', async (browser) => {
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: CREW[0], lon: CREW[1] });
  const call = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: CALL[0], lon: CALL[1], priority: 'emergency' });
  check(call.crew_id === 'A1', 'A1 takes the call');
  const page = await newPage(browser);
  await open(page, `/?token=${DISPATCHER}`);

  step('the crew\'s route is drawn');
  const route = () => page.evaluate(() => window.__console.route('A1'));
  const before = await until(async () => {
    const r = await route();
    return r?.coords.length > 2 && r;
  }, 'the route of A1');
  await page.waitForSelector('path.route-A1');
  const dBefore = await page.getAttribute('path.route-A1', 'd');
  const original = await serviceRoute();
  check(Math.abs(original.duration - before.eta_s) < 0.5, `the drawn route is the service's: ${before.eta_s} s vs ${original.duration} s`);

  // A point in the middle of the route, away from both ends.
  const mid = before.coords[Math.floor(before.coords.length / 2)];
  check(nearest([before.coords[0], before.coords.at(-1)], mid) > 150, 'the middle is away from the ends');

  step('"Close road" and a click on the route close the road there; the route changes');
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 17), mid);
  await page.click('#mode-close');
  check(await page.isVisible('#map-hint'), 'the map says what a click does');
  await clickMap(page, mid[0], mid[1]);
  await page.waitForSelector('#closures li.closure-item');
  const closures = await must(200, DISPATCHER, 'GET', '/api/closures');
  check(closures.length === 1 && closures[0].point && closures[0].arcs > 0, `one point closure: ${JSON.stringify(closures)}`);
  check(metres([closures[0].point.lat, closures[0].point.lon], mid) < 5, 'where the map was clicked');
  await page.waitForSelector('path.closure');
  const around = await until(async () => {
    const r = await route();
    return r && !same(r.coords, before.coords) && r;
  }, 'a new route');
  check(nearest(around.coords, mid) > 15, `the new route avoids the closed road (passes ${nearest(around.coords, mid).toFixed(0)} m from it)`);
  check(around.eta_s >= before.eta_s - 0.5, `a detour is not faster: ${before.eta_s} → ${around.eta_s}`);
  const detour = await serviceRoute();
  check(Math.abs(detour.duration - around.eta_s) < 0.5, 'the drawn route is the service\'s new one');
  check((await page.getAttribute('path.route-A1', 'd')) !== dBefore, 'the line on the map moved');
  check(!(await page.isVisible('#map-hint')), 'back to placing calls');
  await shot(page, 'console-closure-1280x800');

  step('reopening brings the old route back');
  await page.click(`#closures li[data-closure-id="${closures[0].id}"] button.reopen`);
  await until(async () => same((await route())?.coords, before.coords), 'the original route');
  check((await must(200, DISPATCHER, 'GET', '/api/closures')).length === 0, 'no closure left');

  step('an area drawn on the map closes the roads in it');
  await page.click('#mode-draw');
  const [la, lo] = mid;
  const dLat = 0.0005;
  const dLon = 0.0008;
  for (const [y, x] of [[la - dLat, lo - dLon], [la - dLat, lo + dLon], [la + dLat, lo + dLon], [la + dLat, lo - dLon]]) {
    await clickMap(page, y, x);
  }
  await page.waitForSelector('path.draft');
  check(await page.isEnabled('#draw-finish'), 'four corners make an area');
  await page.click('#draw-finish');
  await page.waitForSelector('#closures li.closure-item');
  const drawn = await must(200, DISPATCHER, 'GET', '/api/closures');
  check(drawn.length === 1 && drawn[0].polygon?.coordinates[0].length === 5, `one polygon closure: ${JSON.stringify(drawn)}`);
  const inside = await until(async () => {
    const r = await route();
    return r && !same(r.coords, before.coords) && r;
  }, 'a route around the area');
  const inBox = inside.coords.filter(([y, x]) => Math.abs(y - la) < dLat * 0.9 && Math.abs(x - lo) < dLon * 0.9);
  check(inBox.length === 0, `the route stays out of the closed area: ${JSON.stringify(inBox)}`);
  check(Math.abs((await serviceRoute()).duration - inside.eta_s) < 0.5, 'the service\'s route again');

  step('closing a road is for dispatchers: the API refuses a crew');
  const refused = await api(CREW_A1, 'POST', '/api/closures', { point: { lat: la, lon: lo }, radius_m: 20 });
  check(refused.status === 403, `a crew cannot close roads (${refused.status})`);
  noErrors(page);
});
