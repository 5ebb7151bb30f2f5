/**
 * Sampling and estimation helpers shared by the dialects. Every identifier goes
 * through `sql.id` (quoted and escaped by Kysely); every value is a bound parameter.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SampleRow, TableRef } from './types.js';

/** A table at most this many times the sample size is small enough to shuffle whole. */
export const SMALL_TABLE_FACTOR = 20;
/** Bounded counts stop here: an estimate fallback never reads more rows than this. */
export const BOUNDED_COUNT_CAP = 100_000;
/** Key columns are read under these aliases for de-duplication, then dropped. */
const KEY_ALIAS = '__steward_k';

export function tableId(table: TableRef): RawBuilder<unknown> {
  return sql.id(table.schema, table.name);
}

export function columnList(columns: readonly string[]): RawBuilder<unknown> {
  return sql.join(columns.map((c) => sql.id(c)));
}

/**
 * `count(*)` over at most `cap` rows: `select count(*) from (select 1 from t limit cap)`.
 * Returns a number ≤ cap; `cap` means "at least cap".
 */
export async function boundedCount(db: Kysely<any>, table: TableRef, cap = BOUNDED_COUNT_CAP): Promise<number> {
  const r = await sql<{ n: number | string | bigint }>`select count(*) as n from (select 1 as one from ${tableId(table)} limit ${cap}) as bounded`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** Fisher–Yates shuffle (in place) and truncation. */
export function shuffleTake<T>(items: T[], n: number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items.length > n ? items.slice(0, n) : items;
}

/** `select cols from t order by <random> limit n`: a uniform sample; reads the whole table, so only for small ones. */
export async function shuffledSample(
  db: Kysely<any>,
  table: TableRef,
  columns: readonly string[],
  limit: number,
  randomFn: 'random()' | 'rand()',
): Promise<SampleRow[]> {
  const r = await sql<SampleRow>`select ${columnList(columns)} from ${tableId(table)} order by ${sql.raw(randomFn)} limit ${limit}`.execute(db);
  return r.rows;
}

/** `select cols from t limit n`: the first rows in storage order. */
export async function firstRows(db: Kysely<any>, table: TableRef, columns: readonly string[], limit: number): Promise<SampleRow[]> {
  const r = await sql<SampleRow>`select ${columnList(columns)} from ${tableId(table)} limit ${limit}`.execute(db);
  return r.rows;
}

export interface RangeProbe {
  /** The integer column (or `rowid`) the probes seek on; it must be indexed, ideally the clustered key. */
  readonly probe: RawBuilder<unknown>;
  /** Expressions that identify a row (the full primary key, or the rowid), for de-duplication. */
  readonly keys: readonly RawBuilder<unknown>[];
}

/**
 * Primary-key range probes: read min/max of an indexed integer key (two index
 * seeks), pick random start points in that range, and read a few rows from each
 * with `where key >= ? order by key limit k`. All probes of a round go in one
 * `union all` statement. Cost: a handful of index seeks, whatever the table size.
 *
 * The sample is not perfectly uniform: a row right after a gap in the key range is
 * more likely to be picked, and rows come in short runs of consecutive keys.
 */
export async function rangeProbeSample(
  db: Kysely<any>,
  table: TableRef,
  columns: readonly string[],
  limit: number,
  plan: RangeProbe,
): Promise<SampleRow[]> {
  const from = tableId(table);
  const bounds = await sql<{ lo: unknown; hi: unknown }>`select (select min(${plan.probe}) from ${from}) as lo, (select max(${plan.probe}) from ${from}) as hi`.execute(db);
  const lo = toNumber(bounds.rows[0]?.lo);
  const hi = toNumber(bounds.rows[0]?.hi);
  if (lo === undefined || hi === undefined) return [];

  const keyAliases = plan.keys.map((_, i) => `${KEY_ALIAS}${i}`);
  const keySelect = sql.join(plan.keys.map((k, i) => sql`${k} as ${sql.id(keyAliases[i]!)}`));
  const probes = Math.min(limit, 50);
  let perProbe = Math.ceil(limit / probes);
  const seen = new Map<string, SampleRow>();

  for (let round = 0; round < 4 && seen.size < limit; round++) {
    const starts = Array.from({ length: probes }, () => Math.floor(lo + Math.random() * (hi - lo + 1)));
    const parts = starts.map(
      (start, i) =>
        sql`select * from (select ${columnList(columns)}, ${keySelect} from ${from} where ${plan.probe} >= ${start} order by ${plan.probe} limit ${perProbe}) as ${sql.id(`p${i}`)}`,
    );
    const r = await sql<Record<string, unknown>>`${sql.join(parts, sql` union all `)}`.execute(db);
    const before = seen.size;
    for (const row of r.rows) {
      const key = keyAliases.map((a) => keyString(row[a])).join('\u0000');
      if (seen.has(key)) continue;
      const out: Record<string, unknown> = {};
      for (const c of columns) out[c] = row[c];
      seen.set(key, out);
    }
    // No new rows: the table has fewer rows than asked for, and we have them all.
    if (seen.size === before) break;
    perProbe *= 2;
  }
  return shuffleTake([...seen.values()], limit);
}

function toNumber(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : Number(v as string | number);
  return Number.isFinite(n) ? n : undefined;
}

function keyString(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
