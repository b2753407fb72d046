// The tablet's outbox: status steps and handovers, kept in localStorage and sent in order,
// oldest first, so they survive a dropped connection (and a reload); what the service
// refused.

import { toast } from '../common.js';
import { t, has, errorText, crewStatusName } from '../i18n.js';
import { $, S, FREE, save, shownStatus, setConn, render } from './state.js';
import { clearAssignment } from './route.js';

export function enqueue(item) {
  // Acting again acknowledges the notice of a call taken off the crew.
  if (item.kind === 'status') S.released = null;
  S.outbox.push(item);
  save();
  render();
  flush();
}

/** Sends what waits, oldest first; stops at the first that cannot be sent. */
export async function flush() {
  if (S.flushing) return;
  S.flushing = true;
  clearTimeout(S.retryTimer);
  try {
    while (S.outbox.length) {
      const item = S.outbox[0];
      try {
        if (item.kind === 'status') {
          S.crew = await S.api.post(`/api/crews/${encodeURIComponent(S.crewId)}/status`, { status: item.status });
        } else {
          await S.api.post(`/api/calls/${item.call_id}/handover`, item.body);
          S.handoverDone.add(item.call_id);
          toast(t('th.recorded'), 'ok');
        }
        S.online = true;
      } catch (e) {
        if (e.offline || e.status >= 500) {
          S.online = !e.offline;
          S.retryTimer = setTimeout(flush, 2000);
          return;
        }
        if (!(await refused(item, e))) {
          S.retryTimer = setTimeout(flush, 2000);
          return;
        }
      }
      S.outbox.shift();
      save();
      render();
    }
    if (FREE.has(shownStatus())) clearAssignment();
  } finally {
    S.flushing = false;
    setConn();
    render();
  }
}

/**
 * The service refused `item`. A status it already has (the answer to an earlier try was
 * lost) counts as sent; anything else is reported. `false`: unknown yet, try again later.
 */
async function refused(item, e) {
  if (item.kind === 'status') {
    let crew;
    try {
      crew = await S.api.get(`/api/crews/${encodeURIComponent(S.crewId)}`);
    } catch (again) {
      if (again.offline) return false;
      crew = null;
    }
    if (crew) S.crew = crew;
    if (crew?.status !== item.status) {
      const status = has(`step.${item.status}`) ? t(`step.${item.status}`) : crewStatusName(item.status);
      toast(t('tablet.not_accepted', { status, message: errorText(e, { conflict: 'status' }) }), 'error');
    }
    return true;
  }
  $('handover-error').textContent = errorText(e, { conflict: 'handover' });
  $('handover-error').hidden = false;
  S.handoverDone.delete(item.call_id);
  return true;
}
