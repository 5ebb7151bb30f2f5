import { sql, type Kysely, type RawBuilder } from 'kysely';
import { BOUNDED_COUNT_CAP, boundedCount } from '../sampling.js';
import type { SourceIntrospector } from '../source-base.js';
import type { ColumnInfo, ForeignKey, IntrospectOptions, TableInfo, TableRef } from '../types.js';

interface TableRow {
  schema: string;
  name: string;
  type: string;
  rows: number | string | null;
  comment: string | null;
}

interface ColumnRow {
  schema: string;
  name: string;
  column: string;
  data_type: string;
  column_type: string;
  nullable: string;
  max_length: number | string | null;
  comment: string | null;
}

interface KeyRow {
  schema: string;
  name: string;
  constraint_name: string;
  column: string;
  ref_schema: string | null;
  ref_table: string | null;
  ref_column: string | null;
}

interface CheckRow {
  schema: string;
  name: string;
  clause: string;
}

const SYSTEM_SCHEMAS = ['mysql', 'sys', 'performance_schema', 'information_schema'];

/** Below this InnoDB estimate, count (bounded) instead: small tables often report 0 or a rough guess. */
const COUNT_BELOW = 1000;

const TYPE_CLASS: Record<string, ColumnInfo['typeClass']> = {
  char: 'text',
  varchar: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  integer: 'integer',
  bigint: 'integer',
  decimal: 'decimal',
  numeric: 'decimal',
  float: 'decimal',
  double: 'decimal',
  real: 'decimal',
  bool: 'boolean',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamp',
  timestamp: 'timestamp',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
  json: 'json',
  uuid: 'uuid',
};

/** Maps MySQL's `data_type` / `column_type` to Steward's coarse type class. `tinyint(1)` is MySQL's BOOLEAN. */
export function mysqlTypeClass(dataType: string, columnType: string): ColumnInfo['typeClass'] {
  const ct = columnType.toLowerCase();
  if (ct === 'tinyint(1)' || ct === 'bit(1)') return 'boolean';
  return TYPE_CLASS[dataType.toLowerCase()] ?? 'other';
}

/** MariaDB stores JSON as `longtext` with a `json_valid(col)` check; the check names the column. */
function jsonColumnOf(clause: string): string | undefined {
  const m = /^\s*json_valid\(\s*`((?:[^`]|``)+)`\s*\)\s*$/i.exec(clause);
  return m ? m[1]!.replaceAll('``', '`') : undefined;
}

function inList(values: readonly string[]): RawBuilder<unknown> {
  return sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}

const key = (schema: string, name: string) => `${schema}\u0000${name}`;

export class MysqlIntrospector implements SourceIntrospector {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  /** The schemas listed by default: the URL's database, or every non-system one when the URL names none. */
  async #schemas(options: IntrospectOptions): Promise<RawBuilder<unknown>> {
    if (options.schemas && options.schemas.length > 0) return sql`in ${inList(options.schemas)}`;
    const r = await sql<{ db: string | null }>`select database() as db`.execute(this.#db);
    const current = r.rows[0]?.db;
    return current ? sql`= ${current}` : sql`not in ${inList(SYSTEM_SCHEMAS)}`;
  }

  async introspect(options: IntrospectOptions): Promise<TableInfo[]> {
    const schemas = await this.#schemas(options);
    const tables = await sql<TableRow>`
      select table_schema as \`schema\`, table_name as \`name\`, table_type as \`type\`, table_rows as \`rows\`, table_comment as \`comment\`
      from information_schema.tables where table_schema ${schemas}
      order by table_schema, table_name`.execute(this.#db);
    if (tables.rows.length === 0) return [];

    const columns = await sql<ColumnRow>`
      select table_schema as \`schema\`, table_name as \`name\`, column_name as \`column\`, data_type as data_type,
             column_type as column_type, is_nullable as nullable, character_maximum_length as max_length, column_comment as \`comment\`
      from information_schema.columns where table_schema ${schemas}
      order by table_schema, table_name, ordinal_position`.execute(this.#db);

    const keys = await sql<KeyRow>`
      select table_schema as \`schema\`, table_name as \`name\`, constraint_name as constraint_name, column_name as \`column\`,
             referenced_table_schema as ref_schema, referenced_table_name as ref_table, referenced_column_name as ref_column
      from information_schema.key_column_usage
      where table_schema ${schemas} and (constraint_name = 'PRIMARY' or referenced_table_name is not null)
      order by table_schema, table_name, constraint_name, ordinal_position`.execute(this.#db);

    const uniques = await sql<{ schema: string; name: string; index_name: string; column: string | null }>`
      select table_schema as \`schema\`, table_name as \`name\`, index_name as index_name, column_name as \`column\`
      from information_schema.statistics
      where table_schema ${schemas} and non_unique = 0 and index_name <> 'PRIMARY' and sub_part is null
      order by table_schema, table_name, index_name, seq_in_index`.execute(this.#db);
    const uniqueOf = new Map<string, Map<string, (string | null)[]>>();
    for (const r of uniques.rows) {
      const k = key(r.schema, r.name);
      const byIndex = uniqueOf.get(k) ?? new Map<string, (string | null)[]>();
      byIndex.set(r.index_name, [...(byIndex.get(r.index_name) ?? []), r.column]);
      uniqueOf.set(k, byIndex);
    }

    const jsonColumns = new Set<string>();
    for (const c of await this.#checks(schemas)) {
      const col = jsonColumnOf(c.clause);
      if (col !== undefined) jsonColumns.add(`${key(c.schema, c.name)}\u0000${col}`);
    }

    const columnsOf = new Map<string, ColumnInfo[]>();
    for (const r of columns.rows) {
      const k = key(r.schema, r.name);
      const list = columnsOf.get(k) ?? [];
      const isJson = jsonColumns.has(`${k}\u0000${r.column}`);
      const typeClass = isJson ? 'json' : mysqlTypeClass(r.data_type, r.column_type);
      list.push({
        name: r.column,
        dataType: r.column_type.toLowerCase(),
        typeClass,
        nullable: r.nullable === 'YES',
        maxLength: typeClass === 'text' && r.max_length !== null ? Number(r.max_length) : null,
        comment: r.comment ? r.comment : null,
      });
      columnsOf.set(k, list);
    }

    const pkOf = new Map<string, string[]>();
    const fksOf = new Map<string, Map<string, { columns: string[]; refSchema: string; refTable: string; refColumns: string[] }>>();
    for (const r of keys.rows) {
      const k = key(r.schema, r.name);
      if (r.constraint_name === 'PRIMARY' && r.ref_table === null) {
        const pk = pkOf.get(k) ?? [];
        pk.push(r.column);
        pkOf.set(k, pk);
        continue;
      }
      const byName = fksOf.get(k) ?? new Map();
      const fk = byName.get(r.constraint_name) ?? { columns: [], refSchema: r.ref_schema ?? r.schema, refTable: r.ref_table ?? '', refColumns: [] };
      fk.columns.push(r.column);
      fk.refColumns.push(r.ref_column ?? '');
      byName.set(r.constraint_name, fk);
      fksOf.set(k, byName);
    }

    const out: TableInfo[] = [];
    for (const t of tables.rows) {
      const k = key(t.schema, t.name);
      const isView = t.type === 'VIEW' || t.type === 'SYSTEM VIEW';
      const fks: ForeignKey[] = [...(fksOf.get(k) ?? new Map()).entries()]
        .map(([name, fk]) => ({ name, columns: fk.columns, referencedSchema: fk.refSchema, referencedTable: fk.refTable, referencedColumns: fk.refColumns }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const ref = { schema: t.schema, name: t.name };
      out.push({
        schema: t.schema,
        name: t.name,
        kind: isView ? 'view' : 'table',
        columns: columnsOf.get(k) ?? [],
        primaryKey: pkOf.get(k) ?? [],
        foreignKeys: fks,
        // An index over an expression (MySQL 8 functional index) has no column name: left out.
        uniqueKeys: [...(uniqueOf.get(k)?.values() ?? [])].filter((cols) => cols.every((c) => c !== null)) as string[][],
        rowEstimate: isView ? -1 : await this.#resolve(ref, t.rows).catch(() => -1),
        comment: t.comment ? t.comment : null,
      });
    }
    return out;
  }

  async #checks(schemas: RawBuilder<unknown>): Promise<CheckRow[]> {
    try {
      const r = await sql<CheckRow>`
        select constraint_schema as \`schema\`, table_name as \`name\`, check_clause as clause
        from information_schema.check_constraints
        where constraint_schema ${schemas} and check_clause like ${'%json_valid%'}`.execute(this.#db);
      return r.rows;
    } catch {
      // MySQL < 8.0.16 has no check_constraints; it has a native JSON type instead.
      return [];
    }
  }

  async estimateRows(table: TableRef): Promise<number> {
    const r = await sql<{ type: string; rows: number | string | null }>`
      select table_type as \`type\`, table_rows as \`rows\` from information_schema.tables
      where table_schema = ${table.schema} and table_name = ${table.name}`.execute(this.#db);
    const row = r.rows[0];
    if (!row) return boundedCount(this.#db, table); // raises the server's "no such table" / "denied"
    if (row.type === 'VIEW' || row.type === 'SYSTEM VIEW') return -1;
    return this.#resolve(table, row.rows);
  }

  /** InnoDB's `table_rows` is an estimate; small or zero values get a bounded count instead. */
  async #resolve(table: TableRef, tableRows: number | string | null): Promise<number> {
    const n = tableRows === null ? -1 : Number(tableRows);
    if (n >= COUNT_BELOW) return n;
    const counted = await boundedCount(this.#db, table);
    return counted >= BOUNDED_COUNT_CAP ? Math.max(counted, n) : counted;
  }
}
