/**
 * The keyring with Vault transit as its master key, end to end, on real state
 * stores (a SQLite file and the PostgreSQL server) and the local transit server:
 * field values encrypt and decrypt through data keys wrapped by Vault, survive
 * reopening, move from a local master key to Vault (keyring.rewrap), follow a
 * Vault key rotation (rewrapStoredKeys), and fail with the right error when Vault
 * is sealed, the token is wrong, or a wrapped key row is changed in the database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  createFieldEncryption,
  CryptoError,
  openKeyring,
  rewrapStoredKeys,
  vaultKeyVersion,
  vaultTransitFromEnv,
  type FieldContext,
  type VaultTransitKms,
} from '../../src/crypto/index.js';
import { wrapAad } from '../../src/crypto/keyring.js';
import { LocalMasterKey } from '../../src/crypto/master-key.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { PG_URL } from '../helpers/servers.js';
import { startVaultTransitServer, type VaultTransitServer } from '../helpers/vault-transit-server.js';

type Backend = 'sqlite' | 'postgres';
const servers = inject('servers');
const RUN_TAG = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const tempDirs: string[] = [];
const schemas: string[] = [];
const TOKEN = `hvs.${randomBytes(18).toString('base64url')}`;

interface Loc {
  url: string;
  baseDir: string;
  schema?: string;
}

async function location(backend: Backend): Promise<Loc> {
  if (backend === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'steward-vault-'));
    tempDirs.push(dir);
    return { url: '.steward/state.db', baseDir: dir };
  }
  const schema = `steward_v_${RUN_TAG}_${schemas.length}`;
  schemas.push(schema);
  return { url: PG_URL, baseDir: os.tmpdir(), schema };
}

/** Raw SQL on the store's database, bypassing Steward (`?` placeholders). */
async function raw<T = Record<string, unknown>>(backend: Backend, loc: Loc, text: string, params: unknown[] = []): Promise<T[]> {
  if (backend === 'sqlite') {
    const db = new Database(path.resolve(loc.baseDir, loc.url));
    try {
      const stmt = db.prepare(text);
      return stmt.reader ? (stmt.all(...params) as T[]) : (stmt.run(...params), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${loc.schema}"`);
    let n = 0;
    return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  } finally {
    await client.end();
  }
}

const vaults: VaultTransitServer[] = [];
afterEach(async () => {
  await Promise.all(vaults.splice(0).map((v) => v.stop()));
});

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
  if (schemas.length > 0 && servers.postgres) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
    } finally {
      await client.end();
    }
  }
});

async function startVault(): Promise<VaultTransitServer> {
  const v = await startVaultTransitServer({
    keys: { steward: {} },
    tokens: {
      [TOKEN]: [
        { path: 'transit/encrypt/steward', capabilities: ['update'] },
        { path: 'transit/decrypt/steward', capabilities: ['update'] },
      ],
    },
  });
  vaults.push(v);
  return v;
}

/** A provider as a fresh process would build it: from the environment. */
function provider(v: VaultTransitServer, token = TOKEN): Promise<VaultTransitKms> {
  return vaultTransitFromEnv({ VAULT_ADDR: v.address, VAULT_TOKEN: token, STEWARD_VAULT_TRANSIT_KEY: 'steward' });
}

const ctx = (rowKey: FieldContext['rowKey'], column = 'email'): FieldContext => ({ source: 'shop', table: 'public.customers', column, rowKey });

async function caught(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, 'expected a CryptoError').toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

interface Written {
  c: string;
  ctx: FieldContext;
  v: string;
}

async function writeSome(store: StateStore, master: Parameters<typeof openKeyring>[0]['master'], n = 10, rotateAt = 5): Promise<Written[]> {
  const keyring = await openKeyring({ store, master });
  const fields = createFieldEncryption(keyring);
  const out: Written[] = [];
  for (let i = 0; i < n; i++) {
    for (const column of ['email', 'phone']) {
      const c = ctx(i, column);
      const v = `${column}-${i}-ünïcødé`;
      out.push({ c: await fields.encrypt(v, c), ctx: c, v });
    }
    if (i === rotateAt) await keyring.rotate(ctx(0, 'email'));
  }
  await fields.blindIndex('ann@example.com', ctx(0), { normalize: 'email' });
  return out;
}

async function readAll(store: StateStore, master: Parameters<typeof openKeyring>[0]['master'], written: Written[]): Promise<void> {
  const fields = createFieldEncryption(await openKeyring({ store, master }));
  for (const w of written) expect(await fields.decrypt(w.c, w.ctx)).toBe(w.v);
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe.skipIf(backend === 'postgres' && !servers.postgres)(`${backend}: keyring with a Vault transit master key`, () => {
    it('encrypts and decrypts field values through Vault-wrapped data keys, across reopening', async () => {
      const v = await startVault();
      const loc = await location(backend);
      let store = await openStateStore(loc);
      const written = await writeSome(store, await provider(v));
      const bidx = await createFieldEncryption(await openKeyring({ store, master: await provider(v) })).blindIndex('ANN@example.com ', ctx(0), { normalize: 'email' });
      await store.close();

      // What is stored: Vault ciphertexts, the Vault KEK id, the provider recorded; no data key in any form.
      const rows = await raw<{ kek_id: string; wrapped: string; kind: string; version: number | string }>(backend, loc, 'select * from data_keys order by key_id, version');
      expect(rows).toHaveLength(4); // email v1, v2; phone v1; email bidx
      for (const r of rows) {
        expect(r.kek_id).toBe('vault:transit/steward');
        expect(vaultKeyVersion(r.wrapped)).toBe(1);
      }
      const masters = await raw<{ id: string; kind: string; params_json: string | null }>(backend, loc, 'select * from master_keys');
      expect(masters.map((m) => [m.id, m.kind, m.params_json])).toEqual([['vault:transit/steward', 'vault-transit', null]]);
      const keys = await provider(v);
      const stored = await raw<{ key_id: string; version: number | string; kind: 'dek' | 'bidx'; source: string; table_name?: string; kek_id: string; wrapped: string }>(backend, loc, 'select * from data_keys');
      store = await openStateStore(loc);
      const deks = await Promise.all(
        (await store.keys.listKeys()).map((r) => keys.unwrapKey(r.wrapped!, { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad: wrapAad(r.kekId, r.kind, r.keyId, r.version, r.scope) })),
      );
      const dump = JSON.stringify([stored, masters]);
      for (const d of deks) for (const f of [d.toString('hex'), d.toString('base64'), d.toString('base64url')]) expect(dump).not.toContain(f);
      expect(dump).not.toContain(TOKEN);

      // A new process (new store handle, new provider from the environment) reads everything back.
      const before = v.requests.length;
      await readAll(store, await provider(v), written);
      const decrypts = v.requests.slice(before).filter((r) => r.path.endsWith('/decrypt/steward'));
      expect(decrypts, 'one unwrap per data key version, then cached').toHaveLength(3);
      expect(await createFieldEncryption(await openKeyring({ store, master: await provider(v) })).blindIndex('ann@example.com', ctx(99), { normalize: 'email' })).toBe(bidx);
      await store.close();
    });

    it('moves a keyring from a local master key to Vault with keyring.rewrap, then Vault alone reads everything', async () => {
      const v = await startVault();
      const loc = await location(backend);
      const localBytes = randomBytes(32);
      const local = () => new LocalMasterKey(Buffer.from(localBytes));
      const store = await openStateStore(loc);
      try {
        const written = await writeSome(store, local());
        expect((await store.keys.listKeys()).every((r) => r.kekId.startsWith('local:'))).toBe(true);

        const vault = await provider(v);
        const moving = await openKeyring({ store, master: vault, previous: [local()] });
        expect(await moving.rewrap(vault)).toBe(4);
        const after = await store.keys.listKeys();
        expect(after.every((r) => r.kekId === 'vault:transit/steward' && vaultKeyVersion(r.wrapped!) === 1)).toBe(true);

        await readAll(store, await provider(v), written);
        // New values after the move are wrapped by Vault too.
        const fields = createFieldEncryption(await openKeyring({ store, master: await provider(v) }));
        const c = await fields.encrypt('after the move', ctx(1, 'iban'));
        expect(await fields.decrypt(c, ctx(1, 'iban'))).toBe('after the move');
        // The local key alone no longer opens anything: the keys are Vault's now.
        const e = await caught(createFieldEncryption(await openKeyring({ store, master: local() })).decrypt(written[0]!.c, written[0]!.ctx));
        expect(e.code).toBe('CRYPTO_WRONG_KEY');
        expect(e.message).toContain('vault:transit/steward');
        expect((await store.keys.listMasterKeys()).map((m) => m.kind).sort()).toEqual(['key', 'vault-transit']);
      } finally {
        await store.close();
      }
    });

    it('follows a Vault key rotation: rewrapStoredKeys moves every wrapped key to the new version, the old one can be retired', async () => {
      const v = await startVault();
      const loc = await location(backend);
      const store = await openStateStore(loc);
      try {
        const written = await writeSome(store, await provider(v));
        expect(v.rotate('steward')).toBe(2);
        // Still readable: old versions decrypt after rotation.
        await readAll(store, await provider(v), written);
        // Retiring version 1 before rewrapping locks the data out, with a clear error (and is reversible).
        v.setMinDecryptionVersion('steward', 2);
        const locked = await caught(createFieldEncryption(await openKeyring({ store, master: await provider(v) })).decrypt(written[0]!.c, written[0]!.ctx));
        expect(locked.code).toBe('CRYPTO_UNKNOWN_KEY_VERSION');
        v.setMinDecryptionVersion('steward', 1);

        const wrappedBefore = new Map((await store.keys.listKeys()).map((r) => [`${r.keyId}/${r.version}`, r.wrapped]));
        expect(await rewrapStoredKeys(store, await provider(v))).toEqual({ examined: 4, rewrapped: 4 });
        const rows = await store.keys.listKeys();
        for (const r of rows) {
          expect(vaultKeyVersion(r.wrapped!)).toBe(2);
          expect(r.wrapped).not.toBe(wrappedBefore.get(`${r.keyId}/${r.version}`));
        }
        // Idempotent: nothing left to move.
        expect(await rewrapStoredKeys(store, await provider(v))).toEqual({ examined: 4, rewrapped: 0 });
        v.setMinDecryptionVersion('steward', 2);
        await readAll(store, await provider(v), written);
      } finally {
        await store.close();
      }
    });

    it('Vault sealed, a wrong token, a changed key row: the right error, and recovery once Vault is back', async () => {
      const v = await startVault();
      const loc = await location(backend);
      const store = await openStateStore(loc);
      try {
        const written = await writeSome(store, await provider(v), 4, 99);
        const w = written[0]!;

        v.sealed = true;
        const fields = createFieldEncryption(await openKeyring({ store, master: await provider(v) }));
        const sealed = await caught(fields.decrypt(w.c, w.ctx));
        expect(sealed.code).toBe('CRYPTO_MASTER_KEY');
        expect(sealed.message).toContain('Vault is sealed');
        expect(sealed.message).toContain(v.address);
        v.sealed = false;
        // The same keyring recovers: a failed load is not cached.
        expect(await fields.decrypt(w.c, w.ctx)).toBe(w.v);

        const bad = await caught(createFieldEncryption(await openKeyring({ store, master: await provider(v, `hvs.${randomBytes(18).toString('base64url')}`) })).decrypt(w.c, w.ctx));
        expect(bad.code).toBe('CRYPTO_WRONG_KEY');
        expect(bad.toUserString()).not.toContain(TOKEN);

        // Swap the wrapped keys of the email and phone columns in the database.
        const rows = await raw<{ key_id: string; version: number | string; wrapped: string }>(backend, loc, "select key_id, version, wrapped from data_keys where kind = 'dek' order by key_id");
        expect(rows).toHaveLength(2);
        await raw(backend, loc, 'update data_keys set wrapped = ? where key_id = ?', [rows[1]!.wrapped, rows[0]!.key_id]);
        await raw(backend, loc, 'update data_keys set wrapped = ? where key_id = ?', [rows[0]!.wrapped, rows[1]!.key_id]);
        for (const x of [written[0]!, written[1]!]) {
          const e = await caught(createFieldEncryption(await openKeyring({ store, master: await provider(v) })).decrypt(x.c, x.ctx));
          expect(e.code).toBe('CRYPTO_TAMPERED');
          expect(e.message).toContain('does not verify under Vault transit key transit/steward');
        }
      } finally {
        await store.close();
      }
    });
  });
}
