/**
 * EU national identifiers:
 * - `es_dni`: Spanish DNI (8 digits + control letter) and NIE (X/Y/Z + 7 digits + letter).
 * - `fr_nir`: French social security number (NIR): 13 digits + 2-digit key
 *   97 − (n mod 97); Corsica departments 2A/2B handled.
 * - `de_tax_id`: German Steuerliche Identifikationsnummer: 11 digits, first not 0,
 *   digit-repetition rule, ISO 7064 MOD 11,10 check digit.
 */
import type { Match, ValueDetector } from '../types.js';
import { at, isDigit, isUpper, isWordChar, match, boundedTrim } from './util.js';

// ---------------------------------------------------------------- es_dni

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** `12345678Z`, `12345678-Z`, `12345678 Z`, NIE `X1234567L`; case-insensitive letters. */
export function isEsDni(value: string): boolean {
  const v = (boundedTrim(value, 10) ?? '').toUpperCase();
  if (v.length < 9 || v.length > 10) return false;
  return readDni(v, 0) === v.length;
}

/** End index of a DNI/NIE at i, or -1. Expects upper case. */
function readDni(s: string, i: number): number {
  let num = '';
  let j = i;
  const first = s.charCodeAt(j);
  if (first === 88 || first === 89 || first === 90) {
    num = String(first - 88);
    j++;
    for (let k = 0; k < 7; k++, j++) {
      if (!isDigit(at(s, j))) return -1;
      num += s[j];
    }
  } else {
    for (let k = 0; k < 8; k++, j++) {
      if (!isDigit(at(s, j))) return -1;
      num += s[j];
    }
  }
  const sep = at(s, j);
  if (sep === 45 || sep === 32) j++;
  const letter = s[j];
  if (letter === undefined) return -1;
  if (DNI_LETTERS[Number(num) % 23] !== letter) return -1;
  return j + 1;
}

export function* scanEsDni(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 9 <= n; i++) {
    const c = text.charCodeAt(i);
    if (!(isDigit(c) || c === 88 || c === 89 || c === 90) || isWordChar(at(text, i - 1))) continue;
    const e = readDni(text, i);
    if (e > 0 && isUpper(text.charCodeAt(e - 1)) && !isWordChar(at(text, e))) {
      yield match('es_dni', 'identity.government_id', i, e);
      i = e - 1;
    }
  }
}

export const esDni: ValueDetector = {
  id: 'es_dni',
  category: 'identity.government_id',
  test: isEsDni,
  scan: scanEsDni,
};

// ---------------------------------------------------------------- fr_nir

/** 15-character compact NIR (digits, or 2A/2B in the department) is valid. */
export function isCompactNir(s: string): boolean {
  if (s.length !== 15) return false;
  const sex = s.charCodeAt(0) - 48;
  if (!(sex === 1 || sex === 2 || sex === 3 || sex === 4 || sex === 7 || sex === 8)) return false;
  let body = s.slice(0, 13);
  let corsica = 0;
  const d1 = s[6];
  if (s[5] === '2' && (d1 === 'A' || d1 === 'B' || d1 === 'a' || d1 === 'b')) {
    corsica = d1 === 'A' || d1 === 'a' ? 1_000_000 : 2_000_000;
    body = s.slice(0, 6) + '0' + s.slice(7, 13);
  }
  for (let i = 0; i < 13; i++) if (!isDigit(body.charCodeAt(i))) return false;
  for (let i = 13; i < 15; i++) if (!isDigit(s.charCodeAt(i))) return false;
  const month = Number(s.slice(3, 5));
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50)) return false;
  // Corsica: 2A → 19, 2B → 18 (i.e. 20 − 1, 20 − 2 in the department field).
  const n = Number(body) - corsica;
  const key = Number(s.slice(13, 15));
  return key === 97 - (n % 97);
}

/** Compact `185057800608436` or grouped `1 85 05 78 006 084 36` (single spaces). */
export function isFrNir(value: string): boolean {
  const v = boundedTrim(value, 21) ?? '';
  if (v.length < 15 || v.length > 21) return false;
  let compact = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 32) {
      if (v.charCodeAt(i - 1) === 32) return false;
      continue;
    }
    compact += v[i];
  }
  return isCompactNir(compact);
}

const NIR_GROUPS = [1, 2, 2, 2, 3, 3, 2];

export function* scanFrNir(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 15 <= n; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) || isWordChar(at(text, i - 1))) continue;
    // compact
    let e = -1;
    if (isDigit(at(text, i + 1)) && isDigit(at(text, i + 14)) && !isWordChar(at(text, i + 15)) && isCompactNir(text.slice(i, i + 15))) e = i + 15;
    else if (at(text, i + 1) === 32 && at(text, i + 4) === 32 && at(text, i + 7) === 32 && at(text, i + 10) === 32 && at(text, i + 14) === 32 && at(text, i + 18) === 32) {
      // grouped form
      let j = i;
      let compact = '';
      let ok = true;
      for (let g = 0; g < NIR_GROUPS.length && ok; g++) {
        if (g > 0) {
          if (at(text, j) !== 32) ok = false;
          j++;
        }
        for (let k = 0; k < NIR_GROUPS[g]! && ok; k++, j++) {
          const d = at(text, j);
          if (Number.isNaN(d)) ok = false;
          else compact += text[j];
        }
      }
      if (ok && !isWordChar(at(text, j)) && isCompactNir(compact)) e = j;
    }
    if (e > 0) {
      yield match('fr_nir', 'identity.government_id', i, e);
      i = e - 1;
    }
  }
}

export const frNir: ValueDetector = {
  id: 'fr_nir',
  category: 'identity.government_id',
  test: isFrNir,
  scan: scanFrNir,
};

// ---------------------------------------------------------------- de_tax_id

/** ISO 7064 MOD 11,10 check digit over the first 10 digits. */
export function deTaxCheckDigit(ten: string): number {
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (ten.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

/**
 * In the first 10 digits exactly one digit occurs twice or three times (a triple
 * never as three adjacent digits) and every other digit at most once.
 */
function deTaxRepetitionOk(ten: string): boolean {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[ten.charCodeAt(i) - 48]!++;
  let repeated = -1;
  for (let d = 0; d < 10; d++) {
    const k = counts[d]!;
    if (k > 3) return false;
    if (k >= 2) {
      if (repeated !== -1) return false;
      repeated = d;
    }
  }
  if (repeated === -1) return false;
  if (counts[repeated] === 3) {
    const ch = String(repeated);
    if (ten.includes(ch + ch + ch)) return false;
  }
  return true;
}

export function isCompactDeTaxId(d: string): boolean {
  if (d.length !== 11 || d[0] === '0') return false;
  for (let i = 0; i < 11; i++) if (!isDigit(d.charCodeAt(i))) return false;
  const ten = d.slice(0, 10);
  return deTaxRepetitionOk(ten) && deTaxCheckDigit(ten) === d.charCodeAt(10) - 48;
}

/** `86095742719` or grouped `86 095 742 719` (single spaces). */
export function isDeTaxId(value: string): boolean {
  const v = boundedTrim(value, 14) ?? '';
  if (v.length === 11) return isCompactDeTaxId(v);
  if (v.length === 14 && v[2] === ' ' && v[6] === ' ' && v[10] === ' ') {
    return isCompactDeTaxId(v.slice(0, 2) + v.slice(3, 6) + v.slice(7, 10) + v.slice(11));
  }
  return false;
}

export function* scanDeTaxIds(text: string): Generator<Match> {
  const n = text.length;
  for (let i = 0; i + 11 <= n; i++) {
    if (!isDigit(text.charCodeAt(i)) || isWordChar(at(text, i - 1))) continue;
    let e = -1;
    if (isDigit(at(text, i + 1)) && isDigit(at(text, i + 10))) {
      if (!isWordChar(at(text, i + 11)) && isCompactDeTaxId(text.slice(i, i + 11))) e = i + 11;
    } else if (at(text, i + 2) === 32 && at(text, i + 6) === 32 && at(text, i + 10) === 32) {
      if (i + 14 <= n && !isWordChar(at(text, i + 14)) && isDeTaxId(text.slice(i, i + 14))) e = i + 14;
    }
    if (e > 0) {
      yield match('de_tax_id', 'identity.government_id', i, e);
      i = e - 1;
    }
  }
}

export const deTaxId: ValueDetector = {
  id: 'de_tax_id',
  category: 'identity.government_id',
  test: isDeTaxId,
  scan: scanDeTaxIds,
};
