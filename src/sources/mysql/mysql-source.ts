import { CompiledQuery, Kysely, MysqlDialect, sql, type MysqlPool } from 'kysely';
import { toSourceError } from '../errors.js';
import { SourceBase, serverLocation, verified, type SourceLocation } from '../source-base.js';
import type { OpenSourceOptions, RawSql, SourceConnection } from '../types.js';
import { MYSQL_DIALECT } from './mysql-dialect.js';
import { MYSQL_INTEGRITY } from './mysql-integrity.js';
import { MysqlIntrospector } from './mysql-introspector.js';
import { MysqlSampler } from './mysql-sampler.js';
import { MysqlAccessReader } from './mysql-access.js';
import { MYSQL_WRITER } from './mysql-writer.js';
import { mysqlSessionTransport } from './mysql-transport.js';

export { MYSQL_CAPABILITIES } from './mysql-dialect.js';

export class MysqlSource extends SourceBase {
  readonly kind = 'mysql' as const;
  readonly dialect = MYSQL_DIALECT;
  readonly capabilities = MYSQL_DIALECT.capabilities;
  readonly integrity = MYSQL_INTEGRITY;
  readonly archive = MYSQL_DIALECT.archive;
  protected readonly introspector: MysqlIntrospector;
  protected readonly sampler: MysqlSampler;
  protected readonly accessReader: MysqlAccessReader;
  readonly writer = MYSQL_WRITER;
  protected readonly transportReader = mysqlSessionTransport;

  constructor(name: string, db: Kysely<any>, location: SourceLocation = {}) {
    super(name, db, location);
    this.introspector = new MysqlIntrospector(db);
    this.sampler = new MysqlSampler(db, this.introspector);
    this.accessReader = new MysqlAccessReader(db);
  }

  #mariaDb: Promise<boolean> | undefined;

  /** The server is MariaDB (its `version()` says so), asked once. */
  isMariaDb(): Promise<boolean> {
    this.#mariaDb ??= sql<{ v: string }>`select version() as ${sql.id('v')}`.execute(this.db).then((r) => /mariadb/i.test(String(r.rows[0]?.v ?? '')));
    return this.#mariaDb;
  }

  /** MySQL: the `MAX_EXECUTION_TIME` optimizer hint; MariaDB: `SET STATEMENT max_statement_time … FOR`; both in a READ ONLY transaction. */
  async readOnlyQuery<R>(timeoutMs: number, build: (hint: RawSql) => RawSql): Promise<R[]> {
    // Spliced as SQL text (a hint and SET STATEMENT take no parameter): only a whole number of milliseconds.
    const ms = Number.isFinite(timeoutMs) ? Math.max(1, Math.round(timeoutMs)) : 60_000;
    const maria = await this.isMariaDb();
    return this.db
      .transaction()
      .setAccessMode('read only')
      .execute(async (trx) => {
        const q = maria ? sql`set statement max_statement_time = ${sql.raw(String(ms / 1000))} for ${build(sql``)}` : build(sql.raw(`/*+ MAX_EXECUTION_TIME(${ms}) */ `));
        return (await q.execute(trx)).rows as R[];
      });
  }
}

/** Opens `conn.url` (`mysql://` or `mariadb://`) with a small mysql2 pool and checks the connection. */
export async function connectMysql(conn: SourceConnection, options: OpenSourceOptions = {}): Promise<MysqlSource> {
  const location = { ...serverLocation(conn.url), ...(options.command ? { command: options.command } : {}) };
  const { default: mysql } = await import('mysql2');
  let pool: MysqlPool;
  try {
    pool = mysql.createPool({
      uri: conn.url.replace(/^mariadb:/i, 'mysql:'),
      connectionLimit: 4,
      connectTimeout: conn.connectTimeoutMs ?? 10_000,
      supportBigNumbers: true,
      dateStrings: true,
    }) as unknown as MysqlPool;
  } catch (e) {
    throw toSourceError(e, { source: conn.name, kind: 'mysql', action: 'connect', ...location });
  }
  const db = new Kysely<any>({
    dialect: new MysqlDialect({
      pool,
      ...(options.readonly
        ? { onCreateConnection: async (c) => void (await c.executeQuery(CompiledQuery.raw('set session transaction read only'))) }
        : {}),
    }),
  });
  const source = new MysqlSource(conn.name, db, location);
  return verified(source);
}

