/**
 * Legal holds: rows of a source table that no retention method (erase,
 * archive, cleanup) may touch until the hold is released or expires.
 *
 * Three kinds of hold:
 * - by predicate (`--where "case_id = 42"`): the rows for which the operator's
 *   SQL boolean expression is true, evaluated at every retention run (rows that
 *   start to match later are held too). Predicates are trusted operator input,
 *   like a WHERE typed into psql; see src/retention/hold-rules.ts for what is
 *   refused before one is ever run.
 * - by subject identifier (`--subject-column email --subject-value …`): for a
 *   data subject's litigation. The identifier is personal data, so it is never
 *   stored or logged: when the hold is placed, the subject is resolved to the
 *   primary keys of the rows whose column matches (`lower(trim(col)) =
 *   lower(trim(value))`), and the hold keeps exactly those rows (`pk in (…)`).
 *   Only an HMAC of the normalised identifier is kept with it, under a key
 *   derived from a per-store secret, so "is this person held?" can be answered
 *   by whoever knows the identifier. Rows of the same person written after the
 *   hold was placed are not held by it: place another hold then.
 * - the whole table (`--all`).
 *
 * Every hold placed, released or expired is in the activity log (`hold.added`,
 * `hold.released`, `hold.expired`) with its id, source, table, row count,
 * reason and end — never a predicate's text (only its SHA-256: it may hold
 * literal personal values) nor a subject identifier.
 *
 * The retention engine asks {@link activeHolds} / {@link holdFilterFor} for a
 * table's holds and ANDs {@link holdExclusion}'s `exclude` into its queries.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { HoldError, UsageError, isStewardError } from '../errors.js';
import { classifyDriverError, displayTable, toSourceError } from '../sources/errors.js';
import { predicateSql } from '../sources/predicate.js';
import { exactSpelling, schemasNamed, tableReadings, tablesNamed } from '../sources/table-names.js';
import type { Source, TableInfo, TableRef } from '../sources/types.js';
import type { StoredHold } from '../state/holds.js';
import type { StateStore } from '../state/store.js';
import {
  MAX_SUBJECT_KEYS,
  checkPredicate,
  checkReason,
  expiredBeforeRelease,
  holdExclusion,
  holdStatus,
  maskPredicate,
  parseUntil,
  personalCategory,
  personalLiterals,
  predicateDigest,
  predicateErrorReason,
  subjectHmac,
  type HoldFilter,
  type HoldStatus,
} from './hold-rules.js';

export {
  checkPredicate,
  holdCondition,
  holdExclusion,
  holdStatus,
  keyListCondition,
  parseUntil,
  predicateDigest,
  subjectHmac,
  type HoldExclusion,
  type HoldFilter,
  type HoldSqlOptions,
  type HoldStatus,
} from './hold-rules.js';
export type { StoredHold } from '../state/holds.js';

/** The name of the store secret subject HMACs are keyed from. */
const SUBJECT_SECRET = 'legal-hold-subject';
/** Default statement timeout for the queries that check a new hold. */
export const DEFAULT_HOLD_TIMEOUT_MS = 60_000;
/** A change older than this whose log entry is missing was cut short by a crash: {@link expireHolds} logs it. */
const CATCH_UP_AFTER_MS = 5 * 60_000;

/** A hold as listed: everything but the recorded keys and the subject HMAC. */
export interface HoldView {
  readonly id: string;
  readonly source: string;
  /** As the operator wrote it. */
  readonly table: string;
  /** `schema.table` it resolved to. */
  readonly resolvedTable: string;
  readonly kind: StoredHold['kind'];
  /** The predicate of a `where` hold (the operator's own text, kept in the state store). */
  readonly predicate: string | null;
  readonly subjectColumn: string | null;
  /** Rows pinned by a subject hold. */
  readonly keyCount: number | null;
  /** Rows the hold covered when it was placed. */
  readonly heldRows: number;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly until: string | null;
  readonly status: HoldStatus;
  readonly releasedAt: string | null;
  readonly releasedBy: string | null;
  readonly releaseReason: string | null;
}

export function holdView(h: StoredHold, now: Date): HoldView {
  return {
    id: h.id,
    source: h.source,
    table: h.table,
    resolvedTable: `${h.schema}.${h.tableName}`,
    kind: h.kind,
    // Shown with personal-looking literals masked; the store keeps the text, which must run.
    predicate: h.predicate === null ? null : maskPredicate(h.predicate),
    subjectColumn: h.subjectColumn,
    keyCount: h.keys ? h.keys.values.length : null,
    heldRows: h.heldRows,
    reason: h.reason,
    createdBy: h.createdBy,
    createdAt: h.createdAt,
    until: h.until,
    status: holdStatus(h, now),
    releasedAt: h.releasedAt,
    releasedBy: h.releasedBy,
    releaseReason: h.releaseReason,
  };
}

export interface AddHoldOptions {
  readonly store: StateStore;
  /** An open source (read-only is enough: placing a hold only reads). */
  readonly source: Source;
  /** `customers` or `schema.customers`. */
  readonly table: string;
  /** Hold the rows this SQL boolean expression selects. */
  readonly where?: string;
  /** Hold the rows whose `column` matches this identifier now (trimmed, case-insensitive). */
  readonly subject?: { readonly column: string; readonly value: string };
  /** Hold the whole table. */
  readonly all?: boolean;
  readonly reason: string;
  /** `2027-06-30` (through that day, UTC) or an ISO instant; absent: until released. */
  readonly until?: string;
  readonly actor: string;
  readonly now?: Date;
  /** Longest the checking query may run. Default {@link DEFAULT_HOLD_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

export interface AddHoldResult {
  readonly hold: HoldView;
  /** Rows the hold covers now. */
  readonly rows: number;
  /** What the operator should know (a literal that looks like personal data). */
  readonly warnings: readonly string[];
}

/**
 * Places a hold. Checks everything first — the reason, `until`, the table, the
 * predicate's text, then the predicate itself by counting the rows it selects
 * in a read-only transaction under a statement timeout — and stores nothing
 * when any check fails (UsageError with one line saying what is wrong).
 */
export async function addHold(o: AddHoldOptions): Promise<AddHoldResult> {
  const now = o.now ?? new Date();
  const modes = [o.where !== undefined, o.subject !== undefined, o.all === true].filter(Boolean).length;
  if (modes !== 1) {
    throw new UsageError('say which rows to hold with exactly one of --where, --subject-column/--subject-value, or --all', {
      hint: 'e.g. --where "case_id = 42", or --subject-column email --subject-value-env SUBJECT, or --all for the whole table',
    });
  }
  const reason = checkReason(o.reason);
  const until = o.until !== undefined ? parseUntil(o.until, now) : null;
  const timeoutMs = o.timeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS;
  const table = await resolveHoldTable(o.source, o.table);
  const shown = `${table.schema}.${table.name}`;
  const id = randomUUID();
  const base = { id, source: o.source.name, table: o.table, schema: table.schema, tableName: table.name, reason, createdBy: o.actor, createdAt: now.toISOString(), until };
  let hold: Parameters<StateStore['holds']['insert']>[0];
  let rows: number;
  const logDetails: Record<string, unknown> = {};

  if (o.where !== undefined) {
    const predicate = checkPredicate(o.where, o.source.kind);
    rows = await guarded(o.source, table, timeoutMs, 'the --where predicate', async () => {
      const r = await o.source.readOnlyQuery<{ n: unknown }>(timeoutMs, (hint) => sql`select ${hint}count(*) as ${sql.id('n')} from ${tableSql(table)} where ${predicateSql(predicate)}`);
      return Number(r[0]?.n ?? 0);
    }, predicate);
    hold = { ...base, kind: 'where', predicate, subjectColumn: null, subjectHmac: null, keys: null, heldRows: rows };
    logDetails.predicateSha256 = predicateDigest(predicate);
  } else if (o.subject !== undefined) {
    const { column, value } = o.subject;
    const col = table.columns.find((c) => c.name === column);
    if (!col) throw new UsageError(`table ${shown} has no column ${column}`, { hint: `Its columns: ${table.columns.map((c) => c.name).join(', ')}` });
    if (col.typeClass !== 'text') throw new UsageError(`${column} is a ${col.dataType} column: a subject identifier is matched as text`, { hint: `Hold by predicate instead: --where "${column} = …"` });
    if (value.trim() === '') throw new UsageError('the subject value is empty', { hint: 'Give the identifier the rows hold, e.g. the email address' });
    const pk = checkKeyColumns(table, column);
    const found = await guarded(o.source, table, timeoutMs, 'the subject lookup', () =>
      o.source.readOnlyQuery<Record<string, unknown>>(
        timeoutMs,
        (hint) => sql`select ${hint}${sql.join(pk.map((k) => sql.id(k.name)))} from ${tableSql(table)}
          where lower(trim(${sql.id(column)})) = lower(trim(${value})) order by ${sql.join(pk.map((k) => sql.id(k.name)))} limit ${MAX_SUBJECT_KEYS + 1}`,
      ),
    );
    if (found.length === 0) {
      throw new UsageError(`no row of ${shown} has ${column} equal to that value (compared trimmed, ignoring case): there is nothing to hold`, {
        hint: 'Check the value and the column; if the column is encrypted by Steward, hold by predicate on its blind index or by key instead. Nothing was stored',
      });
    }
    if (found.length > MAX_SUBJECT_KEYS) {
      throw new UsageError(`more than ${MAX_SUBJECT_KEYS} rows of ${shown} match that subject, more than one hold pins by key`, {
        hint: 'Hold by predicate on a column that groups them (e.g. --where "customer_id = 42"); nothing was stored',
      });
    }
    const values = found.map((r) => pk.map((k) => keyValue(r[k.name], shown)));
    for (const [i, k] of pk.entries()) {
      if (k.typeClass === 'integer') continue;
      const v = values.find((row) => typeof row[i] === 'string' && personalCategory(row[i] as string));
      if (v) {
        throw new UsageError(`the primary key of ${shown} (${k.name}) holds personal data, which a subject hold would have to store`, {
          hint: `Hold by predicate instead (--where), knowing its text is kept in the state store; nothing was stored`,
        });
      }
    }
    rows = values.length;
    const secret = await o.store.holds.secret(SUBJECT_SECRET);
    hold = {
      ...base,
      kind: 'subject',
      predicate: null,
      subjectColumn: column,
      subjectHmac: subjectHmac(secret, value),
      keys: { columns: pk.map((k) => k.name), types: pk.map((k) => k.typeClass), values },
      heldRows: rows,
    };
    logDetails.subjectColumn = column;
  } else {
    rows = await guarded(o.source, table, timeoutMs, 'counting the table', async () => {
      const r = await o.source.readOnlyQuery<{ n: unknown }>(timeoutMs, (hint) => sql`select ${hint}count(*) as ${sql.id('n')} from ${tableSql(table)}`);
      return Number(r[0]?.n ?? 0);
    });
    hold = { ...base, kind: 'table', predicate: null, subjectColumn: null, subjectHmac: null, keys: null, heldRows: rows };
  }

  // The hold is in force from the insert on; if its log entry cannot be written, it is taken back.
  await o.store.holds.insert(hold);
  try {
    await o.store.appendActivity({
      at: now.toISOString(),
      actor: o.actor,
      action: 'hold.added',
      subject: { hold: id, source: o.source.name, table: shown },
      details: { kind: hold.kind, rows, reason, until, ...logDetails },
    });
  } catch (e) {
    await o.store.holds.remove(id).catch(() => undefined);
    throw e;
  }
  await o.store.holds.markLogged(id, 'added', new Date().toISOString());
  const stored = (await o.store.holds.get(id))!;
  const personal = hold.kind === 'where' ? [...new Set(personalLiterals(hold.predicate ?? '').map((l) => l.category))] : [];
  const warnings = personal.length
    ? [`the predicate holds what looks like personal data (${personal.join(', ')}) as a literal, kept as written in the state store (listings mask it). To hold one person's rows, use --subject-column COLUMN --subject-value-env VAR instead: it keeps only a keyed hash of the identifier`]
    : [];
  return { hold: holdView(stored, now), rows, warnings };
}

export interface ListHoldsOptions {
  readonly source?: string;
  /** Released and expired holds too (default: only holds in force). */
  readonly includeReleased?: boolean;
  /** Only holds placed on this subject identifier (compared by HMAC). */
  readonly subjectValue?: string;
  readonly now?: Date;
}

/** Holds, oldest first: by default only those in force at `now`. */
export async function listHolds(store: StateStore, options: ListHoldsOptions = {}): Promise<HoldView[]> {
  const now = options.now ?? new Date();
  let holds = await store.holds.list(options.source !== undefined ? { source: options.source } : {});
  if (options.subjectValue !== undefined) {
    const mac = subjectHmac(await store.holds.secret(SUBJECT_SECRET), options.subjectValue);
    holds = holds.filter((h) => h.subjectHmac === mac);
  }
  const views = holds.map((h) => holdView(h, now));
  return options.includeReleased ? views : views.filter((v) => v.status === 'active');
}

/** A hold by its id or a unique prefix of it (at least 4 characters). */
export async function findHold(store: StateStore, idOrPrefix: string): Promise<StoredHold> {
  const p = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/.test(p)) throw new UsageError(`"${idOrPrefix}" is not a hold id`, { hint: 'Give the id `steward hold list` shows (its first 8 characters are enough)' });
  const hits = await store.holds.byPrefix(p, 2);
  if (hits.length === 0) throw new UsageError(`there is no hold ${idOrPrefix}`, { hint: 'See `steward hold list --all`' });
  if (hits.length > 1) throw new UsageError(`"${idOrPrefix}" is the start of several hold ids`, { hint: 'Give more of the id' });
  return hits[0]!;
}

/**
 * Releases a hold (id or unique prefix), recording who and why. A hold that
 * already expired can still be released (for the record); one that was
 * released is refused.
 */
export async function releaseHold(store: StateStore, idOrPrefix: string, o: { readonly actor: string; readonly reason: string; readonly now?: Date }): Promise<HoldView> {
  const now = o.now ?? new Date();
  const reason = checkReason(o.reason);
  const hold = await findHold(store, idOrPrefix);
  if (hold.releasedAt !== null) throw new UsageError(`hold ${hold.id.slice(0, 8)} was already released on ${hold.releasedAt} by ${hold.releasedBy}`, { hint: 'See `steward hold list --all`' });
  const at = now.toISOString();
  if (!(await store.holds.release(hold.id, { at, by: o.actor, reason }))) {
    throw new UsageError(`hold ${hold.id.slice(0, 8)} was released by someone else just now`, { hint: 'See `steward hold list --all`' });
  }
  try {
    await store.appendActivity({
      at,
      actor: o.actor,
      action: 'hold.released',
      subject: { hold: hold.id, source: hold.source, table: `${hold.schema}.${hold.tableName}` },
      details: { kind: hold.kind, reason, placedAt: hold.createdAt, until: hold.until, expired: expiredBeforeRelease(hold, now) },
    });
  } catch (e) {
    // Not logged, so not released: the hold stays in force.
    await store.holds.unrelease(hold.id, at).catch(() => undefined);
    throw e;
  }
  await store.holds.markLogged(hold.id, 'released', new Date().toISOString());
  return holdView((await store.holds.get(hold.id))!, now);
}

/**
 * Writes the `hold.expired` entry of every hold whose end has passed (once per
 * hold; the scheduler and the `steward hold` commands call this). Also writes
 * any `hold.added` / `hold.released` entry a crash kept from being written
 * (marked `late: true`). Expiry itself needs no entry to take effect: a hold
 * is out of force from its `until` on.
 */
export async function expireHolds(store: StateStore, o: { readonly actor: string; readonly now?: Date }): Promise<{ readonly expired: HoldView[]; readonly late: number }> {
  const now = o.now ?? new Date();
  const expired: HoldView[] = [];
  let late = 0;
  const settled = (at: string) => Date.parse(at) <= now.getTime() - CATCH_UP_AFTER_MS;
  for (const h of await store.holds.list()) {
    const subject = { hold: h.id, source: h.source, table: `${h.schema}.${h.tableName}` };
    if (h.addedLoggedAt === null && settled(h.createdAt)) {
      const details: Record<string, unknown> = { kind: h.kind, rows: h.heldRows, reason: h.reason, until: h.until, late: true };
      if (h.predicate !== null) details.predicateSha256 = predicateDigest(h.predicate);
      if (h.subjectColumn !== null) details.subjectColumn = h.subjectColumn;
      await store.appendActivity({ at: now.toISOString(), actor: o.actor, action: 'hold.added', subject, details });
      await store.holds.markLogged(h.id, 'added', now.toISOString());
      late++;
    }
    if (h.releasedAt !== null && h.releasedLoggedAt === null && settled(h.releasedAt)) {
      await store.appendActivity({
        at: now.toISOString(),
        actor: o.actor,
        action: 'hold.released',
        subject,
        details: { kind: h.kind, reason: h.releaseReason, releasedAt: h.releasedAt, releasedBy: h.releasedBy, placedAt: h.createdAt, until: h.until, late: true },
      });
      await store.holds.markLogged(h.id, 'released', now.toISOString());
      late++;
    }
    if (h.expiredLoggedAt === null && expiredBeforeRelease(h, now)) {
      await store.appendActivity({ at: now.toISOString(), actor: o.actor, action: 'hold.expired', subject, details: { kind: h.kind, until: h.until, placedAt: h.createdAt, reason: h.reason } });
      if (await store.holds.markLogged(h.id, 'expired', now.toISOString())) expired.push(holdView(h, now));
    }
  }
  return { expired, late };
}

/**
 * The holds in force on one table at `now`. `table` is a TableRef (exact) or
 * the name as written: `schema.table` (exact) or `table` (that name in any
 * schema of the source — a hold is never missed, at worst one is applied to a
 * same-named table of another schema, where its SQL then fails loudly).
 */
export async function activeHolds(store: StateStore, source: string, table: string | TableRef, now: Date = new Date()): Promise<StoredHold[]> {
  // A name as written may hold dots of its own (`ops@corp.example`): every reading is searched, so no hold is missed.
  const filters: { source: string; schema?: string; table: string }[] =
    typeof table === 'string' ? tableReadings(table).map((r) => (r.schema === undefined ? { source, table: r.name } : { source, schema: r.schema, table: r.name })) : [{ source, schema: table.schema, table: table.name }];
  const found = new Map<string, StoredHold>();
  for (const filter of filters) for (const h of await store.holds.list(filter)) if (holdStatus(h, now) === 'active') found.set(h.id, h);
  return [...found.values()];
}

/**
 * For the retention engine (`RetentionContext.holds`): a function giving each
 * table's {@link HoldFilter}, from the holds in force at `now`.
 */
export function holdFilterFor(store: StateStore, source: Pick<Source, 'name' | 'kind' | 'db'>, now: Date = new Date()): (table: TableRef) => Promise<HoldFilter> {
  return async (table) => {
    const holds = await activeHolds(store, source.name, table, now);
    for (const h of holds) if (h.kind === 'where') await probeHold(source, table, h);
    return holdExclusion(holds, { kind: source.kind, now });
  };
}

/**
 * Runs a hold's predicate once with `limit 0` (parsed and planned, no row read): a
 * predicate that broke since it was placed (a renamed column) is named here, with the
 * fix, instead of failing the retention query with a driver error. Fails closed: the
 * caller runs nothing on the table.
 */
async function probeHold(source: Pick<Source, 'name' | 'kind' | 'db'>, table: TableRef, hold: StoredHold): Promise<void> {
  let predicate: ReturnType<typeof checkPredicate>;
  try {
    predicate = checkPredicate(hold.predicate ?? '', source.kind);
  } catch (e) {
    throw new HoldError(hold.id, `legal hold ${hold.id.slice(0, 8)} on ${source.name}.${table.schema}.${table.name} has a predicate Steward no longer accepts (${(e as Error).message.replace(/^the --where predicate is not accepted: /, '')})`, {
      hint: `Nothing of ${table.name} was touched. Release it (steward hold release ${hold.id.slice(0, 8)} --reason "…") and place it again with a predicate that passes the check`,
    });
  }
  try {
    await sql`select 1 from ${tableSql(table)} where ${predicateSql(predicate)} limit 0`.execute(source.db);
  } catch (e) {
    throw new HoldError(hold.id, `legal hold ${hold.id.slice(0, 8)} on ${source.name}.${table.schema}.${table.name} no longer runs on its table: ${predicateErrorReason(e, source.kind)}`, {
      hint: `Its rows are kept: nothing of ${table.name} was touched, the other tables' policies ran. The table changed since the hold was placed (a column renamed or dropped?): release it (steward hold release ${hold.id.slice(0, 8)} --reason "…") and place it again over the table's columns as they are now`,
    });
  }
}

/**
 * Rows of `table` that the given holds keep (those in force at `now`, when
 * given), optionally only among rows matching `extraWhere` (e.g. the rows a
 * policy makes due). Runs on `db` (a caller's transaction) or the source's pool.
 */
export async function countHeld(
  source: Source,
  table: TableRef,
  holds: readonly StoredHold[],
  extraWhere?: RawBuilder<unknown>,
  options: { readonly now?: Date; readonly db?: Kysely<any> } = {},
): Promise<number> {
  const x = holdExclusion(holds, { kind: source.kind, ...(options.now ? { now: options.now } : {}) });
  if (!x.held) return 0;
  const where = extraWhere ? sql`(${x.held}) and (${extraWhere})` : x.held;
  try {
    const r = await sql<{ n: unknown }>`select count(*) as ${sql.id('n')} from ${tableSql(table)} where ${where}`.execute(options.db ?? source.db);
    return Number(r.rows[0]?.n ?? 0);
  } catch (e) {
    if (isStewardError(e)) throw e;
    throw toSourceError(e, { source: source.name, kind: source.kind, action: 'count the held rows of', table });
  }
}

// ---- helpers

const tableSql = (t: TableRef): RawBuilder<unknown> => sql`${sql.id(t.schema, t.name)}`;

/** `customers` / `schema.customers` → the table; refuses views and unknown or ambiguous names. */
async function resolveHoldTable(source: Source, tableArg: string): Promise<TableInfo> {
  if (!tableArg) throw new UsageError('--table is empty', { hint: 'Name a table: --table customers or --table public.customers' });
  let all = await source.introspect();
  let tables = tablesNamed(all, tableArg);
  if (tables.length === 0 && schemasNamed(tableArg).length > 0) {
    all = [...all, ...(await source.introspect({ schemas: schemasNamed(tableArg) }))];
    tables = tablesNamed(all, tableArg);
  }
  if (tables.length === 0) throw new UsageError(`source "${source.name}" has no table ${tableArg}`, { hint: 'Check --table: TABLE or SCHEMA.TABLE, as `steward audit` lists them; nothing was stored' });
  if (tables.length > 1) throw new UsageError(`--table ${tableArg} names several tables (${tables.map((t) => `${t.schema}.${t.name}`).join(', ')})`, { hint: `Name one exactly: ${tables.map((t) => `--table '${exactSpelling(t)}'`).join(' or ')}` });
  const table = tables[0]!;
  if (table.kind !== 'table') throw new UsageError(`${tableArg} is a view: its rows live in the tables it reads`, { hint: 'Hold the rows of the underlying tables' });
  return table;
}

/** The primary key columns of a table a subject hold can pin rows by. */
function checkKeyColumns(table: TableInfo, subjectColumn: string): TableInfo['columns'][number][] {
  const shown = `${table.schema}.${table.name}`;
  if (table.primaryKey.length === 0) {
    throw new UsageError(`table ${shown} has no primary key, so a subject hold cannot name its rows`, { hint: `Hold by predicate instead: --where "${subjectColumn} = …" (its text is kept in the state store), or add a primary key` });
  }
  if (table.primaryKey.includes(subjectColumn)) {
    throw new UsageError(`${subjectColumn} is part of the primary key of ${shown}: the hold would have to store the identifier itself`, { hint: `Hold by predicate instead: --where "${subjectColumn} = …" (its text is kept in the state store)` });
  }
  return table.primaryKey.map((k) => {
    const c = table.columns.find((x) => x.name === k);
    if (!c || !['integer', 'text', 'uuid', 'decimal'].includes(c.typeClass)) {
      throw new UsageError(`the primary key of ${shown} has a ${c?.dataType ?? 'unknown'} part (${k}), which a subject hold cannot record`, { hint: 'Hold by predicate instead (--where); tables keyed by integers, text or UUIDs support subject holds' });
    }
    return c;
  });
}

function keyValue(v: unknown, shown: string): string | number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  throw new UsageError(`a primary key value of ${shown} came back as ${v === null ? 'null' : typeof v}, which a subject hold cannot record`, { hint: 'Hold by predicate instead (--where)' });
}

/** Runs a query that checks a new hold; maps what goes wrong to one clear line. */
async function guarded<T>(source: Source, table: TableInfo, timeoutMs: number, what: string, fn: () => Promise<T>, predicate?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isStewardError(e)) throw e;
    const shown = displayTable(source.kind, table);
    if (isTimeout(e)) {
      throw new UsageError(`${what} did not finish on ${shown} within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`, {
        hint: 'Make the predicate use an index, or give it longer with --timeout; nothing was stored',
      });
    }
    const x = e as { code?: unknown; errno?: unknown };
    if (x?.code === '25006' || x?.errno === 1792) {
      throw new UsageError(`${what} tries to change data on ${shown} (it ran in a read-only transaction)`, { hint: 'A hold selects rows; it must not write. Nothing was stored' });
    }
    const { code } = classifyDriverError(e, source.kind);
    if (code === 'SOURCE_QUERY' || code === 'SOURCE_NOT_FOUND') {
      throw new UsageError(`${what} does not run on ${shown}: ${predicateErrorReason(e, source.kind, { names: table.columns.map((c) => c.name), ...(predicate !== undefined ? { predicate } : {}) })}`, {
        hint: 'Write it as what would follow WHERE in this database\'s SQL, over the table\'s own columns; nothing was stored',
      });
    }
    throw toSourceError(e, { source: source.name, kind: source.kind, action: 'check a legal hold on', table, command: 'hold' });
  }
}

function isTimeout(e: unknown): boolean {
  const x = e as { code?: unknown; errno?: unknown };
  return x?.code === '57014' || x?.code === 'ER_QUERY_TIMEOUT' || x?.errno === 3024 || x?.errno === 1969 || x?.code === 'ER_STATEMENT_TIMEOUT';
}
