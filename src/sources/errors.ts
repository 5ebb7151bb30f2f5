/**
 * Maps driver errors (pg, mysql2, better-sqlite3, PGlite) to `SourceError`s whose
 * message names the source, what failed and why, and whose hint says how to fix
 * it. Messages never contain a password (URLs go through `redactUrl`) nor a row
 * value (quoted literals in driver messages are scrubbed).
 */
import fs from 'node:fs';
import { SourceError } from '../errors.js';
import type { SourceKind, TableRef } from './types.js';

type SourceErrorCode = ConstructorParameters<typeof SourceError>[0];

/** What was being done when the error happened; enough to write a useful message. */
export interface SourceErrorContext {
  readonly source: string;
  readonly kind: SourceKind;
  /** Where the source lives, already redacted (`postgres://app:***@db/shop`, a file path). */
  readonly target?: string;
  /** The database user, when known (never the password). */
  readonly user?: string;
  /** What failed, as a verb phrase: `connect`, `list tables`, `sample`, `estimate rows of`. */
  readonly action: string;
  readonly table?: TableRef;
  /** SQLite: the database file, to tell a missing file from an unreadable one. */
  readonly file?: string;
}

/** Replaces the password of a connection URL (and `password=` parameters) by `***`. */
export function redactUrl(url: string): string {
  let out = url;
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
      out = u.toString();
    }
  } catch {
    // Not a URL (a SQLite path, a malformed string): fall through to the regexes.
  }
  return out
    .replace(/(\/\/[^/:@?#\s]*:)[^@/\s]*@/g, '$1***@')
    .replace(/([?&;\s](?:password|pass|pwd)=)[^&;\s]*/gi, '$1***');
}

/** How a table is written in messages and hints, quoted the way its dialect would. */
export function displayTable(kind: SourceKind, table: TableRef): string {
  const q = kind === 'mysql' ? (s: string) => `\`${s.replaceAll('`', '``')}\`` : (s: string) => `"${s.replaceAll('"', '""')}"`;
  return `${q(table.schema)}.${q(table.name)}`;
}

interface DriverErrorFacts {
  readonly code?: string;
  readonly errno?: number;
  readonly message: string;
}

/** The driver errors behind `err`: itself, its `cause` chain, and an AggregateError's members. */
function collect(err: unknown, out: DriverErrorFacts[] = [], depth = 0): DriverErrorFacts[] {
  if (depth > 5 || err === null || typeof err !== 'object') {
    if (typeof err === 'string') out.push({ message: err });
    return out;
  }
  const e = err as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  out.push({
    code: typeof e.code === 'string' ? e.code : typeof e.code === 'number' ? String(e.code) : undefined,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    message: typeof e.message === 'string' ? e.message : '',
  });
  if (Array.isArray(e.errors)) for (const x of e.errors) collect(x, out, depth + 1);
  if (e.cause !== undefined) collect(e.cause, out, depth + 1);
  return out;
}

/** What a socket error code means, in words a user reads in a message. */
export const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  EADDRNOTAVAIL: 'address not available',
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);
const TIMEOUT_MESSAGE = /timeout expired|connection timeout|timeout exceeded when trying to connect|connect ETIMEDOUT/i;
const TERMINATED_MESSAGE = /Connection terminated unexpectedly|server closed the connection unexpectedly/i;

/** Which `SOURCE_*` code a driver error maps to, with a short reason. */
export function classifyDriverError(err: unknown, kind: SourceKind, file?: string): { code: SourceErrorCode; reason: string } {
  const facts = collect(err);
  const first = facts[0] ?? { message: String(err) };
  const why = (text: string, tag?: string) => (tag ? `${text} (${tag})` : text);

  for (const f of facts) {
    const c = f.code;
    if (c && NETWORK_CODES.has(c)) {
      return { code: 'SOURCE_UNREACHABLE', reason: why(NETWORK_REASONS[c] ?? 'network error', c) };
    }
    if (TIMEOUT_MESSAGE.test(f.message)) return { code: 'SOURCE_UNREACHABLE', reason: 'connection timed out' };
    if (TERMINATED_MESSAGE.test(f.message)) return { code: 'SOURCE_UNREACHABLE', reason: 'the server closed the connection' };
  }

  for (const f of facts) {
    const c = f.code;
    const n = f.errno;
    // PostgreSQL SQLSTATEs.
    if (c === '28P01') return { code: 'SOURCE_AUTH', reason: why('password authentication failed', c) };
    if (c === '28000') return { code: 'SOURCE_AUTH', reason: why(scrub(f.message) || 'the server rejected the login', c) };
    if (c === '3D000') return { code: 'SOURCE_NOT_FOUND', reason: why('the database does not exist', c) };
    if (c === '42P01') return { code: 'SOURCE_NOT_FOUND', reason: why('the table does not exist', c) };
    if (c === '3F000') return { code: 'SOURCE_NOT_FOUND', reason: why('the schema does not exist', c) };
    if (c === '42501') return { code: 'SOURCE_PERMISSION', reason: why('permission denied', c) };
    if (c === '25006') return { code: 'SOURCE_PERMISSION', reason: why('the session is read-only', c) };
    // MySQL / MariaDB.
    if (c === 'ER_ACCESS_DENIED_ERROR' || n === 1045) return { code: 'SOURCE_AUTH', reason: why('access denied for this user and password', 'ER_ACCESS_DENIED_ERROR') };
    if (c === 'ER_BAD_DB_ERROR' || n === 1049) return { code: 'SOURCE_NOT_FOUND', reason: why('the database does not exist', 'ER_BAD_DB_ERROR') };
    if (c === 'ER_NO_SUCH_TABLE' || n === 1146) return { code: 'SOURCE_NOT_FOUND', reason: why('the table does not exist', 'ER_NO_SUCH_TABLE') };
    if (c === 'ER_TABLEACCESS_DENIED_ERROR' || n === 1142) return { code: 'SOURCE_PERMISSION', reason: why('SELECT denied on the table', 'ER_TABLEACCESS_DENIED_ERROR') };
    if (c === 'ER_COLUMNACCESS_DENIED_ERROR' || n === 1143) return { code: 'SOURCE_PERMISSION', reason: why('SELECT denied on a column', 'ER_COLUMNACCESS_DENIED_ERROR') };
    if (c === 'ER_DBACCESS_DENIED_ERROR' || n === 1044) return { code: 'SOURCE_PERMISSION', reason: why('access denied to the database', 'ER_DBACCESS_DENIED_ERROR') };
    if (c === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || n === 1227) return { code: 'SOURCE_PERMISSION', reason: why('a privilege is missing', 'ER_SPECIFIC_ACCESS_DENIED_ERROR') };
    if (c === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' || n === 1792) return { code: 'SOURCE_PERMISSION', reason: why('the session is read-only', c) };
    // SQLite.
    if (c === 'SQLITE_READONLY' || (c?.startsWith('SQLITE_READONLY_') ?? false)) return { code: 'SOURCE_PERMISSION', reason: why('the database file is read-only', c) };
    if (c === 'SQLITE_AUTH') return { code: 'SOURCE_PERMISSION', reason: why('access denied', c) };
    if (c === 'SQLITE_NOTADB') return { code: 'SOURCE_NOT_FOUND', reason: why('the file is not a SQLite database', c) };
    if (c === 'SQLITE_CANTOPEN' || (c?.startsWith('SQLITE_CANTOPEN_') ?? false) || /directory does not exist/.test(f.message)) {
      const state = file ? fileState(file) : 'missing';
      if (state === 'unreadable') return { code: 'SOURCE_PERMISSION', reason: why('the file cannot be opened: permission denied', 'EACCES') };
      if (state === 'missing') return { code: 'SOURCE_NOT_FOUND', reason: 'the file does not exist' };
      return { code: 'SOURCE_QUERY', reason: why('the file cannot be opened', c ?? 'SQLITE_CANTOPEN') };
    }
    if (c === 'SQLITE_ERROR' && /^no such table/i.test(f.message)) return { code: 'SOURCE_NOT_FOUND', reason: why('the table does not exist', c) };
  }

  const tag = first.code ?? (first.errno !== undefined ? String(first.errno) : undefined);
  return { code: 'SOURCE_QUERY', reason: why(scrub(first.message) || 'unknown error', tag ? `${kind} ${tag}` : undefined) };
}

function fileState(file: string): 'missing' | 'unreadable' | 'ok' {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'ENOTDIR' ? 'missing' : 'unreadable';
  }
}

/**
 * Removes what may be a row value from a driver message: single-quoted literals
 * (`Duplicate entry 'a@b.com'`) and Postgres' `invalid input syntax for type x: "…"`.
 * Keeps it to one line.
 */
export function scrub(message: string): string {
  return redactUrl(message)
    .split('\n')[0]!
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "'…'")
    .replace(/(for type [\w ]+: )".*"/g, '$1"…"')
    .replace(/(value too long for type [^:]*):.*/g, '$1')
    .trim();
}

const HINTS: Record<SourceErrorCode, (ctx: SourceErrorContext) => string> = {
  SOURCE_UNREACHABLE: () => 'Check that the server is running and that sources[].url points at it (host and port)',
  SOURCE_AUTH: () => 'Check the user name and password in sources[].url (keep the password in an environment variable: ${DB_PASSWORD})',
  SOURCE_NOT_FOUND: (ctx) =>
    ctx.kind === 'sqlite' && !ctx.table
      ? 'Check the file path in sources[].url; Steward never creates a missing SQLite file'
      : ctx.table
        ? 'The table may have been dropped or renamed since it was listed; run the audit again'
        : 'Create the database or fix its name in sources[].url',
  SOURCE_PERMISSION: (ctx) => {
    if (ctx.kind === 'sqlite') return `Give the user running Steward read access to ${ctx.file ?? 'the database file'}`;
    const role = ctx.user ? (ctx.kind === 'mysql' ? ` to '${ctx.user}'` : ` to the role "${ctx.user}"`) : ' to the role';
    if (ctx.table) return `Grant SELECT on ${displayTable(ctx.kind, ctx.table)}${role}, or exclude the table in steward.yml`;
    const who = ctx.user ? (ctx.kind === 'mysql' ? `'${ctx.user}'` : `"${ctx.user}"`) : 'the user';
    return `Grant ${who} access to the database and SELECT on the tables to audit, or use another user in sources[].url`;
  },
  SOURCE_QUERY: (ctx) =>
    ctx.table
      ? 'Exclude the table in steward.yml to skip it, and report this if the table looks ordinary'
      : 'Check that sources[].url points at a supported database (PostgreSQL ≥ 12, MySQL ≥ 8 / MariaDB ≥ 10.5, SQLite ≥ 3.37)',
};

/** Wraps a driver error as a `SourceError` with a message and hint a user can act on. */
export function toSourceError(err: unknown, ctx: SourceErrorContext): SourceError {
  if (err instanceof SourceError) return err;
  const { code, reason } = classifyDriverError(err, ctx.kind, ctx.file);
  const where = ctx.target ? ` (${redactUrl(ctx.target)})` : '';
  const what = ctx.table ? `${ctx.action} ${displayTable(ctx.kind, ctx.table)}` : ctx.action;
  const message = `Source "${ctx.source}"${where}: cannot ${what}: ${reason}`;
  return new SourceError(code, ctx.source, message, { hint: HINTS[code](ctx), cause: err });
}
