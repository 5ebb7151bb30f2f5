/**
 * The identifiers a data subject is looked up by, normalised per kind so that the
 * same person is found however a form wrote them: emails case-folded and trimmed,
 * phones in E.164 (libphonenumber-js), national IDs without separators, and keys
 * (`customers.id=42`) as given. Pure: no I/O.
 *
 * Kinds have a strength: a *strong* identifier (email, national ID, key) names one
 * person; a *weak* one (phone) may be shared by a household. Closure over weak
 * identifiers never merges a row that carries a different strong identifier (see
 * find.ts).
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { UsageError } from '../errors.js';

export type IdentifierKind = 'email' | 'phone' | 'nationalId' | 'key';

/** Which inventory category holds which identifier kind. */
export const IDENTIFIER_CATEGORIES: Readonly<Record<string, Exclude<IdentifierKind, 'key'>>> = {
  'contact.email': 'email',
  'contact.phone': 'phone',
  'identity.government_id': 'nationalId',
};

export const STRONG: ReadonlySet<IdentifierKind> = new Set(['email', 'nationalId', 'key']);

export interface Identifier {
  readonly kind: IdentifierKind;
  /** The normalised value (what is compared). */
  readonly value: string;
  /** For `key`: the table spelling and column the value belongs to (`customers`, `id`). */
  readonly table?: string;
  readonly column?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `  Alice@Example.COM ` → `alice@example.com`; null when it is not an address. */
export function normaliseEmail(raw: string): string | null {
  const v = raw.trim().normalize('NFC').toLowerCase();
  return EMAIL.test(v) ? v : null;
}

/** `020 7946 0958` (GB) / `+44 20 7946 0958` → `+442079460958`; null when it is no valid number. */
export function normalisePhone(raw: string, defaultCountry?: CountryCode): string | null {
  const p = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  return p && p.isPossible() ? p.number : null;
}

/** `AB 12 34 56 C` / `123-45-6789` → `AB123456C` / `123456789`; null when nothing is left. */
export function normaliseNationalId(raw: string): string | null {
  const v = raw.normalize('NFKC').replace(/[\s\-./]/g, '').toUpperCase();
  return /^[A-Z0-9]{4,}$/.test(v) ? v : null;
}

/** A stored value of a column of `kind` normalised for comparison, or null when it is none. */
export function normaliseStored(kind: Exclude<IdentifierKind, 'key'>, raw: unknown, defaultCountry?: CountryCode): string | null {
  if (raw === null || raw === undefined) return null;
  const s = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
  if (kind === 'email') return normaliseEmail(s);
  if (kind === 'phone') return normalisePhone(s, defaultCountry);
  return normaliseNationalId(s);
}

/** The digits a phone number is stored with, for matching a stored value written any way. */
export function phoneDigitVariants(e164: string, defaultCountry?: CountryCode): string[] {
  const p = parsePhoneNumberFromString(e164);
  if (!p) return [e164.replace(/\D/g, '')];
  const out = new Set<string>([e164.replace(/\D/g, ''), `00${e164.replace(/\D/g, '')}`]);
  const national = p.formatNational().replace(/\D/g, '');
  if (!defaultCountry || p.country === defaultCountry) out.add(national);
  out.add(String(p.nationalNumber));
  return [...out];
}

/** What the command line gave: `--email`, `--phone`, `--national-id`, `--id table.column=value`. */
export interface IdentifierInput {
  readonly email?: readonly string[];
  readonly phone?: readonly string[];
  readonly nationalId?: readonly string[];
  readonly id?: readonly string[];
}

/**
 * Normalises the identifiers given; refuses (UsageError, exit 2) a malformed one,
 * naming the flag but never echoing the value (it is personal data).
 */
export function parseIdentifiers(input: IdentifierInput, options: { readonly defaultCountry?: CountryCode } = {}): Identifier[] {
  const out: Identifier[] = [];
  const seen = new Set<string>();
  const add = (i: Identifier) => {
    const k = `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(i);
    }
  };
  (input.email ?? []).forEach((raw, n) => {
    const v = normaliseEmail(raw);
    if (!v) throw new UsageError(`--email #${n + 1} is not an email address`, { hint: 'Give the address as the person wrote it, e.g. --email alice@example.com' });
    add({ kind: 'email', value: v });
  });
  (input.phone ?? []).forEach((raw, n) => {
    const v = normalisePhone(raw, options.defaultCountry);
    if (!v) {
      throw new UsageError(`--phone #${n + 1} is not a phone number${options.defaultCountry ? ` (read as ${options.defaultCountry} when it has no country code)` : ''}`, {
        hint: 'Give it with its country code (+44 20 7946 0958), or set subjects.defaultCountry in steward.yml for national numbers',
      });
    }
    add({ kind: 'phone', value: v });
  });
  (input.nationalId ?? []).forEach((raw, n) => {
    const v = normaliseNationalId(raw);
    if (!v) throw new UsageError(`--national-id #${n + 1} is not an identity number`, { hint: 'Give letters and digits; spaces and dashes are ignored' });
    add({ kind: 'nationalId', value: v });
  });
  for (const raw of input.id ?? []) {
    const eq = raw.indexOf('=');
    const ref = eq > 0 ? raw.slice(0, eq) : '';
    const dot = ref.lastIndexOf('.');
    if (eq <= 0 || dot <= 0 || dot === ref.length - 1 || eq === raw.length - 1) {
      throw new UsageError('--id is not TABLE.COLUMN=VALUE', { hint: 'e.g. --id customers.id=42 (the table may be SCHEMA.TABLE)' });
    }
    add({ kind: 'key', table: ref.slice(0, dot), column: ref.slice(dot + 1), value: raw.slice(eq + 1) });
  }
  if (out.length === 0) throw new UsageError('no identifier given', { hint: 'Name the person: --email, --phone, --national-id or --id TABLE.COLUMN=VALUE' });
  return out;
}

/** `alice@example.com` → `a***@example.com`; for human output, never the value itself. */
export function maskIdentifier(i: Identifier): string {
  if (i.kind === 'email') {
    const at = i.value.lastIndexOf('@');
    return `${i.value.slice(0, 1)}***${i.value.slice(at)}`;
  }
  if (i.kind === 'phone') return `${i.value.slice(0, 3)}…${i.value.slice(-2)}`;
  if (i.kind === 'nationalId') return `${i.value.slice(0, 2)}…`;
  return `${i.table}.${i.column}=${i.value}`;
}

/** How a phone number is written in prose: E.164, international and national formatting. */
export function phoneSpellings(e164: string): string[] {
  const p = parsePhoneNumberFromString(e164);
  if (!p) return [e164];
  return [...new Set([e164, p.formatInternational(), p.formatNational()])];
}
