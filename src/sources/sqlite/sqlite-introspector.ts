import { sql, type Kysely } from 'kysely';
import { BOUNDED_COUNT_CAP, boundedCount, tableId } from '../sampling.js';
import type { SourceIntrospector } from '../source-base.js';
import type { ColumnInfo, ForeignKey, IntrospectOptions, TableInfo, TableRef } from '../types.js';

interface TableRow {
  name: string;
  type: string;
  wr: number;
}

interface ColumnRow {
  tbl: string;
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

interface ForeignKeyRow {
  tbl: string;
  id: number;
  ref_table: string;
  col: string;
  ref_col: string | null;
}

/** How a SQLite table can be addressed by row: the name of its unshadowed rowid, if it has one. */
export interface SqliteTableShape {
  readonly type: 'table' | 'view' | 'virtual';
  /** `rowid`, `_rowid_` or `oid` (whichever no column shadows); undefined for views, WITHOUT ROWID and virtual tables. */
  readonly rowid: string | undefined;
}

/**
 * SQLite's declared types are free text; this follows SQLite's affinity rules,
 * after recognising the conventional names (`boolean`, `date`, `datetime`, `json`, `uuid`).
 */
export function sqliteTypeClass(declared: string): ColumnInfo['typeClass'] {
  const t = declared.toLowerCase().trim();
  if (t === '') return 'other';
  if (/^bool(ean)?\b/.test(t)) return 'boolean';
  if (t === 'date') return 'date';
  if (/^(datetime|timestamp)\b/.test(t)) return 'timestamp';
  if (/^jsonb?$/.test(t)) return 'json';
  if (t === 'uuid') return 'uuid';
  if (t.includes('int')) return 'integer';
  if (/char|clob|text/.test(t)) return 'text';
  if (t.includes('blob')) return 'binary';
  if (/real|floa|doub|numeric|decimal/.test(t)) return 'decimal';
  return 'other';
}

function rowidName(columns: readonly { name: string }[]): string | undefined {
  const taken = new Set(columns.map((c) => c.name.toLowerCase()));
  return ['rowid', '_rowid_', 'oid'].find((n) => !taken.has(n));
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class SqliteIntrospector implements SourceIntrospector {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async introspect(options: IntrospectOptions): Promise<TableInfo[]> {
    const schemas = options.schemas && options.schemas.length > 0 ? options.schemas : ['main'];
    const out: TableInfo[] = [];
    for (const schema of schemas) out.push(...(await this.#introspectSchema(schema)));
    return out;
  }

  async #introspectSchema(schema: string): Promise<TableInfo[]> {
    const master = sql.id(schema, 'sqlite_master');
    const tables = await sql<TableRow>`
      select name, type, wr from pragma_table_list
      where schema = ${schema} and type in ('table', 'view', 'virtual') and name not like 'sqlite\\_%' escape '\\'
      order by name`.execute(this.#db);
    if (tables.rows.length === 0) return [];
    const columns = await sql<ColumnRow>`
      select m.name as tbl, p.name as name, p.type as type, p."notnull" as "notnull", p.pk as pk
      from ${master} m join pragma_table_xinfo(m.name, ${schema}) p
      where m.type in ('table', 'view') and m.name not like 'sqlite\\_%' escape '\\' and p.hidden <> 1
      order by m.name, p.cid`.execute(this.#db);
    const fks = await sql<ForeignKeyRow>`
      select m.name as tbl, f.id as id, f."table" as ref_table, f."from" as col, f."to" as ref_col
      from ${master} m join pragma_foreign_key_list(m.name, ${schema}) f
      where m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\'
      order by m.name, f.id, f.seq`.execute(this.#db);

    const uniques = await sql<{ tbl: string; idx: string; col: string | null }>`
      select m.name as tbl, il.name as idx, ii.name as col
      from ${master} m join pragma_index_list(m.name, ${schema}) il join pragma_index_info(il.name, ${schema}) ii
      where m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\' and il."unique" = 1 and il.origin <> 'pk' and il.partial = 0
      order by m.name, il.name, ii.seqno`.execute(this.#db);
    const uniqueOf = new Map<string, Map<string, (string | null)[]>>();
    for (const u of uniques.rows) {
      const byIndex = uniqueOf.get(u.tbl) ?? new Map<string, (string | null)[]>();
      byIndex.set(u.idx, [...(byIndex.get(u.idx) ?? []), u.col]);
      uniqueOf.set(u.tbl, byIndex);
    }

    const colsOf = new Map<string, ColumnRow[]>();
    for (const c of columns.rows) colsOf.set(c.tbl, [...(colsOf.get(c.tbl) ?? []), c]);
    const pkOf = (tbl: string) =>
      (colsOf.get(tbl) ?? [])
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name);

    const fksOf = new Map<string, Map<number, { refTable: string; columns: string[]; refColumns: (string | null)[] }>>();
    for (const f of fks.rows) {
      const m = fksOf.get(f.tbl) ?? new Map();
      const fk = m.get(f.id) ?? { refTable: f.ref_table, columns: [], refColumns: [] };
      fk.columns.push(f.col);
      fk.refColumns.push(f.ref_col);
      m.set(f.id, fk);
      fksOf.set(f.tbl, m);
    }

    const out: TableInfo[] = [];
    for (const t of tables.rows) {
      const cols = colsOf.get(t.name) ?? [];
      const withoutRowid = t.wr === 1;
      const pkCols = cols.filter((c) => c.pk > 0);
      const rowidAlias =
        !withoutRowid && t.type === 'table' && pkCols.length === 1 && pkCols[0]!.type.trim().toLowerCase() === 'integer' ? pkCols[0]!.name : undefined;
      const foreignKeys: ForeignKey[] = [...(fksOf.get(t.name)?.values() ?? [])]
        .map((fk) => ({
          // SQLite does not report constraint names; this is Postgres' default naming.
          name: `${t.name}_${fk.columns.join('_')}_fkey`,
          columns: fk.columns,
          referencedSchema: schema,
          referencedTable: fk.refTable,
          // `references parent` without columns means the parent's primary key.
          referencedColumns: fk.refColumns.every((c) => c === null) ? pkOf(fk.refTable) : fk.refColumns.map((c) => c ?? ''),
        }))
        .sort(byName);
      const ref = { schema, name: t.name };
      const shape: SqliteTableShape = {
        type: t.type === 'view' ? 'view' : t.type === 'virtual' ? 'virtual' : 'table',
        rowid: t.type === 'table' && !withoutRowid ? rowidName(cols) : undefined,
      };
      out.push({
        schema,
        name: t.name,
        kind: t.type === 'view' ? 'view' : 'table',
        columns: cols.map((c) => {
          const dataType = c.type.toLowerCase();
          const typeClass = sqliteTypeClass(c.type);
          const len = typeClass === 'text' ? /\(\s*(\d+)\s*\)/.exec(dataType)?.[1] : undefined;
          return {
            name: c.name,
            dataType,
            typeClass,
            // SQLite lets primary-key columns hold NULL unless they alias the rowid or the table is WITHOUT ROWID.
            nullable: t.type === 'view' ? true : c.notnull === 0 && c.name !== rowidAlias && !(withoutRowid && c.pk > 0),
            maxLength: len === undefined ? null : Number(len),
            comment: null,
          };
        }),
        primaryKey: t.type === 'view' ? [] : pkOf(t.name),
        foreignKeys,
        uniqueKeys: [...(uniqueOf.get(t.name)?.values() ?? [])].filter((cols) => cols.every((c) => c !== null)) as string[][],
        rowEstimate: await this.#estimate(ref, shape).catch(() => -1),
        comment: null,
      });
    }
    return out;
  }

  /** Whether the table is a view / virtual table, and which rowid name is free to use. */
  async shape(table: TableRef): Promise<SqliteTableShape | undefined> {
    const r = await sql<TableRow>`select name, type, wr from pragma_table_list where schema = ${table.schema} and name = ${table.name}`.execute(this.#db);
    const t = r.rows[0];
    if (!t) return undefined;
    if (t.type === 'view') return { type: 'view', rowid: undefined };
    if (t.type !== 'table' || t.wr === 1) return { type: t.type === 'virtual' ? 'virtual' : 'table', rowid: undefined };
    const cols = await sql<{ name: string }>`select name from pragma_table_xinfo(${table.name}, ${table.schema})`.execute(this.#db);
    return { type: 'table', rowid: rowidName(cols.rows) };
  }

  async estimateRows(table: TableRef): Promise<number> {
    const shape = await this.shape(table);
    if (!shape) return boundedCount(this.#db, table); // raises SQLite's "no such table"
    return this.#estimate(table, shape);
  }

  /**
   * `sqlite_stat1` when ANALYZE has run (its first number is the row count);
   * otherwise a count bounded at {@link BOUNDED_COUNT_CAP}, and past the cap the
   * rowid span (`max - min + 1`, two b-tree seeks).
   */
  async #estimate(table: TableRef, shape: SqliteTableShape): Promise<number> {
    if (shape.type === 'view') return -1;
    const stat = await this.#statRows(table);
    if (stat !== undefined) return stat;
    const n = await boundedCount(this.#db, table);
    if (n < BOUNDED_COUNT_CAP || !shape.rowid) return n;
    const id = sql.id(shape.rowid);
    const from = tableId(table);
    const r = await sql<{ lo: number | null; hi: number | null }>`select (select min(${id}) from ${from}) as lo, (select max(${id}) from ${from}) as hi`.execute(this.#db);
    const { lo, hi } = r.rows[0] ?? { lo: null, hi: null };
    return lo === null || hi === null ? n : Math.max(n, Number(hi) - Number(lo) + 1);
  }

  async #statRows(table: TableRef): Promise<number | undefined> {
    const has = await sql<{ n: number }>`select count(*) as n from ${sql.id(table.schema, 'sqlite_master')} where type = 'table' and name = 'sqlite_stat1'`.execute(this.#db);
    if (!has.rows[0]?.n) return undefined;
    const r = await sql<{ stat: string }>`select stat from ${sql.id(table.schema, 'sqlite_stat1')} where tbl = ${table.name}`.execute(this.#db);
    let best: number | undefined;
    for (const row of r.rows) {
      const n = Number(String(row.stat).split(' ')[0]);
      if (Number.isFinite(n)) best = Math.max(best ?? 0, n);
    }
    return best;
  }
}
