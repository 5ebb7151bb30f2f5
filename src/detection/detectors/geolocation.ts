/**
 * Geolocation: "lat, long" pairs in one value ("48.8566, 2.3522",
 * "48.8566;2.3522", "48.8566 2.3522") with both coordinates in range and at
 * least 3 decimal places (≈ 100 m — precise enough to locate a home), or WKT
 * `POINT(lng lat)` (≥ 2 decimals; the geometry tag is itself a strong signal).
 * `isLatitude` / `isLongitude` check separate lat/lng columns.
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isSpace, isWordChar, match, boundedTrim } from './util.js';

interface Num {
  readonly value: number;
  readonly decimals: number;
  readonly end: number;
}

/** Signed decimal at i: `-?\d{1,3}(\.\d{1,15})?`. */
function readNum(s: string, i: number): Num | null {
  let j = i;
  if (s.charCodeAt(j) === 45 || s.charCodeAt(j) === 43) j++;
  const ip = j;
  while (j < s.length && j - ip <= 3 && isDigit(s.charCodeAt(j))) j++;
  if (j === ip || j - ip > 3) return null;
  let decimals = 0;
  if (s.charCodeAt(j) === 46) {
    j++;
    const fp = j;
    while (j < s.length && j - fp <= 15 && isDigit(s.charCodeAt(j))) j++;
    decimals = j - fp;
    if (decimals === 0 || decimals > 15) return null;
  }
  return { value: Number(s.slice(i, j)), decimals, end: j };
}

const MIN_DECIMALS = 3;

function wholeNum(value: string): Num | null {
  const v = boundedTrim(value, 24) ?? '';
  if (v.length === 0 || v.length > 24) return null;
  const n = readNum(v, 0);
  return n !== null && n.end === v.length ? n : null;
}

/** A latitude with ≥ 3 decimals in [-90, 90]. */
export function isLatitude(value: string | number): boolean {
  const n = wholeNum(String(value));
  return n !== null && n.decimals >= MIN_DECIMALS && Math.abs(n.value) <= 90;
}

/** A longitude with ≥ 3 decimals in [-180, 180]. */
export function isLongitude(value: string | number): boolean {
  const n = wholeNum(String(value));
  return n !== null && n.decimals >= MIN_DECIMALS && Math.abs(n.value) <= 180;
}

/** A "lat, lng" pair starting at i; returns end or -1. Separator: comma/semicolon with optional spaces, or spaces. */
function readPair(s: string, i: number, minDecimals: number, lngFirst: boolean): number {
  const a = readNum(s, i);
  if (a === null || a.decimals < minDecimals) return -1;
  let j = a.end;
  let sawSep = false;
  const k0 = j;
  while (j < s.length && j - k0 < 4) {
    const c = s.charCodeAt(j);
    if (c === 44 || c === 59) {
      if (sawSep) return -1;
      sawSep = true;
    } else if (!isSpace(c)) break;
    j++;
  }
  if (j === k0) return -1;
  const b = readNum(s, j);
  if (b === null || b.decimals < minDecimals) return -1;
  const [lat, lng] = lngFirst ? [b.value, a.value] : [a.value, b.value];
  if (Math.abs(lat) > 90 || Math.abs(lng) > 180) return -1;
  // both within 1° of (0, 0): fractions and ratios ("0.9565, 0.4355"), not a place people are
  if (Math.abs(lat) < 1 && Math.abs(lng) < 1) return -1;
  return b.end;
}

export function isGeoPair(value: string): boolean {
  const v = boundedTrim(value, 80) ?? '';
  if (v.length < 7 || v.length > 80) return false;
  const upper = v.slice(0, 6).toUpperCase();
  if (upper.startsWith('POINT')) {
    let j = 5;
    while (isSpace(at(v, j))) j++;
    if (v[j] !== '(' || v[v.length - 1] !== ')') return false;
    const inner = v.slice(j + 1, -1).trim();
    return readPair(inner, 0, 2, true) === inner.length;
  }
  return readPair(v, 0, MIN_DECIMALS, false) === v.length;
}

/** Pairs in prose, at a boundary; each start reads ≤ ~45 chars and the scan resumes after the first number. */
export function* scanGeo(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 9 <= n; i++) {
    const c = text.charCodeAt(i);
    if (!(isDigit(c) || c === 45)) continue;
    const p = at(text, i - 1);
    if (isWordChar(p) || p === 46 || p === 45) continue;
    const e = readPair(text, i, MIN_DECIMALS, false);
    if (e > 0 && !isWordChar(at(text, e)) && !(at(text, e) === 46 && isDigit(at(text, e + 1)))) {
      yield match('geolocation', 'location.geolocation', i, e);
      i = e - 1;
      continue;
    }
    // skip the rest of this number
    while (i + 1 < n && (isDigit(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 46)) i++;
  }
}

export const geolocation: ValueDetector = {
  id: 'geolocation',
  category: 'location.geolocation',
  test: isGeoPair,
  scan: scanGeo,
};
