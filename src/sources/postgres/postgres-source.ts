import { Kysely, PostgresDialect, sql, type PostgresPool } from 'kysely';
import { toSourceError } from '../errors.js';
import { SourceBase, serverLocation, verified, type SourceLocation } from '../source-base.js';
import type { OpenSourceOptions, RawSql, SourceConnection } from '../types.js';
import { POSTGRES_DIALECT } from './postgres-dialect.js';
import { POSTGRES_INTEGRITY } from './postgres-integrity.js';
import { PostgresIntrospector } from './postgres-introspector.js';
import { PostgresSampler } from './postgres-sampler.js';
import { PostgresAccessReader } from './postgres-access.js';
import { POSTGRES_WRITER } from './postgres-writer.js';
import { postgresSessionTransport } from './postgres-transport.js';

export { POSTGRES_CAPABILITIES } from './postgres-dialect.js';

/** The subset of pg's `Pool` that Steward needs (Kysely's `PostgresPool`): `connect()` and `end()`. */
export type PostgresPoolLike = PostgresPool;

export class PostgresSource extends SourceBase {
  readonly kind = 'postgres' as const;
  readonly dialect = POSTGRES_DIALECT;
  readonly capabilities = POSTGRES_DIALECT.capabilities;
  readonly integrity = POSTGRES_INTEGRITY;
  readonly archive = POSTGRES_DIALECT.archive;
  protected readonly introspector: PostgresIntrospector;
  protected readonly sampler: PostgresSampler;
  protected readonly accessReader: PostgresAccessReader;
  readonly writer = POSTGRES_WRITER;
  protected readonly transportReader = postgresSessionTransport;

  constructor(name: string, db: Kysely<any>, location: SourceLocation = {}) {
    super(name, db, location);
    this.introspector = new PostgresIntrospector(db);
    this.sampler = new PostgresSampler(db, this.introspector);
    this.accessReader = new PostgresAccessReader(db);
  }

  /** `SET LOCAL statement_timeout` (via set_config) in a READ ONLY transaction. */
  readOnlyQuery<R>(timeoutMs: number, build: (hint: RawSql) => RawSql): Promise<R[]> {
    const ms = Math.max(1, Math.round(timeoutMs));
    return this.db
      .transaction()
      .setAccessMode('read only')
      .execute(async (trx) => {
        await sql`select set_config('statement_timeout', ${`${ms}ms`}, true)`.execute(trx);
        return (await build(sql``).execute(trx)).rows as R[];
      });
  }
}

/**
 * A Postgres source over an existing pool (pg's `Pool`, or anything with the same
 * `connect()`/`end()` shape, such as a PGlite adapter in tests). `close()` ends the pool.
 *
 * @example
 * const source = createPostgresSource('shop', new pg.Pool({ connectionString }));
 * const tables = await source.introspect();
 */
export function createPostgresSource(name: string, pool: PostgresPoolLike, location: SourceLocation = {}): PostgresSource {
  return new PostgresSource(name, new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), location);
}

/** Opens `conn.url` with a small pg pool and checks the connection. */
export async function connectPostgres(conn: SourceConnection, options: OpenSourceOptions = {}): Promise<PostgresSource> {
  const location = { ...serverLocation(conn.url), ...(options.command ? { command: options.command } : {}) };
  const { default: pg } = await import('pg');
  let pool: InstanceType<typeof pg.Pool>;
  try {
    pool = new pg.Pool({
      connectionString: conn.url,
      max: 4,
      connectionTimeoutMillis: conn.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      application_name: 'steward',
      ...(options.readonly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
  } catch (e) {
    throw toSourceError(e, { source: conn.name, kind: 'postgres', action: 'connect', ...location });
  }
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const source = createPostgresSource(conn.name, pool, location);
  return verified(source);
}

