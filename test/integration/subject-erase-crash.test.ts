/**
 * Crash safety of `steward subject erase`: the built CLI is killed with SIGKILL at a
 * random moment after it has checkpointed a batch, at least ten times, and run again
 * each time. Afterwards the subject's rows are exactly what the plan says (deleted,
 * anonymised, redacted), every other subject's rows are unchanged by checksum, and the
 * one certificate counts each erased row once.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { openStateStore } from '../../src/state/index.js';
import { runAndKillAfterProgress } from '../helpers/crash.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);
const KILLS = 10;
const OTHERS = 120;
const ORDERS = 5000; // the subject's; two lines each
const TICKETS = 400;
const INVOICES = 150;
const MENTIONS = 200; // other people's tickets that quote the subject's email

forEachDialect('subject erase killed and resumed (sec)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-secrash-${d.kind}-`));
  afterAll(() => (process.env.KEEP ? console.log("KEPT", dir) : rmSync(dir, { recursive: true, force: true })));
  const first = ['Emma', 'Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Sophia', 'Leo', 'Grace'];
  const last = ['Smith', 'Jones', 'Taylor', 'Brown', 'Wilson', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Green', 'Hall', 'Wood'];
  const str = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));
  const rowsOf = async (t: string, order: string) => (await d.query(`select * from ${t} order by ${order}`)).map((r) => JSON.stringify(Object.values(r).map(str)));
  const checksum = (xs: string[]) => createHash('sha256').update(xs.join('\n')).digest('hex');
  const ALICE = 1;

  async function insert(table: string, rows: string[]) {
    for (let i = 0; i < rows.length; i += 500) await d.exec(`insert into ${table} values ${rows.slice(i, i + 500).join(', ')}`);
  }

  beforeAll(async () => {
    if (d.engine === 'pglite') return;
    const text = d.pick({ postgres: 'text', mysql: 'varchar(300)', sqlite: 'text' });
    await d.exec(`create table customers (id integer primary key, email varchar(120) not null unique, phone ${text}, full_name ${text})`);
    await d.exec(`create table orders (id integer primary key, customer_id integer not null references customers(id), total integer)`);
    await d.exec(`create table order_items (order_id integer not null references orders(id), line_no integer not null, sku ${text}, primary key (order_id, line_no))`);
    await d.exec(`create table tickets (id integer primary key, customer_id integer references customers(id), body ${text})`);
    await d.exec(`create table invoices (id integer primary key, customer_id integer not null references customers(id), billing_email ${text}, issued ${text})`);
    const people = [[ALICE, 'alice@example.com', '+44 20 7946 0001', 'Alice Archer']];
    for (let i = 0; i < OTHERS; i++) people.push([i + 10, `p${i}@example.org`, `+44 20 7946 ${String(1000 + i)}`, `${first[i % 13]} ${last[(i * 5) % 13]}`]);
    await insert('customers', people.map((p) => `(${p[0]}, '${p[1]}', '${p[2]}', '${p[3]}')`));
    const orders: string[] = [];
    const items: string[] = [];
    let oid = 1;
    const addOrder = (cid: number) => {
      orders.push(`(${oid}, ${cid}, ${oid % 97})`);
      items.push(`(${oid}, 1, 'S${oid % 7}')`, `(${oid}, 2, 'S${oid % 5}')`);
      oid++;
    };
    for (let i = 0; i < ORDERS; i++) addOrder(ALICE);
    for (let i = 0; i < OTHERS; i++) for (let j = 0; j < 3; j++) addOrder(i + 10);
    await insert('orders', orders);
    await insert('order_items', items);
    const tickets: string[] = [];
    let tid = 1;
    for (let i = 0; i < TICKETS; i++) tickets.push(`(${tid++}, ${ALICE}, 'My order number ${i} has still not arrived, please help')`);
    for (let i = 0; i < MENTIONS; i++) tickets.push(`(${tid++}, ${10 + (i % OTHERS)}, 'My friend alice@example.com says hello (${i})')`);
    for (let i = 0; i < OTHERS; i++) tickets.push(`(${tid++}, ${10 + i}, 'Please write to p${i}@example.org instead')`);
    await insert('tickets', tickets);
    const invoices: string[] = [];
    let iid = 1;
    for (let i = 0; i < INVOICES; i++) invoices.push(`(${iid++}, ${ALICE}, 'alice@example.com', '2026-0${1 + (i % 9)}-01')`);
    for (let i = 0; i < OTHERS; i++) invoices.push(`(${iid++}, ${10 + i}, 'p${i}@example.org', '2026-01-01')`);
    await insert('invoices', invoices);
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: shop-team }`,
        'retention:',
        '  policies:',
        '    - { name: invoices, source: shop, table: invoices, from: issued, period: 6y, method: erase, legalMinimum: 5y, legalBasis: "commercial law: 5 years" }',
      ].join('\n'),
    );
    const o = captureIo(dir);
    expect(await main(['audit'], { ...o, env: { NO_COLOR: '1' } }), o.err()).toBe(0);
  }, 180_000);

  it.skipIf(d.engine === 'pglite')(`killed ${KILLS} times after progress, re-run to the end: exact rows, others unchanged, one certificate`, async () => {
    const others = async () => ({
      customers: checksum((await rowsOf('customers', 'id')).filter((r) => JSON.parse(r)[0] !== String(ALICE))),
      orders: checksum((await rowsOf('orders', 'id')).filter((r) => JSON.parse(r)[1] !== String(ALICE))),
      items: checksum((await rowsOf('order_items', 'order_id, line_no')).filter((r) => Number(JSON.parse(r)[0]) > ORDERS)),
      tickets: checksum((await rowsOf('tickets', 'id')).filter((r) => Number(JSON.parse(r)[0]) > TICKETS + MENTIONS)),
      invoices: checksum((await rowsOf('invoices', 'id')).filter((r) => JSON.parse(r)[1] !== String(ALICE))),
    });
    const before = await others();
    const left = async () => Number((await d.query<{ n: unknown }>(`select count(*) as n from order_items where order_id <= ${ORDERS}`))[0]!.n);
    const cli = (delay: number | null) =>
      runAndKillAfterProgress({ bin: BIN, args: ['subject', 'erase', '--email', 'alice@example.com', '--batch-size', '10'], cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stateDb: path.join(dir, '.steward', 'state.db'), delayMs: delay });
    // Ctrl-C after progress: stops after the batch in flight, exit 130, logged; the same command resumes.
    const int = await runAndKillAfterProgress({ bin: BIN, args: ['subject', 'erase', '--email', 'alice@example.com', '--batch-size', '10'], cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stateDb: path.join(dir, '.steward', 'state.db'), delayMs: 50, signal: 'SIGINT' });
    expect(int.code, int.stderr).toBe(130);
    expect(int.stderr).toContain('stopping after the batch in flight');
    let killed = 0;
    let midway = 0;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 60 && (killed < KILLS || midway === 0); i++) {
      const r = await cli(Math.floor(rand() * 250));
      if (r.signal === 'SIGKILL') killed++;
      else if (r.code !== 0) {
        // Say why: the plan's problems go to stdout, which the kill helper does not keep.
        const o = captureIo(dir);
        await main(['subject', 'erase', '--email', 'alice@example.com', '--dry-run'], { ...o, env: { NO_COLOR: '1' } });
        expect(r.code, `${r.stderr}\n${o.out()}\n${o.err()}`).toBe(0);
      }
      const n = await left();
      if (n > 0 && n < ORDERS * 2) midway++;
    }
    expect(killed).toBeGreaterThanOrEqual(KILLS);
    expect(midway).toBeGreaterThan(0);
    const last = await cli(null);
    expect(last.code, last.stderr).toBe(0);

    // The subject: exactly what the plan says.
    expect(await left()).toBe(0);
    expect(Number((await d.query<{ n: unknown }>(`select count(*) as n from orders where customer_id = ${ALICE}`))[0]!.n)).toBe(0);
    expect(Number((await d.query<{ n: unknown }>(`select count(*) as n from tickets where id <= ${TICKETS}`))[0]!.n)).toBe(0);
    const inv = await d.query<{ billing_email: unknown }>(`select billing_email from invoices where customer_id = ${ALICE}`);
    expect(inv.length).toBe(INVOICES);
    expect(inv.every((x) => x.billing_email === null)).toBe(true);
    const alice = (await d.query<{ email: string; phone: unknown; full_name: unknown }>(`select email, phone, full_name from customers where id = ${ALICE}`))[0]!;
    expect(alice.email).toMatch(/^erased-[0-9a-f]{16}@erased\.invalid$/);
    expect([alice.phone, alice.full_name]).toEqual([null, null]);
    const mentions = await d.query<{ body: string }>(`select body from tickets where id > ${TICKETS} and id <= ${TICKETS + MENTIONS} order by id`);
    expect(mentions.map((m) => m.body)).toEqual(Array.from({ length: MENTIONS }, (_, i) => `My friend [redacted] says hello (${i})`));
    // Everyone else: unchanged.
    expect(await others()).toEqual(before);

    // One certificate, each row once.
    const store = await openStateStore({ url: `sqlite://${path.join(dir, '.steward', 'state.db')}`, baseDir: dir });
    const list = async (action: string) => {
      const out = [];
      for await (const b of store.activityBatches({ action })) out.push(...b);
      return out;
    };
    try {
      const certs = await list('subject.erasure-certificate');
      expect(certs.length).toBe(1);
      const tables = (certs[0]!.details as { tables: { name: string; action: string; rows: number }[] }).tables;
      const count = (name: string, action: string) => tables.find((t) => t.name === name && t.action === action)?.rows;
      expect(count('order_items', 'delete')).toBe(ORDERS * 2);
      expect(count('orders', 'delete')).toBe(ORDERS);
      expect(count('tickets', 'delete')).toBe(TICKETS);
      expect(count('tickets', 'redact')).toBe(MENTIONS);
      expect(count('invoices', 'anonymise')).toBe(INVOICES);
      expect(count('customers', 'anonymise')).toBe(1);
      expect((await list('subject.erase.finished')).length).toBe(1);
      const interrupted = [...(await list('subject.erase.rows.interrupted')), ...(await list('subject.erase.text.interrupted'))];
      // SIGKILL leaves no entry (the resumed runs say so); the Ctrl-C run left one, with its counts and no value.
      expect(interrupted.length).toBe(1);
      for (const e of interrupted) expect((e.details as { error?: string }).error).toBe('INTERRUPTED');
      const resumed = (await list('subject.erase.rows.started')).filter((e) => (e.details as { resumed?: boolean }).resumed);
      expect(resumed.length + (await list('subject.erase.text.started')).filter((e) => (e.details as { resumed?: boolean }).resumed).length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 600_000);
});
