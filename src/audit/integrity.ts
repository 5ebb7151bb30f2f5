/**
 * Integrity check — the third audit stage of the source text ("verify that all
 * stored data is accurate and up-to-date"). Every figure is computed by the
 * database and is exact (never an estimate):
 *
 * - one aggregate scan per table for validity, required nulls and staleness: plain
 *   aggregates only, so Postgres runs it as a parallel plan;
 * - per identifying column, unless a unique index on the folded value already rules
 *   duplicates out: `count(distinct key)`, where the key is a 64-bit hash of the folded
 *   value on Postgres (sorting 8-byte keys, not strings) and the folded value elsewhere.
 *   As many distinct keys as rows proves there is no duplicate. Otherwise rows are
 *   grouped by key, each group carrying min and max of the folded value: min = max
 *   proves the group is one value; a group where they differ (a hash collision) is
 *   recounted by value;
 * - one anti-join per unenforced reference.
 *
 * These queries are independent and run at once on the source's connection pool.
 * Node receives counts and at most three masked examples per check, never the rows,
 * so memory stays flat as tables grow.
 */
import { sql, type RawBuilder } from 'kysely';
import { addDuration, parseIsoDuration, type IsoDuration } from './schedule.js';
import { maskValue } from '../detection/mask.js';
import type { ColumnIntegrity, InventoryItem, TableIntegrity } from './types.js';

export type { ColumnIntegrity, TableIntegrity } from './types.js';
import type { Source, TableInfo } from '../sources/types.js';
import { findingId, type DraftFinding } from './collection-review.js';
import { InternalError } from '../errors.js';
import { CIPHERTEXT_PREFIX, parseCiphertext } from '../crypto/format.js';
import { keyTuple, valueTuple } from '../sources/column-writer.js';

export interface IntegrityConfig {
  readonly required: readonly string[];
  readonly staleAfter?: string | undefined;
  readonly updatedColumns: Readonly<Record<string, string>>;
  readonly references: Readonly<Record<string, string>>;
}

type Check = 'email' | 'phone' | 'birth_date';
const VALIDITY: Readonly<Record<string, Check>> = {
  'contact.email': 'email',
  'contact.phone': 'phone',
  'identity.date_of_birth': 'birth_date',
};
/** Identifying values that should be unique to one person. */
const IDENTIFYING = new Set(['contact.email', 'identity.government_id', 'financial.bank_account']);

const n = (v: unknown): number => Number(v ?? 0);
const negate = (d: IsoDuration): IsoDuration => ({
  years: -d.years, months: -d.months, weeks: -d.weeks, days: -d.days, hours: -d.hours, minutes: -d.minutes, seconds: -d.seconds,
});

function validity(source: Source, check: Check, c: RawBuilder<unknown>): RawBuilder<unknown> {
  const x = source.integrity;
  return check === 'email' ? x.invalidEmail(c) : check === 'phone' ? x.invalidPhone(c) : x.impossibleBirthDate(c);
}

/** One group of rows whose (hashed) folded value repeats: its size, and the least and greatest folded value in it. */
export interface DuplicateGroup {
  readonly rows: number;
  readonly lo: string;
  readonly hi: string;
}

export interface DuplicateCounts {
  readonly duplicatedValues: number;
  readonly duplicateRows: number;
}

/**
 * Duplicate figures from groups of equal hash (pure). A group whose least and
 * greatest folded value are equal holds one value on `rows` rows: one duplicated
 * value, `rows - 1` extra rows. A group where they differ is a hash collision that
 * proves nothing; its figures come from `recount` (grouped by the value itself),
 * which is required whenever such a group exists.
 */
export function duplicateCounts(
  confirmed: { readonly groups: number; readonly rows: number },
  collided: number,
  recount?: DuplicateCounts,
): DuplicateCounts {
  if (collided > 0 && !recount) throw new InternalError(`Duplicate count: ${collided} hash group(s) hold several values but were not recounted by value`);
  return {
    duplicatedValues: confirmed.groups + (recount?.duplicatedValues ?? 0),
    duplicateRows: confirmed.rows - confirmed.groups + (recount?.duplicateRows ?? 0),
  };
}

type Sql = RawBuilder<unknown>;

/**
 * Exact duplicate figures for one column, computed in SQL. `hash` (the dialect's,
 * or a deliberately weak one in tests) only decides how rows are grouped; the
 * figures never depend on it being collision-free.
 */
export async function countDuplicates(
  source: Source,
  t: Sql,
  c: Sql,
  hash: ((folded: Sql) => Sql) | undefined = source.integrity.hash,
): Promise<DuplicateCounts & { readonly examples: readonly string[] }> {
  const f = source.integrity.folded(c);
  const key = hash ? hash(f) : f;
  // Distinct keys never outnumber distinct values, so as many distinct keys as non-null
  // rows proves there is no duplicate. One sort of (8-byte) keys: the cheapest exact
  // answer for the common case of a column without duplicates.
  const distinct = source.integrity.countDistinct
    ? await source.integrity.countDistinct(source.db, t, c, key)
    : await sql<{ nn: unknown; nk: unknown }>`select count(${c}) as nn, count(distinct ${key}) as nk from ${t}`.execute(source.db).then((r) => ({ rows: n(r.rows[0]?.nn), keys: n(r.rows[0]?.nk) }));
  if (distinct.keys === distinct.rows) return { duplicatedValues: 0, duplicateRows: 0, examples: [] };
  const groups = sql`select ${key} as h, count(*) as k, min(${f}) as lo, max(${f}) as hi from ${t} where ${c} is not null group by ${key} having count(*) > 1`;
  // Counts over all groups ride on at most three rows (window aggregates); no group reaches Node beyond those.
  const top = await sql<{ lo: unknown; same: unknown; g: unknown; r: unknown; x: unknown }>`
    select lo, case when lo = hi then 1 else 0 end as same,
      count(case when lo = hi then 1 end) over () as g,
      sum(case when lo = hi then k else 0 end) over () as r,
      count(case when lo = hi then null else 1 end) over () as x
    from (${groups}) d
    order by case when lo = hi then 0 else 1 end, lo
    limit 3`.execute(source.db);
  const first = top.rows[0];
  const confirmed = { groups: n(first?.g), rows: n(first?.r) };
  const collided = n(first?.x);
  let recount: DuplicateCounts | undefined;
  const examples = top.rows.filter((r) => n(r.same) === 1).map((r) => String(r.lo));
  if (collided > 0) {
    // Only the rows of collided hash groups are grouped again, by their folded value.
    const byValue = sql`select ${f} as v, count(*) as k from ${t} where ${c} is not null and ${key} in (select h from (${groups}) d where lo <> hi) group by ${f} having count(*) > 1`;
    const r = await sql<{ v: unknown; g: unknown; r: unknown }>`select v, count(*) over () as g, sum(k) over () as r from (${byValue}) d order by v limit 3`.execute(source.db);
    const g = n(r.rows[0]?.g);
    recount = { duplicatedValues: g, duplicateRows: n(r.rows[0]?.r) - g };
    for (const row of r.rows) if (examples.length < 3) examples.push(String(row.v));
  }
  return { ...duplicateCounts(confirmed, collided, recount), examples };
}

/** Integrity figures for one table, pushed down into SQL. */
export async function checkTable(
  source: Source,
  table: TableInfo,
  items: readonly InventoryItem[],
  config: IntegrityConfig,
  now: Date,
): Promise<TableIntegrity> {
  const t = sql.id(table.schema, table.name);
  const has = new Set(table.columns.map((c) => c.name));
  const selects: RawBuilder<unknown>[] = [sql`count(*) as ${sql.id('rows')}`];
  const plan: { column: string; category: string; check?: Check; dup: boolean; i: number; seal: Seal }[] = [];
  const when = (cond: RawBuilder<unknown>) => sql`count(case when ${cond} then 1 end)`;
  // Steward encrypts only text columns of tables with a primary key (the key is bound to each ciphertext):
  // only there can a value be a ciphertext, which no format check can read.
  const sealable = (column: string) => table.primaryKey.length > 0 && ['text', 'other'].includes(table.columns.find((c) => c.name === column)?.typeClass ?? '');
  const sealed = (c: RawBuilder<unknown>) => source.writer.startsWith(c, CIPHERTEXT_PREFIX);
  items.forEach((item, i) => {
    const check = VALIDITY[item.category];
    const dup = IDENTIFYING.has(item.category);
    if (!check && !dup) return;
    const c = sql.id(item.column);
    // Values starting with "stw1:" are sorted out below: only those that parse as an envelope are ciphertexts.
    // A check that reads any text (email, phone) runs over every value, and the ciphertexts among the failures
    // are subtracted (one prefix test per row); a check that casts (birth date) must never see them: CASE
    // keeps them out of it, and the others are checked by key.
    const seal: Seal = !check || !sealable(item.column) ? 'none' : check === 'birth_date' ? 'apart' : 'subtract';
    selects.push(sql`count(${c}) as ${sql.id(`nn_${i}`)}`);
    if (check && seal === 'apart') {
      selects.push(sql`count(case when ${c} is not null then case when ${sealed(c)} then null when ${validity(source, check, c)} then 1 end end) as ${sql.id(`inv_${i}`)}`);
    } else if (check) selects.push(sql`${when(sql`${c} is not null and ${validity(source, check, c)}`)} as ${sql.id(`inv_${i}`)}`);
    if (seal !== 'none') selects.push(sql`${when(sealed(c))} as ${sql.id(`stw_${i}`)}`);
    plan.push({ column: item.column, category: item.category, ...(check ? { check } : {}), dup, i, seal });
  });
  const required = config.required.filter((r) => r.startsWith(`${table.name}.`)).map((r) => r.slice(table.name.length + 1)).filter((c) => has.has(c));
  required.forEach((col, j) => selects.push(sql`${when(sql`${sql.id(col)} is null`)} as ${sql.id(`req_${j}`)}`));
  const updated = config.updatedColumns[table.name];
  const duration = config.staleAfter ? parseIsoDuration(config.staleAfter) : null;
  const before = duration ? addDuration(now, negate(duration)).toISOString() : null;
  if (updated && has.has(updated) && before) selects.push(sql`${when(source.integrity.olderThan(sql.id(updated), before))} as ${sql.id('stale')}`);

  const aggregate = sql<Record<string, unknown>>`select ${sql.join(selects)} from ${t}`.execute(source.db).then((r) => r.rows[0] ?? {});
  const dupColumns = plan.filter((p) => p.dup);
  const unique: Promise<ReadonlySet<string>> = dupColumns.length
    ? source.integrity.foldedUniqueColumns(table).execute(source.db).then((r) => new Set((r.rows as { column: unknown }[]).map((x) => String(x.column))))
    : Promise.resolve(new Set());
  const duplicates = new Map(
    dupColumns.map((p) => [p.i, unique.then((u) => (u.has(p.column) ? null : countDuplicates(source, t, sql.id(p.column))))] as const),
  );
  const orphanChecks = Object.entries(config.references).flatMap(([from, to]) => {
    const [ft, fc] = from.split('.') as [string, string];
    if (ft !== table.name || !has.has(fc)) return [];
    const [pt, pc] = to.split('.') as [string, string];
    return [
      sql<{ k: unknown }>`select count(*) as k from ${t} c left join ${sql.id(table.schema, pt)} p on p.${sql.id(pc)} = c.${sql.id(fc)} where c.${sql.id(fc)} is not null and p.${sql.id(pc)} is null`
        .execute(source.db)
        .then((r) => ({ column: fc, references: to, rows: n(r.rows[0]?.k) })),
    ];
  });
  // Every query above is already running; settle them all before reporting the first failure.
  const settled = await Promise.allSettled([aggregate, ...duplicates.values(), ...orphanChecks]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const row = await aggregate;
  const orphans = await Promise.all(orphanChecks);

  const columns = await Promise.all(plan.map(async (p): Promise<ColumnIntegrity> => {
    const c = sql.id(p.column);
    const nonNull = n(row[`nn_${p.i}`]);
    let out: ColumnIntegrity = { column: p.column, category: p.category, nonNull };
    if (p.check) {
      const check = p.check;
      const counted = n(row[`inv_${p.i}`]);
      const prefixed = p.seal !== 'none' ? n(row[`stw_${p.i}`]) : 0;
      const look = prefixed > 0 && p.seal !== 'none' ? await sortCiphertexts(source, table, p.column, (x) => validity(source, check, x), p.seal, prefixed) : NO_CIPHERTEXTS;
      // Failures among the values that do not start like a ciphertext; then those among the ones that only look like one.
      const plainInvalid = p.seal === 'subtract' ? counted - look.envelopesInvalid - look.othersInvalid : counted;
      const invalid = plainInvalid + look.othersInvalid;
      const plain = p.seal === 'none' ? validity(source, check, c) : sql`case when ${sealed(c)} then 0 when ${validity(source, check, c)} then 1 else 0 end = 1`;
      const examples = plainInvalid > 0
        ? (await sql<{ v: unknown }>`select ${c} as v from ${t} where ${c} is not null and ${plain} limit 3`.execute(source.db)).rows.map((r) => String(r.v))
        : [];
      out = { ...out, invalid, invalidExamples: [...examples, ...look.examples].slice(0, 3).map((v) => maskValue(v, p.category)), ...(p.seal !== 'none' ? { encrypted: look.envelopes } : {}) };
    }
    if (p.dup) {
      const d = await duplicates.get(p.i);
      out = d
        ? { ...out, duplicateRows: d.duplicateRows, duplicatedValues: d.duplicatedValues, duplicateExamples: d.examples.map((v) => maskValue(v, p.category)) }
        : { ...out, duplicateRows: 0, duplicatedValues: 0, duplicateExamples: [], uniqueIndex: true };
    }
    return out;
  }));

  return {
    schema: table.schema,
    table: table.name,
    rows: n(row.rows),
    columns,
    requiredNulls: required.map((column, j) => ({ column, nulls: n(row[`req_${j}`]) })),
    ...(updated && has.has(updated) && before ? { stale: { column: updated, rows: n(row.stale), before } } : {}),
    orphans,
    exact: source.integrity.exact,
    ...(!source.integrity.exact && source.integrity.approximation ? { approximation: source.integrity.approximation } : {}),
  };
}

/** Rows per read when values that start like a ciphertext are sorted out. */
const SEAL_BATCH = 10_000;

/** How a format check treats values that may be ciphertexts (see checkTable). */
type Seal = 'none' | 'subtract' | 'apart';

interface CiphertextSort {
  /** Values that parse as a Steward envelope. */
  readonly envelopes: number;
  /** Of those, how many the format check fails (`subtract`: they are in the aggregate's count). */
  readonly envelopesInvalid: number;
  /** Values that start with "stw1:" without being an envelope, and fail the check. */
  readonly othersInvalid: number;
  /** Raw values of the latter, at most three (masked by the caller). */
  readonly examples: readonly string[];
}
const NO_CIPHERTEXTS: CiphertextSort = { envelopes: 0, envelopesInvalid: 0, othersInvalid: 0, examples: [] };

/**
 * The `prefixed` values of `column` that start with "stw1:", sorted into
 * Steward envelopes (ciphertexts, left out of the format check) and values that
 * only start like one (checked like any other). The verdict is the database's:
 * `subtract` reads it with each value; `apart` (a check that would fail on a
 * ciphertext, such as a cast to date) asks it for the non-envelopes only, by key.
 *
 * Memory stays flat: up to one batch of them is read at once; more are read in
 * key order over the whole table, one key range per batch (a filtered "next
 * batch" query makes the planner scan and sort the table for every batch:
 * 1M ciphertexts took 100 s that way on Postgres, 15 s this way, most of it
 * reading and parsing them), only the prefixed values crossing the wire.
 */
async function sortCiphertexts(
  source: Source,
  table: TableInfo,
  column: string,
  invalid: (c: RawBuilder<unknown>) => RawBuilder<unknown>,
  mode: Exclude<Seal, 'none'>,
  prefixed: number,
): Promise<CiphertextSort> {
  const t = sql.id(table.schema, table.name);
  const c = sql.id(column);
  const pk = table.primaryKey;
  const keyCols = sql.join(pk.map((k) => sql.id(k)));
  const sw = source.writer.startsWith(c, CIPHERTEXT_PREFIX);
  const verdict = mode === 'subtract' ? sql`, case when ${sw} then case when ${invalid(c)} then 1 else 0 end end as ${sql.id('__bad')}` : sql``;
  const whole = prefixed > SEAL_BATCH;
  let after: unknown[] | null = null;
  let envelopes = 0;
  let envelopesInvalid = 0;
  let othersInvalid = 0;
  const examples: string[] = [];
  for (;;) {
    const rows: Record<string, unknown>[] = whole
      ? (
          await sql<Record<string, unknown>>`select ${keyCols}, case when ${sw} then ${c} end as ${sql.id('__v')}${verdict} from ${t}
            ${after ? sql`where ${keyTuple(pk)} > ${valueTuple(after)}` : sql``} order by ${keyCols} limit ${SEAL_BATCH}`.execute(source.db)
        ).rows
      : (await sql<Record<string, unknown>>`select ${keyCols}, ${c} as ${sql.id('__v')}${verdict} from ${t} where ${sw}`.execute(source.db)).rows;
    const others: unknown[][] = [];
    for (const r of rows) {
      if (r.__v === null || r.__v === undefined) continue;
      const envelope = !('invalid' in parseCiphertext(String(r.__v)));
      const bad = Number(r.__bad) === 1;
      if (envelope) {
        envelopes++;
        if (bad) envelopesInvalid++;
      } else if (mode === 'apart') others.push(pk.map((k) => r[k]));
      else if (bad) {
        othersInvalid++;
        if (examples.length < 3) examples.push(String(r.__v));
      }
    }
    // Key lists of 1000 stay within every database's limit on bound parameters.
    for (let i = 0; i < others.length; i += 1000) {
      const keys = others.slice(i, i + 1000);
      const failed = (await sql<{ v: unknown }>`select ${c} as v from ${t} where ${source.writer.keysIn(table, keys)} and ${invalid(c)}`.execute(source.db)).rows;
      othersInvalid += failed.length;
      for (const f of failed) if (examples.length < 3) examples.push(String(f.v));
    }
    if (!whole || rows.length < SEAL_BATCH) break;
    const last: Record<string, unknown> = rows[rows.length - 1]!;
    after = pk.map((k): unknown => last[k]);
  }
  return { envelopes, envelopesInvalid, othersInvalid, examples };
}

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(part * 1000 < whole ? 2 : 1)}%` : '0%');

/** Findings from integrity figures (pure). */
export function integrityFindings(sourceName: string, results: readonly TableIntegrity[], staleAfter?: string): DraftFinding[] {
  const out: DraftFinding[] = [];
  for (const r of results) {
    const loc = (column?: string) => ({ source: sourceName, schema: r.schema, table: r.table, ...(column ? { column } : {}) });
    for (const c of r.columns) {
      // Ciphertexts were not checked: the share is of the values that were.
      const checked = c.nonNull - (c.encrypted ?? 0);
      if (c.encrypted) {
        out.push({
          id: findingId('integrity.encrypted-not-checked', loc(c.column), c.category),
          rule: 'integrity.encrypted-not-checked',
          severity: 'info',
          category: c.category,
          location: loc(c.column),
          title: 'Encrypted values not checked',
          message: `${r.table}.${c.column}: ${c.encrypted} of ${c.nonNull} values are Steward ciphertexts, so their ${c.category} format was not checked${c.duplicateRows !== undefined ? ', nor whether they repeat' : ''} (the audit reads stored values and never decrypts); ${checked ? `the other ${checked} were` : 'no value was'} checked.`,
          remedy: 'Nothing to correct here: validate this field where the application writes it, since the stored values are encrypted.',
        });
      }
      if (c.invalid) {
        const share = c.invalid / Math.max(1, checked);
        out.push({
          id: findingId('integrity.invalid-values', loc(c.column), c.category),
          rule: 'integrity.invalid-values',
          severity: share > 0.05 ? 'medium' : 'low',
          category: c.category,
          location: loc(c.column),
          title: 'Values that cannot be right',
          message: `${r.table}.${c.column}: ${c.invalid} of ${checked} ${c.encrypted ? 'unencrypted ' : ''}values (${pct(c.invalid, checked)}) fail the ${c.category} check${c.invalidExamples?.length ? `, e.g. ${c.invalidExamples.join(', ')}` : ''}${r.exact ? '' : ` (approximate check: ${r.approximation ?? 'the database has no exact form of it'})`}.`,
          remedy: 'Correct or remove inaccurate personal data (GDPR Art. 5(1)(d)); validate the field where it is entered.',
        });
      }
      if (c.duplicateRows) {
        out.push({
          id: findingId('integrity.duplicates', loc(c.column), c.category),
          rule: 'integrity.duplicates',
          severity: 'medium',
          category: c.category,
          location: loc(c.column),
          title: 'The same identifying value on several records',
          message: `${r.table}.${c.column}: ${c.duplicatedValues} value(s) appear on more than one row (${c.duplicateRows} extra rows)${c.duplicateExamples?.length ? `, e.g. ${c.duplicateExamples.join(', ')}` : ''}.`,
          remedy: 'Merge duplicate records of the same person, so that access and erasure requests find everything; add a unique constraint if the value must be unique.',
        });
      }
    }
    for (const q of r.requiredNulls) {
      if (!q.nulls) continue;
      out.push({
        id: findingId('integrity.required-null', loc(q.column)),
        rule: 'integrity.required-null',
        severity: 'low',
        location: loc(q.column),
        title: 'Required value missing',
        message: `${r.table}.${q.column}: ${q.nulls} of ${r.rows} rows have no value, though steward.yml declares it required.`,
        remedy: 'Complete the missing values or add a NOT NULL constraint once they are filled.',
      });
    }
    if (r.stale?.rows) {
      out.push({
        id: findingId('integrity.stale-records', loc(r.stale.column)),
        rule: 'integrity.stale-records',
        severity: 'medium',
        location: loc(r.stale.column),
        title: 'Records not updated for too long',
        message: `${r.table}: ${r.stale.rows} of ${r.rows} rows (${pct(r.stale.rows, r.rows)}) were last updated before ${r.stale.before.slice(0, 10)}${staleAfter ? ` (older than ${staleAfter})` : ''}.`,
        remedy: 'Ask the people concerned to confirm their data, or delete or anonymise records you no longer need (storage limitation, GDPR Art. 5(1)(e)).',
      });
    }
    for (const o of r.orphans) {
      if (!o.rows) continue;
      out.push({
        id: findingId('integrity.orphaned-rows', loc(o.column), o.references),
        rule: 'integrity.orphaned-rows',
        severity: 'low',
        location: loc(o.column),
        title: 'Rows that point nowhere',
        message: `${r.table}.${o.column}: ${o.rows} rows reference a ${o.references} that does not exist.`,
        remedy: 'Delete or re-attach orphaned rows (they escape erasure that follows relations), then add the foreign-key constraint.',
      });
    }
  }
  return out;
}
