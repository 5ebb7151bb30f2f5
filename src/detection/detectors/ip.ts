/**
 * IP addresses (GDPR online identifiers). Strict IPv4 (four decimal octets
 * 0–255, no leading zeros) and IPv6 via `net.isIPv6`. Private and loopback
 * addresses still count — they identify devices inside a network — but
 * `isPublicIp` lets a caller weigh them.
 */
import { isIPv6 } from 'node:net';
import type { Match, ValueDetector } from '../types.js';
import { at, isAsciiAlnum, isDigit, isHex, isWordChar, match, boundedTrim } from './util.js';

/** Parse strict dotted-quad starting at i; returns end index or -1. */
function readIpv4(s: string, i: number): number {
  let j = i;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (s.charCodeAt(j) !== 46) return -1;
      j++;
    }
    const start = j;
    let v = 0;
    while (j < s.length && j - start < 4 && isDigit(s.charCodeAt(j))) {
      v = v * 10 + (s.charCodeAt(j) - 48);
      j++;
    }
    const len = j - start;
    if (len === 0 || len > 3 || v > 255) return -1;
    if (len > 1 && s.charCodeAt(start) === 48) return -1; // leading zero (octal ambiguity)
  }
  return j;
}

export function isIpv4(value: string): boolean {
  const v = boundedTrim(value, 15) ?? '';
  if (v.length < 7 || v.length > 15) return false;
  return readIpv4(v, 0) === v.length;
}

export function isIpv6(value: string): boolean {
  let v = boundedTrim(value, 45) ?? '';
  if (v.length < 2 || v.length > 45) return false;
  // bracketed form [::1] is common in logs
  if (v.charCodeAt(0) === 91 && v.charCodeAt(v.length - 1) === 93) v = v.slice(1, -1);
  if (v.indexOf('%') !== -1) v = v.slice(0, v.indexOf('%')); // zone id
  if (v === '::') return false; // the unspecified address identifies nobody
  return isIPv6(v);
}

export function isIp(value: string): boolean {
  return isIpv4(value) || isIpv6(value);
}

function v4Octets(v: string): number[] {
  return v.split('.').map(Number);
}

/**
 * Public (globally routable) address? False for private, loopback, link-local,
 * CGNAT, multicast, documentation and reserved ranges; also false for non-IPs.
 */
export function isPublicIp(value: string): boolean {
  const v = boundedTrim(value, 45) ?? '';
  if (isIpv4(v)) {
    const [a = 0, b = 0, c = 0] = v4Octets(v);
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    if (a === 192 && b === 0 && (c === 0 || c === 2)) return false;
    if (a === 198 && (b === 18 || b === 19)) return false;
    if (a === 198 && b === 51 && c === 100) return false;
    if (a === 203 && b === 0 && c === 113) return false;
    return true;
  }
  if (isIpv6(v)) {
    const s = v.toLowerCase().replace(/^\[|\]$/g, '');
    if (s === '::1' || s === '::') return false;
    if (s.startsWith('::ffff:')) return isPublicIp(s.slice(7));
    const first = parseInt(s.split(':')[0] || '0', 16);
    if ((first & 0xfe00) === 0xfc00) return false; // fc00::/7 unique local
    if ((first & 0xffc0) === 0xfe80) return false; // fe80::/10 link local
    if ((first & 0xff00) === 0xff00) return false; // multicast
    if (s.startsWith('2001:db8:') || s.startsWith('2001:0db8:')) return false; // documentation
    return true;
  }
  return false;
}

/**
 * IPv4 in prose: at a boundary that is not a digit, dot or word char; a
 * version string `1.2.3`, a longer dotted chain `1.2.3.4.5` or a product version
 * `Chrome/63.8.13.5` (user agents) does not count.
 * Each start reads ≤ 15 chars and starts are boundaries, so linear.
 */
export function* scanIpv4(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 7 <= n; i++) {
    if (!isDigit(text.charCodeAt(i))) continue;
    const p = at(text, i - 1);
    if (isWordChar(p) || p === 46) continue;
    // `Chrome/120.0.0.1`: a product token's version, not an address (`http://1.2.3.4` still counts).
    if (p === 47 && isWordChar(at(text, i - 2))) continue;
    const e = readIpv4(text, i);
    if (e > 0) {
      const q = at(text, e);
      const chain = q === 46 && isDigit(at(text, e + 1));
      if (!isWordChar(q) && !chain) {
        yield match('ipv4', 'network.ip_address', i, e);
        i = e - 1;
        continue;
      }
    }
    // skip the rest of this dotted-number run
    while (i + 1 < n && (isDigit(text.charCodeAt(i + 1)) || text.charCodeAt(i + 1) === 46)) i++;
  }
}

const isV6Char = (c: number): boolean => isHex(c) || c === 58 || c === 46;

/**
 * IPv6 in prose: maximal runs of hex digits, colons and dots with at least two
 * colons and a digit, not glued to a word, checked by `net.isIPv6` when ≤ 45
 * chars. Linear: each run is read once.
 */
export function* scanIpv6(text: string): Generator<Match> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isV6Char(c)) {
      i++;
      continue;
    }
    const start = i;
    let colons = 0;
    let digits = 0;
    while (i < n && isV6Char(text.charCodeAt(i))) {
      const k = text.charCodeAt(i);
      if (k === 58) colons++;
      else if (isDigit(k)) digits++;
      i++;
    }
    let end = i;
    // trailing sentence punctuation
    while (end > start && (text.charCodeAt(end - 1) === 46 || (text.charCodeAt(end - 1) === 58 && text.charCodeAt(end - 2) !== 58))) end--;
    if (
      colons >= 2 &&
      digits > 0 &&
      end - start <= 45 &&
      !isWordChar(at(text, start - 1)) &&
      !isAsciiAlnum(at(text, i)) &&
      isIpv6(text.slice(start, end))
    ) {
      yield match('ipv6', 'network.ip_address', start, end);
    }
  }
}

export const ipv4: ValueDetector = {
  id: 'ipv4',
  category: 'network.ip_address',
  test: isIpv4,
  scan: scanIpv4,
};

export const ipv6: ValueDetector = {
  id: 'ipv6',
  category: 'network.ip_address',
  test: isIpv6,
  scan: scanIpv6,
};
