/**
 * Legal holds, the pure part: what a predicate may look like, when a hold is in
 * force, how a subject identifier is pseudonymised, and the SQL that keeps held
 * rows out of every retention query. The I/O (placing, listing, releasing,
 * expiring holds) is src/retention/holds.ts.
 *
 * Predicates are SQL boolean expressions written by the operator, like a
 * `WHERE` typed into psql: trusted operator input, never input from the
 * application or its users. They are checked (lexed and parsed for the
 * dialect) by src/sources/predicate.ts, the same check retention policies'
 * `where:` gets, and only ever placed parenthesised inside Steward's own
 * conditions.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { createClassifier } from '../detection/classify.js';
import { maskValue } from '../detection/mask.js';
import { describeDriverError, operatorIdentifiers } from '../sources/errors.js';
import { UsageError } from '../errors.js';
import { checkPredicate, predicateSql } from '../sources/predicate.js';
import type { SourceKind } from '../sources/types.js';
import type { HoldKeys, StoredHold } from '../state/holds.js';

/** Most rows one subject hold may pin by primary key. */
export const MAX_SUBJECT_KEYS = 10_000;
/** Longest reason accepted. */
export const MAX_REASON_CHARS = 500;

// ---- predicates

/** Operator predicates are checked in one place for holds and policies alike: src/sources/predicate.ts. */
export { checkPredicate, MAX_PREDICATE_CHARS } from '../sources/predicate.js';

/** SHA-256 (hex) of a predicate: what the activity log records instead of its text, which may hold literal personal values. */
export function predicateDigest(predicate: string): string {
  return createHash('sha256').update(predicate, 'utf8').digest('hex');
}

// ---- expiry

/**
 * `--until`: an ISO date (`2027-06-30`: the hold lasts through that whole day,
 * UTC, so it ends at 2027-07-01T00:00:00Z) or an ISO instant with a time zone.
 * Returns the instant the hold stops being in force; refuses anything not
 * after `now`.
 */
export function parseUntil(text: string, now: Date): string {
  const t = text.trim();
  let at: Date;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    at = new Date(`${t}T00:00:00.000Z`);
    if (!Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === t) at = new Date(at.getTime() + 86_400_000);
    else at = new Date(NaN);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) {
    at = new Date(t);
  } else {
    at = new Date(NaN);
  }
  if (Number.isNaN(at.getTime())) {
    throw new UsageError(`--until "${text}" is not a date`, { hint: 'Use an ISO-8601 date such as 2027-06-30 (held through that day, UTC) or an instant such as 2027-06-30T17:00:00Z' });
  }
  if (at.getTime() <= now.getTime()) {
    throw new UsageError(`--until ${text} is not in the future: the hold would never be in force`, { hint: 'Give a later date, or leave --until out for a hold that lasts until it is released' });
  }
  return at.toISOString();
}

export type HoldStatus = 'active' | 'expired' | 'released';

/**
 * Released holds are released; otherwise a hold is in force until the instant
 * `until` (exclusive): at `until` exactly, it has expired.
 */
export function holdStatus(hold: Pick<StoredHold, 'until' | 'releasedAt'>, now: Date): HoldStatus {
  if (hold.releasedAt !== null) return 'released';
  if (hold.until !== null && Date.parse(hold.until) <= now.getTime()) return 'expired';
  return 'active';
}

/** A hold that expired (its `until` passed before any release), whether or not it was released later. */
export function expiredBeforeRelease(hold: Pick<StoredHold, 'until' | 'releasedAt'>, now: Date): boolean {
  if (hold.until === null) return false;
  const end = hold.releasedAt !== null ? Date.parse(hold.releasedAt) : now.getTime();
  return Date.parse(hold.until) <= end;
}

// ---- subjects

/** How a subject identifier is compared: surrounding white space removed, lower case. */
export function normalizeSubject(value: string): string {
  return value.trim().toLowerCase();
}

/**
 * HMAC-SHA256 (hex) of a normalised subject identifier, under a key derived
 * (HKDF-SHA256) from the store's secret. Recorded with a subject hold instead
 * of the identifier, so that "is this person held?" can be answered by whoever
 * has the identifier and the store, while the store alone does not reveal who
 * is held. The same identifier gives the same HMAC in every table.
 */
export function subjectHmac(secret: Buffer, value: string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.from('steward/legal-hold'), Buffer.from('subject-hmac/v1'), 32));
  return createHmac('sha256', key).update(normalizeSubject(value), 'utf8').digest('hex');
}

// ---- personal data guard

let guard: ReturnType<typeof createClassifier> | undefined;
const LOGGABLE = new Set(['identity.person_name', 'identity.date_of_birth', 'network.ip_address', 'location.geolocation']);

/** The category of personal data `value` looks like (as the activity log's guard sees it), or null. */
export function personalCategory(value: string): string | null {
  guard ??= createClassifier();
  const hit = guard.classifyValue(value);
  return hit && !LOGGABLE.has(hit.category) ? hit.category : null;
}

/** Checks a reason (for placing or releasing a hold): present, short, and holding no recognisable personal data (it goes to the activity log). */
export function checkReason(text: string | undefined, flag = '--reason'): string {
  const r = (text ?? '').trim();
  if (r === '') throw new UsageError(`${flag} is required`, { hint: 'Say why, for the record: the case or matter, e.g. --reason "Litigation hold, case 2026-CV-118"' });
  if (r.length > MAX_REASON_CHARS) throw new UsageError(`${flag} is longer than ${MAX_REASON_CHARS} characters`, { hint: 'Name the case or matter; keep the details in your case file' });
  guard ??= createClassifier();
  const whole = personalCategory(r);
  const inside = guard.scanText(r).find((m) => !LOGGABLE.has(m.category));
  const found = whole ? { category: whole, text: r } : inside ? { category: inside.category as string, text: r.slice(inside.start, inside.end) } : null;
  if (found) {
    throw new UsageError(`${flag} holds what looks like personal data (${found.category}: ${maskValue(found.text, found.category as never)}), and reasons go into the activity log`, {
      hint: 'Name the case or matter, not the person\'s identifiers; nothing was stored',
    });
  }
  return r;
}

/**
 * The string literals of a predicate that look like personal data, each with its
 * category and the literal masked: what `hold add` warns about and what listings show
 * instead of the literal (the state store keeps the text: it must run).
 */
export function personalLiterals(predicate: string): { category: string; start: number; end: number; masked: string }[] {
  const out: { category: string; start: number; end: number; masked: string }[] = [];
  for (const m of predicate.matchAll(/'((?:[^']|'')*)'/g)) {
    const inner = m[1]!.replaceAll("''", "'");
    const category = personalCategory(inner);
    if (category) out.push({ category, start: m.index!, end: m.index! + m[0].length, masked: `'${maskValue(inner, category as never).replaceAll("'", "''")}'` });
  }
  return out;
}

/** The predicate with every personal-looking string literal masked (for display). */
export function maskPredicate(predicate: string): string {
  let out = predicate;
  for (const l of personalLiterals(predicate).reverse()) out = out.slice(0, l.start) + l.masked + out.slice(l.end);
  return out;
}

/**
 * A driver error about an operator's predicate, as one line that names what is
 * wrong without repeating a value: quoted literals are elided (as everywhere
 * Steward reports driver errors), and a quoted name that looks like personal
 * data (an email typed in double quotes is an identifier in Postgres) is masked.
 */
export function predicateErrorReason(error: unknown, kind: SourceKind, known: { readonly predicate?: string; readonly names?: readonly string[] } = {}): string {
  // Whitelisted (src/sources/errors.ts): the driver's text is never shown; the names in it are, when the
  // table has them or the operator typed them as identifiers (masked by the detectors), never its literals.
  return describeDriverError(error, kind, { names: known.names ?? [], operatorNames: known.predicate ? operatorIdentifiers(known.predicate, kind) : [] }).reason;
}

// ---- SQL

/** What a retention query needs to leave held rows alone (the shape src/retention/apply.ts takes). */
export interface HoldFilter {
  /** True for rows no hold keeps: AND it into every query that changes or deletes rows. Null when no hold is in force. */
  readonly exclude: RawBuilder<unknown> | null;
  /** A hold covers the whole table: nothing in it may be touched. */
  readonly wholeTable: boolean;
}

export interface HoldExclusion extends HoldFilter {
  /** True for rows some hold keeps (for counting them); null when no hold is in force. */
  readonly held: RawBuilder<unknown> | null;
  /** The holds the SQL was built from. */
  readonly holdIds: readonly string[];
}

export interface HoldSqlOptions {
  /** The dialect, for the predicate check's quoting rules. */
  readonly kind?: SourceKind;
  /** Leave out holds not in force at this instant (released ones are always left out). */
  readonly now?: Date;
}

/**
 * The SQL that keeps held rows out of a retention query, pushed down into the
 * database (the cost grows with the rows the query touches, not with the
 * holds' size):
 *
 *   exclude = (case when (p1) then 0 when (p2) then 0 … else 1 end) = 1
 *   held    = (p1) or (p2) …
 *
 * A row is held exactly when `select … where (p)` would return it. `not (p1 or
 * p2)` is not used for `exclude`: a row for which a predicate is NULL
 * (`case_id = 42` on a row whose case_id is null) would be neither held nor
 * deletable — counted as not held, yet never deleted. The CASE form makes
 * held and excluded exact complements.
 *
 * Subject holds become `(pk…) in ((…), …)` over the keys recorded when they
 * were placed; integer keys and plain text keys are written as literals (so
 * any number of holds stays below bind-parameter limits), others as
 * parameters. A whole-table hold gives `wholeTable` and `exclude = (1 = 0)`.
 */
export function holdExclusion(holds: readonly StoredHold[], options: HoldSqlOptions = {}): HoldExclusion {
  const inForce = holds.filter((h) => (options.now ? holdStatus(h, options.now) === 'active' : h.releasedAt === null));
  const holdIds = inForce.map((h) => h.id);
  if (inForce.some((h) => h.kind === 'table')) return { exclude: sql`1 = 0`, held: sql`1 = 1`, wholeTable: true, holdIds };
  if (inForce.length === 0) return { exclude: null, held: null, wholeTable: false, holdIds };
  const conditions = inForce.map((h) => holdCondition(h, options.kind));
  return {
    exclude: sql`(case ${sql.join(conditions.map((c) => sql`when ${c} then 0`), sql` `)} else 1 end) = 1`,
    held: sql.join(conditions, sql` or `),
    wholeTable: false,
    holdIds,
  };
}

/** One hold's condition, parenthesised. */
export function holdCondition(hold: StoredHold, kind?: SourceKind): RawBuilder<unknown> {
  switch (hold.kind) {
    case 'where':
      // Checked when the hold was placed; checked again in case the store was edited since.
      return predicateSql(checkPredicate(hold.predicate ?? '', kind));
    case 'subject':
      return keyListCondition(hold.keys ?? { columns: [], types: [], values: [] });
    case 'table':
      return sql`(1 = 1)`;
  }
}

const PLAIN_TEXT = /^[A-Za-z0-9_.:-]{1,200}$/;
const INTEGER = /^-?\d{1,30}$/;

/** `(k1, k2) in ((…), …)` over recorded primary keys; `(1 = 0)` for none. */
export function keyListCondition(keys: HoldKeys): RawBuilder<unknown> {
  if (keys.values.length === 0 || keys.columns.length === 0) return sql`(1 = 0)`;
  const literal = (v: string | number, type: string | undefined): RawBuilder<unknown> => {
    if (type === 'integer' && (typeof v === 'number' ? Number.isSafeInteger(v) : INTEGER.test(v))) return sql.raw(String(v));
    if (typeof v === 'string' && type !== 'integer' && type !== 'decimal' && PLAIN_TEXT.test(v)) return sql.raw(`'${v}'`);
    return sql`${v}`;
  };
  const tuple = (row: readonly (string | number)[]) => (row.length === 1 ? literal(row[0]!, keys.types[0]) : sql`(${sql.join(row.map((v, i) => literal(v, keys.types[i])))})`);
  const cols = keys.columns.length === 1 ? sql.id(keys.columns[0]!) : sql`(${sql.join(keys.columns.map((c) => sql.id(c)))})`;
  return sql`(${cols} in (${sql.join(keys.values.map(tuple))}))`;
}
