// The alert for an emergency that waits: a call seen queued with priority `emergency` that
// was not so when the console last looked (a new call no crew could take, a handed-back
// one, one re-triaged to emergency while waiting) sounds two short beeps (Web Audio, no
// sound file) and shows a notice. Calls already waiting when the console starts do not
// sound. The header's switch mutes the sound; the choice is kept in localStorage.

import { toast } from '../common.js';
import { t } from '../i18n.js';
import { $, state, OPEN } from './state.js';

const MUTE_KEY = 'dispatch-alerts-muted';

export const alerts = {
  /** Alerts sounded. */
  sounded: 0,
  /** Alerts not sounded because the sound was off. */
  silenced: 0,
  muted: readMuted(),
  /** The calls waiting as emergencies when the console last looked (`null`: not started). */
  known: null,
};

function readMuted() {
  try {
    return localStorage.getItem(MUTE_KEY) === 'true';
  } catch {
    return false;
  }
}

let audio = null;

/** The audio context, made (or woken) on a click or key press: browsers start it then only. */
function unlock() {
  try {
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

/** Two short high beeps. */
function beep() {
  unlock();
  if (!audio) return;
  const start = audio.currentTime + 0.02;
  for (const [at, freq] of [[0, 880], [0.22, 1175]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(0.25, start + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + at);
    osc.stop(start + at + 0.2);
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** A speaker, with sound waves or crossed out. */
function speaker(muted) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  const parts = [['M1.5 5.5h3l4-3.5v12l-4-3.5h-3z', 'currentColor', 'none']];
  if (muted) parts.push(['M10.5 5.5l4.5 5M15 5.5l-4.5 5', 'none', 'currentColor']);
  else parts.push(['M10.5 5.5a3.5 3.5 0 0 1 0 5M12.5 3.5a6.5 6.5 0 0 1 0 9', 'none', 'currentColor']);
  for (const [d, fill, stroke] of parts) {
    const p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', d);
    p.setAttribute('fill', fill);
    p.setAttribute('stroke', stroke);
    p.setAttribute('stroke-width', '1.6');
    p.setAttribute('stroke-linecap', 'round');
    svg.append(p);
  }
  return svg;
}

/** The switch shows the state: a speaker and its words (only the speaker on a phone). */
function showMute() {
  const b = $('alert-mute');
  const words = t(alerts.muted ? 'alert.muted' : 'alert.sound');
  const text = document.createElement('span');
  text.className = 'alert-words';
  text.textContent = words;
  b.replaceChildren(speaker(alerts.muted), text);
  b.setAttribute('aria-label', words);
  b.setAttribute('aria-pressed', String(alerts.muted));
  b.classList.toggle('muted', alerts.muted);
}

export function setMuted(muted) {
  alerts.muted = muted;
  try {
    localStorage.setItem(MUTE_KEY, String(muted));
  } catch {
    // No storage: muted for this page only.
  }
  showMute();
}

export function wireAlerts() {
  const b = $('alert-mute');
  b.hidden = false;
  showMute();
  b.addEventListener('click', () => setMuted(!alerts.muted));
  for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, unlock, { once: true, capture: true });
}

const waitingEmergencies = () =>
  new Set([...state.calls.values()].filter((c) => OPEN(c) && c.status === 'queued' && c.priority === 'emergency').map((c) => c.id));

/** The calls waiting now are known: they do not sound (at start). */
export function primeAlerts() {
  alerts.known = waitingEmergencies();
}

/** After each change of the state: sounds for each emergency newly waiting. */
export function checkAlerts() {
  if (!alerts.known) return;
  const now = waitingEmergencies();
  const fresh = [...now].filter((id) => !alerts.known.has(id));
  alerts.known = now;
  if (!fresh.length) return;
  for (const id of fresh) toast(t('alert.waiting', { id }), 'error');
  if (alerts.muted) {
    alerts.silenced += 1;
    return;
  }
  alerts.sounded += 1;
  beep();
}
