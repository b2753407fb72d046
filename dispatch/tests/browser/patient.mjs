// The patient's record on the tablet and in the console, against a real FHIR server
// (Medplum's engine, its base URL the fifth argument) seeded here with a patient's record
// through its own REST API: the tablet, in Russian, first asks for an identifier; the crew
// enters the СНИЛС and sees the record's active allergy and medication; the console's call
// detail shows the identifier entered, and a wrong one typed by the call-taker is refused
// in the page's language. Screenshots of the card in both languages go to SHOTS.

import {
  scenario, step, check, until, must, newPage, open, noErrors, shot, CREW_A1, DISPATCHER,
} from './lib.mjs';

const FHIR = process.argv[6];

/** Creates a resource on the FHIR server: its `Type/id`. */
async function create(resource) {
  const r = await fetch(`${FHIR}/${resource.resourceType}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  const body = await r.json();
  check(r.status === 201, `${resource.resourceType}: ${r.status} ${JSON.stringify(body)}`);
  return `${resource.resourceType}/${body.id}`;
}

await scenario('patient record', async (browser) => {
  check(FHIR?.startsWith('http://'), `the FHIR server's URL: ${FHIR}`);
  const p = await create({
    resourceType: 'Patient',
    identifier: [{ system: 'http://fhir.ru/core/systems/snils', value: '112-233-445 95' }],
    name: [{ family: 'Сидоров', given: ['Иван', 'Петрович'] }],
    birthDate: '1956-03-02',
    gender: 'male',
  });
  await create({
    resourceType: 'AllergyIntolerance',
    patient: { reference: p },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    code: { text: 'Пенициллин' },
    criticality: 'high',
  });
  await create({
    resourceType: 'MedicationStatement',
    status: 'active',
    subject: { reference: p },
    medicationCodeableConcept: { text: 'Варфарин 5 мг' },
  });
  await must(201, DISPATCHER, 'POST', '/api/crews', { id: 'A1', lat: 49.4106, lon: 8.6946 });
  const call = await must(201, DISPATCHER, 'POST', '/api/calls', { lat: 49.405, lon: 8.685, priority: 'emergency' });
  check(call.crew_id === 'A1', `the call went to ${call.crew_id}`);

  step('the tablet, in Russian, asks for an identifier');
  const tablet = await newPage(browser, { width: 800, height: 1200 }, { locale: 'ru-RU' });
  await open(tablet, `/tablet?token=${CREW_A1}`);
  await tablet.waitForSelector('#patient-card:not([hidden])');
  await until(async () => (await tablet.getAttribute('#patient-card', 'data-state')) === 'no_identifier', 'no identifier yet');
  const asks = await tablet.textContent('#patient-status');
  check(asks.includes('введите идентификатор'), `the card says: ${asks}`);

  step('the crew enters the СНИЛС: the record\'s active allergy and medication');
  await tablet.selectOption('#p-kind', 'snils');
  await tablet.fill('#p-value', '11223344595');
  await tablet.click('#patient-submit');
  await until(async () => (await tablet.getAttribute('#patient-card', 'data-state')) === 'available', 'the summary');
  const who = await tablet.textContent('#patient-status');
  check(who.includes('Иван Петрович Сидоров') && who.includes('1956-03-02'), `the patient: ${who}`);
  const allergies = await tablet.textContent('.facts-allergies');
  check(allergies.includes('Аллергии') && allergies.includes('Пенициллин') && allergies.includes('высокий риск'), allergies);
  const meds = await tablet.textContent('.facts-medications');
  check(meds.includes('Варфарин 5 мг'), meds);
  const conditions = await tablet.textContent('.facts-conditions');
  check(conditions.includes('нет записей'), conditions);
  await tablet.evaluate(() => document.getElementById('patient-card').scrollIntoView());
  await shot(tablet, 'tablet-patient-ru');

  step('the console shows the identifier; a wrong one is refused in English');
  const page = await newPage(browser, { width: 1280, height: 800 });
  await open(page, `/?token=${DISPATCHER}`);
  await page.click(`#calls li[data-call-id="${call.id}"]`);
  await page.waitForSelector('#patient-row');
  await until(async () => (await page.textContent('#patient-entered')).includes('112-233-445 95'), 'the identifier entered');
  check((await page.textContent('#patient-entered')).includes('SNILS'), await page.textContent('#patient-entered'));
  await page.selectOption('#patient-kind', 'oms');
  await page.fill('#patient-value', '123');
  await page.click('#patient-save');
  await until(async () => (await page.textContent('#toasts')).includes('The identifier was not saved'), 'the refusal');
  check((await page.textContent('#patient-entered')).includes('112-233-445 95'), 'the entered one stays');

  step('the English tablet');
  const en = await newPage(browser, { width: 800, height: 1200 });
  await open(en, `/tablet?token=${CREW_A1}`);
  await until(async () => (await en.getAttribute('#patient-card', 'data-state')) === 'available', 'the summary in English');
  check((await en.textContent('.facts-allergies')).includes('Allergies'), await en.textContent('.facts-allergies'));
  await en.evaluate(() => document.getElementById('patient-card').scrollIntoView());
  await shot(en, 'tablet-patient-en');
  noErrors(tablet, page, en);
});
