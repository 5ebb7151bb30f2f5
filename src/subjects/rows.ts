/**
 * What erase.ts and correct.ts share: key lists over a table's primary key, the keyed
 * hash that finds an open request's job again, and small collection helpers.
 */
import { createHmac } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { TableInfo } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import type { Identifier } from './identifiers.js';

/** `k in (…)`, or for a composite key `(k1 = ? and k2 = ?) or …` (SQLite has no row-value lists). */
export function keyListIn(t: TableInfo, keys: readonly (readonly unknown[])[]): RawBuilder<unknown> {
  const pk = t.primaryKey;
  if (keys.length === 0) return sql`1 = 0`;
  if (pk.length === 1) return sql`${sql.id(pk[0]!)} in (${sql.join(keys.map((k) => sql`${k[0]}`))})`;
  return sql`(${sql.join(keys.map((k) => sql`(${sql.join(pk.map((c, i) => sql`${sql.id(c)} = ${k[i]}`), sql` and `)})`), sql` or `)})`;
}

/** `k1 = ? and k2 = ?` for one row. */
export function keyEquals(pk: readonly string[], row: Readonly<Record<string, unknown>>): RawBuilder<unknown> {
  return sql.join(pk.map((k) => sql`${sql.id(k)} = ${row[k]}`), sql` and `);
}

/** A value as the job record keeps it (JSON). */
export const jsonSafe = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v);

/** The keyed hash of a request's identifiers (and anything else that makes it the same request): finds its open job again, reveals nobody. */
export async function requestHash(store: StateStore, secretName: string, ids: readonly Identifier[], extra = ''): Promise<string> {
  const secret = await store.holds.secret(secretName);
  const text = ids.map((i) => `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`).sort().join('\n');
  return createHmac('sha256', secret).update(`${text}\n\0${extra}`).digest('hex').slice(0, 32);
}

export const chunk = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

export function groupBy<T>(xs: readonly T[], f: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(f(x), [...(m.get(f(x)) ?? []), x]);
  return m;
}
