/**
 * Loads the labelled corpus into a database through Kysely: drops and recreates
 * each table (in `schema` when given, on PostgreSQL and MySQL), then inserts the
 * seeded rows in multi-row batches. Identifiers go through Kysely's builders, so
 * they are always quoted by the library.
 */
import { type Kysely, sql } from 'kysely';
import { type CorpusRow, type CorpusValue, type Dialect, LABELLED_TABLES, type LabelledTable } from './labelled.js';

export interface LoadCorpusOptions {
  /** Rows per table. */
  readonly rows: number;
  readonly seed: number;
  /** PostgreSQL schema or MySQL database to create the tables in (created if missing). Not supported for SQLite. */
  readonly schema?: string;
  /** Only these tables (default: all). */
  readonly tables?: readonly string[];
}

/** Bound parameters per INSERT statement: below the limits of all three dialects (SQLite 32766, PG/MySQL 65535). */
const MAX_PARAMS = 30_000;
const MAX_BATCH_ROWS = 1000;

export async function loadCorpus(db: Kysely<any>, kind: Dialect, options: LoadCorpusOptions): Promise<void> {
  const { rows, seed, schema } = options;
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`loadCorpus: rows must be a non-negative integer, got ${rows}`);
  if (schema !== undefined && kind === 'sqlite') throw new Error('loadCorpus: "schema" is not supported for SQLite; use a separate database file');
  const tables = options.tables
    ? LABELLED_TABLES.filter((t) => options.tables!.includes(t.name))
    : LABELLED_TABLES;

  if (schema !== undefined) await db.schema.createSchema(schema).ifNotExists().execute();
  const scoped = schema !== undefined ? db.withSchema(schema) : db;

  for (const table of tables) {
    await createTable(scoped, kind, table);
    await insertRows(scoped, kind, table, rows, seed);
  }
}

async function createTable(db: Kysely<any>, kind: Dialect, table: LabelledTable): Promise<void> {
  await db.schema.dropTable(table.name).ifExists().execute();
  let builder = db.schema.createTable(table.name);
  for (const c of table.columns) {
    builder = builder.addColumn(c.column, sql.raw(c.sqlType[kind]), (col) => (c.primaryKey ? col.primaryKey() : col));
  }
  if (kind === 'mysql') builder = builder.modifyEnd(sql`DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  await builder.execute();
}

async function insertRows(db: Kysely<any>, kind: Dialect, table: LabelledTable, count: number, seed: number): Promise<void> {
  const perBatch = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMS / table.columns.length)));
  let batch: CorpusRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await db.insertInto(table.name).values(batch).execute();
    batch = [];
  };
  for (const row of table.rows(seed, count)) {
    batch.push(kind === 'postgres' ? row : toDialect(row));
    if (batch.length >= perBatch) await flush();
  }
  await flush();
}

/** SQLite cannot bind booleans, and MySQL stores them as TINYINT(1): send 1/0. */
function toDialect(row: CorpusRow): CorpusRow {
  const out: Record<string, CorpusValue> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return out;
}
