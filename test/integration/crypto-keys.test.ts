/**
 * The keyring on real state stores: a SQLite file and the PostgreSQL server.
 * Data keys round-trip through the store (wrapped only), survive reopening,
 * are detected when their rows are tampered with, are shredded for real, and
 * blind indexes answer `WHERE email_bidx = ?` in the database.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createFieldEncryption, CryptoError, openKeyring, parseCiphertext, type FieldContext } from '../../src/crypto/index.js';
import { wrapAad } from '../../src/crypto/keyring.js';
import { LocalMasterKey } from '../../src/crypto/master-key.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { PG_URL } from '../helpers/servers.js';

type Backend = 'sqlite' | 'postgres';
const servers = inject('servers');
const RUN_TAG = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const tempDirs: string[] = [];
const schemas: string[] = [];

interface Loc {
  url: string;
  baseDir: string;
  schema?: string;
}

async function location(backend: Backend): Promise<Loc> {
  if (backend === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'steward-keys-'));
    tempDirs.push(dir);
    return { url: '.steward/state.db', baseDir: dir };
  }
  const schema = `steward_k_${RUN_TAG}_${schemas.length}`;
  schemas.push(schema);
  return { url: PG_URL, baseDir: os.tmpdir(), schema };
}

/** Raw SQL on the store's database, bypassing Steward. */
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
    return (await client.query(text.replace(/\?/g, (_, i: number) => `$${text.slice(0, i).split('?').length}`), params)).rows as T[];
  } finally {
    await client.end();
  }
}

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

const ctx = (rowKey: FieldContext['rowKey'], column = 'email'): FieldContext => ({ source: 'shop', table: 'public.customers', column, rowKey });

async function caught(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, 'expected a CryptoError').toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

async function session(loc: Loc, masterBytes: Buffer, options: { messageLimit?: number; reserveBlock?: number } = {}) {
  const store = await openStateStore(loc);
  const keyring = await openKeyring({ store, master: new LocalMasterKey(Buffer.from(masterBytes)), ...options });
  return { store, keyring, fields: createFieldEncryption(keyring) };
}

async function withSession<T>(loc: Loc, masterBytes: Buffer, fn: (s: Awaited<ReturnType<typeof session>>) => Promise<T>): Promise<T> {
  const s = await session(loc, masterBytes);
  try {
    return await fn(s);
  } finally {
    await s.store.close();
  }
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe.skipIf(backend === 'postgres' && !servers.postgres)(`${backend}: keyring in the state store`, () => {
    it('data keys round-trip through the store, wrapped only, across reopening', async () => {
      const loc = await location(backend);
      const master = randomBytes(32);
      const written = await withSession(loc, master, async ({ fields, keyring }) => {
        const out: { c: string; ctx: FieldContext; v: string }[] = [];
        for (let i = 0; i < 20; i++) {
          for (const column of ['email', 'phone', 'iban']) {
            const c = ctx(i, column);
            out.push({ c: await fields.encrypt(`${column}-${i}-ünïcødé`, c), ctx: c, v: `${column}-${i}-ünïcødé` });
          }
          if (i === 9) await keyring.rotate(ctx(0, 'email'));
        }
        await fields.blindIndex('x', ctx(0));
        return out;
      });
      expect(new Set(written.filter((w) => w.ctx.column === 'email').map((w) => (parseCiphertext(w.c) as { version: number }).version))).toEqual(new Set([1, 2]));

      await withSession(loc, master, async ({ fields, store, keyring }) => {
        for (const w of written) expect(await fields.decrypt(w.c, w.ctx)).toBe(w.v);
        const rows = await store.keys.listKeys();
        expect(rows.map((r) => `${r.scope.column}/${r.kind}/${r.version}/${r.state}`)).toEqual([
          'email/bidx/1/active',
          'email/dek/1/retired',
          'email/dek/2/active',
          'iban/dek/1/active',
          'phone/dek/1/active',
        ]);
        for (const r of rows) {
          expect(r.kekId).toBe(keyring.masterKeyId);
          expect(Buffer.from(r.wrapped!, 'base64url')).toHaveLength(12 + 32 + 16);
        }
        // Every stored byte of the key tables, as text: no plaintext key in any form.
        const mk = new LocalMasterKey(Buffer.from(master));
        const deks = await Promise.all(rows.map((r) => mk.unwrapKey(r.wrapped!, { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad: wrapAad(r.kekId, r.kind, r.keyId, r.version, r.scope) })));
        const dump = JSON.stringify([await raw(backend, loc, 'select * from data_keys'), await raw(backend, loc, 'select * from master_keys')]);
        for (const k of [...deks, master]) for (const f of [k.toString('hex'), k.toString('base64'), k.toString('base64url')]) expect(dump).not.toContain(f);
      });
    });

    it('a wrong master key is CRYPTO_WRONG_KEY; a changed or moved wrapped key is CRYPTO_TAMPERED', async () => {
      const loc = await location(backend);
      const master = randomBytes(32);
      const [email, phone] = await withSession(loc, master, async ({ fields }) => [await fields.encrypt('a@b.c', ctx(1)), await fields.encrypt('+44 20 7946 0000', ctx(1, 'phone'))]);
      await withSession(loc, randomBytes(32), async ({ fields }) => {
        const e = await caught(fields.decrypt(email!, ctx(1)));
        expect(e.code).toBe('CRYPTO_WRONG_KEY');
        expect(e.exitCode).toBe(7);
      });
      // Move the phone column's wrapped key into the email column's row.
      const [phoneRow] = await raw<{ wrapped: string }>(backend, loc, `select wrapped from data_keys where column_name = 'phone'`);
      const [emailRow] = await raw<{ wrapped: string }>(backend, loc, `select wrapped from data_keys where column_name = 'email'`);
      await raw(backend, loc, `update data_keys set wrapped = ? where column_name = 'email'`, [phoneRow!.wrapped]);
      await withSession(loc, master, async ({ fields }) => {
        const e = await caught(fields.decrypt(email!, ctx(1)));
        expect(e.code).toBe('CRYPTO_TAMPERED');
        expect(e.message).toMatch(/wrapped data key .* of shop\.public\.customers\.email does not verify/);
        expect(await fields.decrypt(phone!, ctx(1, 'phone'))).toBe('+44 20 7946 0000');
      });
      // Flip one character of the wrapped key.
      const w = emailRow!.wrapped;
      const flipped = w.slice(0, 20) + (w[20] === 'A' ? 'B' : 'A') + w.slice(21);
      await raw(backend, loc, `update data_keys set wrapped = ? where column_name = 'email'`, [flipped]);
      await withSession(loc, master, async ({ fields }) => expect((await caught(fields.decrypt(email!, ctx(1)))).code).toBe('CRYPTO_TAMPERED'));
      await raw(backend, loc, `update data_keys set wrapped = ? where column_name = 'email'`, [w]);
      await withSession(loc, master, async ({ fields }) => expect(await fields.decrypt(email!, ctx(1))).toBe('a@b.c'));
    });

    it('destroy deletes the wrapped bytes in the database: the data is gone for every later process', async () => {
      const loc = await location(backend);
      const master = randomBytes(32);
      const c = await withSession(loc, master, async ({ fields, keyring }) => {
        const c = await fields.encrypt('to be forgotten', ctx(1));
        await keyring.destroy(ctx(0), 1);
        expect((await caught(fields.decrypt(c, ctx(1)))).code).toBe('CRYPTO_KEY_DESTROYED');
        return c;
      });
      const rows = await raw<{ state: string; wrapped: string | null; destroyed_at: string | null }>(backend, loc, `select state, wrapped, destroyed_at from data_keys where kind = 'dek'`);
      expect(rows).toEqual([{ state: 'destroyed', wrapped: null, destroyed_at: expect.any(String) }]);
      // The schema refuses a destroyed row that still holds bytes.
      await expect(raw(backend, loc, `update data_keys set wrapped = 'AAAA' where kind = 'dek'`)).rejects.toThrow();
      await withSession(loc, master, async ({ fields }) => {
        const e = await caught(fields.decrypt(c, ctx(1)));
        expect(e.code).toBe('CRYPTO_KEY_DESTROYED');
        // A new value in the column gets a new version, never the destroyed one.
        expect(parseCiphertext(await fields.encrypt('new', ctx(2)))).toMatchObject({ version: 2 });
      });
    });

    it('passphrase keyrings: parameters are stored; the same passphrase reopens; a wrong one is refused', async () => {
      const loc = await location(backend);
      const c = await (async () => {
        const store = await openStateStore(loc);
        try {
          const fields = createFieldEncryption(await openKeyring({ store, master: { passphrase: 'open sesame', scrypt: { N: 2 ** 12 } } }));
          return await fields.encrypt('v', ctx(1));
        } finally {
          await store.close();
        }
      })();
      const [rec] = await raw<{ kind: string; params_json: string }>(backend, loc, 'select kind, params_json from master_keys');
      expect(rec!.kind).toBe('passphrase');
      expect(JSON.parse(rec!.params_json)).toMatchObject({ N: 4096, r: 8, p: 1, salt: expect.stringMatching(/^[\w-]{22}$/) });
      expect(rec!.params_json).not.toContain('sesame');
      const store = await openStateStore(loc);
      try {
        const fields = createFieldEncryption(await openKeyring({ store, master: { passphrase: 'open sesame' } }));
        expect(await fields.decrypt(c, ctx(1))).toBe('v');
        expect((await caught(openKeyring({ store, master: { passphrase: 'open sesame!' } }))).code).toBe('CRYPTO_WRONG_KEY');
      } finally {
        await store.close();
      }
    });

    it('several processes encrypting at once share the message count and roll over consistently', async () => {
      const loc = await location(backend);
      const master = randomBytes(32);
      // Create the store (and run migrations) once, so the processes race on keys only.
      await withSession(loc, master, async () => {});
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const code = [
        `import { openStateStore } from ${JSON.stringify(path.join(root, 'src/state/index.ts'))};`,
        `import { openKeyring, createFieldEncryption, LocalMasterKey } from ${JSON.stringify(path.join(root, 'src/crypto/index.ts'))};`,
        `const [loc, key, who] = [JSON.parse(process.argv[1]), process.argv[2], process.argv[3]];`,
        `const store = await openStateStore(loc);`,
        `const keyring = await openKeyring({ store, master: new LocalMasterKey(Buffer.from(key, 'base64')), messageLimit: 10, reserveBlock: 4 });`,
        `const fields = createFieldEncryption(keyring);`,
        `const out = [];`,
        `for (let i = 0; i < 25; i++) { const row = who + '-' + i; out.push([row, await fields.encrypt('v' + row, { source: 'shop', table: 'public.customers', column: 'email', rowKey: row })]); }`,
        `await store.close();`,
        `process.stdout.write(JSON.stringify(out));`,
      ].join('\n');
      const run = (who: number) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(loc), master.toString('base64'), String(who)], { cwd: root });
      const outputs = await Promise.all([1, 2, 3].map(run));
      const done = outputs.flatMap((o) => JSON.parse(o.stdout) as [string, string][]);
      expect(done).toHaveLength(75);
      const perVersion = new Map<number, number>();
      for (const [, c] of done) {
        const v = (parseCiphertext(c) as { version: number }).version;
        perVersion.set(v, (perVersion.get(v) ?? 0) + 1);
      }
      for (const n of perVersion.values()) expect(n).toBeLessThanOrEqual(10);
      expect(perVersion.size).toBeGreaterThanOrEqual(8);
      await withSession(loc, master, async ({ keyring, fields }) => {
        const rows = await keyring.list(ctx(0));
        for (const r of rows) expect(r.messagesReserved).toBeLessThanOrEqual(10);
        expect(rows.filter((r) => r.state === 'active')).toHaveLength(1);
        expect(new Set(rows.map((r) => r.keyId)).size).toBe(1);
        for (const [row, c] of done) expect(await fields.decrypt(c, ctx(row))).toBe(`v${row}`);
      });
    }, 120_000);

    it('blind indexes answer WHERE email_bidx = ? on encrypted emails in the database', async () => {
      const loc = await location(backend);
      const master = randomBytes(32);
      const people = ['Ann@Example.com', 'bob@example.com', 'carol@example.org', 'ann@example.com.au'];
      await withSession(loc, master, async ({ fields }) => {
        const scope = ctx(0);
        const bidx = await fields.blindIndexer(scope, { normalize: 'email' });
        await raw(backend, loc, 'create table app_customers (id integer primary key, email_enc text not null, email_bidx varchar(32) not null)');
        for (const [i, email] of people.entries()) {
          await raw(backend, loc, 'insert into app_customers (id, email_enc, email_bidx) values (?, ?, ?)', [i + 1, await fields.encrypt(email, ctx(i + 1)), bidx.index(email)]);
        }
        await raw(backend, loc, 'create index app_customers_bidx on app_customers (email_bidx)');
        const found = await raw<{ id: number; email_enc: string }>(backend, loc, 'select id, email_enc from app_customers where email_bidx = ?', [bidx.index('  ANN@example.COM')]);
        expect(found.map((r) => Number(r.id))).toEqual([1]);
        expect(await fields.decrypt(found[0]!.email_enc, ctx(Number(found[0]!.id)))).toBe('Ann@Example.com');
        const none = await raw(backend, loc, 'select id from app_customers where email_bidx = ?', [bidx.index('dave@example.com')]);
        expect(none).toEqual([]);
        const stored = await raw<{ email_enc: string; email_bidx: string }>(backend, loc, 'select email_enc, email_bidx from app_customers');
        expect(JSON.stringify(stored).toLowerCase()).not.toContain('example');
      });
    });
  });
}
