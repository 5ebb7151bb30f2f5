/**
 * What a source's connection string asks for in transit, read without
 * connecting, and the findings that follow: a string that lets the driver fall
 * back to (or stay on) plaintext, or that encrypts without checking the server.
 * Pure. Never puts the password (or anything but the host and the TLS setting)
 * into a result or a message.
 */
import { dialectOf } from '../sources/dialects.js';
import type { SourceKind } from '../sources/kinds.js';
import { transitFinding } from './findings.js';
import type { ConnectionStringTransport, TransitFinding } from './types.js';

export { isLoopbackHost } from './connection-string.js';

/** Reads the transit settings of a source's connection string (`sources[].url`). */
export function connectionStringTransport(kind: SourceKind, url: string, env: NodeJS.ProcessEnv = {}): ConnectionStringTransport {
  return dialectOf(kind).connectionTransport(url, env);
}

/** Findings about the connection string alone. A Unix socket or a SQLite file has none. */
export function connectionStringFindings(source: string, t: ConnectionStringTransport): TransitFinding[] {
  const advice = dialectOf(t.kind).transit;
  if (!t.applicable || t.via === 'socket' || !advice) return [];
  const where = t.loopback ? `${t.host} (loopback: the traffic stays on this machine)` : t.host;
  if (t.mode === 'plaintext' || t.mode === 'opportunistic') {
    const why =
      t.mode === 'plaintext'
        ? t.setting.startsWith('(')
          ? `has ${t.setting}: ${advice.driverDefault}`
          : `has ${t.setting}: the connection is never encrypted`
        : `has ${t.setting}: TLS is used only if the server offers it, and anyone in the path can make it not offer it`;
    return [
      transitFinding('transit.url-accepts-plaintext', source, {
        severity: t.loopback ? 'low' : 'medium',
        title: 'Connection string accepts plaintext',
        message: `The connection string of source "${source}" to ${where} ${why}.`,
        remedy: advice.verifyInUrl,
      }),
    ];
  }
  if (t.mode === 'unverified') {
    return [
      transitFinding('transit.url-unverified-tls', source, {
        severity: 'low',
        title: "Server certificate not verified",
        message: `The connection string of source "${source}" to ${where} has ${t.setting}: the connection is encrypted but the server's certificate is not checked, so a machine in the path can pose as the server.`,
        remedy: advice.verifyInUrl,
      }),
    ];
  }
  return [];
}
