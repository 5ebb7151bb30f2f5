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
/** A "word" character for boundary checks: ASCII alnum, `_`, or any non-ASCII letter-ish code unit. */
export function isWordChar(c: number): boolean {
  if (Number.isNaN(c)) return false;
  if (c < 128) return isAsciiAlnum(c) || c === 95;
  return c > 0xbf; // Latin-1 letters and beyond; punctuation in U+0080..U+00BF is not a word char
}
export const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0;

/** Char code at i, or NaN outside the string (so every predicate is false). */
export const at = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : Number.NaN);

export function match(detector: string, category: Category, start: number, end: number): Match {
  return { detector, category, start, end };
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
