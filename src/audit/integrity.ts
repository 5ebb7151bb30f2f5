/**
 * Integrity check — the third audit stage of the source text ("verify that all
 * stored data is accurate and up-to-date"). Every figure is computed by the
 * database: one aggregate scan per table for validity, duplicates, required
 * nulls and staleness; one anti-join per unenforced reference. Node receives
 * counts and at most three masked examples per check, never the rows.
 */
import { sql, type RawBuilder } from 'kysely';
import { addDuration, parseIsoDuration, type IsoDuration } from './schedule.js';
import { maskValue } from '../detection/mask.js';
import type { InventoryItem } from './types.js';
import type { Source, TableInfo } from '../sources/types.js';
import { findingId, type DraftFinding } from './collection-review.js';

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

export interface ColumnIntegrity {
  readonly column: string;
  readonly category: string;
  readonly nonNull: number;
  readonly invalid?: number;
  readonly invalidExamples?: readonly string[];
  /** Rows beyond the first of each duplicated value. */
  readonly duplicateRows?: number;
  readonly duplicatedValues?: number;
  readonly duplicateExamples?: readonly string[];
}

export interface TableIntegrity {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
  readonly columns: readonly ColumnIntegrity[];
  readonly requiredNulls: readonly { readonly column: string; readonly nulls: number }[];
  readonly stale?: { readonly column: string; readonly rows: number; readonly before: string };
  readonly orphans: readonly { readonly column: string; readonly references: string; readonly rows: number }[];
  /** False when the dialect approximates a check (SQLite has no regular expressions). */
  readonly exact: boolean;
}

const n = (v: unknown): number => Number(v ?? 0);
const negate = (d: IsoDuration): IsoDuration => ({
  years: -d.years, months: -d.months, weeks: -d.weeks, days: -d.days, hours: -d.hours, minutes: -d.minutes, seconds: -d.seconds,
});

function validity(source: Source, check: Check, c: RawBuilder<unknown>): RawBuilder<unknown> {
  const x = source.integrity;
  return check === 'email' ? x.invalidEmail(c) : check === 'phone' ? x.invalidPhone(c) : x.impossibleBirthDate(c);
}

/** Integrity figures for one table, pushed down into SQL. */
export async function checkTable(
  source: Source,
  table: TableInfo,
  items: readonly InventoryItem[],
  config: IntegrityConfig,
  now: Date,
): Promise<TableIntegrity> {
  const t = sql.table(`${table.schema}.${table.name}`);
  const has = new Set(table.columns.map((c) => c.name));
  const selects: RawBuilder<unknown>[] = [sql`count(*) as ${sql.ref('rows')}`];
  const plan: { column: string; category: string; check?: Check; dup: boolean; i: number }[] = [];
  items.forEach((item, i) => {
    const check = VALIDITY[item.category];
    const dup = IDENTIFYING.has(item.category);
    if (!check && !dup) return;
    const c = sql.ref(item.column);
    selects.push(sql`count(${c}) as ${sql.ref(`nn_${i}`)}`);
    if (check) selects.push(sql`sum(case when ${c} is not null and ${validity(source, check, c)} then 1 else 0 end) as ${sql.ref(`inv_${i}`)}`);
    if (dup) selects.push(sql`count(distinct ${source.integrity.folded(c)}) as ${sql.ref(`dist_${i}`)}`);
    plan.push({ column: item.column, category: item.category, ...(check ? { check } : {}), dup, i });
  });
  const required = config.required.filter((r) => r.startsWith(`${table.name}.`)).map((r) => r.slice(table.name.length + 1)).filter((c) => has.has(c));
  required.forEach((col, j) => selects.push(sql`sum(case when ${sql.ref(col)} is null then 1 else 0 end) as ${sql.ref(`req_${j}`)}`));
  const updated = config.updatedColumns[table.name];
  const duration = config.staleAfter ? parseIsoDuration(config.staleAfter) : null;
  const before = duration ? addDuration(now, negate(duration)).toISOString() : null;
  if (updated && has.has(updated) && before) selects.push(sql`sum(case when ${source.integrity.olderThan(sql.ref(updated), before)} then 1 else 0 end) as ${sql.ref('stale')}`);

  const row = (await sql<Record<string, unknown>>`select ${sql.join(selects)} from ${t}`.execute(source.db)).rows[0] ?? {};

  const columns: ColumnIntegrity[] = [];
  for (const p of plan) {
    const c = sql.ref(p.column);
    const nonNull = n(row[`nn_${p.i}`]);
    let out: ColumnIntegrity = { column: p.column, category: p.category, nonNull };
    if (p.check) {
      const invalid = n(row[`inv_${p.i}`]);
      const examples = invalid
        ? (await sql<{ v: unknown }>`select ${c} as v from ${t} where ${c} is not null and ${validity(source, p.check, c)} limit 3`.execute(source.db)).rows.map((r) => maskValue(String(r.v), p.category))
        : [];
      out = { ...out, invalid, invalidExamples: examples };
    }
    if (p.dup) {
      const duplicateRows = nonNull - n(row[`dist_${p.i}`]);
      if (duplicateRows > 0) {
        const f = source.integrity.folded(c);
        const dup = sql`select ${f} as v from ${t} where ${c} is not null group by ${f} having count(*) > 1`;
        const [count, examples] = await Promise.all([
          sql<{ k: unknown }>`select count(*) as k from (${dup}) d`.execute(source.db),
          sql<{ v: unknown }>`${dup} limit 3`.execute(source.db),
        ]);
        out = { ...out, duplicateRows, duplicatedValues: n(count.rows[0]?.k), duplicateExamples: examples.rows.map((r) => maskValue(String(r.v), p.category)) };
      } else out = { ...out, duplicateRows: 0, duplicatedValues: 0, duplicateExamples: [] };
    }
    columns.push(out);
  }

  const orphans: { column: string; references: string; rows: number }[] = [];
  for (const [from, to] of Object.entries(config.references)) {
    const [ft, fc] = from.split('.') as [string, string];
    if (ft !== table.name || !has.has(fc)) continue;
    const [pt, pc] = to.split('.') as [string, string];
    const r = await sql<{ k: unknown }>`select count(*) as k from ${t} c left join ${sql.table(`${table.schema}.${pt}`)} p on p.${sql.ref(pc)} = c.${sql.ref(fc)} where c.${sql.ref(fc)} is not null and p.${sql.ref(pc)} is null`.execute(source.db);
    orphans.push({ column: fc, references: to, rows: n(r.rows[0]?.k) });
  }

  return {
    schema: table.schema,
    table: table.name,
    rows: n(row.rows),
    columns,
    requiredNulls: required.map((column, j) => ({ column, nulls: n(row[`req_${j}`]) })),
    ...(updated && has.has(updated) && before ? { stale: { column: updated, rows: n(row.stale), before } } : {}),
    orphans,
    exact: source.integrity.exact,
  };
}

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(part * 1000 < whole ? 2 : 1)}%` : '0%');

/** Findings from integrity figures (pure). */
export function integrityFindings(sourceName: string, results: readonly TableIntegrity[], staleAfter?: string): DraftFinding[] {
  const out: DraftFinding[] = [];
  for (const r of results) {
    const loc = (column?: string) => ({ source: sourceName, schema: r.schema, table: r.table, ...(column ? { column } : {}) });
    for (const c of r.columns) {
      if (c.invalid) {
        const share = c.invalid / Math.max(1, c.nonNull);
        out.push({
          id: findingId('integrity.invalid-values', loc(c.column), c.category),
          rule: 'integrity.invalid-values',
          severity: share > 0.05 ? 'medium' : 'low',
          category: c.category,
          location: loc(c.column),
          title: 'Values that cannot be right',
          message: `${r.table}.${c.column}: ${c.invalid} of ${c.nonNull} values (${pct(c.invalid, c.nonNull)}) fail the ${c.category} check${c.invalidExamples?.length ? `, e.g. ${c.invalidExamples.join(', ')}` : ''}${r.exact ? '' : ' (approximate check on SQLite)'}.`,
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
