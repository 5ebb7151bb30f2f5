/**
 * Findings about a source's live database session in transit, from what the
 * server itself reports (`SessionTransport`, read by
 * src/sources/<dialect>/<dialect>-transport.ts) and what the connection string
 * asks for (`connectionStringTransport`). Pure.
 *
 * ```ts
 * const session = await postgresSessionTransport(db);               // I/O
 * const findings = sourceTransitFindings('shop', 'postgres', url, session);
 * ```
 */
import type { SourceKind } from '../sources/types.js';
import { connectionStringFindings, connectionStringTransport } from './connection.js';
import { sortTransitFindings, transitFinding } from './findings.js';
import type { ConnectionStringTransport, SessionTransport, TransitFinding } from './types.js';

const SERVER_TLS_ON: Record<'postgres' | 'mysql', string> = {
  postgres: 'Turn TLS on in the server (ssl = on, ssl_cert_file and ssl_key_file in postgresql.conf, then reload), then add sslmode=verify-full to sources[].url.',
  mysql: 'Turn TLS on in the server (ssl_cert and ssl_key in my.cnf, then restart), then add ssl={"rejectUnauthorized":true} to sources[].url.',
};

const CLIENT_TLS_ON: Record<'postgres' | 'mysql', string> = {
  postgres: 'Add sslmode=verify-full to sources[].url (with sslrootcert=<CA file> for an internal CA) so the session is encrypted and the server verified.',
  mysql: 'Add ssl={"rejectUnauthorized":true} to sources[].url so the session is encrypted and the server verified.',
};

const REQUIRE_TLS: Record<'postgres' | 'mysql', string> = {
  postgres: 'Change the `host` lines of pg_hba.conf to `hostssl` (Unix-socket `local` lines can stay) and reload, so the server refuses unencrypted connections.',
  mysql: 'Set require_secure_transport = ON (SET PERSIST on MySQL 8, my.cnf on MariaDB) so the server refuses unencrypted connections.',
};

/**
 * Findings about the live session: not encrypted (high; low over loopback; none
 * over a Unix socket, which never leaves the machine), and a server that
 * accepts unencrypted connections (medium).
 */
export function sessionFindings(source: string, session: SessionTransport, connection?: ConnectionStringTransport): TransitFinding[] {
  if (!session.applicable || session.kind === 'sqlite') return [];
  const kind = session.kind;
  const out: TransitFinding[] = [];
  const socket = connection?.via === 'socket';
  if (session.encrypted === false && !socket) {
    const loopback = connection?.loopback === true;
    const serverOff = session.serverSupportsTls === false;
    out.push(
      transitFinding('transit.session-unencrypted', source, {
        severity: loopback ? 'low' : 'high',
        title: 'Database session not encrypted',
        message:
          `Steward's current session with source "${source}" (${kind}${connection?.host ? ` at ${connection.host}` : ''}) is not encrypted` +
          `${serverOff ? ' and the server has TLS turned off' : ''}: personal data read over it crosses the ${loopback ? 'loopback interface' : 'network'} in plain text` +
          `${loopback ? ' (it does not leave this machine)' : ''}.`,
        remedy: serverOff ? SERVER_TLS_ON[kind] : CLIENT_TLS_ON[kind],
      }),
    );
  }
  if (session.serverRequiresTls === false) {
    out.push(
      transitFinding('transit.server-tls-not-required', source, {
        severity: 'medium',
        title: 'Server accepts unencrypted connections',
        message: `The ${kind} server of source "${source}" ${kind === 'mysql' ? 'has require_secure_transport = OFF' : session.serverSupportsTls === false ? 'has TLS turned off' : 'has pg_hba.conf lines that allow TCP connections without TLS'}, so any client configured without TLS sends its queries and results in plain text.`,
        remedy: REQUIRE_TLS[kind],
      }),
    );
  }
  return out;
}

/** Connection-string and session findings of one source, worst first. `session` may be omitted (not connected). */
export function sourceTransitFindings(source: string, kind: SourceKind, url: string, session?: SessionTransport, env: NodeJS.ProcessEnv = {}): TransitFinding[] {
  const connection = connectionStringTransport(kind, url, env);
  return sortTransitFindings([...connectionStringFindings(source, connection), ...(session ? sessionFindings(source, session, connection) : [])]);
}

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
