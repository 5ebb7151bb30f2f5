/** Integrity check pushed into SQL, on every database, with seeded defects of every kind and exact counts. */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { checkTable, countDuplicates, integrityFindings } from '../../src/audit/integrity.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { loadConfigText } from '../../src/config/index.js';
import type { InventoryItem } from '../../src/audit/types.js';
import { forEachDialect } from '../helpers/dialects.js';

const N = 40;
const BAD_EMAILS = ['not-an-email', 'two@@example.com', 'user@localhost', 'user name@example.com', 'user@example', '@example.com', 'user@.com'];
const now = new Date('2026-11-24T12:00:00Z');

forEachDialect('integrity check', (d) => {
  beforeAll(async () => {
    await d.exec(
      [
        'create table customers (id integer primary key, email varchar(100), phone varchar(40), date_of_birth date, updated_at timestamp)',
        'create table orders (id integer primary key, customer_id integer)',
      ].join(';\n'),
    );
    const rows = Array.from({ length: N }, (_, i) => {
      const id = i + 1;
      let email = `person${id}@example.com`;
      if (i < BAD_EMAILS.length) email = BAD_EMAILS[i]!;
      else if (i < 10) email = 'dup.a@example.com'; // rows 8–10: one value on 3 rows
      else if (i === 10) email = 'Dup.B@example.com';
      else if (i === 11) email = 'dup.b@example.com'; // same value, other case
      let phone: string | null = `+44 20 7946 ${String(1000 + i)}`;
      if (i >= 20 && i < 24) phone = null;
      if (i === 24) phone = '12345';
      if (i === 25) phone = '+1 555 CALL NOW';
      let dob = `19${60 + (i % 30)}-0${1 + (i % 9)}-15`;
      if (i === 30) dob = '2099-01-01';
      if (i === 31) dob = '1850-05-05';
      const updated = i >= 32 && i < 38 ? '2020-01-01 00:00:00' : '2026-11-01 00:00:00';
      return { id, email, phone, date_of_birth: dob, updated_at: updated };
    });
    await d.db.insertInto('customers').values(rows).execute();
    await d.db
      .insertInto('orders')
      .values(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, customer_id: i < 5 ? 900 + i : i + 1 })))
      .execute();
  });

  const inv = (column: string, category: string): InventoryItem => ({
    source: 's', schema: d.schema, table: 'customers', column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: N,
    evidence: { signals: [], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null,
  });
  const config = { required: ['customers.phone'], staleAfter: 'P2Y', updatedColumns: { customers: 'updated_at' }, references: { 'orders.customer_id': 'customers.id' } };

  it('counts every seeded defect exactly, in SQL', async () => {
    const source = await d.openSource();
    try {
      const tables = await source.introspect();
      const customers = tables.find((t) => t.name === 'customers')!;
      const orders = tables.find((t) => t.name === 'orders')!;
      const items = [inv('email', 'contact.email'), inv('phone', 'contact.phone'), inv('date_of_birth', 'identity.date_of_birth')];
      const c = await checkTable(source, customers, items, config, now);
      expect(c.rows).toBe(N);
      const col = (name: string) => c.columns.find((x) => x.column === name)!;
      expect(col('email')).toMatchObject({ nonNull: N, invalid: 7, duplicateRows: 3, duplicatedValues: 2 });
      expect(col('phone')).toMatchObject({ nonNull: N - 4, invalid: 2 });
      expect(col('date_of_birth')).toMatchObject({ invalid: 2 });
      expect(c.requiredNulls).toEqual([{ column: 'phone', nulls: 4 }]);
      expect(c.stale).toMatchObject({ column: 'updated_at', rows: 6 });
      const o = await checkTable(source, orders, [], config, now);
      expect(o.orphans).toEqual([{ column: 'customer_id', references: 'customers.id', rows: 5 }]);

      const findings = integrityFindings('s', [c, o], 'P2Y');
      expect(findings.map((f) => `${f.rule}:${f.location.table}.${f.location.column}`).sort()).toEqual([
        'integrity.duplicates:customers.email',
        'integrity.invalid-values:customers.date_of_birth',
        'integrity.invalid-values:customers.email',
        'integrity.invalid-values:customers.phone',
        'integrity.orphaned-rows:orders.customer_id',
        'integrity.required-null:customers.phone',
        'integrity.stale-records:customers.updated_at',
      ]);
      // Examples are masked: no raw value reaches a finding.
      const text = JSON.stringify(findings);
      for (const raw of ['dup.a@example.com', 'two@@example.com', '+1 555 CALL NOW', '2099-01-01', 'user name@example.com']) expect(text).not.toContain(raw);
    } finally {
      await source.close();
    }
  });

  it('runs as the integrity stage of an audit: classification finds the columns, SQL counts the defects', async () => {
    const { config, patterns } = loadConfigText(
      [
        'sources:',
        '  - name: s',
        `    kind: ${d.kind}`,
        `    url: ${JSON.stringify(d.url ?? 'postgres://pglite')}`,
        '    owner: t',
        '    integrity:',
        '      required: [customers.phone]',
        '      staleAfter: P2Y',
        '      updatedColumns: { customers: updated_at }',
        '      references: { orders.customer_id: customers.id }',
      ].join('\n'),
      { file: 'steward.yml', cwd: process.cwd(), env: {} },
    );
    const report = await runAudit({ config, patterns, stage: 'integrity', openSource: () => d.openSource(), now: () => now });
    expect(report.run.stage).toBe('integrity');
    expect(report.findings.map((f) => `${f.rule}:${f.location.table}.${f.location.column}`).sort()).toEqual([
      'integrity.duplicates:customers.email',
      'integrity.invalid-values:customers.date_of_birth',
      'integrity.invalid-values:customers.email',
      'integrity.invalid-values:customers.phone',
      'integrity.orphaned-rows:orders.customer_id',
      'integrity.required-null:customers.phone',
      'integrity.stale-records:customers.updated_at',
    ]);
  });
});

forEachDialect('integrity duplicates', (d) => {
  beforeAll(async () => {
    await d.exec(
      [
        'create table customers (id integer primary key, email varchar(100))',
        // Every email the same length: a length "hash" collides on every row, with no duplicate.
        'create table people (id integer primary key, email varchar(100))',
        // Duplicates ruled out by a unique index on the folded value (skipped), or not (counted).
        d.pick({
          postgres: 'create table m_folded (id integer primary key, email varchar(100)); create unique index m_folded_u on m_folded (lower(email))',
          mysql: 'create table m_folded (id integer primary key, email varchar(100) character set utf8mb4 collate utf8mb4_general_ci, unique key m_folded_u (email))',
          sqlite: 'create table m_folded (id integer primary key, email varchar(100)); create unique index m_folded_u on m_folded (email collate nocase)',
        }),
        d.pick({
          postgres: 'create table m_plain (id integer primary key, email varchar(100) unique)',
          mysql: 'create table m_plain (id integer primary key, email varchar(100) character set utf8mb4 collate utf8mb4_bin, unique key m_plain_u (email))',
          sqlite: 'create table m_plain (id integer primary key, email varchar(100) unique)',
        }),
        d.pick({
          postgres: 'create table m_index (id integer primary key, email varchar(100)); create index m_index_i on m_index (lower(email))',
          mysql: 'create table m_index (id integer primary key, email varchar(100) character set utf8mb4 collate utf8mb4_general_ci, key m_index_i (email))',
          sqlite: 'create table m_index (id integer primary key, email varchar(100)); create index m_index_i on m_index (email collate nocase)',
        }),
        // Unique over part of the rows (partial index), or only together with another column (MySQL has no partial indexes).
        d.pick({
          postgres: 'create table m_part (id integer primary key, email varchar(100)); create unique index m_part_u on m_part (lower(email)) where id > 100',
          mysql: 'create table m_part (id integer primary key, email varchar(100) character set utf8mb4 collate utf8mb4_general_ci, unique key m_part_u (email, id))',
          sqlite: 'create table m_part (id integer primary key, email varchar(100)); create unique index m_part_u on m_part (email collate nocase) where id > 100',
        }),
      ].join(';\n'),
    );
    const dups = [{ id: 1, email: 'dup@example.com' }, { id: 2, email: 'Dup@example.com' }, { id: 3, email: 'solo@example.com' }];
    await d.db
      .insertInto('customers')
      .values([...dups, { id: 4, email: 'DUP@example.com' }, { id: 5, email: 'two@example.com' }, { id: 6, email: 'two@example.com' }, { id: 7, email: null }])
      .execute();
    await d.db.insertInto('people').values(Array.from({ length: 12 }, (_, i) => ({ id: i + 1, email: `p${String(i).padStart(2, '0')}@example.com` }))).execute();
    await d.db.insertInto('m_folded').values([{ id: 1, email: 'a1@example.com' }, { id: 2, email: 'A2@example.com' }, { id: 3, email: null }]).execute();
    await d.db.insertInto('m_plain').values([{ id: 1, email: 'Same@example.com' }, { id: 2, email: 'same@example.com' }, { id: 3, email: 'other@example.com' }]).execute();
    await d.db.insertInto('m_index').values(dups).execute();
    await d.db.insertInto('m_part').values(dups).execute();
  });

  const inv = (column: string, category: string): InventoryItem => ({
    source: 's', schema: d.schema, table: 't', column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: 3,
    evidence: { signals: [], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null,
  });

  it('stays exact when the hash collides: deliberately weak hashes give the same duplicate counts', async () => {
    const source = await d.openSource();
    try {
      const t = (name: string) => sql.table(`${d.schema}.${name}`);
      const email = sql.ref('email');
      const hashes = {
        dialect: source.integrity.hash,
        none: undefined,
        constant: (f: typeof email) => sql`(0 * length(${f}))`, // every row one group: always recounted by value
        length: (f: typeof email) => sql`length(${f})`, // groups of unrelated values
      };
      for (const [name, hash] of Object.entries(hashes)) {
        // dup@ ×3 (three spellings) and two@ ×2: 2 values, 3 extra rows; solo@ and the null are no duplicate.
        const c = await countDuplicates(source, t('customers'), email, hash);
        expect({ name, duplicateRows: c.duplicateRows, duplicatedValues: c.duplicatedValues }).toEqual({ name, duplicateRows: 3, duplicatedValues: 2 });
        expect(c.examples.slice().sort(), name).toEqual(['dup@example.com', 'two@example.com']);
        // All twelve people collide under `length` and `constant`; none is a duplicate.
        const p = await countDuplicates(source, t('people'), email, hash);
        expect({ name, ...p }).toEqual({ name, duplicateRows: 0, duplicatedValues: 0, examples: [] });
      }
    } finally {
      await source.close();
    }
  });

  it('checks phones and emails by the documented rule: every dialect agrees with a reference on awkward values', async () => {
    // Phone: only digits and the separators " -().+", 7–15 digits once those are removed.
    const phoneOk = (v: string) => !/[^-() .+0-9]/.test(v) && /^[0-9]{7,15}$/.test(v.replace(/[-() .+]/g, ''));
    // Email: one "@" with a character before it, a "." after it with characters on both sides, no space.
    const emailOk = (v: string) => {
      const at = v.indexOf('@');
      const dot = v.indexOf('.', at + 2);
      return at >= 1 && !v.includes('@', at + 1) && !v.includes(' ') && dot >= 0 && dot <= v.length - 2;
    };
    const phones = ['+44 20 7946 0958', '12345', '+1 555 CALL NOW', '', '   ', '1234567', '123456', '123456789012345', '1234567890123456', '(555) 123-4567',
      '555.123.4567', '٣٣٣٣٣٣٣٣', '12345678٣', '1234567\t8', '1234567é', '+-().  1234567', '1 2 3 4 5 6 7', '１２３４５６７８', '12345678#', '1234567abc'];
    const emails = ['a@b.c', 'a@b', '@b.c', 'a@.c', 'a@b.', 'a.b@c', 'a@b@c.d', 'a b@c.d', 'a@b.c.d', '.@..', 'a@@b.c', 'a.@b.c', 'a@b..c', 'é@ü.ß', 'a@.b.c', 'a@b.c ', 'ab@c.d@', 'x@y.z.', ''];
    await d.exec('create table awkward (id integer primary key, phone varchar(40), email varchar(100))');
    await d.db.insertInto('awkward').values(phones.map((phone, i) => ({ id: i + 1, phone, email: emails[i] ?? null }))).execute();
    const source = await d.openSource();
    try {
      const bad = async (expr: (c: ReturnType<typeof sql.ref>) => ReturnType<typeof sql>, column: string) =>
        (await sql<{ id: unknown }>`select id from ${sql.table(`${d.schema}.awkward`)} where ${sql.ref(column)} is not null and ${expr(sql.ref(column))} order by id`.execute(source.db)).rows.map((r) => Number(r.id));
      expect(await bad(source.integrity.invalidPhone, 'phone')).toEqual(phones.flatMap((v, i) => (phoneOk(v) ? [] : [i + 1])));
      expect(await bad(source.integrity.invalidEmail, 'email')).toEqual(emails.flatMap((v, i) => (emailOk(v) ? [] : [i + 1])));
    } finally {
      await source.close();
    }
  });

  it('skips the duplicate count only where a unique index on the folded value rules duplicates out', async () => {
    const source = await d.openSource();
    try {
      const tables = await source.introspect();
      const email = async (name: string) => {
        const r = await checkTable(source, tables.find((t) => t.name === name)!, [inv('email', 'contact.email')], { required: [], updatedColumns: {}, references: {} }, now);
        return r.columns[0]!;
      };
      // Unique on lower(email) / under a case-insensitive collation: 0 duplicates, not counted.
      expect(await email('m_folded')).toMatchObject({ nonNull: 2, duplicateRows: 0, duplicatedValues: 0, uniqueIndex: true });
      // Unique on the raw value only: "Same@" and "same@" are still one value twice.
      const plain = await email('m_plain');
      expect(plain).toMatchObject({ duplicateRows: 1, duplicatedValues: 1 });
      expect(plain.uniqueIndex).toBeUndefined();
      // An index that is not unique, or unique over part of the rows or with another column, proves nothing.
      for (const name of ['m_index', 'm_part']) {
        const c = await email(name);
        expect({ name, ...c }).toMatchObject({ name, duplicateRows: 1, duplicatedValues: 1 });
        expect(c.uniqueIndex, name).toBeUndefined();
      }
    } finally {
      await source.close();
    }
  });
});
