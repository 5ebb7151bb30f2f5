/**
 * Sources: the customer databases Steward audits. One interface (`Source`), three
 * dialects in `src/sources/<dialect>/` (PostgreSQL, MySQL/MariaDB, SQLite), each
 * with the same files: `<dialect>-dialect.ts` (what is known without a
 * connection: capability flags, quoting, predicate syntax, connection-string
 * transport, archive value rules; `dialectOf(kind)` finds it), `<dialect>-source.ts`
 * (connect, the read-only query with a timeout), `<dialect>-introspector.ts`
 * (catalog queries, row estimates), `<dialect>-sampler.ts` (bounded random
 * samples), `<dialect>-access.ts`, `-integrity.ts`, `-transport.ts` and
 * `-writer.ts`. Code outside this folder asks `source.dialect` /
 * `source.capabilities`, never which database it is (test/unit/architecture.test.ts).
 *
 * @example
 * const source = await openSource({ name: 'shop', kind: 'postgres', url: process.env.SHOP_URL! }, { readonly: true });
 * try {
 *   for (const table of await source.introspect()) {
 *     const rows = await source.sample(table, { limit: 1000 });
 *   }
 * } finally {
 *   await source.close();
 * }
 */
import { deferredSourceError } from '../config/deferred-env.js';
import { SourceError } from '../errors.js';
import type { OpenSourceOptions, Source, SourceConnection } from './types.js';

export * from './types.js';
export { redactUrl, toSourceError, classifyDriverError, displayTable, type SourceErrorContext } from './errors.js';
export { tablesNamed, tableReadings, exactSpelling } from './table-names.js';
export type { SourceLocation } from './source-base.js';
export { dialectOf, SOURCE_DIALECTS } from './dialects.js';
export { createPostgresSource, PostgresSource, POSTGRES_CAPABILITIES, type PostgresPoolLike } from './postgres/postgres-source.js';
export { MysqlSource, MYSQL_CAPABILITIES } from './mysql/mysql-source.js';
export { SqliteSource, SQLITE_CAPABILITIES, sqliteFilePath } from './sqlite/sqlite-source.js';

/**
 * Connects to a source and checks the connection with a trivial query, so that an
 * unreachable server, a wrong password or a missing database fail here, as a
 * `SourceError` (`SOURCE_UNREACHABLE`, `SOURCE_AUTH`, `SOURCE_NOT_FOUND`, …) whose
 * message never contains the password. Drivers load on first use.
 */
export async function openSource(conn: SourceConnection, options: OpenSourceOptions = {}): Promise<Source> {
  // A connection string whose ${VAR} was unset in a command that deferred it: the load's error, now.
  const unset = deferredSourceError(conn.url);
  if (unset) throw unset;
  switch (conn.kind) {
    case 'postgres':
      return (await import('./postgres/postgres-source.js')).connectPostgres(conn, options);
    case 'mysql':
      return (await import('./mysql/mysql-source.js')).connectMysql(conn, options);
    case 'sqlite':
      return (await import('./sqlite/sqlite-source.js')).connectSqlite(conn, options);
    default: {
      const kind: never = conn.kind;
      throw new SourceError('SOURCE_QUERY', (conn as SourceConnection).name, `Source "${(conn as SourceConnection).name}": unknown kind "${String(kind)}"`, {
        hint: 'Set sources[].kind to postgres, mysql or sqlite in steward.yml',
      });
    }
  }
}
