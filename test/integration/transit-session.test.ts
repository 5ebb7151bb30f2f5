/**
 * Session transport per dialect, against the real local servers. They run
 * without TLS here, so the session must be reported unencrypted, the server as
 * having TLS off (checked independently: a client that asks for TLS is
 * refused), and the findings must say so. PGlite has no server: skipped.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { mysqlSessionTransport } from '../../src/sources/mysql/mysql-transport.js';
import { hbaRequiresTls, postgresSessionTransport } from '../../src/sources/postgres/postgres-transport.js';
import { sqliteSessionTransport } from '../../src/sources/sqlite/sqlite-transport.js';
import type { SourceKind } from '../../src/sources/types.js';
import { sourceTransitFindings } from '../../src/transit/session.js';
import type { SessionTransport } from '../../src/transit/types.js';
import { forEachDialect } from '../helpers/dialects.js';

const TRANSPORT = { postgres: postgresSessionTransport, mysql: mysqlSessionTransport, sqlite: sqliteSessionTransport } satisfies Record<SourceKind, unknown>;

/** Does the server accept a client that insists on TLS? Independent of the code under test. */
async function serverAcceptsTls(kind: 'postgres' | 'mysql', url: string): Promise<{ ok: boolean; error?: string }> {
  if (kind === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, ssl: { rejectUnauthorized: false } });
    try {
      await client.connect();
      return { ok: true };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const { default: mysql } = await import('mysql2/promise');
  try {
    const conn = await mysql.createConnection({ uri: url, ssl: { rejectUnauthorized: false } });
    await conn.end();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

forEachDialect('session transport', (d) => {
  it.skipIf(d.engine === 'pglite')('reports how the current session is protected, and the findings follow', async () => {
    const session: SessionTransport = await TRANSPORT[d.kind](d.db);
    if (d.kind === 'sqlite') {
      expect(session).toEqual({ kind: 'sqlite', applicable: false, encrypted: null, protocol: null, cipher: null, serverSupportsTls: null, serverRequiresTls: null });
      expect(sourceTransitFindings('local', 'sqlite', d.url!, session)).toEqual([]);
      return;
    }
    const kind = d.kind;
    const tls = await serverAcceptsTls(kind, d.url!);
    // The test servers here run without TLS; a server with TLS on would make this test say so instead of passing by accident.
    expect(tls, 'these tests expect the local servers to run without TLS').toMatchObject({ ok: false });
    expect(tls.error).toMatch(kind === 'postgres' ? /does not support SSL/i : /does not support secure connection/i);

    expect(session).toEqual({ kind, applicable: true, encrypted: false, protocol: null, cipher: null, serverSupportsTls: false, serverRequiresTls: false });

    const findings = sourceTransitFindings('local', kind, d.url!, session);
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([
      ['transit.server-tls-not-required', 'medium'],
      ['transit.session-unencrypted', 'low'],
      ['transit.url-accepts-plaintext', 'low'],
    ]);
    const unencrypted = findings.find((f) => f.rule === 'transit.session-unencrypted')!;
    expect(unencrypted.message).toContain('is not encrypted and the server has TLS turned off');
    expect(unencrypted.remedy).toMatch(/^Turn TLS on in the server/);
    // The connection URL has no password here, but the findings must not carry the URL at all.
    for (const f of findings) expect(`${f.message} ${f.remedy}`).not.toContain(d.url!);
  });

  it.skipIf(d.kind !== 'postgres' || d.engine === 'pglite')('pg_hba.conf: read as superuser (this server has `host` lines: plaintext allowed), null for a plain role', async () => {
    expect(await hbaRequiresTls(d.db)).toBe(false);
    const user = `steward_nohba_${Math.random().toString(16).slice(2, 8)}`;
    await d.exec(`create role ${user}`);
    try {
      // `set role` is per connection: run it and the query on one.
      const result = await d.db.connection().execute(async (conn) => {
        await sql.raw(`set role ${user}`).execute(conn);
        try {
          return await hbaRequiresTls(conn);
        } finally {
          await sql.raw('reset role').execute(conn);
        }
      });
      expect(result).toBeNull();
    } finally {
      await d.exec(`drop role ${user}`);
    }
  });

  it.skipIf(d.engine === 'pglite' || d.kind === 'sqlite')('the same session seen from a non-loopback address would be high', async () => {
    const session = await TRANSPORT[d.kind](d.db);
    const remote = d.url!.replace('127.0.0.1', 'db.internal');
    expect(sourceTransitFindings('shop', d.kind, remote, session).map((f) => [f.rule, f.severity])).toEqual([
      ['transit.session-unencrypted', 'high'],
      ['transit.server-tls-not-required', 'medium'],
      ['transit.url-accepts-plaintext', 'medium'],
    ]);
  });

  it.skipIf(d.engine === 'pglite' || d.kind === 'sqlite')('runs on a plain read-only user (no superuser, no special grants)', async () => {
    const user = `steward_ro_${Math.random().toString(16).slice(2, 8)}`;
    const { Kysely, PostgresDialect, MysqlDialect } = await import('kysely');
    const u = new URL(d.url!);
    if (d.kind === 'postgres') {
      await d.exec(`create role ${user} login password 'pw'`);
      const { default: pg } = await import('pg');
      u.username = user;
      u.password = 'pw';
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: u.toString(), max: 1 }) }) });
      try {
        // pg_hba_file_rules is superuser-only; with TLS off the answer is still known.
        expect(await postgresSessionTransport(db)).toMatchObject({ encrypted: false, serverSupportsTls: false, serverRequiresTls: false });
      } finally {
        await db.destroy();
        await d.exec(`drop role ${user}`);
      }
    } else {
      await d.exec(`create user '${user}'@'%' identified by 'pw'; grant select on ${d.q(d.schema)}.* to '${user}'@'%'`);
      const { default: mysql } = await import('mysql2');
      u.username = user;
      u.password = 'pw';
      const db = new Kysely<any>({ dialect: new MysqlDialect({ pool: mysql.createPool({ uri: u.toString(), connectionLimit: 1 }) as never }) });
      try {
        expect(await mysqlSessionTransport(db)).toMatchObject({ encrypted: false, serverSupportsTls: false, serverRequiresTls: false });
      } finally {
        await db.destroy();
        await d.exec(`drop user '${user}'@'%'`);
      }
    }
  });
});
