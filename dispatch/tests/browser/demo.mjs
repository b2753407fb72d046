// The README's first command, as a newcomer meets it: `dispatch serve --demo` was started by
// the test (dispatch/tests/it/browser.rs) and printed its link; opened in the browser, the
// console shows crews moving along the roads within 10 s of the start, with calls on the
// map; then a crew's tablet. Screenshots of both pages in Russian and English, at desktop,
// tablet and phone sizes.
//
// Run as `node demo.mjs BASE TOKEN TOKEN TOKEN` with DEMO_URL (the printed link) and
// DEMO_T0 (when the service printed it, Unix ms) in the environment.

import { scenario, step, check, until, newPage, shot, noErrors } from './lib.mjs';

const URL_ = process.env.DEMO_URL;
const T0 = Number(process.env.DEMO_T0);
check(URL_ && T0 > 0, 'DEMO_URL and DEMO_T0 are set');

/** Each crew marker's drawn path (`crew-ID` → its `d`), as the map shows it now. */
const markers = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll('path.crew')].map((p) => [
    [...p.classList].find((c) => c.startsWith('crew-')),
    { d: p.getAttribute('d'), status: [...p.classList].find((c) => c.startsWith('st-')) },
  ]),
));

await scenario('demo', async (browser) => {
  const page = await newPage(browser, { width: 1440, height: 900 }, { locale: 'ru-RU' });

  step('the printed link opens the console, signed in');
  await page.goto(URL_);
  await page.waitForSelector('body[data-ready="true"]');
  const first = await markers(page);
  check(Object.keys(first).length > 0, 'crews on the map');

  step('within 10 s of the start, a crew moves on the map and calls are shown');
  const moved = await until(async () => {
    const now = await markers(page);
    return Object.entries(now).find(([id, m]) => first[id] && m.d !== first[id].d
      && ['st-dispatched', 'st-en_route', 'st-transporting'].includes(m.status));
  }, 'a crew moving', Math.max(1000, T0 + 10000 - Date.now()));
  const after = (Date.now() - T0) / 1000;
  console.log(`  ${moved[0]} moved ${after.toFixed(1)} s after the start`);
  check(after <= 10, `the first move was seen after ${after.toFixed(1)} s`);
  const calls = await page.$$eval('.call-marker', (els) => els.length);
  check(calls > 0, 'open calls on the map');
  await page.waitForTimeout(1500);
  await shot(page, 'demo-console-ru-1440');

  step('the console in English at tablet size');
  const en = await newPage(browser, { width: 1024, height: 768 }, { locale: 'en-US' });
  await en.goto(URL_);
  await en.waitForSelector('body[data-ready="true"]');
  await en.waitForTimeout(1500);
  await shot(en, 'demo-console-en-1024');

  step('a driving crew\'s tablet, in both languages');
  const crew = moved[0].slice('crew-'.length);
  const token = new URL(URL_).searchParams.get('token');
  const base = new URL(URL_).origin;
  for (const [locale, size, name] of [
    ['ru-RU', { width: 1024, height: 768 }, 'demo-tablet-ru-1024'],
    ['en-US', { width: 375, height: 812 }, 'demo-tablet-en-375'],
  ]) {
    const tab = await newPage(browser, size, { locale });
    await tab.goto(`${base}/tablet?crew=${encodeURIComponent(crew)}&token=${token}`);
    await tab.waitForSelector('body[data-ready="true"]');
    // The demo's calls come with the nearest mapped house as their address: the crew reads
    // a street, not coordinates.
    const where = await until(async () => (await tab.textContent('#a-address'))?.trim(), 'the address on the tablet');
    check(!/^-?\d+\.\d+, -?\d+\.\d+$/.test(where), `the tablet shows ${where}`);
    await tab.waitForTimeout(1500);
    await shot(tab, name);
    noErrors(tab);
  }
  noErrors(page, en);
});
