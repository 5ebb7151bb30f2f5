import fs from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { fetchByKeyList, keyListIn, keyListParameters, tableRef, type RowWriter, type SwapOptions, type SwapRow } from '../column-writer.js';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * SQLite runs in this process: one prepared `UPDATE … WHERE key = ? AND c = ?`
 * per row inside the batch's transaction costs no round trip. Text compares
 * bytewise with `COLLATE BINARY`, whatever the column declares. Types are
 * advisory, so no column ever needs widening.
 */
export function sqliteWriter(file: string | undefined): RowWriter {
  return {
    async readOnlyReason(db: Kysely<any>) {
      const q = (await sql<{ query_only: number }>`pragma query_only`.execute(db)).rows[0];
      if (q && Number(q.query_only) === 1) return 'the connection is read-only (PRAGMA query_only)';
      if (file && file !== ':memory:') {
        try {
          await fs.access(file, fs.constants.W_OK);
          await fs.access(path.dirname(file), fs.constants.W_OK);
        } catch {
          return `the database file ${file} (or its directory, where the journal goes) is not writable by this user`;
        }
      }
      return null;
    },
    widenColumn(_table, column) {
      if (column.typeClass !== 'text' && column.typeClass !== 'other') throw new Error(`its declared type ${column.dataType} holds ${column.typeClass} values, not text; add a text column, copy the values into it and encrypt that`);
      return null;
    },
    addIndexColumn(table, column) {
      return [`ALTER TABLE ${ident(table.name)} ADD COLUMN ${ident(column)} TEXT`, `CREATE INDEX IF NOT EXISTS ${ident(`${table.name}_${column}_idx`)} ON ${ident(table.name)} (${ident(column)})`];
    },
    async uniqueIndexes(db, table) {
      const rows = (
        await sql<{ name: string; col: string | null }>`select il.name as name, ii.name as col from pragma_index_list(${table.name}, ${table.schema}) il
          join pragma_index_info(il.name, ${table.schema}) ii where il."unique" = 1 order by il.name, ii.seqno`.execute(db)
      ).rows;
      const by = new Map<string, string[]>();
      for (const r of rows) if (r.col !== null) by.set(r.name, [...(by.get(r.name) ?? []), r.col]);
      return [...by].map(([name, columns]) => ({ name, columns }));
    },
    updateDenied: async () => null,
    async swap(trx: Kysely<any>, rows: readonly SwapRow[], o: SwapOptions) {
      const pk = o.table.primaryKey;
      for (const r of rows) {
        const set = [sql`${sql.id(o.column)} = ${r.value}`, ...(o.extraColumn ? [sql`${sql.id(o.extraColumn)} = ${r.extra ?? null}`] : [])];
        const match = pk.map((k, i) => sql`${sql.id(k)} = ${r.key[i]}`);
        await sql`update ${tableRef(o.table)} set ${sql.join(set)} where ${sql.join(match, sql` and `)} and ${sql.id(o.column)} = ${r.old} collate binary`.execute(trx);
      }
      return null;
    },
    fetchByKeys: fetchByKeyList,
    reclaim: () => ({
      statements: ['VACUUM'],
      remains: [
        'VACUUM rebuilds the database file without the freed pages (it needs free disk space the size of the file)',
        'A -wal file and backups of the file taken before the deletion still hold the rows',
      ],
    }),
    // secure_delete zeroes the content of deleted rows and freed pages as they are freed.
    keysIn: keyListIn,
    keyParameters: keyListParameters,
    beforeDelete: async (db) => void (await sql`pragma secure_delete = on`.execute(db)),
    lockClause: () => sql``,
    startsWith: (c, prefix) => sql`(substr(${c}, 1, ${prefix.length}) = ${prefix} collate binary)`,
    octetLength: (c) => sql`length(cast(${c} as blob))`,
    async boundLockWait() {
      // better-sqlite3's busy timeout (set when the source was opened) bounds the wait.
    },
  };
}
