/**
 * `steward subject map` and `steward subject find` on a shop of ten tables per
 * dialect (foreign keys over several hops, a link table, a self-reference, a
 * composite key, a link declared only in steward.yml, a table found by email
 * alone, free text that mentions a customer) and a second source, a CRM in SQLite
 * with no foreign key at all (its link inferred from names and measured), joined
 * by email and by phone. Exact rows per table; a household that shares a phone is
 * not merged; a phone shared by two people is ambiguous.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

interface Row {
  source: string;
  name: string;
  key: Record<string, unknown>;
  via: string[];
}

forEachDialect('data-subject find (sub)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-sub-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const crm = path.join(dir, 'crm.db');
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1' } });
    return { code, out: o.out(), err: o.err() };
  };
  const keysOf = (rows: Row[], source: string, table: string) =>
    rows
      .filter((r) => r.source === source && r.name === table)
      .map((r) => Object.values(r.key).map(String).join('/'))
      .sort();

  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    const int = 'integer';
    await d.exec(`create table customers (id ${int} primary key, email ${text}, phone ${text}, full_name ${text}, referred_by ${int} references customers(id))`);
    await d.exec(`create table addresses (id ${int} primary key, customer_id ${int} not null references customers(id), street ${text})`);
    await d.exec(`create table orders (id ${int} primary key, customer_id ${int} references customers(id), total ${int})`);
    await d.exec(`create table products (id ${int} primary key, title ${text})`);
    await d.exec(`create table order_items (order_id ${int} not null references orders(id), line_no ${int} not null, product_id ${int} references products(id), primary key (order_id, line_no))`);
    await d.exec(`create table newsletters (id ${int} primary key, title ${text})`);
    await d.exec(`create table subscriptions (customer_id ${int} not null references customers(id), newsletter_id ${int} not null references newsletters(id), primary key (customer_id, newsletter_id))`);
    await d.exec(`create table invoices (id ${int} primary key, order_ref ${int}, amount ${int})`);
    await d.exec(`create table tickets (id ${int} primary key, customer_id ${int} references customers(id), body ${text})`);
    await d.exec(`create table visits (id ${int} primary key, email ${text}, page ${text})`);
    if (d.kind === 'postgres') await d.exec('create index customers_email_lower on customers (lower(email))');
    const people = [
      [1, 'alice@example.com', '+44 20 7946 0001', 'Alice Archer', 'null'],
      [2, 'bob@example.com', '+44 20 7946 0002', 'Bob Baker', 'null'],
      [3, 'carol@example.com', '020 7946 0002', 'Carol Baker', 'null'],
      [4, 'dave@example.com', '+44 20 7946 0004', 'Dave Dean', '1'],
    ] as const;
    // Filler customers so the audit classifies the columns with confidence.
    const filler = Array.from({ length: 26 }, (_, i) => [i + 10, `p${i}@example.org`, `+44 20 7946 1${String(i).padStart(3, '0')}`, `Person ${i}`, 'null'] as const);
    await d.exec(`insert into customers values ${[...people, ...filler].map((p) => `(${p[0]}, '${p[1]}', '${p[2]}', '${p[3]}', ${p[4]})`).join(', ')}`);
    await d.exec(`insert into addresses values (1, 1, '1 Elm Street'), (2, 2, '2 Oak Road'), (3, 3, '2 Oak Road')`);
    await d.exec(`insert into orders values (10, 1, 5), (11, 1, 7), (12, 2, 9)`);
    await d.exec(`insert into products values (1, 'Lamp'), (2, 'Desk')`);
    await d.exec(`insert into order_items values (10, 1, 1), (10, 2, 2), (11, 1, 2), (12, 1, 1)`);
    await d.exec(`insert into newsletters values (100, 'News'), (101, 'Deals')`);
    await d.exec(`insert into subscriptions values (1, 100), (2, 100), (2, 101)`);
    await d.exec(`insert into invoices values (500, 10, 5), (501, 12, 9)`);
    await d.exec(`insert into tickets values (1, 1, 'My lamp is broken'), (2, 2, 'Please also update the account of alice@example.com, my sister'), (3, 2, 'Where is my desk?')`);
    // Tickets of the filler customers quote their addresses, as support tickets do: the audit marks body as free text with emails.
    await d.exec(`insert into tickets values ${filler.slice(0, 12).map((p, i) => `(${i + 20}, ${p[0]}, 'Hello, please write to ${p[1]} instead')`).join(', ')}`);
    await d.exec(`insert into visits values (1, 'ALICE@Example.com', '/lamps'), (2, 'bob@example.com', '/desks'), (3, 'zed@example.com', '/')`);

    // The CRM: no foreign key anywhere; notes.contact_id → contacts.id must be inferred.
    const db = new Database(crm);
    db.exec(`create table contacts (id integer primary key, email text, phone text, full_name text);
      create table notes (id integer primary key, contact_id integer, note text);`);
    const ins = db.prepare('insert into contacts values (?, ?, ?, ?)');
    ins.run(1, 'Alice@Example.com', '+442079460001', 'Alice A.');
    ins.run(2, 'zed@example.com', '+442079469999', 'Zed Z.');
    ins.run(3, null, '020 7946 0001', 'A. Archer'); // Alice's phone, national format, no email: hers
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
      ].join('\n'),
    );
    const audit = await run('audit');
    expect(audit.code, audit.err).toBe(0);
  });

  it.skipIf(d.engine === 'pglite')('the map: identity tables, every hop, the declared and the inferred link with its evidence, missing indexes', async () => {
    const r = await run('subject', 'map', '--json');
    expect(r.code, r.err).toBe(0);
    const map = JSON.parse(r.out) as {
      tables: { source: string; name: string; role: string; depth: number | null }[];
      links: { child: { source: string; name: string; columns: string[] }; parent: { name: string }; origin: string; used: boolean; confidence: number; reference: boolean; evidence?: { sampled: number; found: number } }[];
      findings: { rule: string; location: { source: string; name: string; column?: string } }[];
    };
    const role = (s: string, t: string) => map.tables.find((x) => x.source === s && x.name === t)?.role;
    expect(role('shop', 'customers')).toBe('identity');
    expect(role('crm', 'contacts')).toBe('identity');
    expect(role('shop', 'visits')).toBe('identity');
    for (const t of ['addresses', 'orders', 'order_items', 'subscriptions', 'invoices', 'tickets']) expect(role('shop', t), t).toBe('child');
    expect(role('crm', 'notes')).toBe('child');
    expect(role('shop', 'products')).toBe('unrelated');
    expect(map.tables.find((x) => x.name === 'order_items')!.depth).toBe(2);
    expect(map.tables.find((x) => x.name === 'invoices')!.depth).toBe(2);
    const inferred = map.links.find((l) => l.child.source === 'crm' && l.child.name === 'notes')!;
    expect(inferred).toMatchObject({ origin: 'inferred', used: true, confidence: 1, parent: { name: 'contacts' }, evidence: { sampled: 30, found: 30 } });
    expect(map.links.find((l) => l.child.name === 'invoices')).toMatchObject({ origin: 'config', used: true });
    expect(map.links.find((l) => l.child.name === 'customers')).toMatchObject({ reference: true });
    const unindexed = map.findings.filter((f) => f.rule === 'subjects.identifier-not-indexed').map((f) => `${f.location.source}.${f.location.name}.${f.location.column}`);
    expect(unindexed).toContain('crm.contacts.email');
    expect(unindexed.includes('shop.customers.email')).toBe(d.kind !== 'postgres'); // only Postgres has an index (on lower(email))
  });

  it.skipIf(d.engine === 'pglite')('find by email: exact rows in both sources, closure over the phone, mentions and references', async () => {
    const r = await run('subject', 'find', '--email', '  Alice@EXAMPLE.com', '--json');
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out) as { rows: Row[]; mentions: Row[]; references: Row[]; notMerged: Row[]; ambiguous: unknown; identifiers: { kind: string; value: string; given: boolean }[] };
    expect(res.ambiguous).toBeNull();
    expect(keysOf(res.rows, 'shop', 'customers')).toEqual(['1']);
    expect(keysOf(res.rows, 'shop', 'addresses')).toEqual(['1']);
    expect(keysOf(res.rows, 'shop', 'orders')).toEqual(['10', '11']);
    expect(keysOf(res.rows, 'shop', 'order_items')).toEqual(['10/1', '10/2', '11/1']);
    expect(keysOf(res.rows, 'shop', 'subscriptions')).toEqual(['1/100']);
    expect(keysOf(res.rows, 'shop', 'invoices')).toEqual(['500']);
    expect(keysOf(res.rows, 'shop', 'tickets')).toEqual(['1']);
    expect(keysOf(res.rows, 'shop', 'visits')).toEqual(['1']);
    expect(keysOf(res.rows, 'shop', 'products')).toEqual([]);
    expect(keysOf(res.rows, 'crm', 'contacts')).toEqual(['1', '3']);
    expect(keysOf(res.rows, 'crm', 'notes')).toEqual(['1', '3']);
    expect(res.rows.find((x) => x.source === 'crm' && x.key.id === 3)!.via).toEqual(['phone']);
    expect(res.identifiers.filter((i) => !i.given).map((i) => `${i.kind}:${i.value}`)).toContain('phone:+442079460001');
    expect(keysOf(res.mentions, 'shop', 'tickets')).toEqual(['2']);
    expect(keysOf(res.references, 'shop', 'customers')).toEqual(['4']);
    expect(res.notMerged).toEqual([]);
    const human = await run('subject', 'find', '--email', 'alice@example.com');
    expect(human.out).not.toContain('alice@example.com');
    expect(human.out).toMatch(/a\*\*\*@example\.com/);
  });

  it.skipIf(d.engine === 'pglite')('a household phone is not a person: Bob is found without Carol, who is listed as not merged', async () => {
    const r = await run('subject', 'find', '--email', 'bob@example.com', '--json');
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out) as { rows: Row[]; notMerged: Row[] };
    expect(keysOf(res.rows, 'shop', 'customers')).toEqual(['2']);
    expect(keysOf(res.rows, 'shop', 'addresses')).toEqual(['2']); // same street as Carol: not an identifier
    expect(keysOf(res.notMerged, 'shop', 'customers')).toEqual(['3']);
  });

  it.skipIf(d.engine === 'pglite')('a phone shared by two people is ambiguous (exit 1, no rows); no match is "no data found" (exit 0); a malformed email is exit 2', async () => {
    const amb = await run('subject', 'find', '--phone', '020 7946 0002', '--json');
    expect(amb.code, amb.err).toBe(1);
    const res = JSON.parse(amb.out) as { rows: Row[]; ambiguous: { candidates: Row[] } };
    expect(res.rows).toEqual([]);
    expect(keysOf(res.ambiguous.candidates, 'shop', 'customers')).toEqual(['2', '3']);
    const none = await run('subject', 'find', '--email', 'nobody@example.com');
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/No data found/);
    const bad = await run('subject', 'find', '--email', 'not-an-address');
    expect(bad.code).toBe(2);
    expect(bad.err).not.toContain('not-an-address');
    const log = await run('log', '--json');
    expect(log.out).toContain('subject.find');
    // What the entries say (not their hex hashes, where "7946" turns up by chance).
    const said = JSON.stringify((JSON.parse(log.out) as { subject: unknown; details: unknown }[]).map((e) => [e.subject, e.details]));
    expect(said).not.toMatch(/alice@|bob@|7946/);
  });
});

forEachDialect('data-subject access package (sua)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-sua-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env: { NO_COLOR: '1' } });
    return { code, out: o.out(), err: o.err() };
  };
  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table members (id integer primary key, email ${text}, full_name ${text})`);
    await d.exec(`create table bookings (id integer primary key, member_id integer references members(id), note ${text})`);
    await d.exec(`insert into members values ${Array.from({ length: 30 }, (_, i) => `(${i + 1}, 'm${i}@example.org', 'Member ${i}')`).join(', ')}`);
    await d.exec(`insert into bookings values (1, 1, 'window seat'), (2, 1, 'aisle'), (3, 2, 'none')`);
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'purposes:',
        '  - { name: bookings, description: "To hold your bookings", legalBasis: contract, categories: ["contact.*", "identity.*"] }',
        'sources:',
        `  - { name: club, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: club-team, purposes: [bookings], recipients: ["Mail provider <script>"] }`,
        'retention:',
        '  policies:',
        '    - { name: old-bookings, source: club, table: bookings, from: id, period: 2y, method: erase, legalBasis: "bookings are kept 2 years" }',
      ].join('\n'),
    );
  });

  it.skipIf(d.engine === 'pglite')('writes a zip encrypted to an age recipient that `age -d` opens; refuses plain text unless --plaintext', async () => {
    const { execFileSync } = await import('node:child_process');
    const { unzipSync, strFromU8 } = await import('fflate');
    const key = path.join(dir, 'key.txt');
    execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', key]).toString().trim();
    const refused = await run('subject', 'access', '--email', 'm0@example.org', '--out', 'p.zip');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--recipient|--plaintext/);
    const r = await run('subject', 'access', '--email', 'M0@example.org', '--out', 'm0.zip.age', '--recipient', recipient);
    expect(r.code, r.err).toBe(0);
    const zip = execFileSync('age', ['-d', '-i', key, path.join(dir, 'm0.zip.age')]);
    const files = unzipSync(new Uint8Array(zip));
    expect(Object.keys(files).sort()).toEqual(['README.txt', 'export.json', 'summary.html']);
    const doc = JSON.parse(strFromU8(files['export.json']!)) as { sources: { tables: { table: string; rows: { id: unknown }[]; retention: { period: string }[] }[]; purposes: { legalBasis: string }[] }[] };
    const tables = Object.fromEntries(doc.sources[0]!.tables.map((t) => [t.table, t]));
    expect(tables.members!.rows.map((x) => Number(x.id))).toEqual([1]);
    expect(tables.bookings!.rows.map((x) => Number(x.id)).sort()).toEqual([1, 2]);
    expect(tables.bookings!.retention[0]!.period).toBe('2y');
    expect(doc.sources[0]!.purposes[0]!.legalBasis).toBe('contract');
    const html = strFromU8(files['summary.html']!);
    expect(html).toContain('contract');
    expect(html).toContain('Mail provider &lt;script&gt;');
    expect(html).not.toContain('<script>');
    const plain = await run('subject', 'access', '--email', 'm1@example.org', '--out', 'm1.zip', '--plaintext', '--json');
    expect(plain.code, plain.err).toBe(0);
    expect(JSON.parse(plain.out)).toMatchObject({ rows: 2, encrypted: false });
  });
});
