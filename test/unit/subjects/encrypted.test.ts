/**
 * Encrypted columns in data-subject requests: what the state store says about a column
 * (recordedEncryption), how the map uses it (deriveSubjectMap), the strings a blind
 * index is looked up by, decrypting found rows with a real keyring on an in-memory
 * state store (own values, tampered, moved, unknown, destroyed, no keyring), and the
 * access package built from decrypted rows.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { InventoryItem } from '../../../src/audit/types.js';
import { configSchema } from '../../../src/config/index.js';
import { createFieldEncryption, openKeyring } from '../../../src/crypto/index.js';
import type { KeyInfo } from '../../../src/crypto/keyring.js';
import { LocalMasterKey } from '../../../src/crypto/master-key.js';
import type { ColumnInfo, TableInfo } from '../../../src/sources/types.js';
import { openStateStore, type StateStore } from '../../../src/state/index.js';
import type { Job } from '../../../src/state/jobs.js';
import { buildAccessPackage } from '../../../src/subjects/access.js';
import { decryptSubjectRows, notDecryptedSummary, openSubjectKeyring, SubjectDecryptor, type SubjectKeyring } from '../../../src/subjects/decrypt.js';
import { recordedEncryption } from '../../../src/subjects/discover.js';
import { blindIndexInputs, type FindResult } from '../../../src/subjects/find.js';
import { deriveSubjectMap, type EncryptedColumn, type SourceSchema } from '../../../src/subjects/map.js';

const col = (name: string, typeClass: ColumnInfo['typeClass'] = 'text'): ColumnInfo => ({ name, dataType: typeClass, typeClass, nullable: true, maxLength: null, comment: null });
const table = (name: string, columns: ColumnInfo[], pk: string[] = ['id']): TableInfo => ({ schema: 'public', name, kind: 'table', columns, primaryKey: pk, foreignKeys: [], rowEstimate: 10, comment: null });
const customers = table('customers', [col('id', 'integer'), col('email'), col('email_bidx'), col('ssn')]);

const key = (kind: 'dek' | 'bidx', tableSpelling: string, column: string, over: Partial<KeyInfo> = {}): KeyInfo => ({
  scope: { source: 's', table: tableSpelling, column },
  kind,
  keyId: `${kind}-${tableSpelling}-${column}`,
  version: 1,
  state: 'active',
  kekId: 'local:x',
  messagesReserved: 0,
  messageLimit: 100,
  createdAt: '2026-01-01T00:00:00Z',
  retiredAt: null,
  destroyedAt: null,
  ...over,
});
let n = 0;
const job = (operation: Job['operation'], status: Job['status'], options: Record<string, unknown> = {}, tableSpelling = 'customers', column = 'email'): Job => ({
  id: `j${++n}`,
  source: 's',
  table: tableSpelling,
  target: column,
  operation,
  status,
  pass: 1,
  lastKey: null,
  counts: {},
  options,
  owner: null,
  startedAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`,
  updatedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
});
const bidx = (column = 'email_bidx', normalize = 'email') => ({ blindIndex: { column, normalize, bytes: 16 } });

describe('recordedEncryption', () => {
  const keys = [key('dek', 'customers', 'email'), key('bidx', 'customers', 'email')];
  it('an encrypted column with the blind index its encrypt job keeps', () => {
    const out = recordedEncryption('s', [customers], keys, () => [job('encrypt', 'done', bidx())]);
    expect(out).toEqual([{ schema: 'public', name: 'customers', column: 'email', encrypted: true, mixed: false, blindIndex: { column: 'email_bidx', normalize: 'email', bytes: 16, scopeTable: 'customers' } }]);
  });
  it('a later rotation without --blind-index keeps the index; a finished decrypt ends it; an unfinished encrypt is mixed', () => {
    const enc = job('encrypt', 'done', bidx());
    expect(recordedEncryption('s', [customers], keys, () => [job('rotate', 'done', { blindIndex: null }), enc])[0]!.blindIndex?.column).toBe('email_bidx');
    const dec = job('decrypt', 'done');
    expect(recordedEncryption('s', [customers], keys, () => [dec, enc])[0]).toMatchObject({ encrypted: false, blindIndex: null });
    expect(recordedEncryption('s', [customers], keys, () => [job('encrypt', 'running', bidx())])[0]).toMatchObject({ encrypted: true, mixed: true });
  });
  it('no blind index when its column is gone, its key is destroyed or missing, or no job recorded one', () => {
    expect(recordedEncryption('s', [customers], keys, () => [job('encrypt', 'done', bidx('gone'))])[0]!.blindIndex).toBeNull();
    expect(recordedEncryption('s', [customers], [keys[0]!, key('bidx', 'customers', 'email', { state: 'destroyed' })], () => [job('encrypt', 'done', bidx())])[0]!.blindIndex).toBeNull();
    expect(recordedEncryption('s', [customers], [keys[0]!], () => [job('encrypt', 'done', bidx())])[0]!.blindIndex).toBeNull();
    expect(recordedEncryption('s', [customers], keys, () => [])[0]).toMatchObject({ encrypted: true, mixed: false, blindIndex: null });
  });
  it('resolves the spelling the key scope names; skips other sources and dropped tables; an unknown normaliser is taken as none', () => {
    const spelled = [key('dek', 'public.customers', 'email'), key('bidx', 'public.customers', 'email'), key('dek', 'gone', 'email'), { ...key('dek', 'customers', 'ssn'), scope: { source: 'other', table: 'customers', column: 'ssn' } }];
    const out = recordedEncryption('s', [customers], spelled, () => [job('encrypt', 'done', bidx('email_bidx', 'fn'), 'public.customers')]);
    expect(out).toEqual([{ schema: 'public', name: 'customers', column: 'email', encrypted: true, mixed: false, blindIndex: { column: 'email_bidx', normalize: 'none', bytes: 16, scopeTable: 'public.customers' } }]);
  });
});

describe('the map over encrypted columns', () => {
  const inv = (c: string, category: string, encrypted = false): InventoryItem => ({ source: 's', schema: 'public', table: 'customers', column: c, dataType: 'text', category: category as never, risk: 'medium', confidence: 1, rowEstimate: 10, evidence: {} as never, examples: [], freeText: [], purpose: null, ...(encrypted ? { encrypted: true } : {}) });
  const schema = (encrypted: EncryptedColumn[], inventory: InventoryItem[], leads: string[] = []): SourceSchema => ({ source: 's', kind: 'postgres', tables: [customers], inventory, indexLeads: new Map([['public.customers', leads]]), encrypted });
  const enc = (over: Partial<EncryptedColumn> = {}): EncryptedColumn => ({ schema: 'public', name: 'customers', column: 'email', encrypted: true, mixed: false, blindIndex: { column: 'email_bidx', normalize: 'email', bytes: 16, scopeTable: 'customers' }, ...over });
  const email = (m: ReturnType<typeof deriveSubjectMap>) => m.tables[0]!.identifiers.find((i) => i.column === 'email');

  it('the state store overrides an inventory taken before the encryption; the blind index carries whether it is indexed', () => {
    const m = deriveSubjectMap([schema([enc()], [inv('email', 'contact.email')], ['email_bidx'])], []);
    expect(email(m)).toMatchObject({ encrypted: true, origin: 'inventory', blindIndex: { column: 'email_bidx', indexed: true } });
    expect(m.findings).toEqual([]);
    const unindexed = deriveSubjectMap([schema([enc()], [inv('email', 'contact.email')])], []);
    expect(unindexed.findings.map((f) => `${f.rule}:${f.location.column}`)).toEqual(['subjects.identifier-not-indexed:email_bidx']);
    expect(unindexed.findings[0]!.remedy).toMatch(/CREATE INDEX .*email_bidx/i);
  });
  it('an encrypted identifier without a blind index is a finding with the command that adds one; a decrypted column is plain again', () => {
    const m = deriveSubjectMap([schema([enc({ blindIndex: null })], [inv('email', 'contact.email')])], []);
    expect(email(m)).toMatchObject({ encrypted: true, blindIndex: null });
    expect(m.findings.map((f) => f.rule)).toEqual(['subjects.encrypted-identifier-unsearchable']);
    expect(m.findings[0]!.remedy).toBe('Keep a blind index beside it (re-encrypting every value once): steward encrypt --rotate --source s --column public.customers.email --blind-index email_bidx --normalize email');
    const sampledOnly = deriveSubjectMap([schema([], [inv('email', 'contact.email', true)])], []);
    expect(email(sampledOnly)).toMatchObject({ encrypted: true, blindIndex: null });
    const decrypted = deriveSubjectMap([schema([enc({ encrypted: false, blindIndex: null })], [inv('email', 'contact.email', true)], ['lower(email)'])], []);
    expect(email(decrypted)).toMatchObject({ encrypted: false, indexed: true });
    expect(email(decrypted)!.blindIndex).toBeUndefined();
  });
  it('an email blind index makes the column an identifier the inventory did not see', () => {
    const m = deriveSubjectMap([schema([enc(), enc({ column: 'ssn', blindIndex: { column: 'email_bidx', normalize: 'digits', bytes: 16, scopeTable: 'customers' } })], [])], []);
    expect(m.tables[0]!.identifiers.map((i) => `${i.column}:${i.kind}:${i.origin}`)).toEqual(['email:email:encryption']);
    expect(m.tables[0]!.role).toBe('identity');
    expect(m.tables[0]!.personalColumns).toEqual(['email']);
  });
});

describe('blind index lookups', () => {
  it('emails as given; phones by their digit strings under digits, by their spellings too otherwise; national IDs', () => {
    expect(blindIndexInputs('email', 'email', 'alice@example.com')).toEqual(['alice@example.com']);
    const digits = blindIndexInputs('phone', 'digits', '+442079460958', 'GB');
    expect(digits).toEqual(expect.arrayContaining(['442079460958', '02079460958']));
    expect(digits.every((x) => /^\d+$/.test(x))).toBe(true);
    expect(blindIndexInputs('phone', 'none', '+442079460958', 'GB')).toEqual(expect.arrayContaining(['+442079460958', '+44 20 7946 0958', '020 7946 0958']));
    expect(blindIndexInputs('nationalId', 'digits', 'AB123456C')).toEqual(['123456']);
    expect(blindIndexInputs('nationalId', 'trim', 'AB123456C')).toEqual(['AB123456C']);
  });
});

describe('decrypting found rows', () => {
  const stores: StateStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const scope = { source: 's', table: 'customers', column: 'email' };
  async function setup() {
    const store = await openStateStore({ url: ':memory:', baseDir: os.tmpdir() });
    stores.push(store);
    const master = randomBytes(32);
    const keyring = await openKeyring({ store, master: new LocalMasterKey(Buffer.from(master)) });
    const fields = createFieldEncryption(keyring);
    const alice = await fields.encrypt('Alice@Example.com', { ...scope, rowKey: 1 });
    const ssn = await fields.encrypt('078-05-1120', { source: 's', table: 'customers', column: 'ssn', rowKey: 1 });
    const kr = await openSubjectKeyring(store, async () => openKeyring({ store, master: new LocalMasterKey(Buffer.from(master)) }));
    return { store, keyring, fields, alice, ssn, kr, master };
  }
  const t = { source: 's', schema: 'public', name: 'customers' };
  const tables = () => [customers];

  it('reads each value with its own column key and row key; anything else is reported, never thrown', async () => {
    const { alice, ssn, kr } = await setup();
    const d = new SubjectDecryptor(kr, tables);
    expect(await d.row(t, { id: 1, email: alice, ssn, email_bidx: 'ab' })).toEqual({ decrypted: { email: 'Alice@Example.com', ssn: '078-05-1120' }, failed: {} });
    // Another row: the row key is bound into the ciphertext.
    expect((await d.row(t, { id: 2, email: alice })).failed).toEqual({ email: 'does-not-verify' });
    // Another column's value copied here; a payload changed; a key this store does not hold.
    expect((await d.row(t, { id: 1, email: ssn })).failed).toEqual({ email: 'does-not-verify' });
    const at = alice.length - 5;
    expect((await d.row(t, { id: 1, email: alice.slice(0, at) + (alice[at] === 'A' ? 'B' : 'A') + alice.slice(at + 1) })).failed).toEqual({ email: 'does-not-verify' });
    expect((await d.row(t, { id: 1, email: alice.replace(/^stw1:[^:]+:/, 'stw1:someoneelse:') })).failed).toEqual({ email: 'unknown-key' });
    // Text that only starts like a ciphertext is plaintext.
    expect(await d.row(t, { id: 1, email: 'stw1:hello' })).toEqual({ decrypted: {}, failed: {} });
  });

  it('no keyring, a wrong master key, a destroyed key: reported per column with the reason', async () => {
    const { store, keyring, alice, ssn, kr } = await setup();
    const none = new SubjectDecryptor({ ...kr, fields: null, unavailable: 'STEWARD_MASTER_KEY is not set' }, tables);
    expect((await none.row(t, { id: 1, email: alice, ssn })).failed).toEqual({ email: 'keyring-unavailable', ssn: 'keyring-unavailable' });
    const wrong = await openSubjectKeyring(store, async () => openKeyring({ store, master: new LocalMasterKey(randomBytes(32)) }));
    expect(wrong.fields).not.toBeNull();
    expect((await new SubjectDecryptor(wrong, tables).row(t, { id: 1, email: alice })).failed).toEqual({ email: 'keyring-unavailable' });
    await keyring.destroy({ source: 's', table: 'customers', column: 'ssn' });
    const after = await openSubjectKeyring(store, async () => keyring);
    const rows = await decryptSubjectRows([{ ...t, row: { id: 1, email: alice, ssn } }], new SubjectDecryptor(after, tables));
    expect(rows[0]).toMatchObject({ decrypted: { email: 'Alice@Example.com' }, notDecrypted: { ssn: 'key-destroyed' } });
    expect(notDecryptedSummary(rows)).toEqual([{ source: 's', table: 'public.customers', column: 'ssn', rows: 1, reason: 'key-destroyed' }]);
  });

  it('a store without encrypted columns never asks for the master key; the blind indexer never creates a key', async () => {
    const store = await openStateStore({ url: ':memory:', baseDir: os.tmpdir() });
    stores.push(store);
    let asked = false;
    const kr = await openSubjectKeyring(store, async () => {
      asked = true;
      throw new Error('not reached');
    });
    expect(asked).toBe(false);
    expect(kr).toEqual({ keys: [], fields: null, unavailable: null });
    const { store: s2, fields, kr: kr2 } = await setup();
    const d = new SubjectDecryptor(kr2, tables);
    const b = { column: 'email_bidx', normalize: 'email' as const, bytes: 16, scopeTable: 'customers', indexed: null };
    expect(await d.indexer(t, 'email', b)).toEqual({ unavailable: expect.stringContaining('blind-index key') });
    expect((await s2.keys.listKeys()).filter((k) => k.kind === 'bidx')).toEqual([]);
    const ix = await fields.blindIndexer(scope, { normalize: 'email' }); // as `steward encrypt --blind-index` creates it
    const d2 = new SubjectDecryptor(await openSubjectKeyring(s2, async () => fields.keyring), tables);
    const got = await d2.indexer(t, 'email', b);
    expect('index' in got && got.index('alice@example.com')).toBe(ix.index(' Alice@Example.COM'));
  });
});

describe('the access package from decrypted rows', () => {
  it('exports plaintext where decrypted, a marker with the reason where not, and lists those per column and reason', () => {
    const config = configSchema.parse({ sources: [{ name: 's', kind: 'sqlite', url: 'x.db', owner: 't' }] });
    const cipher = 'stw1:AAAAAAAAAAA:1:' + 'A'.repeat(40);
    const found: FindResult = {
      identifiers: [{ kind: 'email', value: 'alice@example.com', given: true }],
      rows: [
        { source: 's', schema: 'main', name: 'customers', key: { id: 1 }, row: { id: 1, email: cipher, ssn: cipher }, via: ['email (blind index)'], decrypted: { email: 'Alice@Example.com' }, notDecrypted: { ssn: 'does-not-verify' } },
        { source: 's', schema: 'main', name: 'customers', key: { id: 2 }, row: { id: 2, email: cipher, ssn: null }, via: ['key'] },
      ],
      mentions: [],
      references: [],
      notMerged: [],
      ambiguous: null,
      unsearched: [],
      notDecrypted: [],
      stats: { hops: 1, queries: 1, durationMs: 1 },
    };
    const pkg = buildAccessPackage({ config, map: { tables: [], links: [], findings: [], problems: [] }, found, generatedAt: '2026-01-01T00:00:00Z' });
    const doc = JSON.parse(pkg.files['export.json']!) as { sources: { tables: { rows: Record<string, unknown>[] }[] }[]; notDecrypted: unknown[] };
    expect(doc.sources[0]!.tables[0]!.rows).toEqual([
      { id: 1, email: 'Alice@Example.com', ssn: { encrypted: true, notDecrypted: 'does-not-verify' } },
      { id: 2, email: { encrypted: true, notDecrypted: 'keyring-unavailable' }, ssn: null },
    ]);
    expect(pkg.notDecrypted.map((x) => `${x.column}:${x.rows}:${x.reason}`).sort()).toEqual(['email:1:keyring-unavailable', 'ssn:1:does-not-verify']);
    expect(doc.notDecrypted).toHaveLength(2);
    expect(pkg.files['export.json']).not.toContain('stw1:');
    expect(pkg.files['summary.html']).toMatch(/customers\.ssn: 1 record\(s\): it does not verify/);
  });
});
