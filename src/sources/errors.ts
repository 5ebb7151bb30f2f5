/**
 * Maps driver errors (pg, mysql2, better-sqlite3, PGlite) to `SourceError`s whose
 * message names the source, what failed and why, and whose hint says how to fix
 * it. Messages never contain a password (URLs go through `redactUrl`) nor a row
 * value (quoted literals in driver messages are scrubbed).
 */
import fs from 'node:fs';
import { SourceError, StewardError } from '../errors.js';
import { BUILTIN_DETECTORS } from '../detection/detectors/index.js';
import { maskValue } from '../detection/mask.js';
import { dialectOf } from './dialects.js';
import type { SourceCommand, SourceKind } from './kinds.js';
import type { TableInfo, TableRef } from './table-info.js';

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
  /**
   * The command that was running, for a hint that fits it: only the audit can skip a
   * table by excluding it; a write (encrypt, retention) must say what it left as it was.
   * Without it the hints are the audit's (reading a table to classify it).
   */
  readonly command?: SourceCommand;
  /** Further names Steward knows here (columns, constraints, keys): shown when a driver message names them. */
  readonly names?: readonly string[];
}

export type { SourceCommand } from './kinds.js';

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
  const { quoteIdentifier: q } = dialectOf(kind);
  return `${q(table.schema)}.${q(table.name)}`;
}

interface DriverErrorFacts {
  readonly code?: string;
  readonly errno?: number;
  /** MySQL/MariaDB's SQLSTATE (`45000` for a SIGNAL), next to its own error code. */
  readonly sqlState?: string;
  /** Never shown: read only to recognise a message shape and the names quoted in it. */
  readonly message: string;
  /** Postgres' structured fields (`constraint`, `column`, `table`, `schema`): names, when the server gave them. */
  readonly fields: readonly string[];
}

/** The driver errors behind `err`: itself, its `cause` chain, and an AggregateError's members. */
function collect(err: unknown, out: DriverErrorFacts[] = [], depth = 0): DriverErrorFacts[] {
  if (depth > 5 || err === null || typeof err !== 'object') {
    if (typeof err === 'string') out.push({ message: err, fields: [] });
    return out;
  }
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown; message?: unknown; cause?: unknown; errors?: unknown; constraint?: unknown; column?: unknown; table?: unknown; schema?: unknown };
  out.push({
    code: typeof e.code === 'string' ? e.code : typeof e.code === 'number' ? String(e.code) : undefined,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    sqlState: typeof e.sqlState === 'string' ? e.sqlState : undefined,
    message: typeof e.message === 'string' ? e.message : '',
    fields: [e.constraint, e.column, e.table, e.schema].filter((x): x is string => typeof x === 'string' && x !== ''),
  });
  if (Array.isArray(e.errors)) for (const x of e.errors) collect(x, out, depth + 1);
  if (e.cause !== undefined && !(e.cause instanceof DriverError)) collect(e.cause, out, depth + 1);
  else if (e.cause instanceof DriverError) out.push({ ...(e.cause.code !== undefined ? { code: e.cause.code } : {}), ...(e.cause.errno !== undefined ? { errno: e.cause.errno } : {}), ...(e.cause.sqlState !== undefined ? { sqlState: e.cause.sqlState } : {}), message: '', fields: [] });
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

/**
 * What the describer may show besides its own words: names Steward introspected
 * or chose (tables, columns, constraints, keys), shown as they are, and names
 * from the operator's own text (the identifiers of a `--where` predicate, never
 * its string literals), shown masked when the detectors see personal data in them.
 */
export interface DriverErrorOptions {
  /** SQLite: the database file, to tell a missing file from an unreadable one. */
  readonly file?: string;
  /** Names Steward introspected or chose: the only names from the message that are shown as they are. */
  readonly names?: Iterable<string>;
  /** Identifiers the operator typed (a predicate's column names): shown, masked by the detectors. */
  readonly operatorNames?: Iterable<string>;
}

/** A driver error described without its message: a SOURCE_* code, a generic reason with the known names, and the SQLSTATE/errno. */
export interface DriverErrorSummary {
  readonly code: SourceErrorCode;
  /** One line a user may read: Steward's own words, the names it knows, and the SQLSTATE or error code. Never the driver's text. */
  readonly reason: string;
  /** The SQLSTATE / driver error code (`P0001`, `ER_SIGNAL_EXCEPTION`, `SQLITE_CONSTRAINT_TRIGGER`), when there is one. */
  readonly tag?: string;
}

/**
 * A driver error reduced to what may be shown: kept as the `cause` of the
 * StewardError that wraps it instead of the driver's own object (whose message,
 * detail, statement and parameters can hold row values).
 */
export class DriverError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;
  constructor(reason: string, facts: { code?: string | undefined; errno?: number | undefined; sqlState?: string | undefined }) {
    super(reason);
    this.name = 'DriverError';
    this.code = facts.code;
    this.errno = facts.errno;
    this.sqlState = facts.sqlState;
    // The stack names Steward's frames only; its first line is this safe reason.
  }
}

type Text = string | ((name: string | undefined) => string);

/** Postgres SQLSTATEs (also PGlite's): Steward's words for each. */
const PG_TEXT: Readonly<Record<string, Text>> = {
  '42703': (n) => (n ? `column "${n}" does not exist` : 'a column does not exist'),
  '42P01': 'the table does not exist',
  '42601': 'syntax error',
  '42883': 'a function or operator does not exist for these argument types',
  '42804': 'a value has the wrong data type',
  '42702': 'a column name is ambiguous',
  '42704': 'an object (a role, a type) does not exist',
  '42P02': 'a parameter does not exist',
  '42846': 'a value cannot be cast to that type',
  '42P10': 'no unique constraint matches the ON CONFLICT target',
  '42501': 'permission denied',
  '42P17': 'an object definition is invalid',
  '23505': 'a unique constraint was violated (a value is already present)',
  '23502': 'a NOT NULL constraint was violated',
  '23503': 'a foreign key constraint was violated',
  '23514': 'a check constraint was violated',
  '23P01': 'an exclusion constraint was violated',
  '22001': 'a value is too long for its column',
  '22P02': 'a value is not valid input for its type',
  '22003': 'a number is out of range for its type',
  '22007': 'a date or time is not valid',
  '22008': 'a date or time is out of range',
  '22012': 'division by zero',
  '22023': 'an argument is not valid',
  '22021': 'a character is not valid in this encoding',
  '22P05': 'a character cannot be translated',
  P0001: 'a database function or trigger raised an error (RAISE)',
  P0002: 'a database function found no row (NO_DATA_FOUND)',
  P0003: 'a database function found several rows (TOO_MANY_ROWS)',
  P0004: 'a database function failed an ASSERT',
  '40001': 'the transaction could not be serialized with a concurrent one',
  '40P01': 'a deadlock was detected',
  '55P03': 'a lock could not be obtained',
  '57014': 'the statement was canceled (a statement timeout or a cancel request)',
  '57P01': 'the server is shutting down',
  '25006': 'the session is read-only',
  '25P02': 'the transaction was already aborted',
  '2BP01': 'other objects depend on it',
  '0A000': 'the database does not support this',
  '53100': 'the server is out of disk space',
  '53200': 'the server is out of memory',
  '53300': 'the server has too many connections',
  '54000': 'a program limit was exceeded',
  '3F000': 'the schema does not exist',
  '3D000': 'the database does not exist',
};

/** SQLSTATE classes (first two characters), for codes without words of their own; MySQL's sqlState too. */
const SQLSTATE_CLASS: Readonly<Record<string, string>> = {
  '08': 'the connection failed',
  '0A': 'the database does not support this',
  '21': 'a row or column count does not match',
  '22': 'a value is not valid for its type (data exception)',
  '23': 'an integrity constraint was violated',
  '25': 'the transaction is not in a state that allows this',
  '28': 'the server rejected the login',
  '2B': 'other objects depend on it',
  '38': 'an external routine failed',
  '39': 'an external routine call failed',
  '3B': 'a savepoint is not valid',
  '40': 'the transaction was rolled back by the server',
  '42': 'the statement is not valid here (syntax or access rule)',
  '44': 'a WITH CHECK OPTION was violated',
  '45': 'a trigger or procedure raised an error (SIGNAL)',
  '53': 'the server ran out of resources',
  '54': 'a program limit was exceeded',
  '55': 'an object is not in a state that allows this',
  '57': 'the statement was stopped by the server (canceled, timed out or shut down)',
  '58': 'the server had a system error',
  F0: 'a server configuration file error',
  HV: 'a foreign data wrapper failed',
  P0: 'a database function or trigger raised an error',
  XX: 'the server had an internal error',
};

/** MySQL / MariaDB error numbers: Steward's words for each. */
const MYSQL_TEXT: Readonly<Record<number, Text>> = {
  1054: (n) => (n ? `Unknown column "${n}"` : 'a column does not exist'),
  1064: 'syntax error',
  1062: 'a unique key was violated (a value is already present)',
  1586: 'a unique key was violated (a value is already present)',
  1048: 'a NOT NULL column was given NULL',
  1364: 'a column without a default was given no value',
  1451: 'a foreign key constraint was violated (a child row refers to this row)',
  1452: 'a foreign key constraint was violated (no parent row)',
  1216: 'a foreign key constraint was violated (no parent row)',
  1217: 'a foreign key constraint was violated (a child row refers to this row)',
  3819: 'a check constraint was violated',
  4025: 'a check constraint was violated',
  1644: 'a trigger or procedure raised an error (SIGNAL)',
  1406: 'a value is too long for its column',
  1366: 'a value is not valid for its column',
  1292: 'a value is not valid for its type',
  1264: 'a number is out of range for its column',
  1265: 'a value was truncated',
  1365: 'division by zero',
  1213: 'a deadlock was detected',
  1205: 'a lock could not be obtained in time',
  3024: 'the statement took longer than max_execution_time',
  1969: 'the statement took longer than max_statement_time',
  1317: 'the statement was interrupted',
  1305: 'a function or procedure does not exist',
  1630: 'a function does not exist',
  1146: 'the table does not exist',
  1356: 'a view refers to tables, columns or functions that are missing or not readable',
  1442: 'a trigger updates the table it fires on',
  1792: 'the session is read-only',
  1290: 'the server runs with an option that forbids this (read-only?)',
  1142: 'a command is denied on the table',
  1143: 'a command is denied on a column',
};

const SQLITE_TEXT: Readonly<Record<string, string>> = {
  SQLITE_CONSTRAINT_TRIGGER: 'a trigger raised an error (RAISE)',
  SQLITE_CONSTRAINT_UNIQUE: 'a unique constraint was violated (a value is already present)',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'a primary key was violated (a value is already present)',
  SQLITE_CONSTRAINT_NOTNULL: 'a NOT NULL constraint was violated',
  SQLITE_CONSTRAINT_CHECK: 'a check constraint was violated',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'a foreign key constraint was violated',
  SQLITE_CONSTRAINT_DATATYPE: 'a value has the wrong type for a STRICT table',
  SQLITE_CONSTRAINT: 'a constraint was violated',
  SQLITE_BUSY: 'the database is locked by another connection',
  SQLITE_LOCKED: 'a table is locked',
  SQLITE_FULL: 'the disk is full',
  SQLITE_IOERR: 'a disk I/O error',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_TOOBIG: 'a value is too big',
  SQLITE_MISMATCH: 'a value has the wrong type',
  SQLITE_RANGE: 'a parameter is out of range',
  SQLITE_INTERRUPT: 'the statement was interrupted',
};

/** SQLite's SQLITE_ERROR covers everything; its message's first words say what (the rest is never shown). */
const SQLITE_ERROR_SHAPES: readonly [RegExp, Text][] = [
  [/^no such column/i, (n) => (n ? `no such column: ${n}` : 'a column does not exist')],
  [/^no such function/i, 'a function does not exist'],
  [/^no such table/i, 'the table does not exist'],
  [/syntax error/i, 'syntax error'],
  [/^ambiguous column/i, 'a column name is ambiguous'],
  [/has no column named/i, 'a column does not exist'],
  [/^misuse of aggregate/i, 'an aggregate is used where it is not allowed'],
  [/^malformed JSON/i, 'a value is not valid JSON'],
  [/^wrong number of arguments/i, 'a function got the wrong number of arguments'],
  [/^cannot (?:modify|update|delete)/i, 'this view or table cannot be changed this way'],
];

/**
 * Names quoted in a driver message (`"x"`, `'x'`, `` `x` ``, and SQLite's bare
 * `… failed: t.email`), split at dots. Only compared with names Steward knows;
 * never shown on their own account.
 */
function quotedNames(message: string): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    out.push(s);
    if (s.includes('.')) out.push(...s.split('.'));
  };
  for (const m of message.matchAll(/"((?:[^"]|"")*)"|'((?:[^'\\]|\\.|'')*)'|`((?:[^`]|``)*)`/g)) add((m[1] ?? m[2] ?? m[3] ?? '').replace(/""|''|``/g, (q) => q[0]!));
  const bare = /(?:constraint failed|no such column|no such table|no such function|has no column named|ambiguous column name):\s*(.+)$/im.exec(message);
  if (bare) for (const part of bare[1]!.split(/,\s*/)) add(part.trim());
  return out;
}

/** The masked form of an operator-typed identifier the detectors read as personal data, else the identifier. */
function maskOperatorName(name: string): string {
  for (const d of BUILTIN_DETECTORS) {
    try {
      if (d.test(name)) return maskValue(name, d.category);
    } catch {
      // a detector failing on odd input must not break an error message
    }
  }
  return name;
}

/**
 * The identifiers of an operator's SQL text (a `--where` predicate): bare words and
 * quoted identifiers outside string literals, which a driver message about it may
 * name (`column "nope" does not exist`). String literals are values, never names.
 */
export function operatorIdentifiers(text: string, kind: SourceKind): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || (c === '"' && kind === 'mysql')) {
      // A string literal: skipped whole (doubled quotes, and MySQL's backslash escapes).
      i++;
      while (i < text.length) {
        if (text[i] === '\\' && kind === 'mysql') i += 2;
        else if (text[i] === c && text[i + 1] === c) i += 2;
        else if (text[i] === c) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) break;
      out.push(text.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const word = /^[\p{L}_][\p{L}\p{N}_$]*/u.exec(text.slice(i));
    if (word) {
      // A word right after a digit is part of a number (1e5); any other is a name or a keyword.
      out.push(word[0]);
      i += word[0].length;
      continue;
    }
    i++;
  }
  return out;
}

const q = (s: string) => `"${s.replaceAll('"', '""')}"`;

/**
 * Describes a driver error by a whitelist: the SOURCE_* code, Steward's own
 * words for the error class, the SQLSTATE / errno, and those names from the
 * message (or the server's structured fields) that Steward introspected or chose
 * (`options.names`) or the operator typed as identifiers (`options.operatorNames`,
 * masked by the detectors). The driver's message itself is never part of the result:
 * a RAISE, a SIGNAL or a `duplicate key` can quote any row value.
 */
export function describeDriverError(err: unknown, kind: SourceKind, options: DriverErrorOptions | string = {}): DriverErrorSummary {
  const opts: DriverErrorOptions = typeof options === 'string' ? { file: options } : options;
  const facts = collect(err);
  const first = facts.find((f) => f.code !== undefined || f.errno !== undefined) ?? facts[0] ?? { message: '', fields: [] };
  const why = (text: string, tag?: string) => (tag ? `${text} (${tag})` : text);

  for (const f of facts) {
    const c = f.code;
    if (c && NETWORK_CODES.has(c)) return { code: 'SOURCE_UNREACHABLE', reason: why(NETWORK_REASONS[c] ?? 'network error', c), tag: c };
    if (TIMEOUT_MESSAGE.test(f.message)) return { code: 'SOURCE_UNREACHABLE', reason: 'connection timed out' };
    if (TERMINATED_MESSAGE.test(f.message)) return { code: 'SOURCE_UNREACHABLE', reason: 'the server closed the connection' };
  }

  for (const f of facts) {
    const c = f.code;
    const n = f.errno;
    const is = (code: SourceErrorCode, text: string, tag: string) => ({ code, reason: why(text, tag), tag });
    // PostgreSQL SQLSTATEs.
    if (c === '28P01') return is('SOURCE_AUTH', 'password authentication failed', c);
    if (c === '28000') return is('SOURCE_AUTH', 'the server rejected the login (no pg_hba.conf entry or role not allowed)', c);
    if (c === '3D000') return is('SOURCE_NOT_FOUND', 'the database does not exist', c);
    if (c === '42P01') return is('SOURCE_NOT_FOUND', 'the table does not exist', c);
    if (c === '3F000') return is('SOURCE_NOT_FOUND', 'the schema does not exist', c);
    if (c === '42501') return is('SOURCE_PERMISSION', 'permission denied', c);
    if (c === '25006') return is('SOURCE_PERMISSION', 'the session is read-only', c);
    // MySQL / MariaDB.
    if (c === 'ER_ACCESS_DENIED_ERROR' || n === 1045) return is('SOURCE_AUTH', 'access denied for this user and password', 'ER_ACCESS_DENIED_ERROR');
    if (c === 'ER_BAD_DB_ERROR' || n === 1049) return is('SOURCE_NOT_FOUND', 'the database does not exist', 'ER_BAD_DB_ERROR');
    if (c === 'ER_NO_SUCH_TABLE' || n === 1146) return is('SOURCE_NOT_FOUND', 'the table does not exist', 'ER_NO_SUCH_TABLE');
    if (c === 'ER_TABLEACCESS_DENIED_ERROR' || n === 1142) return is('SOURCE_PERMISSION', 'a command is denied on the table', 'ER_TABLEACCESS_DENIED_ERROR');
    if (c === 'ER_COLUMNACCESS_DENIED_ERROR' || n === 1143) return is('SOURCE_PERMISSION', 'a command is denied on a column', 'ER_COLUMNACCESS_DENIED_ERROR');
    if (c === 'ER_DBACCESS_DENIED_ERROR' || n === 1044) return is('SOURCE_PERMISSION', 'access denied to the database', 'ER_DBACCESS_DENIED_ERROR');
    if (c === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || n === 1227) return is('SOURCE_PERMISSION', 'a privilege is missing', 'ER_SPECIFIC_ACCESS_DENIED_ERROR');
    if (c === 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' || n === 1792) return is('SOURCE_PERMISSION', 'the session is read-only', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION');
    // SQLite.
    if (c === 'SQLITE_READONLY' || (c?.startsWith('SQLITE_READONLY_') ?? false)) return is('SOURCE_PERMISSION', 'the database file is read-only', c!);
    if (c === 'SQLITE_AUTH') return is('SOURCE_PERMISSION', 'access denied', c);
    if (c === 'SQLITE_NOTADB') return is('SOURCE_NOT_FOUND', 'the file is not a SQLite database', c);
    if (c === 'SQLITE_CANTOPEN' || (c?.startsWith('SQLITE_CANTOPEN_') ?? false) || /directory does not exist/.test(f.message)) {
      const state = opts.file ? fileState(opts.file) : 'missing';
      if (state === 'unreadable') return { code: 'SOURCE_PERMISSION', reason: why('the file cannot be opened: permission denied', 'EACCES'), tag: 'EACCES' };
      if (state === 'missing') return { code: 'SOURCE_NOT_FOUND', reason: 'the file does not exist' };
      return is('SOURCE_QUERY', 'the file cannot be opened', c ?? 'SQLITE_CANTOPEN');
    }
    if (c === 'SQLITE_ERROR' && /^no such table/i.test(f.message)) return is('SOURCE_NOT_FOUND', 'the table does not exist', c);
  }

  // Anything else: Steward's words for the class, and the names it knows.
  const known = new Set(opts.names ?? []);
  const typed = new Set(opts.operatorNames ?? []);
  const shown: string[] = [];
  const ci = kind === 'mysql';
  const findKnown = (candidate: string): string | undefined => {
    if (known.has(candidate)) return candidate;
    if (typed.has(candidate)) return maskOperatorName(candidate);
    if (ci) {
      const lower = candidate.toLowerCase();
      for (const k of known) if (k.toLowerCase() === lower) return k;
      for (const k of typed) if (k.toLowerCase() === lower) return maskOperatorName(k);
    }
    return undefined;
  };
  for (const candidate of [...first.fields, ...quotedNames(first.message)]) {
    const name = candidate === '' ? undefined : findKnown(candidate);
    if (name !== undefined && !shown.includes(name)) shown.push(name);
  }
  const render = (text: Text | undefined, fallback: string): string => {
    if (typeof text === 'function') return text(shown[0]) + (shown.length > 1 ? ` (${shown.slice(1).map(q).join(', ')})` : '');
    return (text ?? fallback) + (shown.length ? `: ${shown.map(q).join(', ')}` : '');
  };
  const c = first.code;
  let text: Text | undefined;
  let tag: string | undefined;
  if (kind === 'mysql' || first.errno !== undefined || first.sqlState !== undefined) {
    if (first.errno !== undefined) text = MYSQL_TEXT[first.errno];
    if (text === undefined && first.sqlState) text = SQLSTATE_CLASS[first.sqlState.slice(0, 2)];
    tag = [c ?? (first.errno !== undefined ? String(first.errno) : undefined), first.sqlState ? `SQLSTATE ${first.sqlState}` : undefined].filter(Boolean).join(', ') || undefined;
  }
  if (text === undefined && c?.startsWith('SQLITE_')) {
    text = SQLITE_TEXT[c] ?? (c.startsWith('SQLITE_CONSTRAINT') ? SQLITE_TEXT.SQLITE_CONSTRAINT : undefined) ?? (c === 'SQLITE_ERROR' ? SQLITE_ERROR_SHAPES.find(([re]) => re.test(first.message))?.[1] : undefined);
    tag = c;
  }
  if (text === undefined && c && /^[0-9A-Z]{5}$/.test(c)) {
    text = PG_TEXT[c] ?? SQLSTATE_CLASS[c.slice(0, 2)];
    tag = c;
  }
  tag ??= c ?? (first.errno !== undefined ? String(first.errno) : undefined);
  const reason = render(text, 'the database driver reported an error');
  return { code: 'SOURCE_QUERY', reason: why(reason, tag ? `${kind} ${tag}` : undefined), ...(tag ? { tag } : {}) };
}

/** Which `SOURCE_*` code a driver error maps to, with a reason that never quotes the driver's text (see {@link describeDriverError}). */
export function classifyDriverError(err: unknown, kind: SourceKind, options?: DriverErrorOptions | string): { code: SourceErrorCode; reason: string } {
  const { code, reason } = describeDriverError(err, kind, options);
  return { code, reason };
}

/** The error to keep as a StewardError's `cause` instead of a driver's: its codes and the safe reason, nothing of its text. */
export function driverCause(err: unknown, kind: SourceKind, options?: DriverErrorOptions | string): DriverError {
  if (err instanceof DriverError) return err;
  const facts = collect(err)[0];
  return new DriverError(describeDriverError(err, kind, options).reason, { code: facts?.code, errno: facts?.errno, sqlState: facts?.sqlState });
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
 * @deprecated A blocklist: it misses what it does not know (a RAISE's text, a
 * role named after a person). Describe driver errors with {@link describeDriverError}.
 */
export function scrub(message: string): string {
  return redactUrl(message)
    .split('\n')[0]!
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "'…'")
    .replace(/(for type [\w ]+: )".*"/g, '$1"…"')
    .replace(/(value too long for type [^:]*):.*/g, '$1')
    .trim();
}

/** What a write command did with the rows when it failed, for its hints. */
const WRITE_NOTE: Partial<Record<SourceCommand, string>> = {
  encrypt: 'nothing of a failed batch is kept, and the same command resumes where it stopped',
  retention: 'nothing of a failed batch is kept, and the same command resumes where it stopped',
  restore: 'nothing of a failed chunk is kept',
  hold: 'nothing was stored',
  subject: 'nothing partial is reported as complete; run it again when the source answers',
};

/** The privilege a command needs on a table, for the GRANT in its hint. */
const PRIVILEGE: Record<SourceCommand, string> = {
  audit: 'SELECT',
  encrypt: 'SELECT and UPDATE',
  retention: 'SELECT, UPDATE and DELETE',
  restore: 'SELECT and INSERT',
  hold: 'SELECT',
  subject: 'SELECT',
};

const HINTS: Record<SourceErrorCode, (ctx: SourceErrorContext & { readonly command: SourceCommand }) => string> = {
  SOURCE_UNREACHABLE: () => 'Check that the server is running and that sources[].url points at it (host and port)',
  SOURCE_AUTH: () => 'Check the user name and password in sources[].url (keep the password in an environment variable: ${DB_PASSWORD})',
  SOURCE_NOT_FOUND: (ctx) =>
    ctx.kind === 'sqlite' && !ctx.table
      ? 'Check the file path in sources[].url; Steward never creates a missing SQLite file'
      : ctx.table
        ? ctx.command === 'audit'
          ? 'The table may have been dropped or renamed since it was listed; run the audit again'
          : 'The table or a column may have been dropped or renamed; check the name and run the command again'
        : 'Create the database or fix its name in sources[].url',
  SOURCE_PERMISSION: (ctx) => {
    if (ctx.kind === 'sqlite') return `Give the user running Steward ${ctx.command !== 'audit' && ctx.command !== 'hold' ? 'write' : 'read'} access to ${ctx.file ?? 'the database file'}`;
    const role = ctx.user ? (ctx.kind === 'mysql' ? ` to '${ctx.user}'` : ` to the role "${ctx.user}"`) : ' to the role';
    const note = WRITE_NOTE[ctx.command];
    if (ctx.table) {
      const grant = `Grant ${PRIVILEGE[ctx.command]} on ${displayTable(ctx.kind, ctx.table)}${role}`;
      if (ctx.command === 'audit') return `${grant}, or exclude the table in steward.yml`;
      return note ? `${grant}; ${note}` : grant;
    }
    const who = ctx.user ? (ctx.kind === 'mysql' ? `'${ctx.user}'` : `"${ctx.user}"`) : 'the user';
    if (ctx.command === 'audit') return `Grant ${who} access to the database and SELECT on the tables to audit, or use another user in sources[].url`;
    return `Grant ${who} access to the database and ${PRIVILEGE[ctx.command]} on the tables, or use another user in sources[].url`;
  },
  SOURCE_QUERY: (ctx) => {
    if (!ctx.table) return 'Check that sources[].url points at a supported database (PostgreSQL ≥ 12, MySQL ≥ 8 / MariaDB ≥ 10.5, SQLite ≥ 3.37)';
    if (ctx.command === 'audit') return 'Exclude the table in steward.yml to skip it, and report this if the table looks ordinary';
    const note = WRITE_NOTE[ctx.command];
    const fix = `The database refused it on ${displayTable(ctx.kind, ctx.table)} (a trigger, a constraint, a view or a rule of the table, or the statement): fix that with the table's owner, then run the command again`;
    return note ? `${fix}; ${note}` : fix;
  },
};

/** The names Steward knows in a context: the table's schema and name, and the columns and constraints it was given. */
function knownNames(ctx: SourceErrorContext): string[] {
  const out = [...(ctx.names ?? [])];
  if (ctx.table) {
    out.push(ctx.table.schema, ctx.table.name);
    const info = ctx.table as Partial<TableInfo>;
    for (const c of info.columns ?? []) out.push(c.name);
    for (const fk of info.foreignKeys ?? []) out.push(fk.name);
  }
  return out.filter((n) => n !== '');
}

/**
 * Wraps a driver error as a `SourceError` with a message and hint a user can act
 * on. Nothing of the driver's text is kept: neither in the message nor in the
 * `cause`, which is a {@link DriverError} with its codes and the same reason.
 */
export function toSourceError(err: unknown, ctx: SourceErrorContext): SourceError {
  if (err instanceof SourceError) return err;
  const options = { names: knownNames(ctx), ...(ctx.file !== undefined ? { file: ctx.file } : {}) };
  const { code, reason } = describeDriverError(err, ctx.kind, options);
  const where = ctx.target ? ` (${redactUrl(ctx.target)})` : '';
  const what = ctx.table ? `${ctx.action} ${displayTable(ctx.kind, ctx.table)}` : ctx.action;
  const message = `Source "${ctx.source}"${where}: cannot ${what}: ${reason}`;
  return new SourceError(code, ctx.source, message, { hint: HINTS[code]({ ...ctx, command: ctx.command ?? 'audit' }), cause: driverCause(err, ctx.kind, options) });
}

/**
 * A driver error that escaped the places that describe it (a bug): recognised by its
 * codes, and replaced by a {@link DriverError} whose message and stack hold Steward's
 * words only. Anything else is returned as it is.
 */
export function withoutDriverText(err: unknown): unknown {
  if (err === null || typeof err !== 'object' || err instanceof DriverError || err instanceof StewardError) return err;
  const e = err as { code?: unknown; errno?: unknown; sqlState?: unknown; stack?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const kind: SourceKind | undefined = code?.startsWith('SQLITE_')
    ? 'sqlite'
    : code?.startsWith('ER_') || typeof e.sqlState === 'string'
      ? 'mysql'
      : code !== undefined && /^[0-9A-Z]{5}$/.test(code)
        ? 'postgres'
        : undefined;
  if (!kind) return err;
  const safe = driverCause(err, kind);
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.stack === 'string') {
    // The stack's frames are Steward's and the driver's code; its first lines are the driver's text.
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l) && (message === '' || !l.includes(message)));
    safe.stack = [`DriverError: ${safe.message}`, ...frames].join('\n');
  }
  return safe;
}

