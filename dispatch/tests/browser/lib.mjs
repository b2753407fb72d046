// Helpers of the browser tests: the service under test, Chromium, waiting and checking.
//
// Each script is run as `node SCRIPT BASE_URL DISPATCHER_TOKEN ADMIN_TOKEN CREW_A1_TOKEN` by
// dispatch/tests/it/browser.rs against a fresh service, and exits non-zero on failure.

import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const [BASE, DISPATCHER, ADMIN, CREW_A1] = process.argv.slice(2);
if (!BASE || !CREW_A1) {
  console.error('usage: node SCRIPT BASE_URL DISPATCHER_TOKEN ADMIN_TOKEN CREW_A1_TOKEN');
  process.exit(2);
}

/** Heidelberg spots: [lat, lon]. */
export const SPOTS = [
  [49.4106, 8.6946],
  [49.4034, 8.6765],
  [49.4, 8.7],
  [49.41, 8.65],
  [49.395, 8.68],
];

/** Where screenshots go: the system's temporary directory. */
export const SHOTS = join(tmpdir(), 'dispatch-browser');
mkdirSync(SHOTS, { recursive: true });

/** Prints a step of the scenario. */
export function step(what) {
  console.log(`- ${what}`);
}

/** Fails the test with `message` unless `ok`. */
export function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
}

/** Polls `f` until it returns a truthy value (returned), or fails after `ms`. */
export async function until(f, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One API request with a token: `{status, body, headers}`. */
export async function api(token, method, path, body, headers = {}) {
  const r = await fetch(BASE + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: r.status, body: json, headers: r.headers };
}

/** An API request that must answer `expect`; its JSON. */
export async function must(expect, token, method, path, body) {
  const r = await api(token, method, path, body);
  check(r.status === expect, `${method} ${path} answered ${r.status}, not ${expect}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Adds crews A1.. at the first `n` spots. */
export async function addCrews(n) {
  for (let i = 0; i < n; i += 1) {
    const [lat, lon] = SPOTS[i];
    await must(201, DISPATCHER, 'POST', '/api/crews', { id: `A${i + 1}`, lat, lon, station: 'S1' });
  }
}

/** Debian's Chromium through playwright-core. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
}

/**
 * A page of its own context at `viewport` (in `en-US` unless `options` say another
 * `locale`). Uncaught page errors are collected in
 * `page.errors` (checked by `noErrors`), and the requests it made in `page.requests`.
 */
export async function newPage(browser, viewport = { width: 1280, height: 800 }, options = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US', ...options });
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      console.log(`  page console: ${m.text()}`);
    }
  });
  page.setDefaultTimeout(15000);
  return page;
}

/** Fails if a page threw. */
export function noErrors(...pages) {
  for (const p of pages) check(p.errors.length === 0, `uncaught errors in the page: ${p.errors.join('; ')}`);
}

/** Saves a screenshot under SHOTS and says where. */
export async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  console.log(`  screenshot ${path}`);
  return path;
}

/** Opens a page at `path` and waits until it has loaded its data. */
export async function open(page, path, base = BASE) {
  await page.goto(base + path);
  await page.waitForSelector('body[data-ready="true"]');
}

/** Clicks the map at a coordinate (console pages); fails if a marker covers the point. */
export async function clickMap(page, lat, lon) {
  // Where the point is once the map stands still (a pan or zoom may still be animating, and
  // the click would land elsewhere).
  const pixel = () => page.evaluate(([la, lo]) => window.__console.pixelOf(la, lo), [lat, lon]);
  let at = await pixel();
  for (let i = 0; i < 30; i += 1) {
    await sleep(100);
    const again = await pixel();
    if (again.x === at.x && again.y === at.y) break;
    at = again;
  }
  // A click on a marker (a call's number or timer, a crew) selects it instead: say so
  // rather than wait for what a map click would have done.
  const on = await page.evaluate(({ x, y }) => {
    const el = document.elementFromPoint(x, y);
    const marker = el?.closest('.leaflet-marker-icon');
    return marker ? marker.className : null;
  }, at);
  if (on) throw new Error(`clickMap(${lat}, ${lon}): the point is on a marker (${on}), not on the map`);
  await page.mouse.click(at.x, at.y);
}

/** Runs a scenario; exits non-zero with the error on failure. */
export async function scenario(name, f) {
  const browser = await launch();
  try {
    await f(browser);
    console.log(`${name}: ok`);
  } catch (e) {
    console.error(`${name}: FAILED\n${e.stack ?? e}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

/**
 * A network link between the browser and the service that the test can cut: a TCP relay on
 * a port of its own (so pages opened through it are an origin of their own). Chromium's
 * offline emulation alone lets a request through now and then once a service worker
 * controls the page (playwright#2311), so `offline` also cuts the link, a real outage:
 * open connections are dropped and new ones refused until `online`.
 */
export async function link() {
  const target = new URL(BASE);
  const sockets = new Set();
  let cut = false;
  const server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    const pair = [client, upstream];
    for (const s of pair) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        for (const other of pair) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.unref();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    /** Cuts the link and tells the browser it is offline. */
    async offline(context) {
      cut = true;
      for (const s of sockets) s.destroy();
      await context.setOffline(true);
    },
    /** The link is back. */
    async online(context) {
      cut = false;
      await context.setOffline(false);
    },
  };
}
