/**
 * Whether the current MySQL/MariaDB session is encrypted, as the server reports
 * it: the session's `Ssl_cipher` and `Ssl_version`, `@@have_ssl` (TLS available
 * at all) and `@@require_secure_transport` (plaintext refused; MariaDB ≥ 10.5.2
 * has it too). Read-only; the findings are `sessionFindings`
 * (src/transit/session.ts). Driver errors of the status query propagate (map
 * them with `toSourceError`); a variable the server lacks reads as unknown.
 */
import { sql, type Kysely } from 'kysely';
import { UNREADABLE_CONNECTION_STRING, connectionPlace, parseConnectionString } from '../../transit/connection-string.js';
import type { ConnectionStringTransport, SessionTransport, TransitAdvice } from '../../transit/types.js';

async function variable(db: Kysely<any>, name: 'have_ssl' | 'require_secure_transport'): Promise<string | null> {
  try {
    const { rows } = await sql<{ value: unknown }>`select ${sql.raw(`@@global.${name}`)} as value`.execute(db);
    const v = rows[0]?.value;
    return v === null || v === undefined ? null : String(v);
  } catch {
    return null;
  }
}

const onOff = (v: string | null): boolean | null => (v === null ? null : ['1', 'ON', 'YES', 'TRUE'].includes(v.toUpperCase()));

export async function mysqlSessionTransport(db: Kysely<any>): Promise<SessionTransport> {
  const { rows } = await sql<{ Variable_name: string; Value: string | null }>`show session status where Variable_name in ('Ssl_cipher', 'Ssl_version')`.execute(db);
  const status = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value ?? '']));
  const cipher = status.get('ssl_cipher') ?? '';
  const encrypted = cipher !== '';
  const haveSsl = await variable(db, 'have_ssl');
  // have_ssl: YES, DISABLED (compiled in, not configured), NO. Removed in MySQL 8.4: then only an encrypted session tells.
  const serverSupportsTls = haveSsl === null ? (encrypted ? true : null) : haveSsl.toUpperCase() === 'YES';
  return {
    kind: 'mysql',
    applicable: true,
    encrypted,
    protocol: encrypted ? status.get('ssl_version') || null : null,
    cipher: encrypted ? cipher : null,
    serverSupportsTls,
    serverRequiresTls: onOff(await variable(db, 'require_secure_transport')),
  };
}

// ---- the connection string, read without connecting

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

/** What a `mysql://` / `mariadb://` URL asks for in transit (mysql2's parameters and the MySQL clients' names). */
export function mysqlConnectionTransport(url: string, _env: NodeJS.ProcessEnv): ConnectionStringTransport {
  const parsed = parseConnectionString(url) ?? UNREADABLE_CONNECTION_STRING;
  return { kind: 'mysql', applicable: true, ...connectionPlace(parsed, parsed.params.get('socketpath') ?? parsed.params.get('socket'), false), ...mysqlMode(parsed.params) };
}

export const MYSQL_TRANSIT_ADVICE: TransitAdvice = Object.freeze({
  driverDefault: 'mysql2 connects without TLS (MySQL clients default to PREFERRED, which falls back to plaintext)',
  verifyInUrl: 'Add ssl={"rejectUnauthorized":true} to sources[].url (mysql2; ssl-mode=VERIFY_IDENTITY for MySQL clients) so the connection fails rather than go unencrypted.',
  serverTlsOn: 'Turn TLS on in the server (ssl_cert and ssl_key in my.cnf, then restart), then add ssl={"rejectUnauthorized":true} to sources[].url.',
  clientTlsOn: 'Add ssl={"rejectUnauthorized":true} to sources[].url so the session is encrypted and the server verified.',
  requireTls: 'Set require_secure_transport = ON (SET PERSIST on MySQL 8, my.cnf on MariaDB) so the server refuses unencrypted connections.',
  serverAcceptsPlaintext: () => 'has require_secure_transport = OFF',
});
