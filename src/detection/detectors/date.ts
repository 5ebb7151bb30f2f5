/**
 * Dates and birth dates.
 *
 * `parseDateLike` reads ISO `yyyy-mm-dd` (also `yyyy/mm/dd`, `yyyy.mm.dd`),
 * `dd.mm.yyyy`, `dd/mm/yyyy`, `mm/dd/yyyy`, `dd-mm-yyyy`, each optionally
 * followed by a time (`T` or space, `hh:mm[:ss[.fff]]`, optional `Z` or
 * `±hh[:mm]`). Slash dates are read day-first unless that is impossible
 * (`12/31/1990`), or month-first when asked. Returns a UTC Date, or null for
 * impossible calendar dates (`2023-02-30`).
 *
 * The `birth_date` detector accepts real calendar dates between 1900-01-01 and
 * today, without a time of day (or at exactly midnight): a timestamp with a
 * time is an event, not a birth. The classifier decides DOB vs other dates by
 * column name and by `looksLikeBirthDates` over the sample.
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isWordChar, match, boundedTrim } from './util.js';

export interface ParsedDate {
  readonly date: Date;
  /** A time of day other than 00:00:00 was present. */
  readonly hasTime: boolean;
  /** Characters consumed. */
  readonly length: number;
}

const MAX_DATE_CHARS = 40;

function num(s: string, i: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) {
    const c = s.charCodeAt(i + k);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function validYmd(y: number, m: number, d: number): boolean {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const dim = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= dim;
}

/** Read a date (and optional time) at position i of s. */
export function readDateAt(s: string, i: number, monthFirst = false): ParsedDate | null {
  let y: number;
  let m: number;
  let d: number;
  let j: number;
  if (isDigit(at(s, i + 3)) && num(s, i, 4) >= 0) {
    // yyyy-mm-dd
    const sep = s.charCodeAt(i + 4);
    if (sep !== 45 && sep !== 47 && sep !== 46) return null;
    y = num(s, i, 4);
    const mLen = isDigit(at(s, i + 6)) ? 2 : 1;
    m = num(s, i + 5, mLen);
    if (s.charCodeAt(i + 5 + mLen) !== sep) return null;
    const dStart = i + 6 + mLen;
    const dLen = isDigit(at(s, dStart + 1)) ? 2 : 1;
    d = num(s, dStart, dLen);
    j = dStart + dLen;
  } else {
    // dd.mm.yyyy | dd/mm/yyyy | mm/dd/yyyy | dd-mm-yyyy (1 or 2 digit day/month)
    const aLen = isDigit(at(s, i + 1)) ? 2 : 1;
    const a = num(s, i, aLen);
    if (a < 0) return null;
    const sep = s.charCodeAt(i + aLen);
    if (sep !== 45 && sep !== 47 && sep !== 46) return null;
    const bStart = i + aLen + 1;
    const bLen = isDigit(at(s, bStart + 1)) ? 2 : 1;
    const b = num(s, bStart, bLen);
    if (b < 0 || s.charCodeAt(bStart + bLen) !== sep) return null;
    y = num(s, bStart + bLen + 1, 4);
    if (y < 0) return null;
    j = bStart + bLen + 5;
    const monthFirstHere = sep === 47 && a <= 12 && (monthFirst || b > 12);
    m = monthFirstHere ? a : b;
    d = monthFirstHere ? b : a;
  }
  if (m < 0 || d < 0 || !validYmd(y, m, d)) return null;
  if (isDigit(at(s, j))) return null;
  // optional time
  let hh = 0;
  let mi = 0;
  let ss = 0;
  let hasTime = false;
  const t = at(s, j);
  if ((t === 84 || t === 32) && isDigit(at(s, j + 1)) && isDigit(at(s, j + 2)) && at(s, j + 3) === 58) {
    hh = num(s, j + 1, 2);
    mi = num(s, j + 4, 2);
    if (mi < 0 || hh > 23 || mi > 59) return null;
    j += 6;
    if (at(s, j) === 58) {
      ss = num(s, j + 1, 2);
      if (ss < 0 || ss > 60) return null;
      j += 3;
      if (at(s, j) === 46 || at(s, j) === 44) {
        let k = j + 1;
        while (k < s.length && k - j <= 9 && isDigit(s.charCodeAt(k))) k++;
        if (k === j + 1) return null;
        j = k;
      }
    }
    const z = at(s, j);
    if (z === 90) j++;
    else if ((z === 43 || z === 45) && num(s, j + 1, 2) >= 0) {
      j += 3;
      if (at(s, j) === 58 && num(s, j + 1, 2) >= 0) j += 3;
      else if (num(s, j, 2) >= 0) j += 2;
    }
    hasTime = hh !== 0 || mi !== 0 || ss !== 0;
  }
  return { date: new Date(Date.UTC(y, m - 1, d, hh, mi, ss)), hasTime, length: j - i };
}

/** Whole value parsed as a date (see module doc), or null. */
export function parseDateLike(value: string, opts: { monthFirst?: boolean } = {}): Date | null {
  const p = parseDateDetailed(value, opts);
  return p === null ? null : p.date;
}

export function parseDateDetailed(value: string, opts: { monthFirst?: boolean } = {}): ParsedDate | null {
  const v = boundedTrim(value, 40) ?? '';
  if (v.length < 8 || v.length > MAX_DATE_CHARS) return null;
  const p = readDateAt(v, 0, opts.monthFirst ?? false);
  return p !== null && p.length === v.length ? p : null;
}

const MIN_BIRTH = Date.UTC(1900, 0, 1);

/** A calendar date between 1900-01-01 and today, with no time of day. */
export function isBirthDate(value: string, now: Date = new Date()): boolean {
  const p = parseDateDetailed(value);
  if (p === null || p.hasTime) return false;
  const t = p.date.getTime();
  return t >= MIN_BIRTH && t <= now.getTime();
}

const YEAR_MS = 365.2425 * 24 * 3600 * 1000;

/**
 * Does a sample of dates look like birth dates rather than event timestamps?
 * Ages 0–120 for ≥ 90 %; median age ≥ 10 years; spread over years (age
 * standard deviation ≥ 3 years); fewer than 30 % in the last 12 months; and
 * mostly without a time of day. Small samples (< 5) only get the range check.
 */
export function looksLikeBirthDates(dates: readonly Date[], now: Date = new Date()): boolean {
  const valid = dates.filter((d) => d instanceof Date && !Number.isNaN(d.getTime()));
  if (valid.length === 0) return false;
  const nowMs = now.getTime();
  const ages = valid.map((d) => (nowMs - d.getTime()) / YEAR_MS);
  const inRange = ages.filter((a) => a >= 0 && a <= 120).length;
  if (inRange / ages.length < 0.9) return false;
  const withTime = valid.filter((d) => d.getUTCHours() !== 0 || d.getUTCMinutes() !== 0 || d.getUTCSeconds() !== 0).length;
  if (withTime / valid.length > 0.5) return false;
  if (valid.length < 5) return true;
  const sorted = [...ages].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  if (median < 10) return false;
  const mean = ages.reduce((s, a) => s + a, 0) / ages.length;
  const sd = Math.sqrt(ages.reduce((s, a) => s + (a - mean) ** 2, 0) / ages.length);
  if (sd < 3) return false;
  const recent = ages.filter((a) => a >= 0 && a < 1).length;
  return recent / ages.length < 0.3;
}

const DOB_CUES = [
  'dob', 'd.o.b', 'born', 'birth', 'birthday', 'birthdate', 'geboren', 'geburtsdatum', 'geb.', 'né le', 'née le', 'naissance',
  'nacido', 'nacida', 'nacimiento', 'nato', 'nata', 'nascita', 'geboortedatum', 'geboren op',
];

const isDateRunChar = (c: number): boolean => isDigit(c) || c === 45 || c === 46 || c === 47;

/**
 * Birth dates in prose: a date preceded within 30 characters by a birth cue
 * (`born`, `DOB`, `geboren`, `né le`, `fecha de nacimiento`, `nato il`…).
 * Dates elsewhere in prose are not birth dates. Linear: each start reads a
 * bounded window.
 */
export function* scanBirthDates(text: string, now: Date = new Date()): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 8 <= n; i++) {
    if (!isDigit(text.charCodeAt(i))) continue;
    const prev = at(text, i - 1);
    const p = isWordChar(prev) || prev === 46 || prev === 45 || prev === 47 ? null : readDateAt(text, i);
    if (p === null) {
      // skip the rest of this run of digits and date separators
      while (i + 1 < n && isDateRunChar(text.charCodeAt(i + 1))) i++;
      continue;
    }
    const e = i + p.length;
    const t = p.date.getTime();
    if (!isWordChar(at(text, e)) && !p.hasTime && t >= MIN_BIRTH && t <= now.getTime()) {
      const before = text.slice(Math.max(0, i - 30), i).toLowerCase();
      if (DOB_CUES.some((c) => before.includes(c))) yield match('birth_date', 'identity.date_of_birth', i, e);
    }
    i = e - 1;
  }
}

export const birthDate: ValueDetector = {
  id: 'birth_date',
  category: 'identity.date_of_birth',
  test: (v) => isBirthDate(v),
  scan: (t) => scanBirthDates(t),
};
