/**
 * The data collection review end to end on every database: a schema with
 * personal data is created, audited, and the exact inventory and findings are
 * asserted; then the schema changes and a second audit reports the difference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.js';
import { loadConfigText } from '../../src/config/index.js';
import { openAuditHistory } from '../../src/state/index.js';
import { forEachDialect } from '../helpers/dialects.js';

const CARDS = ['4111111111111111', '5500000000000004', '378282246310005', '4012888888881881', '5105105105105100', '6011111111111117'];
const FIRST = ['Anna', 'John', 'Maria', 'Lukas', 'Camille', 'Sofia', 'Liam', 'Emma'];
const LAST = ['Schmidt', 'Smith', 'Garcia', 'Dubois', 'Rossi', 'Brown', 'Martin', 'Jones'];
const SSNS = ['123-45-6780', '234-56-7891', '345-67-8902', '456-78-9013', '521-45-6789', '601-23-4567'];
const N = 60;

const expectedInventory = [
  'customers.date_of_birth:identity.date_of_birth',
  'customers.email:contact.email',
  'customers.first_name:identity.person_name',
  'customers.last_name:identity.person_name',
  'customers.phone:contact.phone',
  'orders.card_number:financial.card',
  'tickets.body:content.free_text',
];

forEachDialect('audit: data collection review', (d) => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'steward-audit-'));
    const text = d.pick({ postgres: 'text', mysql: 'TEXT', sqlite: 'TEXT' });
    const vc = (n: number) => `varchar(${n})`;
    await d.exec(
      [
        `create table customers (id integer primary key, first_name ${vc(100)}, last_name ${vc(100)}, email ${vc(200)}, phone ${vc(40)}, date_of_birth date, status ${vc(20)}, email_sent boolean)`,
        `create table orders (id integer primary key, customer_id integer references customers(id), card_number ${vc(30)}, total numeric(10,2), sku ${vc(20)})`,
        `create table tickets (id integer primary key, customer_id integer, body ${text})`,
        `create table products (id integer primary key, name ${vc(100)}, sku ${vc(20)}, price numeric(10,2))`,
      ].join(';\n'),
    );
    const customers = Array.from({ length: N }, (_, i) => ({
      id: i + 1,
      first_name: FIRST[i % FIRST.length],
      last_name: LAST[(i * 3) % LAST.length],
      email: `${FIRST[i % FIRST.length]!.toLowerCase()}.${i}@example.com`,
      phone: `+44 20 7946 ${String(1000 + i).padStart(4, '0')}`,
      date_of_birth: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
      status: ['active', 'closed', 'pending'][i % 3],
      email_sent: d.kind === 'sqlite' ? i % 2 : i % 2 === 0,
    }));
    await d.db.insertInto('customers').values(customers).execute();
    await d.db
      .insertInto('orders')
      .values(Array.from({ length: N }, (_, i) => ({ id: i + 1, customer_id: i + 1, card_number: CARDS[i % CARDS.length], total: (i * 7.5).toFixed(2), sku: `SKU-${10000 + i}` })))
      .execute();
    await d.db
      .insertInto('tickets')
      .values(
        Array.from({ length: N }, (_, i) => ({
          id: i + 1,
          customer_id: i + 1,
          body:
            i % 3 === 0
              ? `Hello, please call me back on +44 20 7946 ${String(2000 + i)} about order ${i}, many thanks`
              : i % 3 === 1
                ? `My new email address is someone.${i}@example.org, please update my account`
                : `The parcel arrived damaged and I would like a refund for the lamp, order ${i}`,
        })),
      )
      .execute();
    await d.db
      .insertInto('products')
      .values(Array.from({ length: N }, (_, i) => ({ id: i + 1, name: ['Desk Lamp', 'Garden Hose', 'Blue Widget'][i % 3], sku: `SKU-${i}`, price: '9.99' })))
      .execute();
    await d.analyze('customers', 'orders', 'tickets', 'products');
  });

  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const config = () =>
    loadConfigText(
      [
        'sources:',
        '  - name: shop',
        `    kind: ${d.kind}`,
        `    url: ${JSON.stringify(d.url ?? 'postgres://pglite')}`,
        '    owner: shop-team',
        '    purposes:',
        '      - name: orders',
        '        categories: ["contact.*", "identity.person_name", "financial.card"]',
        `state:\n  url: ${JSON.stringify(path.join(stateDir, 'state.db'))}`,
      ].join('\n'),
      { file: 'steward.yml', cwd: stateDir, env: {} },
    );

  async function audit() {
    const { config: cfg, patterns } = config();
    const history = await openAuditHistory(cfg.state.url, stateDir);
    try {
      return await runAudit({ config: cfg, patterns, history, openSource: () => d.openSource() });
    } finally {
      await history.close();
    }
  }

  it('finds exactly the personal-data columns and the expected findings', async () => {
    const report = await audit();
    const src = report.sources[0]!;
    expect(src.status).toBe('ok');
    expect(src.tables).toBe(4);
    expect(src.inventory.map((i) => `${i.table}.${i.column}:${i.category}`).sort()).toEqual(expectedInventory);
    expect(src.inventory.every((i) => i.schema === d.schema)).toBe(true);

    const card = src.inventory.find((i) => i.column === 'card_number')!;
    expect(card.evidence.sampled).toBe(N);
    expect(card.evidence.matched).toBe(N);
    expect(card.purpose).toBe('orders');
    expect(card.examples.join(' ')).not.toMatch(/\d{12}/);

    const body = src.inventory.find((i) => i.table === 'tickets')!;
    expect(body.freeText.map((h) => `${h.category}:${h.rows}`).sort()).toEqual(['contact.email:20', 'contact.phone:20']);

    expect(report.findings.map((f) => `${f.rule}:${f.location.table}.${f.location.column}`).sort()).toEqual([
      'collection.free-text-pii:tickets.body',
      'collection.plaintext-high-risk:orders.card_number',
      'collection.purpose-not-declared:customers.date_of_birth',
    ]);
    expect(report.findings.every((f) => f.status === 'new')).toBe(true);
    expect(report.diff).toBeNull();
    // No raw personal value anywhere in the report.
    const json = JSON.stringify(report);
    for (const raw of ['4111111111111111', 'anna.0@example.com', '+44 20 7946 1000', 'someone.1@example.org']) expect(json).not.toContain(raw);
  });

  it('on the next run, reports what appeared and what was fixed', async () => {
    const col = d.pick({ postgres: 'varchar(20)', mysql: 'varchar(20)', sqlite: 'varchar(20)' });
    await d.exec(`alter table customers add column ssn ${col}`);
    for (let i = 1; i <= N; i++) await d.db.updateTable('customers').set({ ssn: SSNS[i % SSNS.length] }).where('id', '=', i).execute();
    await d.exec('alter table orders drop column card_number');
    await d.analyze('customers', 'orders');

    const report = await audit();
    expect(report.diff).not.toBeNull();
    const diff = report.diff!;
    expect(diff.inventoryAdded).toEqual([`shop.${d.schema}.customers.ssn:identity.government_id`]);
    expect(diff.inventoryRemoved).toEqual([`shop.${d.schema}.orders.card_number:financial.card`]);
    expect(diff.appeared.map((f) => `${f.rule}:${f.location.column}`).sort()).toEqual([
      'collection.plaintext-high-risk:ssn',
      'collection.purpose-not-declared:ssn',
    ]);
    expect(diff.fixed.map((f) => `${f.rule}:${f.location.column}`)).toEqual(['collection.plaintext-high-risk:card_number']);
    const still = report.findings.find((f) => f.location.column === 'date_of_birth')!;
    expect(still.status).toBe('existing');
  });
});
