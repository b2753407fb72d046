// A call's address in words, for the tablet and the console: its structured `place` (street,
// house, корпус, строение, подъезд, этаж, кв.) in the page's language, else its free-text
// `address`, else its coordinates. Pure: give it the call (and, in tests, a `t`).

import { t as pageT } from './i18n.js';

/** The parts of a place in reading order after the street and house. */
const EXTRA = ['block', 'building', 'entrance', 'floor', 'apartment'];

const text = (v) => (typeof v === 'string' ? v.trim() : '');

/**
 * A place (`{street, housenumber, block, building, entrance, floor, apartment, city, name}`,
 * every part optional) in words: `ул. Гончарова, д. 4, стр. 3, подъезд 2, этаж 5, кв. 17`
 * (`Bergheimer Straße 12, entrance 2` in English). `''` when it has no part.
 */
export function formatPlace(place, t = pageT) {
  if (!place || typeof place !== 'object') return '';
  const street = text(place.street);
  const house = text(place.housenumber);
  const parts = [];
  const name = text(place.name);
  if (name && name !== street) parts.push(name);
  if (street && house) parts.push(t('place.street_house', { street, house }));
  else if (street) parts.push(street);
  else if (house) parts.push(t('place.house', { house }));
  for (const k of EXTRA) {
    const v = text(place[k]);
    if (v) parts.push(t(`place.${k}`, { v }));
  }
  const city = text(place.city);
  if (city && parts.length) parts.push(city);
  return parts.join(', ');
}

/**
 * A call's address: its `place` in words, else its `address`, else `lat, lon` (5 decimals).
 */
export function formatAddress(call, t = pageT) {
  if (!call) return '';
  const fromPlace = formatPlace(call.place, t);
  if (fromPlace) return fromPlace;
  const free = text(call.address);
  if (free) return free;
  if (typeof call.lat === 'number' && typeof call.lon === 'number') {
    return `${call.lat.toFixed(5)}, ${call.lon.toFixed(5)}`;
  }
  return '';
}
