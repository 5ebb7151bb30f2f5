/**
 * SQLite has no connection to protect: the database is a local file. Same
 * signature as the other dialects' session-transport functions.
 */
import type { Kysely } from 'kysely';
import { SQLITE_SESSION_TRANSPORT } from '../../transit/session.js';
import type { SessionTransport } from '../../transit/types.js';

export async function sqliteSessionTransport(_db: Kysely<any>): Promise<SessionTransport> {
  return SQLITE_SESSION_TRANSPORT;
}
