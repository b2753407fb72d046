// The console's stream survives dropped connections: while it is down, calls are created and
// crews change over HTTP; when it is back (resuming with ?since=) the console shows all of
// it, and it saw every log entry exactly once, in order.

import { scenario, step, check, until, sleep, must, addCrews, newPage, open, noErrors, DISPATCHER, SPOTS } from './lib.mjs';

/** The log's last seq as the service tells it. */
const serverSeq = async () => (await must(200, DISPATCHER, 'GET', '/api/me')).last_seq;

/** The console saw every entry from its first to the service's last, once each, in order. */
async function sawEverything(page) {
  const last = await serverSeq();
  await until(async () => (await page.evaluate(() => window.__console.lastSeq)) === last, `the console to reach seq ${last}`);
  const c = await page.evaluate(() => ({
    seqs: window.__console.seqs,
    gaps: window.__console.gaps,
    duplicates: window.__console.duplicates,
  }));
  check(c.gaps === 0, `${c.gaps} gaps in the stream`);
  check(c.duplicates === 0, `${c.duplicates} entries came twice`);
  check(c.seqs.every((s, i) => i === 0 || s === c.seqs[i - 1] + 1), `every seq once, in order: ${c.seqs}`);
  return c.seqs;
}

const shownCalls = (page) => page.$$eval('#calls li.call-item', (lis) => lis.map((li) => Number(li.dataset.callId)).sort((a, b) => a - b));

await scenario('resume', async (browser) => {
  await addCrews(2);
  const page = await newPage(browser);
  await open(page, `/?token=${DISPATCHER}`);
  await until(() => page.evaluate(() => window.__console.connected), 'the console stream');

  step('the connection drops; meanwhile calls come in and crews change');
  await page.evaluate(() => window.__console.drop(true));
  await page.waitForSelector('#conn.offline');
  const created = [];
  for (let i = 0; i < 3; i += 1) {
    const [lat, lon] = SPOTS[2 + i];
    created.push((await must(201, DISPATCHER, 'POST', '/api/calls', { lat, lon, priority: 'urgent', complaint: `missed ${i}` })).id);
  }
  await must(200, DISPATCHER, 'PUT', '/api/crews/A2/position', { lat: 49.401, lon: 8.69 });
  await sleep(500);
  check((await shownCalls(page)).length === 0, 'nothing arrives while the connection is down');

  step('back: the console resumes where it stopped');
  await page.evaluate(() => window.__console.resume());
  await page.waitForSelector('#conn.live');
  await until(async () => (await shownCalls(page)).join() === created.join(), `calls ${created} listed`);
  await page.waitForSelector('#calls li.queued', { state: 'attached' });
  check((await page.textContent('#calls-count')).includes('1 waiting'), 'the third call waits: two crews');
  const seqs = await sawEverything(page);
  const events = await page.$$eval('#events li', (lis) => lis.map((li) => li.textContent));
  check(events.some((e) => e.includes('A2 moved')), 'the crew move made while away is in the event list');
  check(events[0].startsWith(`${seqs.at(-1)} `), 'the newest entry heads the event list');

  step('drops while calls keep coming: reconnecting on its own, nothing lost');
  for (let round = 0; round < 3; round += 1) {
    const burst = (async () => {
      for (let i = 0; i < 4; i += 1) {
        const [lat, lon] = SPOTS[i % SPOTS.length];
        await must(201, DISPATCHER, 'POST', '/api/calls', { lat: lat + 0.002 * round, lon: lon + 0.001 * i, priority: 'non_urgent' });
        await sleep(60);
      }
    })();
    await sleep(70);
    await page.evaluate(() => window.__console.drop(false));
    await burst;
  }
  await until(async () => (await shownCalls(page)).length === 3 + 12, 'all 15 calls listed');
  await sawEverything(page);

  step('a crew reported back from the tablet shows at once');
  await must(200, DISPATCHER, 'POST', '/api/crews/A1/status', { status: 'en_route' });
  await page.waitForSelector('#crews li[data-crew-id="A1"][data-status="en_route"]');
  noErrors(page);
});
