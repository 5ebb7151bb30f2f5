import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BlindIndexer, createFieldEncryption, CryptoError, openKeyring, type KmsProvider, type WrapContext } from '../../../src/crypto/index.js';
import { LocalMasterKey } from '../../../src/crypto/master-key.js';
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
const scope = { source: 'crm', table: 'contacts', column: 'phone' };

/**
 * A stand-in for a remote KMS (the shape a Vault transit provider has): it holds its
 * own key, returns opaque `test:v1:` text, and authenticates the wrap context.
 */
class FakeRemoteKms implements KmsProvider {
  readonly keyId = 'test-kms:transit/steward';
  readonly kind = 'test-kms';
  readonly calls = { wrap: 0, unwrap: 0 };
  readonly #key = randomBytes(32);
  async wrapKey(dek: Uint8Array, context: WrapContext): Promise<string> {
    this.calls.wrap++;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(context.aad);
    const ct = Buffer.concat([c.update(dek), c.final()]);
    return `test:v1:${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64')}`;
  }
  async unwrapKey(wrapped: string, context: WrapContext): Promise<Buffer> {
    this.calls.unwrap++;
    const b = Buffer.from(wrapped.slice('test:v1:'.length), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(0, 12)).setAAD(context.aad);
    d.setAuthTag(b.subarray(-16));
    try {
      return Buffer.concat([d.update(b.subarray(12, -16)), d.final()]);
    } catch {
      throw new CryptoError('CRYPTO_TAMPERED', `Wrapped key ${context.keyId} v${context.version} does not verify`);
    }
  }
}

describe('Keyring with any KmsProvider', () => {
  it('stores what the provider returns, records the provider, and unwraps through it once per version', async () => {
    const store = await newStore();
    const kms = new FakeRemoteKms();
    const keyring = await openKeyring({ store, master: kms });
    const fields = createFieldEncryption(keyring);
    const c = await fields.encrypt('+1 555 0100', { ...scope, rowKey: 'a' });
    const [row] = await store.keys.listKeys();
    expect(row!.wrapped).toMatch(/^test:v1:/);
    expect(row!.kekId).toBe('test-kms:transit/steward');
    expect(await store.keys.listMasterKeys()).toEqual([{ id: kms.keyId, kind: 'test-kms', params: null, createdAt: expect.any(String) }]);
    // A second keyring (process) unwraps through the provider.
    const other = createFieldEncryption(await openKeyring({ store, master: kms }));
    expect(await other.decrypt(c, { ...scope, rowKey: 'a' })).toBe('+1 555 0100');
    for (let i = 0; i < 5; i++) await other.decrypt(c, { ...scope, rowKey: 'a' });
    expect(kms.calls).toEqual({ wrap: 1, unwrap: 1 });
  });

  it('moves from a local master key to a KMS with rewrap', async () => {
    const store = await newStore();
    const local = new LocalMasterKey(randomBytes(32));
    const fields = createFieldEncryption(await openKeyring({ store, master: local }));
    const c = await fields.encrypt('kept', { ...scope, rowKey: 1 });
    const kms = new FakeRemoteKms();
    const moving = await openKeyring({ store, master: kms, previous: [local] });
    expect(await moving.rewrap(kms)).toBe(1);
    const after = createFieldEncryption(await openKeyring({ store, master: kms }));
    expect(await after.decrypt(c, { ...scope, rowKey: 1 })).toBe('kept');
    expect((await store.keys.listMasterKeys()).map((m) => m.kind).sort()).toEqual(['key', 'test-kms']);
  });

  it('a provider that returns a key of the wrong size is treated as tampering', async () => {
    const store = await newStore();
    const kms = new FakeRemoteKms();
    const fields = createFieldEncryption(await openKeyring({ store, master: kms }));
    const c = await fields.encrypt('x', { ...scope, rowKey: 1 });
    const broken: KmsProvider = { keyId: kms.keyId, kind: kms.kind, wrapKey: (d, x) => kms.wrapKey(d, x), unwrapKey: async () => randomBytes(16) };
    const e = await createFieldEncryption(await openKeyring({ store, master: broken }))
      .decrypt(c, { ...scope, rowKey: 1 })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as CryptoError).code).toBe('CRYPTO_TAMPERED');
    expect((e as CryptoError).message).toMatch(/unwrapped to 16 bytes instead of 32/);
  });
});

describe('Keyring details', () => {
  it('rotate on a column without keys creates version 1; retire of a version that is not active is false', async () => {
    const keyring = await openKeyring({ store: await newStore(), master: new LocalMasterKey(randomBytes(32)) });
    expect(await keyring.rotate(scope)).toMatchObject({ version: 1, state: 'active' });
    expect(await keyring.retire(scope, 5)).toBe(false);
    expect(await keyring.retire(scope, 1)).toBe(true);
    expect(await keyring.retire(scope, 1)).toBe(false);
    const listed = await keyring.list(scope);
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty('wrapped');
  });

  it('validates its limits', async () => {
    const store = await newStore();
    const master = new LocalMasterKey(randomBytes(32));
    await expect(openKeyring({ store, master, messageLimit: 0 })).rejects.toThrow(RangeError);
    await expect(openKeyring({ store, master, reserveBlock: 1.5 })).rejects.toThrow(RangeError);
    const keyring = await openKeyring({ store, master, messageLimit: 10 });
    await expect(keyring.reserve(scope, 11)).rejects.toThrow(RangeError);
    expect((await keyring.reserve(scope, 10)).granted).toBe(10);
  });

  it('forget() drops unwrapped keys; they are reloaded on demand', async () => {
    const keyring = await openKeyring({ store: await newStore(), master: new LocalMasterKey(randomBytes(32)) });
    const fields = createFieldEncryption(keyring);
    const c = await fields.encrypt('x', { ...scope, rowKey: 1 });
    keyring.forget();
    expect(await fields.decrypt(c, { ...scope, rowKey: 1 })).toBe('x');
  });
});

describe('BlindIndexer', () => {
  const key = Buffer.alloc(32, 1);
  it('normalisers', () => {
    const none = new BlindIndexer(key);
    expect(none.index('A')).not.toBe(none.index('a'));
    const trim = new BlindIndexer(key, { normalize: 'trim' });
    expect(trim.index('  a ')).toBe(trim.index('a'));
    expect(trim.index('A')).not.toBe(trim.index('a'));
    const lower = new BlindIndexer(key, { normalize: 'lowercase' });
    expect(lower.index(' ÉCOLE ')).toBe(lower.index('e\u0301cole'.normalize('NFC')));
    const custom = new BlindIndexer(key, { normalize: (v) => v.replace(/\s+/g, '') });
    expect(custom.index('GB82 WEST 1234')).toBe(custom.index('GB82WEST1234'));
  });

  it('lengths and encodings', () => {
    for (const bytes of [4, 8, 16, 32]) {
      expect(new BlindIndexer(key, { bytes }).index('x')).toHaveLength(bytes * 2);
      const b64 = new BlindIndexer(key, { bytes, encoding: 'base64url' });
      expect(b64.index('x')).toHaveLength(b64.length);
    }
    expect(() => new BlindIndexer(key, { bytes: 3 })).toThrow(RangeError);
    expect(() => new BlindIndexer(key, { bytes: 33 })).toThrow(RangeError);
    expect(() => new BlindIndexer(key).index(null as unknown as string)).toThrow(TypeError);
  });

  it('never shows its key', () => {
    const b = new BlindIndexer(key);
    expect(JSON.stringify(b)).toBe('{"bytes":16,"encoding":"hex"}');
    expect(String(b)).not.toContain(key.toString('hex'));
  });
});
