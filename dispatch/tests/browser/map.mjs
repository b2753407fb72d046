// The console's map a dispatcher can read: street names from the service's own roads at a
// high zoom and none zoomed out; the hospitals of /api/hospitals with what they treat, and
// the stations of /api/stations with their names; a crew's label with its type's letter
// and call sign; a call's timer going from normal to amber (75 % of its norm) to red (past
// it) on the map and in the list, stopping when the crew is on scene, and zoomed out shown
// only once amber or red; the alert for a newly waiting emergency, silent when muted
// (remembered across a reload). The service runs with the Heidelberg hospitals, the
// stations and hospitals of PLACES and a 12 s emergency norm (dispatch/tests/it/browser.rs).
// Screenshots at 1440×900 and 1024×768 in English and Russian go to $TMPDIR/shots/.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  scenario, step, check, until, sleep, must, newPage, open, noErrors, DISPATCHER, SPOTS,
} from './lib.mjs';

const SHOTS = join(tmpdir(), 'shots');
mkdirSync(SHOTS, { recursive: true });
const EMERGENCY_NORM_MS = 12000;

async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  console.log(`  screenshot ${path}`);
}

/** Metres between two [lon, lat] points (equirectangular; fine over a street). */
function metres([lon1, lat1], [lon2, lat2]) {
  const k = Math.cos(((lat1 + lat2) / 2) * (Math.PI / 180));
  return Math.hypot((lon2 - lon1) * k, lat2 - lat1) * 111_320;
}
const lineLength = (coords) => coords.slice(1).reduce((s, p, i) => s + metres(coords[i], p), 0);

/** The classes of roads from the most important; the street the oracle picks is of the first present. */
const CLASS_ORDER = ['motorway', 'trunk', 'primary', 'secondary', 'tertiary', 'unclassified', 'residential'];

const labelsNow = (page) => page.evaluate(() => window.__console.streetLabels);
const timerOf = (page, id) =>
  page.evaluate((i) => {
    const m = document.querySelector(`.call-marker.call-${i} .call-timer`);
    const l = document.querySelector(`#calls li[data-call-id="${i}"] .wait`);
    return m && l ? { map: m.dataset.timer, list: l.dataset.timer, text: m.textContent, listText: l.textContent, stopped: m.classList.contains('stopped') } : null;
  }, id);

await scenario('map', async (browser) => {
  const page = await newPage(browser, { width: 1440, height: 900 });
  await open(page, `/?token=${DISPATCHER}`);
  await until(async () => (await page.getAttribute('#conn', 'class')).includes('live'), 'the live stream');

  step('hospitals: one marker each, with its name and what it treats on hover');
  const hospitals = await must(200, DISPATCHER, 'GET', '/api/hospitals');
  check(hospitals.length >= 2, `the Heidelberg hospitals: ${hospitals.length}`);
  await until(async () => (await page.$$('.hospital-marker')).length === hospitals.length, `${hospitals.length} hospital markers`);
  // One that treats more than one thing, with no other hospital near it (the mouse finds it).
  const alone = (x) => hospitals.every((y) => y === x || metres([x.position.lon, x.position.lat], [y.position.lon, y.position.lat]) > 150);
  const hsp = hospitals.find((x) => x.capabilities.length > 1 && alone(x)) ?? hospitals.find(alone);
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 16), [hsp.position.lat, hsp.position.lon]);
  const at = await page.evaluate(([la, lo]) => window.__console.pixelOf(la, lo), [hsp.position.lat, hsp.position.lon]);
  await page.mouse.move(at.x, at.y);
  const tip = await until(async () => page.evaluate(() => document.querySelector('.leaflet-tooltip.place-tip')?.textContent), 'the hospital tooltip');
  check(tip.includes(hsp.name), `the tooltip names ${hsp.name}: ${tip}`);
  const words = { general: 'emergency department', pci: 'PCI', stroke: 'stroke unit', trauma: 'trauma centre', paediatric: 'paediatric' };
  for (const c of hsp.capabilities) check(tip.includes(words[c]), `the tooltip says ${c}: ${tip}`);
  await page.mouse.move(5, 300);

  step('stations: one marker each from /api/stations, with its name');
  const stations = await must(200, DISPATCHER, 'GET', '/api/stations');
  check(stations.length >= 2, `the stations of the settings: ${JSON.stringify(stations)}`);
  await until(async () => (await page.$$('.station-marker')).length === stations.length, `${stations.length} station markers`);
  for (const s of stations) {
    const labels = await page.$$eval('.station-label', (els) => els.map((e) => e.textContent));
    check(labels.includes(s.name), `station ${s.name} is named on the map: ${labels}`);
  }

  step('street names: a street of the service\'s roads is named at zoom 17, nothing at zoom 12');
  const [clat, clon] = SPOTS[0];
  const bbox = [clon - 0.002, clat - 0.0012, clon + 0.002, clat + 0.0012].join(',');
  const roads = await must(200, DISPATCHER, 'GET', `/api/map/roads?bbox=${bbox}&zoom=17`);
  const byName = new Map();
  for (const f of roads.features) {
    const { name, class: cls } = f.properties;
    if (!name || !CLASS_ORDER.includes(cls)) continue;
    const s = byName.get(name) ?? { name, rank: 99, length: 0, longest: null };
    s.rank = Math.min(s.rank, CLASS_ORDER.indexOf(cls));
    s.length += lineLength(f.geometry.coordinates);
    if (!s.longest || lineLength(f.geometry.coordinates) > lineLength(s.longest)) s.longest = f.geometry.coordinates;
    byName.set(name, s);
  }
  const street = [...byName.values()].filter((s) => s.length > 150).sort((a, b) => a.rank - b.rank || b.length - a.length)[0];
  check(street, `a named street of 150 m near ${SPOTS[0]}: ${[...byName.keys()]}`);
  const mid = street.longest[Math.floor(street.longest.length / 2)];
  const centre = street.longest.length > 2 ? mid : [(street.longest[0][0] + street.longest[1][0]) / 2, (street.longest[0][1] + street.longest[1][1]) / 2];
  console.log(`  the oracle's street: ${street.name} (${CLASS_ORDER[street.rank]}, ${Math.round(street.length)} m)`);
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 17), [centre[1], centre[0]]);
  const high = await until(async () => {
    const l = await labelsNow(page);
    return l.labels.some((x) => x.name === street.name) && l;
  }, `a label «${street.name}» at zoom 17`);
  const svgTexts = await page.$$eval('svg.street-labels text', (els) => els.map((e) => e.textContent));
  check(svgTexts.includes(street.name), `the label is drawn along the street: ${svgTexts}`);
  check(new Set(svgTexts).size === svgTexts.length, `one label per street: ${svgTexts}`);
  check(high.labels.length >= 3, `several streets named at zoom 17: ${svgTexts}`);
  // The label lies along the street: its path's middle is near the street's line.
  const near = await page.evaluate(([name, line]) => {
    const text = [...document.querySelectorAll('svg.street-labels text')].find((e) => e.textContent === name);
    const path = document.querySelector(text.querySelector('textPath').getAttribute('href'));
    const p = path.getPointAtLength(path.getTotalLength() / 2);
    const r = path.ownerSVGElement.getBoundingClientRect();
    const m = document.getElementById('map').getBoundingClientRect();
    const x = r.left - m.left + p.x;
    const y = r.top - m.top + p.y;
    // Distance (px) to the nearest piece of the street of that name the page's map has.
    let best = Infinity;
    const pts = line.map(([lo, la]) => window.__console.pixelOf(la, lo)).map((q) => [q.x - m.left, q.y - m.top]);
    for (let i = 1; i < pts.length; i += 1) {
      const [ax, ay] = pts[i - 1];
      const [bx, by] = pts[i];
      const l2 = (bx - ax) ** 2 + (by - ay) ** 2 || 1;
      const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / l2));
      best = Math.min(best, Math.hypot(x - ax - t * (bx - ax), y - ay - t * (by - ay)));
    }
    return best;
  }, [street.name, roads.features.filter((f) => f.properties.name === street.name).flatMap((f) => f.geometry.coordinates)]);
  check(near < 6, `the label «${street.name}» lies on its street (${near.toFixed(1)} px off)`);

  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 12), [clat, clon]);
  await until(async () => (await labelsNow(page)).labels.length === 0, 'no street names at zoom 12');
  check((await page.$$('svg.street-labels text')).length === 0, 'no label drawn at zoom 12');

  step('street names: the pieces of a street are joined, labels read left to right, not round corners');
  const pure = await page.evaluate(async () => {
    const { chains, placeAlong } = await import('/assets/app/console/labels.js');
    // Three pieces of one street, one of them drawn backwards and one twice; and one apart.
    const joined = chains([[[0, 0], [10, 0]], [[20, 0], [10, 0]], [[20, 0], [30, 5]], [[10, 0], [0, 0]], [[100, 100], [110, 100]]]);
    const line = [[10, 100], [300, 100], [600, 130]];
    return {
      joined: joined.map((c) => c.length).sort(),
      forwards: placeAlong(line, 100, 800, 600),
      backwards: placeAlong([...line].reverse(), 100, 800, 600),
      corner: placeAlong([[10, 10], [60, 60], [10, 110]], 60, 800, 600),
      tooShort: placeAlong([[10, 10], [60, 10]], 100, 800, 600),
      offView: placeAlong([[-500, 10], [-100, 10]], 100, 800, 600),
    };
  });
  check(pure.joined.join() === '2,4', `one street of three pieces and one apart: ${JSON.stringify(pure.joined)}`);
  for (const p of [pure.forwards, pure.backwards]) {
    check(p && p[0][0] < p[p.length - 1][0], `a label reads left to right: ${JSON.stringify(p)}`);
  }
  check(pure.corner === null && pure.tooShort === null && pure.offView === null, `no label round a corner, on too short a street or off the view: ${JSON.stringify(pure)}`);

  step('street names stay fast over the city centre at zoom 16');
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 16), [49.4094, 8.6935]);
  const city = await until(async () => {
    const l = await labelsNow(page);
    const roadsDrawn = await page.evaluate(() => Number(document.getElementById('map').dataset.roads || 0));
    return l.labels.length >= 10 && roadsDrawn > 300 && { ...l, roadsDrawn };
  }, 'the city centre named at zoom 16');
  console.log(`  ${city.labels.length} labels over ${city.roadsDrawn} road pieces in ${city.ms.toFixed(1)} ms`);
  check(city.ms < 250, `drawing the street names took ${city.ms.toFixed(1)} ms`);
  const names = city.labels.map((l) => l.name);
  check(new Set(names).size === names.length, 'one label per street in view');
  await shot(page, 'map-streets-1440x900-en');

  step('the call timer: pure levels at known times');
  const levels = await page.evaluate(async () => {
    const { callTimer } = await import('/assets/app/console/calls.js');
    const call = { times: { received: 1_000_000 }, late_at: 1_000_000 + 600_000 };
    const at = (ms) => callTimer(call, 1_000_000 + ms);
    const onScene = { times: { received: 0, on_scene: 500_000 }, late_at: 600_000 };
    return {
      levels: [0, 449_999, 450_000, 599_999, 600_000, 3_600_000].map((ms) => at(ms).level),
      elapsed: at(123_000).elapsed,
      stopped: callTimer(onScene, 10_000_000),
      none: callTimer({ times: { received: 0 } }, 5000).level,
    };
  });
  check(levels.levels.join() === 'ok,ok,amber,amber,red,red', `levels at 0, 75 % and 100 % of the norm: ${levels.levels}`);
  check(levels.elapsed === 123_000, 'elapsed since received');
  check(levels.stopped.elapsed === 500_000 && levels.stopped.level === 'amber' && levels.stopped.stopped, `stopped on scene: ${JSON.stringify(levels.stopped)}`);
  check(levels.none === null, 'no norm, no level');

  step('a new emergency with no crew waits: it sounds once; its timer goes normal, amber, red');
  check((await page.evaluate(() => window.__console.alerts)) === 0, 'no alert yet');
  check((await page.getAttribute('#alert-mute', 'aria-pressed')) === 'false', 'the sound is on');
  const [lat, lon] = [49.405, 8.685];
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 15), [lat, lon]);
  const first = await must(201, DISPATCHER, 'POST', '/api/calls', { lat, lon, priority: 'emergency', complaint: 'unconscious' });
  check(first.status === 'queued', `no crew: queued (${first.status})`);
  check(first.late_at - first.times.received === EMERGENCY_NORM_MS, `the norm is ${EMERGENCY_NORM_MS} ms: ${first.late_at - first.times.received}`);
  await until(async () => (await page.evaluate(() => window.__console.alerts)) === 1, 'one alert');
  const elapsed = () => Date.now() - first.times.received;
  const seen = [];
  const stages = {};
  await until(async () => {
    const tm = await timerOf(page, first.id);
    if (!tm) return false;
    const e = elapsed();
    check(tm.map === tm.list || Math.abs(e - 0.75 * EMERGENCY_NORM_MS) < 1500 || Math.abs(e - EMERGENCY_NORM_MS) < 1500, `the map and the list agree: ${JSON.stringify(tm)}`);
    if (seen[seen.length - 1] !== tm.map) {
      seen.push(tm.map);
      stages[tm.map] = { e, ...tm };
    }
    return tm.map === 'red' && tm.list === 'red';
  }, 'the timer to turn red', 25000);
  check(seen.join() === 'ok,amber,red', `the timer went ${seen}`);
  check(stages.amber.e >= 0.75 * EMERGENCY_NORM_MS - 300 && stages.amber.e < EMERGENCY_NORM_MS + 300, `amber at ${stages.amber.e} ms`);
  check(stages.red.e >= EMERGENCY_NORM_MS - 300, `red at ${stages.red.e} ms`);
  check(/^\d+ min$/.test(stages.ok.text), `minutes on the marker: ${stages.ok.text}`);
  check(/^waiting \d+:\d\d$/.test(stages.red.listText), `the waiting time in the list: ${stages.red.listText}`);
  check((await page.evaluate(() => window.__console.alerts)) === 1, 'still one alert');

  step('a waiting urgent call does not sound');
  const urgent = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: SPOTS[1][0], lon: SPOTS[1][1], priority: 'urgent' });
  check(urgent.status === 'queued', 'the urgent call waits');
  await page.waitForSelector(`.call-marker.call-${urgent.id}`);
  await sleep(600);
  check((await page.evaluate(() => window.__console.alerts)) === 1, 'no alert for an urgent call');
  await shot(page, 'map-calls-1440x900-en');
  // Zoomed out, only the timers that are amber or red show.
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 13), [lat, lon]);
  await page.waitForSelector(`.call-marker.call-${urgent.id} .call-timer`, { state: 'hidden' });
  await page.waitForSelector(`.call-marker.call-${first.id} .call-timer.timer-red`, { state: 'visible' });
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 15), [lat, lon]);
  await page.waitForSelector(`.call-marker.call-${urgent.id} .call-timer`, { state: 'visible' });

  step('muted: a new waiting emergency shows but does not sound; the switch survives a reload');
  await page.click('#alert-mute');
  check((await page.getAttribute('#alert-mute', 'aria-pressed')) === 'true', 'the switch is pressed');
  check(await page.evaluate(() => window.__console.muted), 'muted');
  const second = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: SPOTS[2][0], lon: SPOTS[2][1], priority: 'emergency' });
  check(second.status === 'queued', 'the second emergency waits');
  await until(async () => (await page.evaluate(() => window.__console.alertsSilenced)) === 1, 'the muted alert');
  check((await page.evaluate(() => window.__console.alerts)) === 1, 'no sound when muted');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  check(await page.evaluate(() => window.__console.muted), 'still muted after a reload');
  check((await page.getAttribute('#alert-mute', 'aria-pressed')) === 'true', 'the switch shows it');
  await page.click('#alert-mute');
  check(!(await page.evaluate(() => window.__console.muted)), 'the sound is on again');
  await sleep(600);
  check((await page.evaluate(() => window.__console.alerts + window.__console.alertsSilenced)) === 0, 'calls already waiting at start do not sound');

  step('crews: the label has the type\'s letter and the call sign; the timer stops on scene');
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: 49.4045, lon: 8.6846, station: 'S1', crew_type: 'resuscitation', call_sign: 'Medic 7' });
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A2', lat: SPOTS[3][0], lon: SPOTS[3][1], station: 'S1', crew_type: 'paediatric', call_sign: '<b>Kid</b>' });
  const label = await until(async () => page.evaluate(() => {
    const el = document.querySelector('.crew-label-body[data-crew-id="A1"]');
    return el && { text: el.textContent, letter: el.querySelector('.crew-type')?.textContent };
  }), 'the label of A1');
  check(label.letter === 'R' && label.text.includes('A1') && label.text.includes('Medic 7'), `A1's label: ${JSON.stringify(label)}`);
  const kid = await until(async () => page.evaluate(() => document.querySelector('.crew-label-body[data-crew-id="A2"]')?.textContent), 'the label of A2');
  check(kid.includes('<b>Kid</b>') && kid.startsWith('P'), `a call sign is shown as text, after the type's letter: ${kid}`);
  check((await page.$$('.crew-label-body b')).length === 0, 'no markup from a call sign');
  const taken = await until(async () => {
    const c = await must(200, DISPATCHER, 'GET', `/api/calls/${first.id}`);
    return c.crew_id && c;
  }, 'a crew for the first emergency');
  await must(200, DISPATCHER, 'POST', `/api/crews/${taken.crew_id}/status`, { status: 'en_route' });
  await must(200, DISPATCHER, 'POST', `/api/crews/${taken.crew_id}/status`, { status: 'on_scene' });
  const stopped = await until(async () => {
    const tm = await timerOf(page, first.id);
    return tm?.stopped && tm;
  }, 'the timer stopped on scene');
  check(stopped.map === 'red', `a call reached late stays red: ${JSON.stringify(stopped)}`);
  check(/^on scene after \d+:\d\d$/.test(stopped.listText), `the list says when the crew was on scene: ${stopped.listText}`);
  await sleep(2100);
  const later = await timerOf(page, first.id);
  check(later.listText === stopped.listText, `the timer stopped: ${stopped.listText} then ${later.listText}`);
  await page.evaluate(([la, lo]) => window.__console.view(la, lo, 16), [lat, lon]);
  await sleep(800);
  await shot(page, 'map-crews-1440x900-en');

  step('screenshots at 1024×768, and in Russian at both sizes');
  const small = await newPage(browser, { width: 1024, height: 768 });
  await open(small, `/?token=${DISPATCHER}`);
  await small.evaluate(([la, lo]) => window.__console.view(la, lo, 16), [lat, lon]);
  await until(async () => (await labelsNow(small)).labels.length > 0, 'street names at 1024×768');
  await shot(small, 'map-1024x768-en');
  for (const size of [{ width: 1440, height: 900 }, { width: 1024, height: 768 }]) {
    const ru = await newPage(browser, size, { locale: 'ru-RU' });
    await open(ru, `/?token=${DISPATCHER}`);
    await ru.evaluate(([la, lo]) => window.__console.view(la, lo, 16), [lat, lon]);
    await until(async () => (await labelsNow(ru)).labels.length > 0, 'street names in Russian');
    const ruLabel = await ru.evaluate(() => document.querySelector('.crew-label-body[data-crew-id="A1"]')?.textContent);
    check(ruLabel?.startsWith('Р'), `the resuscitation letter in Russian: ${ruLabel}`);
    const mute = await ru.textContent('#alert-mute');
    check(/Сигнал/.test(mute), `the alert switch in Russian: ${mute}`);
    const list = await ru.textContent(`#calls li[data-call-id="${first.id}"] .wait`);
    check(/^на месте через \d+:\d\d$/.test(list), `the stopped timer in Russian: ${list}`);
    await shot(ru, `map-${size.width}x${size.height}-ru`);
    noErrors(ru);
  }
  noErrors(page, small);
});
