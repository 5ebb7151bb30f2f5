import { describe, expect, it } from 'vitest';
import type { InventoryItem } from '../../../src/audit/types.js';
import type { ColumnInfo, TableInfo } from '../../../src/sources/types.js';
import { maskIdentifier, normaliseEmail, normaliseNationalId, normalisePhone, parseIdentifiers, phoneDigitVariants } from '../../../src/subjects/identifiers.js';
import { createIndexSql, deriveSubjectMap, inferredConfidence, linkCandidates, type SourceSchema } from '../../../src/subjects/map.js';

const col = (name: string, typeClass: ColumnInfo['typeClass'] = 'text'): ColumnInfo => ({ name, dataType: typeClass, typeClass, nullable: true, maxLength: null, comment: null });
const table = (name: string, columns: ColumnInfo[], pk: string[] = ['id'], fks: TableInfo['foreignKeys'] = []): TableInfo => ({ schema: 'main', name, kind: 'table', columns, primaryKey: pk, foreignKeys: fks, rowEstimate: 10, comment: null });
const inv = (t: string, c: string, category: string): InventoryItem => ({ source: 's', schema: 'main', table: t, column: c, dataType: 'text', category: category as never, risk: 'medium', confidence: 1, rowEstimate: 10, evidence: {} as never, examples: [], freeText: [], purpose: null });

describe('identifiers', () => {
  it('normalises per kind and refuses what is none, without echoing it', () => {
    expect(normaliseEmail('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(normaliseEmail('alice')).toBeNull();
    expect(normalisePhone('+44 20 7946 0958')).toBe('+442079460958');
    expect(normalisePhone('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(normalisePhone('12')).toBeNull();
    expect(normaliseNationalId('ab 12-34-56 c')).toBe('AB123456C');
    expect(() => parseIdentifiers({ email: ['secret-value'] })).toThrow(/--email #1 is not an email address/);
    try {
      parseIdentifiers({ email: ['secret-value'] });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('secret-value');
    }
    expect(() => parseIdentifiers({})).toThrow(/no identifier/);
    expect(parseIdentifiers({ id: ['public.customers.id=42'] })).toEqual([{ kind: 'key', table: 'public.customers', column: 'id', value: '42' }]);
  });
  it('gives the digit spellings a stored phone may have', () => {
    expect(phoneDigitVariants('+442079460958', 'GB')).toEqual(expect.arrayContaining(['442079460958', '00442079460958', '02079460958', '2079460958']));
  });
  it('masks for human output', () => {
    expect(maskIdentifier({ kind: 'email', value: 'alice@example.com' })).toBe('a***@example.com');
  });
});

describe('subject map', () => {
  const customers = table('customers', [col('id', 'integer'), col('email'), col('phone')]);
  const orders = table('orders', [col('id', 'integer'), col('customer_id', 'integer'), col('shipping_address_id', 'integer')]);
  const addresses = table('addresses', [col('id', 'integer'), col('street')]);
  const categories = table('categories', [col('id', 'integer'), col('title')]);
  const posts = table('posts', [col('id', 'integer'), col('category_id', 'integer'), col('customer_ref', 'text')]);
  const schema: SourceSchema = { source: 's', kind: 'sqlite', tables: [customers, orders, addresses, categories, posts], inventory: [inv('customers', 'email', 'contact.email'), inv('customers', 'phone', 'contact.phone'), inv('addresses', 'street', 'contact.postal_address')], indexLeads: new Map() };

  it('proposes links from names and types: customer_id → customers.id, shipping_address_id → addresses.id, category_id → categories.id; not a text ref to an integer key', () => {
    const c = linkCandidates(schema).map((x) => `${x.child.name}.${x.child.columns[0]} → ${x.parent.name}.${x.parent.columns[0]}`);
    expect(c).toEqual(['orders.customer_id → customers.id', 'orders.shipping_address_id → addresses.id', 'posts.category_id → categories.id']);
  });
  it('confidence is the inclusion share, discounted below 20 sampled values', () => {
    expect(inferredConfidence({ sampled: 100, found: 100, reason: '' })).toBe(1);
    expect(inferredConfidence({ sampled: 100, found: 50, reason: '' })).toBe(0.5);
    expect(inferredConfidence({ sampled: 10, found: 10, reason: '' })).toBe(0.5);
    expect(inferredConfidence({ sampled: 0, found: 0, reason: '' })).toBe(0);
  });
  it('derives roles from measured links; a link below the threshold is shown but not followed; unreachable personal data is a finding', () => {
    const measured = linkCandidates(schema).map((c) => ({ ...c, evidence: { sampled: 50, found: c.child.columns[0] === 'shipping_address_id' ? 10 : 50, reason: c.reason } }));
    const map = deriveSubjectMap([schema], measured);
    const role = (n: string) => map.tables.find((t) => t.name === n)!.role;
    expect(role('customers')).toBe('identity');
    expect(role('orders')).toBe('child');
    expect(role('addresses')).toBe('unreachable');
    expect(role('categories')).toBe('unrelated');
    expect(map.links.find((l) => l.child.columns[0] === 'shipping_address_id')).toMatchObject({ used: false, confidence: 0.2 });
    expect(map.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['subjects.unreachable-personal-data', 'subjects.identifier-not-indexed', 'subjects.link-inferred']));
    const rejected = deriveSubjectMap([schema], measured, { minConfidence: 0.9, exclude: [], identifiers: [], links: [{ from: { source: 's', schema: 'main', name: 'orders', columns: ['customer_id'] }, to: { source: 's', schema: 'main', name: 'customers', columns: ['id'] }, accept: false }] });
    expect(rejected.tables.find((t) => t.name === 'orders')!.role).toBe('unrelated');
  });
  it('writes the index a lookup needs, quoted for the dialect', () => {
    expect(createIndexSql('postgres', { schema: 'public', name: 'we"ird' }, { column: 'email', kind: 'email' })).toBe('CREATE INDEX ON "public"."we""ird" (lower("email"));');
    expect(createIndexSql('mysql', { schema: 'shop', name: 'customers' }, { column: 'email', kind: 'email' })).toBe('CREATE INDEX `customers_email_subject` ON `shop`.`customers` (`email`);');
    expect(createIndexSql('mysql', { schema: 'shop', name: 'customers' }, { column: 'phone', kind: 'phone' })).toBeNull();
  });
  it('rates phone lookups by an index on their exact expression, as Postgres deparses it; says so where none can be had', () => {
    const pg = (leads: string[]): SourceSchema => ({ ...schema, kind: 'postgres', tables: [customers], indexLeads: new Map([['main.customers', leads]]) });
    const phoneOf = (s: SourceSchema) => deriveSubjectMap([s], []).tables.find((t) => t.name === 'customers')!.identifiers.find((i) => i.column === 'phone')!.indexed;
    const deparsed = `replace(replace(replace(replace(replace(replace(replace(phone, ' '::text, ''::text), '-'::text, ''::text), '('::text, ''::text), ')'::text, ''::text), '.'::text, ''::text), '+'::text, ''::text), '/'::text, ''::text)`;
    expect(phoneOf(pg([deparsed]))).toBe(true);
    expect(phoneOf(pg(['phone', 'lower(email)']))).toBe(false); // a plain index does not serve the digits lookup
    expect(phoneOf(pg([deparsed.replace(`'+'`, `'*'`)]))).toBe(false);
    const finding = deriveSubjectMap([pg([])], []).findings.find((f) => f.location.column === 'phone')!;
    expect(finding).toMatchObject({ rule: 'subjects.identifier-not-indexed', severity: 'low' });
    expect(finding.remedy).toContain(createIndexSql('postgres', customers, { column: 'phone', kind: 'phone' })!);
    const my = deriveSubjectMap([{ ...schema, kind: 'mysql', tables: [customers], indexLeads: new Map([['main.customers', ['email']]]) }], []).findings.filter((f) => f.rule === 'subjects.identifier-not-indexed');
    expect(my.map((f) => [f.location.column, f.severity])).toEqual([['phone', 'info']]);
    expect(my[0]!.message).toMatch(/cannot index, so every request scans the table/);
  });
  it('suggests a trigram index for free text in large Postgres tables only, until one exists', () => {
    const tickets = { ...table('tickets', [col('id', 'integer'), col('customer_id', 'integer'), col('body')], ['id'], [{ name: 'fk', columns: ['customer_id'], referencedSchema: 'main', referencedTable: 'customers', referencedColumns: ['id'] }]), rowEstimate: 50_000 };
    const s = (kind: SourceSchema['kind'], leads: string[], rows = 50_000): SourceSchema => ({ source: 's', kind, tables: [customers, { ...tickets, rowEstimate: rows }], inventory: [inv('customers', 'email', 'contact.email'), inv('tickets', 'body', 'content.free_text')], indexLeads: new Map([['main.tickets', leads]]) });
    const rules = (x: SourceSchema) => deriveSubjectMap([x], []).findings.filter((f) => f.rule === 'subjects.free-text-not-indexed');
    expect(rules(s('postgres', ['customer_id']))).toEqual([expect.objectContaining({ severity: 'info', location: expect.objectContaining({ name: 'tickets', column: 'body' }), remedy: 'Add one: CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX ON "main"."tickets" USING gin (lower("body") gin_trgm_ops);' })]);
    expect(rules(s('postgres', ['gin:lower(body) gin_trgm_ops']))).toEqual([]);
    expect(rules(s('postgres', ['lower(body)']))).toHaveLength(1); // a btree on lower(body) does not serve like '%…%'
    expect(rules(s('postgres', [], 9_000))).toEqual([]);
    expect(rules(s('sqlite', []))).toEqual([]);
  });
});
