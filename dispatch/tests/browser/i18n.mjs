// The pages' language: the console and the tablet opened in a Russian browser (`ru-RU`) show
// Russian, with no English word of the catalogue left in their visible text, titles,
// placeholders or labels, and the Russian status words; the RU | EN switch is remembered
// across a reload; a refusal of the service (a call off the map) is shown in Russian.
// Screenshots of both pages in both languages at desktop (1440×900) and tablet (1024×768)
// size.

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  scenario, step, check, until, must, api, newPage, open, shot, noErrors, BASE, DISPATCHER, CREW_A1,
} from './lib.mjs';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '../../web/app/i18n');
const catalogue = async (lang) =>
  (await import(`data:text/javascript,${encodeURIComponent(readFileSync(join(WEB, `${lang}.js`), 'utf8'))}`)).default;
const en = await catalogue('en');
const ru = await catalogue('ru');

const forms = (v) => (typeof v === 'object' ? Object.values(v) : [v]);
const latinWords = (text) => (text.match(/\p{Script=Latin}[\p{Script=Latin}'-]*/gu) ?? []).map((w) => w.toLowerCase());

/**
 * The English words of the catalogue: the words of every English message that differs from
 * its Russian one, less the words the Russian catalogue uses too (SpO₂, FHIR, RU, EN...).
 */
const inRussian = new Set(Object.values(ru).flatMap(forms).flatMap(latinWords));
const english = new Set(
  Object.keys(en)
    .filter((k) => JSON.stringify(en[k]) !== JSON.stringify(ru[k]))
    .flatMap((k) => forms(en[k]))
    .flatMap((v) => latinWords(v.replace(/\{[\w.]+\}/g, ' ')))
    .filter((w) => w.length >= 2 && !inRussian.has(w)),
);

/** What a reader meets on the page: its text, and the placeholders, titles and labels. */
const visibleText = (page) =>
  page.evaluate(() => {
    const attrs = [...document.querySelectorAll('[placeholder], [title], [aria-label]')]
      .filter((el) => el.getClientRects().length > 0)
      .flatMap((el) => ['placeholder', 'title', 'aria-label'].map((a) => el.getAttribute(a)))
      .filter(Boolean);
    return [document.title, document.body.innerText, ...attrs].join('\n');
  });

/** Fails if an English word of the catalogue is on the page. */
async function noEnglish(page, what) {
  const text = await visibleText(page);
  const found = [...new Set(latinWords(text).filter((w) => english.has(w)))];
  check(found.length === 0, `English on the ${what} in Russian: ${found.join(', ')}\n---\n${text}`);
  return text;
}

const inLocale = (browser, locale, viewport) => newPage(browser, viewport, { locale });

const DESKTOP = { width: 1440, height: 900 };
const TABLET = { width: 1024, height: 768 };

await scenario('i18n', async (browser) => {
  check(english.size > 200, `the English words of the catalogue: ${english.size}`);
  check(english.has('available') && english.has('emergency') && !english.has('spo'), 'the list of English words');

  step('the README\'s Russian section uses the pages\' words');
  const readme = readFileSync(join(WEB, '../../../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Для диспетчеров'));
  check(section.length > 100, 'the README has its section «Для диспетчеров»');
  for (const [k, v] of Object.entries(ru)) {
    if (/^(crew_status|call_status|priority|crew_type)\./.test(k)) check(section.includes(v), `the README says «${v}» (${k})`);
  }

  step('crews and calls through the API, with Russian free text');
  const crews = [
    { id: 'A1', lat: 49.4106, lon: 8.6946, station: 'Подстанция 3', call_sign: 'Ромашка-1', crew_type: 'general' },
    { id: 'A2', lat: 49.4034, lon: 8.6765, station: 'Подстанция 3', call_sign: 'Ромашка-2', crew_type: 'resuscitation' },
    { id: 'A3', lat: 49.4, lon: 8.7, station: 'Подстанция 5', crew_type: 'paediatric' },
  ];
  for (const c of crews) await must(201, DISPATCHER, 'POST', '/api/crews', c);
  await must(200, DISPATCHER, 'POST', '/api/crews/A3/status', { status: 'out_of_service' });
  const call = await must(201, DISPATCHER, 'POST', '/api/calls', {
    lat: 49.405, lon: 8.685, priority: 'emergency', complaint: 'боль в груди', address: 'ул. Гончарова, д. 4, стр. 3', needs: ['general'],
  });
  check(call.crew_id === 'A1', `A1 takes the call: ${JSON.stringify(call)}`);
  const queued = await must(201, DISPATCHER, 'POST', '/api/calls', {
    lat: 49.41, lon: 8.65, priority: 'urgent', complaint: 'высокая температура', address: 'ул. Ленина, д. 1', needs: ['psychiatric'],
  });
  check(queued.status === 'queued', `no psychiatric crew: queued (${queued.status})`);

  step('the console in ru-RU: Russian, no English word of the catalogue');
  const page = await inLocale(browser, 'ru-RU', DESKTOP);
  await open(page, `/?token=${DISPATCHER}`);
  check((await page.getAttribute('html', 'lang')) === 'ru', 'the page says it is Russian');
  await page.waitForSelector(`#calls li[data-call-id="${call.id}"]`);
  await page.waitForSelector('#crews li[data-crew-id="A3"]');
  await until(async () => (await page.getAttribute('#conn', 'class')).includes('live'), 'the live stream');
  await page.click(`#calls li[data-call-id="${call.id}"]`);
  await page.waitForSelector(`#call-detail[data-call-id="${call.id}"] #decision`);
  // The map's tools, hint and the crew form show their words too.
  await page.click('#crew-add');
  await page.waitForSelector('#crew-form');
  const text = await noEnglish(page, 'console');
  for (const word of ['Новый вызов', 'Бригады', 'Перекрытия', 'События', 'назначена', 'свободна', 'не на линии', 'экстренный', 'неотложный', 'в очереди', 'Подстанция', 'Позывной', 'Жалоба', 'Время доезда', 'общепрофильная']) {
    check(text.toLowerCase().includes(word.toLowerCase()), `the console shows «${word}»`);
  }
  const formats = await page.evaluate(async () => {
    const i = await import('/assets/app/i18n.js');
    const at = new Date(2025, 4, 1, 18, 5, 9).getTime();
    return {
      minutes: [60, 120, 300, 21 * 60, 22 * 60].map(i.fmtMinutesLong),
      distances: [850, 2345].map(i.fmtDistance),
      durations: [45, 245, 3720].map(i.fmtDuration),
      times: [i.fmtHm(at), i.fmtTime(at)],
      pieces: [1, 3, 7].map((count) => i.t('closures.pieces', { count })),
    };
  });
  const want = {
    minutes: ['1 минута', '2 минуты', '5 минут', '21 минута', '22 минуты'],
    distances: ['850 м', '2,3 км'],
    durations: ['45 с', '4 мин 05 с', '1 ч 02 мин'],
    times: ['18:05', '18:05:09'],
    pieces: ['1 участок', '3 участка', '7 участков'],
  };
  check(JSON.stringify(formats) === JSON.stringify(want), `Russian formats and plural forms: ${JSON.stringify(formats)}`);
  await shot(page, 'i18n-console-ru-desktop');
  await page.setViewportSize(TABLET);
  await shot(page, 'i18n-console-ru-tablet');
  await page.click('#crew-form-close');

  step('a refusal of the service in Russian: a call off the map');
  const off = await api(DISPATCHER, 'POST', '/api/calls', { lat: 10, lon: 10, priority: 'urgent', needs: ['general'] });
  check(off.status === 422 && off.body?.error === 'off_map', `the service refuses a call off the map: ${off.status} ${JSON.stringify(off.body)}`);
  await page.fill('#call-where', '10.0, 10.0');
  await page.click('#call-submit');
  await page.waitForSelector('#call-error:not([hidden])');
  const refused = (await page.textContent('#call-error')).trim();
  check(refused === ru['err.off_map'], `the Russian message: ${refused}`);
  check(!refused.includes(off.body.message), 'not the service\'s English message');

  step('a refused field is named in Russian: a crew id with markup');
  const bad = await api(DISPATCHER, 'POST', '/api/crews', { id: '<b>x</b>', lat: 49.4, lon: 8.7 });
  check(bad.status === 422 && bad.body?.field === 'id', `the id refused: ${JSON.stringify(bad.body)}`);
  await page.click('#crew-add');
  await page.fill('#crew-id', '<b>x</b>');
  await page.fill('#crew-where', '49.4, 8.7');
  await page.click('#crew-save');
  await page.waitForSelector('#crew-form-error:not([hidden])');
  const named = (await page.textContent('#crew-form-error')).trim();
  check(named === ru['err.invalid.field'].replace('{field}', ru['field.id']), `the field in Russian: ${named}`);
  await page.click('#crew-form-close');

  step('the tablet in ru-RU: Russian, no English word of the catalogue');
  const tablet = await inLocale(browser, 'ru-RU', TABLET);
  await open(tablet, `/tablet?token=${CREW_A1}`);
  await tablet.waitForSelector('#assignment-body:not([hidden])');
  await until(() => tablet.evaluate(() => window.__tablet.connected), 'the tablet stream');
  await tablet.waitForSelector('#turns li');
  const ttext = await noEnglish(tablet, 'tablet');
  for (const word of ['Бригада A1', 'назначена', 'экстренный', `Вызов №${call.id}`, 'Время доезда', 'Расстояние', 'В пути', 'На месте', 'Не на линии']) {
    check(ttext.toLowerCase().includes(word.toLowerCase()), `the tablet shows «${word}»`);
  }
  check(/\d+ мин/.test(await tablet.textContent('#a-eta')), 'the ETA in minutes');
  check(/^\d+(,\d)? к?м$/.test((await tablet.textContent('#a-distance')).trim()), `the distance in km or m: ${await tablet.textContent('#a-distance')}`);
  await shot(tablet, 'i18n-tablet-ru-tablet');
  await tablet.setViewportSize(DESKTOP);
  await shot(tablet, 'i18n-tablet-ru-desktop');

  step('the handover form of the tablet in Russian');
  for (const s of ['en_route', 'on_scene', 'transporting']) {
    await must(200, CREW_A1, 'POST', '/api/crews/A1/status', { status: s });
  }
  await tablet.waitForSelector('#handover-card:not([hidden])');
  await noEnglish(tablet, 'tablet with the handover form');
  check((await tablet.textContent('#status-now')) === 'транспортировка', 'the status word');
  await shot(tablet, 'i18n-tablet-ru-handover');

  step('EN is chosen on the console and kept across a reload; RU again likewise');
  await page.setViewportSize(DESKTOP);
  await Promise.all([page.waitForEvent('load'), page.click('#lang-switch button[data-lang="en"]')]);
  await page.waitForSelector('body[data-ready="true"]');
  check((await page.getAttribute('html', 'lang')) === 'en', 'English after the switch');
  check((await page.textContent('header.bar h1')) === en['app.console.heading'], 'the English heading');
  check(!page.url().includes('token='), 'the token is not put back in the address');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  check((await page.getAttribute('html', 'lang')) === 'en', 'English after a reload');
  check((await page.textContent('#crews li[data-crew-id="A1"] .badge')) === en['crew_status.transporting'], 'the status in English');
  await page.click(`#calls li[data-call-id="${queued.id}"]`);
  await shot(page, 'i18n-console-en-desktop');
  await page.setViewportSize(TABLET);
  await shot(page, 'i18n-console-en-tablet');
  await Promise.all([page.waitForEvent('load'), page.click('#lang-switch button[data-lang="ru"]')]);
  await page.waitForSelector('body[data-ready="true"]');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  check((await page.getAttribute('html', 'lang')) === 'ru', 'Russian after switching back and a reload');
  check((await page.getAttribute('#lang-switch button[data-lang="ru"]', 'aria-pressed')) === 'true', 'RU is pressed');

  step('the tablet in English (the switch is the page\'s own choice, per browser profile)');
  await Promise.all([tablet.waitForEvent('load'), tablet.click('#lang-switch button[data-lang="en"]')]);
  await tablet.waitForSelector('body[data-ready="true"]');
  check((await tablet.textContent('#status-now')) === en['crew_status.transporting'], 'the status in English');
  await shot(tablet, 'i18n-tablet-en-desktop');
  await tablet.setViewportSize(TABLET);
  await shot(tablet, 'i18n-tablet-en-tablet');

  step('a phone in Russian: no sideways scrolling on either page');
  const phone = await inLocale(browser, 'ru-RU', { width: 375, height: 812 });
  for (const [path, name] of [[`/?token=${DISPATCHER}`, 'console'], [`/tablet?token=${CREW_A1}`, 'tablet']]) {
    await open(phone, path);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await shot(phone, `i18n-${name}-ru-phone`);
    check(overflow <= 0, `the ${name} on a phone in Russian is ${overflow} px too wide`);
  }

  step('the sign-in page has the switch too, in the browser\'s language');
  const login = await inLocale(browser, 'ru-RU', TABLET);
  await login.goto(`${BASE}/`);
  await login.waitForSelector('form.login');
  check((await login.textContent('form.login button[type=submit]')) === ru['login.submit'], 'Войти');
  await noEnglish(login, 'sign-in page');
  noErrors(page, tablet, phone, login);
});
