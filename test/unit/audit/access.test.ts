/** The pure access analysis: paths, authorization along them, severities, fixes, on hand-built privilege graphs. */
import { describe, expect, it } from 'vitest';
import { canonicalPrincipal, isAuthorized, reviewAccess, type AccessConfig } from '../../../src/audit/access.js';
import type { InventoryItem } from '../../../src/audit/types.js';
import type { AccessGrant, AccessPrincipal, AccessSnapshot, TableInfo } from '../../../src/sources/types.js';
import { POSTGRES_ACCESS_STATEMENTS } from '../../../src/sources/postgres/postgres-access.js';

const now = new Date('2026-11-24T00:00:00Z');
const item = (table: string, column: string, category: string, risk: 'high' | 'medium' | 'low' = 'medium'): InventoryItem => ({
  source: 's', schema: 'public', table, column, dataType: 'text', category, risk, confidence: 1, rowEstimate: 10,
  evidence: { signals: [], sampled: 0, matched: 0 }, examples: [], freeText: [], purpose: null,
});
const inventory = [item('customers', 'email', 'contact.email'), item('customers', 'phone', 'contact.phone'), item('cards', 'card_number', 'financial.card', 'high')];
const tables: TableInfo[] = [
  { schema: 'public', name: 'customers', kind: 'table', primaryKey: ['id'], foreignKeys: [], rowEstimate: 10, comment: null, columns: ['id', 'email', 'phone'].map((name) => ({ name, dataType: 'text', typeClass: 'text', nullable: true, maxLength: null, comment: null })) },
];
const role = (name: string, extra: Partial<AccessPrincipal> = {}): AccessPrincipal => ({ name, kind: 'role', login: true, superuser: false, bypassRls: false, passwordExpires: '2030-01-01T00:00:00.000Z', ...extra });
const select = (grantee: string, table: string, column?: string): AccessGrant => ({
  grantee, privilege: 'SELECT', scope: column ? 'column' : 'table', schema: 'public', table, ...(column ? { column } : {}),
  revoke: `REVOKE SELECT ON ${table} FROM ${grantee};`, label: `SELECT on public.${table}${column ? `.${column}` : ''}`,
});
const snap = (s: Partial<AccessSnapshot>): AccessSnapshot => ({
  principals: [], memberships: [], grants: [], tableSecurity: [], defaultPrivileges: [], files: [], problems: [], statements: POSTGRES_ACCESS_STATEMENTS, ...s,
});
const none: AccessConfig = { authorized: [], rowLevelSecurity: [] };
const review = (s: Partial<AccessSnapshot>, config: AccessConfig = none) => reviewAccess('s', snap(s), inventory, config, tables, now);

describe('access paths', () => {
  it('follows memberships transitively and names the shortest path', () => {
    const r = review({
      principals: [role('app'), role('mid', { login: false }), role('top', { login: false })],
      memberships: [{ member: 'app', role: 'mid', revoke: 'REVOKE mid FROM app;' }, { member: 'mid', role: 'top', revoke: 'REVOKE top FROM mid;' }],
      grants: [select('top', 'cards')],
    });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ rule: 'access.unauthorized-read', severity: 'high' });
    expect(r.findings[0]!.message).toContain('app → member of mid → member of top → SELECT on public.cards');
  });

  it('survives membership cycles', () => {
    const r = review({
      principals: [role('a'), role('b')],
      memberships: [{ member: 'a', role: 'b', revoke: null }, { member: 'b', role: 'a', revoke: null }],
      grants: [select('b', 'cards')],
    });
    // a reaches through b; b directly.
    expect(r.findings.map((f) => f.message.split(' ')[0]).sort()).toEqual(['a', 'b']);
  });

  it('an authorized role on the path authorizes its members; a direct grant beside it does not', () => {
    const config: AccessConfig = { authorized: [{ principal: 'analyst' }], rowLevelSecurity: [] };
    const s = {
      principals: [role('ro'), role('analyst', { login: false })],
      memberships: [{ member: 'ro', role: 'analyst', revoke: 'REVOKE analyst FROM ro;' }],
      grants: [select('analyst', 'customers'), select('ro', 'cards')],
    };
    const r = review(s, config);
    expect(r.findings.map((f) => f.message)).toEqual([expect.stringContaining('ro → SELECT on public.cards')]);
  });

  it('authorization can be narrowed to tables and categories', () => {
    const entries = [{ principal: 'support', tables: ['customers'], categories: ['contact.email'] }];
    expect(isAuthorized(entries, 'support', item('customers', 'email', 'contact.email'))).toBe(true);
    expect(isAuthorized(entries, 'support', item('customers', 'phone', 'contact.phone'))).toBe(false);
    expect(isAuthorized(entries, 'support', item('cards', 'email', 'contact.email'))).toBe(false);
    expect(isAuthorized([{ principal: 'x', tables: ['public.cust*'] }], 'x', item('customers', 'email', 'contact.email'))).toBe(true);
  });

  it('MySQL account names: "app" covers every host, "app@%" one host', () => {
    expect(canonicalPrincipal("'app'@'%'")).toBe('app@%');
    expect(canonicalPrincipal("'o\\'brien'@'localhost'")).toBe("o'brien@localhost");
    const it_ = item('customers', 'email', 'contact.email');
    expect(isAuthorized([{ principal: 'app' }], "'app'@'10.0.0.1'", it_)).toBe(true);
    expect(isAuthorized([{ principal: 'app@%' }], "'app'@'%'", it_)).toBe(true);
    expect(isAuthorized([{ principal: 'app@%' }], "'app'@'localhost'", it_)).toBe(false);
    expect(isAuthorized([{ principal: 'ap' }], "'app'@'%'", it_)).toBe(false);
  });
});

describe('severity and fixes', () => {
  it('a grant to PUBLIC is one step worse than the data it exposes', () => {
    const r = review({ principals: [{ name: 'PUBLIC', kind: 'public', login: false, superuser: false, bypassRls: false }], grants: [select('PUBLIC', 'customers')] });
    expect(r.findings.map((f) => f.severity)).toEqual(['high']); // medium data, everyone
  });

  it('narrows a table-wide grant to the columns that may stay', () => {
    const r = review({ principals: [role('bi')], grants: [select('bi', 'customers')] });
    expect(r.findings[0]!.remedy).toContain('REVOKE SELECT ON "public"."customers" FROM "bi"; GRANT SELECT ("id") ON "public"."customers" TO "bi";');
  });

  it('falls back to the membership when the grant cannot be revoked (a built-in role)', () => {
    const r = review({
      principals: [role('reader'), role('pg_read_all_data', { login: false })],
      memberships: [{ member: 'reader', role: 'pg_read_all_data', revoke: 'REVOKE pg_read_all_data FROM reader;' }],
      grants: [{ grantee: 'pg_read_all_data', privilege: 'SELECT', scope: 'server', revoke: null, label: 'reads all data (built-in role)' }],
    });
    expect(r.findings[0]!.remedy).toContain('REVOKE pg_read_all_data FROM reader;');
    expect(r.findings[0]!.location).toEqual({ source: 's' });
  });

  it('schema USAGE gates table grants; a superuser and server-wide grants pass the gate', () => {
    const usage: AccessGrant[] = [{ grantee: 'owner', privilege: 'OWNER', scope: 'schema', schema: 'public', revoke: null, label: 'owns schema public' }];
    const r = review({ principals: [role('x'), role('boss', { superuser: true })], grants: [select('x', 'cards')], schemaUsage: usage });
    expect(r.findings.map((f) => f.rule)).toEqual(['access.privileged-role']);
  });

  it('non-login roles are not subjects: their members are', () => {
    const r = review({ principals: [role('group', { login: false })], grants: [select('group', 'cards')] });
    expect(r.findings).toEqual([]);
    expect(r.access.edges).toEqual([]);
  });

  it('finding ids are stable and differ per principal', () => {
    const s = { principals: [role('a'), role('b')], grants: [select('a', 'cards'), select('b', 'cards')] };
    const one = review(s).findings.map((f) => f.id);
    expect(review(s).findings.map((f) => f.id)).toEqual(one);
    expect(new Set(one).size).toBe(2);
  });
});

describe('other access findings', () => {
  it('password without expiry only for login roles that reach personal data', () => {
    const r = review({ principals: [role('x', { passwordExpires: null }), role('idle', { passwordExpires: null })], grants: [select('x', 'customers', 'email')] }, { authorized: [{ principal: 'x' }], rowLevelSecurity: [] });
    expect(r.findings.map((f) => `${f.rule} ${f.message.split(' ')[0]}`)).toEqual(['access.password-no-expiry x']);
    expect(r.findings[0]!.remedy).toContain(`ALTER ROLE "x" VALID UNTIL '2027-11-24';`);
  });

  it('row-level security: policies without RLS, and a table steward.yml declares', () => {
    const sec = (table: string, policies: number, on = false) => ({ schema: 'public', table, rowSecurity: on, forceRowSecurity: false, policies, enable: `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;` });
    const r = review({ tableSecurity: [sec('customers', 1), sec('cards', 0), sec('orders', 2), sec('logs', 0, true)] }, { authorized: [], rowLevelSecurity: ['cards'] });
    expect(r.findings.map((f) => `${f.rule} ${f.severity} ${f.location.table}`).sort()).toEqual([
      'access.rls-disabled high cards',
      'access.rls-disabled high customers',
    ]);
  });

  it('weak MySQL accounts: empty password from any host is critical; anonymous and old plugins are high', () => {
    const acct = (name: string, auth: AccessPrincipal['auth']): AccessPrincipal => ({ name, kind: 'account', login: true, superuser: false, bypassRls: false, ...(auth ? { auth } : {}) });
    const r = review({
      principals: [
        acct("'open'@'%'", { plugin: 'mysql_native_password', emptyPassword: true, anyHost: true }),
        acct("''@'localhost'", { plugin: 'mysql_native_password', emptyPassword: false, anyHost: false }),
        acct("'old'@'h'", { plugin: 'mysql_old_password', emptyPassword: false, anyHost: false }),
        acct("'fine'@'%'", { plugin: 'ed25519', emptyPassword: false, anyHost: true }),
      ],
    });
    expect(r.findings.map((f) => `${f.severity} ${f.message.split(' ')[0]}`).sort()).toEqual(["critical 'open'@'%'", "high ''@'localhost'", "high 'old'@'h'"]);
  });

  it('unreadable catalogs become findings with the GRANT that fixes them', () => {
    const r = review({ problems: [{ what: 'mysql.user', message: 'permission denied reading mysql.user', fix: 'GRANT SELECT ON mysql.user TO CURRENT_USER;' }] });
    expect(r.findings.map((f) => f.rule)).toEqual(['access.catalog-unreadable']);
    expect(r.findings[0]!.remedy).toContain('GRANT SELECT ON mysql.user');
  });

  it('nothing personal, nothing to report about reads', () => {
    const r = reviewAccess('s', snap({ principals: [role('x', { superuser: true })], grants: [select('x', 'cards')] }), [], none, tables, now);
    expect(r.findings).toEqual([]);
  });
});
