/**
 * Batched writes to a table's rows: what the destructive jobs (src/jobs/) need from a
 * dialect — compare-and-set writes to one column (online encryption,
 * src/crypto/column-migration.ts), and erasing and reclaiming rows (retention,
 * src/retention/apply.ts). Every column write replaces a value only where the row
 * still holds exactly the value Steward read, so a row the application changed in the
 * meantime is left alone (and picked up by a later pass) — never overwritten with a
 * stale value.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ColumnInfo, TableInfo } from './table-info.js';

/** One row to swap: its key parts (as read), the value it must still hold, the new value(s). */
export interface SwapRow {
  readonly key: readonly unknown[];
  readonly old: string;
  readonly value: string;
  /** The blind index to write alongside, when the migration keeps one. */
  readonly extra?: string | null;
}

/** A unique index or constraint: a value written there must stay unique, and others may point at it. */
export interface UniqueIndex {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface SwapOptions {
  readonly table: TableInfo;
  readonly column: string;
  /** A second column written in the same statement (the blind index). */
  readonly extraColumn?: string | undefined;
}

/** The dialect-specific part of the destructive jobs' writes. Generic reads use Kysely. */
export interface RowWriter {
  /** Why this connection cannot write (a read-only replica, session or file), or null when it can. */
  readOnlyReason(db: Kysely<any>): Promise<string | null>;
  /**
   * The statement that lets `column` hold values of `chars` characters, or null
   * when it already can. Throws (a plain Error with the reason) when the type
   * cannot be widened in place.
   */
  widenColumn(table: TableInfo, column: ColumnInfo, chars: number): string | null;
  /** Adds a nullable text column for a blind index, and an index on it. */
  addIndexColumn(table: TableInfo, column: string, chars: number): string[];
  /** The unique indexes and constraints of the table (the primary key too, where the catalog lists it), each with its columns. */
  uniqueIndexes(db: Kysely<any>, table: TableInfo): Promise<readonly UniqueIndex[]>;
  /**
   * Which of `columns` this connection may not UPDATE, and who it is (for the GRANT
   * to suggest), asked of the catalog or by a statement that changes no row. Null
   * where the database has no privileges to check (SQLite: `readOnlyReason` covers the file).
   */
  updateDenied(db: Kysely<any>, table: TableInfo, columns: readonly string[]): Promise<{ readonly denied: readonly string[]; readonly grantee: string } | null>;
  /**
   * Compare-and-set of a batch, inside the caller's transaction. Returns the rows
   * it changed as stored (key columns and `__value`) when the dialect can say in
   * the same statement (`RETURNING`), or null: the caller then reads them back
   * with {@link fetchByKeys}.
   */
  swap(trx: Kysely<any>, rows: readonly SwapRow[], options: SwapOptions): Promise<Record<string, unknown>[] | null>;
  /**
   * Compare-and-set of a batch that verifies in the database: returns how many rows now
   * hold exactly the value written (each compared there, after any trigger changed it),
   * without sending the stored values back. Where absent, {@link swap} and a read-back do it.
   */
  swapCounted?(trx: Kysely<any>, rows: readonly SwapRow[], options: SwapOptions): Promise<number>;
  /** The key columns and `__value` (the column) of the rows with these keys, inside the caller's transaction. */
  fetchByKeys(trx: Kysely<any>, table: TableInfo, column: string, keys: readonly (readonly unknown[])[]): Promise<Record<string, unknown>[]>;
  /** True when the value of `column` starts with `prefix`, byte for byte (no case folding). */
  startsWith(column: RawBuilder<unknown>, prefix: string): RawBuilder<unknown>;
  /** Octet length of a text value (for sizing). */
  octetLength(column: RawBuilder<unknown>): RawBuilder<unknown>;
  /**
   * After rows were deleted: the statements that make the database drop their
   * bytes from the table's files (as far as it can), and what still holds them.
   * `full` may take an exclusive lock for the duration (Postgres VACUUM FULL).
   */
  reclaim(table: TableInfo, full: boolean): { readonly statements: readonly string[]; readonly remains: readonly string[] };
  /** `key in (…)` for a list of primary keys (Postgres: one array parameter). */
  keysIn(table: TableInfo, keys: readonly (readonly unknown[])[]): RawBuilder<unknown>;
  /**
   * Bind parameters {@link keysIn} takes per key of `table`: one per key column,
   * or 0 where the whole list is one parameter (Postgres, single-column keys).
   */
  keyParameters(table: TableInfo): number;
  /** Run before deleting, on the deleting connection (SQLite: zero freed pages). */
  beforeDelete(db: Kysely<any>): Promise<void>;
  /** `FOR UPDATE` where the database locks rows a transaction read (SQLite's write lock covers the file: empty). */
  lockClause(): RawBuilder<unknown>;
  /** Bounds how long one batch may wait for a row lock, for the rest of this transaction. */
  boundLockWait(trx: Kysely<any>, ms: number): Promise<void>;
  /**
   * Erases the next due rows after `after` in key order, at most `limit`, in one
   * statement inside the caller's transaction, and reports them without
   * sending their keys back: count, the digest of their keys (the same
   * SHA-256 over `["k…"]\n` lines in key order that src/retention computes) and
   * the transaction's id, which `transactionStatus` can later resolve to
   * committed or rolled back. Only where the database can say that
   * (Postgres: txid_status), and only for integer keys (whose text and order
   * are the same in SQL and in Steward); absent elsewhere.
   */
  eraseNext?(trx: Kysely<any>, o: EraseNextOptions): Promise<ErasedBatch>;
  /**
   * Whether `eraseNext` can run on this table (null: not a plain table, e.g. a
   * Postgres partitioned or foreign table, whose tuple ids are not unique), and
   * its size in blocks where the database can also erase by physical block range
   * (Postgres 14+: a TID range scan, the pass a single DELETE makes, cut into
   * short transactions; `blocks` null before 14).
   */
  fastErase?(db: Kysely<any>, table: TableInfo): Promise<{ readonly blocks: number | null; readonly rowsPerBlock: number } | null>;
  /** Erases the due rows of blocks [from, to) in one statement, reported like `eraseNext` (keys of the batch in key order). */
  eraseBlocks?(trx: Kysely<any>, o: { readonly table: TableInfo; readonly due: RawBuilder<unknown>; readonly from: number; readonly to: number }): Promise<Omit<ErasedBatch, 'seen' | 'last'>>;
  /** What became of a transaction `eraseNext` ran in (null: the database no longer knows). */
  transactionStatus?(db: Kysely<any>, txid: string): Promise<'committed' | 'aborted' | 'in progress' | null>;
}

export interface EraseNextOptions {
  readonly table: TableInfo;
  /** The due condition (period, filter, holds): checked on the row versions the delete finds. */
  readonly due: RawBuilder<unknown>;
  readonly after: readonly unknown[] | null;
  readonly limit: number;
}

export interface ErasedBatch {
  /** Due rows the batch looked at (≤ limit; fewer means the end of the table). */
  readonly seen: number;
  /** Rows deleted (a row the application changed meanwhile is re-checked and kept). */
  readonly rows: number;
  readonly digest: string;
  /** The last key looked at: where the next batch starts. */
  readonly last: readonly unknown[] | null;
  readonly txid: string;
}

/** @deprecated The name from when it only rewrote columns: {@link RowWriter}. */
export type ColumnWriter = RowWriter;

/** `schema.table` as Kysely's table reference. */
export const tableRef = (t: TableInfo): RawBuilder<unknown> => sql.id(t.schema, t.name);

/** `(a, b)` or `a`: a primary key as a row value. */
export function keyTuple(columns: readonly string[], prefix?: string): RawBuilder<unknown> {
  const refs = columns.map((c) => (prefix ? sql.id(prefix, c) : sql.id(c)));
  return refs.length === 1 ? refs[0]! : sql`(${sql.join(refs)})`;
}

/** The generic read-back: `where (k…) in ((?, …), …)`. */
export async function fetchByKeyList(trx: Kysely<any>, table: TableInfo, column: string, keys: readonly (readonly unknown[])[]): Promise<Record<string, unknown>[]> {
  const pk = table.primaryKey;
  return (
    await sql<Record<string, unknown>>`select ${sql.join(pk.map((k) => sql.id(k)))}, ${sql.id(column)} as ${sql.id('__value')}
      from ${tableRef(table)} where ${keyTuple(pk)} in (${sql.join(keys.map((k) => valueTuple(k)))})`.execute(trx)
  ).rows;
}

/** Parameters per key of the generic {@link keyListIn}: one per key column. */
export const keyListParameters = (table: TableInfo): number => table.primaryKey.length;

/** The generic `(k…) in ((?, …), …)`. */
export function keyListIn(table: TableInfo, keys: readonly (readonly unknown[])[]): RawBuilder<unknown> {
  return sql`${keyTuple(table.primaryKey)} in (${sql.join(keys.map((k) => valueTuple(k)))})`;
}

/** `(?, ?)` or `?`: key values as a row value. */
export function valueTuple(values: readonly unknown[]): RawBuilder<unknown> {
  return values.length === 1 ? sql`${values[0]}` : sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}
