/**
 * US Social Security numbers: AAA-GG-SSSS, area not 000, 666 or 900–999,
 * group not 00, serial not 0000, and not one of the numbers printed in
 * advertising and samples. test() accepts the dashed form and 9 bare digits
 * (bare digits need column-name support: use `isDashedSsn` to require dashes);
 * scan() finds only the dashed form (bare 9-digit runs in prose are noise).
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isWordChar, match, boundedTrim } from './util.js';

const ADVERTISING = new Set(['078051120', '219099999', '123456789', '457555462']);

/** Nine digits satisfy the SSA's assignment rules. */
export function isValidSsnDigits(d: string): boolean {
  if (d.length !== 9) return false;
  for (let i = 0; i < 9; i++) if (!isDigit(d.charCodeAt(i))) return false;
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  return !ADVERTISING.has(d);
}

/** `AAA-GG-SSSS` with valid ranges. */
export function isDashedSsn(value: string): boolean {
  const v = boundedTrim(value, 11) ?? '';
  if (v.length !== 11 || v[3] !== '-' || v[6] !== '-') return false;
  return isValidSsnDigits(v.slice(0, 3) + v.slice(4, 6) + v.slice(7));
}

/**
 * Whole value is an SSN. With `strict` (default false) only the dashed form
 * counts; otherwise 9 bare digits are accepted too (also `AAA GG SSSS`).
 */
export function isSsn(value: string, strict = false): boolean {
  const v = boundedTrim(value, 11) ?? '';
  if (v.length === 9) return !strict && isValidSsnDigits(v);
  if (v.length === 11 && v[3] === ' ' && v[6] === ' ') return !strict && isValidSsnDigits(v.slice(0, 3) + v.slice(4, 6) + v.slice(7));
  return isDashedSsn(v);
}

/** Set to true to make the built-in detector's test() accept only dashed SSNs. */
export const ssnOptions = { strict: false };

export function* scanSsns(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 11 <= n; i++) {
    if (!isDigit(text.charCodeAt(i)) || text.charCodeAt(i + 3) !== 45 || text.charCodeAt(i + 6) !== 45) continue;
    if (!isDigit(text.charCodeAt(i + 5)) || !isDigit(text.charCodeAt(i + 10))) continue;
    if (isWordChar(at(text, i - 1)) || isWordChar(at(text, i + 11))) continue;
    // reject longer dash chains (phone-like 123-45-6789-01)
    if (at(text, i + 11) === 45 && isDigit(at(text, i + 12))) continue;
    if (at(text, i - 1) === 45 && isDigit(at(text, i - 2))) continue;
    if (isDashedSsn(text.slice(i, i + 11))) {
      yield match('ssn', 'identity.government_id', i, i + 11);
      i += 10;
    }
  }
}

export const ssn: ValueDetector = {
  id: 'ssn',
  category: 'identity.government_id',
  test: (v) => isSsn(v, ssnOptions.strict),
  scan: scanSsns,
};
