/**
 * Whether the current MySQL/MariaDB session is encrypted, as the server reports
 * it: the session's `Ssl_cipher` and `Ssl_version`, `@@have_ssl` (TLS available
 * at all) and `@@require_secure_transport` (plaintext refused; MariaDB ≥ 10.5.2
 * has it too). Read-only; the findings are `sessionFindings`
 * (src/transit/session.ts). Driver errors of the status query propagate (map
 * them with `toSourceError`); a variable the server lacks reads as unknown.
 */
import { sql, type Kysely } from 'kysely';
import type { SessionTransport } from '../../transit/types.js';

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
