/**
 * Access verification against real servers: roles, memberships, PUBLIC, column
 * grants, default privileges, row-level security (PostgreSQL); accounts, roles,
 * four privilege levels and weak logins (MariaDB); file modes (SQLite). Each
 * test asserts exactly which findings appear for the principals it created,
 * and that authorized ones do not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import type { AuditReport, Finding } from '../../src/audit/types.js';
import { loadConfigText } from '../../src/config/index.js';
import { openSource } from '../../src/sources/index.js';
import { forEachDialect, uniqueName } from '../helpers/dialects.js';

const N = 40;
const now = new Date('2026-11-24T12:00:00Z');

function luhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

const customers = Array.from({ length: N }, (_, i) => ({
  id: i + 1,
  email: `person${i + 1}@example.com`,
  phone: `+44 20 7946 ${String(1000 + i)}`,
  total_orders: i,
}));
const cards = Array.from({ length: N }, (_, i) => ({ id: i + 1, card_number: luhn(`4000001234${String(10000 + i).slice(-5)}`) }));

function configFor(kind: string, url: string, access: string[]): ReturnType<typeof loadConfigText> {
  return loadConfigText(
    ['sources:', '  - name: s', `    kind: ${kind}`, `    url: ${JSON.stringify(url)}`, '    owner: t', ...(access.length ? ['    access:', ...access.map((l) => `      ${l}`)] : [])].join('\n'),
    { file: 'steward.yml', cwd: process.cwd(), env: {} },
  );
}

async function accessAudit(kind: string, url: string, access: string[]): Promise<AuditReport> {
  const { config, patterns } = configFor(kind, url, access);
  return runAudit({ config, patterns, stage: 'access', openSource: (conn) => openSource(conn, { readonly: true }), now: () => now });
}

/** `rule principal-or-place`, for the findings that mention one of `names`. */
function about(findings: readonly Finding[], names: readonly string[]): string[] {
  return findings
    .filter((f) => names.some((n) => f.message.includes(n)))
    .map((f) => `${f.rule} ${f.severity} ${names.find((n) => f.message.startsWith(n)) ?? names.find((n) => f.message.includes(n))} ${[f.location.schema, f.location.table].filter(Boolean).join('.')}`)
    .sort();
}

forEachDialect('access verification', (d) => {
  const p = uniqueName('stw').slice(4); // short role prefix, unique per run
  const role = (n: string) => `stw_${p}_${n}`;

  beforeAll(async () => {
    await d.exec(
      d.pick({
        postgres: 'create table customers (id integer primary key, email text, phone text, total_orders integer); create table cards (id integer primary key, card_number text); create table orders (id integer primary key, total integer)',
        mysql: 'create table customers (id integer primary key, email varchar(100), phone varchar(40), total_orders integer); create table cards (id integer primary key, card_number varchar(30)); create table orders (id integer primary key, total integer)',
        sqlite: 'create table customers (id integer primary key, email text, phone text, total_orders integer); create table cards (id integer primary key, card_number text); create table orders (id integer primary key, total integer)',
      }),
    );
    await d.db.insertInto('customers').values(customers).execute();
    await d.db.insertInto('cards').values(cards).execute();
    await d.analyze('customers', 'cards');
  });

  it.skipIf(d.kind !== 'postgres' || d.engine !== 'server')('PostgreSQL: paths through membership, PUBLIC, column grants, built-in roles, default privileges, RLS', async () => {
    const r = role;
    await d.exec(`
      create role ${r('app')} login;
      create role ${r('analyst')} nologin;
      create role ${r('ro')} login in role ${r('analyst')};
      create role ${r('support')} login valid until '2099-01-01';
      create role ${r('reader')} login;
      create role ${r('admin')} login superuser;
      create role ${r('etl')} login bypassrls valid until '2099-01-01';
      create role ${r('nousage')} login;
      grant select on customers, orders, cards to ${r('app')};
      grant select on customers to ${r('analyst')};
      grant select (email) on customers to ${r('support')};
      grant select on cards to public;
      grant pg_read_all_data to ${r('reader')};
      grant select on orders to ${r('etl')};
      create schema hidden;
      revoke all on schema hidden from public;
      create table hidden.people (id integer primary key, email text);
      insert into hidden.people select i, 'hidden' || i || '@example.com' from generate_series(1, 40) i;
      grant select on hidden.people to ${r('nousage')};
      alter default privileges in schema public grant select on tables to ${r('analyst')};
      create policy own_rows on customers using (true);
    `);
    try {
      const report = await accessAudit('postgres', d.url!, [
        'authorized:',
        `  - { principal: ${r('app')}, tables: [customers, cards, orders] }`,
        `  - { principal: ${r('support')}, categories: [contact.email] }`,
        '  - { principal: postgres }',
        '  - { principal: root }',
      ]);
      const f = report.findings;
      const names = ['app', 'analyst', 'ro', 'support', 'reader', 'admin', 'etl', 'nousage'].map(r);
      expect(about(f, [...names, 'PUBLIC'])).toEqual(
        [
          `access.default-privileges medium ${r('analyst')} public`,
          `access.password-no-expiry low ${r('admin')} `,
          `access.password-no-expiry low ${r('app')} `,
          `access.password-no-expiry low ${r('reader')} `,
          `access.password-no-expiry low ${r('ro')} `,
          `access.privileged-role high ${r('admin')} `,
          `access.unauthorized-read critical PUBLIC public.cards`,
          `access.unauthorized-read high ${r('reader')} `,
          `access.unauthorized-read medium ${r('ro')} public.customers`,
        ].sort(),
      );
      const ro = f.find((x) => x.rule === 'access.unauthorized-read' && x.message.startsWith(r('ro')))!;
      expect(ro.message).toContain(`${r('ro')} → member of ${r('analyst')} → SELECT on public.customers`);
      expect(ro.message).toContain('email [contact.email]');
      expect(ro.message).toContain('phone [contact.phone]');
      // The table-wide grant is narrowed to the columns the group may keep.
      expect(ro.remedy).toContain(`REVOKE SELECT ON "public"."customers" FROM "${r('analyst')}"; GRANT SELECT ("id", "total_orders") ON "public"."customers" TO "${r('analyst')}";`);
      const pub = f.find((x) => x.rule === 'access.unauthorized-read' && x.message.startsWith('PUBLIC'))!;
      expect(pub.remedy).toContain('REVOKE SELECT ON "public"."cards" FROM PUBLIC;');
      const reader = f.find((x) => x.rule === 'access.unauthorized-read' && x.message.startsWith(r('reader')))!;
      expect(reader.message).toContain(`member of pg_read_all_data`);
      expect(reader.remedy).toContain(`REVOKE "pg_read_all_data" FROM "${r('reader')}";`);
      expect(f.find((x) => x.rule === 'access.privileged-role' && x.message.startsWith(r('admin')))!.remedy).toContain(`ALTER ROLE "${r('admin')}" NOSUPERUSER;`);
      // Row-level security: a policy exists, row security is off.
      expect(f.filter((x) => x.rule === 'access.rls-disabled').map((x) => x.location.table)).toEqual(['customers']);
      expect(f.some((x) => x.rule === 'transit.session-unencrypted')).toBe(true);
      expect(report.sources[0]!.access!.session).toMatchObject({ encrypted: false });
      // Nothing for the authorized app on its tables, support's email column, etl (orders only), nousage (no schema USAGE).
      expect(f.some((x) => x.rule === 'access.unauthorized-read' && [r('app'), r('support'), r('etl'), r('nousage')].some((n) => x.message.startsWith(n)))).toBe(false);
      // The access graph shows who reaches what.
      const graph = report.sources[0]!.access!;
      expect(graph.principals.find((x) => x.name === r('app'))).toMatchObject({ login: true, authorized: true });
      expect(graph.principals.find((x) => x.name === r('ro'))).toMatchObject({ authorized: false });
      expect(graph.principals.some((x) => x.name === r('nousage'))).toBe(false);
      expect(graph.edges.filter((e) => e.principal === r('support')).flatMap((e) => e.columns.map((c) => `${c.column}:${c.authorized}`))).toEqual(['email:true']);
    } finally {
      await d.exec(['app', 'analyst', 'ro', 'support', 'reader', 'admin', 'etl', 'nousage'].map((n) => `drop owned by ${r(n)}; drop role ${r(n)};`).join('\n'));
    }
  });

  it.skipIf(d.kind !== 'postgres' || d.engine !== 'server')('PostgreSQL: a role that cannot read a catalog gets a finding naming it, and the rest of the review', async () => {
    const r = role;
    await d.exec(`create role ${r('limited')} login; grant select on customers to ${r('limited')}; revoke select on pg_catalog.pg_auth_members from public;`);
    try {
      const u = new URL(d.url!);
      u.username = r('limited');
      const report = await accessAudit('postgres', u.toString(), ['authorized: [{ principal: postgres }]']);
      expect(report.sources[0]!.status).toBe('ok');
      const unreadable = report.findings.filter((f) => f.rule === 'access.catalog-unreadable');
      expect(unreadable.map((f) => f.message)).toEqual([expect.stringContaining('pg_catalog.pg_auth_members')]);
      expect(unreadable[0]!.remedy).toContain('GRANT SELECT ON pg_catalog.pg_auth_members');
      expect(report.findings.some((f) => f.rule === 'access.unauthorized-read' && f.message.startsWith(r('limited')))).toBe(true);
    } finally {
      await d.exec(`grant select on pg_catalog.pg_auth_members to public; drop owned by ${r('limited')}; drop role ${r('limited')};`);
    }
  });

  it.skipIf(d.kind !== 'mysql' || d.engine !== 'server')('MariaDB: accounts, roles, database/table/column grants, empty passwords, TLS not required', async () => {
    const r = role;
    const db = d.schema;
    await d.exec(`
      create user '${r('app')}'@'%' identified by 'app-Secret-1';
      create user '${r('ro')}'@'localhost' identified by 'ro-Secret-1';
      create user '${r('support')}'@'%' identified by 'support-Secret-1';
      create user '${r('open')}'@'%';
      create role ${r('analyst')};
      grant select on \`${db}\`.* to '${r('app')}'@'%';
      grant select on \`${db}\`.customers to ${r('analyst')};
      grant ${r('analyst')} to '${r('ro')}'@'localhost';
      grant select (email) on \`${db}\`.customers to '${r('support')}'@'%';
      grant select on \`${db}\`.cards to '${r('open')}'@'%';
    `);
    try {
      const report = await accessAudit('mysql', d.url!, [
        'authorized:',
        `  - { principal: ${r('app')} }`,
        `  - { principal: "${r('support')}@%", categories: [contact.email] }`,
        '  - { principal: root }',
      ]);
      const f = report.findings;
      const names = ['app', 'ro', 'support', 'open', 'analyst'].map((n) => `'${r(n)}'`);
      expect(about(f, names)).toEqual(
        [
          `access.unauthorized-read high '${r('open')}' ${db}.cards`,
          `access.unauthorized-read medium '${r('ro')}' ${db}.customers`,
          `access.weak-account critical '${r('open')}' `,
        ].sort(),
      );
      const ro = f.find((x) => x.rule === 'access.unauthorized-read' && x.message.startsWith(`'${r('ro')}'`))!;
      expect(ro.message).toContain(`'${r('ro')}'@'localhost' → member of '${r('analyst')}' → SELECT on ${db}.customers`);
      expect(ro.remedy).toContain(`REVOKE SELECT ON \`${db}\`.\`customers\` FROM '${r('analyst')}'; GRANT SELECT (\`id\`, \`total_orders\`) ON \`${db}\`.\`customers\` TO '${r('analyst')}';`);
      expect(f.find((x) => x.rule === 'access.weak-account')!.message).toContain('has no password, from any host');
      // In transit: this connection is plaintext and the server does not require TLS (loopback, so low/medium).
      expect(f.filter((x) => x.rule.startsWith('transit.')).map((x) => x.rule).sort()).toEqual(['transit.server-tls-not-required', 'transit.session-unencrypted', 'transit.url-accepts-plaintext']);
      expect(report.sources[0]!.access!.requireSecureTransport).toBe(false);
      expect(report.sources[0]!.access!.session).toMatchObject({ encrypted: false, serverRequiresTls: false });
    } finally {
      await d.exec(`drop user '${r('app')}'@'%', '${r('ro')}'@'localhost', '${r('support')}'@'%', '${r('open')}'@'%'; drop role ${r('analyst')};`);
    }
  });

  it.skipIf(d.kind !== 'mysql' || d.engine !== 'server')('MariaDB: an account that cannot read the mysql schema gets findings naming each table, and the GRANT', async () => {
    const r = role;
    await d.exec(`create user '${r('limited')}'@'%' identified by 'limited-Secret-1'; grant select on \`${d.schema}\`.* to '${r('limited')}'@'%';`);
    try {
      const u = new URL(d.url!);
      u.username = r('limited');
      u.password = 'limited-Secret-1';
      const report = await accessAudit('mysql', u.toString(), []);
      expect(report.sources[0]!.status).toBe('ok');
      const what = report.findings.filter((f) => f.rule === 'access.catalog-unreadable').map((f) => /read (mysql\.\w+)/.exec(f.message)?.[1]);
      expect(what.sort()).toEqual(['mysql.columns_priv', 'mysql.db', 'mysql.roles_mapping', 'mysql.tables_priv', 'mysql.user']);
      expect(JSON.stringify(report)).not.toContain('limited-Secret-1');
    } finally {
      await d.exec(`drop user '${r('limited')}'@'%';`);
    }
  });

  it.skipIf(d.kind !== 'sqlite')('SQLite: file modes of the database, its WAL and its directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stw-access-'));
    const file = path.join(dir, 'shop.db');
    try {
      fs.copyFileSync(d.url!, file);
      fs.chmodSync(file, 0o644);
      fs.chmodSync(dir, 0o777);
      let report = await accessAudit('sqlite', file, []);
      expect(report.findings.map((f) => `${f.rule} ${f.severity}`).sort()).toEqual([
        'access.directory-writable medium',
        'access.file-readable critical', // others: every user of the machine can read the cards
        'access.file-readable high', // the file's group
      ]);
      const others = report.findings.find((f) => f.severity === 'critical')!;
      expect(others.message).toContain('every user of this machine');
      expect(others.remedy).toContain(`chmod 600 '${file}'`);
      // A WAL beside it is checked too.
      fs.writeFileSync(`${file}-wal`, '');
      fs.chmodSync(`${file}-wal`, 0o604);
      fs.chmodSync(file, 0o600);
      fs.chmodSync(dir, 0o700);
      report = await accessAudit('sqlite', file, []);
      expect(report.findings.map((f) => `${f.rule} ${f.severity} ${/the (\w+) file/.exec(f.message)?.[1]}`)).toEqual(['access.file-readable critical wal']);
      // Private files: nothing to report; authorizing the group silences it.
      fs.chmodSync(`${file}-wal`, 0o640);
      report = await accessAudit('sqlite', file, [`authorized: [{ principal: "group ${fs.statSync(file).gid}" }]`]);
      expect(report.findings).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

forEachDialect('access verification, every engine', (d) => {
  beforeAll(async () => {
    await d.exec(d.pick({
      postgres: 'create table cards (id integer primary key, card_number text); grant select on cards to public',
      mysql: 'create table cards (id integer primary key, card_number varchar(30))',
      sqlite: 'create table cards (id integer primary key, card_number text)',
    }));
    await d.db.insertInto('cards').values(cards).execute();
  });

  it('runs the access stage to completion and reports a grant to everyone', async () => {
    const { config, patterns } = loadConfigText(
      ['sources:', '  - name: s', `    kind: ${d.kind}`, `    url: ${JSON.stringify(d.url ?? 'postgres://pglite')}`, '    owner: t'].join('\n'),
      { file: 'steward.yml', cwd: process.cwd(), env: {} },
    );
    const report = await runAudit({ config, patterns, stage: 'access', openSource: () => d.openSource(), now: () => now });
    expect(report.sources[0]!.status).toBe('ok');
    expect(report.run.stage).toBe('access');
    const publicRead = report.findings.filter((f) => f.rule === 'access.unauthorized-read' && f.message.startsWith('PUBLIC'));
    expect(publicRead.map((f) => `${f.severity} ${f.location.table}`)).toEqual(d.pick({ postgres: ['critical cards'], mysql: [], sqlite: [] }));
  });
});
