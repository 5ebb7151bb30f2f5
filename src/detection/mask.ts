/**
 * Masking of sample values for reports, logs and errors. A masked value never
 * contains the raw value, nor enough of it to identify a person: the shape
 * that tells a reader what kind of data it is, and at most the few characters
 * that standards allow (last 4 of a card under PCI DSS, last 2 of an id or
 * phone). Values longer than 64 characters are truncated before masking.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { BUILTIN_DETECTORS } from './detectors/index.js';
import { isStewardCiphertext, STEWARD_CIPHERTEXT_PREFIX } from './detectors/ciphertext.js';
import { parseDateLike } from './detectors/date.js';
import { isIpv4, isIpv6 } from './detectors/ip.js';
import { isPasswordHash, secretPrefix } from './detectors/secrets.js';
import type { Category } from './taxonomy.js';

export const MASK_MAX_INPUT = 64;
const STARS = '***';

const isAlnum = (ch: string): boolean => /^[\p{L}\p{N}]$/u.test(ch);

function generic(v: string): string {
  const first = [...v][0];
  if (first === undefined || v.length <= 3) return STARS;
  return first + STARS;
}

function maskEmail(v: string): string {
  const at = v.lastIndexOf('@');
  if (at <= 0) return generic(v);
  const local = v.slice(0, at);
  const domain = v.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 && domain.length - dot <= 8 ? domain.slice(dot) : '';
  const d0 = domain[0] ?? '';
  return `${[...local][0] ?? ''}${STARS}@${d0}${STARS}${tld}`;
}

function digitsOf(v: string): string {
  let out = '';
  for (const ch of v) if (ch >= '0' && ch <= '9') out += ch;
  return out;
}

function maskPhone(raw: string): string {
  const v = raw.startsWith('00') ? `+${raw.slice(2)}` : raw;
  const d = digitsOf(v);
  if (d.length < 5) return STARS;
  const last2 = d.slice(-2);
  if (v.startsWith('+')) {
    const p = parsePhoneNumberFromString(v);
    const cc = p?.countryCallingCode ?? '';
    if (cc) return `+${cc} ${'*'.repeat(Math.max(3, d.length - cc.length - 2))} ${last2}`;
    return `+${'*'.repeat(Math.max(3, d.length - 2))} ${last2}`;
  }
  return `${'*'.repeat(Math.max(3, d.length - 2))} ${last2}`;
}

function maskCard(v: string): string {
  const d = digitsOf(v);
  if (d.length < 12) return generic(v);
  return `**** **** **** ${d.slice(-4)}`;
}

function maskIban(v: string): string {
  const c = v.replace(/\s+/g, '').toUpperCase();
  if (c.length < 8) return generic(v);
  const body = c.slice(0, 2) + '*'.repeat(c.length - 4) + c.slice(-2);
  let out = '';
  for (let i = 0; i < body.length; i += 4) out += (i ? ' ' : '') + body.slice(i, i + 4);
  return out;
}

/** Keep separators, hide every letter/digit but the last two. */
function maskKeepLast(v: string, keep: number): string {
  const chars = [...v];
  let alnum = 0;
  for (const ch of chars) if (isAlnum(ch)) alnum++;
  if (alnum <= keep + 2) return STARS;
  let seen = 0;
  return chars
    .map((ch) => {
      if (!isAlnum(ch)) return ch;
      seen++;
      return seen > alnum - keep ? ch : '*';
    })
    .join('');
}

function maskName(v: string): string {
  const tokens = v.split(/\s+/).filter((t) => t.length > 0);
  return tokens.map((t) => `${[...t][0]}${STARS}`).join(' ');
}

function maskIp(v: string): string {
  if (isIpv4(v)) {
    const [a, b] = v.split('.');
    return `${a}.${b}.*.*`;
  }
  if (isIpv6(v)) {
    const first = v.replace(/^\[/, '').split(':')[0] || '0';
    return `${first}:*:*:*:*:*:*:*`;
  }
  return generic(v);
}

function maskDate(v: string): string {
  const d = parseDateLike(v);
  if (d === null) return generic(v);
  return `${String(d.getUTCFullYear()).slice(0, 2)}**-**-**`;
}

function maskSecret(v: string): string {
  const lower = v.toLowerCase();
  const scheme = lower.indexOf('://');
  if (scheme > 0 && scheme < 20 && v.includes('@')) return `${v.slice(0, scheme)}://****`;
  const known = secretPrefix(v);
  if (known !== null) return `${known}****`;
  if (isPasswordHash(v) && v.startsWith('$')) {
    const second = v.indexOf('$', 1);
    if (second > 0 && second <= 12) return `${v.slice(0, second + 1)}****`;
  }
  return '****';
}

function maskGeo(v: string): string {
  return v.replace(/(-?\d{1,3})\.(\d)\d*/g, '$1.$2**');
}

function maskAddress(v: string): string {
  return v
    .split(/\s+/)
    .filter((t) => t.length > 0)
    .map((t) => (/^\d/.test(t) ? '**' : `${[...t][0]}${STARS}`))
    .join(' ');
}

function maskPostcode(v: string): string {
  const c = v.replace(/\s+/g, '');
  if (c.length <= 3) return STARS;
  return `${c.slice(0, 2)}${STARS}`;
}

/** The category of a value by the built-in detectors, or undefined. */
export function inferCategory(v: string): Category | undefined {
  for (const d of BUILTIN_DETECTORS) {
    try {
      if (d.test(v)) return d.category;
    } catch {
      // a detector failing on odd input must not break masking
    }
  }
  return undefined;
}

/**
 * Mask a value for display. `category` picks the format (taxonomy id); when
 * omitted, the built-in detectors choose, and unknown values get the generic
 * mask (first character + `***`, length hidden).
 */
export function maskValue(value: string, category?: Category): string {
  let v = String(value ?? '').trim();
  if (v.length === 0) return '';
  // Whole, before the cut: only a well-formed envelope is shown as one (a cut one never parses).
  if (isStewardCiphertext(v)) return `${STEWARD_CIPHERTEXT_PREFIX}****`;
  if (v.length > MASK_MAX_INPUT) v = v.slice(0, MASK_MAX_INPUT);
  const cat = category ?? inferCategory(v);
  let out: string;
  switch (cat) {
    case 'contact.email':
      out = maskEmail(v);
      break;
    case 'contact.phone':
      out = maskPhone(v);
      break;
    case 'financial.card':
      out = maskCard(v);
      break;
    case 'financial.bank_account':
      out = maskIban(v);
      break;
    case 'identity.government_id':
      out = maskKeepLast(v, 2);
      break;
    case 'identity.person_name':
      out = maskName(v);
      break;
    case 'network.ip_address':
      out = maskIp(v);
      break;
    case 'identity.date_of_birth':
      out = maskDate(v);
      break;
    case 'credentials.secret':
      out = maskSecret(v);
      break;
    case 'location.geolocation':
      out = maskGeo(v);
      break;
    case 'contact.postal_address':
      out = maskAddress(v);
      break;
    case 'contact.postcode':
      out = maskPostcode(v);
      break;
    default:
      out = generic(v);
  }
  // Never hand back the raw value.
  if (out === v || (v.length >= 4 && out.includes(v))) return STARS;
  return out;
}
