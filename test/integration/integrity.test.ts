/** Integrity check pushed into SQL, on every database, with seeded defects of every kind and exact counts. */
import { beforeAll, expect, it } from 'vitest';
import { checkTable, integrityFindings } from '../../src/audit/integrity.js';
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
