/**
 * Whether the current Postgres session is encrypted, as the server reports it:
 * `pg_stat_ssl` for this backend, `show ssl` (TLS turned on at all), and, for
 * superusers, `pg_hba_file_rules` (does any line accept TCP without TLS).
 * Read-only; the findings are `sessionFindings` (src/transit/session.ts).
 * Driver errors of the first two queries propagate (map them with `toSourceError`).
 */
import { sql, type Kysely } from 'kysely';
import type { SessionTransport } from '../../transit/types.js';

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
