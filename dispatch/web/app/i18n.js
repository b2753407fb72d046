// The pages' language: the message catalogue of the current language (./i18n/en.js,
// ./i18n/ru.js), `t(key, params)`, the names of statuses, priorities and crew types, the
// service's errors in words, and the formats of times (24-hour, local), distances (m, km)
// and durations (minutes).
//
// The language is the one chosen with the RU | EN switch (kept in localStorage), else the
// browser's: Russian when `navigator.languages` starts with a Russian one, else English.
// Static text of the HTML carries `data-i18n` (text), `data-i18n-placeholder`,
// `data-i18n-title` and `data-i18n-aria-label` attributes, filled by `applyStatic()`.

import en from './i18n/en.js';
import ru from './i18n/ru.js';

export const CATALOGUES = { en, ru };
const LANG_KEY = 'dispatch-lang';
/** The locale of each language for `Intl` formats. */
const LOCALES = { en: 'en-GB', ru: 'ru-RU' };

/** The language the browser asks for: `ru` for any Russian first choice, else `en`. */
export function browserLang() {
  const first = (navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en'])[0] ?? 'en';
  return String(first).toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

function chosenLang() {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored && CATALOGUES[stored]) return stored;
  } catch {
    // No storage: the browser's language.
  }
  return browserLang();
}

/** The current language: `ru` or `en`. */
export const lang = chosenLang();
export const locale = LOCALES[lang];
const catalogue = CATALOGUES[lang];
const plurals = new Intl.PluralRules(locale);

/** Switches the language, remembers it and reloads the page (the token stays in this tab). */
export function setLang(next) {
  if (!CATALOGUES[next] || next === lang) return;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    return;
  }
  location.reload();
}

/** Whether the catalogue has `key`. */
export const has = (key) => Object.prototype.hasOwnProperty.call(catalogue, key);

/**
 * The message `key` with `{name}` parameters filled; a message with plural forms is chosen
 * by `params.count`. A key missing from this language falls back to English, then to the key.
 */
export function t(key, params = {}) {
  let v = has(key) ? catalogue[key] : en[key];
  if (v === undefined) {
    console.warn(`i18n: no message ${key}`);
    return key;
  }
  if (typeof v === 'object') v = v[plurals.select(Number(params.count))] ?? v.other;
  return v.replace(/\{([\w.]+)\}/g, (whole, name) => {
    const p = params[name];
    return p === undefined || p === null ? whole : String(p);
  });
}

const named = (prefix) => (value) => {
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value ?? '').replaceAll('_', ' ');
};
/** A crew status in words: `en_route` → `в пути`. */
export const crewStatusName = named('crew_status');
/** A call status in words. */
export const callStatusName = named('call_status');
/** A priority in words. */
export const priorityName = named('priority');
/** A crew type in words. */
export const crewTypeName = named('crew_type');
/** A role in words. */
export const roleName = named('role');
/** A reason a call was handed back, in words. */
export const handBackName = named('handback');

/** The name of a field the service named in an error (`vitals.heart_rate`). */
export function fieldName(field) {
  return has(`field.${field}`) ? t(`field.${field}`) : String(field);
}

/**
 * An error in the page's language: an `ApiError` by its code (and field); a conflict by
 * `ctx.conflict`, the action that was refused (`crew_remove`...). Only an unknown code shows
 * the service's own (English) message.
 */
export function errorText(e, ctx = {}) {
  if (e === null || e === undefined) return t('err.internal');
  if (e.offline) return t('err.offline');
  const code = e.code;
  if (code === 'conflict' && ctx.conflict && has(`err.conflict.${ctx.conflict}`)) {
    return t(`err.conflict.${ctx.conflict}`);
  }
  if (typeof code === 'string' && has(`err.${code}`)) {
    if (e.field && has(`err.${code}.field`)) return t(`err.${code}.field`, { field: fieldName(e.field) });
    return t(`err.${code}`);
  }
  // No JSON error from the service (a proxy in between): by the HTTP status.
  if (code === 'http' && e.status >= 500) return t(e.status === 504 ? 'err.timeout' : 'err.unavailable');
  if (code === 'http' && e.status === 404) return t('err.not_found');
  return e.message ?? String(e);
}

/** Why the service closed a socket (1008, 1009, 1013), in words; `null` for a plain close. */
export function closeText(code) {
  return has(`conn.closed.${code}`) ? t(`conn.closed.${code}`) : null;
}

// ---------------------------------------------------------------- formats

const decimal1 = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
const timeFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const hmFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const pad2 = (n) => String(n).padStart(2, '0');
const missing = (x) => x === null || x === undefined || !Number.isFinite(x);

/** A duration in seconds as `45 s`, `4 min 05 s` or `1 h 02 min` (`45 с`, `4 мин 05 с`). */
export function fmtDuration(s) {
  if (missing(s)) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 60) return t('unit.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('unit.min_s', { m, s: pad2(s % 60) });
  return t('unit.h_min', { h: Math.floor(m / 60), m: pad2(m % 60) });
}

/** A duration in seconds in whole minutes, for large figures: `< 1 min`, `4 min`. */
export function fmtMinutes(s) {
  if (missing(s)) return '–';
  return s < 60 ? t('unit.under_min') : t('unit.min', { n: Math.round(s / 60) });
}

/** A duration in seconds as whole minutes in words: `1 минута`, `5 минут`. */
export function fmtMinutesLong(s) {
  if (missing(s)) return '–';
  return s < 60 ? t('unit.under_min') : t('minutes', { count: Math.round(s / 60) });
}

/** Metres as `850 m` or `2.3 km` (`2,3 км`). */
export function fmtDistance(m) {
  if (missing(m)) return '–';
  return m < 1000 ? t('unit.m', { n: Math.round(m) }) : t('unit.km', { n: decimal1.format(m / 1000) });
}

/** A time of day from Unix milliseconds, 24-hour local, with seconds: `18:30:05`. */
export function fmtTime(ms) {
  return ms ? timeFmt.format(new Date(ms)) : '–';
}

/** A time of day from Unix milliseconds, 24-hour local: `18:30`. */
export function fmtHm(ms) {
  if (missing(ms)) return '–';
  return hmFmt.format(new Date(ms));
}

/** Unix milliseconds as `18:30` when today (local time), else `2025-05-01 18:30`. */
export function fmtDayTime(ms) {
  if (missing(ms)) return '–';
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return d.toDateString() === new Date().toDateString() ? fmtHm(ms) : `${day} ${fmtHm(ms)}`;
}

/** A number with one decimal in the page's language (`2,3`). */
export const fmtDecimal = (x) => decimal1.format(x);

// ---------------------------------------------------------------- the page

/** Fills the `data-i18n*` attributes under `root` from the catalogue. */
export function applyStatic(root = document) {
  if (root === document) document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const [attr, data] of [
    ['placeholder', 'i18nPlaceholder'],
    ['title', 'i18nTitle'],
    ['aria-label', 'i18nAriaLabel'],
  ]) {
    const sel = `[data-i18n-${attr}]`;
    for (const el of root.querySelectorAll(sel)) el.setAttribute(attr, t(el.dataset[data]));
  }
}

/** The RU | EN switch: the current language pressed; the other reloads the page in it. */
export function langSwitch() {
  const box = document.createElement('span');
  box.className = 'lang-switch';
  box.id = 'lang-switch';
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', t('lang.switch'));
  for (const l of Object.keys(CATALOGUES).sort().reverse()) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.lang = l;
    b.lang = l;
    b.textContent = t(`lang.${l}`);
    b.title = t(`lang.${l}.title`);
    b.setAttribute('aria-pressed', String(l === lang));
    if (l === lang) b.className = 'on';
    b.addEventListener('click', () => setLang(l));
    box.append(b);
  }
  return box;
}

/** Fills the page's static text and puts the language switch before `#sign-out`. */
export function startPage() {
  applyStatic();
  const out = document.getElementById('sign-out');
  if (out && !document.getElementById('lang-switch')) out.before(langSwitch());
  document.body.dataset.lang = lang;
}
