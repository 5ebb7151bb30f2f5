/**
 * The erasure plan on hand-built maps and facts (no database): what becomes of each
 * row and why (held, exempt, shared, legal minimum, kept transitively, pinned,
 * references, mentions), the deletion order (children first, cycles), the placeholder
 * values (type, NOT NULL, UNIQUE, length), redaction and the certificate's digest.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnInfo, TableInfo } from '../../../src/sources/types.js';
import { anonymiseColumns, deletionOrder, keysDigest, placeholderValue, planErasure, REDACTED, redactText, rowId, type PlanFacts, type PlannedRow } from '../../../src/subjects/erase-plan.js';
import type { FindResult, SubjectRow } from '../../../src/subjects/find.js';
import { normaliseEmail } from '../../../src/subjects/identifiers.js';
import { tableKey, type IdentifierColumn, type SubjectLink, type SubjectMap, type SubjectTable, type TableRole } from '../../../src/subjects/map.js';

const S = 's';
const col = (name: string, typeClass: ColumnInfo['typeClass'] = 'text', o: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, dataType: typeClass, typeClass, nullable: true, maxLength: null, comment: null, ...o });
const info = (name: string, columns: ColumnInfo[], o: Partial<TableInfo> = {}): TableInfo => ({ schema: 'main', name, kind: 'table', columns, primaryKey: ['id'], foreignKeys: [], rowEstimate: 10, comment: null, ...o });
const email = (column: string): IdentifierColumn => ({ column, kind: 'email', origin: 'inventory', encrypted: false, indexed: true });
const mtable = (name: string, role: TableRole, depth: number, o: Partial<SubjectTable> = {}): SubjectTable => ({ source: S, schema: 'main', name, role, primaryKey: ['id'], identifiers: [], personalColumns: [], freeText: [], depth, ...o });
const link = (parent: string, pcols: string[], child: string, ccols: string[], reference = false): SubjectLink => ({
  parent: { source: S, schema: 'main', name: parent, columns: pcols },
  child: { source: S, schema: 'main', name: child, columns: ccols },
  origin: 'foreign-key',
  confidence: 1,
  used: true,
  reference,
});
const t = (name: string) => ({ source: S, schema: 'main', name });
const row = (name: string, r: Record<string, unknown>, via = ['email'], pk = ['id']): SubjectRow => ({ ...t(name), key: Object.fromEntries(pk.map((k) => [k, r[k]])), row: r, via });
const id = (name: string, key: Record<string, unknown>) => rowId(t(name), key);

// customers ← orders ← order_items; invoices → orders; customers.referred_by → customers (a reference).
const tables: Record<string, TableInfo> = {
  customers: info('customers', [col('id', 'integer', { nullable: false }), col('email', 'text', { nullable: false }), col('full_name'), col('referred_by', 'integer')], { foreignKeys: [{ name: 'r', columns: ['referred_by'], referencedSchema: 'main', referencedTable: 'customers', referencedColumns: ['id'] }] }),
  orders: info('orders', [col('id', 'integer', { nullable: false }), col('customer_id', 'integer'), col('total', 'integer')], { foreignKeys: [{ name: 'c', columns: ['customer_id'], referencedSchema: 'main', referencedTable: 'customers', referencedColumns: ['id'] }] }),
  order_items: info('order_items', [col('order_id', 'integer', { nullable: false }), col('line_no', 'integer', { nullable: false }), col('sku')], { primaryKey: ['order_id', 'line_no'] }),
  invoices: info('invoices', [col('id', 'integer', { nullable: false }), col('order_id', 'integer'), col('billing_email'), col('amount', 'integer')], { foreignKeys: [{ name: 'o', columns: ['order_id'], referencedSchema: 'main', referencedTable: 'orders', referencedColumns: ['id'] }] }),
  receipts: info('receipts', [col('id', 'integer', { nullable: false }), col('invoice_id', 'integer'), col('printed', 'integer')]),
  tickets: info('tickets', [col('id', 'integer', { nullable: false }), col('customer_id', 'integer'), col('body')]),
  referrals: info('referrals', [col('id', 'integer', { nullable: false }), col('sponsor_id', 'integer', { nullable: false }), col('note')]),
};
const map: SubjectMap = {
  tables: [
    mtable('customers', 'identity', 0, { identifiers: [email('email')], personalColumns: ['email', 'full_name'] }),
    mtable('orders', 'child', 1),
    mtable('order_items', 'child', 2, { primaryKey: ['order_id', 'line_no'] }),
    mtable('invoices', 'child', 2, { identifiers: [email('billing_email')], personalColumns: ['billing_email'] }),
    mtable('receipts', 'child', 3),
    mtable('tickets', 'child', 1, { personalColumns: ['body'], freeText: ['body'] }),
    mtable('referrals', 'child', 1),
  ],
  links: [
    link('customers', ['id'], 'orders', ['customer_id']),
    link('orders', ['id'], 'order_items', ['order_id']),
    link('orders', ['id'], 'invoices', ['order_id']),
    link('invoices', ['id'], 'receipts', ['invoice_id']),
    link('customers', ['id'], 'tickets', ['customer_id']),
    link('customers', ['id'], 'customers', ['referred_by'], true),
    link('customers', ['id'], 'referrals', ['sponsor_id'], true),
  ],
  findings: [],
  problems: [],
};

const alice = row('customers', { id: 1, email: 'alice@example.com', full_name: 'Alice', referred_by: null });
const baseRows: SubjectRow[] = [
  alice,
  row('orders', { id: 10, customer_id: 1, total: 5 }, ['link']),
  row('orders', { id: 11, customer_id: 1, total: 7 }, ['link']),
  row('order_items', { order_id: 10, line_no: 1, sku: 'A' }, ['link'], ['order_id', 'line_no']),
  row('order_items', { order_id: 11, line_no: 1, sku: 'B' }, ['link'], ['order_id', 'line_no']),
  row('invoices', { id: 500, order_id: 10, billing_email: 'alice@example.com', amount: 5 }, ['link']),
  row('tickets', { id: 1, customer_id: 1, body: 'my lamp' }, ['link']),
];
const found = (o: Partial<FindResult> = {}): FindResult => ({ identifiers: [{ kind: 'email', value: 'alice@example.com', given: true }], rows: baseRows, mentions: [], references: [], notMerged: [], ambiguous: null, unsearched: [], notDecrypted: [], stats: { hops: 1, queries: 1, durationMs: 1 }, ...o });
const facts = (o: Partial<PlanFacts> = {}): PlanFacts => ({
  map,
  found: found(),
  tableInfo: (x) => tables[x.name],
  held: new Map(),
  others: new Map(),
  pinned: new Map(),
  legalMinimum: new Map(),
  exempt: new Map(),
  ...o,
});
const actions = (rows: readonly PlannedRow[], name?: string) =>
  Object.fromEntries(rows.filter((r) => !name || r.name === name).map((r) => [`${r.name}:${Object.values(r.key).join('/')}`, r.action]));
const find = (rows: readonly PlannedRow[], name: string, ...key: unknown[]) => rows.find((r) => r.name === name && Object.values(r.key).join('/') === key.join('/'));

describe('planErasure', () => {
  it('without any exception every row of the subject is deleted, children before parents', () => {
    const p = planErasure(facts());
    expect(new Set(p.rows.map((r) => r.action))).toEqual(new Set(['delete']));
    expect(p.rows.length).toBe(baseRows.length);
    const at = (n: string) => p.deleteOrder.indexOf(tableKey(t(n)));
    expect(at('order_items')).toBeLessThan(at('orders'));
    expect(at('invoices')).toBeLessThan(at('orders'));
    expect(at('orders')).toBeLessThan(at('customers'));
    expect(at('tickets')).toBeLessThan(at('customers'));
  });

  it('a held row is kept with the hold named (short id), and it keeps the rows it points at', () => {
    const p = planErasure(facts({ held: new Map([[id('order_items', { order_id: 11, line_no: 1 }), ['0123456789abcdef-hold']]]) }));
    const held = find(p.rows, 'order_items', 11, 1)!;
    expect(held.action).toBe('keep');
    expect(held.reason).toBe('legal hold 01234567');
    // Its order stays (no personal column: kept), and the order's customer is anonymised, not deleted.
    expect(find(p.rows, 'orders', 11)!.action).toBe('keep');
    expect(find(p.rows, 'orders', 11)!.reason).toContain('order_items');
    expect(find(p.rows, 'customers', 1)!.action).toBe('anonymise');
    expect(find(p.rows, 'customers', 1)!.columns).toEqual({ email: 'placeholder', full_name: 'placeholder' });
    // What nothing keeps still goes.
    expect(actions(p.rows, 'orders')).toEqual({ 'orders:10': 'delete', 'orders:11': 'keep' });
    expect(find(p.rows, 'order_items', 10, 1)!.action).toBe('delete');
  });

  it('an exempt table is kept with the reason from steward.yml', () => {
    const p = planErasure(facts({ exempt: new Map([[tableKey(t('tickets')), 'complaints register (consumer law)']]) }));
    expect(find(p.rows, 'tickets', 1)).toMatchObject({ action: 'keep', reason: 'exempt in steward.yml: complaints register (consumer law)' });
  });

  it('a shared row is kept unchanged with the other owners counted, not named; the subject’s link to it goes', () => {
    const p = planErasure(facts({ others: new Map([[id('orders', { id: 11 }), 2]]) }));
    const o = find(p.rows, 'orders', 11)!;
    expect(o.action).toBe('shared');
    expect(o.otherOwners).toBe(2);
    expect(o.reason).toContain('2 row(s) of other people');
    expect(o.reason).not.toContain('alice');
    expect(o.columns).toBeUndefined();
    // A shared row stays: its customer stays too, without the person in it.
    expect(find(p.rows, 'customers', 1)!.action).toBe('anonymise');
    const summary = p.tables.find((x) => x.name === 'orders' && x.action === 'shared')!;
    expect(summary.rows).toBe(1);
  });

  it('a legal minimum anonymises a table with personal columns (its cleanup methods, hash → placeholder) and keeps one without', () => {
    const lm = new Map([
      [id('invoices', { id: 500 }), { policy: 'invoices', until: '2031-11-01T00:00:00.000Z', cleanup: { billing_email: 'hash' } }],
      [id('order_items', { order_id: 10, line_no: 1 }), { policy: 'lines', until: null }],
    ]);
    const p = planErasure(facts({ legalMinimum: lm }));
    const inv = find(p.rows, 'invoices', 500)!;
    expect(inv.action).toBe('anonymise');
    expect(inv.columns).toEqual({ billing_email: 'placeholder' }); // a keyed hash is pseudonymisation: not an erasure
    expect(inv.reason).toBe('retention policy invoices: legal minimum not reached (until 2031-11-01)');
    const line = find(p.rows, 'order_items', 10, 1)!;
    expect(line.action).toBe('keep');
    expect(line.reason).toContain('no reference date');
    expect(planErasure(facts({ legalMinimum: new Map([[id('invoices', { id: 500 }), { policy: 'i', until: null, cleanup: { billing_email: 'fixed:gone' } }]]) })).rows.find((r) => r.name === 'invoices')!.columns).toEqual({ billing_email: 'fixed:gone' });
  });

  it('a kept row keeps its parents over two hops: the parent without personal columns is kept, the grandparent anonymised', () => {
    const p = planErasure(facts({ legalMinimum: new Map([[id('invoices', { id: 500 }), { policy: 'invoices', until: null }]]) }));
    expect(find(p.rows, 'invoices', 500)!.action).toBe('anonymise');
    expect(find(p.rows, 'orders', 10)).toMatchObject({ action: 'keep', reason: expect.stringContaining('a row of invoices that stays points at it') });
    expect(find(p.rows, 'customers', 1)).toMatchObject({ action: 'anonymise', reason: expect.stringContaining('a row of orders that stays points at it') });
    expect(find(p.rows, 'orders', 11)!.action).toBe('delete');
    expect(find(p.rows, 'order_items', 10, 1)!.action).toBe('delete');
    // Deleted: children before the parents that stay do not matter; the order of deletes holds only tables with deletes.
    expect(p.deleteOrder).not.toContain(tableKey(t('invoices')));
  });

  it('a row that a table outside the map points at (pinned) is not deleted', () => {
    const p = planErasure(facts({ pinned: new Map([[id('customers', { id: 1 }), 3]]) }));
    expect(find(p.rows, 'customers', 1)).toMatchObject({ action: 'anonymise', reason: expect.stringContaining('3 row(s) outside the subject map point at it') });
    const p2 = planErasure(facts({ pinned: new Map([[id('orders', { id: 10 }), 1]]) }));
    expect(find(p2.rows, 'orders', 10)).toMatchObject({ action: 'keep', reason: expect.stringContaining('it holds no personal column') });
  });

  it('other people’s rows that point at the subject: unlinked when the column allows NULL, kept with the reason when NOT NULL', () => {
    const dave = { ...row('customers', { id: 4, email: 'dave@example.com', full_name: 'Dave', referred_by: 1 }, ['link']), column: 'referred_by' };
    const ref2 = { ...row('referrals', { id: 7, sponsor_id: 1, note: 'x' }, ['link']), column: 'sponsor_id' };
    const p = planErasure(facts({ found: found({ references: [dave, ref2] }) }));
    expect(find(p.rows, 'customers', 4)).toMatchObject({ action: 'unlink', column: 'referred_by' });
    expect(find(p.rows, 'referrals', 7)).toMatchObject({ action: 'keep', column: 'sponsor_id', reason: expect.stringContaining('NOT NULL') });
    // Alice herself is not touched by her own reference.
    expect(find(p.rows, 'customers', 1)!.action).toBe('delete');
  });

  it('mentions: redacted in rows that stay, not at all in rows that go, kept in held rows', () => {
    const mention = (name: string, key: Record<string, unknown>) => ({ ...t(name), key, column: 'body', kinds: ['email' as const] });
    const f = facts({
      found: found({ mentions: [mention('tickets', { id: 1 }), mention('tickets', { id: 2 }), mention('tickets', { id: 3 })] }),
      held: new Map([[id('tickets', { id: 3 }), ['hold-ticket-3']]]),
    });
    const p = planErasure(f);
    const tk = p.rows.filter((r) => r.name === 'tickets');
    // Ticket 1 is Alice's: deleted, not also redacted.
    expect(tk.filter((r) => r.key.id === 1).map((r) => r.action)).toEqual(['delete']);
    expect(tk.filter((r) => r.key.id === 2).map((r) => r.action)).toEqual(['redact']);
    expect(tk.filter((r) => r.key.id === 3)).toEqual([expect.objectContaining({ action: 'keep', reason: expect.stringContaining('legal hold hold-tic') })]);
    expect(p.tables.find((x) => x.name === 'tickets' && x.action === 'redact')!.rows).toBe(1);
  });

  it('a mention in an exempt table is kept like the table’s own rows, not redacted', () => {
    const f = facts({
      found: found({ mentions: [{ ...t('tickets'), key: { id: 2 }, column: 'body', kinds: ['email'] }] }),
      exempt: new Map([[tableKey(t('tickets')), 'complaints register']]),
    });
    const p = planErasure(f);
    expect(p.rows.filter((r) => r.name === 'tickets' && r.key.id === 2)).toEqual([expect.objectContaining({ action: 'keep', reason: expect.stringContaining('exempt in steward.yml: complaints register') })]);
  });

  it('the summary lists each (table, action) once with its rows, in the order they run', () => {
    const p = planErasure(facts({ legalMinimum: new Map([[id('invoices', { id: 500 }), { policy: 'invoices', until: null }]]), found: found({ mentions: [{ ...t('tickets'), key: { id: 9 }, column: 'body', kinds: ['email'] }] }) }));
    expect(p.tables.map((x) => `${x.action}:${x.name}:${x.rows}`)).toEqual(['redact:tickets:1', 'anonymise:customers:1', 'anonymise:invoices:1', 'delete:order_items:2', 'delete:tickets:1', 'delete:orders:1', 'keep:orders:1']);
  });
});

describe('anonymiseColumns', () => {
  it('takes identifiers and personal columns, never a foreign key column', () => {
    expect(anonymiseColumns(map.tables[0], tables.customers)).toEqual({ email: 'placeholder', full_name: 'placeholder' });
    const mt = mtable('orders', 'child', 1, { personalColumns: ['customer_id', 'total'] });
    expect(anonymiseColumns(mt, tables.orders)).toEqual({ total: 'placeholder' });
    expect(anonymiseColumns(undefined, tables.orders)).toEqual({});
  });

  it('an identifier that is the primary key is anonymised too (a row that stays must not keep the email it is keyed by)', () => {
    const users = info('users', [col('email', 'text', { nullable: false, maxLength: 120 }), col('name')], { primaryKey: ['email'] });
    const mt = mtable('users', 'identity', 0, { primaryKey: ['email'], identifiers: [email('email')], personalColumns: ['email', 'name'] });
    expect(anonymiseColumns(mt, users)).toEqual({ email: 'placeholder', name: 'placeholder' });
    // A surrogate key that is no identifier stays.
    const mt2 = mtable('users', 'identity', 0, { primaryKey: ['email'], identifiers: [], personalColumns: ['name'] });
    expect(anonymiseColumns(mt2, users)).toEqual({ name: 'placeholder' });
  });
});

describe('deletionOrder', () => {
  const del = (name: string): PlannedRow => ({ ...t(name), key: { id: 1 }, action: 'delete', reason: '' });
  it('children first, along several hops; only tables with deletes', () => {
    const order = deletionOrder(map, ['customers', 'orders', 'order_items', 'invoices', 'receipts'].map(del));
    const at = (n: string) => order.indexOf(tableKey(t(n)));
    expect(order.length).toBe(5);
    expect(at('receipts')).toBeLessThan(at('invoices'));
    expect(at('invoices')).toBeLessThan(at('orders'));
    expect(at('order_items')).toBeLessThan(at('orders'));
    expect(at('orders')).toBeLessThan(at('customers'));
    expect(deletionOrder(map, [del('orders')])).toEqual([tableKey(t('orders'))]);
  });

  it('a cycle between tables does not hang and still lists every table once (the deepest first)', () => {
    const cyc: SubjectMap = { ...map, tables: [mtable('a', 'identity', 0), mtable('b', 'child', 1), mtable('c', 'child', 2)], links: [link('a', ['id'], 'b', ['a_id']), link('b', ['id'], 'c', ['b_id']), link('c', ['id'], 'a', ['c_id']), link('a', ['id'], 'a', ['parent_id'])] };
    const order = deletionOrder(cyc, ['a', 'b', 'c'].map(del));
    expect([...order].sort()).toEqual(['a', 'b', 'c'].map((n) => tableKey(t(n))).sort());
    expect(order[0]).toBe(tableKey(t('c')));
  });
});

describe('placeholderValue', () => {
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  it('NULL wherever the column allows it, whatever its type', () => {
    for (const tc of ['text', 'integer', 'uuid', 'date', 'boolean', 'timestamp'] as const) expect(placeholderValue(col('x', tc), { unique: true, seed: 's', kind: 'email' })).toBeNull();
  });

  it('a NOT NULL unique email stays a well-formed address, unique per seed, within the column’s length (down to 5 characters)', () => {
    for (const maxLength of [null, 120, 38, 30, 20, 16, 15, 12, 10, 8, 6, 5]) {
      const c = col('email', 'text', { nullable: false, maxLength });
      const values = Array.from({ length: 300 }, (_, i) => placeholderValue(c, { kind: 'email', unique: true, seed: `erasure-1\0customers\0[${i}]\0email` }) as string);
      for (const v of values) {
        expect(v, `maxLength ${maxLength}`).toMatch(EMAIL);
        expect(normaliseEmail(v), `maxLength ${maxLength}`).toBe(v); // what find would normalise it to: lower case already
        if (maxLength !== null) expect(v.length).toBeLessThanOrEqual(maxLength);
        expect(v).not.toContain('alice');
      }
      // Down to 8 characters, 300 erased rows never collide (below that a well-formed address leaves too few characters).
      if (maxLength === null || maxLength >= 8) expect(new Set(values).size, `maxLength ${maxLength}`).toBe(values.length);
    }
    expect(placeholderValue(col('email', 'text', { nullable: false }), { kind: 'email', unique: true, seed: 'x' })).toMatch(/^erased-[0-9a-f]{16}@erased\.invalid$/);
  });

  it('a unique NOT NULL text of any length gets distinct values (the marker gives way to the hash when short)', () => {
    for (const maxLength of [null, 64, 12, 8, 6]) {
      const c = col('username', 'text', { nullable: false, maxLength });
      const values = Array.from({ length: 300 }, (_, i) => placeholderValue(c, { unique: true, seed: `seed-${i}` }) as string);
      expect(new Set(values).size, `maxLength ${maxLength}`).toBe(values.length);
      if (maxLength !== null) for (const v of values) expect(v.length).toBeLessThanOrEqual(maxLength);
    }
    expect(placeholderValue(col('name', 'text', { nullable: false, maxLength: 3 }), { unique: false, seed: 's' })).toBe('era');
  });

  it('integer, uuid, date, timestamp and boolean placeholders are valid values of their type', () => {
    const nn = (tc: ColumnInfo['typeClass']) => col('x', tc, { nullable: false });
    const ints = Array.from({ length: 200 }, (_, i) => placeholderValue(nn('integer'), { unique: true, seed: `s${i}` }) as number);
    for (const n of ints) {
      expect(Number.isSafeInteger(n)).toBe(true);
      expect(n).toBeLessThan(0); // never a value a real sequence hands out
      expect(n).toBeGreaterThanOrEqual(-2_147_483_648); // fits a 32-bit integer column
    }
    expect(new Set(ints).size).toBe(ints.length);
    expect(placeholderValue(nn('integer'), { unique: false, seed: 's' })).toBe(0);
    const uuid = placeholderValue(nn('uuid'), { unique: true, seed: 's' }) as string;
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(placeholderValue(nn('date'), { unique: false, seed: 's' })).toBe('1970-01-01');
    const ts = placeholderValue(nn('timestamp'), { unique: false, seed: 's' }) as Date;
    expect(ts).toBeInstanceOf(Date);
    // MySQL/MariaDB TIMESTAMP starts at 1970-01-01 00:00:01 UTC: the epoch itself is refused.
    expect(ts.getTime()).toBeGreaterThanOrEqual(Date.UTC(1970, 0, 1, 14));
    expect(ts.getTime()).toBeLessThan(Date.UTC(1971, 0, 1));
    expect(placeholderValue(nn('boolean'), { unique: false, seed: 's' })).toBe(false);
  });

  it('deterministic: the same seed gives the same value (a resumed run writes what the first wrote), another seed another', () => {
    const c = col('email', 'text', { nullable: false, maxLength: 40 });
    expect(placeholderValue(c, { kind: 'email', unique: true, seed: 'a' })).toBe(placeholderValue(c, { kind: 'email', unique: true, seed: 'a' }));
    expect(placeholderValue(c, { kind: 'email', unique: true, seed: 'a' })).not.toBe(placeholderValue(c, { kind: 'email', unique: true, seed: 'b' }));
    expect(placeholderValue(col('u', 'uuid', { nullable: false }), { unique: true, seed: 'a' })).toBe(placeholderValue(col('u', 'uuid', { nullable: false }), { unique: true, seed: 'a' }));
  });
});

describe('redactText', () => {
  it('replaces every span, case-insensitively', () => {
    expect(redactText('Write to ALICE@Example.com or alice@example.com.', ['alice@example.com'])).toBe(`Write to ${REDACTED} or ${REDACTED}.`);
  });
  it('is idempotent', () => {
    const once = redactText('a alice@example.com b +44 20 7946 0001', ['alice@example.com', '+44 20 7946 0001']);
    expect(redactText(once, ['alice@example.com', '+44 20 7946 0001'])).toBe(once);
    expect(once).toBe(`a ${REDACTED} b ${REDACTED}`);
  });
  it('takes regular-expression metacharacters in an identifier literally', () => {
    const needle = 'a.b+c(d)*[e]?^$|{1}\\x@example.com';
    expect(redactText(`x ${needle} y`, [needle])).toBe(`x ${REDACTED} y`);
    expect(redactText('aXb+c(d)*[e]?^$|{1}\\x@example.com', [needle])).toBe('aXb+c(d)*[e]?^$|{1}\\x@example.com'); // the dot is no wildcard
    expect(redactText('+44 20 7946 0001', ['+44 20 7946 0001'])).toBe(REDACTED);
  });
  it('overlapping needles: the longest wins, nothing of either is left', () => {
    const out = redactText('mail alice@example.com now', ['example.com', 'alice@example.com', 'alice']);
    expect(out).toBe(`mail ${REDACTED} now`);
    const both = redactText('abcdefgh', ['abcdef', 'defgh']);
    expect(both).not.toContain('abcdef');
    expect(both).not.toContain('defgh');
  });
  it('a marker of the span’s own length where the column is too short for the marker', () => {
    expect(redactText('to kim@ex.io now', ['kim@ex.io'], (s) => '*'.repeat(s.length))).toBe('to ********* now');
  });
  it('ignores needles shorter than 3 characters (they would shred every text)', () => {
    expect(redactText('a to b', ['a', 'to', ''])).toBe('a to b');
    expect(redactText('no needles', [])).toBe('no needles');
  });
});

describe('rowId', () => {
  it('tells binary keys apart that are no valid UTF-8 (a binary(16) UUID)', () => {
    const a = Buffer.from([0x80, 0x01]);
    const b = Buffer.from([0x81, 0x01]);
    expect(String(a)).toBe(String(b)); // what a text comparison would see
    expect(rowId(t('sessions'), { tok: a })).not.toBe(rowId(t('sessions'), { tok: b }));
    expect(rowId(t('sessions'), { tok: a })).toBe(rowId(t('sessions'), { tok: Buffer.from([0x80, 0x01]) }));
  });
});

describe('keysDigest', () => {
  it('does not depend on the order of the keys, and does on their values', () => {
    const a = [{ id: 1 }, { id: 2 }, { id: 3 }];
    expect(keysDigest(a)).toBe(keysDigest([...a].reverse()));
    expect(keysDigest(a)).not.toBe(keysDigest([{ id: 1 }, { id: 2 }]));
    expect(keysDigest([{ order_id: 1, line_no: 2 }])).not.toBe(keysDigest([{ order_id: 2, line_no: 1 }]));
    expect(keysDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('keyed: an HMAC under the key, unlike the plain hash and unlike under another key; still order-independent', () => {
    const a = [{ id: 42 }, { id: 7 }];
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    expect(keysDigest(a, k1)).not.toBe(keysDigest(a));
    expect(keysDigest(a, k1)).not.toBe(keysDigest(a, k2));
    expect(keysDigest(a, k1)).toBe(keysDigest([...a].reverse(), k1));
    expect(keysDigest(a, k1)).toMatch(/^[0-9a-f]{64}$/);
  });
});
