/**
 * Policies by data category (pure): which tables a category policy covers,
 * which reference column each uses, what a table policy takes over, and the
 * problems it names instead of doing nothing silently.
 */
import { describe, expect, it } from 'vitest';
import type { InventoryItem } from '../../../src/audit/types.js';
import { loadConfigText } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { policiesForSource, policySources, selectedBy } from '../../../src/retention/categories.js';
import { validatePolicies, type RetentionPolicy } from '../../../src/retention/policy.js';
import type { ColumnInfo, TableInfo } from '../../../src/sources/types.js';

const col = (name: string, typeClass: ColumnInfo['typeClass'] = 'text'): ColumnInfo => ({ name, dataType: typeClass, typeClass, nullable: true, maxLength: null, comment: null });
const table = (name: string, columns: ColumnInfo[], pk = ['id']): TableInfo => ({ schema: 'public', name, kind: 'table', columns: [col('id', 'integer'), ...columns], primaryKey: pk, foreignKeys: [], rowEstimate: 100, comment: null });
const item = (source: string, t: string, column: string, category: string): InventoryItem =>
  ({ source, schema: 'public', table: t, column, dataType: 'text', category, risk: 'medium', confidence: 0.9, rowEstimate: 100, evidence: {} as never, examples: [], freeText: [], purpose: null }) as InventoryItem;

const tables = [
  table('customers', [col('email'), col('phone'), col('last_login', 'timestamp'), col('created_at', 'timestamp')]),
  table('newsletter', [col('email'), col('created_at', 'timestamp')]),
  table('audit_log', [col('actor_email'), col('at', 'timestamp')]),
  table('leads', [col('contact_email')]), // no reference date at all
];
const inventory = [
  item('shop', 'customers', 'email', 'contact.email'),
  item('shop', 'customers', 'phone', 'contact.phone'),
  item('shop', 'newsletter', 'email', 'contact.email'),
  item('shop', 'audit_log', 'actor_email', 'contact.email'),
  item('crm', 'customers', 'email', 'contact.email'),
];

function config(policies: string): ReturnType<typeof loadConfigText>['config']['retention']['policies'] {
  return loadConfigText(`sources:\n  - { name: shop, kind: sqlite, url: a.db, owner: t }\n  - { name: crm, kind: sqlite, url: b.db, owner: t }\nretention:\n  policies:\n${policies}`, { file: 'steward.yml' }).config.retention.policies;
}

describe('category policies', () => {
  it('cover every table the inventory found holding the category, each with the first reference column it has', () => {
    const ps = config('    - { name: emails, category: contact.email, from: [last_login, created_at, at], period: 2y, method: cleanup, cleanup: hash, exclude: [leads], legalBasis: "2 years" }');
    const r = policiesForSource(ps, 'shop', ['shop', 'crm'], tables, inventory);
    expect(r.problems).toEqual([]);
    expect(r.policies.map((p) => [p.policy.name, p.policy.table, p.policy.from, p.policy.cleanup])).toEqual([
      ['emails[public.audit_log]', 'public.audit_log', 'at', { actor_email: 'hash' }],
      ['emails[public.customers]', 'public.customers', 'last_login', { email: 'hash' }], // not phone: another category
      ['emails[public.newsletter]', 'public.newsletter', 'created_at', { email: 'hash' }],
    ]);
    expect(r.policies.every((p) => p.policy.origin?.policy === 'emails' && p.index === 0)).toBe(true);
    // The other source's inventory is its own.
    const crm = policiesForSource(ps, 'crm', ['shop', 'crm'], [tables[0]!], inventory);
    expect(crm.policies.map((p) => p.policy.name)).toEqual(['emails[public.customers]']);
  });

  it('wildcards, exclusions and the sources list narrow what is covered', () => {
    const ps = config('    - { name: contact, category: "contact.*", sources: [shop], from: [created_at, last_login], period: 3y, method: erase, exclude: [public.audit_log, newsletter], legalBasis: "3 years" }');
    const r = policiesForSource(ps, 'shop', ['shop', 'crm'], tables, inventory);
    expect(r.policies.map((p) => [p.policy.table, p.policy.from, p.policy.cleanup])).toEqual([['public.customers', 'created_at', undefined]]);
    expect(policySources(ps[0]!, ['shop', 'crm'])).toEqual(['shop']);
    expect(policiesForSource(ps, 'crm', ['shop', 'crm'], tables, inventory).policies).toEqual([]);
  });

  it('a table policy of the same kind takes its table over; one of another kind runs beside it', () => {
    const ps = config(
      [
        '    - { name: emails, category: contact.email, from: [created_at, at], period: 2y, method: erase, exclude: [leads], legalBasis: "2 years" }',
        '    - { name: customers-5y, source: shop, table: customers, from: created_at, period: 5y, method: erase, legalBasis: "contract + 5 years" }',
        '    - { name: newsletter-anon, source: shop, table: newsletter, from: created_at, period: 3m, method: cleanup, cleanup: { email: hash }, legalBasis: "3 months" }',
      ].join('\n'),
    );
    const r = policiesForSource(ps, 'shop', ['shop', 'crm'], tables, inventory);
    expect(r.problems).toEqual([]);
    expect(r.skipped).toEqual([{ policy: 'emails', table: 'public.customers', coveredBy: 'customers-5y', reason: 'left to policy "customers-5y" (a table policy on the same table takes precedence)' }]);
    expect(r.policies.map((p) => p.policy.name).sort()).toEqual(['customers-5y', 'emails[public.audit_log]', 'emails[public.newsletter]', 'newsletter-anon']);
  });

  it('a table cleanup takes over only the columns it cleans; a filtered table erase is judged by the conflict rules', () => {
    const phoneOnly = config(
      [
        '    - { name: emails, category: contact.email, from: [created_at, at], period: 2y, method: cleanup, cleanup: hash, exclude: [leads], legalBasis: "2 years" }',
        '    - { name: phones, source: shop, table: customers, from: created_at, period: 1y, method: cleanup, cleanup: { phone: "null" }, legalBasis: "1 year" }',
      ].join('\n'),
    );
    const a = policiesForSource(phoneOnly, 'shop', ['shop'], tables, inventory);
    expect(a.problems).toEqual([]);
    expect(a.policies.find((p) => p.policy.name === 'emails[public.customers]')?.policy.cleanup).toEqual({ email: 'hash' });
    const emailToo = config(
      [
        '    - { name: emails, category: contact.email, from: [created_at, at], period: 2y, method: cleanup, cleanup: hash, exclude: [leads], legalBasis: "2 years" }',
        '    - { name: cust, source: shop, table: customers, from: created_at, period: 1y, method: cleanup, cleanup: { email: "null", phone: "null" }, legalBasis: "1 year" }',
      ].join('\n'),
    );
    const b = policiesForSource(emailToo, 'shop', ['shop'], tables, inventory);
    expect(b.policies.map((p) => p.policy.name)).not.toContain('emails[public.customers]');
    expect(b.skipped).toEqual([expect.objectContaining({ policy: 'emails', table: 'public.customers', coveredBy: 'cust' })]);
    const filtered = config(
      [
        '    - { name: emails, category: contact.email, from: [created_at, at], period: 2y, method: erase, exclude: [leads], legalBasis: "2 years" }',
        '    - { name: some, source: shop, table: customers, where: "phone is null", from: created_at, period: 5y, method: erase, legalBasis: "5 years" }',
      ].join('\n'),
    );
    const c = policiesForSource(filtered, 'shop', ['shop'], tables, inventory);
    expect(c.skipped).toEqual([]);
    expect(c.problems.map((p) => p.message)).toEqual([expect.stringMatching(/policies "some" and "emails\[public\.customers\]" both cover rows of public\.customers but disagree|policies "emails\[public\.customers\]" and "some" both cover rows/)]);
  });

  it('a table whose only category column is its key is skipped for cleanup, with the reason (not a problem that blocks the source)', () => {
    const keyed: TableInfo = { ...table('subscribers', [col('name'), col('created_at', 'timestamp')]), columns: [col('email'), col('name'), col('created_at', 'timestamp')], primaryKey: ['email'] };
    const inv = [item('shop', 'subscribers', 'email', 'contact.email')];
    const ps = config('    - { name: emails, category: contact.email, from: created_at, period: 2y, method: cleanup, cleanup: hash, legalBasis: "2 years" }');
    const r = policiesForSource(ps, 'shop', ['shop'], [keyed], inv);
    expect(r.problems).toEqual([]);
    expect(r.policies).toEqual([]);
    expect(r.skipped).toEqual([{ policy: 'emails', table: 'public.subscribers', reason: expect.stringMatching(/are the primary key, which cleanup never overwrites/) }]);
  });

  it('says what it cannot do yet or at all: no inventory yet (waits), a table without any of the reference columns (a problem)', () => {
    const ps = config('    - { name: emails, category: contact.email, from: created_at, period: 2y, method: erase, legalBasis: "2 years" }');
    // No inventory yet: waiting, not impossible (the source's other policies still run).
    const none = policiesForSource(ps, 'shop', ['shop'], tables, null);
    expect(none.policies).toEqual([]);
    expect(none.problems).toEqual([]);
    expect(none.skipped).toEqual([{ policy: 'emails', table: null, reason: expect.stringMatching(/^covers the data category contact\.email, and no audit of source "shop" has recorded an inventory yet: run `steward audit` first/) }]);
    const withLeads = [...inventory, item('shop', 'leads', 'contact_email', 'contact.email')];
    const r = policiesForSource(ps, 'shop', ['shop'], tables, withLeads);
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/contact\.email is in shop\.public\.audit_log, which has none of the reference columns created_at/),
      expect.stringMatching(/contact\.email is in shop\.public\.leads, which has none of the reference columns created_at/),
    ]);
  });

  it('--policy selects a category policy by its name, or one of its tables', () => {
    const p = { name: 'emails[public.customers]', origin: { policy: 'emails', category: 'contact.email' } } as RetentionPolicy;
    expect(selectedBy(p, ['emails'])).toBe(true);
    expect(selectedBy(p, ['emails[public.customers]'])).toBe(true);
    expect(selectedBy(p, ['emails[public.newsletter]'])).toBe(false);
    expect(selectedBy(p, undefined)).toBe(true);
  });

  it('steward.yml refuses malformed category and table policies, naming the field', () => {
    const bad = (yml: string) => {
      try {
        config(yml);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return ((e as ConfigError).issues ?? [(e as Error).message]).join('\n');
      }
      throw new Error('accepted');
    };
    expect(bad('    - { name: a, source: shop, table: t, category: contact.email, from: x, period: 2y, method: erase, legalBasis: b }')).toMatch(/category.*table or category, not both/);
    expect(bad('    - { name: a, period: 2y, from: x, method: erase, legalBasis: b }')).toMatch(/table.*give the table it covers, or a data category/);
    expect(bad('    - { name: a, category: contact.email, where: "id > 1", from: x, period: 2y, method: erase, legalBasis: b }')).toMatch(/where.*cannot apply to all of them/);
    expect(bad('    - { name: a, category: contact.email, from: x, period: 2y, method: cleanup, cleanup: { email: hash }, legalBasis: b }')).toMatch(/cleanup.*one method/);
    expect(bad('    - { name: a, table: t, from: x, period: 2y, method: erase, legalBasis: b }')).toMatch(/source.*names its source/);
    expect(bad('    - { name: a, source: shop, table: t, from: [x, y], period: 2y, method: erase, legalBasis: b }')).toMatch(/from.*one reference column/);
    expect(bad('    - { name: a, category: "not a category", from: x, period: 2y, method: erase, legalBasis: b }')).toMatch(/category/);
  });
});

describe('policies that disagree', () => {
  const t = [table('tickets', [col('email'), col('body'), col('closed_at', 'timestamp')])];
  const p = (x: Partial<RetentionPolicy> & Pick<RetentionPolicy, 'name' | 'method'>): RetentionPolicy => ({ source: 's', table: 'tickets', from: 'closed_at', period: '2y', legalBasis: 'b', cascade: [], ...x });
  const problems = (ps: RetentionPolicy[]) => validatePolicies(ps, (x) => ps.indexOf(x), t).map((x) => x.message);

  it('anonymising after 3 months and deleting after 2 years is one plan, not a conflict', () => {
    expect(problems([p({ name: 'anon', method: 'cleanup', period: '3m', cleanup: { email: 'hash' } }), p({ name: 'end', method: 'erase' })])).toEqual([]);
    expect(problems([p({ name: 'a', method: 'cleanup', period: '3m', cleanup: { email: 'hash' } }), p({ name: 'b', method: 'cleanup', period: '1y', cleanup: { body: 'null' } })])).toEqual([]);
  });

  it('two ends for the same rows, or two cleanups of one column, are', () => {
    expect(problems([p({ name: 'a', method: 'erase' }), p({ name: 'b', method: 'erase', period: '3y' })])).toEqual([expect.stringMatching(/policies "a" and "b" both cover rows of public\.tickets but disagree/)]);
    expect(problems([p({ name: 'a', method: 'erase' }), p({ name: 'b', method: 'archive' })])).toHaveLength(1);
    expect(problems([p({ name: 'a', method: 'cleanup', cleanup: { email: 'hash' } }), p({ name: 'b', method: 'cleanup', cleanup: { email: 'null', body: 'null' } })])).toEqual([expect.stringMatching(/both cover column email of public\.tickets but disagree/)]);
    // Disjoint filters never clash.
    expect(problems([p({ name: 'a', method: 'erase', where: "status = 'x'" }), p({ name: 'b', method: 'erase', period: '3y', where: "status = 'y'" })])).toEqual([]);
  });
});

describe('foreign keys Steward does not follow', () => {
  const fk = (name: string, columns: string[], referencedTable: string) => ({ name, columns, referencedSchema: 'public', referencedTable, referencedColumns: ['id'] });
  const p = (x: Partial<RetentionPolicy>): RetentionPolicy => ({ name: 'p', source: 's', table: 'users', from: 'seen', period: '2y', method: 'erase', legalBasis: 'b', cascade: [], ...x });
  const withFks = (t: TableInfo, fks: ReturnType<typeof fk>[]): TableInfo => ({ ...t, foreignKeys: fks });
  const users = table('users', [col('seen', 'date'), col('referred_by', 'integer')]);

  it('a table referencing itself is refused, at the root or in the cascade', () => {
    const self = [withFks(users, [fk('users_referred_by_fkey', ['referred_by'], 'users')])];
    expect(validatePolicies([p({})], () => 0, self).map((x) => x.message)).toEqual([expect.stringMatching(/public\.users references itself \(foreign key users_referred_by_fkey\)/)]);
    const replies = [users, withFks(table('replies', [col('user_id', 'integer'), col('parent_id', 'integer')]), [fk('r_user', ['user_id'], 'users'), fk('r_parent', ['parent_id'], 'replies')])];
    expect(validatePolicies([p({ cascade: ['replies'] })], () => 0, replies).map((x) => `${x.path} ${x.message}`)).toEqual([expect.stringMatching(/\.cascade public\.replies references itself/)]);
  });

  it('a cycle among the cascade is refused, naming it', () => {
    const t = [
      users,
      withFks(table('a', [col('user_id', 'integer'), col('b_id', 'integer')]), [fk('a_user', ['user_id'], 'users'), fk('a_b', ['b_id'], 'b')]),
      withFks(table('b', [col('a_id', 'integer')]), [fk('b_a', ['a_id'], 'a')]),
    ];
    expect(validatePolicies([p({ cascade: ['a', 'b'] })], () => 0, t).map((x) => x.message)).toEqual([expect.stringMatching(/the foreign keys of public\.(a|b) → public\.(a|b) → public\.(a|b) form a cycle/)]);
    // Without the cycle, the same chain is fine.
    const ok = [users, withFks(table('a', [col('user_id', 'integer')]), [fk('a_user', ['user_id'], 'users')]), withFks(table('b', [col('a_id', 'integer')]), [fk('b_a', ['a_id'], 'a')])];
    expect(validatePolicies([p({ cascade: ['a', 'b'] })], () => 0, ok)).toEqual([]);
  });
});
