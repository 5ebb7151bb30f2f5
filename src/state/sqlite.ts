import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import { StateError } from '../errors.js';
import { describeDriverError, driverCause } from '../sources/errors.js';
import { errorCode, errorMessage, type StateBackend } from './backend.js';
import type { StateDatabase } from './tables.js';

/** SQLite runs DDL inside transactions; Kysely's adapter says otherwise to be safe for all drivers. */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * `BEGIN IMMEDIATE`: a transaction takes the write lock up front, waiting up to
 * busy_timeout, instead of failing with SQLITE_BUSY when two processes that both
 * read first (the migrator does) try to upgrade to writing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class StateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): SqliteAdapter {
    return new TransactionalSqliteAdapter();
  }
}

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the SQLite state file: directory 0700, file 0600,
 * WAL journal (its -wal/-shm files inherit the file's mode), foreign keys on.
 */
export function openSqliteBackend(file: string): StateBackend {
  const memory = file === ':memory:';
  const location = memory ? ':memory:' : file;
  const fail = (reason: string, hint: string, cause: unknown): never => {
    throw new StateError('STATE_OPEN', `Cannot open the state store ${location}: ${reason}`, { hint, cause });
  };
  if (!memory) {
    const dir = path.dirname(file);
    try {
      const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
      // The store is a map of where personal data lives: keep Steward's own directory out of git.
      if (created !== undefined && path.basename(dir) === '.steward') writeFileSync(path.join(dir, '.gitignore'), '*\n', { mode: 0o600 });
    } catch (e) {
      fail(fsReason(e, dir), fsHint(e, nearestExisting(dir)), e);
    }
    try {
      // Create with 0600 before SQLite does (it would use 0644): the file holds the data map.
      closeSync(openSync(file, 'a', 0o600));
    } catch (e) {
      fail(fsReason(e, file), fsHint(e, file), e);
    }
  }
  let raw: Database.Database;
  try {
    raw = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    return fail(sqliteReason(e), sqliteHint(e, file), sqliteCause(e));
  }
  try {
    if (!memory) raw.pragma('journal_mode = WAL');
    raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = NORMAL');
  } catch (e) {
    raw.close();
    fail(sqliteReason(e), sqliteHint(e, file), sqliteCause(e));
  }
  const rootDb = new Kysely<any>({ dialect: new StateSqliteDialect({ database: raw }) });
  return {
    dialect: 'sqlite',
    db: rootDb as Kysely<StateDatabase>,
    rootDb,
    schema: undefined,
    location,
    async tableExists(name) {
      const r = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${name}`.execute(rootDb);
      return Number(r.rows[0]?.n ?? 0) > 0;
    },
    explain: (e) => ({ reason: sqliteReason(e), hint: sqliteHint(e, file), cause: sqliteCause(e) }),
    // A write transaction begins IMMEDIATE: it already holds the file's write lock.
    lockTable: async () => undefined,
    async overwriteFreedContent(db) {
      await sql`pragma secure_delete = on`.execute(db);
    },
  };
}

function nearestExisting(p: string): string {
  let cur = p;
  while (!existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

function fsReason(e: unknown, p: string): string {
  switch (errorCode(e)) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${p}`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `a parent of ${p} is a file, not a directory`;
    case 'EROFS':
      return `${p} is on a read-only file system`;
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EISDIR':
      return `${p} is a directory`;
    default:
      return errorMessage(e);
  }
}

/** `p`: what must become writable (the missing directory's parent, or the file). */
function fsHint(e: unknown, p: string): string {
  switch (errorCode(e)) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `Make ${p} writable by this user, or set state.url in steward.yml to a path you can write`;
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
      return 'Set state.url in steward.yml to a file path whose parent is a directory (default .steward/state.db)';
    case 'ENOSPC':
      return 'Free disk space, then run Steward again';
    default:
      return 'Check state.url in steward.yml';
  }
}

function sqliteReason(e: unknown): string {
  const code = errorCode(e);
  if (code === 'SQLITE_NOTADB') return 'the file is not a SQLite database';
  if (code === 'SQLITE_CORRUPT') return 'the database file is corrupt';
  if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) return 'the store is locked by another process';
  if (code?.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') return `cannot write the file (${code})`;
  if (code === 'SQLITE_FULL') return 'no space left on the device';
  // Steward's words for the SQLite code, never SQLite's message (a trigger's RAISE or a CHECK can quote a stored value).
  if (code?.startsWith('SQLITE_')) return describeDriverError(e, 'sqlite').reason;
  return errorMessage(e);
}

/** The cause a StateError keeps: a SQLite error reduced to its code and Steward's reason; anything else (a file-system error) as it is. */
function sqliteCause(e: unknown): unknown {
  return errorCode(e)?.startsWith('SQLITE_') ? driverCause(e, 'sqlite') : e;
}

function sqliteHint(e: unknown, file: string): string {
  const code = errorCode(e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
    return `Move ${file} aside (restore it from a backup if you have one), or set state.url in steward.yml to another path`;
  if (code?.startsWith('SQLITE_BUSY') || code?.startsWith('SQLITE_LOCKED')) return 'Wait for the other Steward process to finish, then retry';
  if (code === 'SQLITE_FULL') return 'Free disk space, then run Steward again';
  return `Make ${file} and its directory writable by this user (${safeOwner(file)}), or set state.url in steward.yml to another path`;
}

function safeOwner(file: string): string {
  try {
    const s = statSync(file);
    return `file owned by uid ${s.uid}, mode ${(s.mode & 0o777).toString(8)}`;
  } catch {
    return 'file missing';
  }
}
