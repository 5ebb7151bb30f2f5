/**
 * SQLite has no connection to protect: the database is a local file. Same
 * signatures as the other dialects' transport functions.
 */
import type { Kysely } from 'kysely';
import type { ConnectionStringTransport, SessionTransport } from '../../transit/types.js';

/** SQLite: a local file, nothing in transit. */
export const SQLITE_SESSION_TRANSPORT: SessionTransport = Object.freeze({
  kind: 'sqlite',
  applicable: false,
  encrypted: null,
  protocol: null,
  cipher: null,
  serverSupportsTls: null,
  serverRequiresTls: null,
});

const SQLITE_CONNECTION_TRANSPORT: ConnectionStringTransport = Object.freeze({ kind: 'sqlite', applicable: false, via: 'file', host: null, loopback: true, mode: 'none', setting: '(local file)' });

export async function sqliteSessionTransport(_db: Kysely<any>): Promise<SessionTransport> {
  return SQLITE_SESSION_TRANSPORT;
}

export function sqliteConnectionTransport(_url: string, _env: NodeJS.ProcessEnv): ConnectionStringTransport {
  return SQLITE_CONNECTION_TRANSPORT;
}
