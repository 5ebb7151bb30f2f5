/**
 * Payment card numbers (PANs): 12–19 digits, optionally grouped by single
 * spaces or dashes, passing Luhn AND belonging to a known issuer range with an
 * allowed length for that issuer.
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isWordChar, match, boundedTrim } from './util.js';

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'maestro';

export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

const inRange = (n: number, lo: number, hi: number): boolean => n >= lo && n <= hi;

/** Issuer of a PAN by its prefix and length, or null. Ordered most specific first. */
export function cardBrand(digits: string): CardBrand | null {
  const len = digits.length;
  if (len < 12 || len > 19) return null;
  const p1 = digits.charCodeAt(0) - 48;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (p2 === 34 || p2 === 37) return len === 15 ? 'amex' : null;
  if (inRange(p4, 3528, 3589)) return len >= 16 ? 'jcb' : null;
  if (inRange(p3, 300, 305) || p2 === 36 || p2 === 38) return len >= 14 ? 'diners' : null;
  if (p1 === 4) return len === 13 || len === 16 || len === 19 ? 'visa' : null;
  if (inRange(p2, 51, 55) || inRange(p4, 2221, 2720)) return len === 16 ? 'mastercard' : null;
  if (p4 === 6011 || inRange(p3, 644, 649) || p2 === 65) return len >= 16 ? 'discover' : null;
  if (p2 === 62) return len >= 16 ? 'unionpay' : null;
  if (p2 === 50 || inRange(p2, 56, 69)) return 'maestro'; // 12..19
  return null;
}

/**
 * Printed card groupings: the first group has 4 digits, middle groups 4–6
 * (4-4-4-4, 4-6-5 Amex, 4-6-4 Diners, 4-4-4-4-3), the last 1–6. Rules out
 * IMEIs ("35-209900-176148-1") and other dashed ids.
 */
function groupsOk(lengths: readonly number[]): boolean {
  if (lengths.length === 1) return true;
  if (lengths[0] !== 4) return false;
  for (let g = 1; g < lengths.length - 1; g++) if (lengths[g]! < 4 || lengths[g]! > 6) return false;
  const last = lengths[lengths.length - 1]!;
  return last >= 1 && last <= 6;
}

/** Digits of `s` if it is 12–19 digits with single space/dash group separators; else null. */
function panDigits(s: string): string | null {
  if (s.length < 12 || s.length > 23) return null;
  let out = '';
  let prevSep = true; // no leading separator
  let sep = 0;
  const lengths: number[] = [];
  let g = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      out += s[i];
      prevSep = false;
      g++;
    } else if (c === 32 || c === 45) {
      if (prevSep) return null;
      if (sep !== 0 && sep !== c) return null; // one separator style
      sep = c;
      prevSep = true;
      lengths.push(g);
      g = 0;
    } else return null;
  }
  if (prevSep) return null;
  lengths.push(g);
  if (!groupsOk(lengths)) return null;
  return out.length >= 12 && out.length <= 19 ? out : null;
}

export function isCardNumber(value: string): boolean {
  const d = panDigits(boundedTrim(value, 23) ?? '');
  return d !== null && isPan(d);
}

export function isPan(digits: string): boolean {
  return cardBrand(digits) !== null && luhn(digits);
}

/**
 * Cards in prose: maximal runs of digit groups joined by single spaces or
 * dashes, bounded by non-word characters. A run of 12–19 digits is checked
 * whole; a longer run (a card followed by an expiry or CVC) is checked on its
 * group-aligned prefixes. An unseparated run needs 15+ digits in prose (EAN-13
 * barcodes pass Luhn one time in ten). Linear: each run is read once and at
 * most 32 group prefixes of ≤ 19 digits are checked.
 */
const MAX_GROUPS = 32;
const groupEnds = new Int32Array(MAX_GROUPS); // text index after each group of the current run
const groupDigits = new Int32Array(MAX_GROUPS); // cumulative digit count after each group

export function* scanCards(text: string): Generator<Match> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) || isWordChar(at(text, i - 1))) {
      i++;
      continue;
    }
    // read a run: digits, single separators between digits
    const start = i;
    let groups = 0;
    let digits = 0;
    let j = i;
    let sep = 0;
    while (j < n) {
      const g0 = j;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (j === g0) break;
      digits += j - g0;
      if (groups < MAX_GROUPS) {
        groupEnds[groups] = j;
        groupDigits[groups] = digits;
        groups++;
      }
      const s = text.charCodeAt(j);
      if ((s === 32 || s === 45) && (sep === 0 || sep === s) && isDigit(at(text, j + 1))) {
        sep = s;
        j++;
      } else break;
    }
    const end = j;
    if (!isWordChar(at(text, end))) {
      // try the whole run, else the longest group-aligned prefix that is a card
      for (let g = groups - 1; g >= 0 && digits >= 12; g--) {
        const d = groupDigits[g]!;
        if (d < 12) break;
        if (d > 19) continue;
        // an unseparated run in prose needs 15+ digits: 12–14-digit runs are mostly EAN/GTIN codes
        // and ids that pass Luhn by chance (one in ten)
        if (g === 0 && d < 15) continue;
        const e = groupEnds[g]!;
        const lengths: number[] = [];
        for (let k = 0; k <= g; k++) lengths.push(groupDigits[k]! - (k > 0 ? groupDigits[k - 1]! : 0));
        if (!groupsOk(lengths)) continue;
        const pan = collectDigits(text, start, e);
        if (isPan(pan)) {
          yield match('card', 'financial.card', start, e);
          break;
        }
      }
    }
    i = end + 1;
  }
}

function collectDigits(text: string, from: number, to: number): string {
  let out = '';
  for (let k = from; k < to; k++) if (isDigit(text.charCodeAt(k))) out += text[k];
  return out;
}

export const card: ValueDetector = {
  id: 'card',
  category: 'financial.card',
  test: isCardNumber,
  scan: scanCards,
};
