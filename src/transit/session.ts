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
import { dialectOf } from '../sources/dialects.js';
import type { SourceKind } from '../sources/kinds.js';
import { connectionStringFindings, connectionStringTransport } from './connection.js';
import { sortTransitFindings, transitFinding } from './findings.js';
import type { ConnectionStringTransport, SessionTransport, TransitFinding } from './types.js';

/**
 * Findings about the live session: not encrypted (high; low over loopback; none
 * over a Unix socket, which never leaves the machine), and a server that
 * accepts unencrypted connections (medium).
 */
export function sessionFindings(source: string, session: SessionTransport, connection?: ConnectionStringTransport): TransitFinding[] {
  const advice = dialectOf(session.kind).transit;
  if (!session.applicable || !advice) return [];
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
        remedy: serverOff ? advice.serverTlsOn : advice.clientTlsOn,
      }),
    );
  }
  if (session.serverRequiresTls === false) {
    out.push(
      transitFinding('transit.server-tls-not-required', source, {
        severity: 'medium',
        title: 'Server accepts unencrypted connections',
        message: `The ${kind} server of source "${source}" ${advice.serverAcceptsPlaintext(session)}, so any client configured without TLS sends its queries and results in plain text.`,
        remedy: advice.requireTls,
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
export { SQLITE_SESSION_TRANSPORT } from '../sources/sqlite/sqlite-transport.js';
