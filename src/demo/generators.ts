/**
 * Generators of fake but checksum-valid identifiers, cards, phones and secrets,
 * driven by a seeded faker instance so that every value is reproducible.
 * Used by the demo database and by the labelled accuracy corpus.
 */
import type { Faker } from '@faker-js/faker';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type DemoCountry = 'US' | 'GB' | 'DE' | 'FR' | 'ES';

const DIGITS = '0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BCRYPT64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function chars(f: Faker, alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[f.number.int({ min: 0, max: alphabet.length - 1 })];
  return s;
}

// ------------------------------------------------------------ national IDs

/** US SSN `123-45-6789`: area 001–899 except 666, group 01–99, serial 0001–9999. */
export function fakeSsn(f: Faker): string {
  let area = f.number.int({ min: 1, max: 899 });
  if (area === 666) area = 665;
  const group = f.number.int({ min: 1, max: 99 });
  const serial = f.number.int({ min: 1, max: 9999 });
  return `${pad(area, 3)}-${pad(group, 2)}-${pad(serial, 4)}`;
}

const NINO_FIRST = 'ABCEGHJKLMNOPRSTWXYZ'; // not D F I Q U V
const NINO_SECOND = 'ABCEGHJKLMNPRSTWXYZ'; // not D F I O Q U V
const NINO_BAD_PREFIX = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/** UK National Insurance number `AB123456C` (valid prefix, suffix A–D). */
export function fakeNino(f: Faker, spaced = false): string {
  let prefix: string;
  do prefix = chars(f, NINO_FIRST, 1) + chars(f, NINO_SECOND, 1);
  while (NINO_BAD_PREFIX.has(prefix));
  const digits = chars(f, DIGITS, 6);
  const suffix = chars(f, 'ABCD', 1);
  return spaced ? `${prefix} ${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4)} ${suffix}` : `${prefix}${digits}${suffix}`;
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI `12345678Z` (mod-23 control letter); with `nie`, an NIE `X1234567L`. */
export function fakeDni(f: Faker, nie = false): string {
  if (nie) {
    const lead = f.number.int({ min: 0, max: 2 });
    const body = chars(f, DIGITS, 7);
    return `${'XYZ'[lead]}${body}${DNI_LETTERS[Number(`${lead}${body}`) % 23]}`;
  }
  const n = f.number.int({ min: 1_000_000, max: 99_999_999 });
  return `${pad(n, 8)}${DNI_LETTERS[n % 23]}`;
}

/**
 * French NIR (numéro de sécurité sociale), 15 digits: sex, year, month of birth,
 * department (mainland, 01–95 without 20), commune, order, key 97 − (n mod 97).
 */
export function fakeNir(f: Faker, sex: 'male' | 'female', birth: Date, spaced = false): string {
  let dept = f.number.int({ min: 1, max: 94 });
  if (dept >= 20) dept++;
  const parts = [
    sex === 'male' ? '1' : '2',
    pad(birth.getUTCFullYear() % 100, 2),
    pad(birth.getUTCMonth() + 1, 2),
    pad(dept, 2),
    pad(f.number.int({ min: 1, max: 990 }), 3),
    pad(f.number.int({ min: 1, max: 999 }), 3),
  ];
  const body = parts.join('');
  const key = pad(97 - Number(BigInt(body) % 97n), 2);
  return spaced ? `${parts.join(' ')} ${key}` : body + key;
}

/** ISO 7064 MOD 11,10 check digit of the German tax ID. */
export function deTaxIdCheckDigit(ten: string): number {
  let product = 10;
  for (let i = 0; i < ten.length; i++) {
    let sum = (Number(ten[i]) + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

/**
 * German Steuerliche Identifikationsnummer: 11 digits, first not 0; in the first
 * ten exactly one digit occurs twice and the others at most once; check digit.
 */
export function fakeSteuerId(f: Faker): string {
  for (;;) {
    const digits = f.helpers.shuffle([...DIGITS]).slice(0, 9);
    const twice = digits[f.number.int({ min: 0, max: 8 })]!;
    digits.splice(f.number.int({ min: 0, max: 9 }), 0, twice);
    if (digits[0] === '0') continue;
    const ten = digits.join('');
    return ten + String(deTaxIdCheckDigit(ten));
  }
}

/** The national ID a customer of this country would have on file. */
export function fakeNationalId(f: Faker, country: DemoCountry, sex: 'male' | 'female', birth: Date): string {
  switch (country) {
    case 'US':
      return fakeSsn(f);
    case 'GB':
      return fakeNino(f);
    case 'DE':
      return fakeSteuerId(f);
    case 'FR':
      return fakeNir(f, sex, birth);
    case 'ES':
      return fakeDni(f, f.number.int({ min: 0, max: 9 }) === 0);
  }
}

// ------------------------------------------------------------ payment cards

export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = payload.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(payload[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export type CardBrand = 'visa' | 'mastercard' | 'amex';

/** A Luhn-valid PAN in a real issuer range: Visa 4…(16), Mastercard 51–55/2221–2720 (16), Amex 34/37 (15). */
export function fakeCardNumber(f: Faker, brand?: CardBrand): string {
  const b = brand ?? f.helpers.weightedArrayElement<CardBrand>([
    { weight: 5, value: 'visa' },
    { weight: 4, value: 'mastercard' },
    { weight: 1, value: 'amex' },
  ]);
  let prefix: string;
  let length: number;
  if (b === 'visa') {
    prefix = '4';
    length = 16;
  } else if (b === 'mastercard') {
    prefix = f.datatype.boolean({ probability: 0.8 })
      ? String(f.number.int({ min: 51, max: 55 }))
      : String(f.number.int({ min: 2221, max: 2720 }));
    length = 16;
  } else {
    prefix = f.helpers.arrayElement(['34', '37']);
    length = 15;
  }
  const payload = prefix + chars(f, DIGITS, length - 1 - prefix.length);
  return payload + String(luhnCheckDigit(payload));
}

/** `MM/YY` within the next five years of `ref`. */
export function fakeCardExpiry(f: Faker, ref: Date): string {
  const month = f.number.int({ min: 1, max: 12 });
  const year = (ref.getUTCFullYear() + f.number.int({ min: 0, max: 5 })) % 100;
  return `${pad(month, 2)}/${pad(year, 2)}`;
}

// ------------------------------------------------------------ bank accounts

const IBAN_SHAPES: Record<DemoCountry | 'NL' | 'IT', { bban: Array<['n' | 'a' | 'c', number]> }> = {
  US: { bban: [] }, // no IBANs in the US; handled by callers
  GB: { bban: [['a', 4], ['n', 14]] },
  DE: { bban: [['n', 18]] },
  FR: { bban: [['n', 10], ['c', 11], ['n', 2]] },
  ES: { bban: [['n', 20]] },
  NL: { bban: [['a', 4], ['n', 10]] },
  IT: { bban: [['a', 1], ['n', 10], ['c', 12]] },
};

function ibanCheckDigits(country: string, bban: string): string {
  const rearranged = bban + country + '00';
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 ? String(code - 55) : ch;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return pad(98 - rem, 2);
}

/** An IBAN with valid mod-97 check digits; `spaced` groups it by four. */
export function fakeIban(f: Faker, country: 'GB' | 'DE' | 'FR' | 'ES' | 'NL' | 'IT', spaced = false): string {
  const bban = IBAN_SHAPES[country].bban
    .map(([kind, n]) => chars(f, kind === 'n' ? DIGITS : kind === 'a' ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', n))
    .join('');
  const iban = country + ibanCheckDigits(country, bban) + bban;
  return spaced ? iban.replace(/(.{4})/g, '$1 ').trim() : iban;
}

// ------------------------------------------------------------ postcodes

const UK_AREAS = ['B', 'BS', 'CB', 'CF', 'E', 'EC', 'EH', 'G', 'L', 'LS', 'M', 'N', 'NE', 'NG', 'NW', 'OX', 'S', 'SE', 'SW', 'W'];
const UK_INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** A well-formed UK postcode (`SW1 4DX`, `LS12 7QT`): area, district, space, sector digit and unit letters. */
export function fakeUkPostcode(f: Faker): string {
  const area = f.helpers.arrayElement(UK_AREAS);
  const district = f.number.int({ min: 1, max: 20 });
  return `${area}${district} ${f.number.int({ min: 0, max: 9 })}${chars(f, UK_INWARD_LETTERS, 2)}`;
}

/** A postcode in the country's format (faker's own for all but the UK, whose faker patterns are not valid postcodes). */
export function fakePostcode(f: Faker, country: DemoCountry): string {
  return country === 'GB' ? fakeUkPostcode(f) : f.location.zipCode();
}

// ------------------------------------------------------------ phones

/**
 * A phone number that libphonenumber considers valid for the faker's locale,
 * formatted internationally (`+44 20 7946 0958`) or as E.164 (`+442079460958`).
 */
export function fakePhone(f: Faker, country: DemoCountry, style: 'international' | 'e164' | 'national' = 'international'): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const raw = f.phone.number({ style: 'international' });
    const parsed = parsePhoneNumberFromString(raw);
    if (parsed?.isValid() && parsed.country === (country as CountryCode)) {
      if (style === 'e164') return parsed.number;
      if (style === 'national') return parsed.formatNational();
      return parsed.formatInternational();
    }
  }
  // Faker's patterns for the locale failed 50 times in a row: fall back to a fixed valid shape.
  return FALLBACK_PHONE[country];
}

const FALLBACK_PHONE: Record<DemoCountry, string> = {
  US: '+1 202 555 0147',
  GB: '+44 20 7946 0958',
  DE: '+49 30 901820',
  FR: '+33 1 42 68 53 00',
  ES: '+34 912 34 56 78',
};

// ------------------------------------------------------------ secrets

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let s = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) s = BASE62[v % 62] + s;
  return s.padStart(width, '0');
}

export type TokenKind = 'stripe' | 'github' | 'slack' | 'aws' | 'sendgrid' | 'mailchimp' | 'openai';

/** A fake API token in the provider's real format (GitHub tokens carry their CRC32 checksum). */
export function fakeApiToken(f: Faker, kind: TokenKind): string {
  switch (kind) {
    case 'stripe':
      return `sk_live_${chars(f, ALNUM, 24)}`;
    case 'github': {
      const body = chars(f, ALNUM, 30);
      return `ghp_${body}${base62(crc32(body), 6)}`;
    }
    case 'slack':
      return `xoxb-${chars(f, DIGITS, 12)}-${chars(f, DIGITS, 13)}-${chars(f, ALNUM, 24)}`;
    case 'aws':
      return `AKIA${chars(f, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
    case 'sendgrid':
      return `SG.${chars(f, ALNUM + '-_', 22)}.${chars(f, ALNUM + '-_', 43)}`;
    case 'mailchimp':
      return `${chars(f, '0123456789abcdef', 32)}-us${f.number.int({ min: 1, max: 21 })}`;
    case 'openai':
      return `sk-proj-${chars(f, ALNUM, 48)}`;
  }
}

/** A bcrypt-shaped hash `$2b$12$` + 22-char salt + 31-char hash (last characters in their valid subsets). */
export function fakeBcryptHash(f: Faker, cost = 12): string {
  const salt = chars(f, BCRYPT64, 21) + chars(f, '.Oeu', 1);
  const hash = chars(f, BCRYPT64, 30) + chars(f, '.CGKOSWaeimquy26', 1);
  return `$2b$${pad(cost, 2)}$${salt}${hash}`;
}

/** ISO date `YYYY-MM-DD` (UTC). */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** SQL-style timestamp `YYYY-MM-DD HH:MM:SS` (UTC). */
export function isoTimestamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
