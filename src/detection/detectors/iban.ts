/**
 * IBANs: ISO 3166 country code, 2 check digits, BBAN of the country's fixed
 * length; mod-97 == 1 computed in chunks (no BigInt). Spaces allowed between
 * groups of four (the printed form).
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isAsciiAlnum, isDigit, isUpper, isWordChar, match, boundedTrim } from './util.js';

/** Total IBAN length per country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** mod 97 of the rearranged IBAN, letters as 10..35, processed a character at a time. */
export function ibanMod97(compact: string): number {
  const s = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isUpper(c)) rem = (rem * 100 + (c - 55)) % 97;
    else return -1;
  }
  return rem;
}

/** Compact (no spaces, uppercase) IBAN is structurally valid and passes mod-97. */
export function isCompactIban(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  const cc = compact.slice(0, 2);
  const len = IBAN_LENGTHS[cc];
  if (len === undefined || compact.length !== len) return false;
  if (!isDigit(compact.charCodeAt(2)) || !isDigit(compact.charCodeAt(3))) return false;
  for (let i = 4; i < compact.length; i++) {
    const c = compact.charCodeAt(i);
    if (!isDigit(c) && !isUpper(c)) return false;
  }
  return ibanMod97(compact) === 1;
}

/**
 * Whole value: compact, or grouped by single spaces in groups of four (the last
 * group shorter). Lower-case letters are accepted and upper-cased.
 */
export function isIban(value: string): boolean {
  const v = boundedTrim(value, 42) ?? '';
  if (v.length < 15 || v.length > 42) return false;
  let compact = '';
  let groupLen = 0;
  let spaced = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 32) {
      if (groupLen !== 4) return false;
      spaced = true;
      groupLen = 0;
      continue;
    }
    if (!isAsciiAlnum(c)) return false;
    compact += v[i]!.toUpperCase();
    groupLen++;
  }
  if (spaced && (groupLen < 1 || groupLen > 4)) return false;
  return isCompactIban(compact);
}

/**
 * IBANs in prose: at a word boundary, two upper-case letters of a known
 * country, two digits, then exactly the country's length of alphanumerics,
 * optionally in space-separated groups of four, followed by a boundary.
 * Each start reads at most 42 characters and starts are word boundaries, so
 * the scan is linear.
 */
export function* scanIbans(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 15 <= n; i++) {
    const c0 = text.charCodeAt(i);
    if (!isUpper(c0) || isWordChar(at(text, i - 1))) continue;
    const c1 = text.charCodeAt(i + 1);
    if (!isUpper(c1) || !isDigit(text.charCodeAt(i + 2)) || !isDigit(text.charCodeAt(i + 3))) continue;
    const len = IBAN_LENGTHS[text.slice(i, i + 2)];
    if (len === undefined) continue;
    let count = 0;
    let spaced = false;
    let j = i;
    let groupLen = 0;
    while (j < n && count < len) {
      const c = text.charCodeAt(j);
      if (c === 32 && groupLen === 4 && isAsciiAlnum(at(text, j + 1))) {
        groupLen = 0;
        spaced = true;
        j++;
        continue;
      }
      if (!isDigit(c) && !isUpper(c)) break;
      count++;
      groupLen++;
      j++;
    }
    if (count !== len) continue;
    if (isWordChar(at(text, j))) {
      // a longer run of groups ("DE89 DE89 DE89 …"): no IBAN starts inside it
      i = j - 1;
      continue;
    }
    const compact = spaced ? text.slice(i, j).split(' ').join('') : text.slice(i, j);
    if (isCompactIban(compact)) {
      yield match('iban', 'financial.bank_account', i, j);
      i = j;
    }
  }
}

export const iban: ValueDetector = {
  id: 'iban',
  category: 'financial.bank_account',
  test: isIban,
  scan: scanIbans,
};
