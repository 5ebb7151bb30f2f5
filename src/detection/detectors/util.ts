/**
 * Small character helpers shared by the built-in detectors. Everything here is
 * branch-only code on char codes: no regular expressions, no backtracking.
 */
import type { Category } from '../taxonomy.js';
import type { Match } from '../types.js';

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isAsciiLetter = (c: number): boolean => isUpper(c) || isLower(c);
export const isAsciiAlnum = (c: number): boolean => isDigit(c) || isAsciiLetter(c);
export const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** Any Unicode letter (cheap path for ASCII). */
export function isLetter(c: number): boolean {
  if (c < 128) return isAsciiLetter(c);
  return /\p{L}/u.test(String.fromCharCode(c));
}
/** A "word" character for boundary checks: ASCII alnum, `_`, or any non-ASCII letter-ish code unit. */
export function isWordChar(c: number): boolean {
  if (Number.isNaN(c)) return false;
  if (c < 128) return isAsciiAlnum(c) || c === 95;
  return c > 0xbf; // Latin-1 letters and beyond; punctuation in U+0080..U+00BF is not a word char
}
export const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0;

/** Char code at i, or NaN outside the string (so every predicate is false). */
export const at = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : Number.NaN);

/** Digits of a string, or null if any char other than digits and the allowed separators is present. */
export function digitsOnly(s: string, separators = ' -'): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (isDigit(c)) out += ch;
    else if (!separators.includes(ch)) return null;
  }
  return out;
}

export function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Remove spaces (any run) from a short string. */
export function stripSpaces(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) if (!isSpace(s.charCodeAt(i))) out += s[i];
  return out;
}

export function match(detector: string, category: Category, start: number, end: number): Match {
  return { detector, category, start, end };
}

/**
 * Runs of characters accepted by `inRun`, bounded by word boundaries on both
 * sides, as [start, end) pairs. Linear: every char is visited once.
 */
export function* runs(text: string, inRun: (c: number) => boolean): Generator<[number, number]> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!inRun(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && inRun(text.charCodeAt(i))) i++;
    yield [start, i];
  }
}

/**
 * `value.trim()` when the trimmed value is at most `max` chars, else null —
 * without copying or case-mapping a huge value first. O(leading + trailing
 * whitespace), so a 1 MB value is rejected in microseconds.
 */
export function boundedTrim(value: string, max: number): string | null {
  const n = value.length;
  if (n <= max) return value.trim();
  let s = 0;
  while (s < n && isTrimSpace(value.charCodeAt(s))) s++;
  let e = n;
  while (e > s && isTrimSpace(value.charCodeAt(e - 1))) e--;
  return e - s <= max ? value.slice(s, e) : null;
}
function isTrimSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x3000;
}
