/**
 * What `encrypt` must refuse before it writes anything (issue 11), on every database:
 * a blind index in an existing column it would overwrite (a key column, the target, a
 * column of other values), a column a foreign key references, a second key for one
 * column under another spelling of its table, and a run without UPDATE privilege.
 * Each refusal leaves no data key, no open job and every value as it was.
 */
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
import { forEachDialect, uniqueName } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-enc-safety-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function keyringFor(name: string): Promise<{ store: StateStore; fields: FieldEncryption }> {
  const store = await openStateStore({ url: path.join(tmp, `${name}.db`), baseDir: tmp });
  const keyring = await openKeyring({ store, master: await masterKeyFromEnv('K', { K: generateMasterKeyText() }) });
  return { store, fields: createFieldEncryption(keyring) };
}

forEachDialect('encrypt refuses before it writes', (d) => {
  let env: Awaited<ReturnType<typeof keyringFor>>;
  let source: Source;
  const run = (o: Partial<ColumnMigrationOptions> & Pick<ColumnMigrationOptions, 'table' | 'column'>) =>
    migrateColumn({ source, operation: 'encrypt', fields: env.fields, store: env.store, actor: 'test', ...o });
  const nothingLeft = async () => {
    expect((await env.fields.keyring.list()).filter((k) => k.state !== 'destroyed')).toEqual([]);
    expect((await env.store.jobs.list()).filter((j) => j.status === 'running')).toEqual([]);
  };

  beforeAll(async () => {
    env = await keyringFor(`${d.kind}-${d.engine}`);
    const fkOpts = d.kind === 'sqlite' ? '' : ' on update cascade';
    await d.exec(
      `create table enc_people (id varchar(20) primary key, email varchar(60), phone varchar(30), code varchar(20) unique);
       create table enc_parent (id integer primary key, email varchar(60) unique, note varchar(40));
       create table enc_child (id integer primary key, parent_email varchar(60), foreign key (parent_email) references enc_parent (email)${fkOpts});
       create table enc_split (id integer primary key, email varchar(60))`,
    );
    await d.db
      .insertInto('enc_people')
      .values(Array.from({ length: 30 }, (_, i) => ({ id: `p${i + 1}`, email: `enc.${i + 1}@example.com`, phone: `+44 20 7946 ${String(1000 + i)}`, code: `c${i}` })))
      .execute();
    await d.db.insertInto('enc_parent').values(Array.from({ length: 5 }, (_, i) => ({ id: i + 1, email: `parent${i}@example.com`, note: 'n' }))).execute();
    await d.db.insertInto('enc_child').values(Array.from({ length: 5 }, (_, i) => ({ id: i + 1, parent_email: `parent${i}@example.com` }))).execute();
    await d.db.insertInto('enc_split').values(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, email: `split${i}@example.com` }))).execute();
    source = await d.openSource();
  });
  afterAll(async () => {
    await source?.close();
    await env?.store.close();
  });

  it('refuses a blind index in a column of other values, a key column or the target, in the dry run too', async () => {
    const before = await d.db.selectFrom('enc_people').selectAll().orderBy('id').execute();
    for (const dryRun of [true, false]) {
      for (const [bi, why] of [
        ['phone', /holds values that are not this column's blind index/],
        ['id', /primary key/],
        ['code', /unique index/],
        ['email', /the column being encrypted/],
      ] as const) {
        const e = await run({ table: 'enc_people', column: 'email', dryRun, blindIndex: { column: bi } }).catch((x: unknown) => x);
        expect(e, `${bi} dry=${dryRun}`).toBeInstanceOf(UsageError);
        expect((e as Error).message).toMatch(why);
      }
    }
    expect(await d.db.selectFrom('enc_people').selectAll().orderBy('id').execute()).toEqual(before);
    await nothingLeft();
  });

  it('refuses to encrypt a column a foreign key references, or one that references another, naming the foreign key', async () => {
    for (const dryRun of [true, false]) {
      const parent = await run({ table: 'enc_parent', column: 'email', dryRun }).catch((x: unknown) => x);
      expect(parent).toBeInstanceOf(UsageError);
      expect((parent as Error).message).toMatch(/referenced by the foreign key .+ of .*enc_child/);
      const child = await run({ table: 'enc_child', column: 'parent_email', dryRun }).catch((x: unknown) => x);
      expect(child).toBeInstanceOf(UsageError);
      expect((child as Error).message).toMatch(/part of the foreign key .+ references .*enc_parent/);
    }
    const rows = await d.db.selectFrom('enc_child').select('parent_email').execute();
    expect(rows.every((r) => String(r.parent_email).endsWith('@example.com'))).toBe(true);
    await nothingLeft();
  });

  it('one column under two spellings of its table is one scope and one job lock', async () => {
    const first = await run({ table: 'enc_split', column: 'email', batchSize: 10 });
    expect(first.plan.scope.table).toBe('enc_split');
    expect(first.counts.remaining).toBe(0);
    const second = await run({ table: `${d.schema}.enc_split`, column: 'email' });
    expect(second.jobId).toBeNull(); // nothing to do: the same key already holds every value
    expect(second.plan.scope.table).toBe('enc_split');
    const quoted = await run({ table: `"${d.schema}"."enc_split"`, column: 'email', dryRun: true });
    expect(quoted.plan).toMatchObject({ scope: { table: 'enc_split' }, encrypted: 40, todo: 0 });
    const keys = (await env.fields.keyring.list()).filter((k) => k.scope.table.endsWith('enc_split') && k.kind === 'dek');
    expect(new Set(keys.map((k) => k.scope.table)).size).toBe(1);
    const back = await migrateColumn({ source, operation: 'decrypt', fields: env.fields, store: env.store, actor: 'test', table: 'enc_split', column: 'email' });
    expect(back.counts.changed).toBe(40);
    const rows = await d.db.selectFrom('enc_split').select('email').execute();
    expect(rows.every((r) => !String(r.email).startsWith('stw1:'))).toBe(true);
  });

  it.skipIf(d.kind !== 'postgres')('a key whose type is a quoted, mixed-case domain: its key parameters compare as text instead of a cast spliced from the catalog', async () => {
    await d.exec(`create domain "Ref Code" as varchar(20); create table enc_domain_key (id "Ref Code" primary key, email varchar(60))`);
    await d.db.insertInto('enc_domain_key').values(Array.from({ length: 12 }, (_, i) => ({ id: `R-${i}`, email: `dom${i}@example.com` }))).execute();
    const r = await run({ table: 'enc_domain_key', column: 'email', batchSize: 5 });
    expect(r.counts.changed).toBe(12);
    const back = await migrateColumn({ source, operation: 'decrypt', fields: env.fields, store: env.store, actor: 'test', table: 'enc_domain_key', column: 'email', batchSize: 5 });
    expect(back.counts.changed).toBe(12);
    const rows = await d.db.selectFrom('enc_domain_key').select('email').orderBy('email').execute();
    expect(rows.map((x) => x.email)).toEqual(Array.from({ length: 12 }, (_, i) => `dom${i}@example.com`).sort());
  });

  it('names the row of a value that does not verify (masked when the key looks like personal data)', async () => {
    await d.exec(`create table enc_tamper (id integer primary key, email varchar(60)); create table enc_tamper_mail (email_key varchar(60) primary key, secret varchar(60))`);
    await d.db.insertInto('enc_tamper').values(Array.from({ length: 3 }, (_, i) => ({ id: i + 1, email: `t${i}@example.com` }))).execute();
    await d.db.insertInto('enc_tamper_mail').values(Array.from({ length: 2 }, (_, i) => ({ email_key: `k${i}@example.org`, secret: `s${i}` }))).execute();
    await run({ table: 'enc_tamper', column: 'email' });
    await run({ table: 'enc_tamper_mail', column: 'secret' });
    // Swap two rows' ciphertexts: each is bound to its own row.
    const a = (await d.db.selectFrom('enc_tamper').select('email').where('id', '=', 1).executeTakeFirstOrThrow()).email as string;
    await d.db.updateTable('enc_tamper').set({ email: a }).where('id', '=', 2).execute();
    const e = await migrateColumn({ source, operation: 'decrypt', fields: env.fields, store: env.store, actor: 'test', table: 'enc_tamper', column: 'email' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as Error).message).toContain('id = 2');
    const b = (await d.db.selectFrom('enc_tamper_mail').select('secret').where('email_key', '=', 'k0@example.org').executeTakeFirstOrThrow()).secret as string;
    await d.db.updateTable('enc_tamper_mail').set({ secret: b }).where('email_key', '=', 'k1@example.org').execute();
    const m = await migrateColumn({ source, operation: 'decrypt', fields: env.fields, store: env.store, actor: 'test', table: 'enc_tamper_mail', column: 'secret' }).catch((x: unknown) => x);
    expect(m).toBeInstanceOf(CryptoError);
    expect((m as Error).message).toMatch(/email_key = /);
    expect((m as Error).message).not.toContain('k1@example.org');
  });

  it.skipIf(d.kind === 'sqlite' || d.engine === 'pglite')('without UPDATE privilege: refused in the dry run and the run, naming the GRANT, with no key or job left', async () => {
    const role = uniqueName('enc_ro');
    await d.exec(`create table enc_priv (id integer primary key, email varchar(60))`);
    await d.db.insertInto('enc_priv').values({ id: 1, email: 'priv@example.com' }).execute();
    const local = await keyringFor(`${d.kind}-priv`);
    let url: string;
    if (d.kind === 'postgres') {
      await d.exec(`create role ${role} login; grant usage on schema public to ${role}; grant select on all tables in schema public to ${role}`);
      const u = new URL(d.url!);
      u.username = role;
      u.password = '';
      url = u.toString();
    } else {
      await d.exec(`create user '${role}'@'%' identified by 'pw'; grant select on ${d.schema}.* to '${role}'@'%'`);
      const u = new URL(d.url!);
      u.username = role;
      u.password = 'pw';
      url = u.toString();
    }
    const ro = await d.openSource({ url });
    try {
      for (const dryRun of [true, false]) {
        const e = await migrateColumn({ source: ro, operation: 'encrypt', fields: local.fields, store: local.store, actor: 'test', table: 'enc_priv', column: 'email', dryRun }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(SourceError);
        expect((e as SourceError).code).toBe('SOURCE_PERMISSION');
        expect((e as SourceError).hint).toMatch(/GRANT UPDATE \(.email.\) ON .+enc_priv/);
      }
      expect(await local.fields.keyring.list()).toEqual([]);
      expect((await local.store.jobs.list()).filter((j) => j.status === 'running')).toEqual([]);
    } finally {
      await ro.close();
      await local.store.close();
      if (d.kind === 'postgres') await d.exec(`revoke all on all tables in schema public from ${role}; revoke usage on schema public from ${role}; drop role ${role}`);
      else await d.exec(`drop user '${role}'@'%'`);
    }
  });
});
