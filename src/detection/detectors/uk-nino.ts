/**
 * UK National Insurance numbers: two prefix letters (HMRC rules), six digits,
 * suffix A–D. test() accepts the suffix missing and spaces between pairs
 * (`QQ 12 34 56 C`); scan() requires the suffix (fewer false hits in prose).
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isUpper, isWordChar, match, boundedTrim } from './util.js';

const BAD_FIRST = 'DFIQUV';
const BAD_SECOND = 'DFIOQUV';
const BAD_PREFIX = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

export function isValidNinoPrefix(p: string): boolean {
  if (p.length !== 2) return false;
  const a = p[0]!;
  const b = p[1]!;
  if (!isUpper(a.charCodeAt(0)) || !isUpper(b.charCodeAt(0))) return false;
  if (BAD_FIRST.includes(a) || BAD_SECOND.includes(b)) return false;
  return !BAD_PREFIX.has(p);
}

/** Parse a NINO at `i` of `s`: returns end index or -1. Spaces allowed as `AB 12 34 56 C` or `AB123456C`. */
function readNino(s: string, i: number, requireSuffix: boolean): number {
  const p = s.slice(i, i + 2).toUpperCase();
  if (!isValidNinoPrefix(p)) return -1;
  let j = i + 2;
  const spaced = s.charCodeAt(j) === 32;
  for (let pair = 0; pair < 3; pair++) {
    if (spaced) {
      if (s.charCodeAt(j) !== 32) return -1;
      j++;
    }
    if (!isDigit(at(s, j)) || !isDigit(at(s, j + 1))) return -1;
    j += 2;
  }
  // suffix
  let k = j;
  if (spaced && s.charCodeAt(k) === 32) k++;
  const suf = at(s, k) | 0x20; // lower-case
  if (suf >= 97 && suf <= 100) return k + 1;
  return requireSuffix ? -1 : j;
}

export function isUkNino(value: string): boolean {
  const v = boundedTrim(value, 13) ?? '';
  if (v.length < 8 || v.length > 13) return false;
  return readNino(v, 0, false) === v.length;
}

export function* scanNinos(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 9 <= n; i++) {
    if (!isUpper(text.charCodeAt(i)) || isWordChar(at(text, i - 1))) continue;
    const e = readNino(text, i, true);
    if (e > 0 && !isWordChar(at(text, e))) {
      yield match('uk_nino', 'identity.government_id', i, e);
      i = e - 1;
    }
  }
}

export const ukNino: ValueDetector = {
  id: 'uk_nino',
  category: 'identity.government_id',
  test: isUkNino,
  scan: scanNinos,
};
