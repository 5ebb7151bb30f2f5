/**
 * `steward subject erase` per dialect, on a shop with a CRM beside it (SQLite, no
 * foreign key, joined by email): the dry run's plan (what goes, what stays and why),
 * then the erasure, checked row by row: deleted children first, an invoice under a
 * 5-year legal minimum anonymised in place with the order and the customer it points
 * at, a held order kept, an address another customer also uses kept as shared, a
 * referral of another customer unlinked, a ticket that quotes the email redacted; a
 * unique NOT NULL email masked to a unique, well-formed placeholder; every other
 * subject's rows unchanged by checksum; the certificate counts rows once and holds no
 * identifier. Bad input: nobody, two people, a column renamed since the audit.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

forEachDialect('data-subject erasure (sub)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-era-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const crm = path.join(dir, 'crm.db');
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1' } });
    return { code, out: o.out(), err: o.err() };
  };
  const TABLES = ['customers', 'addresses', 'orders', 'order_items', 'subscriptions', 'invoices', 'tickets', 'visits', 'newsletters'];
  const dump = async () => {
    const out: Record<string, Record<string, unknown>[]> = {};
    for (const t of TABLES) out[t] = (await d.query(`select * from ${t}`)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));
    const db = new Database(crm, { readonly: true });
    out['crm.contacts'] = (db.prepare('select * from contacts').all() as Record<string, unknown>[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));
    out['crm.notes'] = (db.prepare('select * from notes').all() as Record<string, unknown>[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));
    db.close();
    return out;
  };
  const idOf = (t: string, r: Record<string, unknown>) => (t === 'order_items' ? `${r.order_id}/${r.line_no}` : t === 'subscriptions' ? `${r.customer_id}/${r.newsletter_id}` : String(r.id));
  const sorted = (rows: Record<string, unknown>[], t: string) => [...rows].sort((a, b) => idOf(t, a).localeCompare(idOf(t, b)));
  const checksum = (rows: Record<string, unknown>[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  let before: Record<string, Record<string, unknown>[]>;

  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    const email = d.pick({ postgres: 'varchar(120)', mysql: 'varchar(120)', sqlite: 'varchar(120)' });
    const int = 'integer';
    await d.exec(`create table customers (id ${int} primary key, email ${email} not null unique, phone ${text}, full_name ${text}, referred_by ${int} references customers(id))`);
    await d.exec(`create table addresses (id ${int} primary key, customer_id ${int} not null references customers(id), street ${text})`);
    await d.exec(`create table orders (id ${int} primary key, customer_id ${int} references customers(id), shipping_address_id ${int} references addresses(id), total ${int})`);
    await d.exec(`create table order_items (order_id ${int} not null references orders(id), line_no ${int} not null, sku ${text}, primary key (order_id, line_no))`);
    await d.exec(`create table newsletters (id ${int} primary key, title ${text})`);
    await d.exec(`create table subscriptions (customer_id ${int} not null references customers(id), newsletter_id ${int} not null references newsletters(id), primary key (customer_id, newsletter_id))`);
    await d.exec(`create table invoices (id ${int} primary key, order_ref ${int}, billing_email ${text}, issued ${text}, amount ${int})`);
    await d.exec(`create table tickets (id ${int} primary key, customer_id ${int} references customers(id), body ${text})`);
    await d.exec(`create table visits (id ${int} primary key, email ${text}, page ${text})`);
    const people = [
      [1, 'alice@example.com', '+44 20 7946 0001', 'Alice Archer', 'null'],
      [2, 'bob@example.com', '+44 20 7946 0002', 'Bob Baker', 'null'],
      [3, 'carol@example.com', '020 7946 0002', 'Carol Baker', 'null'],
      [4, 'dave@example.com', '+44 20 7946 0004', 'Dave Dean', '1'],
    ] as const;
    const first = ['Emma', 'Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Sophia', 'Leo', 'Grace'];
    const last = ['Smith', 'Jones', 'Taylor', 'Brown', 'Wilson', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Green', 'Hall', 'Wood'];
    const filler = Array.from({ length: 26 }, (_, i) => [i + 10, `p${i}@example.org`, `+44 20 7946 1${String(i).padStart(3, '0')}`, `${first[i % 13]} ${last[(i * 5) % 13]}`, 'null'] as const);
    await d.exec(`insert into customers values ${[...people, ...filler].map((p) => `(${p[0]}, '${p[1]}', '${p[2]}', '${p[3]}', ${p[4]})`).join(', ')}`);
    await d.exec(`insert into addresses values (1, 1, '1 Elm Street, London SW1A 1AA'), (2, 2, '2 Oak Road, London SW1A 2AA'), (3, 3, '2 Oak Road, London SW1A 2AA')`);
    await d.exec(`insert into addresses values ${filler.map((p, i) => `(${p[0]}, ${p[0]}, '${i + 3} High Street, London SW1A ${i % 9}AB')`).join(', ')}`);
    // Alice's order 11 went to Bob's address (a gift): that address is Bob's too.
    await d.exec(`insert into orders values (10, 1, 1, 5), (11, 1, 2, 7), (12, 2, 2, 9), (13, 1, 1, 3)`);
    await d.exec(`insert into order_items values (10, 1, 'L1'), (10, 2, 'D2'), (11, 1, 'D2'), (12, 1, 'L1'), (13, 1, 'L1')`);
    await d.exec(`insert into newsletters values (100, 'News'), (101, 'Deals')`);
    await d.exec(`insert into subscriptions values (1, 100), (2, 100), (2, 101)`);
    // Invoice 500 (Alice's order 10) is recent: kept 5 years. Invoice 502 (order 13) is old: erasable.
    await d.exec(`insert into invoices values (500, 10, 'alice@example.com', '2026-11-01', 5), (501, 12, 'bob@example.com', '2026-10-01', 9), (502, 13, 'alice@example.com', '2015-01-01', 3)`);
    await d.exec(`insert into invoices values ${filler.map((p, i) => `(${600 + i}, null, '${p[1]}', '2026-01-01', 1)`).join(', ')}`);
    await d.exec(`insert into tickets values (1, 1, 'My lamp is broken'), (2, 2, 'Please also update the account of ALICE@example.com, my sister'), (3, 2, 'Where is my desk?')`);
    await d.exec(`insert into tickets values ${filler.slice(0, 12).map((p, i) => `(${i + 20}, ${p[0]}, 'Hello, please write to ${p[1]} instead')`).join(', ')}`);
    await d.exec(`insert into visits values (1, 'ALICE@Example.com', '/lamps'), (2, 'bob@example.com', '/desks'), (3, 'zed@example.com', '/')`);

    const db = new Database(crm);
    db.exec(`create table contacts (id integer primary key, email text, phone text, full_name text);
      create table notes (id integer primary key, contact_id integer, note text);`);
    const ins = db.prepare('insert into contacts values (?, ?, ?, ?)');
    ins.run(1, 'Alice@Example.com', '+442079460001', 'Alice A.');
    ins.run(2, 'zed@example.com', '+442079469999', 'Zed Z.');
    ins.run(3, null, '020 7946 0001', 'A. Archer');
    for (let i = 4; i <= 30; i++) ins.run(i, `c${i}@example.net`, `+44 20 7946 2${String(i).padStart(3, '0')}`, `Contact ${i}`);
    const note = db.prepare('insert into notes values (?, ?, ?)');
    for (let i = 1; i <= 30; i++) note.run(i, i, `note ${i}`);
    db.close();

    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: shop-team }`,
        `  - { name: crm, kind: sqlite, url: ${JSON.stringify(`sqlite://${crm}`)}, owner: sales }`,
        'subjects:',
        '  defaultCountry: GB',
        '  links:',
        '    - { source: shop, from: invoices.order_ref, to: orders.id }',
        'retention:',
        '  policies:',
        '    - { name: invoices, source: shop, table: invoices, from: issued, period: 6y, method: erase, legalMinimum: 5y, legalBasis: "commercial law: 5 years" }',
      ].join('\n'),
    );
    const audit = await run('audit');
    expect(audit.code, audit.err).toBe(0);
    const hold = await run('hold', 'add', '--source', 'shop', '--table', 'order_items', '--where', 'order_id = 11', '--reason', 'Case 2026-CV-7: disputed delivery');
    expect(hold.code, hold.err).toBe(0);
    before = await dump();
  });

  it.skipIf(d.engine === 'pglite')('bad input: nobody (a valid answer), a malformed email, two people (nothing erased)', async () => {
    const nobody = await run('subject', 'erase', '--email', 'nobody@example.com', '--dry-run');
    expect(nobody.code, nobody.err).toBe(0);
    expect(nobody.out).toContain('No data found');
    const bad = await run('subject', 'erase', '--email', 'not-an-email', '--dry-run');
    expect(bad.code).toBe(2);
    // Bob's and Carol's phones are the same number written two ways: two people.
    const two = await run('subject', 'erase', '--phone', '+44 20 7946 0002');
    expect(two.code, two.out + two.err).toBe(1);
    expect(two.out).toContain('Nothing erased');
    expect(await dump()).toEqual(before);
  });

  it.skipIf(d.engine === 'pglite')('the dry run: every row set with its action and reason, nothing changed', async () => {
    const r = await run('subject', 'erase', '--email', 'alice@example.com', '--dry-run', '--json');
    expect(r.code, r.err + r.out).toBe(0);
    const res = JSON.parse(r.out) as { problems: string[]; plan: { rows: { source: string; name: string; key: Record<string, unknown>; action: string; reason: string; otherOwners?: number }[] } };
    expect(res.problems).toEqual([]);
    const act = (s: string, t: string) =>
      Object.fromEntries(
        res.plan.rows
          .filter((x) => x.source === s && x.name === t)
          .map((x) => [Object.values(x.key).map(String).join('/'), x.action])
          .sort(),
      );
    expect(act('shop', 'customers')).toEqual({ 1: 'anonymise', 4: 'unlink' });
    expect(act('shop', 'orders')).toEqual({ 10: 'keep', 11: 'keep', 13: 'delete' });
    expect(act('shop', 'order_items')).toEqual({ '10/1': 'delete', '10/2': 'delete', '11/1': 'keep', '13/1': 'delete' });
    expect(act('shop', 'addresses')).toEqual({ 1: 'anonymise', 2: 'shared' });
    expect(act('shop', 'invoices')).toEqual({ 500: 'anonymise', 502: 'delete' });
    expect(act('shop', 'subscriptions')).toEqual({ '1/100': 'delete' });
    expect(act('shop', 'tickets')).toEqual({ 1: 'delete', 2: 'redact' });
    expect(act('shop', 'visits')).toEqual({ 1: 'delete' });
    expect(act('crm', 'contacts')).toEqual({ 1: 'delete', 3: 'delete' });
    expect(act('crm', 'notes')).toEqual({ 1: 'delete', 3: 'delete' });
    const row = (t: string, k: string) => res.plan.rows.find((x) => x.name === t && Object.values(x.key).map(String).join('/') === k)!;
    expect(row('invoices', '500').reason).toContain('legal minimum');
    expect(row('order_items', '11/1').reason).toContain('legal hold');
    expect(row('addresses', '2').otherOwners).toBeGreaterThanOrEqual(1);
    expect(row('orders', '10').reason).toContain('invoices');
    expect(await dump()).toEqual(before);
    const human = await run('subject', 'erase', '--email', 'alice@example.com', '--dry-run');
    expect(human.out).toContain('dry run: nothing was changed');
    expect(human.out).not.toContain('alice@example.com');
  });

  it.skipIf(d.engine === 'pglite')('the erasure: exact rows left, anonymised and redacted values, other people unchanged, a certificate without identifiers', async () => {
    const r = await run('subject', 'erase', '--email', 'alice@example.com', '--batch-size', '2');
    expect(r.code, r.err + r.out).toBe(0);
    const after = await dump();
    const keys = (t: string) => after[t]!.map((x) => idOf(t, x)).sort();
    const get = (t: string, id: string) => after[t]!.find((x) => idOf(t, x) === id)!;
    expect(keys('orders')).toEqual(['10', '11', '12']);
    expect(keys('order_items')).toEqual(['11/1', '12/1']);
    expect(keys('subscriptions')).toEqual(['2/100', '2/101']);
    expect(keys('tickets')).not.toContain('1');
    expect(get('tickets', '2').body).toBe('Please also update the account of [redacted], my sister');
    expect(keys('visits')).toEqual(['2', '3']);
    expect(keys('invoices')).not.toContain('502');
    expect(get('invoices', '500')).toMatchObject({ order_ref: '10', amount: '5', billing_email: null });
    const alice = get('customers', '1');
    expect(alice.email).toMatch(/^erased-[0-9a-f]{16}@erased\.invalid$/); // NOT NULL UNIQUE: a unique, well-formed placeholder
    expect(alice.phone).toBeNull();
    expect(alice.full_name).toBeNull();
    expect(get('customers', '4').referred_by).toBeNull();
    expect(get('addresses', '1').street).toBeNull();
    expect(get('addresses', '2')).toEqual(before.addresses!.find((x) => x.id === '2'));
    expect(after['crm.contacts']!.map((x) => x.id).sort()).not.toContain('1');
    expect(after['crm.contacts']!.map((x) => x.id)).not.toContain('3');
    expect(after['crm.notes']!.map((x) => x.id)).not.toContain('1');
    // Everyone else: unchanged, by checksum.
    const mine: Record<string, Set<string>> = { customers: new Set(['1', '4']), addresses: new Set(['1']), orders: new Set(['10', '11', '13']), order_items: new Set(['10/1', '10/2', '11/1', '13/1']), subscriptions: new Set(['1/100']), invoices: new Set(['500', '502']), tickets: new Set(['1', '2']), visits: new Set(['1']), newsletters: new Set(), 'crm.contacts': new Set(['1', '3']), 'crm.notes': new Set(['1', '3']) };
    for (const t of Object.keys(before)) {
      const others = (rows: Record<string, unknown>[]) => sorted(rows.filter((x) => !mine[t]!.has(idOf(t, x))), t);
      expect(checksum(others(after[t]!)), t).toBe(checksum(others(before[t]!)));
    }
    // The certificate: each row once, no identifier, no key.
    const log = await run('log', '--action', 'subject.erasure-certificate', '--json');
    expect(log.code, log.err).toBe(0);
    const text = log.out;
    expect(text.toLowerCase()).not.toContain('alice');
    const entries = JSON.parse(text) as { details: { source: string; tables: { name: string; action: string; rows: number; keysHmacSha256: string }[] } }[];
    const shop = entries.find((e) => e.details.source === 'shop')!.details.tables;
    expect(shop.find((t) => t.name === 'order_items' && t.action === 'delete')!.rows).toBe(3);
    expect(shop.find((t) => t.name === 'customers' && t.action === 'anonymise')!.rows).toBe(1);
    expect(entries.find((e) => e.details.source === 'crm')!.details.tables.find((t) => t.name === 'contacts')!.rows).toBe(2);
    // Nothing of Alice in the state store.
    const state = readFileSync(path.join(dir, '.steward', 'state.db'));
    expect(state.includes(Buffer.from('alice@example.com'))).toBe(false);
    // Done: a second run finds nobody.
    const again = await run('subject', 'erase', '--email', 'alice@example.com');
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('No data found');
  });

  it.skipIf(d.engine === 'pglite')('correct: the dry run, a unique value already taken stops it, then every row holding the email in every table changes', async () => {
    const snapshot = await dump();
    const taken = await run('subject', 'correct', '--email', 'bob@example.com', '--set', 'contact.email=carol@example.com');
    expect(taken.code, taken.out + taken.err).toBe(2);
    expect(taken.out).toContain('would fail');
    expect(await dump()).toEqual(snapshot);
    const bad = await run('subject', 'correct', '--email', 'bob@example.com', '--set', 'email=not-an-email');
    expect(bad.code).toBe(2);
    const dry = await run('subject', 'correct', '--email', 'bob@example.com', '--set', 'contact.email=Bob@New.example', '--dry-run', '--json');
    expect(dry.code, dry.err + dry.out).toBe(0);
    const plan = JSON.parse(dry.out) as { tables: { name: string; columns: string[]; rows: number }[]; mentions: number };
    expect(plan.tables.map((t) => `${t.name}.${t.columns.join(',')}:${t.rows}`).sort()).toEqual(['customers.email:1', 'invoices.billing_email:1', 'visits.email:1']);
    expect(await dump()).toEqual(snapshot);
    const r = await run('subject', 'correct', '--email', 'bob@example.com', '--set', 'contact.email=Bob@New.example');
    expect(r.code, r.err + r.out).toBe(0);
    const after = await dump();
    expect(after.customers!.find((x) => x.id === '2')!.email).toBe('Bob@New.example');
    expect(after.visits!.find((x) => x.id === '2')!.email).toBe('Bob@New.example');
    expect(after.invoices!.find((x) => x.id === '501')!.billing_email).toBe('Bob@New.example');
    // Nothing else changed.
    const strip = (db: typeof after) => JSON.stringify({ ...db, customers: db.customers!.filter((x) => x.id !== '2'), visits: db.visits!.filter((x) => x.id !== '2'), invoices: db.invoices!.filter((x) => x.id !== '501') });
    expect(strip(after)).toBe(strip(snapshot));
    const log = await run('log', '--action', 'subject.correction-certificate', '--json');
    expect(log.out.toLowerCase()).not.toContain('bob@');
    expect(log.out).toContain('keysHmacSha256');
    const found = await run('subject', 'find', '--email', 'bob@new.example', '--json');
    expect((JSON.parse(found.out) as { rows: unknown[] }).rows.length).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(d.engine === 'pglite')('a column renamed since the audit stops the erasure before anything is written', async () => {
    const snapshot = await dump();
    await d.exec(`alter table visits rename column email to mail`);
    const r = await run('subject', 'erase', '--email', 'bob@example.com');
    await d.exec(`alter table visits rename column mail to email`);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('visits.email is gone');
    expect(await dump()).toEqual(snapshot);
  });
});
