/**
 * Operator SQL: the boolean expressions an operator writes into Steward (a legal
 * hold's `--where`, a retention policy's `where:`), checked once, in one place,
 * before any of them reaches a database.
 *
 * They are trusted operator input, like a `WHERE` typed into psql, but Steward
 * places them inside its own conditions (`(due) and (not held) and (<predicate>)`),
 * so a predicate must be exactly one expression that cannot end those parentheses
 * early, hide text from a reader, or take one of Steward's bind parameters. Two
 * independent checks, both must pass:
 *
 * 1. A lexer that knows each dialect's quoting: refuses `;`, comments (`--`, `/* *\/`,
 *    MySQL `#`), unbalanced parentheses or quotes, Postgres dollar quotes, bind
 *    placeholders (`$1`, `?`, SQLite `:name`/`@name`/`$name`), NUL, and backslashes
 *    inside string literals whose meaning depends on server settings (MySQL
 *    `NO_BACKSLASH_ESCAPES`, Postgres `standard_conforming_strings`): a string the
 *    lexer and the server end in different places is how text escapes its parentheses.
 * 2. A SQL parser of the dialect (node-sql-parser): `select 1 from t where <p>` must
 *    parse as one statement whose WHERE is the whole predicate.
 *
 * The result is a {@link CheckedPredicate}; only {@link predicateSql} turns one into
 * SQL, always parenthesised, so no predicate text can change the precedence of the
 * conditions around it.
 */
import { sql, type RawBuilder } from 'kysely';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import { SOURCE_DIALECTS, dialectOf } from './dialects.js';
import type { SourceKind } from './kinds.js';
import type { PredicateSyntax, SourceDialect } from './types.js';

/** Longest predicate accepted. */
export const MAX_PREDICATE_CHARS = 4000;

declare const checked: unique symbol;
/** A predicate that passed {@link checkPredicate} (trimmed). */
export type CheckedPredicate = string & { readonly [checked]: true };

export interface PredicateLabel {
  /** What the text is, for messages: `the --where predicate`, `retention.policies[2].where`. */
  readonly what: string;
  /** What to do instead, for the hint. */
  readonly example: string;
}

const HOLD_LABEL: PredicateLabel = { what: 'the --where predicate', example: 'e.g. --where "case_id = 42 and created_at < \'2024-01-01\'"' };

/**
 * The lexer's rules before the source is known: what any dialect reads as a comment,
 * a string escape or a dollar quote is refused, but not a character that is an
 * operator in one of them (Postgres `#>`, `?`, `@>`); each dialect's parser must then
 * accept the predicate too.
 */
const ANY_DIALECT: PredicateSyntax = Object.freeze({
  parsers: [],
  backslashInStrings: SOURCE_DIALECTS.some((d) => d.predicates.backslashInStrings),
  backslashInDoubleQuotes: SOURCE_DIALECTS.some((d) => d.predicates.backslashInDoubleQuotes),
  escapeStrings: SOURCE_DIALECTS.some((d) => d.predicates.escapeStrings),
  hashComments: SOURCE_DIALECTS.every((d) => d.predicates.hashComments),
  dollarQuotes: SOURCE_DIALECTS.some((d) => d.predicates.dollarQuotes),
  numberedParameters: SOURCE_DIALECTS.some((d) => d.predicates.numberedParameters),
  questionParameters: SOURCE_DIALECTS.every((d) => d.predicates.questionParameters),
  namedParameters: SOURCE_DIALECTS.every((d) => d.predicates.namedParameters),
});
type Parser = { astify(text: string, options: { database: string }): unknown };
const parsers = new Map<string, Parser>();
const require = createRequire(import.meta.url);
/** One dialect's parser, loaded on first use (each is a separate build of node-sql-parser; all of them load in ~0.3 s). */
function parserFor(database: string): Parser {
  let p = parsers.get(database);
  if (!p) {
    const { Parser: P } = require(`node-sql-parser/build/${database}`) as { Parser: new () => Parser };
    p = new P();
    parsers.set(database, p);
  }
  return p;
}

/**
 * Checks an operator's predicate for `kind` and returns it trimmed. Without a
 * kind (a check before the source is known), every dialect's rules apply at once.
 *
 * @throws UsageError naming what is wrong and where (character position), never repeating the text.
 */
export function checkPredicate(text: string, kind?: SourceKind, label: PredicateLabel = HOLD_LABEL): CheckedPredicate {
  const p = text.trim();
  const refuse = (why: string, hint = `Write one boolean expression over the table's columns, ${label.example}`): never => {
    throw new UsageError(`${label.what} is not accepted: ${why}`, { hint });
  };
  if (p === '') refuse('it is empty');
  if (p.length > MAX_PREDICATE_CHARS) refuse(`it is longer than ${MAX_PREDICATE_CHARS} characters`, 'Select fewer rows per predicate, or by a column that groups them (e.g. case_id = 42)');
  if (p.includes('\0')) refuse('it contains a NUL character');
  const dialect = kind ? dialectOf(kind) : undefined;
  lex(p, dialect?.predicates ?? ANY_DIALECT, refuse);
  for (const d of dialect ? [dialect] : SOURCE_DIALECTS) parse(p, d, refuse);
  return p as CheckedPredicate;
}

/** The predicate as SQL, parenthesised: the only way a checked predicate becomes SQL. */
export function predicateSql(p: CheckedPredicate): RawBuilder<unknown> {
  return sql`(${sql.raw(p)})`;
}

/** `(c1) and (c2) and …`: conditions joined so that none can change another's precedence. */
export function allOf(conditions: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  if (conditions.length === 0) return sql`(1 = 1)`;
  return sql.join(conditions.map((c) => sql`(${c})`), sql` and `);
}

function lex(p: string, syntax: PredicateSyntax, refuse: (why: string, hint?: string) => never): void {
  const backslashHint = "Write the character itself (a quote inside a string is doubled: 'O''Brien'); a backslash's meaning depends on the server's settings";
  let depth = 0;
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    const next = p[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      // Postgres E'…' strings always take backslash escapes, whatever the settings.
      const eString = c === "'" && syntax.escapeStrings && /[eE]/.test(p[i - 1] ?? '') && !/[\w$]/.test(p[i - 2] ?? '');
      const end = closing(p, i, c, eString);
      if (end < 0) refuse(`a ${c === "'" ? 'string' : 'quoted identifier'} opened at character ${i + 1} is not closed`);
      const body = p.slice(i + 1, end);
      if (!eString && body.includes('\\') && (c === "'" ? syntax.backslashInStrings : c === '"' && syntax.backslashInDoubleQuotes)) {
        refuse(`the ${c === "'" ? 'string' : 'quoted text'} at character ${i + 1} holds a backslash, which the server may or may not read as an escape`, backslashHint);
      }
      i = end + 1;
      continue;
    }
    if (c === ';') refuse('it contains ";" (one expression only, no second statement)');
    if ((c === '-' && next === '-') || (c === '/' && next === '*') || (c === '*' && next === '/')) refuse('it contains a comment ("--" or "/* */")');
    if (c === '#' && syntax.hashComments) refuse('it contains "#", a comment in MySQL');
    if (c === '$' && syntax.dollarQuotes && /^\$[A-Za-z_]*\$/.test(p.slice(i))) refuse('it contains a dollar-quoted string ($$…$$)', "Write string literals in single quotes: 'text'");
    const placeholder =
      (syntax.numberedParameters && c === '$' && /\d/.test(next ?? '') && !/[\w$]/.test(p[i - 1] ?? '')) ||
      (syntax.questionParameters && c === '?') ||
      (syntax.namedParameters && (c === ':' || c === '@' || c === '$') && /[A-Za-z_]/.test(next ?? '') && !/[\w:]/.test(p[i - 1] ?? ''));
    if (placeholder) refuse(`the "${c}" at character ${i + 1} is a bind parameter, which would take the value of one of Steward's own`, "Write the value itself: created_at < '2024-01-01'");
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) refuse(`the ")" at character ${i + 1} closes a parenthesis that was never opened`);
    i++;
  }
  if (depth !== 0) refuse(`${depth} parenthes${depth === 1 ? 'is is' : 'es are'} not closed`);
}

/** Index of the quote closing the one at `start`, or -1. A doubled quote is a quote inside; with `escapes`, so is a backslash-escaped one. */
function closing(text: string, start: number, quote: string, escapes: boolean): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (escapes && c === '\\') {
      i++;
      continue;
    }
    if (c === quote) {
      if (text[i + 1] === quote) {
        i++;
        continue;
      }
      return i;
    }
  }
  return -1;
}

const PREFIX = 'SELECT 1 FROM t WHERE ';

function parse(p: string, dialect: SourceDialect, refuse: (why: string, hint?: string) => never): void {
  let lastError: { offset?: number } | null = null;
  for (const database of dialect.predicates.parsers) {
    let ast: unknown;
    try {
      ast = parserFor(database).astify(`${PREFIX}${p}`, { database });
    } catch (e) {
      const offset = (e as { location?: { start?: { offset?: number } } }).location?.start?.offset;
      lastError = { ...(offset !== undefined ? { offset } : {}) };
      continue;
    }
    const statements = Array.isArray(ast) ? ast : [ast];
    const only = statements[0] as { type?: string; where?: unknown } | undefined;
    if (statements.length !== 1 || only?.type !== 'select' || !only.where) refuse('it is not one boolean expression');
    if (hasParameter(only.where)) refuse("it holds a bind parameter, which would take the value of one of Steward's own", "Write the value itself: created_at < '2024-01-01'");
    return;
  }
  const at = lastError?.offset !== undefined ? ` near character ${Math.max(1, lastError.offset - PREFIX.length + 1)}` : '';
  const name = dialect.displayName;
  refuse(`it does not parse as one ${name} boolean expression${at}`, `Check the expression in a ${name} client (select count(*) from the_table where …), then give it again`);
}

function hasParameter(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if ((node as { type?: unknown }).type === 'param') return true;
  return Object.values(node as Record<string, unknown>).some(hasParameter);
}
