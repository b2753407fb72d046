// Street names along the roads, drawn in the page from the roads the map already has (the
// `roadsload` event of the road layer): no tiles from elsewhere. Major roads are named from
// zoom 13, secondary from 14, tertiary from 15, every named street from 16 (footways,
// service roads from 17). Only what is in view is labelled, one label per street: the
// street's pieces are joined end to end, and its name goes along the straightest stretch in
// view long enough for it (SVG `textPath`, turned to read left to right). Labels that would
// overlap one already placed (major streets first) or a marker are left out. Drawn again
// after each move or zoom and when new roads arrive; hidden while a zoom animates.

import { L } from '../common.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The zoom from which a road class is named; links and unknown classes never are. */
export const LABEL_ZOOM = {
  motorway: 13,
  trunk: 13,
  primary: 13,
  secondary: 14,
  tertiary: 15,
  unclassified: 16,
  residential: 16,
  living_street: 16,
  road: 16,
  pedestrian: 17,
  busway: 17,
  service: 17,
};
/** Order of placement: major roads first. */
const RANK = {
  motorway: 0, trunk: 0, primary: 1, secondary: 2, tertiary: 3, unclassified: 4,
  residential: 4, living_street: 5, road: 5, pedestrian: 6, busway: 6, service: 7,
};

/** The font of a label by the road's rank (also in style.css, `.street-label`). */
const font = (rank) => (rank <= 2 ? '700 13px' : '600 12px');
const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif';

/** Room kept free at the ends of a label, px. */
const PAD = 14;
/** The most a label's path may turn, in all and at one point (radians). */
const MAX_TURN = 0.9;
const MAX_BEND = 0.45;
/** Collision grid cell, px. */
const CELL = 8;
/** What a label keeps clear of: markers, their labels, the crews' dots, the map's buttons. */
const OBSTACLES = '.leaflet-marker-pane > *, .leaflet-tooltip-pane > *, path.crew, .leaflet-control, #map-tools > button, #map-hint';

let measureCtx = null;
/** The width of `text` in px in a label's font. */
function textWidth(text, rank) {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  measureCtx.font = `${font(rank)} ${FONT_FAMILY}`;
  return measureCtx.measureText(text).width;
}

/**
 * Joins the pieces of one street (`[[x, y], ...]` each) end to end where they share an end
 * point (`key(p)` tells points apart); pieces met twice (both ways) count once.
 */
export function chains(lines, key = (p) => `${p[0]},${p[1]}`) {
  const seen = new Set();
  const uniq = [];
  for (const l of lines) {
    if (l.length < 2) continue;
    const [a, b] = [key(l[0]), key(l[l.length - 1])];
    const k = a < b ? `${a}|${b}|${l.length}` : `${b}|${a}|${l.length}`;
    if (seen.has(k)) continue;
    seen.add(k);
    uniq.push(l);
  }
  const ends = new Map();
  const add = (k, i) => {
    const list = ends.get(k);
    if (list) list.push(i);
    else ends.set(k, [i]);
  };
  uniq.forEach((l, i) => {
    add(key(l[0]), i);
    add(key(l[l.length - 1]), i);
  });
  const used = new Uint8Array(uniq.length);
  const grow = (chain) => {
    for (;;) {
      const k = key(chain[chain.length - 1]);
      const j = (ends.get(k) ?? []).find((x) => !used[x]);
      if (j === undefined) return chain;
      used[j] = 1;
      const l = uniq[j];
      const next = key(l[0]) === k ? l : [...l].reverse();
      for (let n = 1; n < next.length; n += 1) chain.push(next[n]);
    }
  };
  const out = [];
  for (let i = 0; i < uniq.length; i += 1) {
    if (used[i]) continue;
    used[i] = 1;
    const forward = grow([...uniq[i]]);
    out.push(grow(forward.reverse()));
  }
  return out;
}

/** Length of a polyline in px. */
export function lengthOf(pts) {
  let s = 0;
  for (let i = 1; i < pts.length; i += 1) s += Math.hypot(pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]);
  return s;
}

/** The piece of `pts` from `a` to `b` px along it (`cum`: lengths up to each point). */
function slice(pts, cum, a, b) {
  const at = (d) => {
    let i = 1;
    while (i < pts.length - 1 && cum[i] < d) i += 1;
    const seg = cum[i] - cum[i - 1] || 1;
    const f = Math.min(1, Math.max(0, (d - cum[i - 1]) / seg));
    return [i, [pts[i - 1][0] + f * (pts[i][0] - pts[i - 1][0]), pts[i - 1][1] + f * (pts[i][1] - pts[i - 1][1])]];
  };
  const [ia, pa] = at(a);
  const [ib, pb] = at(b);
  const out = [pa];
  for (let i = ia; i < ib; i += 1) out.push(pts[i]);
  out.push(pb);
  return out;
}

/** How much a polyline turns: in all and at its sharpest point (radians). */
export function turning(pts) {
  let total = 0;
  let sharpest = 0;
  let prev = null;
  for (let i = 1; i < pts.length; i += 1) {
    const dx = pts[i][0] - pts[i - 1][0];
    const dy = pts[i][1] - pts[i - 1][1];
    if (Math.hypot(dx, dy) < 0.5) continue;
    const a = Math.atan2(dy, dx);
    if (prev !== null) {
      let d = Math.abs(a - prev);
      if (d > Math.PI) d = 2 * Math.PI - d;
      total += d;
      sharpest = Math.max(sharpest, d);
    }
    prev = a;
  }
  return { total, sharpest };
}

/**
 * Where a label `width` px long goes along `pts` (screen px), inside the box `w`×`h` less
 * `margin`: a straight enough window of its stretch in view that `ok(piece)` accepts (room
 * left by other labels), tried from its middle outwards; the points turned to read left to
 * right. `null` when there is none.
 */
export function placeAlong(pts, width, w, h, ok = () => true, margin = 4) {
  const inside = (p) => p[0] >= margin && p[1] >= margin && p[0] <= w - margin && p[1] <= h - margin;
  const need = width + 2 * PAD;
  // Runs of consecutive points in view, longest first.
  const runs = [];
  let run = [];
  for (const p of pts) {
    if (inside(p)) run.push(p);
    else {
      if (run.length >= 2) runs.push(run);
      run = [];
    }
  }
  if (run.length >= 2) runs.push(run);
  const measured = runs.map((r) => ({ r, len: lengthOf(r) })).filter((x) => x.len >= need);
  measured.sort((x, y) => y.len - x.len);
  for (const { r, len } of measured.slice(0, 2)) {
    const cum = [0];
    for (let i = 1; i < r.length; i += 1) cum.push(cum[i - 1] + Math.hypot(r[i][0] - r[i - 1][0], r[i][1] - r[i - 1][1]));
    const mid = (len - need) / 2;
    const step = 20;
    for (let k = 0; k * step <= mid + step; k += 1) {
      for (const sign of k === 0 ? [1] : [-1, 1]) {
        const start = Math.min(len - need, Math.max(0, mid + sign * k * step));
        const piece = slice(r, cum, start + PAD / 2, start + need - PAD / 2);
        const { total, sharpest } = turning(piece);
        if (total > MAX_TURN || sharpest > MAX_BEND) continue;
        if (!ok(piece)) continue;
        const first = piece[0];
        const last = piece[piece.length - 1];
        return last[0] < first[0] ? piece.reverse() : piece;
      }
    }
  }
  return null;
}

/** The grid cells a label along `pts` covers (`half`: half its height, px). */
function cellsOf(pts, half) {
  const cells = new Set();
  const r = Math.ceil(half / CELL);
  for (let i = 1; i < pts.length; i += 1) {
    const [x0, y0] = pts[i - 1];
    const [x1, y1] = pts[i];
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / (CELL / 2)));
    for (let s = 0; s <= n; s += 1) {
      const cx = Math.floor((x0 + ((x1 - x0) * s) / n) / CELL);
      const cy = Math.floor((y0 + ((y1 - y0) * s) / n) / CELL);
      for (let dx = -r; dx <= r; dx += 1) for (let dy = -r; dy <= r; dy += 1) cells.add(`${cx + dx},${cy + dy}`);
    }
  }
  return cells;
}

/**
 * The street names of the map: an SVG in a pane of its own above the roads and routes,
 * under markers; clicks go through it. `labels` is what is drawn now (`[{name, cls}]`), `ms`
 * how long the last drawing took.
 */
export class StreetLabels {
  constructor(map) {
    this.map = map;
    this.features = [];
    this.labels = [];
    this.ms = 0;
    const pane = map.createPane('streetLabels');
    pane.style.zIndex = '450';
    pane.style.pointerEvents = 'none';
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.setAttribute('class', 'street-labels');
    this.svg.setAttribute('aria-hidden', 'true');
    pane.append(this.svg);
    this.frame = null;
    map.on('roadsload', (e) => {
      this.features = e.features;
      this.schedule();
    });
    map.on('zoomstart', () => {
      this.svg.style.visibility = 'hidden';
    });
    map.on('moveend resize', () => this.schedule());
  }

  schedule() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  draw() {
    const started = performance.now();
    const map = this.map;
    const zoom = Math.round(map.getZoom());
    const size = map.getSize();
    const origin = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(this.svg, origin);
    this.svg.setAttribute('width', size.x);
    this.svg.setAttribute('height', size.y);
    this.svg.setAttribute('viewBox', `0 0 ${size.x} ${size.y}`);
    const view = map.getBounds();
    const [w, s, e, n] = [view.getWest(), view.getSouth(), view.getEast(), view.getNorth()];

    // The named pieces in view, by name: [lon, lat] lines and the road's best rank.
    const streets = new Map();
    for (const f of this.features) {
      const name = f.properties?.name;
      const cls = f.properties?.class;
      if (!name || !(zoom >= (LABEL_ZOOM[cls] ?? Infinity))) continue;
      const coords = f.geometry.coordinates;
      let inView = false;
      for (const [lon, lat] of coords) {
        if (lon >= w && lon <= e && lat >= s && lat <= n) {
          inView = true;
          break;
        }
      }
      if (!inView) continue;
      let st = streets.get(name);
      if (!st) {
        st = { name, cls, rank: RANK[cls], lines: [] };
        streets.set(name, st);
      } else if (RANK[cls] < st.rank) {
        st.rank = RANK[cls];
        st.cls = cls;
      }
      st.lines.push(coords);
    }

    // Each street's pieces joined, in screen px; major streets, then longer ones, first.
    const candidates = [];
    for (const st of streets.values()) {
      const joined = chains(st.lines, (p) => `${p[0]},${p[1]}`).map((c) =>
        c.map(([lon, lat]) => {
          const p = map.latLngToContainerPoint([lat, lon]);
          return [p.x, p.y];
        }),
      );
      const measured = joined.map((c) => ({ c, len: lengthOf(c) })).sort((a, b) => b.len - a.len);
      candidates.push({ ...st, chains: measured.slice(0, 3), len: measured[0]?.len ?? 0 });
    }
    candidates.sort((a, b) => a.rank - b.rank || b.len - a.len);

    // Markers and their labels (calls, crews, hospitals, stations) keep their room.
    const taken = new Set();
    const box = map.getContainer().getBoundingClientRect();
    for (const el of map.getContainer().parentElement.querySelectorAll(OBSTACLES)) {
      const r = el.getBoundingClientRect();
      if (!r.width || r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) continue;
      const [x0, y0] = [Math.floor((r.left - box.left - 2) / CELL), Math.floor((r.top - box.top - 2) / CELL)];
      const [x1, y1] = [Math.floor((r.right - box.left + 2) / CELL), Math.floor((r.bottom - box.top + 2) / CELL)];
      for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) taken.add(`${x},${y}`);
    }
    const placed = [];
    for (const st of candidates) {
      const width = textWidth(st.name, st.rank);
      for (const { c, len } of st.chains) {
        if (len < width + 2 * PAD) break;
        const half = st.rank <= 2 ? 9 : 8;
        const free = (piece) => {
          for (const k of cellsOf(piece, half)) if (taken.has(k)) return false;
          return true;
        };
        const pts = placeAlong(c, width, size.x, size.y, free);
        if (!pts) continue;
        for (const k of cellsOf(pts, half)) taken.add(k);
        placed.push({ ...st, pts });
        break;
      }
    }

    const defs = document.createElementNS(SVG, 'defs');
    const texts = placed.map((p, i) => {
      const id = `street-path-${i}`;
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('id', id);
      path.setAttribute('d', `M${p.pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L')}`);
      defs.append(path);
      const text = document.createElementNS(SVG, 'text');
      text.setAttribute('class', `street-label rank-${p.rank <= 2 ? 'major' : 'minor'} road-${p.cls}`);
      const along = document.createElementNS(SVG, 'textPath');
      along.setAttribute('href', `#${id}`);
      along.setAttribute('startOffset', '50%');
      along.setAttribute('text-anchor', 'middle');
      along.textContent = p.name;
      text.append(along);
      return text;
    });
    this.svg.replaceChildren(defs, ...texts);
    this.svg.style.visibility = '';
    this.labels = placed.map((p) => ({ name: p.name, cls: p.cls }));
    this.ms = performance.now() - started;
    map.getContainer().dataset.streetLabels = String(placed.length);
  }
}
