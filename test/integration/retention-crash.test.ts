/**
 * Crash safety of `steward retention apply`: the built CLI is killed with
 * SIGKILL at a random moment after it has checkpointed a batch, at least ten times, and run again each time;
 * afterwards the kept rows are exactly the expected set (compared by checksum,
 * children included), and the one certificate of the run counts every erased
 * row exactly once. SQLite, and PostgreSQL when the server is up.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/state/index.js';
import { generateRecipient } from '../../src/archive/keys.js';
import { verifyArchiveSet } from '../../src/archive/verify.js';
import { runAndKillAfterProgress } from '../helpers/crash.js';
import { uniqueName } from '../helpers/dialects.js';
import { inject, PG_URL } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
const N = 20_000;
const KILLS = 10;
const VISITS = 100_000; // enough batches that kills land inside the first policy too
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-retcrash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);

// Every 10th customer is older than 2 years (30% with ids ≡ 0, 3, 7 mod 10); each has one order.
const expired = (id: number) => id % 10 === 0 || id % 10 === 3 || id % 10 === 7;
const checksum = (ids: Iterable<number>) => createHash('sha256').update([...ids].sort((a, b) => a - b).join(',')).digest('hex');

/** Runs `retention apply`; with a delay, SIGKILLs it that long after its first checkpoint (see test/helpers/crash.ts). */
function runCli(dir: string, killDelayMs: number | null) {
  return runAndKillAfterProgress({ bin: BIN, args: ['retention', 'apply'], cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stateDb: path.join(dir, '.steward', 'state.db'), delayMs: killDelayMs });
}

async function crashLoop(dir: string, kind: string, url: string, remaining: () => Promise<{ customers: number[]; orders: number[]; invoices: number[]; lines: number[]; visits: number[] }>): Promise<void> {
  const reader = generateRecipient();
  writeFileSync(
    path.join(dir, 'steward.yml'),
    [
      'sources:',
      `  - { name: s, kind: ${kind}, url: ${JSON.stringify(url)}, owner: t }`,
      'retention:',
      '  batchSize: 100',
      `  archive: { dir: archives, recipients: [${reader.publicKey}] }`,
      '  policies:',
      // No children: on Postgres the one-statement batches settled by transaction id after a kill.
      '    - { name: visits, source: s, table: visits, from: seen, period: 2y, method: erase, legalBasis: "no longer needed (GDPR Art. 5(1)(e))" }',
      '    - { name: invoices, source: s, table: invoices, from: issued, period: 10y, method: archive, cascade: [invoice_lines], legalBasis: "10 years (commercial law)" }',
      '    - { name: inactive, source: s, table: customers, from: last_seen, period: 2y, method: erase, cascade: [orders], legalBasis: "no longer needed (GDPR Art. 5(1)(e))" }',
    ].join('\n'),
  );
  const keep = Array.from({ length: N }, (_, i) => i + 1).filter((id) => !expired(id));
  const keepVisits = Array.from({ length: VISITS }, (_, i) => i + 1).filter((id) => !expired(id));
  let killed = 0;
  let midway = 0;
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let midwayVisits = 0;
  for (let i = 0; i < 60 && (killed < KILLS || midway === 0 || midwayVisits === 0); i++) {
    const r = await runCli(dir, Math.floor(rand() * 800)); // at a random point of what follows the first checkpoint
    if (r.signal === 'SIGKILL') killed++;
    else expect(r.code, r.stderr).toBe(0);
    const now = await remaining();
    const between = (n: number) => n < N && n > keep.length;
    if (between(now.customers.length) || between(now.invoices.length)) midway++; // a kill landed mid-run
    if (now.visits.length < VISITS && now.visits.length > keepVisits.length) midwayVisits++;
  }
  expect(killed).toBeGreaterThanOrEqual(KILLS);
  expect(midway).toBeGreaterThan(0);
  expect(midwayVisits).toBeGreaterThan(0);
  const last = await runCli(dir, null);
  expect(last.code, last.stderr).toBe(0);
  const after = await remaining();
  expect(checksum(after.customers)).toBe(checksum(keep));
  expect(checksum(after.visits)).toBe(checksum(keepVisits));
  // Invoices: the expired ones are gone, and each is in the archive set exactly once.
  expect(checksum(after.invoices)).toBe(checksum(keep));
  const { readdirSync } = await import('node:fs');
  const sets = readdirSync(path.join(dir, 'archives', 'invoices')).sort();
  // One run, resumed across every kill: the invoices' set, and beside it their lines'.
  expect(sets).toHaveLength(2);
  const runs = sets.filter((x) => !x.includes('.'));
  expect(sets[1]).toBe(`${runs[0]}.${kind === 'sqlite' ? 'main' : 'public'}.invoice_lines`);
  const lines = await verifyArchiveSet(path.join(dir, 'archives', 'invoices', sets[1]!), { privateKey: reader.identity });
  expect(lines.rows).toBe(N - keep.length); // one line per archived invoice, each exactly once
  expect(checksum(after.lines.map((l) => l - 200_000))).toBe(checksum(keep));
  const v = await verifyArchiveSet(path.join(dir, 'archives', 'invoices', runs[0]!), { privateKey: reader.identity });
  expect(v.rows).toBe(N - keep.length); // decrypted, counted, no key twice (verify checks)
  expect(checksum(after.orders.map((o) => o - 100_000))).toBe(checksum(keep));
  const store = await openStateStore({ url: path.join(dir, '.steward', 'state.db'), baseDir: dir });
  try {
    const certs = [];
    for await (const b of store.activityBatches({ action: 'retention.certificate' })) certs.push(...b);
    const erase = certs.filter((c) => (c.details as { policy: string }).policy === 'inactive');
    const total = erase.reduce((n, c) => n + Number((c.details as { rows: number }).rows), 0);
    const children = erase.reduce((n, c) => n + Number((c.details as { childRows: number }).childRows), 0);
    const archived = certs.filter((c) => (c.details as { policy: string }).policy === 'invoices');
    expect(archived.reduce((n, c) => n + Number((c.details as { rows: number }).rows), 0)).toBe(N - keep.length);
    expect((archived[0]!.details as { archive: { digest: string } }).archive.digest).toBe(v.digest);
    expect(total).toBe(N - keep.length); // every erased row counted exactly once, across all the kills
    const visits = certs.filter((c) => (c.details as { policy: string }).policy === 'visits');
    expect(visits.reduce((n, c) => n + Number((c.details as { rows: number }).rows), 0)).toBe(VISITS - keepVisits.length);
    expect(children).toBe(N - keep.length);
    expect((await store.verifyActivityLog()).ok).toBe(true);
  } finally {
    await store.close();
  }
}

describe.skipIf(!existsSync(BIN))('steward retention apply killed with SIGKILL and re-run (built CLI)', () => {
  it('SQLite: kept rows exactly the expected set; every erased row certified once', async () => {
    const dir = mkdtempSync(path.join(tmp, 'sqlite-'));
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.exec('create table customers (id integer primary key, email text, last_seen date); create table orders (id integer primary key, customer_id integer not null references customers(id)); create table invoices (id integer primary key, amount numeric, issued date); create table invoice_lines (id integer primary key, invoice_id integer not null references invoices(id), sku text); create table visits (id integer primary key, ip text, seen date)');
    const vis = db.prepare('insert into visits values (?, ?, ?)');
    const line = db.prepare('insert into invoice_lines values (?, ?, ?)');
    const inv = db.prepare('insert into invoices values (?, ?, ?)');
    const c = db.prepare('insert into customers values (?, ?, ?)');
    const o = db.prepare('insert into orders values (?, ?)');
    db.transaction(() => {
      for (let id = 1; id <= N; id++) {
        c.run(id, `c${id}@example.com`, expired(id) ? '2023-01-15' : '2026-10-01');
        o.run(100_000 + id, id);
        inv.run(id, id / 100, expired(id) ? '2010-01-01' : '2025-01-01');
        line.run(200_000 + id, id, `sku-${id}`);
      }
      for (let id = 1; id <= VISITS; id++) vis.run(id, `10.0.${id >> 8}.${id & 255}`, expired(id) ? '2023-01-15' : '2026-10-01');
    })();
    db.close();
    await crashLoop(dir, 'sqlite', file, async () => {
      const d = new Database(file); // a writer: it may have to roll back a hot journal
      try {
        return {
          customers: (d.prepare('select id from customers').all() as { id: number }[]).map((r) => r.id),
          orders: (d.prepare('select id from orders').all() as { id: number }[]).map((r) => r.id),
          invoices: (d.prepare('select id from invoices').all() as { id: number }[]).map((r) => r.id),
          lines: (d.prepare('select id from invoice_lines').all() as { id: number }[]).map((r) => r.id),
          visits: (d.prepare('select id from visits').all() as { id: number }[]).map((r) => r.id),
        };
      } finally {
        d.close();
      }
    });
  }, 600_000);

  it.skipIf(!inject('servers').postgres)('PostgreSQL: kept rows exactly the expected set; every erased row certified once', async () => {
    const dir = mkdtempSync(path.join(tmp, 'pg-'));
    const name = uniqueName();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      await client.query('create table customers (id integer primary key, email text, last_seen date); create table orders (id integer primary key, customer_id integer not null references customers(id))');
      await client.query(`insert into customers select i, 'c' || i || '@example.com', case when i % 10 in (0, 3, 7) then date '2023-01-15' else date '2026-10-01' end from generate_series(1, ${N}) i`);
      await client.query(`insert into orders select 100000 + i, i from generate_series(1, ${N}) i`);
      await client.query('create table invoices (id integer primary key, amount numeric(10,2), issued date)');
      await client.query(`insert into invoices select i, i / 100.0, case when i % 10 in (0, 3, 7) then date '2010-01-01' else date '2025-01-01' end from generate_series(1, ${N}) i`);
      await client.query('create table invoice_lines (id integer primary key, invoice_id integer not null references invoices(id), sku text)');
      await client.query(`insert into invoice_lines select 200000 + i, i, 'sku-' || i from generate_series(1, ${N}) i`);
      await client.query('create table visits (id integer primary key, ip text, seen date)');
      await client.query(`insert into visits select i, '10.0.0.' || (i % 250), case when i % 10 in (0, 3, 7) then date '2023-01-15' else date '2026-10-01' end from generate_series(1, ${VISITS}) i`);
      await crashLoop(dir, 'postgres', u.toString(), async () => ({
        customers: (await client.query('select id from customers')).rows.map((r: { id: number }) => r.id),
        orders: (await client.query('select id from orders')).rows.map((r: { id: number }) => r.id),
        invoices: (await client.query('select id from invoices')).rows.map((r: { id: number }) => r.id),
        lines: (await client.query('select id from invoice_lines')).rows.map((r: { id: number }) => r.id),
        visits: (await client.query('select id from visits')).rows.map((r: { id: number }) => r.id),
      }));
    } finally {
      await client.end();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  }, 600_000);
});
