/**
 * One erasure or correction at a time per state store (src/subjects/lease.ts), giving
 * up a run whose plan can no longer go on (`--abandon`), and keyed certificate digests:
 * - two erasures started together in one process run one after the other (the activity
 *   log shows the second planned after the first finished), so two people's plans never
 *   both see a row they share;
 * - a lease held by another live process refuses the run (exit 2, naming it); once that
 *   process is gone, the same command takes the lease over and runs;
 * - an erasure stopped after progress whose manifest was altered is refused on re-run
 *   (exit 2, "cannot go on", the remedy named); `--abandon` gives it up (logged with what
 *   it had done, no plan kept), and the next run plans again and finishes;
 * - a certificate's `keysHmacSha256` is not the plain SHA-256 of the keys (which a reader
 *   would undo by trying every id) and `subjectKeysDigest` recomputes it from the store.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { openStateStore } from '../../src/state/index.js';
import { subjectKeysDigest } from '../../src/subjects/rows.js';
import { runAndKillAfterProgress } from '../helpers/crash.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);
const PEOPLE = 12;
const ORDERS = 400; // person 1's (two lines each); everyone else has three

forEachDialect('subject lease and abandon (sla)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-sla-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stateDb = path.join(dir, '.steward', 'state.db');
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1' } });
    return { code, out: o.out(), err: o.err() };
  };
  const email = (i: number) => `person${i}@example.com`;
  const count = async (sql: string) => Number((await d.query<{ n: unknown }>(sql))[0]!.n);
  const rowsOf = async (t: string, order: string) => (await d.query(`select * from ${t} order by ${order}`)).map((r) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))));

  beforeAll(async () => {
    if (d.engine === 'pglite') return;
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table customers (id integer primary key, email varchar(120) not null unique, full_name ${text})`);
    await d.exec(`create table orders (id integer primary key, customer_id integer not null references customers(id), total integer)`);
    await d.exec(`create table order_items (order_id integer not null references orders(id), line_no integer not null, sku ${text}, primary key (order_id, line_no))`);
    const first = ['Emma', 'Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Sophia', 'Leo'];
    await d.exec(`insert into customers values ${Array.from({ length: PEOPLE }, (_, i) => `(${i + 1}, '${email(i + 1)}', '${first[i]} Smith')`).join(', ')}`);
    const orders: string[] = [];
    const items: string[] = [];
    let oid = 1;
    for (let p = 1; p <= PEOPLE; p++) {
      for (let j = 0; j < (p === 1 ? ORDERS : 3); j++, oid++) {
        orders.push(`(${oid}, ${p}, ${oid % 97})`);
        items.push(`(${oid}, 1, 'S${oid % 7}')`, `(${oid}, 2, 'S${oid % 5}')`);
      }
    }
    for (let i = 0; i < orders.length; i += 500) await d.exec(`insert into orders values ${orders.slice(i, i + 500).join(', ')}`);
    for (let i = 0; i < items.length; i += 500) await d.exec(`insert into order_items values ${items.slice(i, i + 500).join(', ')}`);
    writeFileSync(path.join(dir, 'steward.yml'), ['sources:', `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: shop-team }`].join('\n'));
    const audit = await run('audit');
    expect(audit.code, audit.err).toBe(0);
  }, 120_000);

  it.skipIf(d.engine === 'pglite')('two erasures started together in one process run one after the other', async () => {
    const [a, b] = await Promise.all([run('subject', 'erase', '--email', email(11)), run('subject', 'erase', '--email', email(12))]);
    expect(a.code, a.out + a.err).toBe(0);
    expect(b.code, b.out + b.err).toBe(0);
    expect(await count('select count(*) as n from customers where id in (11, 12)')).toBe(0);
    const log = await run('log', '--json');
    const entries = (JSON.parse(log.out) as { action: string; subject: { erasureId?: string } }[]).filter((e) => e.action === 'subject.erase.planned' || e.action === 'subject.erase.finished');
    // Oldest first or newest first: the order of the four entries, by erasure.
    const ids = entries.map((e) => e.subject.erasureId);
    expect(ids.length).toBe(4);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[2]);
  });

  it.skipIf(d.engine === 'pglite')('a lease another live process holds refuses the run, naming it; once it is gone the run takes it over', async () => {
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const db = new Database(stateDb);
      const n = db.prepare("update column_jobs set owner_host = ?, owner_pid = ? where id = 'subject-lease'").run(os.hostname(), holder.pid).changes;
      db.close();
      expect(n).toBe(1); // the lease record exists since the test above
      const before = await count('select count(*) as n from customers');
      const refused = await run('subject', 'erase', '--email', email(10));
      expect(refused.code, refused.out + refused.err).toBe(2);
      expect(refused.err).toContain(`pid ${holder.pid}`);
      expect(refused.err).toContain('one runs at a time');
      expect(await count('select count(*) as n from customers')).toBe(before);
      // A dry run reads only: it needs no lease.
      expect((await run('subject', 'erase', '--email', email(10), '--dry-run')).code).toBe(0);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    const taken = await run('subject', 'erase', '--email', email(10));
    expect(taken.code, taken.out + taken.err).toBe(0);
    expect(await count('select count(*) as n from customers where id = 10')).toBe(0);
  });

  it.skipIf(d.engine === 'pglite')('a stopped erasure whose manifest was altered: refused with the remedy; --abandon gives it up; the next run plans again and finishes', async () => {
    const others = async () => createHash('sha256').update((await rowsOf('order_items', 'order_id, line_no')).filter((r) => Number(JSON.parse(r)[0]) > ORDERS).join('\n')).digest('hex');
    const before = await others();
    const args = ['subject', 'erase', '--email', email(1), '--batch-size', '10'];
    const stopped = await runAndKillAfterProgress({ bin: BIN, args, cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stateDb, delayMs: 20, signal: 'SIGINT' });
    expect(stopped.code, stopped.stderr).toBe(130);
    const left = await count(`select count(*) as n from order_items where order_id <= ${ORDERS}`);
    expect(left).toBeGreaterThan(0);
    // Alter the sealed plan in the state store.
    const db = new Database(stateDb);
    const m = db.prepare("select id, options_json from column_jobs where operation = 'subject-erase' and table_name = 'erasure' and status = 'running'").get() as { id: string; options_json: string };
    const opts = JSON.parse(m.options_json) as { sealed: string };
    const raw = Buffer.from(opts.sealed, 'base64');
    raw[raw.length - 20]! ^= 1;
    db.prepare('update column_jobs set options_json = ? where id = ?').run(JSON.stringify({ ...opts, sealed: raw.toString('base64') }), m.id);
    db.close();

    const refused = await run(...args);
    expect(refused.code, refused.out + refused.err).toBe(2);
    expect(refused.out).toContain('cannot go on');
    expect(refused.out).toContain('--abandon');
    expect(await count(`select count(*) as n from order_items where order_id <= ${ORDERS}`)).toBe(left);

    expect((await run('subject', 'erase', '--email', email(1), '--abandon', '--dry-run')).code).toBe(2);
    const abandoned = await run('subject', 'erase', '--email', email(1), '--abandon');
    expect(abandoned.code, abandoned.out + abandoned.err).toBe(0);
    expect(abandoned.out).toContain('Abandoned the erasure');
    const after = new Database(stateDb, { readonly: true });
    const gone = after.prepare('select status, options_json from column_jobs where id = ?').get(m.id) as { status: string; options_json: string };
    const stages = after.prepare("select status from column_jobs where id like ? and id <> ?").all(`${m.id}:%`, m.id) as { status: string }[];
    after.close();
    expect(gone.status).toBe('failed');
    expect(JSON.parse(gone.options_json)).not.toHaveProperty('sealed');
    expect(stages.every((s) => s.status !== 'running')).toBe(true);
    const log = await run('log', '--action', 'subject.erase.abandoned', '--json');
    const entry = (JSON.parse(log.out) as { details: { steps: { stage: string; batchesDone: number }[] } }[])[0]!;
    expect(entry.details.steps.some((s) => s.stage === 'rows' && s.batchesDone > 0)).toBe(true);
    // Nothing left to abandon.
    expect((await run('subject', 'erase', '--email', email(1), '--abandon')).code).toBe(2);

    const again = await run(...args);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out).not.toContain('resumed');
    expect(await count(`select count(*) as n from order_items where order_id <= ${ORDERS}`)).toBe(0);
    expect(await count('select count(*) as n from customers where id = 1')).toBe(0);
    expect(await others()).toBe(before);
  }, 120_000);

  it.skipIf(d.engine === 'pglite')('certificate digests are keyed: not the plain SHA-256 of the keys, recomputed by subjectKeysDigest', async () => {
    const keys = (await d.query<{ id: unknown }>('select id from orders where customer_id = 9 order by id')).map((r) => ({ id: Number(r.id) }));
    expect(keys.length).toBe(3);
    const r = await run('subject', 'erase', '--email', email(9), '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const cert = (JSON.parse(r.out) as { certificates: { tables: { name: string; action: string; keysHmacSha256: string }[] }[] }).certificates[0]!;
    const orders = cert.tables.find((t) => t.name === 'orders' && t.action === 'delete')!;
    const plain = createHash('sha256').update(keys.map((k) => JSON.stringify([String(k.id)])).sort().join('\n')).digest('hex');
    expect(orders.keysHmacSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(orders.keysHmacSha256).not.toBe(plain);
    const store = await openStateStore({ url: stateDb, baseDir: dir });
    try {
      expect(await subjectKeysDigest(store, keys)).toBe(orders.keysHmacSha256);
      expect(await subjectKeysDigest(store, keys.slice(1))).not.toBe(orders.keysHmacSha256);
    } finally {
      await store.close();
    }
  });
});
