/**
 * What the store needs from a database: a Kysely instance bound to its schema,
 * an unbound one for the migrator, and the few facts that differ per dialect.
 * One file per database (`sqlite.ts`, `postgres.ts`) implements it.
 */
import type { Kysely } from 'kysely';
import { StateError, isStewardError } from '../errors.js';
import type { StateDialect } from './migrations/types.js';
import type { StateDatabase } from './tables.js';

export interface StateBackend {
  readonly dialect: StateDialect;
  /** Queries against Steward's tables (schema-qualified on PostgreSQL). */
  readonly db: Kysely<StateDatabase>;
  /** The same connection, unbound, for Kysely's Migrator (which qualifies its own tables). */
  readonly rootDb: Kysely<any>;
  /** PostgreSQL schema holding every Steward table; undefined for SQLite. */
  readonly schema: string | undefined;
  /** For messages: the file path, or the URL without its password plus the schema. */
  readonly location: string;
  /** Does this table exist in the store's schema? */
  tableExists(name: string): Promise<boolean>;
  /**
   * Maps a driver error to a reason and a fix a user can act on, and the error to keep
   * as the StateError's cause: never the driver's own text, which can quote a stored value.
   */
  explain(error: unknown): StateErrorExplanation;
  /**
   * Serialises the writers of `table` for the rest of `trx`: PostgreSQL takes an
   * exclusive table lock; SQLite needs nothing (its write transaction, `BEGIN
   * IMMEDIATE`, already holds the whole file).
   */
  lockTable(trx: Kysely<StateDatabase>, table: keyof StateDatabase & string): Promise<void>;
  /**
   * Before a delete or overwrite of secret bytes: makes the database overwrite the
   * freed content instead of leaving it in free pages (SQLite `secure_delete`);
   * nothing where the database does not keep it readable (PostgreSQL).
   */
  overwriteFreedContent(db: Kysely<StateDatabase>): Promise<void>;
}

export interface StateErrorExplanation {
  readonly reason: string;
  readonly hint: string;
  /** A DriverError (codes and the safe reason only) for a driver error; a file-system error as it is. */
  readonly cause: unknown;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs one state-store operation of a sub-store (keys, jobs, holds): refuses a
 * closed store, and turns a driver error into a `StateError` naming `what`
 * (`Cannot record a checkpoint in the state store …: <reason>`) with the fix.
 */
export async function runStateOperation<T>(backend: StateBackend, assertOpen: () => void, what: string, fn: () => Promise<T>): Promise<T> {
  assertOpen();
  try {
    return await fn();
  } catch (e) {
    if (isStewardError(e)) throw e;
    throw stateError(backend, `Cannot ${what} the state store ${backend.location}`, e);
  }
}

/** A driver error of the state store as the user sees it: `what`, the backend's reason, its fix; the driver error kept as cause. */
export function stateError(backend: StateBackend, what: string, e: unknown): StateError {
  const { reason, hint, cause } = backend.explain(e);
  return new StateError('STATE_OPEN', `${what}: ${reason}`, { hint, cause });
}
