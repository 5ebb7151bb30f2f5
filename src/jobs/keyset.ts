/**
 * Batches in key order: each batch starts after the last key of the one before
 * (keyset pagination on the primary key), never with OFFSET, never rescanning
 * what is done; a resumed job starts after its checkpoint's key.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { keyTuple, tableRef, valueTuple } from '../sources/column-writer.js';
import type { TableInfo } from '../sources/types.js';

export interface KeysetQuery {
  readonly table: TableInfo;
  /** What to read of each row (the key columns are the caller's to include). */
  readonly columns: readonly RawBuilder<unknown>[];
  /** Which rows the job is about (still to do, due, …). */
  readonly where: RawBuilder<unknown>;
  /** The last key of the batch before, or null for the first batch. */
  readonly after: readonly unknown[] | null;
  readonly limit: number;
}

/** `select … where <where> and (pk) > (after) order by pk limit n`: the next batch in key order. */
export async function selectAfter(db: Kysely<any>, q: KeysetQuery): Promise<Record<string, unknown>[]> {
  const pk = q.table.primaryKey;
  const after = q.after ? sql`and ${keyTuple(pk)} > ${valueTuple(q.after)}` : sql``;
  return (
    await sql<Record<string, unknown>>`select ${sql.join(q.columns)} from ${tableRef(q.table)}
      where ${q.where} ${after} order by ${sql.join(pk.map((k) => sql.id(k)))} limit ${q.limit}`.execute(db)
  ).rows;
}

/** The primary key of a row, part by part, as the driver returned it. */
export const keyOfRow = (row: Record<string, unknown>, pk: readonly string[]): unknown[] => pk.map((k) => row[k]);

/** The key columns as select items. */
export const keyColumns = (pk: readonly string[]): RawBuilder<unknown>[] => pk.map((k) => sql.id(k));
