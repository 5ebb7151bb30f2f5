import { describe, expect, it } from 'vitest';
import { connectionStringFindings, connectionStringTransport, isLoopbackHost } from '../../../src/transit/connection.js';
import { SQLITE_SESSION_TRANSPORT, sessionFindings, sourceTransitFindings } from '../../../src/transit/session.js';
import type { SessionTransport } from '../../../src/transit/types.js';

const pg = (url: string, env: NodeJS.ProcessEnv = {}) => connectionStringTransport('postgres', url, env);
const my = (url: string) => connectionStringTransport('mysql', url);

describe('connectionStringTransport: postgres', () => {
  it.each([
    ['postgres://app:pw@db.internal:5432/shop', 'plaintext', '(no sslmode)'],
    ['postgres://app:pw@db.internal/shop?sslmode=disable', 'plaintext', 'sslmode=disable'],
    ['postgres://app:pw@db.internal/shop?sslmode=allow', 'opportunistic', 'sslmode=allow'],
    ['postgres://app:pw@db.internal/shop?sslmode=prefer', 'opportunistic', 'sslmode=prefer'],
    ['postgres://app:pw@db.internal/shop?sslmode=require', 'unverified', 'sslmode=require'],
    ['postgres://app:pw@db.internal/shop?sslmode=no-verify', 'unverified', 'sslmode=no-verify'],
    ['postgres://app:pw@db.internal/shop?sslmode=verify-ca&sslrootcert=/ca.pem', 'verified', 'sslmode=verify-ca'],
    ['postgresql://app:pw@db.internal/shop?sslmode=verify-full', 'verified', 'sslmode=verify-full'],
    ['postgres://app:pw@db.internal/shop?ssl=true', 'verified', 'ssl=true'],
    ['postgres://app:pw@db.internal/shop?ssl=0', 'plaintext', 'ssl=0'],
    ['postgres://app:pw@db.internal/shop?sslmode=prefer&ssl=true', 'opportunistic', 'sslmode=prefer'],
    ["host=db.internal user=app password='p w' sslmode=verify-full", 'verified', 'sslmode=verify-full'],
    ['host=db.internal dbname=shop', 'plaintext', '(no sslmode)'],
  ])('%s → %s', (url, mode, setting) => {
    expect(pg(url)).toMatchObject({ kind: 'postgres', applicable: true, via: 'tcp', host: 'db.internal', loopback: false, mode, setting });
  });

  it('PGSSLMODE applies when the URL has no sslmode, and the URL wins over it', () => {
    expect(pg('postgres://db.internal/shop', { PGSSLMODE: 'verify-full' })).toMatchObject({ mode: 'verified', setting: 'PGSSLMODE=verify-full' });
    expect(pg('postgres://db.internal/shop?sslmode=disable', { PGSSLMODE: 'verify-full' })).toMatchObject({ mode: 'plaintext', setting: 'sslmode=disable' });
  });

  it('Unix sockets, loopback and no host', () => {
    expect(pg('postgres:///shop?host=/var/run/postgresql')).toMatchObject({ via: 'socket', host: null });
    expect(pg('postgres://%2Fvar%2Frun%2Fpostgresql/shop')).toMatchObject({ via: 'socket' });
    expect(pg('host=/tmp dbname=shop')).toMatchObject({ via: 'socket' });
    expect(pg('postgres://127.0.0.1:5432/test')).toMatchObject({ via: 'tcp', host: '127.0.0.1', loopback: true });
    expect(pg('postgres://[::1]:5432/test')).toMatchObject({ host: '::1', loopback: true });
    expect(pg('postgres:///shop')).toMatchObject({ via: 'tcp', host: 'localhost', loopback: true });
  });

  it('an unparseable string is not taken for a local one', () => {
    expect(pg('postgres://db%ZZ:5432/x')).toMatchObject({ via: 'tcp', loopback: false, mode: 'plaintext' });
  });

  it('never keeps the password', () => {
    const t = pg('postgres://app:s3cret-pw@db.internal/shop?sslmode=prefer&password=other-secret');
    expect(JSON.stringify(t)).not.toMatch(/s3cret|other-secret/);
    expect(JSON.stringify(connectionStringFindings('shop', t))).not.toMatch(/s3cret|other-secret/);
  });
});

describe('connectionStringTransport: mysql / MariaDB', () => {
  it.each([
    ['mysql://app:pw@db.internal:3306/shop', 'plaintext', '(no ssl parameter)'],
    ['mariadb://app:pw@db.internal/shop?ssl-mode=DISABLED', 'plaintext', 'ssl-mode=DISABLED'],
    ['mysql://app:pw@db.internal/shop?sslMode=PREFERRED', 'opportunistic', 'sslmode=PREFERRED'],
    ['mysql://app:pw@db.internal/shop?ssl_mode=required', 'unverified', 'ssl_mode=required'],
    ['mysql://app:pw@db.internal/shop?ssl-mode=VERIFY_IDENTITY', 'verified', 'ssl-mode=VERIFY_IDENTITY'],
    ['mysql://app:pw@db.internal/shop?ssl-mode=verify-ca', 'verified', 'ssl-mode=verify-ca'],
    ['mysql://app:pw@db.internal/shop?ssl={"rejectUnauthorized":true}', 'verified', 'ssl={…}'],
    ['mysql://app:pw@db.internal/shop?ssl=%7B%22rejectUnauthorized%22%3Afalse%7D', 'unverified', 'ssl={"rejectUnauthorized":false}'],
    ['mysql://app:pw@db.internal/shop?ssl=Amazon%20RDS', 'verified', 'ssl=<profile>'],
    ['mysql://app:pw@db.internal/shop?ssl=false', 'plaintext', 'ssl=false'],
    ['mysql://app:pw@db.internal/shop?sslaccept=accept_invalid_certs', 'unverified', 'sslaccept=accept_invalid_certs'],
  ])('%s → %s', (url, mode, setting) => {
    expect(my(url)).toMatchObject({ kind: 'mysql', via: 'tcp', host: 'db.internal', mode, setting });
  });

  it('socketPath means a Unix socket', () => {
    expect(my('mysql://root@localhost/shop?socketPath=/run/mysqld/mysqld.sock')).toMatchObject({ via: 'socket' });
  });
});

describe('connectionStringFindings', () => {
  it('plaintext and opportunistic: medium over the network, low over loopback; the remedy is the exact setting', () => {
    const f = connectionStringFindings('shop', pg('postgres://app:pw@db.internal/shop?sslmode=prefer'));
    expect(f.map((x) => [x.rule, x.severity, x.subject])).toEqual([['transit.url-accepts-plaintext', 'medium', 'shop']]);
    expect(f[0]!.message).toBe('The connection string of source "shop" to db.internal has sslmode=prefer: TLS is used only if the server offers it, and anyone in the path can make it not offer it.');
    expect(f[0]!.remedy).toContain('sslmode=verify-full');
    const none = connectionStringFindings('shop', pg('postgres://app:pw@db.internal/shop'));
    expect(none[0]!.message).toContain('node-postgres connects without TLS');
    expect(connectionStringFindings('local', pg('postgres://127.0.0.1/test')).map((x) => x.severity)).toEqual(['low']);
    expect(connectionStringFindings('m', my('mysql://app@db.internal/shop'))[0]!.remedy).toContain('ssl={"rejectUnauthorized":true}');
  });

  it('unverified: low; verified, sockets and SQLite: nothing', () => {
    expect(connectionStringFindings('shop', pg('postgres://db.internal/shop?sslmode=require')).map((x) => [x.rule, x.severity])).toEqual([['transit.url-unverified-tls', 'low']]);
    expect(connectionStringFindings('shop', pg('postgres://db.internal/shop?sslmode=verify-full'))).toEqual([]);
    expect(connectionStringFindings('shop', my('mysql://db.internal/shop?ssl-mode=VERIFY_CA'))).toEqual([]);
    expect(connectionStringFindings('shop', pg('postgres:///shop?host=/var/run/postgresql'))).toEqual([]);
    expect(connectionStringFindings('shop', connectionStringTransport('sqlite', '/data/shop.db'))).toEqual([]);
    expect(connectionStringTransport('sqlite', '/data/shop.db')).toMatchObject({ applicable: false, mode: 'none', via: 'file' });
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['db.localhost', true],
    ['127.0.0.1', true],
    ['127.10.0.3', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['127.example.com', false],
    ['localhost.example.com', false],
    ['::2', false],
  ])('%s → %s', (host, expected) => expect(isLoopbackHost(host)).toBe(expected));
});

const session = (over: Partial<SessionTransport> = {}): SessionTransport => ({
  kind: 'postgres',
  applicable: true,
  encrypted: true,
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  serverSupportsTls: true,
  serverRequiresTls: true,
  ...over,
});

describe('sessionFindings', () => {
  it('encrypted session on a server that requires TLS: nothing', () => {
    expect(sessionFindings('shop', session())).toEqual([]);
    expect(sessionFindings('shop', session({ serverRequiresTls: null }))).toEqual([]);
  });

  it('unencrypted session over the network: high; remedy depends on whether the server has TLS at all', () => {
    const net = pg('postgres://db.internal/shop');
    const clientSide = sessionFindings('shop', session({ encrypted: false, protocol: null, cipher: null, serverRequiresTls: null }), net);
    expect(clientSide.map((f) => [f.rule, f.severity])).toEqual([['transit.session-unencrypted', 'high']]);
    expect(clientSide[0]!.message).toBe('Steward\'s current session with source "shop" (postgres at db.internal) is not encrypted: personal data read over it crosses the network in plain text.');
    expect(clientSide[0]!.remedy).toMatch(/^Add sslmode=verify-full/);
    const serverOff = sessionFindings('shop', session({ encrypted: false, serverSupportsTls: false, serverRequiresTls: false }), net);
    expect(serverOff.map((f) => [f.rule, f.severity])).toEqual([
      ['transit.session-unencrypted', 'high'],
      ['transit.server-tls-not-required', 'medium'],
    ]);
    expect(serverOff[0]!.message).toContain('and the server has TLS turned off');
    expect(serverOff[0]!.remedy).toMatch(/^Turn TLS on in the server \(ssl = on/);
    expect(serverOff[1]!.message).toContain('has TLS turned off');
  });

  it('over loopback: low; over a Unix socket: no session finding', () => {
    expect(sessionFindings('l', session({ encrypted: false }), pg('postgres://127.0.0.1/test')).map((f) => f.severity)).toEqual(['low']);
    expect(sessionFindings('l', session({ encrypted: false }), pg('postgres:///test?host=/tmp'))).toEqual([]);
  });

  it('MySQL: server without require_secure_transport is medium, with the MySQL remedy', () => {
    const f = sessionFindings('m', session({ kind: 'mysql', encrypted: true, serverRequiresTls: false }), my('mysql://db.internal/shop?ssl-mode=VERIFY_IDENTITY'));
    expect(f.map((x) => [x.rule, x.severity])).toEqual([['transit.server-tls-not-required', 'medium']]);
    expect(f[0]!.message).toContain('require_secure_transport = OFF');
    expect(f[0]!.remedy).toContain('require_secure_transport = ON');
  });

  it('SQLite: not applicable, nothing', () => {
    expect(sessionFindings('s', SQLITE_SESSION_TRANSPORT)).toEqual([]);
    expect(sourceTransitFindings('s', 'sqlite', '/data/shop.db', SQLITE_SESSION_TRANSPORT)).toEqual([]);
  });

  it('sourceTransitFindings: URL and session findings together, worst first, ids stable per source and rule', () => {
    const f = sourceTransitFindings('shop', 'postgres', 'postgres://app:pw@db.internal/shop?sslmode=prefer', session({ encrypted: false, serverRequiresTls: false }));
    expect(f.map((x) => [x.rule, x.severity])).toEqual([
      ['transit.session-unencrypted', 'high'],
      ['transit.server-tls-not-required', 'medium'],
      ['transit.url-accepts-plaintext', 'medium'],
    ]);
    const again = sourceTransitFindings('shop', 'postgres', 'postgres://other:pw@db.internal/shop?sslmode=prefer', session({ encrypted: false, serverRequiresTls: false }));
    expect(again.map((x) => x.id)).toEqual(f.map((x) => x.id));
    expect(sourceTransitFindings('other', 'postgres', 'postgres://db.internal/shop?sslmode=prefer')[0]!.id).not.toBe(f[2]!.id);
  });
});

describe('hbaRulesRequireTls (pg_hba.conf)', () => {
  it('TLS required only when every TCP line is hostssl (or hostgssenc), reject lines aside', async () => {
    const { hbaRulesRequireTls } = await import('../../../src/sources/postgres/postgres-transport.js');
    const r = (type: string, auth_method = 'scram-sha-256') => ({ type, auth_method });
    expect(hbaRulesRequireTls([r('local', 'peer'), r('hostssl')])).toBe(true);
    expect(hbaRulesRequireTls([r('local', 'peer'), r('hostssl'), r('hostgssenc')])).toBe(true);
    expect(hbaRulesRequireTls([r('hostssl'), r('host', 'reject')])).toBe(true);
    expect(hbaRulesRequireTls([r('hostssl'), r('host')])).toBe(false);
    expect(hbaRulesRequireTls([r('hostnossl', 'trust')])).toBe(false);
    expect(hbaRulesRequireTls([r('hostnogssenc')])).toBe(false);
    expect(hbaRulesRequireTls([])).toBeNull();
  });
});
