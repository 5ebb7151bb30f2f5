import { sql, type Kysely, type RawBuilder } from 'kysely';
import { BOUNDED_COUNT_CAP, boundedCount, tableId } from '../sampling.js';
import type { SourceIntrospector } from '../source-base.js';
import type { ColumnInfo, ForeignKey, IntrospectOptions, TableInfo, TableRef } from '../types.js';

interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  reltuples: number;
  relpages: number;
  curpages: number | null;
  comment: string | null;
}

interface ColumnRow {
  oid: string;
  name: string;
  data_type: string;
  base_type: string;
  category: string;
  nullable: boolean;
  max_length: number | null;
  comment: string | null;
}

interface ConstraintRow {
  oid: string;
  name: string;
  type: string;
  columns: string[] | string | null;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | string | null;
}

/** What the planner knows about a relation, for estimates and sampling. */
export interface RelationStats {
  readonly relkind: string;
  /** -1 when unknown (views, foreign tables without statistics). */
  readonly estimate: number;
}

const TYPE_CLASS: Record<string, ColumnInfo['typeClass']> = {
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  char: 'text',
  name: 'text',
  citext: 'text',
  xml: 'text',
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  numeric: 'decimal',
  float4: 'decimal',
  float8: 'decimal',
  money: 'decimal',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  bytea: 'binary',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
};

/** Maps a Postgres base type (`pg_type.typname`) to Steward's coarse type class. */
export function postgresTypeClass(baseType: string, category: string): ColumnInfo['typeClass'] {
  if (category === 'A') return 'other';
  return TYPE_CLASS[baseType] ?? 'other';
}

function relationFilter(schemas: readonly string[] | undefined): RawBuilder<unknown> {
  const wanted = schemas && schemas.length > 0 ? sql`and n.nspname in (${sql.join(schemas.map((s) => sql`${s}`))})` : sql``;
  return sql`c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'
    ${wanted}`;
}

const STATS_COLUMNS = sql`c.relkind::text as relkind, c.reltuples::float8 as reltuples, c.relpages::float8 as relpages,
  case when c.relkind in ('r', 'm') then pg_relation_size(c.oid)::float8 / current_setting('block_size')::float8 end as curpages`;

/**
 * The planner's own arithmetic: tuples per page from the last ANALYZE/VACUUM,
 * times the relation's current size in pages (so an estimate does not go stale
 * as the table grows). `undefined` when the catalog cannot say.
 */
function fromStats(r: Pick<RelationRow, 'relkind' | 'reltuples' | 'relpages' | 'curpages'>): number | undefined {
  const reltuples = Number(r.reltuples);
  const relpages = Number(r.relpages);
  if (r.relkind === 'v') return -1;
  if (r.relkind === 'f') return reltuples >= 0 ? Math.round(reltuples) : -1;
  if (r.relkind === 'r' || r.relkind === 'm') {
    const curpages = Number(r.curpages ?? 0);
    if (curpages === 0) return 0;
    // PG ≥ 14: reltuples = -1 means never analyzed; before, relpages = 0 meant the same.
    if (reltuples >= 0 && relpages > 0) return Math.round((reltuples / relpages) * curpages);
    return undefined;
  }
  return undefined;
}

function asArray(v: string[] | string | null): string[] {
  if (v === null) return [];
  return typeof v === 'string' ? (JSON.parse(v) as string[]) : v;
}

export class PostgresIntrospector implements SourceIntrospector {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async introspect(options: IntrospectOptions): Promise<TableInfo[]> {
    const filter = relationFilter(options.schemas);
    const rels = await sql<RelationRow>`
      select c.oid::text as oid, n.nspname as schema, c.relname as name, ${STATS_COLUMNS},
             obj_description(c.oid, 'pg_class') as comment
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where ${filter}
      order by n.nspname, c.relname`.execute(this.#db);
    if (rels.rows.length === 0) return [];

    const cols = await sql<ColumnRow>`
      select a.attrelid::text as oid, a.attname as name,
             format_type(a.atttypid, null) as data_type,
             coalesce(bt.typname, t.typname)::text as base_type,
             coalesce(bt.typcategory, t.typcategory)::text as category,
             not (a.attnotnull or coalesce(t.typnotnull, false)) as nullable,
             case when coalesce(bt.typname, t.typname) in ('varchar', 'bpchar')
                   and (case when t.typtype = 'd' then t.typtypmod else a.atttypmod end) > 4
                  then (case when t.typtype = 'd' then t.typtypmod else a.atttypmod end) - 4 end as max_length,
             col_description(a.attrelid, a.attnum) as comment
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on c.oid = a.attrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_type t on t.oid = a.atttypid
      left join pg_catalog.pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
      where a.attnum > 0 and not a.attisdropped and ${filter}
      order by a.attrelid, a.attnum`.execute(this.#db);

    const cons = await sql<ConstraintRow>`
      select con.conrelid::text as oid, con.conname as name, con.contype::text as type,
             (select json_agg(a.attname order by k.ord) from unnest(con.conkey) with ordinality as k(attnum, ord)
                join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
             fn.nspname as ref_schema, fc.relname as ref_table,
             (select json_agg(a.attname order by k.ord) from unnest(con.confkey) with ordinality as k(attnum, ord)
                join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as ref_columns
      from pg_catalog.pg_constraint con
      join pg_catalog.pg_class c on c.oid = con.conrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      left join pg_catalog.pg_class fc on fc.oid = con.confrelid
      left join pg_catalog.pg_namespace fn on fn.oid = fc.relnamespace
      where con.contype in ('p', 'f') and con.conparentid = 0 and ${filter}
      order by con.conrelid, con.conname`.execute(this.#db);

    const uniques = await sql<{ oid: string; columns: string | string[] | null }>`
      select i.indrelid::text as oid,
             (select json_agg(a.attname order by k.ord) from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
                join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) as columns
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where i.indisunique and not i.indisprimary and i.indpred is null and not (0 = any(i.indkey::int2[])) and ${filter}
      order by i.indrelid, i.indexrelid`.execute(this.#db);
    const uniqueOf = new Map<string, string[][]>();
    for (const r of uniques.rows) uniqueOf.set(r.oid, [...(uniqueOf.get(r.oid) ?? []), asArray(r.columns)]);

    const columnsOf = new Map<string, ColumnInfo[]>();
    for (const r of cols.rows) {
      const list = columnsOf.get(r.oid) ?? [];
      list.push({
        name: r.name,
        dataType: r.data_type.toLowerCase(),
        typeClass: postgresTypeClass(r.base_type, r.category),
        nullable: r.nullable,
        maxLength: r.max_length === null ? null : Number(r.max_length),
        comment: r.comment,
      });
      columnsOf.set(r.oid, list);
    }
    const pkOf = new Map<string, string[]>();
    const fksOf = new Map<string, ForeignKey[]>();
    for (const r of cons.rows) {
      if (r.type === 'p') {
        pkOf.set(r.oid, asArray(r.columns));
      } else {
        const list = fksOf.get(r.oid) ?? [];
        list.push({
          name: r.name,
          columns: asArray(r.columns),
          referencedSchema: r.ref_schema ?? '',
          referencedTable: r.ref_table ?? '',
          referencedColumns: asArray(r.ref_columns),
        });
        fksOf.set(r.oid, list);
      }
    }

    const tables: TableInfo[] = [];
    for (const r of rels.rows) {
      const ref = { schema: r.schema, name: r.name };
      tables.push({
        schema: r.schema,
        name: r.name,
        kind: r.relkind === 'v' || r.relkind === 'm' ? 'view' : 'table',
        columns: columnsOf.get(r.oid) ?? [],
        primaryKey: pkOf.get(r.oid) ?? [],
        foreignKeys: (fksOf.get(r.oid) ?? []).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        uniqueKeys: uniqueOf.get(r.oid) ?? [],
        rowEstimate: await this.#resolve(ref, r).catch(() => -1),
        comment: r.comment,
      });
    }
    return tables;
  }

  async estimateRows(table: TableRef): Promise<number> {
    return (await this.stats(table))?.estimate ?? -1;
  }

  /** Relation kind and row estimate; `undefined` when no such table or view is visible. */
  async stats(table: TableRef): Promise<RelationStats | undefined> {
    const r = await sql<RelationRow>`
      select c.oid::text as oid, ${STATS_COLUMNS}
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${table.schema} and c.relname = ${table.name}`.execute(this.#db);
    const row = r.rows[0];
    if (!row) return undefined;
    return { relkind: row.relkind, estimate: await this.#resolve(table, row) };
  }

  async #resolve(table: TableRef, row: Pick<RelationRow, 'oid' | 'relkind' | 'reltuples' | 'relpages' | 'curpages'>): Promise<number> {
    if (row.relkind === 'p') {
      const leaves = await sql<RelationRow>`
        select ${STATS_COLUMNS} from pg_catalog.pg_partition_tree(${row.oid}::oid::regclass) t
        join pg_catalog.pg_class c on c.oid = t.relid where t.isleaf`.execute(this.#db);
      let sum = 0;
      let known = true;
      for (const leaf of leaves.rows) {
        const e = fromStats(leaf);
        if (e === undefined || e < 0) known = false;
        else sum += e;
      }
      if (known) return sum;
    } else {
      const e = fromStats(row);
      if (e !== undefined) return e;
    }
    return this.#fallback(table);
  }

  /** Never analyzed: count up to a cap; past the cap, ask the planner (it scales by the table's size on disk). */
  async #fallback(table: TableRef): Promise<number> {
    const n = await boundedCount(this.#db, table);
    if (n < BOUNDED_COUNT_CAP) return n;
    const plan = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) select 1 from ${tableId(table)}`.execute(this.#db);
    const raw = plan.rows[0]?.['QUERY PLAN'];
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan?: { 'Plan Rows'?: number } }[] | undefined;
    const planned = Number(parsed?.[0]?.Plan?.['Plan Rows'] ?? 0);
    return Math.max(n, Math.round(planned));
  }
}
