/**
 * Checks the audit must not skip silently, on every database:
 * - names in steward.yml that match nothing (schemas, integrity.required /
 *   updatedColumns / references, access.authorized, access.rowLevelSecurity)
 *   become one finding each, in the human output, --json and every report format;
 * - Steward ciphertexts are left out of the integrity format checks (a value
 *   that only starts with "stw1:" is still checked);
 * - a high-risk column with no value sampled is reported at low severity, saying so;
 * - binary columns are listed as not sampled.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import type { AuditReport, Finding } from '../../src/audit/types.js';
import { loadConfigText } from '../../src/config/index.js';
import { migrateColumn } from '../../src/crypto/column-migration.js';
import { createFieldEncryption } from '../../src/crypto/field.js';
import { formatCiphertext } from '../../src/crypto/format.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { audit } from '../../src/interfaces/cli/commands/audit.js';
import { renderReport } from '../../src/interfaces/reports/index.js';
import { openStateStore } from '../../src/state/index.js';
import { captureIo } from '../helpers/io.js';
import { forEachDialect, uniqueName } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-checks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const now = new Date('2026-11-24T12:00:00Z');
const SSNS = ['123-45-6780', '234-56-7891', '345-67-8902', '456-78-9013', '521-45-6789', '601-23-4567'];
/** A schema name no database has, with an escape sequence that would clear a terminal. */
const HOSTILE_SCHEMA = 'nosuch\u001b[2Jschema';

const unknown = (r: AuditReport) => r.findings.filter((f) => f.rule === 'config.unknown-name');
const paths = (fs: readonly Finding[]) => fs.map((f) => f.message.split(':')[0]!).sort();

forEachDialect('audit: checks that must not be skipped silently', (d) => {
  const yml = (lines: readonly string[], url = d.url ?? '') =>
    ['sources:', '  - name: s', `    kind: ${d.kind}`, `    url: ${JSON.stringify(url)}`, '    owner: t', ...lines.map((l) => `    ${l}`)].join('\n');
  const config = (lines: readonly string[]) => loadConfigText(yml(lines), { file: 'steward.yml', cwd: tmp, env: {} });
  const run = (lines: readonly string[], stage: 'collection' | 'access' | 'integrity') => {
    const { config: c, patterns } = config(lines);
    return runAudit({ config: c, patterns, stage, openSource: () => d.openSource(), now: () => now });
  };

  beforeAll(async () => {
    const blob = d.pick({ postgres: 'bytea', mysql: 'blob', sqlite: 'blob' });
    await d.exec(
      [
        'create table customers (id integer primary key, email varchar(200), phone varchar(40), updated_at timestamp null)',
        'create table orders (id integer primary key, customer_id integer)',
        'create table people (id integer primary key, ssn varchar(20))',
        'create table ids_empty (id integer primary key, ssn varchar(20))',
        'create table ids_null (id integer primary key, ssn varchar(20))',
        `create table docs (id integer primary key, passport_scan ${blob}, photo ${blob}, thumbnail ${blob}, title varchar(100))`,
        'create table members (id integer primary key, email text, date_of_birth text)',
        `create table bin_keyed (id ${d.pick({ postgres: 'bytea', mysql: 'binary(16)', sqlite: 'blob' })} primary key, label varchar(20))`,
        'create view v_customers as select id, email from customers',
      ].join(';\n'),
    );
    await d.db.insertInto('customers').values(Array.from({ length: 30 }, (_, i) => ({ id: i + 1, email: `person${i}@example.com`, phone: `+44 20 7946 ${1000 + i}`, updated_at: '2026-11-01 00:00:00' }))).execute();
    await d.db.insertInto('orders').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, customer_id: i + 1 }))).execute();
    await d.db.insertInto('people').values(SSNS.map((ssn, i) => ({ id: i + 1, ssn }))).execute();
    await d.db.insertInto('ids_null').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, ssn: null }))).execute();
    await d.db.insertInto('docs').values(Array.from({ length: 5 }, (_, i) => ({ id: i + 1, passport_scan: Buffer.from('%PDF-1.4 fake'), photo: Buffer.from([0xff, 0xd8, 0xff]), thumbnail: null, title: `doc ${i}` }))).execute();
    await d.db.insertInto('members').values(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, email: `member.${i}@example.com`, date_of_birth: `19${60 + i}-03-1${i % 10}` }))).execute();
    await d.analyze('customers', 'orders', 'people', 'ids_empty', 'ids_null', 'docs', 'members');
  });

  it('schemas: a schema that holds no table is one finding, escaped in every report format and in the CLI output', async () => {
    const report = await run([`schemas: [${JSON.stringify(d.schema)}, ${JSON.stringify(HOSTILE_SCHEMA)}]`], 'collection');
    const found = unknown(report);
    expect(paths(found)).toEqual(['sources[0].schemas[1]']);
    expect(found[0]).toMatchObject({ severity: 'medium', location: { source: 's' } });
    expect(found[0]!.message).toContain('nothing in it is audited');
    // The tables of the schema that exists are still audited.
    expect(report.summary.tables).toBeGreaterThan(5);
    for (const format of ['terminal', 'markdown', 'html', 'sarif', 'json'] as const) {
      const text = renderReport(report, format, { color: false });
      expect(text, format).toContain('nosuch');
      expect(text.replaceAll('\\', ''), format).toContain('schemas[1]'); // Markdown escapes the brackets
      expect(text.includes('\u001b[2J'), `${format} holds the raw escape sequence`).toBe(false);
    }
  });

  it.skipIf(d.engine === 'pglite')('schemas: the CLI audit shows it in its human output and in --json', async () => {
    const dir = mkdtempSync(path.join(tmp, 'cli-'));
    writeFileSync(path.join(dir, 'steward.yml'), yml([`schemas: [${JSON.stringify(d.schema)}, ${JSON.stringify(HOSTILE_SCHEMA)}]`]));
    const human = captureIo(dir);
    expect(await audit({ history: false }, human)).toBe(0);
    expect(human.out()).toContain('A name in steward.yml matches nothing');
    expect(human.out()).toContain('nosuch\\u001b[2Jschema');
    expect(human.out()).not.toContain('\u001b[2J');
    const json = captureIo(dir);
    await audit({ history: false, json: true }, json);
    const parsed = JSON.parse(json.out()) as AuditReport;
    expect(unknown(parsed).map((f) => f.message.split(':')[0])).toEqual(['sources[0].schemas[1]']);
  });

  it('integrity: unknown tables and columns, views, excluded tables and broken references are findings; the rest is still checked', async () => {
    const report = await run(
      [
        'exclude: [people]',
        'integrity:',
        '  required: [custmers.email, customers.emial, customers.email, v_customers.email, people.ssn]',
        '  staleAfter: P2Y',
        '  updatedColumns: { customers: updatd_at, custmers: updated_at }',
        '  references: { "orders.customer_id": "custmers.id", "orders.custmer_id": "customers.id" }',
      ],
      'integrity',
    );
    const found = unknown(report);
    expect(paths(found)).toEqual([
      'sources[0].integrity.references.orders.custmer_id',
      'sources[0].integrity.references.orders.customer_id',
      'sources[0].integrity.required[0]',
      'sources[0].integrity.required[1]',
      'sources[0].integrity.required[3]',
      'sources[0].integrity.required[4]',
      'sources[0].integrity.updatedColumns.custmers',
      'sources[0].integrity.updatedColumns.customers',
    ]);
    const msg = (p: string) => found.find((f) => f.message.startsWith(`${p}:`))!.message;
    expect(msg('sources[0].integrity.required[0]')).toContain('table "custmers" does not exist in source "s"');
    expect(msg('sources[0].integrity.required[0]')).toContain('Did you mean "customers"?');
    expect(msg('sources[0].integrity.required[1]')).toContain(`column "emial" does not exist in ${d.schema}.customers`);
    expect(msg('sources[0].integrity.required[3]')).toContain('is a view');
    expect(msg('sources[0].integrity.required[4]')).toContain('excluded by sources[].exclude');
    expect(msg('sources[0].integrity.references.orders.customer_id')).toContain('referenced table "custmers" does not exist');
    // The valid names still run, and a broken reference no longer fails the whole table's check.
    expect(report.findings.filter((f) => f.rule === 'collection.table-unreadable')).toEqual([]);
    const orders = report.sources[0]!.integrity!.find((t) => t.table === 'orders');
    expect(orders).toMatchObject({ rows: 10, orphans: [] });
    const customers = report.sources[0]!.integrity!.find((t) => t.table === 'customers')!;
    expect(customers.requiredNulls).toEqual([{ column: 'email', nulls: 0 }]);
    // Each id keys on the setting and the name: stable when the file is reordered.
    expect(new Set(found.map((f) => f.id)).size).toBe(found.length);
  });

  it('access: unknown principals, tables, categories and row-level security entries are findings; known ones are not', async () => {
    const known = d.pick({ postgres: 'PUBLIC', mysql: 'root', sqlite: 'others' });
    const nobody = d.pick({ postgres: `stw_${uniqueName('n').slice(2)}`, mysql: `stw_${uniqueName('n').slice(2)}`, sqlite: 'nobody' });
    const report = await run(
      [
        'access:',
        '  authorized:',
        `    - { principal: ${JSON.stringify(known)}, tables: [customers, "cust*", custmers], categories: ["contact.*", contact.emial] }`,
        `    - { principal: ${JSON.stringify(nobody)} }`,
        '  rowLevelSecurity: [customers, nosuch_table]',
      ],
      'access',
    );
    const found = unknown(report);
    const expected = [
      'sources[0].access.authorized[0].categories[1]',
      'sources[0].access.authorized[0].tables[2]',
      'sources[0].access.authorized[1].principal',
      'sources[0].access.rowLevelSecurity[1]',
      // Only PostgreSQL has row-level security: elsewhere the requirement cannot be checked, and says so.
      ...(d.kind === 'postgres' ? [] : ['sources[0].access.rowLevelSecurity[0]']),
    ].sort();
    expect(paths(found)).toEqual(expected);
    const msg = (p: string) => found.find((f) => f.message.startsWith(`${p}:`))!.message;
    expect(msg('sources[0].access.authorized[1].principal')).toContain(`no principal "${nobody}" exists`);
    expect(msg('sources[0].access.authorized[0].categories[1]')).toContain('Did you mean "contact.email"?');
    if (d.kind !== 'postgres') expect(msg('sources[0].access.rowLevelSecurity[0]')).toContain('no row-level security');
  });

  it('integrity: Steward ciphertexts are left out of the format checks; a value that only starts like one is checked', async () => {
    const store = await openStateStore({ url: path.join(tmp, `${d.kind}-${d.engine}.db`), baseDir: tmp });
    try {
      const fields = createFieldEncryption(await openKeyring({ store, master: await masterKeyFromEnv('K', { K: generateMasterKeyText() }) }));
      const source = await d.openSource();
      try {
        for (const column of ['email', 'date_of_birth']) await migrateColumn({ source, operation: 'encrypt', fields, store, actor: 'test', table: 'members', column });
      } finally {
        await source.close();
      }
    } finally {
      await store.close();
    }
    // After encryption: two plain invalid emails, one plain valid one, and two values that only look like ciphertexts.
    await d.db
      .insertInto('members')
      .values([
        { id: 101, email: 'not-an-email', date_of_birth: '1970-01-01' },
        { id: 102, email: 'also not one', date_of_birth: '1971-01-01' },
        { id: 103, email: 'fine@example.com', date_of_birth: '1972-01-01' },
        { id: 104, email: 'stw1:forged', date_of_birth: '1973-01-01' },
        { id: 105, email: 'stw1:x:1:AAAA', date_of_birth: '1974-01-01' },
      ])
      .execute();
    const report = await run([], 'integrity');
    const members = report.sources[0]!.integrity!.find((t) => t.table === 'members')!;
    const email = members.columns.find((c) => c.column === 'email')!;
    expect(email).toMatchObject({ nonNull: 25, encrypted: 20, invalid: 4 });
    expect(email.invalidExamples!.some((e) => e.startsWith('stw1:') && e.length > 12)).toBe(false);
    expect(members.columns.find((c) => c.column === 'date_of_birth')).toMatchObject({ nonNull: 25, encrypted: 20, invalid: 0 });
    const at = (rule: string, column: string) => report.findings.filter((f) => f.rule === rule && f.location.table === 'members' && f.location.column === column);
    expect(at('integrity.encrypted-not-checked', 'email')).toEqual([expect.objectContaining({ severity: 'info', message: expect.stringContaining('20 of 25 values are Steward ciphertexts') })]);
    expect(at('integrity.encrypted-not-checked', 'date_of_birth')).toHaveLength(1);
    expect(at('integrity.invalid-values', 'email')).toEqual([expect.objectContaining({ message: expect.stringContaining('4 of 5 unencrypted values') })]);
    expect(at('integrity.invalid-values', 'date_of_birth')).toEqual([]);
    expect(report.findings.filter((f) => f.rule === 'collection.table-unreadable')).toEqual([]);
  });

  it('integrity: more ciphertexts than one batch are read in key order, every one parsed', async () => {
    const big = 10_040;
    await d.exec('create table sealed_big (id integer primary key, email varchar(200), date_of_birth varchar(200))');
    const rows = [
      ...Array.from({ length: big }, (_, i) => ({ id: i + 1, email: formatCiphertext('k1', 1, randomBytes(40)), date_of_birth: formatCiphertext('k2', 1, randomBytes(38)) })),
      ...Array.from({ length: 5 }, (_, i) => ({ id: big + 1 + i, email: `stw1:forged-${i}`, date_of_birth: '1980-01-01' })),
      ...Array.from({ length: 5 }, (_, i) => ({ id: big + 6 + i, email: `plain-${i}`, date_of_birth: '2999-01-01' })),
    ];
    for (let i = 0; i < rows.length; i += 2000) await d.db.insertInto('sealed_big').values(rows.slice(i, i + 2000)).execute();
    const report = await run([], 'integrity');
    const t = report.sources[0]!.integrity!.find((x) => x.table === 'sealed_big')!;
    expect(t.columns.find((c) => c.column === 'email')).toMatchObject({ nonNull: big + 10, encrypted: big, invalid: 10 });
    expect(t.columns.find((c) => c.column === 'date_of_birth')).toMatchObject({ nonNull: big + 10, encrypted: big, invalid: 5 });
  });

  it('collection: a high-risk column with no value sampled is low and says so; with values it stays high', async () => {
    const report = await run([], 'collection');
    const phr = (table: string) => report.findings.find((f) => f.rule === 'collection.plaintext-high-risk' && f.location.table === table)!;
    for (const table of ['ids_empty', 'ids_null']) {
      expect(phr(table), table).toMatchObject({ severity: 'low', title: 'Government ID column, no value sampled' });
      expect(phr(table).message).toContain('no value was sampled');
      expect(phr(table).message).not.toContain('0 of 0');
      const pnd = report.findings.find((f) => f.rule === 'collection.purpose-not-declared' && f.location.table === table)!;
      expect(pnd.severity).toBe('low');
    }
    expect(phr('people')).toMatchObject({ severity: 'high', title: 'Government ID stored in plain text' });
    expect(phr('people').message).toContain('6 of 6 sampled values');
  });

  it('collection: binary columns are listed as not sampled (low when a name suggests personal data); excluded ones are not', async () => {
    const report = await run(['exclude: [docs.thumbnail]'], 'collection');
    const found = report.findings.filter((f) => f.rule === 'collection.column-not-sampled');
    // One, for docs: a binary key column (a binary(16) UUID) identifies rows and is not listed.
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'low', location: { source: 's', schema: d.schema, table: 'docs' } });
    expect(found[0]!.message).toContain('passport_scan');
    expect(found[0]!.message).toContain('its name suggests identity.government_id');
    expect(found[0]!.message).toContain('photo');
    expect(found[0]!.message).not.toContain('thumbnail');
    // The text column of the same table is still sampled; the binary ones are not in the inventory.
    expect(report.sources[0]!.inventory.filter((i) => i.table === 'docs')).toEqual([]);
    const plain = await run(['exclude: [docs.passport_scan, docs.thumbnail]'], 'collection');
    expect(plain.findings.filter((f) => f.rule === 'collection.column-not-sampled').map((f) => f.severity)).toEqual(['info']);
  });
});
