/**
 * A retention policy by data category on every database: the audit finds the
 * category's columns, the policy covers each table that holds them (with the
 * reference column each table has), the audit reports what is overdue per
 * table, and applying it cleans exactly the due rows of each table.
 */
import { createSecretKey } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAudit } from '../../src/audit/run-audit.js';
import { loadConfigText } from '../../src/config/index.js';
import { applyPolicy } from '../../src/retention/apply.js';
import { policiesForSource } from '../../src/retention/categories.js';
import { HASH_PREFIX } from '../../src/retention/cleanup.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { forEachDialect } from '../helpers/dialects.js';

const now = new Date('2026-11-27T12:00:00Z'); // 2y cut-off: 2024-11-27
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-retcat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

forEachDialect('retention by data category', (d) => {
  let store: StateStore;
  beforeAll(async () => {
    store = await openStateStore({ url: path.join(tmp, `${d.kind}-${d.engine}.db`), baseDir: tmp });
    await d.exec(
      [
        'create table customers (id integer primary key, email varchar(100), last_login date, created_at date)',
        'create table newsletter (id integer primary key, email varchar(100), created_at date)',
        'create table orders (id integer primary key, total integer, created_at date)',
      ].join(';\n'),
    );
    const first = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jo'];
    const mail = (i: number, host: string) => `${first[i % 10]}.${i}@${host}.example.com`;
    // Customers 1..40: 1..15 last logged in 2023 (due), the rest in 2026; created long ago (ignored: last_login comes first).
    await d.db.insertInto('customers').values(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, email: mail(i + 1, 'shop'), last_login: i < 15 ? '2023-03-01' : '2026-10-01', created_at: '2015-01-01' }))).execute();
    // Newsletter 1..30: 1..10 signed up in 2022 (due).
    await d.db.insertInto('newsletter').values(Array.from({ length: 30 }, (_, i) => ({ id: i + 1, email: mail(i + 1, 'news'), created_at: i < 10 ? '2022-05-05' : '2026-05-05' }))).execute();
    await d.db.insertInto('orders').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, total: i, created_at: '2015-01-01' }))).execute();
  });
  afterAll(async () => store?.close());

  it('covers every table holding email addresses: the audit reports each overdue table, apply hashes exactly the due rows', async () => {
    const { config, patterns } = loadConfigText(
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: t }`,
        'retention:',
        '  policies:',
        '    - { name: emails, category: contact.email, from: [last_login, created_at], period: 2y, method: cleanup, cleanup: hash, legalBasis: "email addresses: 2 years after last use" }',
      ].join('\n'),
      { file: 'steward.yml', cwd: process.cwd(), env: {} },
    );
    const report = await runAudit({ config, patterns, openSource: () => d.openSource(), now: () => now });
    const inventory = report.sources[0]!.inventory;
    expect(inventory.filter((i) => i.category === 'contact.email').map((i) => `${i.table}.${i.column}`).sort()).toEqual(['customers.email', 'newsletter.email']);
    const overdue = report.findings.filter((f) => f.rule === 'retention.overdue-data');
    expect(overdue.map((f) => `${f.location.table} ${/(\d+) row\(s\)/.exec(f.message)?.[1]}`).sort()).toEqual(['customers 15', 'newsletter 10']);
    expect(overdue.find((f) => f.location.table === 'customers')!.remedy).toContain("--policy 'emails[");

    const source = await d.openSource();
    try {
      const mine = policiesForSource(config.retention.policies, 's', ['s'], await source.introspect(), inventory);
      expect(mine.problems).toEqual([]);
      expect(mine.policies.map((p) => [p.policy.table.split('.').pop(), p.policy.from])).toEqual([
        ['customers', 'last_login'],
        ['newsletter', 'created_at'],
      ]);
      const key = createSecretKey(Buffer.alloc(32, 7));
      const certs = [];
      for (const { policy, index } of mine.policies) certs.push(await applyPolicy({ source, store, policy, index, actor: 'test', now: () => now, batchSize: 4, hashKey: async () => key }));
      expect(certs.map((c) => [c.policy, c.rows, c.origin?.category])).toEqual([
        [`emails[${d.schema}.customers]`, 15, 'contact.email'],
        [`emails[${d.schema}.newsletter]`, 10, 'contact.email'],
      ]);
      const hashed = async (t: string) => (await d.db.selectFrom(t).select(['id', 'email']).orderBy('id').execute()).filter((r) => String(r.email).startsWith(HASH_PREFIX)).map((r) => Number(r.id));
      expect(await hashed('customers')).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(await hashed('newsletter')).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect((await d.db.selectFrom('orders').select('id').execute()).length).toBe(10);
    } finally {
      await source.close();
    }
  });

  it('a category policy that cannot run: one finding naming every table it cannot apply to (finding ids stay unique)', async () => {
    const { config, patterns } = loadConfigText(
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: t }`,
        'retention:',
        '  policies:',
        '    - { name: emails, category: contact.email, from: signed_up, period: 2y, method: erase, legalBasis: "2 years" }',
        '    - { name: orders, source: s, table: orders, from: total, period: 10y, legalMinimum: 11y, method: erase, legalBasis: "10 years" }',
      ].join('\n'),
      { file: 'steward.yml', cwd: process.cwd(), env: {} },
    );
    const report = await runAudit({ config, patterns, openSource: () => d.openSource(), now: () => now });
    const ids = report.findings.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    const invalid = report.findings.filter((f) => f.rule === 'retention.policy-invalid');
    expect(invalid.map((f) => f.message.match(/^Policy "([^"]+)"/)?.[1]).sort()).toEqual(['emails', 'orders']);
    const emails = invalid.find((f) => f.message.startsWith('Policy "emails"'))!;
    expect(emails.message).toMatch(/customers, which has none of the reference columns signed_up.*newsletter, which has none/);
    const orders = invalid.find((f) => f.message.startsWith('Policy "orders"'))!;
    expect(orders.message).toMatch(/not a date.*shorter than the legal minimum|shorter than the legal minimum.*not a date/);
  });
});
