/**
 * One integration suite, every database: `forEachDialect(title, (d) => { … })`
 * registers a `describe` block per dialect, each with its own fresh, isolated
 * database, created before the block's tests and dropped after them.
 *
 * | kind     | engine                                                    | isolation                              |
 * |----------|-----------------------------------------------------------|----------------------------------------|
 * | postgres | the server at PG_URL when global-setup found it, else embedded PGlite (title says "(PGlite)") | `CREATE DATABASE steward_t_<random>` / a fresh PGlite |
 * | mysql    | the server at MYSQL_URL; `describe.skip` with the reason when absent (CI fails in global-setup instead) | `CREATE DATABASE steward_t_<random>` |
 * | sqlite   | a temp file in os.tmpdir()                                | one file per block                     |
 *
 * Inside the callback (the harness's fields are ready from `beforeAll` on):
 *
 * ```ts
 * forEachDialect('introspect', (d) => {
 *   beforeAll(() => d.exec(d.pick({ postgres: 'create table t (id int primary key)', mysql: '…', sqlite: '…' })));
 *   it('lists t', async () => {
 *     const source = await d.openSource();       // the code under test, on the fresh database
 *     expect((await source.introspect()).map((t) => t.name)).toEqual(['t']);
 *     await source.close();
 *   });
 * });
 * ```
 *
 * - `d.exec(script)` runs a multi-statement SQL script as the admin (superuser / root);
 *   `d.query(text, params)` runs one statement and returns its rows; `d.db` is a Kysely
 *   instance on the same admin connection.
 * - `d.openSource(overrides?, options?)` opens a Source on the fresh database the way
 *   `steward` would (`openSource(conn)`); on PGlite it wraps the embedded database.
 *   Pass it as `openSource` to code that takes one (e.g. `runAudit`).
 * - `d.url` is the connection URL (undefined on PGlite: there is no server), `d.schema`
 *   the schema tables land in (`public`, the MySQL database, `main`).
 * - `d.engine` ('server' | 'pglite' | 'file') is known when tests are collected, for
 *   `it.skipIf(d.engine === 'pglite')` on tests that need a real server (roles, ports).
 * - Expected values that differ per database: `d.pick<T>(Record<SourceKind, T>)`, so
 *   adding a dialect makes every test say what it expects.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type MysqlPool } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';
import {
  createPostgresSource,
  openSource as openRealSource,
  type OpenSourceOptions,
  type PostgresPoolLike,
  type Source,
  type SourceConnection,
  type SourceKind,
  SOURCE_KINDS,
} from '../../src/sources/index.js';
import { pglitePool } from './pglite-pool.js';
import { inject, MYSQL_URL, PG_URL } from './servers.js';

export type Engine = 'server' | 'pglite' | 'file';

export interface DialectHarness {
  readonly kind: SourceKind;
  /** `postgres`, `postgres (PGlite)`, `mysql`, `sqlite`: what the describe title starts with. */
  readonly label: string;
  readonly engine: Engine;
  /** Connection URL of the fresh database; undefined on PGlite. */
  readonly url: string | undefined;
  /** Where unqualified tables land: `public`, the MySQL database name, `main`. */
  readonly schema: string;
  /** Admin Kysely instance on the fresh database. */
  readonly db: Kysely<any>;
  /** Runs a multi-statement script as the admin. */
  exec(script: string): Promise<void>;
  /** Runs one statement (with `$1`/`?` parameters as the dialect writes them) and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Opens the code under test on the fresh database. */
  openSource(overrides?: Partial<Omit<SourceConnection, 'kind'>>, options?: OpenSourceOptions): Promise<Source>;
  /** Quotes an identifier the way this dialect does (for raw setup SQL). */
  q(identifier: string): string;
  /** Refreshes planner statistics (`ANALYZE`, `ANALYZE TABLE t`). */
  analyze(...tables: string[]): Promise<void>;
  /** The value for this dialect. */
  pick<T>(values: Record<SourceKind, T>): T;
}

/** A name no other test file will pick: `steward_t_<8 hex>`. */
export function uniqueName(prefix = 'steward_t'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

interface Backend {
  readonly url: string | undefined;
  readonly schema: string;
  readonly db: Kysely<any>;
  exec(script: string): Promise<void>;
  query(text: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  openSource(conn: SourceConnection, options: OpenSourceOptions): Promise<Source>;
  analyze(tables: readonly string[]): Promise<void>;
  teardown(): Promise<void>;
}

const quoteDouble = (s: string) => `"${s.replaceAll('"', '""')}"`;
const quoteBacktick = (s: string) => `\`${s.replaceAll('`', '``')}\``;

async function postgresServer(): Promise<Backend> {
  const { default: pg } = await import('pg');
  const name = uniqueName();
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
  // Parallel test files create databases at once; template1 can be briefly busy (55006).
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`create database ${quoteDouble(name)}`);
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== '55006' || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    url,
    schema: 'public',
    db,
    exec: async (script) => void (await pool.query(script)),
    query: async (text, params) => (await pool.query(text, [...params])).rows,
    openSource: (conn, options) => openRealSource(conn, options),
    analyze: async (tables) => void (await pool.query(tables.length ? `analyze ${tables.map(quoteDouble).join(', ')}` : 'analyze')),
    teardown: async () => {
      await db.destroy();
      try {
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
        await admin.query(`drop database if exists ${quoteDouble(name)} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

async function postgresPglite(): Promise<Backend> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = await PGlite.create();
  const shared = pglitePool(pg, { closeOnEnd: false });
  // Every source shares the one PGlite session (and its queue); ending a source's pool leaves it open.
  const view = (): PostgresPoolLike => ({ connect: () => shared.connect(), end: async () => undefined });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: view() }) });
  const withClient = async <T>(fn: () => Promise<T>): Promise<T> => {
    const client = await shared.connect();
    try {
      return await fn();
    } finally {
      client.release();
    }
  };
  return {
    url: undefined,
    schema: 'public',
    db,
    exec: (script) => withClient(async () => void (await pg.exec(script))),
    query: (text, params) => withClient(async () => (await pg.query<Record<string, unknown>>(text, [...params])).rows),
    openSource: async (conn) => {
      const source = createPostgresSource(conn.name, view(), { target: 'pglite (embedded)' });
      await source.verify();
      return source;
    },
    analyze: async (tables) => void (await pg.exec(tables.length ? `analyze ${tables.map(quoteDouble).join(', ')}` : 'analyze')),
    teardown: async () => {
      await db.destroy();
      await shared.end();
      await pg.close();
    },
  };
}

async function mysqlServer(): Promise<Backend> {
  const { default: mysql } = await import('mysql2');
  const name = uniqueName();
  const adminUrl = new URL(MYSQL_URL);
  const admin = mysql.createConnection({ uri: adminUrl.toString() }).promise();
  await admin.query(`create database ${quoteBacktick(name)}`);
  const u = new URL(MYSQL_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = mysql.createPool({ uri: url, connectionLimit: 3, multipleStatements: true, supportBigNumbers: true, dateStrings: true });
  const db = new Kysely<any>({ dialect: new MysqlDialect({ pool: pool as unknown as MysqlPool }) });
  const p = pool.promise();
  return {
    url,
    schema: name,
    db,
    exec: async (script) => void (await p.query(script)),
    query: async (text, params) => (await p.query(text, [...params]))[0] as Record<string, unknown>[],
    openSource: (conn, options) => openRealSource(conn, options),
    analyze: async (tables) => {
      const all = tables.length ? tables : ((await p.query('show full tables where Table_type = ?', ['BASE TABLE']))[0] as Record<string, string>[]).map((r) => Object.values(r)[0]!);
      if (all.length) await p.query(`analyze table ${all.map(quoteBacktick).join(', ')}`);
    },
    teardown: async () => {
      await db.destroy();
      try {
        await admin.query(`drop database if exists ${quoteBacktick(name)}`);
      } finally {
        await admin.end();
      }
    },
  };
}

async function sqliteFile(): Promise<Backend> {
  const { default: Database } = await import('better-sqlite3');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-t-'));
  const file = path.join(dir, 'test.db');
  const database = new Database(file);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  return {
    url: file,
    schema: 'main',
    db,
    exec: async (script) => void database.exec(script),
    query: async (text, params) => {
      const stmt = database.prepare(text);
      if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
      stmt.run(...params);
      return [];
    },
    openSource: (conn, options) => openRealSource(conn, options),
    analyze: async (tables) => void database.exec(tables.length ? tables.map((t) => `analyze ${quoteDouble(t)};`).join('\n') : 'analyze'),
    teardown: async () => {
      await db.destroy();
      database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function engineFor(kind: SourceKind): { engine: Engine; available: boolean; label: string } {
  const servers = inject('servers');
  switch (kind) {
    case 'postgres':
      return servers.postgres ? { engine: 'server', available: true, label: 'postgres' } : { engine: 'pglite', available: true, label: 'postgres (PGlite)' };
    case 'mysql':
      return { engine: 'server', available: servers.mysql, label: 'mysql' };
    case 'sqlite':
      return { engine: 'file', available: true, label: 'sqlite' };
  }
}

/**
 * Registers `describe('<label>: <title>')` once per dialect (all of `SOURCE_KINDS`
 * unless `kinds` narrows it), each on a fresh database. See the top of this file.
 */
export function forEachDialect(title: string, fn: (d: DialectHarness) => void, options: { kinds?: readonly SourceKind[] } = {}): void {
  for (const kind of options.kinds ?? SOURCE_KINDS) {
    const { engine, available, label } = engineFor(kind);
    let backend: Backend | undefined;
    const ready = (): Backend => {
      if (!backend) throw new Error(`dialect harness (${label}): use the harness inside tests or hooks, after beforeAll`);
      return backend;
    };
    const d: DialectHarness = {
      kind,
      label,
      engine,
      get url() {
        return ready().url;
      },
      get schema() {
        return ready().schema;
      },
      get db() {
        return ready().db;
      },
      exec: (script) => ready().exec(script),
      query: async <T>(text: string, params: readonly unknown[] = []) => (await ready().query(text, params)) as T[],
      openSource: (overrides = {}, openOptions = {}) => {
        const b = ready();
        return b.openSource({ name: overrides.name ?? `test-${kind}`, kind, url: overrides.url ?? b.url ?? '', ...(overrides.connectTimeoutMs ? { connectTimeoutMs: overrides.connectTimeoutMs } : {}) }, openOptions);
      },
      q: kind === 'mysql' ? quoteBacktick : quoteDouble,
      analyze: (...tables) => ready().analyze(tables),
      pick: (values) => values[kind],
    };
    if (!available) {
      const u = new URL(kind === 'mysql' ? MYSQL_URL : PG_URL);
      describe.skip(`${label}: ${title} (skipped: no server at ${u.hostname}:${u.port}; set STEWARD_TEST_MYSQL_URL or start MariaDB)`, () => fn(d));
      continue;
    }
    describe(`${label}: ${title}`, () => {
      beforeAll(async () => {
        backend = await (kind === 'postgres' ? (engine === 'server' ? postgresServer() : postgresPglite()) : kind === 'mysql' ? mysqlServer() : sqliteFile());
      });
      afterAll(async () => {
        const b = backend;
        backend = undefined;
        await b?.teardown();
      });
      fn(d);
    });
  }
}
