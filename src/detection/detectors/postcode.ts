/**
 * Postcodes with a distinctive shape: UK (full outward/inward rules), US
 * ZIP+4, Canada, Netherlands. Purely numeric 4–5 digit codes (DE, FR, ES, IT,
 * US ZIP, AT, CH, BE…) look like any other number, so test() does not accept
 * them; `isNumericPostcode` is for the classifier once the column name says
 * "postcode". No scan(): postcode shapes in prose are mostly not postcodes.
 */
import type { ValueDetector } from '../types.js';
import { isDigit, isUpper, boundedTrim } from './util.js';

const inSet = (ch: string | undefined, set: string): boolean => ch !== undefined && set.includes(ch);
const L = (ch: string | undefined): boolean => ch !== undefined && isUpper(ch.charCodeAt(0));
const D = (ch: string | undefined): boolean => ch !== undefined && isDigit(ch.charCodeAt(0));

/** UK postcode: A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA (space optional), or GIR 0AA. */
export function isUkPostcode(value: string): boolean {
  const v = (boundedTrim(value, 8) ?? '').toUpperCase();
  if (v.length < 5 || v.length > 8) return false;
  if (v === 'GIR 0AA' || v === 'GIR0AA') return true;
  const compact = v.replace(' ', '');
  if (compact.length < 5 || compact.length > 7 || compact.includes(' ')) return false;
  if (v.includes(' ') && v.indexOf(' ') !== v.length - 4) return false;
  const inward = compact.slice(-3);
  const out = compact.slice(0, -3);
  if (!D(inward[0]) || !L(inward[1]) || !L(inward[2]) || inSet(inward[1], 'CIKMOV') || inSet(inward[2], 'CIKMOV')) return false;
  const a = out[0];
  if (!L(a) || inSet(a, 'QVX')) return false;
  switch (out.length) {
    case 2: // A9
      return D(out[1]);
    case 3: // A99 | AA9 | A9A
      if (D(out[1]) && D(out[2])) return true;
      if (L(out[1]) && D(out[2])) return !inSet(out[1], 'IJZ');
      if (D(out[1]) && L(out[2])) return inSet(out[2], 'ABCDEFGHJKPSTUW');
      return false;
    case 4: // AA99 | AA9A
      if (!L(out[1]) || inSet(out[1], 'IJZ') || !D(out[2])) return false;
      return D(out[3]) || inSet(out[3], 'ABEHMNPRVWXY');
    default:
      return false;
  }
}

/** US ZIP+4 `12345-6789` (a bare 5-digit ZIP is numeric: see isNumericPostcode). */
export function isUsZipPlus4(value: string): boolean {
  const v = boundedTrim(value, 10) ?? '';
  if (v.length !== 10 || v[5] !== '-') return false;
  for (let i = 0; i < 10; i++) if (i !== 5 && !isDigit(v.charCodeAt(i))) return false;
  return true;
}

/** Canadian postal code `K1A 0B1` (space optional). */
export function isCaPostcode(value: string): boolean {
  const v = (boundedTrim(value, 7) ?? '').toUpperCase();
  const c = v.length === 7 && v[3] === ' ' ? v.slice(0, 3) + v.slice(4) : v;
  if (c.length !== 6) return false;
  if (!L(c[0]) || !D(c[1]) || !L(c[2]) || !D(c[3]) || !L(c[4]) || !D(c[5])) return false;
  if (inSet(c[0], 'DFIOQUWZ')) return false;
  return !inSet(c[2], 'DFIOQU') && !inSet(c[4], 'DFIOQU');
}

/** Dutch postcode `1234 AB` (space optional; first digit not 0; SA/SD/SS unused). */
export function isNlPostcode(value: string): boolean {
  const v = (boundedTrim(value, 7) ?? '').toUpperCase();
  const c = v.length === 7 && v[4] === ' ' ? v.slice(0, 4) + v.slice(5) : v;
  if (c.length !== 6 || c[0] === '0') return false;
  for (let i = 0; i < 4; i++) if (!D(c[i])) return false;
  if (!L(c[4]) || !L(c[5])) return false;
  const letters = c.slice(4);
  return letters !== 'SA' && letters !== 'SD' && letters !== 'SS';
}

const NUMERIC_RANGES: Readonly<Record<string, readonly [number, number, number]>> = {
  // country: [digits, min, max]
  DE: [5, 1001, 99998],
  FR: [5, 1000, 98999],
  ES: [5, 1001, 52999],
  IT: [5, 10, 98168],
  US: [5, 501, 99950],
  AT: [4, 1010, 9992],
  CH: [4, 1000, 9658],
  BE: [4, 1000, 9992],
  DK: [4, 800, 9990],
  AU: [4, 200, 9944],
  NL: [4, 1000, 9999],
};

/**
 * A purely numeric postcode: 5 digits (DE/FR/ES/IT/US) or 4 digits
 * (AT/CH/BE/DK/AU/NL); with a country, within that country's range. Only
 * meaningful when the column name says postcode / PLZ / code postal / CP.
 */
export function isNumericPostcode(value: string, country?: string): boolean {
  const v = boundedTrim(value, 5) ?? '';
  if (v.length !== 4 && v.length !== 5) return false;
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return false;
  const n = Number(v);
  if (country !== undefined) {
    const r = NUMERIC_RANGES[country.toUpperCase()];
    if (r === undefined) return false;
    return v.length === r[0] && n >= r[1] && n <= r[2];
  }
  if (v.length === 5) return n >= 501 && n !== 0;
  return v[0] !== '0' || n >= 200;
}

export function isPostcode(value: string): boolean {
  const v = boundedTrim(value, 10);
  if (v === null || v.length < 5) return false;
  return isUkPostcode(v) || isUsZipPlus4(v) || isCaPostcode(v) || isNlPostcode(v);
}

export const postcode: ValueDetector = {
  id: 'postcode',
  category: 'contact.postcode',
  test: isPostcode,
};
