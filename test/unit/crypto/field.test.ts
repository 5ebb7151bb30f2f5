/**
 * The field encryption library on a real (in-memory SQLite) state store:
 * round trips, context binding, tampering, key lifecycle, roll-over, and that
 * no key material escapes into errors, JSON or inspect output.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldEncryption, CryptoError, openKeyring, parseCiphertext, type FieldContext, type KeyringOptions } from '../../../src/crypto/index.js';
import { wrapAad, type Keyring } from '../../../src/crypto/keyring.js';
import { LocalMasterKey } from '../../../src/crypto/master-key.js';
import { createClassifier } from '../../../src/detection/index.js';
import { InternalError } from '../../../src/errors.js';
import { openStateStore, type StateStore } from '../../../src/state/index.js';

const stores: StateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function newStore(): Promise<StateStore> {
  const s = await openStateStore({ url: ':memory:', baseDir: os.tmpdir() });
  stores.push(s);
  return s;
}

/** A keyring on `store` with a master key whose bytes the test keeps (to look for leaks). */
async function setup(options: Partial<KeyringOptions> & { store?: StateStore; masterBytes?: Buffer } = {}) {
  const store = options.store ?? (await newStore());
  const masterBytes = options.masterBytes ?? randomBytes(32);
  const keyring = await openKeyring({ ...options, store, master: options.master ?? new LocalMasterKey(Buffer.from(masterBytes)) });
  return { store, masterBytes, keyring, fields: createFieldEncryption(keyring) };
}

const ctx = (rowKey: FieldContext['rowKey'], over: Partial<FieldContext> = {}): FieldContext => ({ source: 'shop', table: 'customers', column: 'email', rowKey, ...over });

async function caught(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, 'expected a CryptoError').toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

/** Every DEK and blind-index secret in the store, unwrapped with a copy of the master key. */
async function plaintextKeys(store: StateStore, masterBytes: Buffer): Promise<Buffer[]> {
  const mk = new LocalMasterKey(Buffer.from(masterBytes));
  const out: Buffer[] = [];
  for (const r of await store.keys.listKeys()) {
    if (!r.wrapped) continue;
    out.push(await mk.unwrapKey(r.wrapped, { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad: wrapAad(r.kekId, r.kind, r.keyId, r.version, r.scope) }));
  }
  return out;
}

function expectNoKeyMaterial(text: string, keys: readonly Buffer[]): void {
  for (const k of keys) {
    for (const form of [k.toString('hex'), k.toString('base64'), k.toString('base64url'), k.toString('hex').slice(0, 16), k.toString('base64url').slice(0, 16)]) {
      expect(text.includes(form), 'key material found in output').toBe(false);
    }
  }
}

describe('encrypt / decrypt', () => {
  it('round-trips strings and bytes; the same value encrypts differently each time', async () => {
    const { fields } = await setup();
    for (const v of ['ann@example.com', '', 'Zoë Ñúñez 李小龍 🙂', 'x'.repeat(10_000), 'line\nbreak\0nul']) {
      const c = await fields.encrypt(v, ctx(1));
      expect(c.startsWith('stw1:')).toBe(true);
      expect(c).not.toContain(v || '\u0000none');
      expect(await fields.decrypt(c, ctx(1))).toBe(v);
    }
    const bytes = randomBytes(77);
    expect((await fields.decryptBytes(await fields.encryptBytes(bytes, ctx(2)), ctx(2))).equals(bytes)).toBe(true);
    const a = await fields.encrypt('same', ctx(3));
    const b = await fields.encrypt('same', ctx(3));
    expect(a).not.toBe(b);
    expect(parseCiphertext(a)).toMatchObject({ version: 1 });
  });

  it('binds the row key: 42, 42n and "42" are the same row; composite keys work', async () => {
    const { fields } = await setup();
    const c = await fields.encrypt('v', ctx(42));
    expect(await fields.decrypt(c, ctx('42'))).toBe('v');
    expect(await fields.decrypt(c, ctx(42n))).toBe('v');
    const composite = await fields.encrypt('w', ctx([7, 'EU']));
    expect(await fields.decrypt(composite, ctx(['7', 'EU']))).toBe('w');
    expect((await caught(fields.decrypt(composite, ctx(['EU', 7])))).code).toBe('CRYPTO_TAMPERED');
    expect((await caught(fields.decrypt(composite, ctx('7EU')))).code).toBe('CRYPTO_TAMPERED');
  });

  it('rejects a ciphertext swapped to another row, column, table or source', async () => {
    const { fields } = await setup();
    const alice = await fields.encrypt('alice@example.com', ctx(1));
    const bob = await fields.encrypt('bob@example.com', ctx(2));
    await fields.encrypt('prime the other columns', ctx(1, { column: 'phone' }));
    await fields.encrypt('prime', ctx(1, { table: 'staff' }));
    await fields.encrypt('prime', ctx(1, { source: 'crm' }));
    for (const [c, where] of [
      [alice, ctx(2)],
      [bob, ctx(1)],
      [alice, ctx(1, { column: 'phone' })],
      [alice, ctx(1, { table: 'staff' })],
      [alice, ctx(1, { source: 'crm' })],
    ] as const) {
      const e = await caught(fields.decrypt(c, where));
      expect(e.code).toBe('CRYPTO_TAMPERED');
      expect(e.message).not.toContain('alice');
      expect(e.message).not.toContain('bob');
    }
    // Between rows the message says it may have been copied; between columns it names the other key.
    expect((await caught(fields.decrypt(alice, ctx(2)))).message).toMatch(/does not verify: it was changed, or copied from another row or column/);
    expect((await caught(fields.decrypt(alice, ctx(1, { column: 'phone' })))).message).toMatch(/encrypted under key .*, not this column's key/);
  });

  it('rejects one flipped bit anywhere in the text of a short ciphertext', async () => {
    const { fields } = await setup();
    const c = await fields.encrypt('a', ctx(1));
    expect(c.length).toBeLessThan(64);
    let rejected = 0;
    for (let i = 0; i < c.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = c.slice(0, i) + String.fromCharCode(c.charCodeAt(i) ^ (1 << bit)) + c.slice(i + 1);
        const e = await fields.decrypt(flipped, ctx(1)).then(() => null, (x: unknown) => x);
        expect(e, `position ${i} bit ${bit}`).toBeInstanceOf(CryptoError);
        rejected++;
      }
    }
    expect(rejected).toBe(c.length * 8);
    expect(await fields.decrypt(c, ctx(1))).toBe('a');
  });

  it('rejects one flipped bit anywhere in the binary payload (nonce, ciphertext, tag) as tampered', async () => {
    const { fields } = await setup();
    const c = await fields.encrypt('ab', ctx(1));
    const header = c.slice(0, c.lastIndexOf(':') + 1);
    const payload = Buffer.from(c.slice(header.length), 'base64url');
    expect(payload.length).toBe(12 + 2 + 16);
    for (let i = 0; i < payload.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const p = Buffer.from(payload);
        p[i]! ^= 1 << bit;
        const e = await caught(fields.decrypt(header + p.toString('base64url'), ctx(1)));
        expect(e.code, `byte ${i} bit ${bit}`).toBe('CRYPTO_TAMPERED');
      }
    }
    // A truncated or extended payload too.
    expect((await caught(fields.decrypt(header + payload.subarray(0, -1).toString('base64url'), ctx(1)))).code).toBe('CRYPTO_TAMPERED');
    expect((await caught(fields.decrypt(header + Buffer.concat([payload, Buffer.from([0])]).toString('base64url'), ctx(1)))).code).toBe('CRYPTO_TAMPERED');
  });

  it('says a value is not a Steward ciphertext (plaintext, another tool, damaged)', async () => {
    const { fields } = await setup();
    const c = await fields.encrypt('x', ctx(1));
    for (const v of ['ann@example.com', 'vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==', '\\xc30d04070302', 'stw1:', `${c}==`, c.replace('stw1:', 'stw2:')]) {
      const e = await caught(fields.decrypt(v, ctx(1)));
      expect(e.code, v).toBe('CRYPTO_NOT_CIPHERTEXT');
      expect(e.message).not.toContain(v.slice(6, 20) || '\u0000');
    }
    expect((await caught(fields.decrypt(null as unknown as string, ctx(1)))).code).toBe('CRYPTO_NOT_CIPHERTEXT');
  });

  it('names an unknown key version', async () => {
    const { fields } = await setup();
    const c = await fields.encrypt('x', ctx(1));
    const e = await caught(fields.decrypt(c.replace(/:1:/, ':7:'), ctx(1)));
    expect(e.code).toBe('CRYPTO_UNKNOWN_KEY_VERSION');
    expect(e.message).toMatch(/needs key [\w-]+ version 7, which the keyring does not have \(versions: 1\)/);
    // A column with no keys at all.
    const other = await caught(fields.decrypt(c, ctx(1, { column: 'never_used' })));
    expect(other.code).toBe('CRYPTO_UNKNOWN_KEY_VERSION');
  });

  it('encrypt refuses non-strings (use encryptBytes)', async () => {
    const { fields } = await setup();
    await expect(fields.encrypt(42 as unknown as string, ctx(1))).rejects.toThrow(TypeError);
  });
});

describe('key lifecycle', () => {
  it('rotate: old ciphertexts still decrypt, new ones use the new version; retire keeps decrypting', async () => {
    const { fields, keyring } = await setup();
    const scope = ctx(0);
    const v1 = await fields.encrypt('one', ctx(1));
    const info = await keyring.rotate(scope);
    expect(info).toMatchObject({ version: 2, state: 'active', kind: 'dek' });
    const v2 = await fields.encrypt('two', ctx(2));
    expect(parseCiphertext(v2)).toMatchObject({ version: 2 });
    expect(await fields.decrypt(v1, ctx(1))).toBe('one');
    expect((await keyring.list(scope)).map((k) => [k.version, k.state])).toEqual([[1, 'retired'], [2, 'active']]);
    expect(await keyring.retire(scope, 2)).toBe(true);
    expect(await fields.decrypt(v2, ctx(2))).toBe('two');
    // No active version: the next encryption creates version 3.
    expect(parseCiphertext(await fields.encrypt('three', ctx(3)))).toMatchObject({ version: 3 });
  });

  it('destroy (crypto-shredding): the version cannot decrypt any more, with a clear error; others still do', async () => {
    const { fields, keyring, store, masterBytes } = await setup();
    const scope = ctx(0);
    const old = await fields.encrypt('old secret', ctx(1));
    await keyring.rotate(scope);
    const current = await fields.encrypt('current', ctx(2));
    const destroyed = await keyring.destroy(scope, 1);
    expect(destroyed.map((k) => [k.version, k.state])).toEqual([[1, 'destroyed']]);
    const e = await caught(fields.decrypt(old, ctx(1)));
    expect(e.code).toBe('CRYPTO_KEY_DESTROYED');
    expect(e.message).toMatch(/version 1, which was destroyed/);
    expect(await fields.decrypt(current, ctx(2))).toBe('current');
    const rows = await store.keys.listKeys({ scope });
    expect(rows.find((r) => r.version === 1)).toMatchObject({ state: 'destroyed', wrapped: null });
    // A fresh keyring (another process) sees the same.
    const again = await setup({ store, masterBytes });
    expect((await caught(again.fields.decrypt(old, ctx(1)))).code).toBe('CRYPTO_KEY_DESTROYED');
    expect(await again.fields.decrypt(current, ctx(2))).toBe('current');
  });

  it('destroying a whole column shreds every version and its blind-index key', async () => {
    const { fields, keyring } = await setup();
    const scope = ctx(0);
    const a = await fields.encrypt('a', ctx(1));
    await fields.blindIndex('a', scope);
    await keyring.rotate(scope);
    const b = await fields.encrypt('b', ctx(2));
    expect((await keyring.destroy(scope)).map((k) => `${k.kind}${k.version}`).sort()).toEqual(['bidx1', 'dek1', 'dek2']);
    for (const [c, row] of [[a, 1], [b, 2]] as const) expect((await caught(fields.decrypt(c, ctx(row)))).code).toBe('CRYPTO_KEY_DESTROYED');
    expect((await caught(fields.blindIndex('a', scope))).code).toBe('CRYPTO_KEY_DESTROYED');
  });

  it('rolls over to a new version before a version exceeds its message limit', async () => {
    const { fields, keyring } = await setup({ messageLimit: 5, reserveBlock: 2 });
    const out: string[] = [];
    for (let i = 0; i < 23; i++) out.push(await fields.encrypt(`v${i}`, ctx(i)));
    const perVersion = new Map<number, number>();
    for (const c of out) {
      const v = (parseCiphertext(c) as { version: number }).version;
      perVersion.set(v, (perVersion.get(v) ?? 0) + 1);
    }
    for (const n of perVersion.values()) expect(n).toBeLessThanOrEqual(5);
    expect(perVersion.size).toBeGreaterThanOrEqual(5);
    for (const k of await keyring.list(ctx(0))) {
      expect(k.messagesReserved).toBeLessThanOrEqual(5);
      expect(k.messageLimit).toBe(5);
    }
    for (let i = 0; i < out.length; i++) expect(await fields.decrypt(out[i]!, ctx(i))).toBe(`v${i}`);
  });

  it('two keyrings on one store encrypting concurrently never exceed the limit, and read each other', async () => {
    const store = await newStore();
    const masterBytes = randomBytes(32);
    const a = await setup({ store, masterBytes, messageLimit: 7, reserveBlock: 3 });
    const b = await setup({ store, masterBytes, messageLimit: 7, reserveBlock: 3 });
    const jobs = Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).fields.encrypt(`value ${i}`, ctx(i)).then((c) => [i, c] as const));
    const done = await Promise.all(jobs);
    const counts = new Map<number, number>();
    for (const [, c] of done) {
      const v = (parseCiphertext(c) as { version: number }).version;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(7);
    for (const k of await a.keyring.list()) expect(k.messagesReserved).toBeLessThanOrEqual(7);
    expect((await a.keyring.list()).filter((k) => k.state === 'active')).toHaveLength(1);
    for (const [i, c] of done) {
      expect(await a.fields.decrypt(c, ctx(i))).toBe(`value ${i}`);
      expect(await b.fields.decrypt(c, ctx(i))).toBe(`value ${i}`);
    }
  });

  it('ColumnCipher: reserve(n) then n synchronous encryptions; one more without reserving is a bug', async () => {
    const { fields } = await setup({ reserveBlock: 1 });
    const col = await fields.column(ctx(0));
    expect(() => col.encryptSync('x', 1)).toThrow(InternalError);
    await col.reserve(3);
    expect(col.reserved).toBe(3);
    const cs = [1, 2, 3].map((i) => col.encryptSync(`v${i}`, i));
    expect(col.reserved).toBe(0);
    expect(() => col.encryptSync('x', 4)).toThrow(/without a reserved message/);
    expect(cs.map((c, i) => col.decryptSync(c, i + 1))).toEqual(['v1', 'v2', 'v3']);
    expect(col.isOwnCiphertext(cs[0]!)).toBe(true);
    expect(col.isOwnCiphertext('stw1:other:1:AAAA')).toBe(false);
  });

  it('many concurrent encryptions with a tiny reservation block all succeed with distinct nonces', async () => {
    const { fields } = await setup({ reserveBlock: 3 });
    const out = await Promise.all(Array.from({ length: 200 }, (_, i) => fields.encrypt('same', ctx(1))));
    const nonces = new Set(out.map((c) => (parseCiphertext(c) as { payload: Buffer }).payload.subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(200);
    for (const c of out) expect(await fields.decrypt(c, ctx(1))).toBe('same');
  });
});

describe('master keys', () => {
  it('a different master key is "wrong key", not "tampered"', async () => {
    const { store, fields } = await setup();
    const c = await fields.encrypt('x', ctx(1));
    const other = await setup({ store });
    const e = await caught(other.fields.decrypt(c, ctx(1)));
    expect(e.code).toBe('CRYPTO_WRONG_KEY');
    expect(e.message).toMatch(/is wrapped under master key local:\S+, but the master key supplied is local:\S+/);
    // It refuses to encrypt into that column too (no silent second key).
    expect((await caught(other.fields.encrypt('y', ctx(2)))).code).toBe('CRYPTO_WRONG_KEY');
  });

  it('passphrase: the same one reopens the keyring; a wrong one is CRYPTO_WRONG_KEY at open', async () => {
    const store = await newStore();
    const scrypt = { N: 2 ** 10 };
    const first = await setup({ store, master: { passphrase: 'tr0ub4dor&3', scrypt } });
    const c = await first.fields.encrypt('secret', ctx(1));
    const recorded = await store.keys.listMasterKeys();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ kind: 'passphrase', id: first.keyring.masterKeyId });
    expect(JSON.parse(recorded[0]!.params!)).toMatchObject({ N: 1024, r: 8, p: 1 });
    const second = await setup({ store, master: { passphrase: 'tr0ub4dor&3' } });
    expect(await second.fields.decrypt(c, ctx(1))).toBe('secret');
    const e = await caught(openKeyring({ store, master: { passphrase: 'Tr0ub4dor&3' } }));
    expect(e.code).toBe('CRYPTO_WRONG_KEY');
    expect(e.message).toMatch(/passphrase does not match/);
    expect(e.message).not.toContain('r0ub4dor');
  });

  it('two first opens racing with one passphrase agree on one master key', async () => {
    const store = await newStore();
    // Both record in the same millisecond: the worst case for "the oldest record wins".
    const sameMs = () => new Date('2026-01-01T00:00:00Z');
    const [a, b] = await Promise.all([0, 1].map(() => openKeyring({ store, master: { passphrase: 'same words', scrypt: { N: 2 ** 10 } }, now: sameMs })));
    expect(a!.masterKeyId).toBe(b!.masterKeyId);
    expect(await store.keys.listMasterKeys()).toHaveLength(2); // the loser's parameters stay, unused
    const c = await createFieldEncryption(a!).encrypt('v', ctx(1));
    expect(await createFieldEncryption(b!).decrypt(c, ctx(1))).toBe('v');
    const later = await openKeyring({ store, master: { passphrase: 'same words' } });
    expect(later.masterKeyId).toBe(a!.masterKeyId);
  });

  it('master key rotation: previous keys unwrap until rewrap; afterwards only the new key works', async () => {
    const { store, fields, keyring, masterBytes } = await setup();
    const c = await fields.encrypt('kept', ctx(1));
    await fields.blindIndex('kept', ctx(1));
    const newBytes = randomBytes(32);
    const both = await setup({ store, masterBytes: newBytes, previous: [new LocalMasterKey(Buffer.from(masterBytes))] });
    expect(await both.fields.decrypt(c, ctx(1))).toBe('kept');
    expect(await both.keyring.rewrap(new LocalMasterKey(Buffer.from(newBytes)))).toBe(2);
    expect(new Set((await store.keys.listKeys()).map((k) => k.kekId))).toEqual(new Set([both.keyring.masterKeyId]));
    const onlyNew = await setup({ store, masterBytes: newBytes });
    expect(await onlyNew.fields.decrypt(c, ctx(1))).toBe('kept');
    const onlyOld = await setup({ store, masterBytes });
    expect((await caught(onlyOld.fields.decrypt(c, ctx(1)))).code).toBe('CRYPTO_WRONG_KEY');
    expect(keyring.masterKeyId).not.toBe(both.keyring.masterKeyId);
  });
});

describe('blind indexes', () => {
  it('normalised, truncated, per column, stable across DEK rotation and reopening', async () => {
    const { fields, keyring, store, masterBytes } = await setup();
    const email = ctx(0);
    const a = await fields.blindIndex(' Ann@Example.COM ', email, { normalize: 'email' });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await fields.blindIndex('ann@example.com', email, { normalize: 'email' })).toBe(a);
    expect(await fields.blindIndex('Ann@Example.COM', email)).not.toBe(a); // no normalisation: another index
    expect(await fields.blindIndex('bob@example.com', email, { normalize: 'email' })).not.toBe(a);
    expect(await fields.blindIndex('ann@example.com', ctx(0, { column: 'backup_email' }), { normalize: 'email' })).not.toBe(a);
    const short = await fields.blindIndex('ann@example.com', email, { normalize: 'email', bytes: 8, encoding: 'base64url' });
    expect(short).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(Buffer.from(short, 'base64url').toString('hex')).toBe(a.slice(0, 16));
    await keyring.rotate(email);
    expect(await fields.blindIndex('ann@example.com', email, { normalize: 'email' })).toBe(a);
    const reopened = await setup({ store, masterBytes });
    expect(await reopened.fields.blindIndex('ann@example.com', email, { normalize: 'email' })).toBe(a);
    const bidx = await fields.blindIndexer(email, { normalize: 'digits' });
    expect(bidx.index('+44 20-7946 0000')).toBe(bidx.index('442079460000'));
    expect(bidx.length).toBe(32);
  });

  it('the blind-index key is not the column DEK', async () => {
    const { fields, store, masterBytes } = await setup();
    await fields.encrypt('x', ctx(1));
    await fields.blindIndex('x', ctx(1));
    const keys = await plaintextKeys(store, masterBytes);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.equals(keys[1]!)).toBe(false);
    const { hmacSha256 } = await import('../../../src/crypto/primitives.js');
    const idx = await fields.blindIndex('x', ctx(1));
    for (const k of keys) expect(hmacSha256(k, 'x', 16).toString('hex')).not.toBe(idx);
  });
});

describe('no key material in errors, JSON or inspect output', () => {
  it('holds for every object and every error of a session', async () => {
    const { fields, keyring, store, masterBytes } = await setup();
    const scope = ctx(0);
    const c = await fields.encrypt('secret value', ctx(1));
    const bidx = await fields.blindIndexer(scope);
    const column = await fields.column(scope);
    const keys = await keyring.columnKeys(scope);
    await keyring.rotate(scope);
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
    await collect(fields.decrypt(c, ctx(2)));
    await collect(fields.decrypt(c.slice(0, -2) + 'AA', ctx(1)));
    await collect(fields.decrypt('not encrypted', ctx(1)));
    await collect(fields.decrypt(c.replace(':1:', ':9:'), ctx(1)));
    await collect((await setup({ store })).fields.decrypt(c, ctx(1)));
    await keyring.destroy(scope, 1);
    await collect(fields.decrypt(c, ctx(1)));
    expect(errors).toHaveLength(6);
    const material = [...(await plaintextKeys(store, masterBytes)), masterBytes];
    expect(material.length).toBeGreaterThanOrEqual(3);
    const shown = [
      JSON.stringify({ keyring, fields, bidx, column, keys, dek: keys.active, usable: [...keys.usable.values()] }),
      inspect({ keyring, fields, bidx, column, keys }, { depth: 10, showHidden: true }),
      String(keyring) + String(fields) + String(bidx) + String(column) + String(keys.active),
      JSON.stringify(await keyring.list()),
      ...errors.map((e) => `${String(e)} ${(e as CryptoError).hint} ${JSON.stringify(e)} ${inspect(e)}`),
    ].join('\n');
    expectNoKeyMaterial(shown, material);
    expect(shown).not.toContain('secret value');
    expect(JSON.parse(JSON.stringify(keys.active))).toEqual({ keyId: keys.active!.keyId, version: 1, kind: 'dek', scope: { source: 'shop', table: 'customers', column: 'email' } });
  });
});

describe('detection recognises library output', () => {
  it('a column of real ciphertexts is encrypted personal data, not secrets', async () => {
    const { fields } = await setup();
    const values = await Promise.all(Array.from({ length: 30 }, (_, i) => fields.encrypt(`person${i}@example.com`, ctx(i))));
    const r = createClassifier().classifyColumn({ table: 'customers', column: 'email', typeClass: 'text', values });
    expect(r.category).toBe('contact.email');
    expect(r.evidence.signals).toContainEqual({ kind: 'steward-ciphertext' });
  });
});
