import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, sql, SqliteDialect, type RawBuilder } from 'kysely';
import { toSourceError } from '../errors.js';
import { SourceBase, verified, type SourceLocation } from '../source-base.js';
import type { RowWriter, OpenSourceOptions, RawSql, SourceConnection } from '../types.js';
import { SQLITE_DIALECT } from './sqlite-dialect.js';
import { SQLITE_INTEGRITY } from './sqlite-integrity.js';
import { SqliteIntrospector } from './sqlite-introspector.js';
import { SqliteSampler } from './sqlite-sampler.js';
import { SqliteAccessReader } from './sqlite-access.js';
import { sqliteWriter } from './sqlite-writer.js';
import { sqliteSessionTransport } from './sqlite-transport.js';

export { SQLITE_CAPABILITIES } from './sqlite-dialect.js';

export class SqliteSource extends SourceBase {
  readonly kind = 'sqlite' as const;
  readonly dialect = SQLITE_DIALECT;
  readonly capabilities = SQLITE_DIALECT.capabilities;
  readonly integrity = SQLITE_INTEGRITY;
  readonly archive = SQLITE_DIALECT.archive;
  protected readonly introspector: SqliteIntrospector;
  protected readonly sampler: SqliteSampler;
  protected readonly accessReader: SqliteAccessReader;
  readonly writer: RowWriter;
  protected readonly transportReader = sqliteSessionTransport;

  constructor(name: string, db: Kysely<any>, location: SourceLocation = {}) {
    super(name, db, location);
    this.introspector = new SqliteIntrospector(db);
    this.sampler = new SqliteSampler(db, this.introspector);
    this.accessReader = new SqliteAccessReader(location.file);
    this.writer = sqliteWriter(location.file);
  }

  /** `PRAGMA query_only` for the transaction; SQLite has no statement timeout (its database is a local file). */
  readOnlyQuery<R>(_timeoutMs: number, build: (hint: RawSql) => RawSql): Promise<R[]> {
    return this.db.transaction().execute(async (trx) => {
      await sql`pragma query_only = 1`.execute(trx);
      try {
        return (await build(sql``).execute(trx)).rows as R[];
      } finally {
        await sql`pragma query_only = 0`.execute(trx);
      }
    });
  }

  /** Reading the schema, not just `select 1`, is what fails on a file that is not a database. */
  protected override verifyQuery(): RawBuilder<unknown> {
    return sql`select count(*) as n from sqlite_master`;
  }
}

/**
 * The file a SQLite source URL names: a plain path, `sqlite:path`, `sqlite://path`,
 * `file:path` or `file:///abs/path` (query strings dropped). Relative paths resolve
 * against `cwd`. `:memory:` stays as it is.
 */
export function sqliteFilePath(url: string, cwd: string = process.cwd()): string {
  let p = url.trim();
  if (/^sqlite:/i.test(p)) p = p.replace(/^sqlite:(\/\/)?/i, '');
  else if (/^file:/i.test(p)) {
    p = p.replace(/[?#].*$/, '');
    p = /^file:\/\//i.test(p) ? fileURLToPath(p) : decodeURIComponent(p.slice('file:'.length));
  }
  if (p === ':memory:' || p === '') return ':memory:';
  return path.resolve(cwd, p);
}

/** Opens the SQLite file `conn.url` names. A missing file is an error: a typo must not create an empty database. */
export async function connectSqlite(conn: SourceConnection, options: OpenSourceOptions = {}): Promise<SqliteSource> {
  const file = sqliteFilePath(conn.url);
  const location: SourceLocation = { target: file, file, ...(options.command ? { command: options.command } : {}) };
  const { default: Database } = await import('better-sqlite3');
  let database: InstanceType<typeof Database>;
  try {
    database = new Database(file, { readonly: options.readonly ?? false, fileMustExist: true, timeout: conn.connectTimeoutMs ?? 10_000 });
  } catch (e) {
    throw toSourceError(e, { source: conn.name, kind: 'sqlite', action: 'open', ...location });
  }
  const source = new SqliteSource(conn.name, new Kysely<any>({ dialect: new SqliteDialect({ database }) }), location);
  return verified(source);
}
