/**
 * Data-subject requests over columns Steward encrypted, per dialect: `accounts.email`
 * encrypted by `steward encrypt` with a blind index (normalised as an email), the
 * free-text `orders.note` encrypted without one (not an identifier: decrypted for the
 * result), and `leads.email` encrypted without a blind index (not searchable: a map
 * finding, and listed as not searched). `subject find --email` finds the account through
 * its blind index and shows the plaintext; a decrypted email joins the identifiers
 * (the account found by key gives the email that finds a plain table); the access
 * export holds the plaintext. Without the master key the rows reached by key and links
 * are still found, the export lists every value it could not decrypt, and the exit
 * code is unchanged. A tampered ciphertext is reported as not decrypted, never a crash.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

interface Row {
  source: string;
  name: string;
  key: Record<string, unknown>;
  row: Record<string, unknown>;
  via: string[];
  decrypted?: string[];
  notDecrypted?: Record<string, string>;
}
interface Found {
  rows: Row[];
  identifiers: { kind: string; value: string; given: boolean }[];
  unsearched: { name: string; column: string; reason: string }[];
  notDecrypted: { table: string; column: string; rows: number; reason: string }[];
}
interface Exported {
  sources: { tables: { table: string; rows: Record<string, unknown>[] }[] }[];
  notDecrypted: { table: string; column: string; rows: number; reason: string; why: string }[];
}

forEachDialect('data-subject requests over encrypted columns (sue)', (d) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `steward-sue-${d.kind}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const masterKey = generateMasterKeyText();
  const withKey = { NO_COLOR: '1', STEWARD_MASTER_KEY: masterKey };
  const noKey = { NO_COLOR: '1' };
  const run = async (env: Record<string, string>, ...args: string[]) => {
    const o = captureIo(dir);
    const code = await main(args, { ...o, env });
    return { code, out: o.out(), err: o.err() };
  };
  const find = async (env: Record<string, string>, ...args: string[]) => {
    const r = await run(env, 'subject', 'find', ...args, '--json');
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as Found;
  };
  const access = async (env: Record<string, string>, out: string, ...args: string[]) => {
    const r = await run(env, 'subject', 'access', ...args, '--out', out, '--plaintext');
    expect(r.code, r.err).toBe(0);
    const files = unzipSync(new Uint8Array(readFileSync(path.join(dir, out))));
    return { doc: JSON.parse(strFromU8(files['export.json']!)) as Exported, html: strFromU8(files['summary.html']!), out: r.out };
  };
  const keysOf = (rows: Row[], table: string) =>
    rows
      .filter((r) => r.name === table)
      .map((r) => Object.values(r.key).map(String).join('/'))
      .sort();
  const tableOf = (doc: Exported, table: string) => doc.sources.flatMap((s) => s.tables).find((t) => t.table === table);

  beforeAll(async () => {
    const text = d.pick({ postgres: 'text', mysql: 'varchar(255)', sqlite: 'text' });
    await d.exec(`create table accounts (id integer primary key, email ${text}, full_name ${text})`);
    await d.exec(`create table orders (id integer primary key, account_id integer references accounts(id), note ${text})`);
    await d.exec(`create table leads (id integer primary key, email ${text}, source_page ${text})`);
    await d.exec(`create table visits (id integer primary key, email ${text}, page ${text})`);
    const people = [
      [1, 'Alice@Example.com', 'Alice Archer'],
      [2, 'bob@example.com', 'Bob Baker'],
      [3, 'carol@example.com', 'Carol Cole'],
    ] as const;
    const filler = Array.from({ length: 27 }, (_, i) => [i + 10, `p${i}@example.org`, `Person ${i}`] as const);
    await d.exec(`insert into accounts values ${[...people, ...filler].map((p) => `(${p[0]}, '${p[1]}', '${p[2]}')`).join(', ')}`);
    await d.exec(`insert into orders values (10, 1, 'leave at the door'), (11, 1, 'gift wrap'), (12, 2, 'none')`);
    await d.exec(`insert into leads values ${[...people, ...filler].map((p) => `(${p[0]}, '${p[1].toLowerCase()}', '/p')`).join(', ')}`);
    await d.exec(`insert into visits values (1, 'bob@example.com', '/desks'), (2, 'alice@example.com', '/lamps'), ${filler.map((p, i) => `(${i + 10}, '${p[1]}', '/')`).join(', ')}`);
    writeFileSync(path.join(dir, 'steward.yml'), ['sources:', `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: shop-team }`].join('\n'));
    const audit = await run(withKey, 'audit');
    expect(audit.code, audit.err).toBe(0);
    for (const args of [
      ['--column', 'accounts.email', '--blind-index', 'email_bidx', '--normalize', 'email'],
      ['--column', 'orders.note'],
      ['--column', 'leads.email'],
    ]) {
      const r = await run(withKey, 'encrypt', '--source', 'shop', ...args);
      expect(r.code, r.err).toBe(0);
    }
    const stored = await d.query<{ email: string; email_bidx: string }>('select email, email_bidx from accounts where id = 1');
    expect(stored[0]!.email).toMatch(/^stw1:/);
    expect(stored[0]!.email_bidx).toMatch(/^[0-9a-f]{32}$/);
  });

  it.skipIf(d.engine === 'pglite')('the map knows the blind index, and flags the encrypted identifier without one', async () => {
    const r = await run(withKey, 'subject', 'map', '--json');
    expect(r.code, r.err).toBe(0);
    const map = JSON.parse(r.out) as { tables: { name: string; identifiers: { column: string; encrypted: boolean; blindIndex?: { column: string; normalize: string; scopeTable: string } | null }[] }[]; findings: { rule: string; location: { name: string; column?: string }; remedy: string }[] };
    const email = (t: string) => map.tables.find((x) => x.name === t)!.identifiers.find((i) => i.column === 'email')!;
    expect(email('accounts')).toMatchObject({ encrypted: true, blindIndex: { column: 'email_bidx', normalize: 'email', scopeTable: 'accounts' } });
    expect(email('leads')).toMatchObject({ encrypted: true, blindIndex: null });
    expect(email('visits').encrypted).toBe(false);
    const unsearchable = map.findings.filter((f) => f.rule === 'subjects.encrypted-identifier-unsearchable');
    expect(unsearchable.map((f) => `${f.location.name}.${f.location.column}`)).toEqual(['leads.email']);
    expect(unsearchable[0]!.remedy).toContain('--blind-index email_bidx --normalize email');
    const human = await run(withKey, 'subject', 'map');
    expect(human.out).toMatch(/email \(email, encrypted, blind index email_bidx \(email\)/);
    expect(human.out).toMatch(/encrypted, no blind index: not searchable/);
  });

  it.skipIf(d.engine === 'pglite')('find by email goes through the blind index, shows the plaintext, and follows links', async () => {
    const res = await find(withKey, '--email', '  alice@EXAMPLE.com');
    expect(keysOf(res.rows, 'accounts')).toEqual(['1']);
    expect(keysOf(res.rows, 'orders')).toEqual(['10', '11']);
    expect(keysOf(res.rows, 'visits')).toEqual(['2']);
    expect(keysOf(res.rows, 'leads')).toEqual([]); // encrypted without a blind index: not searchable
    const account = res.rows.find((r) => r.name === 'accounts')!;
    expect(account.via).toEqual(['email (blind index)']);
    expect(account.row.email).toBe('Alice@Example.com');
    expect(account.decrypted).toEqual(['email']);
    expect(res.rows.filter((r) => r.name === 'orders').map((r) => r.row.note).sort()).toEqual(['gift wrap', 'leave at the door']);
    expect(res.notDecrypted).toEqual([]);
    expect(res.unsearched).toEqual([expect.objectContaining({ name: 'leads', column: 'email', reason: 'no-blind-index' })]);
    const human = await run(withKey, 'subject', 'find', '--email', 'alice@example.com');
    expect(human.code).toBe(0);
    expect(human.out).not.toMatch(/alice@|Alice@|gift wrap/);
    expect(human.out).toMatch(/not searched/);
  });

  it.skipIf(d.engine === 'pglite')('a decrypted email joins the identifiers: the account found by key finds the visit by its email', async () => {
    const res = await find(withKey, '--id', 'accounts.id=2');
    expect(keysOf(res.rows, 'accounts')).toEqual(['2']);
    expect(keysOf(res.rows, 'orders')).toEqual(['12']);
    expect(keysOf(res.rows, 'visits')).toEqual(['1']);
    expect(res.identifiers.filter((i) => !i.given).map((i) => `${i.kind}:${i.value}`)).toEqual(['email:bob@example.com']);
  });

  it.skipIf(d.engine === 'pglite')('the access export holds the plaintext', async () => {
    const { doc, html } = await access(withKey, 'alice.zip', '--email', 'alice@example.com');
    expect(tableOf(doc, 'accounts')!.rows).toEqual([expect.objectContaining({ email: 'Alice@Example.com', full_name: 'Alice Archer' })]);
    expect(tableOf(doc, 'orders')!.rows.map((r) => r.note).sort()).toEqual(['gift wrap', 'leave at the door']);
    expect(doc.notDecrypted).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain('stw1:');
    expect(html).not.toContain('Values not decrypted');
  });

  it.skipIf(d.engine === 'pglite')('without the master key: rows reached by key and links are found, the export lists what it could not decrypt, exit 0', async () => {
    const res = await find(noKey, '--email', 'alice@example.com', '--id', 'accounts.id=1');
    expect(keysOf(res.rows, 'accounts')).toEqual(['1']);
    expect(keysOf(res.rows, 'orders')).toEqual(['10', '11']);
    expect(keysOf(res.rows, 'visits')).toEqual(['2']);
    expect(res.unsearched.map((u) => `${u.name}.${u.column}:${u.reason}`).sort()).toEqual(['accounts.email:keyring-unavailable', 'leads.email:no-blind-index']);
    expect(res.notDecrypted.map((n) => `${n.table.split('.').pop()}.${n.column}:${n.rows}:${n.reason}`).sort()).toEqual(['accounts.email:1:keyring-unavailable', 'orders.note:2:keyring-unavailable']);
    // By email alone, the encrypted account cannot be searched: the plain visit is still found.
    const byEmail = await find(noKey, '--email', 'alice@example.com');
    expect(keysOf(byEmail.rows, 'accounts')).toEqual([]);
    expect(keysOf(byEmail.rows, 'visits')).toEqual(['2']);
    const human = await run(noKey, 'subject', 'find', '--email', 'alice@example.com');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/accounts\.email \(email\): the keyring is not available/);
    expect(human.out).toContain('STEWARD_MASTER_KEY');

    const { doc, html, out } = await access(noKey, 'alice-nokey.zip', '--email', 'alice@example.com', '--id', 'accounts.id=1');
    expect(doc.notDecrypted.map((n) => `${n.table.split('.').pop()}.${n.column}:${n.rows}:${n.reason}`).sort()).toEqual(['accounts.email:1:keyring-unavailable', 'orders.note:2:keyring-unavailable']);
    expect(tableOf(doc, 'accounts')!.rows[0]!.email).toEqual({ encrypted: true, notDecrypted: 'keyring-unavailable' });
    expect(tableOf(doc, 'accounts')!.rows[0]!.full_name).toBe('Alice Archer');
    expect(html).toContain('Values not decrypted');
    expect(html).toMatch(/accounts\.email: 1 record\(s\): the keyring is not available/);
    expect(out).toMatch(/not decrypted: shop:\S*accounts\.email \(1 record\(s\)\)/);
  });

  it.skipIf(d.engine === 'pglite')('a wrong master key is a keyring that does not open the keys: nothing is searched or read with it, nothing fails', async () => {
    const wrong = { NO_COLOR: '1', STEWARD_MASTER_KEY: generateMasterKeyText() };
    const res = await find(wrong, '--id', 'accounts.id=1');
    expect(keysOf(res.rows, 'orders')).toEqual(['10', '11']);
    expect(res.unsearched.map((u) => `${u.name}.${u.column}:${u.reason}`).sort()).toEqual(['accounts.email:keyring-unavailable', 'leads.email:no-blind-index']);
    expect(res.notDecrypted.map((n) => `${n.column}:${n.rows}:${n.reason}`).sort()).toEqual(['email:1:keyring-unavailable', 'note:2:keyring-unavailable']);
  });

  it.skipIf(d.engine === 'pglite')('an audit recorded after the encryption (ciphertexts sampled) gives the same map and the same answer', async () => {
    const audit = await run(withKey, 'audit');
    expect(audit.code, audit.err).toBe(0);
    const map = JSON.parse((await run(withKey, 'subject', 'map', '--json')).out) as { tables: { name: string; identifiers: { column: string; encrypted: boolean; blindIndex?: { column: string } | null }[] }[] };
    expect(map.tables.find((x) => x.name === 'accounts')!.identifiers.find((i) => i.column === 'email')).toMatchObject({ encrypted: true, blindIndex: { column: 'email_bidx' } });
    const res = await find(withKey, '--email', 'alice@example.com');
    expect(keysOf(res.rows, 'accounts')).toEqual(['1']);
    expect(keysOf(res.rows, 'orders')).toEqual(['10', '11']);
  });

  it.skipIf(d.engine === 'pglite')('a tampered ciphertext is reported as not decrypted; the blind index still finds its row', async () => {
    const email = (await d.query<{ email: string }>('select email from accounts where id = 3'))[0]!.email;
    const at = email.length - 10;
    const tampered = email.slice(0, at) + (email[at] === 'A' ? 'B' : 'A') + email.slice(at + 1);
    await d.exec(`update accounts set email = '${tampered}' where id = 3`);
    const res = await find(withKey, '--email', 'carol@example.com');
    expect(keysOf(res.rows, 'accounts')).toEqual(['3']);
    expect(res.rows[0]!.notDecrypted).toEqual({ email: 'does-not-verify' });
    expect(res.notDecrypted).toEqual([expect.objectContaining({ column: 'email', rows: 1, reason: 'does-not-verify' })]);
    const { doc } = await access(withKey, 'carol.zip', '--id', 'accounts.id=3');
    expect(doc.notDecrypted).toEqual([expect.objectContaining({ column: 'email', rows: 1, reason: 'does-not-verify' })]);
    expect(tableOf(doc, 'accounts')!.rows[0]).toMatchObject({ email: { encrypted: true, notDecrypted: 'does-not-verify' }, full_name: 'Carol Cole' });
    // A ciphertext copied from another row does not read as this one either.
    const alices = (await d.query<{ email: string }>('select email from accounts where id = 1'))[0]!.email;
    await d.exec(`update accounts set email = '${alices}' where id = 3`);
    const moved = await find(withKey, '--id', 'accounts.id=3');
    expect(moved.rows.find((r) => r.name === 'accounts')!.notDecrypted).toEqual({ email: 'does-not-verify' });
    expect(keysOf(moved.rows, 'visits')).toEqual([]); // Alice's email never joins Carol's identifiers
  });

  it.skipIf(d.engine === 'pglite')('the remedy of the finding works: a rotation with --blind-index makes the column searchable', async () => {
    const map = JSON.parse((await run(withKey, 'subject', 'map', '--json')).out) as { findings: { rule: string; remedy: string }[] };
    const remedy = map.findings.find((f) => f.rule === 'subjects.encrypted-identifier-unsearchable')!.remedy;
    const argv = remedy.slice(remedy.indexOf('steward ') + 'steward '.length).split(' ');
    const r = await run(withKey, ...argv);
    expect(r.code, r.err).toBe(0);
    const res = await find(withKey, '--email', 'bob@example.com');
    expect(keysOf(res.rows, 'leads')).toEqual(['2']);
    expect(res.rows.find((x) => x.name === 'leads')!.via).toEqual(['email (blind index)']);
    expect(res.unsearched).toEqual([]);
  });
  it.skipIf(d.engine === 'pglite')('correct an encrypted email: encrypted again under its key, blind index recomputed; without the keyring it refuses, nothing in plain', async () => {
    const noKey = await run({ NO_COLOR: '1' }, 'subject', 'correct', '--id', 'accounts.id=3', '--set', 'contact.email=carol@new.example');
    expect(noKey.code, noKey.out + noKey.err).toBe(2);
    expect(noKey.out).toContain('encrypted by Steward');
    expect((await d.query<{ email: string }>('select email from accounts where id = 3'))[0]!.email).toMatch(/^stw1:/);
    const r = await run(withKey, 'subject', 'correct', '--email', 'carol@example.com', '--set', 'contact.email=Carol@New.example');
    expect(r.code, r.out + r.err).toBe(0);
    const stored = (await d.query<{ email: string }>('select email from accounts where id = 3'))[0]!;
    expect(stored.email).toMatch(/^stw1:/);
    expect(stored.email).not.toContain('Carol');
    const now = await find(withKey, '--email', 'carol@new.example');
    expect(keysOf(now.rows, 'accounts')).toEqual(['3']);
    expect(now.rows.find((x) => x.name === 'accounts')!.row.email).toBe('Carol@New.example');
    const before = await find(withKey, '--email', 'carol@example.com');
    expect(keysOf(before.rows, 'accounts')).toEqual([]);
  });

  it.skipIf(d.engine === 'pglite')('erase finds the encrypted account through its blind index and deletes it with its children', async () => {
    const r = await run(withKey, 'subject', 'erase', '--email', 'bob@example.com');
    expect(r.code, r.out + r.err).toBe(0);
    expect(await d.query('select id from accounts where id = 2')).toEqual([]);
    expect(await d.query('select id from orders where id = 12')).toEqual([]);
    expect(await d.query('select id from visits where id = 1')).toEqual([]);
    expect((await d.query('select id from accounts')).length).toBe(29);
  });
});
