/**
 * Whether the current Postgres session is encrypted, as the server reports it:
 * `pg_stat_ssl` for this backend, `show ssl` (TLS turned on at all), and, for
 * superusers, `pg_hba_file_rules` (does any line accept TCP without TLS).
 * Read-only; the findings are `sessionFindings` (src/transit/session.ts).
 * Driver errors of the first two queries propagate (map them with `toSourceError`).
 */
import { sql, type Kysely } from 'kysely';
import { UNREADABLE_CONNECTION_STRING, connectionPlace, parseConnectionString } from '../../transit/connection-string.js';
import type { ConnectionStringTransport, SessionTransport, TransitAdvice } from '../../transit/types.js';

interface StatSslRow {
  ssl: boolean | string | null;
  version: string | null;
  cipher: string | null;
}

/** pg_hba.conf line types that match TCP connections made without TLS. */
const PLAINTEXT_HBA_TYPES = new Set(['host', 'hostnossl', 'hostnogssenc']);

const bool = (v: unknown): boolean => v === true || v === 't' || v === 'true' || v === 'on';

/** True when no pg_hba.conf line lets a TCP connection in without TLS (`reject` lines aside); null for no lines. Pure. */
export function hbaRulesRequireTls(rules: readonly { readonly type: string; readonly auth_method: string | null }[]): boolean | null {
  if (rules.length === 0) return null;
  return !rules.some((r) => PLAINTEXT_HBA_TYPES.has(r.type) && r.auth_method !== 'reject');
}

/** What the server's pg_hba.conf says; null when the view is not readable (only superusers may by default). */
export async function hbaRequiresTls(db: Kysely<any>): Promise<boolean | null> {
  try {
    const { rows } = await sql<{ type: string; auth_method: string | null }>`select type, auth_method from pg_hba_file_rules where error is null`.execute(db);
    return hbaRulesRequireTls(rows);
  } catch {
    return null;
  }
}

export async function postgresSessionTransport(db: Kysely<any>): Promise<SessionTransport> {
  const { rows } = await sql<StatSslRow>`select ssl, version, cipher from pg_stat_ssl where pid = pg_backend_pid()`.execute(db);
  const row = rows[0];
  const { rows: setting } = await sql<{ ssl: string }>`show ssl`.execute(db);
  const serverSupportsTls = setting[0] ? bool(setting[0].ssl) : null;
  const encrypted = row ? bool(row.ssl) : null;
  // With TLS off no connection can be encrypted, so the server cannot require it.
  const serverRequiresTls = serverSupportsTls === false ? false : await hbaRequiresTls(db);
  return {
    kind: 'postgres',
    applicable: true,
    encrypted,
    protocol: encrypted ? (row?.version ?? null) : null,
    cipher: encrypted ? (row?.cipher ?? null) : null,
    serverSupportsTls,
    serverRequiresTls,
  };
}

// ---- the connection string, read without connecting

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

/** What a `postgres://` URL or libpq keyword/value string asks for in transit (`PGSSLMODE` from `env` when it sets no sslmode). */
export function postgresConnectionTransport(url: string, env: NodeJS.ProcessEnv): ConnectionStringTransport {
  const parsed = parseConnectionString(url) ?? UNREADABLE_CONNECTION_STRING;
  // libpq: a `host` parameter that is a path (or an @abstract name) is a Unix socket.
  return { kind: 'postgres', applicable: true, ...connectionPlace(parsed, parsed.params.get('host'), true), ...postgresMode(parsed.params, env) };
}

export const POSTGRES_TRANSIT_ADVICE: TransitAdvice = Object.freeze({
  driverDefault: 'node-postgres connects without TLS (libpq clients default to prefer, which falls back to plaintext)',
  verifyInUrl: 'Add sslmode=verify-full to sources[].url (with sslrootcert=<CA file> for an internal CA) so the connection fails rather than fall back to plaintext.',
  serverTlsOn: 'Turn TLS on in the server (ssl = on, ssl_cert_file and ssl_key_file in postgresql.conf, then reload), then add sslmode=verify-full to sources[].url.',
  clientTlsOn: 'Add sslmode=verify-full to sources[].url (with sslrootcert=<CA file> for an internal CA) so the session is encrypted and the server verified.',
  requireTls: 'Change the `host` lines of pg_hba.conf to `hostssl` (Unix-socket `local` lines can stay) and reload, so the server refuses unencrypted connections.',
  serverAcceptsPlaintext: (session: SessionTransport) => (session.serverSupportsTls === false ? 'has TLS turned off' : 'has pg_hba.conf lines that allow TCP connections without TLS'),
});
