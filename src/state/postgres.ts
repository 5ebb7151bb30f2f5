import { Kysely, PostgresDialect, sql } from 'kysely';
import { StateError } from '../errors.js';
import { describeDriverError, driverCause } from '../sources/errors.js';
import { errorCode, errorMessage, type StateBackend, type StateErrorExplanation } from './backend.js';
import type { StateDatabase } from './tables.js';

export const DEFAULT_PG_SCHEMA = 'steward';

/** The URL as it may be shown: no password, no query string (it can carry one). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * Connects to PostgreSQL and makes sure Steward's schema exists. Every Steward
 * table lives in that schema, so the store can share a database with anything.
 */
export async function openPostgresBackend(url: string, schema: string): Promise<StateBackend> {
  const location = `${redactUrl(url)} (schema ${schema})`;
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const rootDb = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const explain = (e: unknown) => explainPg(e, schema);
  try {
    const exists = await sql<{ n: number }>`select count(*)::int as n from information_schema.schemata where schema_name = ${schema}`.execute(rootDb);
    if ((exists.rows[0]?.n ?? 0) === 0) {
      // Two Stewards creating the schema at once: the loser gets a unique violation, not "already exists".
      await sql`create schema if not exists ${sql.id(schema)}`.execute(rootDb).catch((e: unknown) => {
        if (errorCode(e) !== '23505' && errorCode(e) !== '42P06') throw e;
      });
    }
  } catch (e) {
    await rootDb.destroy().catch(() => {});
    const { reason, hint, cause } = explain(e);
    throw new StateError('STATE_OPEN', `Cannot open the state store ${location}: ${reason}`, { hint, cause });
  }
  return {
    dialect: 'postgres',
    db: rootDb.withSchema(schema) as Kysely<StateDatabase>,
    rootDb,
    schema,
    location,
    async tableExists(name) {
      const r = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${schema} and table_name = ${name}`.execute(rootDb);
      return (r.rows[0]?.n ?? 0) > 0;
    },
    explain,
    async lockTable(trx, table) {
      await sql`lock table ${sql.id(schema, table)} in exclusive mode`.execute(trx);
    },
    // Deleted tuples are not readable through SQL; VACUUM reclaims their space.
    overwriteFreedContent: async () => undefined,
  };
}

/**
 * A driver error of the state store: Steward's words for its SQLSTATE (src/sources/errors.ts),
 * never the server's message (a RAISE, a `duplicate key` or an `invalid input` can quote a
 * stored value), and the fix for a state store.
 */
function explainPg(e: unknown, schema: string): StateErrorExplanation {
  // The server's errors carry a SQLSTATE; the client's own (a socket, a TLS or a SASL failure) do not, and quote no value.
  const fromServer = /^[0-9A-Z]{5}$/.test(errorCode(e) ?? '');
  const described = fromServer || errorCode(e) !== undefined ? describeDriverError(e, 'postgres').reason : errorMessage(e);
  const { reason, hint } = pgReason(e, schema, described);
  return { reason, hint, cause: fromServer ? driverCause(e, 'postgres') : e };
}

function pgReason(e: unknown, schema: string, described: string): { reason: string; hint: string } {
  const code = errorCode(e);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return { reason: `cannot reach the server (${code})`, hint: 'Check the host and port in state.url and that PostgreSQL is running' };
    case '28P01':
    case '28000':
      return { reason: 'authentication failed', hint: 'Check the user and password in state.url (use ${ENV_VAR} for the password)' };
    case '3D000':
      return { reason: 'the database does not exist', hint: 'Create it (`createdb <name>`) or fix the database name in state.url' };
    case '42501':
      return {
        reason: described,
        hint: `Ask an administrator to run \`CREATE SCHEMA ${schema} AUTHORIZATION <steward user>\`, or connect as a user that owns it`,
      };
    case '53100':
      return { reason: 'the server is out of disk space', hint: 'Free disk space on the database server, then retry' };
    case '25006':
      return { reason: 'the server is read-only (a replica?)', hint: 'Point state.url at the primary server' };
    default:
      if (/^connection timed out/.test(described)) return { reason: described, hint: 'Check the host and port in state.url and any firewall between' };
      return { reason: described, hint: 'Check state.url in steward.yml and that the server accepts connections' };
  }
}
