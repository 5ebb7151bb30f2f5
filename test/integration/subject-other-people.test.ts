/**
 * Rows a link reaches that belong to another person (find.ts `otherPeople`), per dialect:
 * - Alice's order 11 was shipped to Bob's address. From Bob, the address leads down to
 *   that order, its lines and its invoice (whose billing email is Alice's). They are
 *   Alice's: Bob's find lists them under otherPeople, does not take Alice's email as
 *   Bob's (no merge), his access export leaves them out, and his erasure leaves them as
 *   they were (the address stays, shared with Alice's order);
 * - Bob and Carol share an account (accounts.email is Bob's); Carol's user row hangs off
 *   it with her own email: a person of her own, never merged or erased with Bob.
 * Before the fix, erasing Bob deleted Alice's order, its lines and invoice, and Carol.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

forEachDialect('subject rows of other people (sop)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-sop-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1' } });
    return { code, out: o.out(), err: o.err() };
  };
  const TABLES = { customers: 'id', addresses: 'id', orders: 'id', order_items: 'order_id, line_no', invoices: 'id', accounts: 'id', users: 'id' } as const;
  const dump = async () => {
    const out: Record<string, string[]> = {};
    for (const [t, order] of Object.entries(TABLES)) out[t] = (await d.query(`select * from ${t} order by ${order}`)).map((r) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v)))));
    return out;
  };
  const keysOf = (rows: { name: string; key: Record<string, unknown> }[]) => rows.map((r) => `${r.name}:${Object.values(r.key).map(String).join('/')}`).sort();

  beforeAll(async () => {
    if (d.engine === 'pglite') return;
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table customers (id integer primary key, email varchar(120) not null unique, full_name ${text})`);
    await d.exec(`create table addresses (id integer primary key, customer_id integer not null references customers(id), street ${text})`);
    await d.exec(`create table orders (id integer primary key, customer_id integer references customers(id), shipping_address_id integer references addresses(id), total integer)`);
    await d.exec(`create table order_items (order_id integer not null references orders(id), line_no integer not null, sku ${text}, primary key (order_id, line_no))`);
    await d.exec(`create table invoices (id integer primary key, order_id integer not null references orders(id), billing_email ${text}, amount integer)`);
    await d.exec(`create table accounts (id integer primary key, email varchar(120) not null unique, plan ${text})`);
    await d.exec(`create table users (id integer primary key, account_id integer not null references accounts(id), email varchar(120) not null unique, full_name ${text})`);
    const people = ['alice', 'bob', 'carol', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jon', 'kim', 'lea'];
    const names = ['Alice Archer', 'Bob Baker', 'Carol Clark', 'Dan Dole', 'Eve Evans', 'Fay Ford', 'Gus Grant', 'Hal Hughes', 'Ivy Irwin', 'Jon Jones', 'Kim Kerr', 'Lea Lowe'];
    await d.exec(`insert into customers values ${people.map((p, i) => `(${i + 1}, '${p}@example.com', '${names[i]}')`).join(', ')}`);
    await d.exec(`insert into addresses values ${people.map((_, i) => `(${i + 1}, ${i + 1}, '${i + 1} Oak Road, London')`).join(', ')}`);
    // Order 11 is Alice's (customer 1), shipped to Bob's address 2 (a gift). Order 12 is Bob's.
    await d.exec(`insert into orders values (10, 1, 1, 5), (11, 1, 2, 7), (12, 2, 2, 9), ${people.slice(2).map((_, i) => `(${20 + i}, ${i + 3}, ${i + 3}, 1)`).join(', ')}`);
    await d.exec(`insert into order_items values (10, 1, 'L1'), (11, 1, 'D2'), (11, 2, 'D3'), (12, 1, 'L1'), ${people.slice(2).map((_, i) => `(${20 + i}, 1, 'S${i}')`).join(', ')}`);
    await d.exec(`insert into invoices values (110, 11, 'alice@example.com', 7), (120, 12, 'bob@example.com', 9), ${people.slice(2).map((p, i) => `(${200 + i}, ${20 + i}, '${p}@example.com', 1)`).join(', ')}`);
    // Account 7 is Bob's; Carol (another person, her own email) uses it too.
    await d.exec(`insert into accounts values (7, 'bob@example.com', 'family'), ${people.slice(3).map((p, i) => `(${30 + i}, '${p}@example.com', 'solo')`).join(', ')}`);
    await d.exec(`insert into users values (70, 7, 'bob@example.com', 'Bob Baker'), (71, 7, 'carol@example.com', 'Carol Clark'), ${people.slice(3).map((p, i) => `(${80 + i}, ${30 + i}, '${p}@example.com', '${names[i + 3]}')`).join(', ')}`);
    writeFileSync(path.join(dir, 'steward.yml'), ['sources:', `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: shop-team }`].join('\n'));
    const audit = await run('audit');
    expect(audit.code, audit.err).toBe(0);
  }, 120_000);

  it.skipIf(d.engine === 'pglite')("find: Bob's rows exactly; Alice's order (and what hangs off it) and Carol are other people's, not merged", async () => {
    const r = await run('subject', 'find', '--email', 'bob@example.com', '--json');
    expect(r.code, r.err).toBe(0);
    const found = JSON.parse(r.out) as { rows: { name: string; key: Record<string, unknown> }[]; otherPeople?: { name: string; key: Record<string, unknown>; reason: string }[]; identifiers: { value: string }[] };
    expect(keysOf(found.rows)).toEqual(['accounts:7', 'addresses:2', 'customers:2', 'invoices:120', 'order_items:12/1', 'orders:12', 'users:70'].sort());
    expect(keysOf(found.otherPeople ?? [])).toEqual(['orders:11', 'users:71']);
    expect(found.identifiers.map((i) => i.value)).not.toContain('alice@example.com');
    expect(found.identifiers.map((i) => i.value)).not.toContain('carol@example.com');
    const human = await run('subject', 'find', '--email', 'bob@example.com');
    expect(human.out).toContain("2 row(s) a link reached are another person's");
    expect(human.out.toLowerCase()).not.toContain('alice@');
  });

  it.skipIf(d.engine === 'pglite')("erase Bob: Alice's order, its lines and invoice, and Carol stay as they were; the address stays, shared", async () => {
    const before = await dump();
    const dry = await run('subject', 'erase', '--email', 'bob@example.com', '--dry-run', '--json');
    expect(dry.code, dry.err + dry.out).toBe(0);
    const plan = JSON.parse(dry.out) as { plan: { rows: { name: string; key: Record<string, unknown>; action: string }[] } };
    const acts = plan.plan.rows.map((x) => `${x.name}:${Object.values(x.key).map(String).join('/')}=${x.action}`).sort();
    expect(acts.filter((a) => /^(orders:11|order_items:11\/|invoices:110|users:71|customers:1|customers:3)/.test(a))).toEqual([]);
    expect(acts).toContain('addresses:2=shared');
    expect(acts).toContain('accounts:7=shared');
    expect(acts).toContain('orders:12=delete');
    const r = await run('subject', 'erase', '--email', 'bob@example.com');
    expect(r.code, r.out + r.err).toBe(0);
    const after = await dump();
    const row = (db: Record<string, string[]>, t: string, id: string) => db[t]!.find((x) => (JSON.parse(x) as string[])[0] === id);
    // Alice's and Carol's rows: exactly as before.
    expect(row(after, 'orders', '11')).toEqual(row(before, 'orders', '11'));
    expect(after.order_items!.filter((x) => (JSON.parse(x) as string[])[0] === '11')).toEqual(before.order_items!.filter((x) => (JSON.parse(x) as string[])[0] === '11'));
    expect(row(after, 'invoices', '110')).toEqual(row(before, 'invoices', '110'));
    expect(row(after, 'users', '71')).toEqual(row(before, 'users', '71'));
    expect(row(after, 'customers', '1')).toEqual(row(before, 'customers', '1'));
    expect(row(after, 'customers', '3')).toEqual(row(before, 'customers', '3'));
    // Bob's own: gone, or anonymised where a kept row points at them.
    expect(row(after, 'orders', '12')).toBeUndefined();
    expect(row(after, 'invoices', '120')).toBeUndefined();
    expect(row(after, 'users', '70')).toBeUndefined();
    expect(row(after, 'addresses', '2')).toEqual(row(before, 'addresses', '2'));
    expect(JSON.stringify(after.customers)).not.toContain('bob@example.com');
    expect(JSON.stringify(after.users)).not.toContain('bob@example.com');
    // Everyone else: unchanged.
    const others = (db: Record<string, string[]>) => Object.fromEntries(Object.entries(db).map(([t, rs]) => [t, rs.filter((x) => !['2', '7', '12', '70', '120'].includes((JSON.parse(x) as string[])[0]!))]));
    expect(others(after)).toEqual(others(before));
  });
});
