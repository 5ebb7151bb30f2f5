import { sql, type Kysely, type RawBuilder } from 'kysely';
import { keyListIn, keyTuple, tableRef, valueTuple, type RowWriter, type SwapOptions, type SwapRow } from '../column-writer.js';
import { pgIdent } from './postgres-access.js';
import type { TableInfo } from '../table-info.js';

/**
 * One `UPDATE … FROM (VALUES …)` per batch: every row of the batch in one
 * statement, each matched on its key and on the exact value read (`=` on text
 * compares bytes in Postgres, whatever the collation's sort order).
 */
export const POSTGRES_WRITER: RowWriter = {
  async readOnlyReason(db: Kysely<any>) {
    const r = (await sql<{ recovery: boolean; ro: string }>`select pg_is_in_recovery() as recovery, current_setting('transaction_read_only') as ro`.execute(db)).rows[0];
    if (r?.recovery) return 'the server is a read-only replica (pg_is_in_recovery() is true)';
    if (r?.ro === 'on') return 'the session is read-only (default_transaction_read_only is on)';
    return null;
  },
  widenColumn(table, column, chars) {
    if (column.typeClass !== 'text') throw new Error(`its type ${column.dataType} cannot hold text ciphertexts; add a text column, copy the values into it and encrypt that`);
    if (column.maxLength === null || column.maxLength >= chars) return null;
    // varchar(n) → text is binary-compatible: a catalog change, no table rewrite.
    return `ALTER TABLE ${pgIdent(table.schema)}.${pgIdent(table.name)} ALTER COLUMN ${pgIdent(column.name)} TYPE text`;
  },
  addIndexColumn(table, column, _chars) {
    const t = `${pgIdent(table.schema)}.${pgIdent(table.name)}`;
    return [`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${pgIdent(column)} text`, `CREATE INDEX IF NOT EXISTS ${pgIdent(`${table.name}_${column}_idx`.slice(0, 63))} ON ${t} (${pgIdent(column)})`];
  },
  async uniqueIndexes(db, table) {
    const rows = (
      await sql<{ name: string; columns: string[] | string }>`select ic.relname as name,
          coalesce((select json_agg(a.attname order by k.ord) from unnest(i.indkey) with ordinality as k(attnum, ord)
            join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum), '[]'::json) as columns
        from pg_catalog.pg_index i join pg_catalog.pg_class c on c.oid = i.indrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        join pg_catalog.pg_class ic on ic.oid = i.indexrelid
        where n.nspname = ${table.schema} and c.relname = ${table.name} and i.indisunique`.execute(db)
    ).rows;
    return rows.map((r) => ({ name: r.name, columns: typeof r.columns === 'string' ? (JSON.parse(r.columns) as string[]) : r.columns }));
  },
  async updateDenied(db, table, columns) {
    const rel = `${pgIdent(table.schema)}.${pgIdent(table.name)}`;
    const denied: string[] = [];
    let grantee = '';
    for (const c of columns) {
      const r = (await sql<{ u: string; ok: boolean }>`select current_user as u, has_column_privilege(${rel}, ${c}, 'UPDATE') as ok`.execute(db)).rows[0]!;
      grantee = r.u;
      if (!r.ok) denied.push(c);
    }
    if (!grantee) grantee = (await sql<{ u: string }>`select current_user as u`.execute(db)).rows[0]!.u;
    return { denied, grantee: pgIdent(grantee) };
  },
  async swap(trx: Kysely<any>, rows: readonly SwapRow[], o: SwapOptions) {
    if (rows.length === 0) return [];
    // RETURNING reports each changed row as stored: the read-back, in the same statement.
    return (await swapStatement(trx, rows, o, sql`returning ${sql.join(o.table.primaryKey.map((k) => sql`t.${sql.id(k)}`))}, t.${sql.id(o.column)} as ${sql.id('__value')}`)).rows;
  },
  async swapCounted(trx: Kysely<any>, rows: readonly SwapRow[], o: SwapOptions) {
    if (rows.length === 0) return 0;
    // Each changed row compared as stored (after any trigger) with the value sent, in the database: one row back per batch.
    const r = await swapStatement(trx, rows, o, sql`returning t.${sql.id(o.column)} = v.val as __ok`, true);
    return Number(r.rows[0]?.__n ?? 0);
  },
  async fetchByKeys(trx: Kysely<any>, table, column, keys) {
    const pk = table.primaryKey;
    if (pk.length === 1) {
      return (
        await sql<Record<string, unknown>>`select ${sql.id(pk[0]!)}, ${sql.id(column)} as ${sql.id('__value')} from ${tableRef(table)}
          where ${keyAny(table, pk[0]!, keys.map((k) => String(k[0])))}`.execute(trx)
      ).rows;
    }
    const arrays = pk.map((_, i) => sql`${keys.map((k) => String(k[i]))}::text[]`);
    const match = pk.map((k, i) => keyMatch(table, k, i));
    return (
      await sql<Record<string, unknown>>`select ${sql.join(pk.map((k) => sql`t.${sql.id(k)}`))}, t.${sql.id(column)} as ${sql.id('__value')}
        from unnest(${sql.join(arrays)}) as v(${sql.join(pk.map((_, i) => sql.id(`k${i}`)))}) join ${tableRef(table)} as t on ${sql.join(match, sql` and `)}`.execute(trx)
    ).rows;
  },
  reclaim: (t, full) => ({
    statements: [`VACUUM ${full ? 'FULL ' : ''}${pgIdent(t.schema)}.${pgIdent(t.name)}`],
    remains: [
      full
        ? 'VACUUM FULL rewrote the table into new files and released the old ones to the operating system, which does not overwrite them'
        : 'VACUUM marks the dead rows reusable; their bytes stay in the table files until new rows overwrite them (VACUUM FULL rewrites the table, under an exclusive lock)',
      'The write-ahead log and its archive (WAL, PITR) hold the deleted rows until they are recycled',
      'Backups and replicas taken before the deletion still hold them',
    ],
  }),
  keysIn(table, keys) {
    if (table.primaryKey.length !== 1) return keyListIn(table, keys);
    return keyAny(table, table.primaryKey[0]!, keys.map((k) => String(k[0])));
  },
  keyParameters: (table) => (table.primaryKey.length === 1 ? 0 : table.primaryKey.length),
  beforeDelete: async () => undefined,
  lockClause: () => sql`for update`,
  startsWith: (c, prefix) => sql`(left(${c}::text, ${prefix.length}) = ${prefix})`,
  octetLength: (c) => sql`octet_length(${c}::text)`,
  async boundLockWait(trx, ms) {
    await sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(ms))}ms`}, true)`.execute(trx);
  },
  async eraseNext(trx, { table, due, after, limit }) {
    const pk = table.primaryKey;
    const refs = pk.map((k) => sql.id(k));
    const asc = sql.join(refs);
    const desc = sql.join(pk.map((k) => sql`${sql.id(k)} desc`));
    const from = after ? sql`and ${keyTuple(pk)} > ${valueTuple(after)}` : sql``;
    // The batch is chosen by key (index order) and deleted by tuple id (a TID scan, the cheapest
    // way back to the rows); the delete re-checks `due` on the row version it finds, so a row the
    // application changed in between is kept if it is no longer due. A row the application only
    // touched has moved (new tuple id): the second delete, run only when the first missed rows,
    // finds those by key.
    const r = (
      await sql<Record<string, unknown>>`with __steward_s as (
          select ctid as __ctid, ${asc} from ${tableRef(table)} where ${due} ${from} order by ${asc} limit ${limit}
        ), __steward_d as (
          delete from ${tableRef(table)} where ctid = any(array(select __ctid from __steward_s)) and ${due} returning ${asc}
        ), __steward_moved as (
          delete from ${tableRef(table)} where (select count(*) from __steward_d) < (select count(*) from __steward_s)
            and ${keyTuple(pk)} in (select ${asc} from __steward_s except all select ${asc} from __steward_d) and ${due} returning ${asc}
        ), __steward_u as (select * from __steward_d union all select * from __steward_moved)
        select (select count(*) from __steward_s)::int as __seen, (select count(*) from __steward_u)::int as __rows,
          (select ${keysDigest(pk)} from __steward_u) as __digest,
          txid_current()::text as __txid, __steward_l.*
        from (select 1) as __steward_one left join lateral (select ${sql.join(pk.map((k, i) => sql`${sql.id(k)} as ${sql.id(`__last${i}`)}`))} from __steward_s order by ${desc} limit 1) as __steward_l on true`.execute(trx)
    ).rows[0]!;
    const last = r.__last0 === null || r.__last0 === undefined ? null : pk.map((_, i) => r[`__last${i}`]);
    return { seen: Number(r.__seen), rows: Number(r.__rows), digest: String(r.__digest), last, txid: String(r.__txid) };
  },
  async fastErase(db, table) {
    const r = (
      await sql<{ v: number; kind: string; blocks: string; tuples: number }>`select current_setting('server_version_num')::int as v, c.relkind::text as kind,
        pg_relation_size(c.oid) / current_setting('block_size')::int as blocks,
        greatest(c.reltuples, 0)::float8 / greatest(c.relpages, 1) as tuples
        from pg_class c where c.oid = ${`${pgIdent(table.schema)}.${pgIdent(table.name)}`}::regclass`.execute(db)
    ).rows[0];
    // Only a plain table: a partitioned table's tuple ids repeat across partitions, a foreign table may have none.
    if (!r || r.kind !== 'r') return null;
    // TID range scans came with Postgres 14.
    return { blocks: r.v >= 140000 ? Number(r.blocks) : null, rowsPerBlock: Math.max(1, Number(r.tuples) || 50) };
  },
  async eraseBlocks(trx, { table, due, from, to }) {
    const pk = table.primaryKey;
    const r = (
      await sql<Record<string, unknown>>`with __steward_u as (
          delete from ${tableRef(table)} where ctid >= ${`(${from},0)`}::tid and ctid < ${`(${to},0)`}::tid and ${due} returning ${sql.join(pk.map((k) => sql.id(k)))}
        )
        select count(*)::int as __rows, ${keysDigest(pk)} as __digest, txid_current()::text as __txid from __steward_u`.execute(trx)
    ).rows[0]!;
    return { rows: Number(r.__rows), digest: String(r.__digest), txid: String(r.__txid) };
  },
  async transactionStatus(db, txid) {
    try {
      const r = (await sql<{ s: string | null }>`select txid_status(${txid}::bigint) as s`.execute(db)).rows[0];
      return (r?.s ?? null) as 'committed' | 'aborted' | 'in progress' | null;
    } catch (e) {
      // "transaction ID … is in the future": this server never ran it (a failover to a replica that
      // had not received it, or a restore): it did not commit here, and its rows are still there.
      // (By SQLSTATE alone: the message is translated with the server's lc_messages.)
      if ((e as { code?: string }).code === '22023') return 'aborted';
      throw e;
    }
  },
};

/**
 * The compare-and-set of a batch as one `UPDATE … FROM unnest(…)`: one array parameter per
 * field, so a 1000-row batch is one short statement, planned as an index nested loop.
 * `counted`: the statement returns one row, `__n`, the changed rows whose `__ok` holds.
 */
/**
 * The type a key column's text parameters are cast to, from the introspection
 * (`format_type`): spliced only when it has the shape of a plain type name (`integer`,
 * `character varying(20)`, `timestamp with time zone`); anything else (a quoted or
 * schema-qualified user type) is compared as text instead, which is always right and
 * cannot change the statement.
 */
const PLAIN_TYPE = /^[a-z][a-z0-9_]*(?: [a-z][a-z0-9_]*)*(?:\(\d+(?:, ?\d+)?\))?(?: with(?:out)? time zone)?$/;
function keyType(table: TableInfo, column: string): RawBuilder<unknown> | null {
  const type = table.columns.find((c) => c.name === column)?.dataType ?? 'text';
  return PLAIN_TYPE.test(type) ? sql.raw(type) : null;
}

/** `key = any($1::type[])` (or compared as text when the type is not a plain name). */
function keyAny(table: TableInfo, column: string, values: readonly string[]): RawBuilder<unknown> {
  const type = keyType(table, column);
  return type ? sql`${sql.id(column)} = any(${values}::${type}[])` : sql`${sql.id(column)}::text = any(${values}::text[])`;
}

/** `t.key = v.k<i>::type` for a join against `unnest` of text arrays. */
function keyMatch(table: TableInfo, column: string, i: number): RawBuilder<unknown> {
  const type = keyType(table, column);
  return type ? sql`t.${sql.id(column)} = v.${sql.id(`k${i}`)}::${type}` : sql`t.${sql.id(column)}::text = v.${sql.id(`k${i}`)}`;
}

function swapStatement(trx: Kysely<any>, rows: readonly SwapRow[], o: SwapOptions, returning: RawBuilder<unknown>, counted = false) {
  const pk = o.table.primaryKey;
  const arrays = [
    ...pk.map((_, i) => sql`${rows.map((r) => (r.key[i] === null ? null : String(r.key[i])))}::text[]`),
    sql`${rows.map((r) => r.old)}::text[]`,
    sql`${rows.map((r) => r.value)}::text[]`,
    ...(o.extraColumn ? [sql`${rows.map((r) => r.extra ?? null)}::text[]`] : []),
  ];
  const cols = [...pk.map((_, i) => `k${i}`), 'old', 'val', ...(o.extraColumn ? ['extra'] : [])];
  const match = pk.map((k, i) => keyMatch(o.table, k, i));
  const set = [sql`${sql.id(o.column)} = v.val`, ...(o.extraColumn ? [sql`${sql.id(o.extraColumn)} = v.extra`] : [])];
  const update = sql`update ${tableRef(o.table)} as t set ${sql.join(set)}
    from unnest(${sql.join(arrays)}) as v(${sql.join(cols.map((c) => sql.id(c)))})
    where ${sql.join(match, sql` and `)} and t.${sql.id(o.column)} = v.old
    ${returning}`;
  if (!counted) return sql<Record<string, unknown>>`${update}`.execute(trx);
  return sql<Record<string, unknown>>`with __steward_u as (${update}) select count(*) filter (where __ok)::int as __n from __steward_u`.execute(trx);
}

/**
 * SHA-256 (hex) of the keys' lines in key order, exactly as src/retention/apply.ts
 * digests them: `["1","2"]\n` per row (integer keys only, whose text and order
 * are the same here and there), over the rows of the enclosing query.
 */
function keysDigest(pk: readonly string[]) {
  if (pk.length === 1) {
    // One sort of integers, one string: about twice as fast as string_agg over per-row lines.
    const k = sql.id(pk[0]!);
    return sql`encode(sha256(convert_to(coalesce('["' || array_to_string(array_agg(${k} order by ${k}), ${'"]\n["'}) || ${'"]\n'}, ''), 'UTF8')), 'hex')`;
  }
  const line = sql`'[' || concat_ws(',', ${sql.join(pk.map((k) => sql`'"' || ${sql.id(k)}::text || '"'`))}) || ']' || chr(10)`;
  return sql`encode(sha256(convert_to(coalesce(string_agg(${line}, '' order by ${sql.join(pk.map((k) => sql.id(k)))}), ''), 'UTF8')), 'hex')`;
}
