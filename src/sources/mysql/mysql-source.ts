import { CompiledQuery, Kysely, MysqlDialect, type MysqlPool } from 'kysely';
import { toSourceError } from '../errors.js';
import { SourceBase, serverLocation, verified, type SourceLocation } from '../source-base.js';
import type { OpenSourceOptions, SourceCapabilities, SourceConnection } from '../types.js';
import { MYSQL_ARCHIVE } from './mysql-archive.js';
import { MYSQL_INTEGRITY } from './mysql-integrity.js';
import { MysqlIntrospector } from './mysql-introspector.js';
import { MysqlSampler } from './mysql-sampler.js';
import { MysqlAccessReader } from './mysql-access.js';
import { MYSQL_WRITER } from './mysql-writer.js';
import { mysqlSessionTransport } from './mysql-transport.js';

export const MYSQL_CAPABILITIES: SourceCapabilities = Object.freeze({
  supportsTablesample: false,
  supportsSchemas: true,
  supportsColumnPrivileges: true,
  // MariaDB has INSERT/DELETE … RETURNING, MySQL has none; callers must not rely on it.
  supportsReturning: false,
  supportsTransactionalDdl: false,
});

export class MysqlSource extends SourceBase {
  readonly kind = 'mysql' as const;
  readonly capabilities = MYSQL_CAPABILITIES;
  readonly integrity = MYSQL_INTEGRITY;
  readonly archive = MYSQL_ARCHIVE;
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

