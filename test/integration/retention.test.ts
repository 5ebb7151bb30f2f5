/**
 * Retention on every database: erase along a foreign-key chain, cleanup in
 * place, held rows kept, rows exactly at the boundary, NULL reference dates
 * never deleted (counted), policies refused before anything runs, and the
 * deletion certificate in the activity log.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyPolicy, batchDigest, planPolicy, type RetentionContext } from '../../src/retention/apply.js';
import { validatePolicies, type RetentionPolicy } from '../../src/retention/policy.js';
import { HASH_PREFIX } from '../../src/retention/cleanup.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { UsageError } from '../../src/errors.js';
import { createSecretKey } from 'node:crypto';
import { forEachDialect } from '../helpers/dialects.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { generateRecipient } from '../../src/archive/keys.js';
import { verifyArchiveSet } from '../../src/archive/verify.js';
import { loadConfigText } from '../../src/config/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-ret-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const now = new Date('2026-11-27T12:00:00Z'); // 2y cut-off: 2024-11-27T12:00:00Z

const policy = (p: Partial<RetentionPolicy> & Pick<RetentionPolicy, 'name' | 'table' | 'from' | 'method'>): RetentionPolicy => ({ source: 's', period: '2y', legalBasis: 'GDPR Art. 5(1)(e)', cascade: [], ...p });

forEachDialect('retention', (d) => {
  let store: StateStore;
  const ctx = async (p: RetentionPolicy, extra: Partial<RetentionContext> = {}): Promise<RetentionContext> => ({
    source: await d.openSource(),
    store,
    policy: p,
    index: 0,
    actor: 'test',
    now: () => now,
    batchSize: 7,
    ...extra,
  });
  const ids = async (table: string) => (await d.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => Number(r.id));

  beforeAll(async () => {
    store = await openStateStore({ url: path.join(tmp, `${d.kind}-${d.engine}.db`), baseDir: tmp });
    const ts = d.pick({ postgres: 'timestamp', mysql: 'datetime', sqlite: 'datetime' });
    const date = d.pick({ postgres: 'date', mysql: 'date', sqlite: 'date' });
    await d.exec(
      [
        `create table customers (id integer primary key, email varchar(100), last_activity ${date})`,
        `create table orders (id integer primary key, customer_id integer not null references customers(id), total integer)`,
        `create table order_items (id integer primary key, order_id integer not null references orders(id), sku varchar(20))`,
        `create table tickets (id integer primary key, email varchar(100), body text, birth ${date}, postcode varchar(10), closed_at ${ts})`,
        `create table loose (note varchar(20), at ${date})`,
      ].join(';\n'),
    );
    // Customers 1..40: activity from 2024-11-07 to 2024-12-16 (one per day); 41: never active (NULL).
    const day = (i: number) => new Date(Date.UTC(2024, 10, 7 + i)).toISOString().slice(0, 10);
    await d.db.insertInto('customers').values(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, email: `c${i + 1}@example.com`, last_activity: day(i) }))).execute();
    await d.db.insertInto('customers').values({ id: 41, email: 'never@example.com', last_activity: null }).execute();
    await d.db.insertInto('orders').values(Array.from({ length: 41 }, (_, i) => ({ id: 100 + i, customer_id: i + 1, total: i }))).execute();
    await d.db.insertInto('order_items').values(Array.from({ length: 41 }, (_, i) => ({ id: 1000 + i, order_id: 100 + i, sku: `s${i}` }))).execute();
    await d.db
      .insertInto('tickets')
      .values(
        Array.from({ length: 30 }, (_, i) => ({
          id: i + 1,
          email: `t${i + 1}@example.com`,
          body: `Please call me, ticket ${i + 1}`,
          birth: `19${70 + (i % 20)}-0${1 + (i % 9)}-1${i % 10}`,
          postcode: `SW1A ${i}AA`,
          closed_at: i < 20 ? '2026-07-01 10:00:00' : '2026-11-01 10:00:00',
        })),
      )
      .execute();
    await d.db.insertInto('loose').values({ note: 'x', at: '2020-01-01' }).execute();
  });
  afterAll(async () => store?.close());

  it('refuses impossible policies before anything runs, naming each problem', async () => {
    const source = await d.openSource();
    try {
      const tables = await source.introspect();
      const bad = [
        policy({ name: 'nochildren', table: 'customers', from: 'last_activity', method: 'erase' }),
        policy({ name: 'clash', table: 'tickets', from: 'closed_at', method: 'erase' }),
        policy({ name: 'clash2', table: 'tickets', from: 'closed_at', method: 'erase', period: '3y' }),
        // Anonymising after 3 months beside erasing after 2 years is one plan, not a clash.
        policy({ name: 'anon', table: 'tickets', from: 'closed_at', method: 'cleanup', period: '3m', cleanup: { email: 'null' } }),
        policy({ name: 'tooshort', table: 'orders', from: 'total', method: 'erase', period: '1y', legalMinimum: '6y', cascade: ['order_items'] }),
        policy({ name: 'nokey', table: 'loose', from: 'at', method: 'erase' }),
        policy({ name: 'ghost', table: 'nosuch', from: 'x', method: 'erase' }),
        policy({ name: 'badcol', table: 'tickets', from: 'closed_at', method: 'cleanup', where: 'id > 100', cleanup: { nope: 'null' } }),
      ];
      const problems = validatePolicies(bad, (p) => bad.indexOf(p), tables).map((p) => `${p.policy}: ${p.message}`);
      expect(problems.some((m) => /^nochildren: .*orders references .*customers/.test(m))).toBe(true);
      expect(problems.some((m) => /^clash2: policies "clash" and "clash2" both cover rows/.test(m))).toBe(true);
      expect(problems.some((m) => /^anon:/.test(m))).toBe(false);
      expect(problems.some((m) => /^tooshort: the period 1y is shorter than the legal minimum 6y/.test(m))).toBe(true);
      expect(problems.some((m) => /^tooshort: column "total" .* not a date/.test(m))).toBe(true);
      expect(problems.some((m) => /^nokey: erase works row by row in key order, and .*loose has no primary key/.test(m))).toBe(true);
      expect(problems.some((m) => /^ghost: table "nosuch" does not exist/.test(m))).toBe(true);
      expect(problems.some((m) => /^badcol: column "nope" does not exist/.test(m))).toBe(true);
      await expect(applyPolicy(await ctx(bad[0]!))).rejects.toBeInstanceOf(UsageError);
      expect(await ids('customers')).toHaveLength(41);
    } finally {
      await source.close();
    }
  });

  it('the audit shows data past its period, and rows without a reference date, as findings', async () => {
    const { config, patterns } = loadConfigText(
      [
        'sources:',
        `  - { name: s, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: t }`,
        'retention:',
        '  policies:',
        '    - { name: inactive, source: s, table: customers, from: last_activity, period: 2y, method: erase, cascade: [orders, order_items], legalBasis: "GDPR Art. 5(1)(e)" }',
      ].join('\n'),
      { file: 'steward.yml', cwd: process.cwd(), env: {} },
    );
    const report = await runAudit({ config, patterns, openSource: () => d.openSource(), now: () => now });
    const ret = report.findings.filter((f) => f.rule.startsWith('retention.'));
    expect(ret.map((f) => `${f.rule} ${f.severity} ${f.location.table}`).sort()).toEqual(['retention.no-reference-date low customers', 'retention.overdue-data medium customers']);
    expect(ret.find((f) => f.rule === 'retention.overdue-data')!.message).toContain('21 row(s)');
    expect(ret.find((f) => f.rule === 'retention.overdue-data')!.remedy).toContain('steward retention apply --policy inactive --dry-run');
  });

  it('erases customers past 2 years with their orders and items, children first; the boundary day is due, the held and the undated are kept', async () => {
    const p = policy({ name: 'inactive', table: 'customers', from: 'last_activity', method: 'erase', cascade: ['orders', 'order_items'] });
    const held = { exclude: sql`not (${sql.ref('id')} = 5)`, wholeTable: false };
    const c = await ctx(p, { holds: async () => held });
    try {
      const plan = await planPolicy(c);
      // Days 2024-11-07 … 2024-11-27 are on or before the cut-off: 21 customers (id 1..21).
      expect(plan).toMatchObject({ due: 21, held: 1, nullReference: 1, oldest: expect.stringMatching(/^2024-11-07/) });
      expect(plan.children).toEqual([
        { table: expect.stringMatching(/orders$/), rows: 20 },
        { table: expect.stringMatching(/order_items$/), rows: 20 },
      ].reverse().sort((a, b) => (a.table < b.table ? 1 : -1)));
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 20, childRows: 40, method: 'erase', remaining: 1, held: 1 });
      const keep = [5, ...Array.from({ length: 20 }, (_, i) => 22 + i)];
      expect(await ids('customers')).toEqual(keep);
      expect((await ids('orders')).map((o) => o - 99)).toEqual(keep);
      expect((await ids('order_items')).map((o) => o - 999)).toEqual(keep);
      // The certificate's key hash is the chain over the batches of deleted keys, in key order.
      // With children, batches are sized so a transaction touches about batchSize rows in all:
      // the first takes 7 due customers (1–8 but the held 5) with their 14 orders and items, so
      // the next ones take floor(7 × 7 / 21) = 2 customers each (6 rows).
      const deleted = Array.from({ length: 21 }, (_, i) => i + 1).filter((i) => i !== 5);
      const batches = [deleted.slice(0, 7), ...Array.from({ length: 7 }, (_, i) => deleted.slice(7 + 2 * i, 9 + 2 * i))];
      let h = '0'.repeat(64);
      for (const keys of batches) {
        const batch = createHash('sha256');
        for (const k of keys) batch.update(JSON.stringify([String(k)])).update('\n');
        h = createHash('sha256').update(h).update(batch.digest('hex')).digest('hex');
      }
      expect(cert.keysSha256).toBe(h);
      expect(cert.batches).toBe(8);
      const log = [];
      for await (const b of store.activityBatches({ action: 'retention.certificate' })) log.push(...b);
      expect(log.at(-1)?.details).toMatchObject({ policy: 'inactive', rows: 20, keysSha256: cert.keysSha256 });
      // Run again: nothing more is due but the held row.
      const again = await applyPolicy(c);
      expect(again.rows).toBe(0);
      expect(await ids('customers')).toEqual(keep);
    } finally {
      await c.source.close();
    }
  });

  it('erases a table without children (Postgres: one statement per batch, keys hashed in the database): boundary, held and undated rows; the key hash equals Steward\'s own', async () => {
    await d.exec(`create table visits (id integer primary key, ip varchar(40), seen ${d.pick({ postgres: 'date', mysql: 'date', sqlite: 'date' })})`);
    const day = (i: number) => new Date(Date.UTC(2024, 10, 7 + i)).toISOString().slice(0, 10);
    // 1..40 one per day from 2024-11-07 (1..21 due, 21 exactly on the cut-off day), 41 undated.
    await d.db.insertInto('visits').values([...Array.from({ length: 40 }, (_, i) => ({ id: i + 1, ip: `10.0.0.${i + 1}`, seen: day(i) })), { id: 41, ip: '10.0.0.41', seen: null }]).execute();
    const c = await ctx(policy({ name: 'visits', table: 'visits', from: 'seen', method: 'erase' }), { holds: async () => ({ exclude: sql`not (${sql.ref('id')} = 9)`, wholeTable: false }) });
    try {
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 20, childRows: 0, remaining: 1, held: 1 });
      expect(await ids('visits')).toEqual([9, ...Array.from({ length: 20 }, (_, i) => 22 + i)]);
      // The chain over the batches, each the digest of its keys in key order (computed here, in
      // JavaScript; Postgres computes it in SQL). Postgres erased the one block in one batch.
      const deleted = Array.from({ length: 21 }, (_, i) => [i + 1]).filter(([k]) => k !== 9);
      const size = d.kind === 'postgres' ? deleted.length : 7;
      let h = '0'.repeat(64);
      for (let i = 0; i < deleted.length; i += size) h = createHash('sha256').update(h).update(batchDigest(deleted.slice(i, i + size))).digest('hex');
      expect(cert.batches).toBe(d.kind === 'postgres' ? 1 : 3);
      expect(cert.keysSha256).toBe(h);
    } finally {
      await c.source.close();
    }
  });

  it('a run killed after its certificate, before its job was marked done: the next run finishes the job and writes no second certificate', async () => {
    await d.exec('create table stamps (id integer primary key, seen date)');
    await d.db.insertInto('stamps').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, seen: '2020-01-01' }))).execute();
    const p = policy({ name: 'stamps', table: 'stamps', from: 'seen', method: 'erase' });
    const c = await ctx(p);
    try {
      // The state a kill leaves in that window: the job still running, its certificate in the log.
      const at = now.toISOString();
      const jobId = '00000000-0000-4000-8000-00000000cafe';
      await store.jobs.create({ id: jobId, source: c.source.name, table: 'stamps', target: 'policy:stamps', operation: 'retention', status: 'running', pass: 1, lastKey: null, counts: { rows: 10 }, options: { cutoff: at }, owner: null, startedAt: at, updatedAt: at, finishedAt: null } as never);
      await store.appendActivity({ actor: 'test', action: 'retention.certificate', subject: { jobId, source: c.source.name, table: 'stamps', policy: 'stamps' }, details: { runId: jobId, policy: 'stamps', rows: 10, childRows: 0, batches: 2, finishedAt: at } });
      const count = async () => {
        let n = 0;
        for await (const b of store.activityBatches({ action: 'retention.certificate' })) n += b.filter((e) => (e.subject as { jobId?: string }).jobId === jobId).length;
        return n;
      };
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ runId: jobId, rows: 10 });
      expect(await count()).toBe(1);
      expect(await store.jobs.open({ source: c.source.name, table: 'stamps', target: 'policy:stamps' }, 'retention')).toBeNull();
      // The rows the (pretend) run had not reached are due still: a new run takes them, with its own certificate.
      const next = await applyPolicy(c);
      expect(next).toMatchObject({ rows: 10 });
      expect(next.runId).not.toBe(jobId);
    } finally {
      await c.source.close();
    }
  });

  it('erases on a two-column integer key; the key hash equals Steward\'s own', async () => {
    await d.exec(`create table pairs (a integer not null, b integer not null, seen date, primary key (a, b))`);
    await d.db.insertInto('pairs').values(Array.from({ length: 12 }, (_, i) => ({ a: i % 3, b: 100 - i, seen: i % 2 === 0 ? '2020-01-01' : '2026-01-01' }))).execute();
    const c = await ctx(policy({ name: 'pairs', table: 'pairs', from: 'seen', method: 'erase' }), { batchSize: 100 });
    try {
      const cert = await applyPolicy(c);
      const deleted = Array.from({ length: 12 }, (_, i) => i).filter((i) => i % 2 === 0).map((i) => [i % 3, 100 - i]).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
      expect(cert).toMatchObject({ rows: 6, batches: 1 });
      expect(cert.keysSha256).toBe(createHash('sha256').update('0'.repeat(64)).update(batchDigest(deleted)).digest('hex'));
      expect(Number((await d.db.selectFrom('pairs').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n)).toBe(6);
    } finally {
      await c.source.close();
    }
  });

  it.skipIf(d.kind !== 'postgres')('Postgres: a batch cut by a crash whose transaction this server never ran (failover, restore) is done again, not counted', async () => {
    await d.exec(`create table taps (id integer primary key, seen date not null); insert into taps select i, date '2020-01-01' from generate_series(1, 12) i`);
    const c = await ctx(policy({ name: 'taps', table: 'taps', from: 'seen', method: 'erase' }));
    try {
      const at = now.toISOString();
      // A job left by a run on the old primary: its last batch's transaction id is beyond anything this server has seen.
      await store.jobs.create({ id: '00000000-0000-4000-8000-0000000000aa', source: c.source.name, table: 'taps', target: 'policy:taps', operation: 'retention', status: 'running', pass: 1, lastKey: null, counts: { rows: 0, childRows: 0, batches: 0 }, options: { cutoff: '2024-11-27T12:00:00.000Z', keysSha256: '0'.repeat(64), startedAt: at, pending: { txid: '4000000000000', rows: 12, childRows: 0, digest: 'f'.repeat(64), nextBlock: 1 } }, owner: null, startedAt: at, updatedAt: at, finishedAt: null } as never);
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ runId: '00000000-0000-4000-8000-0000000000aa', rows: 12, remaining: 0 });
      expect(cert.unsettled).toBeUndefined();
      expect(await d.db.selectFrom('taps').select('id').execute()).toEqual([]);
    } finally {
      await c.source.close();
    }
  });

  it.skipIf(d.kind !== 'postgres')('Postgres: a partitioned table is erased row by row in key order (tuple ids repeat across partitions)', async () => {
    await d.exec(`create table events (id integer not null, region integer not null, seen date not null, primary key (id, region)) partition by list (region);
      create table events_1 partition of events for values in (1);
      create table events_2 partition of events for values in (2);
      insert into events select i, 1 + i % 2, case when i % 3 = 0 then date '2020-01-01' else date '2026-01-01' end from generate_series(1, 60) i;`);
    const c = await ctx(policy({ name: 'events', table: 'events', from: 'seen', method: 'erase' }), { batchSize: 1 });
    try {
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 20, remaining: 0, batches: 20 }); // one row per batch, as asked
      const left = (await d.db.selectFrom('events').select('id').orderBy('id').execute()).map((r) => Number(r.id));
      expect(left).toEqual(Array.from({ length: 60 }, (_, i) => i + 1).filter((i) => i % 3 !== 0));
    } finally {
      await c.source.close();
    }
  });

  it.skipIf(d.kind !== 'postgres')('Postgres: a row that becomes due behind the block pass while it runs is erased by the closing key-order pass', async () => {
    await d.exec(`create table pings (id integer primary key, seen date not null); insert into pings select i, case when i <= 10 then date '2020-01-01' else date '2026-01-01' end from generate_series(1, 30) i`);
    const source = await d.openSource();
    let touched = false;
    const c = await ctx(policy({ name: 'pings', table: 'pings', from: 'seen', method: 'erase' }), {
      source,
      onProgress: async () => {
        if (touched) return;
        touched = true;
        // The application, mid-run: row 5 is already gone; row 25 (block 0, passed) becomes due.
        await d.exec(`update pings set seen = date '2020-02-02' where id = 25`);
      },
    });
    try {
      const cert = await applyPolicy(c);
      expect(touched).toBe(true);
      expect(await ids('pings')).not.toContain(25);
      expect(cert).toMatchObject({ rows: 11, remaining: 0 });
    } finally {
      await source.close();
    }
  });

  it('archives invoices past their period to an encrypted set, verified with the private key, before deleting them', async () => {
    await d.exec(d.pick({
      postgres: 'create table invoices (id integer primary key, customer varchar(60), amount numeric(10,2), issued date)',
      mysql: 'create table invoices (id integer primary key, customer varchar(60), amount decimal(10,2), issued date)',
      sqlite: 'create table invoices (id integer primary key, customer text, amount numeric, issued date)',
    }));
    await d.db.insertInto('invoices').values(Array.from({ length: 25 }, (_, i) => ({ id: i + 1, customer: `Customer ${i + 1}`, amount: `${i + 1}.50`, issued: i < 15 ? '2015-03-01' : '2025-03-01' }))).execute();
    const reader = generateRecipient();
    const dir = mkdtempSync(path.join(tmp, `arch-${d.kind}-`));
    const p = policy({ name: 'invoices', table: 'invoices', from: 'issued', method: 'archive', period: '10y', legalMinimum: '10y' });
    const c = await ctx(p, { archive: { dir, recipients: [reader.publicKey] } });
    try {
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 15, method: 'archive', remaining: 0 });
      expect(cert.archive).toMatchObject({ chunks: 3, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(await ids('invoices')).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));
      const v = await verifyArchiveSet(cert.archive!.dir, { privateKey: reader.identity, expectedDigest: cert.archive!.digest });
      expect(v).toMatchObject({ rows: 15, decrypted: true });
      // Without a recipient configured, an archive policy is refused before anything runs.
      await expect(applyPolicy(await ctx(p))).rejects.toThrow(/no recipient public key/);
    } finally {
      await c.source.close();
    }
  });

  it('archives invoices with their lines (cascade): each table in its own set, children written first, both deleted, both restored', async () => {
    await d.exec(
      [
        `create table bills (id integer primary key, customer varchar(60), issued date)`,
        `create table bill_lines (id integer primary key, bill_id integer not null references bills(id), sku varchar(20), qty integer)`,
      ].join(';\n'),
    );
    await d.db.insertInto('bills').values(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, customer: `Customer ${i + 1}`, issued: i < 12 ? '2014-06-01' : '2025-06-01' }))).execute();
    // Two lines per bill.
    await d.db.insertInto('bill_lines').values(Array.from({ length: 40 }, (_, i) => ({ id: 1000 + i, bill_id: (i % 20) + 1, sku: `sku-${i}`, qty: i }))).execute();
    const snapshot = async () => JSON.stringify([await d.db.selectFrom('bills').selectAll().orderBy('id').execute(), await d.db.selectFrom('bill_lines').selectAll().orderBy('id').execute()]);
    const before = await snapshot();
    const reader = generateRecipient();
    const dir = mkdtempSync(path.join(tmp, `arch-cascade-${d.kind}-`));
    const p = policy({ name: 'bills', table: 'bills', from: 'issued', method: 'archive', period: '10y', cascade: ['bill_lines'] });
    const c = await ctx(p, { archive: { dir, recipients: [reader.publicKey] } });
    try {
      const plan = await planPolicy(c);
      expect(plan.children).toEqual([{ table: expect.stringMatching(/bill_lines$/), rows: 24 }]);
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 12, childRows: 24, remaining: 0 });
      expect(await ids('bills')).toEqual(Array.from({ length: 8 }, (_, i) => 13 + i));
      expect((await ids('bill_lines')).every((id) => ((id - 1000) % 20) + 1 > 12)).toBe(true);
      const child = cert.archive!.children!;
      expect(child).toHaveLength(1);
      expect(child[0]!.table).toMatch(/bill_lines$/);
      expect(await verifyArchiveSet(cert.archive!.dir, { privateKey: reader.identity, expectedDigest: cert.archive!.digest })).toMatchObject({ rows: 12 });
      expect(await verifyArchiveSet(child[0]!.dir, { privateKey: reader.identity, expectedDigest: child[0]!.digest })).toMatchObject({ rows: 24 });
      // A lawful restore: parents first, then their lines; everything is back as it was.
      const { restoreArchiveSet } = await import('../../src/archive/restore.js');
      expect(await restoreArchiveSet(cert.archive!.dir, { privateKey: reader.identity, source: c.source })).toMatchObject({ inserted: 12 });
      expect(await restoreArchiveSet(child[0]!.dir, { privateKey: reader.identity, source: c.source })).toMatchObject({ inserted: 24 });
      expect(await snapshot()).toBe(before);
    } finally {
      await c.source.close();
    }
  });

  it('archives users with every row that references them: a child with two keys to the parent, and a grandchild that also references the root', async () => {
    await d.exec(
      [
        'create table members (id integer primary key, seen date)',
        'create table notes (id integer primary key, sender integer not null references members(id), recipient integer references members(id))',
        'create table baskets (id integer primary key, member_id integer not null references members(id))',
        'create table basket_items (id integer primary key, basket_id integer not null references baskets(id), member_id integer not null references members(id))',
      ].join(';\n'),
    );
    // Members 1..10; 1..4 are due.
    await d.db.insertInto('members').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, seen: i < 4 ? '2020-01-01' : '2026-01-01' }))).execute();
    // Note i: from member i to member 11 - i (so 1..4 are senders of 4 notes and recipients of 4 others).
    await d.db.insertInto('notes').values(Array.from({ length: 10 }, (_, i) => ({ id: 100 + i, sender: i + 1, recipient: 10 - i }))).execute();
    await d.db.insertInto('baskets').values(Array.from({ length: 10 }, (_, i) => ({ id: 200 + i, member_id: i + 1 }))).execute();
    // Item j of basket (200 + j) is put there by member (10 - j): items of a due basket, and items a due member put in a kept basket.
    await d.db.insertInto('basket_items').values(Array.from({ length: 10 }, (_, i) => ({ id: 300 + i, basket_id: 200 + i, member_id: 10 - i }))).execute();
    const reader = generateRecipient();
    const dir = mkdtempSync(path.join(tmp, `arch-fk2-${d.kind}-`));
    const p = policy({ name: 'members', table: 'members', from: 'seen', method: 'archive', period: '2y', cascade: ['notes', 'baskets', 'basket_items'] });
    const c = await ctx(p, { archive: { dir, recipients: [reader.publicKey] } });
    try {
      // notes: sent by 1..4 (ids 100..103) or received by 1..4 (ids 106..109); baskets 200..203;
      // basket_items: in baskets 200..203 (300..303) or put by members 1..4 (306..309).
      const plan = await planPolicy(c);
      expect(Object.fromEntries(plan.children.map((ch) => [ch.table.split('.').pop(), ch.rows]))).toEqual({ notes: 8, baskets: 4, basket_items: 8 });
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 4, childRows: 20, remaining: 0 });
      const left = async (t: string) => (await d.db.selectFrom(t).select('id').orderBy('id').execute()).map((r) => Number(r.id));
      expect(await left('members')).toEqual([5, 6, 7, 8, 9, 10]);
      expect(await left('notes')).toEqual([104, 105]);
      expect(await left('baskets')).toEqual([204, 205, 206, 207, 208, 209]);
      expect(await left('basket_items')).toEqual([304, 305]);
      const sets = Object.fromEntries(cert.archive!.children!.map((ch) => [ch.table.split('.').pop(), ch]));
      for (const [t, n] of [['notes', 8], ['baskets', 4], ['basket_items', 8]] as const) {
        expect(await verifyArchiveSet(sets[t]!.dir, { privateKey: reader.identity, expectedDigest: sets[t]!.digest }), t).toMatchObject({ rows: n });
      }
    } finally {
      await c.source.close();
    }
  });

  it('an archive run killed after finishing its set, before its certificate: the next run certifies it and archives nothing more into the finished set', async () => {
    await d.exec('create table slips (id integer primary key, issued date)');
    await d.db.insertInto('slips').values(Array.from({ length: 6 }, (_, i) => ({ id: i + 1, issued: '2010-01-01' }))).execute();
    const reader = generateRecipient();
    const dir = mkdtempSync(path.join(tmp, `arch-finished-${d.kind}-`));
    const p = policy({ name: 'slips', table: 'slips', from: 'issued', method: 'archive', period: '10y' });
    const c = await ctx(p, { archive: { dir, recipients: [reader.publicKey] } });
    try {
      // The state such a kill leaves: the job running, its set finished (here: empty), no certificate.
      const at = now.toISOString();
      const jobId = '00000000-0000-4000-8000-0000000000bb';
      await store.jobs.create({ id: jobId, source: c.source.name, table: 'slips', target: 'policy:slips', operation: 'retention', status: 'running', pass: 1, lastKey: null, counts: { rows: 0, childRows: 0, batches: 0 }, options: { cutoff: '2016-11-27T12:00:00.000Z', keysSha256: '0'.repeat(64), startedAt: at }, owner: null, startedAt: at, updatedAt: at, finishedAt: null } as never);
      const { openArchiveSet } = await import('../../src/archive/set.js');
      const table = (await c.source.introspect()).find((t) => t.name === 'slips')!;
      const set = await openArchiveSet({ dir: path.join(dir, 'slips', jobId), recipients: [reader.publicKey], source: c.source.name, table: { schema: table.schema, name: table.name }, primaryKey: table.primaryKey, columns: table.columns, runId: jobId, policy: 'slips' });
      const finished = await set.finish();
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ runId: jobId, rows: 0, remaining: 6 });
      expect(cert.archive?.digest).toBe(finished.digest);
      expect(await ids('slips')).toHaveLength(6); // kept, for the next run (and its own set)
      const next = await applyPolicy(c);
      expect(next).toMatchObject({ rows: 6, remaining: 0 });
      expect(next.archive!.dir).not.toBe(cert.archive!.dir);
    } finally {
      await c.source.close();
    }
  });

  it('an archive target that cannot be written: the run fails with the reason and deletes nothing', async () => {
    await d.exec(d.pick({
      postgres: 'create table receipts (id integer primary key, amount integer, issued date)',
      mysql: 'create table receipts (id integer primary key, amount integer, issued date)',
      sqlite: 'create table receipts (id integer primary key, amount integer, issued date)',
    }));
    await d.db.insertInto('receipts').values(Array.from({ length: 12 }, (_, i) => ({ id: i + 1, amount: i, issued: '2010-01-01' }))).execute();
    const blocker = path.join(tmp, `not-a-dir-${d.kind}-${d.engine}`);
    writeFileSync(blocker, 'a file where the archive directory should be');
    const c = await ctx(policy({ name: 'receipts', table: 'receipts', from: 'issued', method: 'archive', period: '10y' }), { archive: { dir: blocker, recipients: [generateRecipient().publicKey] } });
    try {
      await expect(applyPolicy(c)).rejects.toThrow(/archive|directory|not a directory|ENOTDIR|EEXIST/i);
      expect(await ids('receipts')).toHaveLength(12);
    } finally {
      await c.source.close();
    }
  });

  it.skipIf(d.kind !== 'postgres' || d.engine !== 'server')('time zones: timestamptz compares as an instant whatever the session time zone', async () => {
    await d.exec(`create table sessions (id integer primary key, ended timestamptz not null);
      insert into sessions values (1, '2024-11-27 12:59:59+01'), (2, '2024-11-27 13:00:00+01'), (3, '2024-11-27 13:00:01+01'), (4, '2024-11-27 07:00:00-05');`);
    // The cut-off is 2024-11-27T12:00:00Z: rows 1, 2 and 4 (07:00-05 = 12:00Z) are due, 3 is one second late.
    const u = new URL(d.url!);
    u.searchParams.set('options', '-c TimeZone=Pacific/Auckland');
    const { openSource } = await import('../../src/sources/index.js');
    const source = await openSource({ name: 's', kind: 'postgres', url: u.toString() });
    try {
      const plan = await planPolicy({ source, policy: policy({ name: 'tz', table: 'sessions', from: 'ended', method: 'erase' }), index: 0, actor: 't', now: () => now });
      expect(plan.due).toBe(3);
    } finally {
      await source.close();
    }
  });

  it.skipIf(d.kind === 'postgres')('time zones: MySQL TIMESTAMP compares as an instant whatever the session time zone; SQLite text timestamps with an offset are read as instants', async () => {
    // The cut-off is 2024-11-27T12:00:00Z.
    if (d.kind === 'mysql') {
      // Written in a +01:00 session: 12:59:59+01 and 13:00:00+01 are due (11:59:59Z, 12:00:00Z), 13:00:01+01 is not.
      await d.exec(`create table visits_tz (id integer primary key, ended timestamp not null);
        set time_zone = '+01:00';
        insert into visits_tz values (1, '2024-11-27 12:59:59'), (2, '2024-11-27 13:00:00'), (3, '2024-11-27 13:00:01');
        set time_zone = '-05:00';
        insert into visits_tz values (4, '2024-11-27 07:00:00'), (5, '2024-11-27 07:00:01');`);
    } else {
      await d.exec(`create table visits_tz (id integer primary key, ended datetime not null);
        insert into visits_tz values (1, '2024-11-27T12:59:59+01:00'), (2, '2024-11-27T13:00:00+01:00'), (3, '2024-11-27T13:00:01+01:00'), (4, '2024-11-27 07:00:00-05:00'), (5, '2024-11-27T07:00:01-05:00');`);
    }
    const source = await d.openSource();
    try {
      // Whatever zone Steward's own session has: ask the plan from a session set far away, too.
      if (d.kind === 'mysql') await sql`set time_zone = '+13:00'`.execute(source.db);
      const plan = await planPolicy({ source, policy: policy({ name: 'tz', table: 'visits_tz', from: 'ended', method: 'erase' }), index: 0, actor: 't', now: () => now });
      expect(plan.due).toBe(3); // 1, 2 and 4
    } finally {
      await source.close();
    }
  });

  it('cleans up closed tickets in place: null, hash, year, prefix — idempotent, so a re-run changes nothing', async () => {
    const key = createSecretKey(Buffer.alloc(32, 7));
    const p = policy({ name: 'tickets', table: 'tickets', from: 'closed_at', method: 'cleanup', period: '3m', cleanup: { email: 'hash', body: 'null', birth: 'year', postcode: 'prefix:4' } });
    const c = await ctx(p, { hashKey: async () => key });
    try {
      const plan = await planPolicy(c);
      expect(plan.due).toBe(20); // closed 2026-07-01, cut-off 2026-08-27
      const cert = await applyPolicy(c);
      expect(cert).toMatchObject({ rows: 20, method: 'cleanup' });
      const rows = await d.db.selectFrom('tickets').selectAll().orderBy('id').execute();
      for (const r of rows.slice(0, 20)) {
        expect(String(r.email)).toMatch(new RegExp(`^${HASH_PREFIX}[0-9a-f]{32}$`));
        expect(r.body).toBeNull();
        expect(String(r.birth instanceof Date ? r.birth.toISOString() : r.birth)).toMatch(/^19\d\d-01-01/);
        expect(String(r.postcode)).toBe('SW1A');
      }
      for (const r of rows.slice(20)) expect(String(r.email)).toMatch(/^t\d+@example\.com$/);
      // The same plaintext hashes to the same value (statistics keep working), and a re-run changes nothing.
      const again = await applyPolicy(c);
      expect(again.rows).toBe(0);
      expect(await d.db.selectFrom('tickets').selectAll().orderBy('id').execute()).toEqual(rows);
    } finally {
      await c.source.close();
    }
  });
});
