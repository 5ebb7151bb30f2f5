/**
 * findSubject issues the queries of a hop that do not depend on each other at once, and
 * the mention search beside them: the result (rows, their order, reasons, mentions) is
 * the same run after run, a row found through a chain of links (person → order → item)
 * is found, and a source failing mid-search is an error naming the table, with nothing
 * left running (no unhandled rejection).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InventoryItem } from '../../src/audit/types.js';
import { loadConfigText } from '../../src/config/load.js';
import type { Source } from '../../src/sources/types.js';
import { discoverSubjectMap } from '../../src/subjects/discover.js';
import { findSubject } from '../../src/subjects/find.js';
import { parseIdentifiers } from '../../src/subjects/identifiers.js';
import { forEachDialect } from '../helpers/dialects.js';

const item = (schema: string, table: string, column: string, category: string): InventoryItem =>
  ({ source: 'shop', schema, table, column, dataType: 'text', category, risk: 'medium', confidence: 1, rowEstimate: 0, evidence: {}, examples: [], freeText: [], purpose: null }) as unknown as InventoryItem;

forEachDialect('subject find, concurrent hops (sfc)', (d) => {
  const opened: Source[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
  });
  const setup = async () => {
    const source = await d.openSource();
    opened.push(source);
    const { config } = loadConfigText(
      ['sources:', `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url ?? 'postgres://pglite')}, owner: shop-team }`, 'subjects:', '  defaultCountry: GB', '  identifiers:', '    - { column: sfc_people.phone, kind: phone }', '    - { column: sfc_contacts.phone, kind: phone }'].join('\n'),
      { env: {} },
    );
    const inventory = [item(d.schema, 'sfc_people', 'email', 'contact.email'), item(d.schema, 'sfc_contacts', 'email', 'contact.email'), item(d.schema, 'sfc_notes', 'body', 'content.free_text'), item(d.schema, 'sfc_addresses', 'street', 'location.address')];
    const { map, schemas } = await discoverSubjectMap({ config, sources: new Map([['shop', source]]), store: null, freshInventory: async () => inventory });
    const sources = new Map([['shop', source]]);
    return (email: string) => findSubject({ map, schemas, sources, identifiers: parseIdentifiers({ email: [email] }, { defaultCountry: 'GB' }), defaultCountry: 'GB' });
  };

  beforeAll(async () => {
    const t = d.pick({ postgres: 'text', mysql: 'varchar(200)', sqlite: 'text' });
    await d.exec(`create table sfc_people (id integer primary key, email ${t}, phone ${t});
      create table sfc_contacts (id integer primary key, email ${t}, phone ${t});
      create table sfc_addresses (id integer primary key, person_id integer references sfc_people(id), street ${t});
      create table sfc_orders (id integer primary key, person_id integer references sfc_people(id), address_id integer references sfc_addresses(id));
      create table sfc_items (order_id integer references sfc_orders(id), line integer, sku ${t}, primary key (order_id, line));
      create table sfc_notes (id integer primary key, person_id integer references sfc_people(id), body ${t});
      insert into sfc_people values (1, 'ann@example.com', '+44 20 7946 0001'), (2, 'bob@example.com', '+44 20 7946 0002');
      insert into sfc_contacts values (10, null, '020 7946 0001'), (11, 'bob@example.com', null);
      insert into sfc_addresses values (100, 1, '1 High St'), (101, 2, '2 Low St');
      insert into sfc_orders values (1000, 1, 100), (1001, 1, 101), (1002, 2, 101);
      insert into sfc_items values (1000, 1, 'a'), (1000, 2, 'b'), (1001, 1, 'c'), (1002, 1, 'd');
      insert into sfc_notes values (5, 2, 'call ann@example.com back'), (6, 2, 'ring 020 7946 0001 please'), (7, 1, 'nothing here');`);
  });

  it('the same rows, in the same order, with the same reasons, every run; links followed two deep; mentions by email and by the phone found on the way', async () => {
    const find = await setup();
    const first = await find('ann@example.com');
    const ids = first.rows.map((r) => `${r.name}:${Object.values(r.key).join(',')}`);
    expect([...ids].sort()).toEqual(['sfc_addresses:100', 'sfc_addresses:101', 'sfc_contacts:10', 'sfc_items:1000,1', 'sfc_items:1000,2', 'sfc_items:1001,1', 'sfc_notes:7', 'sfc_orders:1000', 'sfc_orders:1001', 'sfc_people:1']);
    // Address 101 is Bob's, reached only upwards from Ann's order 1001: his order 1002 is not hers.
    expect(first.rows.find((r) => r.name === 'sfc_addresses' && r.key.id == 101)!.via.every((v) => v.startsWith('ref:'))).toBe(true);
    expect(first.mentions.map((m) => [m.name, Number(m.key.id), [...m.kinds].sort()])).toEqual([
      ['sfc_notes', 5, ['email']],
      ['sfc_notes', 6, ['phone']],
    ]);
    const shape = (r: typeof first) => JSON.stringify({ rows: r.rows.map((x) => [x.name, x.key, x.via]), mentions: r.mentions, identifiers: r.identifiers, notMerged: r.notMerged });
    for (let i = 0; i < 5; i++) expect(shape(await find('ann@example.com'))).toBe(shape(first));
  });

  it('a table gone mid-search is an error naming it, with every query settled', async () => {
    const find = await setup();
    await d.exec('drop table sfc_items');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(find('ann@example.com')).rejects.toMatchObject({ message: expect.stringMatching(/sfc_items/) });
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
