/**
 * What a source's connection string asks for in transit, read without
 * connecting, and the findings that follow: a string that lets the driver fall
 * back to (or stay on) plaintext, or that encrypts without checking the server.
 * Pure. Never puts the password (or anything but the host and the TLS setting)
 * into a result or a message.
 */
import net from 'node:net';
import type { SourceKind } from '../sources/types.js';
import { transitFinding } from './findings.js';
import type { ConnectionStringTransport, TransitFinding } from './types.js';

/** `localhost`, 127.0.0.0/8, `::1` (and its IPv4-mapped form): traffic that does not leave the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/** `key=value key2='quoted value'` (libpq's keyword/value form). */
function keywordValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/g;
  for (const m of text.matchAll(re)) out.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

interface Parsed {
  readonly host: string;
  readonly params: Map<string, string>;
}

function parse(url: string): Parsed | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const u = new URL(url);
      const params = new Map<string, string>();
      for (const [k, v] of u.searchParams) if (!params.has(k.toLowerCase())) params.set(k.toLowerCase(), v);
      return { host: decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1'), params };
    } catch {
      return null;
    }
  }
  if (/\w+\s*=/.test(url)) {
    const params = keywordValues(url);
    return { host: params.get('host') ?? '', params };
  }
  return null;
}

function where(kind: SourceKind, parsed: Parsed): Pick<ConnectionStringTransport, 'via' | 'host' | 'loopback'> {
  const socketParam = kind === 'postgres' ? parsed.params.get('host') : (parsed.params.get('socketpath') ?? parsed.params.get('socket'));
  const host = socketParam ?? parsed.host;
  if (host.startsWith('/') || (kind === 'postgres' && host.startsWith('@'))) return { via: 'socket', host: null, loopback: true };
  // node-postgres and mysql2 connect to localhost over TCP when no host is given.
  const h = host || 'localhost';
  return { via: 'tcp', host: h, loopback: isLoopbackHost(h) };
}

function postgresMode(params: Map<string, string>, env: NodeJS.ProcessEnv): Pick<ConnectionStringTransport, 'mode' | 'setting'> {
  const sslmode = params.get('sslmode') ?? env.PGSSLMODE;
  const setting = params.has('sslmode') ? `sslmode=${sslmode}` : sslmode !== undefined ? `PGSSLMODE=${sslmode}` : undefined;
  switch (sslmode?.toLowerCase()) {
    case 'disable':
      return { mode: 'plaintext', setting: setting! };
    case 'allow':
    case 'prefer':
      return { mode: 'opportunistic', setting: setting! };
    case 'require':
    case 'no-verify':
      return { mode: 'unverified', setting: setting! };
    case 'verify-ca':
    case 'verify-full':
      return { mode: 'verified', setting: setting! };
    default:
      break;
  }
  const ssl = params.get('ssl')?.toLowerCase();
  if (ssl === 'true' || ssl === '1') return { mode: 'verified', setting: `ssl=${ssl}` };
  if (ssl === 'false' || ssl === '0') return { mode: 'plaintext', setting: `ssl=${ssl}` };
  return { mode: 'plaintext', setting: sslmode === undefined ? '(no sslmode)' : `sslmode=${sslmode}` };
}

function mysqlMode(params: Map<string, string>): Pick<ConnectionStringTransport, 'mode' | 'setting'> {
  const modeKey = ['ssl-mode', 'sslmode', 'ssl_mode'].find((k) => params.has(k));
  if (modeKey) {
    const v = params.get(modeKey)!;
    const setting = `${modeKey}=${v}`;
    switch (v.toUpperCase().replace(/-/g, '_')) {
      case 'DISABLED':
        return { mode: 'plaintext', setting };
      case 'PREFERRED':
        return { mode: 'opportunistic', setting };
      case 'REQUIRED':
        return { mode: 'unverified', setting };
      case 'VERIFY_CA':
      case 'VERIFY_IDENTITY':
        return { mode: 'verified', setting };
      default:
        break;
    }
  }
  const sslaccept = params.get('sslaccept');
  if (sslaccept === 'strict') return { mode: 'verified', setting: 'sslaccept=strict' };
  if (sslaccept === 'accept_invalid_certs') return { mode: 'unverified', setting: 'sslaccept=accept_invalid_certs' };
  const ssl = params.get('ssl');
  if (ssl !== undefined) {
    // mysql2 JSON-parses URL parameters: ssl={"rejectUnauthorized":false}, or an SSL profile name.
    let value: unknown = ssl;
    try {
      value = JSON.parse(ssl);
    } catch {
      value = ssl;
    }
    if (value === false || value === 0 || value === 'false' || value === '') return { mode: 'plaintext', setting: `ssl=${ssl}` };
    if (value !== null && typeof value === 'object') {
      const unverified = (value as { rejectUnauthorized?: unknown }).rejectUnauthorized === false;
      return { mode: unverified ? 'unverified' : 'verified', setting: unverified ? 'ssl={"rejectUnauthorized":false}' : 'ssl={…}' };
    }
    return { mode: 'verified', setting: typeof value === 'string' ? 'ssl=<profile>' : `ssl=${String(value)}` };
  }
  return { mode: 'plaintext', setting: '(no ssl parameter)' };
}

/** Reads the transit settings of a source's connection string (`sources[].url`). */
export function connectionStringTransport(kind: SourceKind, url: string, env: NodeJS.ProcessEnv = {}): ConnectionStringTransport {
  if (kind === 'sqlite') return { kind, applicable: false, via: 'file', host: null, loopback: true, mode: 'none', setting: '(local file)' };
  // Unparseable (the driver will refuse it anyway): not assumed to be local.
  const parsed = parse(url) ?? { host: '(unreadable host)', params: new Map<string, string>() };
  const loc = where(kind, parsed);
  const mode = kind === 'postgres' ? postgresMode(parsed.params, env) : mysqlMode(parsed.params);
  return { kind, applicable: true, ...loc, ...mode };
}

const REMEDY_VERIFIED: Record<'postgres' | 'mysql', string> = {
  postgres: 'Add sslmode=verify-full to sources[].url (with sslrootcert=<CA file> for an internal CA) so the connection fails rather than fall back to plaintext.',
  mysql: 'Add ssl={"rejectUnauthorized":true} to sources[].url (mysql2; ssl-mode=VERIFY_IDENTITY for MySQL clients) so the connection fails rather than go unencrypted.',
};

/** Findings about the connection string alone. A Unix socket or a SQLite file has none. */
export function connectionStringFindings(source: string, t: ConnectionStringTransport): TransitFinding[] {
  if (!t.applicable || t.via === 'socket' || t.kind === 'sqlite') return [];
  const kind = t.kind;
  const where = t.loopback ? `${t.host} (loopback: the traffic stays on this machine)` : t.host;
  if (t.mode === 'plaintext' || t.mode === 'opportunistic') {
    const why =
      t.mode === 'plaintext'
        ? t.setting.startsWith('(')
          ? `has ${t.setting}: ${kind === 'postgres' ? 'node-postgres connects without TLS (libpq clients default to prefer, which falls back to plaintext)' : 'mysql2 connects without TLS (MySQL clients default to PREFERRED, which falls back to plaintext)'}`
          : `has ${t.setting}: the connection is never encrypted`
        : `has ${t.setting}: TLS is used only if the server offers it, and anyone in the path can make it not offer it`;
    return [
      transitFinding('transit.url-accepts-plaintext', source, {
        severity: t.loopback ? 'low' : 'medium',
        title: 'Connection string accepts plaintext',
        message: `The connection string of source "${source}" to ${where} ${why}.`,
        remedy: REMEDY_VERIFIED[kind],
      }),
    ];
  }
  if (t.mode === 'unverified') {
    return [
      transitFinding('transit.url-unverified-tls', source, {
        severity: 'low',
        title: "Server certificate not verified",
        message: `The connection string of source "${source}" to ${where} has ${t.setting}: the connection is encrypted but the server's certificate is not checked, so a machine in the path can pose as the server.`,
        remedy: REMEDY_VERIFIED[kind],
      }),
    ];
  }
  return [];
}
