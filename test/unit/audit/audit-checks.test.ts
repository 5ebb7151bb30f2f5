/** The pure parts of the checks the audit must not skip silently (see test/integration/audit-checks.test.ts). */
import { describe, expect, it } from 'vitest';
import { binaryNotSampledFinding, reviewInventory } from '../../../src/audit/collection-review.js';
import { accessProblems, didYouMean, integrityProblems, nameFindings, schemaProblems } from '../../../src/audit/config-names.js';
import { integrityFindings, type TableIntegrity } from '../../../src/audit/integrity.js';
import type { InventoryItem } from '../../../src/audit/types.js';
import { compileUserPattern } from '../../../src/config/index.js';
import { formatCiphertext } from '../../../src/crypto/format.js';
import { createClassifier } from '../../../src/detection/classify.js';
import type { AccessSnapshot, TableInfo } from '../../../src/sources/types.js';

const col = (name: string, typeClass: TableInfo['columns'][number]['typeClass'] = 'text') => ({ name, dataType: typeClass, typeClass, nullable: true, maxLength: null, comment: null });
const table = (name: string, columns: string[], over: Partial<TableInfo> = {}): TableInfo => ({
  schema: 'public', name, kind: 'table', columns: columns.map((c) => col(c)), primaryKey: ['id'], foreignKeys: [], rowEstimate: 10, comment: null, ...over,
});
const TABLES = [
  table('customers', ['id', 'email', 'updated_at']),
  table('orders', ['id', 'customer_id']),
  table('secrets', ['id', 'token']),
  table('v_customers', ['id', 'email'], { kind: 'view' }),
];
const audited = (t: TableInfo) => t.name !== 'secrets';

function snapshot(over: Partial<AccessSnapshot> = {}): AccessSnapshot {
  return {
    principals: [
      { name: 'PUBLIC', kind: 'public', login: false, superuser: false, bypassRls: false },
      { name: 'app_ro', kind: 'role', login: true, superuser: false, bypassRls: false },
    ],
    memberships: [],
    grants: [],
    tableSecurity: [{ schema: 'public', table: 'customers', rowSecurity: false, forceRowSecurity: false, policies: 0, enable: 'ALTER TABLE …' }],
    defaultPrivileges: [],
    files: [],
    problems: [],
    statements: { narrowTable: () => null, expirePassword: () => null, secureAccount: () => null, demote: () => null, chmod: () => '' },
    ...over,
  };
}

describe('names in steward.yml that match nothing', () => {
  it('suggests a near miss, and nothing for a far one', () => {
    expect(didYouMean('custmers', ['customers', 'orders'])).toBe(' Did you mean "customers"?');
    expect(didYouMean('Customers', ['customers'])).toBe(' Did you mean "customers"?');
    expect(didYouMean('invoices', ['customers', 'orders'])).toBe('');
  });

  it('schemas: one problem per schema without a table, with the schemas that have some', () => {
    const p = schemaProblems(0, 'shop', ['public', 'sales', 'PUBLIC'], TABLES, ['public', 'crm']);
    expect(p.map((x) => x.path)).toEqual(['sources[0].schemas[1]']);
    expect(p[0]!.message).toContain('"public", "crm"');
    expect(schemaProblems(0, 'shop', undefined, TABLES)).toEqual([]);
  });

  it('integrity: unknown tables and columns, views, excluded tables, broken references', () => {
    const p = integrityProblems(
      2,
      'shop',
      {
        required: ['customers.email', 'custmers.email', 'customers.emial', 'v_customers.email', 'secrets.token'],
        updatedColumns: { customers: 'updated_at', orders: 'modified' },
        references: { 'orders.customer_id': 'customers.id', 'orders.client_id': 'customers.id', 'customers.id': 'accounts.id', 'orders.id': 'customers.uid' },
      },
      TABLES,
      audited,
    );
    expect(p.map((x) => `${x.path} | ${x.message}`)).toEqual([
      'sources[2].integrity.required[1] | table "custmers" does not exist in source "shop", so the required-value check of custmers.email does not run. Did you mean "customers"?',
      'sources[2].integrity.required[2] | column "emial" does not exist in public.customers, so the required-value check of customers.emial does not run. Did you mean "email"?',
      'sources[2].integrity.required[3] | "v_customers" is a view; integrity checks run on tables only, so the required-value check of v_customers.email does not run.',
      'sources[2].integrity.required[4] | table "secrets" is excluded by sources[].exclude, so the required-value check of secrets.token does not run.',
      'sources[2].integrity.updatedColumns.orders | column "modified" does not exist in public.orders, so no record of orders is checked for staleness.',
      'sources[2].integrity.references.orders.client_id | column "client_id" does not exist in public.orders, so the orphaned-row check of orders.client_id does not run.',
      'sources[2].integrity.references.customers.id | the referenced table "accounts" does not exist in public, so the orphaned-row check of customers.id does not run.',
      'sources[2].integrity.references.orders.id | the referenced column "uid" does not exist in public.customers, so the orphaned-row check of orders.id does not run. Did you mean "id"?',
    ]);
  });

  it('access: principals the review does not see, tables and categories that match nothing, row-level security where there is none', () => {
    const config = {
      authorized: [
        { principal: 'app_ro', tables: ['customers', 'cust*', 'invoices'], categories: ['contact.*', 'contact.emial', 'loyalty.id'] },
        { principal: 'app_r0' },
        { principal: 'PUBLIC' },
      ],
      rowLevelSecurity: ['customers', 'orders', 'nosuch'],
    };
    const p = accessProblems(0, 'shop', 'postgres', config, snapshot(), TABLES, ['contact.email', 'loyalty.id']);
    expect(p.map((x) => x.path)).toEqual([
      'sources[0].access.authorized[0].tables[2]',
      'sources[0].access.authorized[0].categories[1]',
      'sources[0].access.authorized[1].principal',
      'sources[0].access.rowLevelSecurity[1]',
      'sources[0].access.rowLevelSecurity[2]',
    ]);
    expect(p.find((x) => x.path.endsWith('principal'))!.message).toContain('Did you mean "app_ro"?');
    expect(p.find((x) => x.path.endsWith('rowLevelSecurity[1]'))!.message).toContain('no row-level security Steward can check');
    // A partial snapshot (a catalog unreadable) cannot tell that a principal is missing.
    const partial = accessProblems(0, 'shop', 'postgres', config, snapshot({ problems: [{ what: 'pg_catalog.pg_roles', message: 'denied', fix: 'GRANT …' }] }), TABLES, ['contact.email']);
    expect(partial.some((x) => x.path.endsWith('principal'))).toBe(false);
  });

  it('access: MySQL accounts match with or without a host; SQLite names file classes', () => {
    const mysql = snapshot({ principals: [{ name: "'app'@'%'", kind: 'account', login: true, superuser: false, bypassRls: false }, { name: "'analyst'", kind: 'role', login: false, superuser: false, bypassRls: false }], tableSecurity: [] });
    const names = (entries: string[]) => accessProblems(0, 's', 'mysql', { authorized: entries.map((principal) => ({ principal })), rowLevelSecurity: [] }, mysql, TABLES, []).map((x) => x.name);
    expect(names(['app', 'app@%', "'app'@'%'", 'analyst', 'app@localhost', 'PUBLIC'])).toEqual(['app@localhost', 'PUBLIC']);
    const sqlite = snapshot({ principals: [], tableSecurity: [] });
    const lite = accessProblems(0, 's', 'sqlite', { authorized: ['others', 'group 20', 'root', 'group staff'].map((principal) => ({ principal })), rowLevelSecurity: [] }, sqlite, TABLES, []);
    expect(lite.map((x) => x.name)).toEqual(['root', 'group staff']);
  });

  it('findings: medium, at the source, ids keyed on setting and name (not the index)', () => {
    const [a] = nameFindings('shop', schemaProblems(0, 'shop', ['public', 'sales'], TABLES), 'other.yml');
    const [b] = nameFindings('shop', schemaProblems(0, 'shop', ['sales', 'public'], TABLES), 'other.yml');
    expect(a).toMatchObject({ rule: 'config.unknown-name', severity: 'medium', location: { source: 'shop' }, title: 'A name in other.yml matches nothing' });
    expect(a!.id).toMatch(/^CFG-/);
    expect(b!.id).toBe(a!.id);
    expect(a!.remedy).toContain('sources[0].schemas[1]');
  });
});

describe('columns with no value sampled', () => {
  const item = (over: Partial<InventoryItem>): InventoryItem => ({
    source: 'shop', schema: 'public', table: 'people', column: 'ssn', dataType: 'text', category: 'identity.government_id', risk: 'high', confidence: 0.5, rowEstimate: 0,
    evidence: { signals: [{ kind: 'column-name', rule: 'ssn', language: 'en' }], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null, ...over,
  });

  it('are low and say that no value was sampled; with values they stay high', () => {
    const none = reviewInventory('shop', [], [item({})]);
    expect(none.map((f) => `${f.rule} ${f.severity}`).sort()).toEqual(['collection.plaintext-high-risk low', 'collection.purpose-not-declared low']);
    const phr = none.find((f) => f.rule === 'collection.plaintext-high-risk')!;
    expect(phr.title).toBe('Government ID column, no value sampled');
    expect(phr.message).toContain('no value was sampled');
    expect(phr.message).not.toContain('0 of 0');
    const some = reviewInventory('shop', [], [item({ evidence: { signals: [{ kind: 'values', detector: 'ssn', matched: 6, sampled: 6 }], sampled: 6, matched: 6 } })]);
    expect(some.map((f) => `${f.rule} ${f.severity}`).sort()).toEqual(['collection.plaintext-high-risk high', 'collection.purpose-not-declared high']);
  });

  it('a column rule samples too: values make the finding high, ciphertexts make it encrypted', () => {
    const k = createClassifier({ columnRules: [{ pattern: compileUserPattern('^people\\.ref$', 'x'), category: 'identity.government_id' }] });
    const plain = k.classifyColumn({ table: 'people', column: 'ref', typeClass: 'text', values: ['A1', 'B2', null] });
    expect(plain.evidence.sampled).toBe(2);
    const sealed = k.classifyColumn({ table: 'people', column: 'ref', typeClass: 'text', values: [formatCiphertext('k1', 1, new Uint8Array(40)), formatCiphertext('k1', 1, new Uint8Array(41))] });
    expect(sealed.evidence.signals.map((s) => s.kind)).toContain('steward-ciphertext');
    const review = (c: typeof plain) => reviewInventory('shop', [], [{ ...({} as InventoryItem), source: 'shop', schema: 'public', table: 'people', column: 'ref', dataType: 'text', category: c.category!, risk: 'high', confidence: 1, rowEstimate: 3, evidence: c.evidence, examples: [], freeText: [], purpose: null }]);
    expect(review(plain).find((f) => f.rule === 'collection.plaintext-high-risk')!.severity).toBe('high');
    expect(review(sealed).some((f) => f.rule === 'collection.plaintext-high-risk')).toBe(false);
  });
});

describe('binary columns', () => {
  it('one finding per table; low when a name suggests personal data, else info', () => {
    const f = binaryNotSampledFinding('shop', 'public', 'docs', [{ column: 'passport_scan', dataType: 'bytea', suggests: 'identity.government_id' }, { column: 'photo', dataType: 'bytea', suggests: null }]);
    expect(f).toMatchObject({ rule: 'collection.column-not-sampled', severity: 'low', location: { source: 'shop', schema: 'public', table: 'docs' } });
    expect(f.message).toContain('passport_scan (bytea; its name suggests identity.government_id), photo (bytea)');
    expect(binaryNotSampledFinding('shop', 'public', 'docs', [{ column: 'photo', dataType: 'bytea', suggests: null }]).severity).toBe('info');
  });
});

describe('integrity findings of encrypted columns', () => {
  const result = (encrypted: number | undefined, invalid: number): TableIntegrity => ({
    schema: 'public', table: 'members', rows: 25, requiredNulls: [], orphans: [], exact: true,
    columns: [{ column: 'email', category: 'contact.email', nonNull: 25, invalid, invalidExamples: [], duplicateRows: 0, duplicatedValues: 0, duplicateExamples: [], ...(encrypted !== undefined ? { encrypted } : {}) }],
  });

  it('an info finding says what was not checked; the invalid share is of the values that were', () => {
    const f = integrityFindings('shop', [result(20, 4)]);
    expect(f.map((x) => `${x.rule} ${x.severity}`)).toEqual(['integrity.encrypted-not-checked info', 'integrity.invalid-values medium']);
    expect(f[0]!.message).toContain('20 of 25 values are Steward ciphertexts');
    expect(f[1]!.message).toContain('4 of 5 unencrypted values (80.0%)');
    expect(integrityFindings('shop', [result(25, 0)]).map((x) => x.rule)).toEqual(['integrity.encrypted-not-checked']);
    expect(integrityFindings('shop', [result(undefined, 1)])[0]!.message).toContain('1 of 25 values');
  });
});
