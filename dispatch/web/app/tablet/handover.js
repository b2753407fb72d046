// The tablet's handover form: what the crew filled in, as a handover for the outbox.

import { $, S } from './state.js';
import { enqueue } from './outbox.js';

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === '' ? null : Number(v);
}

export function submitHandover() {
  const a = S.assignment;
  if (!a) return;
  $('handover-error').hidden = true;
  const patient = {};
  if ($('h-name').value.trim()) patient.name = $('h-name').value.trim();
  if ($('h-birth').value) patient.birth_date = $('h-birth').value;
  if ($('h-sex').value) patient.sex = $('h-sex').value;
  const vitals = {};
  for (const [id, field] of [
    ['h-hr', 'heart_rate'],
    ['h-sys', 'systolic_bp'],
    ['h-dia', 'diastolic_bp'],
    ['h-spo2', 'spo2'],
    ['h-rr', 'respiratory_rate'],
    ['h-temp', 'temperature_c'],
    ['h-gcs', 'gcs'],
  ]) {
    const v = numberOrNull(id);
    if (v !== null) vitals[field] = v;
  }
  const body = { patient, hospital: $('h-hospital').value.trim(), vitals };
  const icd = $('h-icd').value.trim().toUpperCase();
  if (icd) body.diagnosis_icd10 = icd;
  const notes = $('h-notes').value.trim();
  if (notes) body.notes = notes;
  S.handoverDone.add(a.call.id);
  enqueue({ kind: 'handover', call_id: a.call.id, body });
}
