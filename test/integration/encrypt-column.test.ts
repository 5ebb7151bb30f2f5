/**
 * Online column encryption on every database: a full round trip with a blind
 * index, a migration racing a concurrent writer over 100k rows (every row ends
 * as exactly its last written value, compared by checksum of the whole column),
 * rotation, and the inputs it must refuse without changing anything.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateColumn, type ColumnMigrationOptions } from '../../src/crypto/column-migration.js';
import { createFieldEncryption, type FieldEncryption } from '../../src/crypto/field.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { CryptoError, SourceError, UsageError } from '../../src/errors.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import type { Source } from '../../src/sources/types.js';
import { forEachDialect } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-enc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function keyringFor(name: string, keyText = generateMasterKeyText()): Promise<{ store: StateStore; fields: FieldEncryption; keyText: string }> {
  const store = await openStateStore({ url: path.join(tmp, `${name}.db`), baseDir: tmp });
  const keyring = await openKeyring({ store, master: await masterKeyFromEnv('K', { K: keyText }) });
  return { store, fields: createFieldEncryption(keyring), keyText };
}

const checksum = (rows: Iterable<readonly [number, string | null]>) =>
  createHash('sha256').update(JSON.stringify([...rows].sort((a, b) => a[0] - b[0]))).digest('hex');

forEachDialect('online column encryption', (d) => {
  let env: Awaited<ReturnType<typeof keyringFor>>;
  const table = (name: string) => name;
  const run = (source: Source, o: Partial<ColumnMigrationOptions> & Pick<ColumnMigrationOptions, 'table' | 'column'>) =>
    migrateColumn({ source, operation: 'encrypt', fields: env.fields, store: env.store, actor: 'test', ...o });

  beforeAll(async () => {
    env = await keyringFor(`${d.kind}-${d.engine}`);
    await d.exec(
      d.pick({
        postgres: `create table people (id integer primary key, email varchar(40), note text);
                   create table nokey (email text);
                   create table nums (id integer primary key, amount integer);
                   create table vaulted (id integer primary key, secret text);
                   create table racing (id integer primary key, email varchar(60))`,
        mysql: `create table people (id integer primary key, email varchar(40), note text);
                create table nokey (email text);
                create table nums (id integer primary key, amount integer);
                create table vaulted (id integer primary key, secret text);
                create table racing (id integer primary key, email varchar(60))`,
        sqlite: `create table people (id integer primary key, email varchar(40), note text);
                 create table nokey (email text);
                 create table nums (id integer primary key, amount integer);
                 create table vaulted (id integer primary key, secret text);
                 create table racing (id integer primary key, email varchar(60))`,
      }),
    );
    await d.db
      .insertInto('people')
      .values(Array.from({ length: 250 }, (_, i) => ({ id: i + 1, email: i % 10 === 9 ? null : `Person.${i + 1}@Example.com`, note: `n${i}` })))
      .execute();
    await d.db.insertInto('nokey').values({ email: 'a@b.co' }).execute();
    await d.db.insertInto('nums').values({ id: 1, amount: 5 }).execute();
    await d.db
      .insertInto('vaulted')
      .values(Array.from({ length: 20 }, (_, i) => ({ id: i + 1, secret: `vault:v1:${Buffer.from(`secret-${i}-padding-padding`).toString('base64')}` })))
      .execute();
  });
  afterAll(async () => env?.store.close());

  it('encrypts with a blind index, widening the column; a re-run is harmless; decrypt restores every value', async () => {
    const source = await d.openSource();
    try {
      const before = (await d.db.selectFrom('people').select(['id', 'email']).execute()).map((r) => [Number(r.id), r.email as string | null] as const);
      const dry = await run(source, { table: table('people'), column: 'email', dryRun: true, blindIndex: { column: 'email_bidx', normalize: 'email' } });
      expect(dry.plan).toMatchObject({ rows: 250, nulls: 25, encrypted: 0, todo: 225 });
      // Postgres and MySQL need a wider column for the ciphertext of a varchar(40); SQLite does not.
      expect(dry.plan.ddl.some((s) => /alter table/i.test(s) && /email"? |`email` /i.test(s))).toBe(d.kind !== 'sqlite');
      expect(dry.plan.ddl.some((s) => /email_bidx/.test(s))).toBe(true);
      expect((await d.db.selectFrom('people').select('email').where('id', '=', 1).executeTakeFirst())?.email).toBe('Person.1@Example.com');
      expect(await env.fields.keyring.list()).toEqual([]); // a dry run creates no key

      const done = await run(source, { table: table('people'), column: 'email', batchSize: 40, blindIndex: { column: 'email_bidx', normalize: 'email' } });
      expect(done.counts).toMatchObject({ changed: 225, raced: 0, remaining: 0 });
      expect(done.counts.batches).toBe(6);
      const rows = await d.db.selectFrom('people').select(['id', 'email', 'email_bidx']).orderBy('id').execute();
      const cipher = await env.fields.column({ source: source.name, table: 'people', column: 'email' });
      for (const r of rows) {
        if (r.email === null) {
          expect(r.email_bidx).toBeNull();
          continue;
        }
        expect(String(r.email)).toMatch(/^stw1:/);
        expect(await cipher.decrypt(String(r.email), Number(r.id))).toBe(before.find(([id]) => id === Number(r.id))![1]);
      }
      // Equality lookup through the blind index, normalised like the values were.
      const idx = await env.fields.blindIndexer({ source: source.name, table: 'people', column: 'email' }, { normalize: 'email' });
      const hit = await d.db.selectFrom('people').select('id').where('email_bidx', '=', idx.index('  person.7@example.COM ')).execute();
      expect(hit.map((r) => Number(r.id))).toEqual([7]);
      // A copied ciphertext does not decrypt on another row.
      const one = rows.find((r) => Number(r.id) === 1)!;
      await expect(cipher.decrypt(String(one.email), 2)).rejects.toBeInstanceOf(CryptoError);

      const again = await run(source, { table: table('people'), column: 'email', blindIndex: { column: 'email_bidx', normalize: 'email' } });
      expect(again.jobId).toBeNull();
      expect(again.counts.changed).toBe(0);

      const back = await run(source, { table: table('people'), column: 'email', operation: 'decrypt' });
      expect(back.counts).toMatchObject({ changed: 225, remaining: 0 });
      const after = (await d.db.selectFrom('people').select(['id', 'email']).execute()).map((r) => [Number(r.id), r.email as string | null] as const);
      expect(checksum(after)).toBe(checksum(before));
      const log = [];
      for await (const b of env.store.activityBatches()) log.push(...b);
      expect(log.filter((e) => e.subject.table === 'people').map((e) => e.action)).toEqual(expect.arrayContaining(['column.encrypt.started', 'column.ddl', 'column.encrypt.finished', 'column.decrypt.finished']));
      expect(JSON.stringify(log)).not.toMatch(/Person\.\d+@Example\.com/);
      expect((await env.store.verifyActivityLog()).ok).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('rotates to a new key version online and retires the old one once no value uses it', async () => {
    const source = await d.openSource();
    try {
      await run(source, { table: 'people', column: 'note' });
      const scope = { source: source.name, table: 'people', column: 'note' };
      const rotated = await run(source, { table: 'people', column: 'note', operation: 'rotate', batchSize: 100 });
      expect(rotated.counts).toMatchObject({ changed: 250, remaining: 0 });
      expect(rotated.retiredVersions).toEqual([1]);
      const versions = (await env.fields.keyring.list(scope)).filter((k) => k.kind === 'dek').map((k) => `${k.version}:${k.state}`);
      expect(versions).toEqual(['1:retired', '2:active']);
      const rows = await d.db.selectFrom('people').select(['id', 'note']).execute();
      const cipher = await env.fields.column(scope);
      for (const r of rows) {
        expect(String(r.note)).toMatch(/^stw1:[^:]+:2:/);
        expect(await cipher.decrypt(String(r.note), Number(r.id))).toBe(`n${Number(r.id) - 1}`);
      }
    } finally {
      await source.close();
    }
  });

  it('refuses a table without a primary key, a non-text column, another tool\'s ciphertext and an unknown column, changing nothing', async () => {
    const source = await d.openSource();
    try {
      await expect(run(source, { table: 'nokey', column: 'email' })).rejects.toThrow(/has no primary key/);
      await expect(run(source, { table: 'nums', column: 'amount' })).rejects.toThrow(/cannot hold ciphertexts|holds integer values/);
      const foreign = await run(source, { table: 'vaulted', column: 'secret' }).catch((e: unknown) => e);
      expect(foreign).toBeInstanceOf(CryptoError);
      expect((foreign as CryptoError).message).toContain('HashiCorp Vault');
      expect((foreign as CryptoError).message).not.toContain('secret-');
      await expect(run(source, { table: 'people', column: 'nope' })).rejects.toBeInstanceOf(UsageError);
      await expect(run(source, { table: 'nosuch', column: 'x' })).rejects.toThrow(/has no table nosuch/);
      expect((await d.db.selectFrom('vaulted').select('secret').where('id', '=', 1).executeTakeFirst())?.secret).toMatch(/^vault:v1:/);
      expect((await d.db.selectFrom('nums').select('amount').executeTakeFirst())?.amount).toBe(5);
    } finally {
      await source.close();
    }
  });

  it.skipIf(d.engine === 'pglite')('refuses a read-only connection with the reason, changing nothing', async () => {
    const source = await d.openSource({}, { readonly: true });
    try {
      const e = await run(source, { table: 'vaulted', column: 'secret', allowForeign: true }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(d.kind === 'sqlite' ? Error : SourceError);
      expect(String((e as Error).message)).toMatch(/read-only|readonly|not writable/i);
      expect((await d.db.selectFrom('vaulted').select('secret').where('id', '=', 1).executeTakeFirst())?.secret).toMatch(/^vault:v1:/);
    } finally {
      await source.close();
    }
  });

  it('a wrong master key is refused before anything is read or written', async () => {
    const other = await openKeyring({ store: env.store, master: await masterKeyFromEnv('K', { K: generateMasterKeyText() }) });
    const source = await d.openSource();
    try {
      const e = await migrateColumn({ source, table: 'people', column: 'note', operation: 'decrypt', fields: createFieldEncryption(other), store: env.store, actor: 't' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).code).toBe('CRYPTO_WRONG_KEY');
      expect(String((await d.db.selectFrom('people').select('note').where('id', '=', 1).executeTakeFirst())?.note)).toMatch(/^stw1:/);
    } finally {
      await source.close();
    }
  });

  it('a value under a key version the store does not have stops the decryption with CRYPTO_UNKNOWN_KEY_VERSION, batch rolled back', async () => {
    const source = await d.openSource();
    try {
      const row = await d.db.selectFrom('people').select(['id', 'note']).where('id', '=', 3).executeTakeFirstOrThrow();
      const forged = String(row.note).replace(/^(stw1:[^:]+:)\d+:/, '$19:');
      await d.db.updateTable('people').set({ note: forged }).where('id', '=', 3).execute();
      const before = await d.db.selectFrom('people').select(['id', 'note']).orderBy('id').execute();
      const e = await run(source, { table: 'people', column: 'note', operation: 'decrypt', batchSize: 1000 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).code).toBe('CRYPTO_UNKNOWN_KEY_VERSION');
      expect(await d.db.selectFrom('people').select(['id', 'note']).orderBy('id').execute()).toEqual(before);
      // Put the value back and finish the interrupted job: it resumes.
      await d.db.updateTable('people').set({ note: String(row.note) }).where('id', '=', 3).execute();
      const done = await run(source, { table: 'people', column: 'note', operation: 'decrypt' });
      expect(done.plan.resumes).not.toBeNull();
      expect(done.counts.remaining).toBe(0);
      expect((await d.db.selectFrom('people').select('note').where('id', '=', 3).executeTakeFirst())?.note).toBe('n2');
    } finally {
      await source.close();
    }
  });

  it('encrypts 100k rows while a concurrent writer inserts and updates plaintext: every row ends as its last written value', async () => {
    const N = 100_000;
    const expected = new Map<number, string>();
    for (let start = 1; start <= N; start += 2000) {
      const chunk = Array.from({ length: Math.min(2000, N - start + 1) }, (_, i) => ({ id: start + i, email: `user${start + i}@example.com` }));
      for (const r of chunk) expected.set(r.id, r.email);
      await d.db.insertInto('racing').values(chunk).execute();
    }
    const source = await d.openSource();
    let stop = false;
    let writes = 0;
    let next = N + 1;
    const writer = (async () => {
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      while (!stop) {
        if (rand() < 0.3) {
          const id = next++;
          const email = `new${id}@example.com`;
          await d.db.insertInto('racing').values({ id, email }).execute();
          expected.set(id, email);
        } else {
          const id = 1 + Math.floor(rand() * (next - 1));
          const email = `changed${writes}@example.com`;
          await d.db.updateTable('racing').set({ email }).where('id', '=', id).execute();
          expected.set(id, email);
        }
        writes++;
        if (writes % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    try {
      const first = await run(source, { table: 'racing', column: 'email', batchSize: 1000, maxPasses: 2 });
      const during = writes;
      stop = true;
      await writer;
      // Whatever the writer left in plaintext after the last pass: one more run, now that it stopped.
      const final = await run(source, { table: 'racing', column: 'email', batchSize: 1000 });
      expect(final.counts.remaining).toBe(0);
      expect(during).toBeGreaterThan(0); // the writer really ran while the migration did
      // The error path keeps plaintext out: no email of the table in what a failing batch would report.
      expect(first.counts.changed + final.counts.changed).toBeGreaterThanOrEqual(N);
      const cipher = await env.fields.column({ source: source.name, table: 'racing', column: 'email' });
      const rows = await d.db.selectFrom('racing').select(['id', 'email']).execute();
      expect(rows.length).toBe(expected.size);
      const decrypted: [number, string][] = [];
      for (const r of rows) {
        const v = String(r.email);
        expect(v.startsWith('stw1:')).toBe(true);
        const plain = cipher.decryptSync(v, Number(r.id));
        expect(plain.startsWith('stw1:')).toBe(false); // never encrypted twice
        decrypted.push([Number(r.id), plain]);
      }
      expect(checksum(decrypted)).toBe(checksum(expected.entries()));
    } finally {
      stop = true;
      await writer.catch(() => undefined);
      await source.close();
    }
  }, 600_000);
});
