import { sql, type Kysely } from 'kysely';
import { fetchByKeyList, keyListIn, keyListParameters, tableRef, type RowWriter, type SwapOptions, type SwapRow } from '../column-writer.js';
import { mysqlAccount, mysqlAccountPart, mysqlIdent } from './mysql-access.js';

/**
 * One multi-table `UPDATE … JOIN (SELECT … UNION ALL …)` per batch. Values are
 * compared as binary strings: MySQL's default collations ignore case and
 * trailing spaces, and a row the application changed only in case must not be
 * overwritten with the encryption of the old value.
 */
class RollBack extends Error {}

export const MYSQL_WRITER: RowWriter = {
  async readOnlyReason(db: Kysely<any>) {
    const r = (await sql<{ ro: unknown; sro: unknown }>`select @@global.read_only as ro, @@global.super_read_only as sro`.execute(db).catch(async () => sql<{ ro: unknown; sro: unknown }>`select @@global.read_only as ro, 0 as sro`.execute(db))).rows[0];
    if (Number(r?.ro) === 1 || Number(r?.sro) === 1) return 'the server is read-only (@@read_only is ON: a replica, or writes are switched off)';
    return null;
  },
  widenColumn(table, column, chars) {
    if (column.typeClass !== 'text') throw new Error(`its type ${column.dataType} cannot hold text ciphertexts; add a text column, copy the values into it and encrypt that`);
    const dt = column.dataType;
    const isVarchar = /^(var)?char\(/.test(dt);
    const capacity = column.maxLength ?? (dt.startsWith('longtext') ? 4_294_967_295 : dt.startsWith('mediumtext') ? 16_777_215 : dt.startsWith('tinytext') ? 255 : 65_535);
    if (capacity >= chars * (isVarchar ? 1 : 4)) return null;
    const type = chars <= 16_000 ? `VARCHAR(${chars})` : chars * 4 <= 16_777_215 ? 'MEDIUMTEXT' : 'LONGTEXT';
    return `ALTER TABLE ${mysqlIdent(table.schema)}.${mysqlIdent(table.name)} MODIFY COLUMN ${mysqlIdent(column.name)} ${type} ${column.nullable ? 'NULL' : 'NOT NULL'}`;
  },
  addIndexColumn(table, column, chars) {
    const t = `${mysqlIdent(table.schema)}.${mysqlIdent(table.name)}`;
    return [`ALTER TABLE ${t} ADD COLUMN ${mysqlIdent(column)} VARCHAR(${chars}) NULL`, `CREATE INDEX ${mysqlIdent(`${table.name}_${column}_idx`.slice(0, 64))} ON ${t} (${mysqlIdent(column)})`];
  },
  async uniqueIndexes(db, table) {
    const rows = (
      await sql<{ name: string; col: string }>`select index_name as ${sql.id('name')}, column_name as ${sql.id('col')} from information_schema.statistics
        where table_schema = ${table.schema} and table_name = ${table.name} and non_unique = 0 order by index_name, seq_in_index`.execute(db)
    ).rows;
    const by = new Map<string, string[]>();
    for (const r of rows) by.set(r.name, [...(by.get(r.name) ?? []), r.col]);
    return [...by].map(([name, columns]) => ({ name, columns }));
  },
  async updateDenied(db, table, columns) {
    // MySQL checks privileges when it opens the statement, before it looks at a row: an UPDATE of no row
    // tells, with no side effect (no row trigger fires; the transaction is rolled back anyway).
    const denied: string[] = [];
    for (const c of columns) {
      try {
        await db.transaction().execute(async (trx) => {
          await sql`update ${tableRef(table)} set ${sql.id(c)} = ${sql.id(c)} where 1 = 0`.execute(trx);
          throw new RollBack();
        });
      } catch (e) {
        if (e instanceof RollBack) continue;
        const code = (e as { code?: unknown }).code;
        if (code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR') denied.push(c);
        // Anything else: not a missing privilege; the run itself will say what it is.
      }
    }
    const u = String((await sql<{ u: string }>`select current_user() as u`.execute(db)).rows[0]?.u ?? '');
    const at = u.lastIndexOf('@');
    return { denied, grantee: at > 0 ? mysqlAccount(u.slice(0, at), u.slice(at + 1)) : mysqlAccountPart(u) };
  },
  async swap(trx: Kysely<any>, rows: readonly SwapRow[], o: SwapOptions) {
    if (rows.length === 0) return [];
    const pk = o.table.primaryKey;
    const select = (r: SwapRow, first: boolean) => {
      const parts = [
        ...r.key.map((k, i) => (first ? sql`${k} as ${sql.id(`k${i}`)}` : sql`${k}`)),
        first ? sql`${r.old} as ${sql.id('old')}` : sql`${r.old}`,
        first ? sql`${r.value} as ${sql.id('val')}` : sql`${r.value}`,
        ...(o.extraColumn ? [first ? sql`${r.extra ?? null} as ${sql.id('extra')}` : sql`${r.extra ?? null}`] : []),
      ];
      return sql`select ${sql.join(parts)}`;
    };
    const derived = sql.join(rows.map((r, i) => select(r, i === 0)), sql` union all `);
    const on = pk.map((k, i) => sql`t.${sql.id(k)} = v.${sql.id(`k${i}`)}`);
    const set = [sql`t.${sql.id(o.column)} = v.val`, ...(o.extraColumn ? [sql`t.${sql.id(o.extraColumn)} = v.extra`] : [])];
    await sql`update ${tableRef(o.table)} as t join (${derived}) as v on ${sql.join(on, sql` and `)}
      set ${sql.join(set)} where cast(t.${sql.id(o.column)} as binary) = cast(v.old as binary)`.execute(trx);
    return null; // MySQL has no UPDATE … RETURNING: the caller reads back
  },
  fetchByKeys: fetchByKeyList,
  reclaim: (t) => ({
    statements: [`OPTIMIZE TABLE ${mysqlIdent(t.schema)}.${mysqlIdent(t.name)}`],
    remains: [
      'OPTIMIZE TABLE rebuilds the table (online for InnoDB) and frees the old pages; the file system does not overwrite them',
      'The binary log and the redo/undo logs hold the deleted rows until they are purged (PURGE BINARY LOGS, expire_logs_days)',
      'Backups and replicas taken before the deletion still hold them',
    ],
  }),
  keysIn: keyListIn,
  keyParameters: keyListParameters,
  beforeDelete: async () => undefined,
  lockClause: () => sql`for update`,
  startsWith: (c, prefix) => sql`(cast(left(${c}, ${prefix.length}) as binary) = cast(${prefix} as binary))`,
  octetLength: (c) => sql`octet_length(${c})`,
  async boundLockWait(trx, ms) {
    await sql`set session innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(ms / 1000))}`.execute(trx);
  },
};
