/**
 * Email addresses: `local@domain.tld`. Hand-written, linear.
 *
 * test(): the whole value is one address (≤ 254 chars, local part ≤ 64,
 * dot-atom local part, at least two domain labels, a TLD of 2–63 letters or
 * an `xn--` label). scan(): addresses inside prose, found from each `@` by
 * extending left over local-part characters and right over domain characters;
 * every character is visited a bounded number of times.
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isAsciiAlnum, isAsciiLetter, isDigit, match, boundedTrim } from './util.js';

const MAX_EMAIL = 254;
const MAX_LOCAL = 64;

/** Local-part characters accepted in values (RFC 5322 atext + dot). Non-ASCII letters allowed (EAI). */
function isLocalChar(c: number): boolean {
  if (isAsciiAlnum(c)) return true;
  if (c > 127) return c > 0xbf;
  // ! # $ % & ' * + - / = ? ^ _ ` { | } ~ .
  return "!#$%&'*+-/=?^_`{|}~.".includes(String.fromCharCode(c));
}
/** In prose a narrower set, so punctuation around the address is not swallowed. */
function isProseLocalChar(c: number): boolean {
  if (isAsciiAlnum(c)) return true;
  if (c > 127) return c > 0xbf;
  return c === 46 /* . */ || c === 95 /* _ */ || c === 37 /* % */ || c === 43 /* + */ || c === 45 /* - */;
}
function isDomainChar(c: number): boolean {
  return isAsciiAlnum(c) || c === 45 || c === 46 || (c > 0xbf && !Number.isNaN(c));
}

function validLocal(s: string, from: number, to: number, prose: boolean): boolean {
  const len = to - from;
  if (len < 1 || len > MAX_LOCAL) return false;
  if (s.charCodeAt(from) === 46 || s.charCodeAt(to - 1) === 46) return false;
  let prevDot = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!(prose ? isProseLocalChar(c) : isLocalChar(c))) return false;
    const dot = c === 46;
    if (dot && prevDot) return false;
    prevDot = dot;
  }
  return true;
}

/** Domain `[from, to)`: labels of alnum/hyphen, 2+ labels, TLD alphabetic (or xn--). */
function validDomain(s: string, from: number, to: number): boolean {
  const len = to - from;
  if (len < 4 || len > 253) return false;
  let labelStart = from;
  let labels = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 46 : s.charCodeAt(i);
    if (c === 46) {
      const l = i - labelStart;
      if (l < 1 || l > 63) return false;
      if (s.charCodeAt(labelStart) === 45 || s.charCodeAt(i - 1) === 45) return false;
      labels++;
      if (i === to) {
        // TLD: letters only, 2..63, or punycode xn--
        if (l < 2) return false;
        if (s.startsWith('xn--', labelStart)) return l > 4;
        for (let k = labelStart; k < i; k++) {
          const t = s.charCodeAt(k);
          if (!(isAsciiLetter(t) || t > 0xbf)) return false;
        }
      }
      labelStart = i + 1;
    } else if (!isDomainChar(c)) return false;
  }
  return labels >= 2;
}

export function isEmail(value: string): boolean {
  const v = boundedTrim(value, 254) ?? '';
  if (v.length < 6 || v.length > MAX_EMAIL) return false;
  const atPos = v.indexOf('@');
  if (atPos <= 0 || v.indexOf('@', atPos + 1) !== -1) return false;
  return validLocal(v, 0, atPos, false) && validDomain(v, atPos + 1, v.length);
}

export function* scanEmails(text: string): Generator<Match> {
  const n = text.length;
  let runStart = 0; // start of the current run of prose local-part chars
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 64 /* @ */) {
      if (!isProseLocalChar(c)) runStart = i + 1;
      i++;
      continue;
    }
    // Local part: the run ending here, trimmed of leading dots/punctuation.
    let ls = runStart;
    while (ls < i && !isAsciiAlnum(text.charCodeAt(ls)) && text.charCodeAt(ls) <= 127) ls++;
    // Domain: run of domain chars after '@'.
    let de = i + 1;
    while (de < n && isDomainChar(text.charCodeAt(de))) de++;
    // Trailing dots/hyphens are punctuation, not domain.
    let dEnd = de;
    while (dEnd > i + 1 && (text.charCodeAt(dEnd - 1) === 46 || text.charCodeAt(dEnd - 1) === 45)) dEnd--;
    if (
      i - ls <= MAX_LOCAL &&
      dEnd - ls <= MAX_EMAIL &&
      validLocal(text, ls, i, true) &&
      validDomain(text, i + 1, dEnd) &&
      !isDigit(at(text, dEnd))
    ) {
      yield match('email', 'contact.email', ls, dEnd);
    }
    // continue after the domain; a new local part cannot start inside it without a boundary
    runStart = de;
    i = de;
    if (i < n && !isProseLocalChar(text.charCodeAt(i))) runStart = i + 1;
  }
}

export const email: ValueDetector = {
  id: 'email',
  category: 'contact.email',
  test: isEmail,
  scan: scanEmails,
};
