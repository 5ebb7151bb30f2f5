/**
 * The expressions a data-subject lookup compares stored identifiers by, as SQL text
 * for the index statements `steward subject map` suggests. subject-queries.ts builds
 * the same expressions for the lookups themselves (with `sql.id` and literals), so an
 * index on exactly this text serves them; test/unit/sources/dialects.test.ts checks
 * that the two agree, character for character, per dialect. Pure.
 */
import { InternalError } from '../errors.js';

/** The characters a phone number is written with that comparison ignores. */
export const PHONE_SEPARATORS: readonly string[] = Object.freeze([' ', '-', '(', ')', '.', '+', '/']);
/** The characters a national ID is written with that comparison ignores. */
export const ID_SEPARATORS: readonly string[] = Object.freeze([' ', '-', '.', '/']);

// Written into SQL as string literals (constants, never user input): only characters that need no escaping.
for (const ch of [...PHONE_SEPARATORS, ...ID_SEPARATORS]) if (!/^[ \-().+/]$/.test(ch)) throw new InternalError(`separator ${JSON.stringify(ch)} is not safe as an SQL literal`);

/** `replace(replace(<text>, ' ', ''), '-', '')…` over `chars`, as SQL text. */
export function strippedText(text: string, chars: readonly string[]): string {
  return chars.reduce((e, ch) => `replace(${e}, '${ch}', '')`, text);
}

/** How a lookup compares a column holding this kind of identifier, beyond plain equality. */
export interface LookupExpression {
  /** Characters removed before comparing. */
  readonly strip: readonly string[];
  /** Upper-cased after removing them (national IDs). */
  readonly upper: boolean;
}

export const PHONE_LOOKUP: LookupExpression = Object.freeze({ strip: PHONE_SEPARATORS, upper: false });
export const NATIONAL_ID_LOOKUP: LookupExpression = Object.freeze({ strip: ID_SEPARATORS, upper: true });

/** The lookup expression over `text` (the column already cast to text, as the dialect writes it). */
export function lookupExpressionText(text: string, e: LookupExpression): string {
  const s = strippedText(text, e.strip);
  return e.upper ? `upper(${s})` : s;
}
