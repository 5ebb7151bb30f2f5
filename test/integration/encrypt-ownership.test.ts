/**
 * Which values are Steward's (issue 11), on every database. A value is this column's
 * ciphertext only if it starts with the column's key id and authenticates for its row:
 * - plaintext that starts with `stw1:` (or is a whole envelope under a key id Steward never
 *   issued, or another column's ciphertext) is encrypted like any value, and decrypts back
 *   exactly; it can no longer stay out of encryption and of a later shred;
 * - a value under the column's own header that does not verify is left as it was and counted
 *   (`leftAsIs`), in the summary and the log entry, and the CLI exits 7: not a success;
 * - `decrypt` fails while ciphertexts of another scope of the same column remain (a column
 *   keyed under two spellings of its table before spellings were resolved to one scope);
 * - `keys destroy` names the physical column, whatever the spelling, and shreds every scope of it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateColumn, type ColumnMigrationOptions } from '../../src/crypto/column-migration.js';
import { createFieldEncryption, type FieldEncryption } from '../../src/crypto/field.js';
import { formatCiphertext } from '../../src/crypto/format.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { CryptoError, ExitCode, UsageError } from '../../src/errors.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import type { Source } from '../../src/sources/types.js';
import { forEachDialect } from '../helpers/dialects.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-enc-own-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A well-formed envelope under a key id no keyring issued (40 payload bytes: room for nonce and tag). */
const FORGED_FOREIGN = formatCiphertext('AAAAAAAAAAA', 1, Buffer.alloc(40, 9));

async function keyringAt(file: string, masterKey: string): Promise<{ store: StateStore; fields: FieldEncryption }> {
  const store = await openStateStore({ url: file, baseDir: tmp });
  const keyring = await openKeyring({ store, master: await masterKeyFromEnv('K', { K: masterKey }) });
  return { store, fields: createFieldEncryption(keyring) };
}

function cliIo(cwd: string, env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env, cwd, out: () => out, err: () => err };
}

forEachDialect('what encrypt, decrypt and keys destroy take for Steward ciphertext', (d) => {
  let env: Awaited<ReturnType<typeof keyringAt>>;
  let source: Source;
  const migrate = (o: Partial<ColumnMigrationOptions> & Pick<ColumnMigrationOptions, 'table' | 'column' | 'operation'>) =>
    migrateColumn({ source, fields: env.fields, store: env.store, actor: 'test', batchSize: 7, ...o });
  const values = async (table: string) => (await d.db.selectFrom(table).select(['id', 'email']).orderBy('id').execute()).map((r) => ({ id: Number(r.id), email: r.email as string | null }));
  const keyIdOf = async (table: string) => (await env.fields.keyring.list()).find((k) => k.kind === 'dek' && k.scope.table === table)!.keyId;

  beforeAll(async () => {
    env = await keyringAt(path.join(tmp, `${d.kind}-${d.engine}.db`), generateMasterKeyText());
    await d.exec(
      `create table own_look (id integer primary key, email varchar(200));
       create table own_forge (id integer primary key, email varchar(200));
       create table own_split (id integer primary key, email varchar(200));
       create table own_other (id integer primary key, email varchar(200))`,
    );
    source = await d.openSource();
  });
  afterAll(async () => {
    await source?.close();
    await env?.store.close();
  });

  it('encrypts plaintext that starts with stw1:, a forged envelope and another column\'s ciphertext, and decrypt restores each exactly', async () => {
    // Another column's real ciphertext, copied here: not this column's, so plaintext to it.
    const elsewhere = await env.fields.encrypt('moved@example.com', { source: source.name, table: 'own_other', column: 'email', rowKey: 1 });
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => ({ id: i + 1, email: `look${i}@example.com` })),
      { id: 21, email: 'stw1:hello' },
      { id: 22, email: 'stw1:abc:1:xyz' },
      { id: 23, email: FORGED_FOREIGN },
      { id: 24, email: elsewhere },
      { id: 25, email: 'stw1:' },
      { id: 26, email: null },
    ];
    await d.db.insertInto('own_look').values(rows).execute();

    const dry = await migrate({ table: 'own_look', column: 'email', operation: 'encrypt', dryRun: true });
    expect(dry.plan).toMatchObject({ todo: 25, encrypted: 0, otherPrefixed: 5, unverified: 0 });

    const done = await migrate({ table: 'own_look', column: 'email', operation: 'encrypt' });
    expect(done.counts).toMatchObject({ changed: 25, remaining: 0, leftAsIs: 0 });
    const own = `stw1:${await keyIdOf('own_look')}:`;
    const after = await values('own_look');
    expect(after.filter((r) => r.email !== null).every((r) => r.email!.startsWith(own))).toBe(true);
    expect(after.find((r) => r.id === 26)!.email).toBeNull();

    // Nothing is left to do, and the check of what is under the column's key finds all of it sound.
    const again = await migrate({ table: 'own_look', column: 'email', operation: 'encrypt' });
    expect(again.jobId).toBeNull();
    expect(again.plan).toMatchObject({ encrypted: 25, todo: 0, unverified: 0 });

    const back = await migrate({ table: 'own_look', column: 'email', operation: 'decrypt' });
    expect(back.counts).toMatchObject({ changed: 25, remaining: 0 });
    expect(await values('own_look')).toEqual(rows);
  });

  it('leaves a value under the column\'s own header that does not verify as it was, counts it in the summary and the log, and names its row', async () => {
    await d.db.insertInto('own_forge').values(Array.from({ length: 12 }, (_, i) => ({ id: i + 1, email: `forge${i}@example.com` }))).execute();
    await migrate({ table: 'own_forge', column: 'email', operation: 'encrypt' });
    const keyId = await keyIdOf('own_forge');
    const [r1] = await values('own_forge');
    // Written to look encrypted under this column's key: unparsable, a well-formed payload that
    // does not authenticate, and a real ciphertext moved from row 1 (bound to row 1).
    await d.db.updateTable('own_forge').set({ email: `stw1:${keyId}:1:forge-me@example.com` }).where('id', '=', 3).execute();
    await d.db.updateTable('own_forge').set({ email: formatCiphertext(keyId, 1, Buffer.alloc(48, 3)) }).where('id', '=', 5).execute();
    await d.db.updateTable('own_forge').set({ email: r1!.email }).where('id', '=', 8).execute();
    const before = await values('own_forge');

    const dry = await migrate({ table: 'own_forge', column: 'email', operation: 'encrypt', dryRun: true });
    expect(dry.plan).toMatchObject({ encrypted: 9, unverified: 3, todo: 0 });
    expect(dry.plan.unverifiedRows).toEqual(['id = 3', 'id = 5', 'id = 8']);

    const run = await migrate({ table: 'own_forge', column: 'email', operation: 'encrypt' });
    expect(run.jobId).not.toBeNull(); // a run, with a summary and a log entry, although nothing was written
    expect(run.counts).toMatchObject({ changed: 0, leftAsIs: 3, remaining: 0 });
    expect(await values('own_forge')).toEqual(before);
    const log: { subject: Record<string, unknown>; details: Record<string, unknown> }[] = [];
    for await (const b of env.store.activityBatches({ action: 'column.encrypt.finished' })) log.push(...b.filter((e) => (e.subject as { jobId?: string }).jobId === run.jobId));
    expect(log).toHaveLength(1);
    expect(log[0]!.details).toMatchObject({ leftAsIs: 3, changed: 0 });

    // Decrypt does not take them for this column's values either: it stops at the first, naming the row.
    const e = await migrate({ table: 'own_forge', column: 'email', operation: 'decrypt' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CryptoError);
    expect((e as Error).message).toContain('id = 3');
  });

  it('decrypt fails while the ciphertexts of another scope of the same column remain, naming it and how many', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, email: `split${i}@example.com` }));
    await d.db.insertInto('own_split').values(rows).execute();
    await migrate({ table: 'own_split', column: 'email', operation: 'encrypt' });
    // Before spellings were resolved, an application (or an older Steward) keyed the same column
    // under another spelling of its table: 10 rows hold ciphertexts of that scope.
    const other = `${d.schema}.own_split`;
    for (const r of rows.slice(0, 10)) {
      const v = await env.fields.encrypt(r.email, { source: source.name, table: other, column: 'email', rowKey: r.id });
      await d.db.updateTable('own_split').set({ email: v }).where('id', '=', r.id).execute();
    }

    const dry = await migrate({ table: 'own_split', column: 'email', operation: 'decrypt', dryRun: true });
    expect(dry.plan.otherScopes).toEqual([expect.objectContaining({ scope: { source: source.name, table: other, column: 'email' }, values: 10 })]);

    const e = await migrate({ table: 'own_split', column: 'email', operation: 'decrypt' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((e as Error).message).toContain(`20 value(s) were decrypted`);
    expect((e as Error).message).toContain(`10 value(s) of the same column are still encrypted`);
    expect((e as Error).message).toContain(`${source.name}.${other}.email`);
    expect((e as UsageError).hint).toContain(`--column ${other}.email`);
    // Its own part is done (the job is finished and logged); running it again fails the same way.
    expect((await env.store.jobs.list()).filter((j) => j.status === 'running' && j.table.endsWith('own_split'))).toEqual([]);
    const again = await migrate({ table: 'own_split', column: 'email', operation: 'decrypt' }).catch((x: unknown) => x);
    expect(again).toBeInstanceOf(UsageError);
    expect((again as Error).message).toContain('0 value(s) were decrypted');

    // Under the other spelling, the rest: then it succeeds, and every value is back.
    const rest = await migrate({ table: other, column: 'email', operation: 'decrypt' });
    expect(rest.counts.changed).toBe(10);
    expect(await values('own_split')).toEqual(rows);
  });

  it.skipIf(d.engine === 'pglite')('through the CLI: exit 7 for values left as they were, exit 2 for another scope left by decrypt, keys destroy of either spelling shreds both', async () => {
    const dir = mkdtempSync(path.join(tmp, `cli-${d.kind}-`));
    const table = 'own_cli';
    await d.exec(`create table ${table} (id integer primary key, email varchar(200))`);
    const rows = Array.from({ length: 15 }, (_, i) => ({ id: i + 1, email: i === 0 ? 'stw1:hello' : `cli${i}@example.com` }));
    await d.db.insertInto(table).values(rows).execute();
    writeFileSync(path.join(dir, 'steward.yml'), `sources:\n  - name: shop\n    kind: ${d.kind}\n    url: ${JSON.stringify(d.url)}\n    owner: t\n`);
    const masterKey = generateMasterKeyText();
    const cliEnv = { STEWARD_MASTER_KEY: masterKey, NO_COLOR: '1' };
    const cli = async (...args: string[]) => {
      const o = cliIo(dir, cliEnv);
      const code = await main(args, o);
      return { code, out: o.out(), err: o.err() };
    };
    const enc = await cli('encrypt', '--source', 'shop', '--column', `${table}.email`, '--json');
    expect(enc.code).toBe(0);
    expect(JSON.parse(enc.out)).toMatchObject({ counts: { changed: 15, remaining: 0, leftAsIs: 0 } });

    // The legacy second scope, and a value forged under the column's own header.
    mkdirSync(path.join(dir, '.steward'), { recursive: true });
    const state = await keyringAt(path.join(dir, '.steward', 'state.db'), masterKey);
    const other = `${d.schema}.${table}`;
    try {
      const keyId = (await state.fields.keyring.list()).find((k) => k.kind === 'dek')!.keyId;
      for (const r of rows.slice(5, 9)) {
        await d.db.updateTable(table).set({ email: await state.fields.encrypt(r.email, { source: 'shop', table: other, column: 'email', rowKey: r.id }) }).where('id', '=', r.id).execute();
      }
      await d.db.updateTable(table).set({ email: `stw1:${keyId}:1:${'A'.repeat(60)}` }).where('id', '=', 15).execute();
    } finally {
      await state.store.close();
    }

    // Encrypting again under the first spelling is refused: the column has keys under two.
    const refused = await cli('encrypt', '--source', 'shop', '--column', `${table}.email`);
    expect(refused.code).toBe(ExitCode.Usage);
    expect(refused.err).toMatch(/under 2 spellings of its table/);

    // Decrypt: the forged value stops it (exit 7, its row named); put the real value back, then
    // decrypt under one spelling leaves the other scope's values and fails, exit 2.
    const forged = await cli('decrypt', '--source', 'shop', '--column', `${table}.email`);
    expect(forged.code).toBe(ExitCode.Crypto);
    expect(forged.err).toContain('id = 15');
    await d.db.updateTable(table).set({ email: rows[14]!.email }).where('id', '=', 15).execute();
    const partial = await cli('decrypt', '--source', 'shop', '--column', `${table}.email`);
    expect(partial.code).toBe(ExitCode.Usage);
    expect(partial.err).toMatch(/is not decrypted: .* 4 value\(s\) of the same column are still encrypted/);
    expect(partial.err).toContain(`--column ${other}.email`);

    // keys destroy: either spelling names the column, and the preview and the shred cover both scopes.
    for (const spelling of [`${table}.email`, `${other}.email`]) {
      const preview = await cli('keys', 'destroy', '--source', 'shop', '--column', spelling);
      expect(preview.code, preview.err).toBe(0);
      expect(preview.out).toMatch(/^Would destroy key version\(s\) 1 of \S+ and 1 of \S+ \(one column, keyed under several spellings of its table\)/);
      expect(preview.out).toContain(`1 of ${table}.email`);
      expect(preview.out).toContain(`1 of ${other}.email`);
      const json = JSON.parse((await cli('keys', 'destroy', '--source', 'shop', '--column', spelling, '--json')).out) as { wouldDestroy: { table: string }[]; resolvedBy: string };
      expect(json.resolvedBy).toBe('source');
      expect(json.wouldDestroy.map((w) => w.table).sort()).toEqual([other, table].sort());
    }
    // Without the database (its URL's variable unset here), spellings are matched by name, and the preview says so.
    writeFileSync(path.join(dir, 'offline.yml'), 'sources:\n  - name: shop\n    kind: ' + d.kind + '\n    url: ${OWN_UNSET_URL}\n    owner: t\n');
    const offline = await cli('keys', 'destroy', '--config', 'offline.yml', '--source', 'shop', '--column', `${table}.email`);
    expect(offline.code, offline.err).toBe(0);
    expect(offline.out).toContain(`1 of ${other}.email`);
    expect(offline.out).toContain('could not be asked which tables these spellings name: they were matched by name');

    // One version of "the column" is ambiguous with two keys (and --version reaches keys destroy:
    // it used to print Steward's version and exit 0, destroying nothing).
    const oneVersion = await cli('keys', 'destroy', '--source', 'shop', '--column', `${table}.email`, '--version', '1', '--yes');
    expect(oneVersion.code, oneVersion.out).toBe(ExitCode.Usage);
    expect(oneVersion.err).toMatch(/2 spellings of its table/);
    expect((await cli('--version')).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    const shred = await cli('keys', 'destroy', '--source', 'shop', '--column', `${other}.email`, '--yes');
    expect(shred.code).toBe(0);
    const keys = JSON.parse((await cli('keys', 'list', '--json')).out) as { kind: string; state: string; scope: { table: string } }[];
    expect(keys.filter((k) => k.kind === 'dek').map((k) => `${k.scope.table}:${k.state}`).sort()).toEqual([`${other}:destroyed`, `${table}:destroyed`].sort());
    const log = JSON.parse((await cli('log', '--json', '--action', 'key.destroyed')).out) as { subject: { table: string } }[];
    expect(log.map((e) => e.subject.table).sort()).toEqual([other, table].sort());
  });

  it.skipIf(d.engine === 'pglite')('through the CLI: encrypt exits 7 and says what to do when values under the column\'s header do not verify', async () => {
    const dir = mkdtempSync(path.join(tmp, `cli7-${d.kind}-`));
    const table = 'own_cli7';
    await d.exec(`create table ${table} (id integer primary key, email varchar(200))`);
    await d.db.insertInto(table).values(Array.from({ length: 6 }, (_, i) => ({ id: i + 1, email: `seven${i}@example.com` }))).execute();
    writeFileSync(path.join(dir, 'steward.yml'), `sources:\n  - name: shop\n    kind: ${d.kind}\n    url: ${JSON.stringify(d.url)}\n    owner: t\n`);
    const cliEnv = { STEWARD_MASTER_KEY: generateMasterKeyText(), NO_COLOR: '1' };
    const cli = async (...args: string[]) => {
      const o = cliIo(dir, cliEnv);
      const code = await main(args, o);
      return { code, out: o.out(), err: o.err() };
    };
    expect((await cli('encrypt', '--source', 'shop', '--column', `${table}.email`)).code).toBe(0);
    const keyId = (JSON.parse((await cli('keys', 'list', '--json')).out) as { keyId: string }[])[0]!.keyId;
    await d.db.updateTable(table).set({ email: `stw1:${keyId}:1:seven-forged` }).where('id', '=', 4).execute();
    await d.db.insertInto(table).values({ id: 7, email: 'stw1:new plaintext' }).execute();

    const dry = await cli('encrypt', '--source', 'shop', '--column', `${table}.email`, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/to encrypt 1\b/);
    expect(dry.out).toContain('1 value(s) of own_cli7.email start like this column\'s ciphertexts but do not decrypt for their row');
    const run = await cli('encrypt', '--source', 'shop', '--column', `${table}.email`);
    expect(run.code).toBe(ExitCode.Crypto);
    expect(run.out).toContain('Encrypted 1 value(s)');
    expect(run.out).toContain('They were left as they were: not encrypted');
    expect(run.out).toContain('Rows: id = 4.');
    const json = await cli('encrypt', '--source', 'shop', '--column', `${table}.email`, '--json');
    expect(json.code).toBe(ExitCode.Crypto);
    expect(JSON.parse(json.out)).toMatchObject({ counts: { changed: 0, leftAsIs: 1 } });
  });
});
