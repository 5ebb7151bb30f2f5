/**
 * Secrets left in plain text: API tokens of known formats, JWTs, PEM private
 * keys, and URLs with inline credentials. Only recognisable formats count, so
 * UUIDs, hex digests, base64 blobs and password hashes are never secrets.
 *
 * Passwords are not recognisable by shape alone; the classifier combines a
 * column name (`password`, `passwort`, `mot_de_passe`…) with
 * `isPasswordHash` (a hashed column is fine) and `looksLikePlainPassword`
 * (a plain-text one is a finding).
 */
import type { Match, ValueDetector } from '../types.js';
import { isStewardCiphertext } from './ciphertext.js';
import { at, isAsciiAlnum, isDigit, isHex, isLower, isSpace, isUpper, isWordChar, match, boundedTrim } from './util.js';

const MAX_SECRET_CHARS = 16_384;
const MAX_TOKEN_CHARS = 8_192;

const isB64Url = (c: number): boolean => isAsciiAlnum(c) || c === 45 || c === 95;
const isUpperAlnum = (c: number): boolean => isUpper(c) || isDigit(c);

export type SecretKind =
  | 'aws_access_key'
  | 'github_token'
  | 'stripe_key'
  | 'slack_token'
  | 'google_api_key'
  | 'openai_key'
  | 'jwt'
  | 'private_key'
  | 'url_credentials'
  | 'password_assignment';

interface TokenRule {
  readonly kind: SecretKind;
  readonly prefixes: readonly string[];
  /** Body charset after the prefix. */
  readonly body: (c: number) => boolean;
  readonly minBody: number;
  readonly maxBody: number;
}

const RULES: readonly TokenRule[] = [
  { kind: 'aws_access_key', prefixes: ['AKIA', 'ASIA'], body: isUpperAlnum, minBody: 16, maxBody: 16 },
  { kind: 'github_token', prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], body: isAsciiAlnum, minBody: 36, maxBody: 255 },
  { kind: 'github_token', prefixes: ['github_pat_'], body: (c) => isAsciiAlnum(c) || c === 95, minBody: 40, maxBody: 255 },
  { kind: 'stripe_key', prefixes: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'], body: isAsciiAlnum, minBody: 10, maxBody: 255 },
  { kind: 'slack_token', prefixes: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-'], body: (c) => isAsciiAlnum(c) || c === 45, minBody: 10, maxBody: 255 },
  { kind: 'google_api_key', prefixes: ['AIza'], body: isB64Url, minBody: 35, maxBody: 35 },
  { kind: 'openai_key', prefixes: ['sk-'], body: isB64Url, minBody: 20, maxBody: 255 },
];

/** Known token prefix of a secret value (for masking), or null. */
export function secretPrefix(value: string): string | null {
  const v = boundedTrim(value, 16384) ?? '';
  for (const r of RULES) for (const p of r.prefixes) if (v.startsWith(p)) return p;
  if (v.startsWith('eyJ')) return 'eyJ';
  if (v.startsWith('-----BEGIN ')) return '-----BEGIN';
  return null;
}

/** Extend from `from` over `body`; returns the end, at most `from + max + 1` (so "too long" is visible). */
function extend(s: string, from: number, body: (c: number) => boolean, max: number): number {
  let j = from;
  const lim = Math.min(s.length, from + max + 1);
  while (j < lim && body(s.charCodeAt(j))) j++;
  return j;
}

/** Body has at least one letter and one digit (real keys do; words and "sk-xxxxxxxx" do not). */
function mixed(s: string, from: number, to: number): boolean {
  let d = false;
  let l = false;
  for (let i = from; i < to && !(d && l); i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) d = true;
    else if (isUpper(c) || isLower(c)) l = true;
  }
  return d && l;
}

const TOKEN_FIRST_CHARS = new Set(RULES.flatMap((r) => r.prefixes.map((p) => p.charCodeAt(0))));

/**
 * A token rule's prefix at i: returns the end of what was read and the kind
 * (null when the body does not fit the rule), or null when no prefix matches.
 */
function readToken(s: string, i: number): { end: number; kind: SecretKind | null } | null {
  for (const r of RULES) {
    for (const p of r.prefixes) {
      if (!s.startsWith(p, i)) continue;
      const from = i + p.length;
      const e = extend(s, from, r.body, r.maxBody);
      const len = e - from;
      const ok =
        len >= r.minBody &&
        len <= r.maxBody &&
        !(isAsciiAlnum(at(s, e)) || at(s, e) === 95) &&
        (r.kind === 'aws_access_key' || mixed(s, from, e));
      return { end: Math.max(e, i + 1), kind: ok ? r.kind : null };
    }
  }
  return null;
}

function b64urlDecodeAscii(s: string): string | null {
  try {
    return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1');
  } catch {
    return null;
  }
}

/** JWT at i: `eyJ<b64url>.eyJ<b64url>.<b64url>`; the header decodes to JSON with "alg" or "typ". */
function readJwt(s: string, i: number): number {
  if (!s.startsWith('eyJ', i)) return -1;
  const e1 = extend(s, i, isB64Url, MAX_TOKEN_CHARS);
  if (e1 - i < 10 || at(s, e1) !== 46 || !s.startsWith('eyJ', e1 + 1)) return -1;
  const e2 = extend(s, e1 + 1, isB64Url, MAX_TOKEN_CHARS);
  if (e2 - e1 < 10 || at(s, e2) !== 46) return -1;
  const e3 = extend(s, e2 + 1, isB64Url, MAX_TOKEN_CHARS);
  if ((at(s, e3) === 46 && isB64Url(at(s, e3 + 1))) || isAsciiAlnum(at(s, e3))) return -1;
  const header = b64urlDecodeAscii(s.slice(i, Math.min(e1, i + 512)));
  if (header === null || !(header.includes('"alg"') || header.includes('"typ"'))) return -1;
  return e3;
}

const PEM_BEGIN = '-----BEGIN ';

/** PEM private key header at i: end of the header line, or -1. */
function readPemHeader(s: string, i: number): number {
  if (!s.startsWith(PEM_BEGIN, i)) return -1;
  const lim = Math.min(s.length, i + PEM_BEGIN.length + 40);
  for (let j = i + PEM_BEGIN.length; j < lim; j++) {
    const c = s.charCodeAt(j);
    if (c === 45) {
      const label = s.slice(i + PEM_BEGIN.length, j);
      if (!s.startsWith('-----', j)) return -1;
      return label.endsWith('PRIVATE KEY') || label.endsWith('PRIVATE KEY BLOCK') ? j + 5 : -1;
    }
    if (!(isUpper(c) || c === 32 || isDigit(c))) return -1;
  }
  return -1;
}

const isSchemeChar = (c: number): boolean => isAsciiAlnum(c) || c === 43 || c === 45 || c === 46;
const isUserinfoChar = (c: number): boolean =>
  !Number.isNaN(c) && c > 32 && c !== 47 && c !== 64 && c !== 34 && c !== 39 && c !== 60 && c !== 62 && c !== 92 && c !== 96;

/**
 * `scheme://user:pass@host` where `://` is at position p. Returns [start, end]
 * of the whole URL authority (scheme through host), or null. Placeholder
 * passwords (`****`, `${VAR}`, `<password>`) do not count.
 */
function readUrlCredentials(s: string, p: number): [number, number] | null {
  // scheme: letters before p, bounded
  let st = p;
  while (st > 0 && p - st < 20 && isSchemeChar(s.charCodeAt(st - 1))) st--;
  if (st === p || !isLower(s.charCodeAt(st) | 0x20) || (st > 0 && isWordChar(s.charCodeAt(st - 1)))) return null;
  const u0 = p + 3;
  const ue = extend(s, u0, isUserinfoChar, 256);
  if (at(s, ue) !== 64 || ue - u0 > 256) return null;
  let colon = -1;
  for (let k = u0; k < ue && colon === -1; k++) if (s.charCodeAt(k) === 58) colon = k;
  if (colon === -1 || colon >= ue - 1 || colon === u0) return null;
  const pw = s.slice(colon + 1, ue);
  if (/^\*+$/.test(pw) || pw.startsWith('${') || pw.startsWith('$(') || pw.startsWith('<') || pw.startsWith('%') || pw.startsWith('{{')) return null;
  const he = extend(s, ue + 1, (c) => isAsciiAlnum(c) || c === 45 || c === 46 || c === 58 || c === 95, 255);
  if (he === ue + 1) return null;
  return [st, he];
}

/** Whole value is a secret of a known format. */
export function secretKind(value: string): SecretKind | null {
  const v = boundedTrim(value, 16384) ?? '';
  if (v.length < 20 || v.length > MAX_SECRET_CHARS || isStewardCiphertext(v)) return null;
  if (v.startsWith(PEM_BEGIN)) return readPemHeader(v, 0) > 0 ? 'private_key' : null;
  const t = readToken(v, 0);
  if (t !== null) return t.end === v.length ? t.kind : null;
  if (v.startsWith('eyJ')) return readJwt(v, 0) === v.length ? 'jwt' : null;
  const p = v.indexOf('://');
  if (p > 0 && p < 20) {
    const u = readUrlCredentials(v, p);
    if (u !== null && u[0] === 0) {
      // the rest of the URL: path/query without spaces
      for (let i = u[1]; i < v.length; i++) if (isSpace(v.charCodeAt(i))) return null;
      return 'url_credentials';
    }
  }
  return null;
}

export function isSecret(value: string): boolean {
  return secretKind(value) !== null;
}

// ------------------------------------------------------------ password hashes

const HASH_PREFIXES = [
  '$argon2id$', '$argon2i$', '$argon2d$', '$scrypt$', '$7$', '$y$', '$gy$', '$5$', '$6$', '$1$', '$apr1$', '$sha1$',
  '$pbkdf2$', '$pbkdf2-sha1$', '$pbkdf2-sha256$', '$pbkdf2-sha512$', '$bcrypt-sha256$',
  'pbkdf2_sha256$', 'pbkdf2_sha1$', 'argon2$argon2', 'bcrypt_sha256$', 'bcrypt$$2', 'scrypt$', 'sha1$', 'md5$', 'crypt$', 'unsalted_md5$', 'unsalted_sha1$',
  'pbkdf2:sha256:', 'pbkdf2:sha1:', 'pbkdf2:sha512:', 'scrypt:',
  '{SSHA}', '{SHA}', '{SSHA256}', '{SSHA512}', '{SHA256}', '{SHA512}', '{CRYPT}', '{MD5}', '{SMD5}', '{PBKDF2}', '{ARGON2}',
];

function allHex(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

const BCRYPT_CHARS = (c: number): boolean => isAsciiAlnum(c) || c === 46 || c === 47;

/**
 * A stored password hash: bcrypt `$2a$/$2b$/$2y$`, argon2, scrypt/yescrypt,
 * sha-crypt `$5$`/`$6$`, md5-crypt, PBKDF2 (passlib, Django `pbkdf2_sha256$`,
 * Werkzeug `pbkdf2:sha256:`), phpass `$P$`/`$H$`, LDAP `{SSHA}`, or a bare
 * hex digest of 32/40/64/128 chars.
 */
export function isPasswordHash(value: string): boolean {
  const v = boundedTrim(value, 1024) ?? '';
  if (v.length < 13 || v.length > 1024) return false;
  // bcrypt: $2a$10$ + 53 chars
  if (v.length === 60 && v[0] === '$' && v[1] === '2' && v[3] === '$' && v[6] === '$' && 'abxy'.includes(v[2]!) && isDigit(v.charCodeAt(4)) && isDigit(v.charCodeAt(5))) {
    for (let i = 7; i < 60; i++) if (!BCRYPT_CHARS(v.charCodeAt(i))) return false;
    return true;
  }
  // phpass
  if (v.length === 34 && (v.startsWith('$P$') || v.startsWith('$H$'))) return true;
  for (const p of HASH_PREFIXES) {
    if (v.startsWith(p)) {
      for (let i = 0; i < v.length; i++) if (isSpace(v.charCodeAt(i))) return false;
      return v.length >= p.length + 8;
    }
  }
  if (v.length === 32 || v.length === 40 || v.length === 64 || v.length === 128) return allHex(v);
  return false;
}

/** 8-4-4-4-12 hex. */
export function isUuid(value: string): boolean {
  const v = boundedTrim(value, 36) ?? '';
  if (v.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = v.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/**
 * Could this value be a password stored in plain text? 4–64 chars, no
 * whitespace, not a hash, not a UUID, not Steward ciphertext, not an email.
 * Meaningful only in a column named like a password.
 */
export function looksLikePlainPassword(value: string): boolean {
  const v = boundedTrim(value, 64) ?? '';
  if (v.length < 4 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) if (isSpace(v.charCodeAt(i))) return false;
  if (isStewardCiphertext(v) || isPasswordHash(v) || isUuid(v)) return false;
  if (v.includes('@') && v.indexOf('.', v.indexOf('@')) > 0) return false;
  // long base64/hex blobs are encoded data, not typed passwords
  if (v.length >= 32 && allHex(v)) return false;
  return true;
}

// ------------------------------------------------------------ scan

const PASSWORD_CUES = ['password', 'passwort', 'passwd', 'pwd', 'kennwort', 'mot de passe', 'contraseña', 'contrasena', 'pass'];
const CUE_VERBS = new Set(['is', 'ist', 'est', 'es', 'è', 'e', 'was', 'lautet', 'era']);

/** `s` has `lowerWord` at i, ASCII case-insensitively (no allocation). */
function startsWithIgnoreCase(s: string, i: number, lowerWord: string): boolean {
  if (s.length - i < lowerWord.length) return false;
  for (let k = 0; k < lowerWord.length; k++) {
    let c = s.charCodeAt(i + k);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lowerWord.charCodeAt(k) && !(c > 127 && s[i + k]!.toLowerCase() === lowerWord[k])) return false;
  }
  return true;
}

/** A password given in prose after a cue: "password: Tr0ub4dor&3", "Passwort ist Hallo123!". */
function readPasswordAssignment(s: string, i: number): [number, number] | null {
  let cueEnd = -1;
  for (const cue of PASSWORD_CUES) {
    if (startsWithIgnoreCase(s, i, cue) && !isWordChar(at(s, i + cue.length))) {
      cueEnd = i + cue.length;
      break;
    }
  }
  if (cueEnd < 0) return null;
  let j = cueEnd;
  while (j < s.length && j - cueEnd < 3 && s.charCodeAt(j) === 32) j++;
  const c = at(s, j);
  if (c === 58 || c === 61) {
    j++;
  } else {
    if (j === cueEnd) return null;
    const w0 = j;
    while (j < s.length && j - w0 < 7 && !isSpace(s.charCodeAt(j))) j++;
    if (!CUE_VERBS.has(s.slice(w0, j).toLowerCase())) return null;
  }
  const q0 = j;
  while (j < s.length && j - q0 < 4 && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 34 || s.charCodeAt(j) === 39 || s.charCodeAt(j) === 96)) j++;
  const t0 = j;
  while (j < s.length && j - t0 <= 64 && !isSpace(s.charCodeAt(j)) && s.charCodeAt(j) !== 34 && s.charCodeAt(j) !== 39 && s.charCodeAt(j) !== 96) j++;
  let te = j;
  while (te > t0 && ',.;:!?)'.includes(s[te - 1]!)) te--;
  const tok = s.slice(t0, te);
  if (tok.length < 4 || tok.length > 64) return null;
  // prose words ("password is incorrect") are not passwords: need a digit, a symbol or mixed case
  let digit = false;
  let symbol = false;
  let up = false;
  let low = false;
  for (let k = 0; k < tok.length; k++) {
    const ch = tok.charCodeAt(k);
    if (isDigit(ch)) digit = true;
    else if (isUpper(ch)) up = true;
    else if (isLower(ch)) low = true;
    else symbol = true;
  }
  if (!(digit || symbol || (up && low && k0Upper(tok)))) return null;
  if (!looksLikePlainPassword(tok)) return null;
  return [t0, te];
}
/** Mixed case counts only when not just a capitalised word ("Hello" no, "heLLo" yes). */
function k0Upper(t: string): boolean {
  for (let k = 1; k < t.length; k++) if (isUpper(t.charCodeAt(k))) return true;
  return false;
}

/**
 * Secrets in prose. At every word boundary, a bounded check for a known
 * prefix; after any attempt the scan resumes past the text the attempt read,
 * so each character is examined a constant number of times.
 */
export function* scanSecrets(text: string): Generator<Match> {
  const n = text.length;
  let pemEnd = -2; // cached index of the next "-----END " at or after i (-1 = none)
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const boundary = !isWordChar(at(text, i - 1));
    if (c === 58 && text.startsWith('://', i)) {
      const u = readUrlCredentials(text, i);
      if (u !== null) {
        yield match('secrets', 'credentials.secret', u[0], u[1]);
        i = u[1];
        continue;
      }
      i += 3;
      continue;
    }
    if (!boundary || !(isAsciiAlnum(c) || c === 45)) {
      i++;
      continue;
    }
    if (c === 45) {
      const h = readPemHeader(text, i);
      if (h > 0) {
        if (pemEnd !== -1 && pemEnd < h) pemEnd = text.indexOf('-----END ', h);
        let e = h;
        if (pemEnd !== -1 && pemEnd - h <= MAX_SECRET_CHARS) {
          const close = text.slice(pemEnd + 9, pemEnd + 69).indexOf('-----');
          e = close !== -1 ? pemEnd + 9 + close + 5 : pemEnd;
        }
        yield match('secrets', 'credentials.secret', i, e);
        i = e;
        continue;
      }
      i++;
      continue;
    }
    const t = TOKEN_FIRST_CHARS.has(c) ? readToken(text, i) : null;
    if (t !== null) {
      if (t.kind !== null) yield match('secrets', 'credentials.secret', i, t.end);
      i = t.end;
      continue;
    }
    if (c === 101 /* e */ && text.startsWith('eyJ', i)) {
      const e = readJwt(text, i);
      if (e > 0) {
        yield match('secrets', 'credentials.secret', i, e);
        i = e;
        continue;
      }
      i = extend(text, i, isB64Url, MAX_TOKEN_CHARS);
      continue;
    }
    const lc = c | 0x20;
    if (lc === 112 || lc === 107 || lc === 109 || lc === 99) {
      const pw = readPasswordAssignment(text, i);
      if (pw !== null) {
        yield match('secrets', 'credentials.secret', pw[0], pw[1]);
        i = pw[1];
        continue;
      }
    }
    // skip the rest of this word
    i++;
    while (i < n && isAsciiAlnum(text.charCodeAt(i))) i++;
  }
}

export const secrets: ValueDetector = {
  id: 'secrets',
  category: 'credentials.secret',
  test: isSecret,
  scan: scanSecrets,
};
