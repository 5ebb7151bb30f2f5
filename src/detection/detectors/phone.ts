/**
 * Phone numbers via libphonenumber-js with its `min` metadata (~60k parses/s,
 * the same as `max` in our measurement; `min` validates each country's
 * national number pattern and lengths, `max` also the per-type ranges, which
 * rejects many plausible numbers for unallocated blocks — the shape rules
 * below carry the precision instead).
 *
 * test(): international numbers (`+…` or `00…`) that are valid; national-format
 * numbers only when valid for one of `phoneOptions.regions` AND written like a
 * phone (separators, parentheses or a leading trunk 0), AND dialled with the
 * region's trunk prefix when it has one ("555-0199" is a local subscriber
 * number without area code in DE, not a full number). Dates, IPs, decimals,
 * SSN shapes and bare digit runs (order ids, timestamps) are rejected before
 * any parsing. An extension (`x123`, `ext. 123`, `#123`) is allowed at the end.
 *
 * scan(): a hand-written linear scanner (libphonenumber's findNumbers takes
 * ~4.5 s on a 1 MB `'+1 '` run): maximal runs of phone characters, split into
 * segments at double spaces, slashes and ` +`; each segment ≤ 32 chars is
 * checked with test(); a longer segment only on its longest prefix and suffix.
 */
import { Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import type { Match, ValueDetector } from '../types.js';
import { parseDateLike, readDateAt } from './date.js';
import { isIpv4 } from './ip.js';
import { at, isDigit, isWordChar, match, boundedTrim } from './util.js';

export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'CA', 'AU'];

/** Mutable options for the built-in phone detector. */
export const phoneOptions: { regions: readonly CountryCode[] } = { regions: DEFAULT_PHONE_REGIONS };

const MAX_PHONE_CHARS = 32;

const trunkCache = new Map<string, string>();
function nationalPrefix(region: CountryCode): string {
  let p = trunkCache.get(region);
  if (p === undefined) {
    const m = new Metadata();
    m.selectNumberingPlan(region);
    const plan = m.numberingPlan as unknown as { nationalPrefix(): string | undefined } | undefined;
    p = plan?.nationalPrefix() ?? '';
    trunkCache.set(region, p);
  }
  return p;
}

const isPhoneChar = (c: number): boolean =>
  isDigit(c) || c === 32 || c === 43 || c === 40 || c === 41 || c === 45 || c === 46 || c === 47;

interface Shape {
  digits: string;
  formatted: boolean;
  plus: boolean;
}

/** Cheap structural screen shared by test() and scan(); null = not a phone. */
function shape(v: string): Shape | null {
  const len = v.length;
  if (len < 7 || len > MAX_PHONE_CHARS) return null;
  let digits = '';
  let plus = false;
  let open = 0;
  let parens = 0;
  let seps = 0;
  let dots = 0;
  let prevSep = false;
  const groups: number[] = [];
  let g = 0;
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i);
    if (isDigit(c)) {
      digits += v[i];
      g++;
      prevSep = false;
      continue;
    }
    if (g > 0) groups.push(g);
    g = 0;
    if (c === 43) {
      if (i !== 0) return null;
      plus = true;
    } else if (c === 40) {
      if (open || parens) return null;
      open = 1;
      parens++;
    } else if (c === 41) {
      if (!open) return null;
      open = 0;
    } else if (c === 32 || c === 45 || c === 46 || c === 47) {
      if (prevSep && c !== 32) return null; // "--", "..", but "- " etc. allowed once
      seps++;
      if (c === 46) dots++;
      prevSep = true;
      continue;
    } else return null;
    prevSep = false;
  }
  if (g > 0) groups.push(g);
  if (open) return null;
  // the last group of a phone number has at least 2 digits (rules out IMEIs, SKUs "12-345678-9")
  if (groups.length > 1 && groups[groups.length - 1]! < 2) return null;
  // US ZIP+4 "12345-6789"
  if (len === 10 && v[5] === '-' && groups.length === 2) return null;
  if (!isDigit(v.charCodeAt(len - 1)) && v.charCodeAt(len - 1) !== 41) return null;
  if (digits.length < 7 || digits.length > 15) return null;
  // decimals and version-like dotted numbers
  if (dots > 0 && groups.length < 3) return null;
  // US SSN shape 3-2-4 with dashes
  if (len === 11 && v[3] === '-' && v[6] === '-' && groups.length === 3) return null;
  // bare digit runs count only when written with a trunk 0 and 10–12 digits (not "08915534" account numbers)
  const bareTrunk = seps === 0 && parens === 0 && digits[0] === '0' && digits.length >= 10 && digits.length <= 12;
  let formatted = seps > 0 || parens > 0 || bareTrunk;
  // national numbers are grouped area/exchange first: a non-final group of 6+ digits ("612712-2400")
  // is an id — except a trunk 0 plus a 5-digit area code ("016977 9751")
  if (!plus && groups.length > 1) {
    for (let k = 0; k < groups.length - 1; k++) {
      const limit = k === 0 && digits[0] === '0' && (v[groups[0]!] === ' ' || v[0] === '(') ? 6 : 5;
      if (groups[k]! > limit) formatted = false;
    }
  }
  return { digits, plus, formatted };
}

function validInternational(v: string): boolean {
  const text = v.startsWith('00') ? '+' + v.slice(2) : v;
  const p = parsePhoneNumberFromString(text);
  return p !== undefined && p.isValid();
}

const cache = new Map<string, boolean>();

function checkPhone(v: string, regions: readonly CountryCode[]): boolean {
  if (v.length < 7 || v.length > MAX_PHONE_CHARS) return false;
  const key = regions === DEFAULT_PHONE_REGIONS ? v : `${regions.join(',')}|${v}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let ok = false;
  const s = shape(v);
  // dates, and text that starts with a date ("2023-01-05 12" cut from a timestamp)
  if (s === null || isIpv4(v) || parseDateLike(v) !== null || readDateAt(v, 0) !== null) {
    remember(key, false);
    return false;
  }
  if (s.plus || (s.digits.startsWith('00') && s.digits[2] !== '0')) ok = validInternational(v);
  else if (s.formatted && s.digits.length >= 8) {
    for (const region of regions) {
      const np = nationalPrefix(region);
      if (np === '0' && s.digits[0] !== '0') continue;
      const p = parsePhoneNumberFromString(v, region);
      if (p !== undefined && p.isValid()) {
        ok = true;
        break;
      }
    }
  }
  remember(key, ok);
  return ok;
}

function remember(key: string, ok: boolean): void {
  if (cache.size >= 4096) cache.clear();
  cache.set(key, ok);
}

/** Length of a trailing extension (" x123", " ext. 123", " ext 123", " #123"), or 0. */
function extensionLength(v: string): number {
  let i = v.length;
  while (i > 0 && isDigit(v.charCodeAt(i - 1))) i--;
  const digits = v.length - i;
  if (digits < 1 || digits > 6) return 0;
  let j = i;
  while (j > 0 && v.charCodeAt(j - 1) === 32) j--;
  const lower = v.slice(Math.max(0, j - 10), j).toLowerCase();
  for (const mark of [' extension', ' ext.', ' ext', ' x', ' #', ' x.']) {
    if (lower.endsWith(mark)) return v.length - (j - mark.length);
  }
  return 0;
}

/** Whole value is a phone number (see module doc). */
export function isPhoneNumber(value: string, regions: readonly CountryCode[] = phoneOptions.regions): boolean {
  const v = boundedTrim(value, MAX_PHONE_CHARS + 16) ?? '';
  const ext = extensionLength(v);
  return checkPhone(ext > 0 ? v.slice(0, v.length - ext) : v, regions);
}

/** Trim a segment [s, e) to start at +/(/digit and end at a digit or a closing parenthesis. */
function trimSegment(text: string, s: number, e: number): [number, number] {
  while (s < e) {
    const c = text.charCodeAt(s);
    if (isDigit(c) || c === 43 || c === 40) break;
    s++;
  }
  while (e > s) {
    const c = text.charCodeAt(e - 1);
    if (isDigit(c) || c === 41) break;
    e--;
  }
  // an unmatched ")" at the end (e.g. "(call 020 7946 0958)") is punctuation
  if (e > s && text.charCodeAt(e - 1) === 41) {
    let opened = false;
    for (let k = s; k < e - 1 && !opened; k++) opened = text.charCodeAt(k) === 40;
    if (!opened) e--;
  }
  return [s, e];
}

const MAX_WINDOWS = 3;

function digitCount(text: string, s: number, e: number): number {
  let d = 0;
  for (let k = s; k < e; k++) if (isDigit(text.charCodeAt(k))) d++;
  return d;
}

function* checkSegment(text: string, s0: number, e0: number, regions: readonly CountryCode[]): Generator<Match> {
  const [s, e] = trimSegment(text, s0, e0);
  if (e - s < 7) return;
  if (isWordChar(at(text, s - 1)) || isWordChar(at(text, e))) return;
  // part of a time or a host:port ("… 12:30:45", "10.0.0.1:5432")
  if ((at(text, e) === 58 && isDigit(at(text, e + 1))) || (at(text, s - 1) === 58 && isDigit(at(text, s - 2)))) return;
  if (e - s <= MAX_PHONE_CHARS && digitCount(text, s, e) <= 15) {
    if (checkPhone(text.slice(s, e), regions)) yield match('phone', 'contact.phone', s, e);
    return;
  }
  // Over-long segment ("ticket 12345 020 7946 0958"): a few windows cut at spaces —
  // prefixes ending at the first spaces after 7 chars, suffixes starting at the last
  // spaces before the final 7 chars. Bounded work per segment.
  let tried = 0;
  for (let k = Math.min(e - 1, s + MAX_PHONE_CHARS); k > s + 6 && tried < MAX_WINDOWS; k--) {
    if (text.charCodeAt(k) !== 32) continue;
    tried++;
    const [a, b] = trimSegment(text, s, k);
    if (b - a >= 7 && checkPhone(text.slice(a, b), regions)) {
      yield match('phone', 'contact.phone', a, b);
      return;
    }
  }
  tried = 0;
  for (let k = Math.max(s, e - MAX_PHONE_CHARS - 1); k < e - 7 && tried < MAX_WINDOWS; k++) {
    if (text.charCodeAt(k) !== 32) continue;
    tried++;
    const [a, b] = trimSegment(text, k + 1, e);
    if (b - a >= 7 && checkPhone(text.slice(a, b), regions)) {
      yield match('phone', 'contact.phone', a, b);
      return;
    }
  }
}

export function* scanPhones(text: string, regions: readonly CountryCode[] = phoneOptions.regions): Generator<Match> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isPhoneChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // one run of phone characters, cut into segments
    let segStart = i;
    while (i < n && isPhoneChar(text.charCodeAt(i))) {
      const c = text.charCodeAt(i);
      const next = at(text, i + 1);
      const cut = c === 47 || (c === 32 && (next === 32 || next === 43));
      if (cut) {
        yield* checkSegment(text, segStart, i, regions);
        segStart = i + 1;
      }
      i++;
    }
    yield* checkSegment(text, segStart, i, regions);
  }
}

export const phone: ValueDetector = {
  id: 'phone',
  category: 'contact.phone',
  test: (v) => isPhoneNumber(v),
  scan: (t) => scanPhones(t),
};
