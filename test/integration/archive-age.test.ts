/**
 * Archives in the age format, both ways, with the `age` command itself (Debian
 * package `age`; .ci/run installs it):
 *
 * - an archive set written by `steward retention apply` (SQLite and the servers),
 *   its chunks opened with `age -d -i key` and gunzip alone, every line JSON;
 * - files written by `age -r` / `age -R` opened by Steward, and Steward's files
 *   opened by `age -d`, with keys made by `age-keygen` and by Steward;
 * - archives of the earlier format (committed fixtures, test/fixtures/legacy-archive)
 *   still verify, restore and decrypt, and an unfinished set of that format is
 *   finished with age chunks.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile } from '../../src/archive/files.js';
import { parseIdentity, readIdentityFile, writeIdentityFile } from '../../src/archive/keys.js';
import { encodeRow, type ArchiveManifest } from '../../src/archive/codec.js';
import { resumeArchiveSet } from '../../src/archive/set.js';
import { selectForArchive } from '../../src/archive/values.js';
import { verifyArchiveSet } from '../../src/archive/verify.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { openSource } from '../../src/sources/index.js';
import { forEachDialect } from '../helpers/dialects.js';
import { captureIo } from '../helpers/io.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-age-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = path.join(import.meta.dirname, '../fixtures/legacy-archive');

async function steward(cwd: string, ...argv: string[]) {
  const io = captureIo(cwd);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** `age -d -i key file | gunzip`, by the standard tools alone, as lines of JSON. */
function openWithAge(key: string, file: string): Record<string, unknown>[] {
  const gz = execFileSync('age', ['-d', '-i', key, file]);
  const text = gunzipSync(gz).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A key pair made by age-keygen (not Steward): its file and public key. */
function ageKeygen(dir: string, name: string): { file: string; publicKey: string } {
  const file = path.join(dir, name);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  return { file, publicKey: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
}

forEachDialect('an archive set by `steward retention apply`, opened with age and gunzip', (d) => {
  const dir = path.join(tmp, `apply-${d.kind}-${d.engine}`);
  let key: { file: string; publicKey: string };

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    key = ageKeygen(dir, 'dpo.key');
    await d.exec(`create table invoices (id integer primary key, email varchar(100), amount integer, issued date, note text)`);
    await d.db
      .insertInto('invoices')
      .values(Array.from({ length: 45 }, (_, i) => ({ id: i + 1, email: `c${i + 1}@example.com`, amount: i * 100, issued: i < 30 ? '2010-01-0' + (1 + (i % 9)) : '2099-01-01', note: i % 4 ? `ligne "${i}"\nzwei` : null })))
      .execute();
    writeFileSync(
      path.join(dir, 'steward.yml'),
      [
        'sources:',
        `  - { name: shop, kind: ${d.kind}, url: ${JSON.stringify(d.url)}, owner: t }`,
        'retention:',
        '  batchSize: 7',
        `  archive: { dir: archives, recipients: [${key.publicKey}] }`,
        '  policies:',
        '    - { name: old-invoices, source: shop, table: invoices, from: issued, period: 10y, legalMinimum: 10y, method: archive, legalBasis: "kept 10 years" }',
      ].join('\n'),
    );
  });

  it.skipIf(d.engine === 'pglite')('every chunk opens with `age -d -i key` and gunzip; its lines are the archived rows', async () => {
    const applied = await steward(dir, 'retention', 'apply', '--json');
    expect(applied.code, applied.err).toBe(0);
    const cert = (JSON.parse(applied.out) as { certificates: { rows: number; archive: { dir: string; chunks: number } }[] }).certificates[0]!;
    expect(cert).toMatchObject({ rows: 30, archive: { chunks: 5 } });
    expect(Number((await d.db.selectFrom('invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())!.n)).toBe(15);

    const manifest = JSON.parse(readFileSync(path.join(cert.archive.dir, 'manifest.json'), 'utf8')) as ArchiveManifest;
    expect(manifest).toMatchObject({ format: 'steward-retention-archive/2', encoding: { encryption: 'age-encryption.org/v1' }, recipients: [{ publicKey: key.publicKey }] });
    expect(readdirSync(cert.archive.dir).filter((n) => n.startsWith('chunk-')).every((n) => n.endsWith('.jsonl.gz.age'))).toBe(true);
    const rows = manifest.chunks.flatMap((c) => {
      const lines = openWithAge(key.file, path.join(cert.archive.dir, c.file));
      expect(lines).toHaveLength(c.rows);
      return lines;
    });
    expect(rows.map((r) => Number(r.id))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(rows.map((r) => r.email)).toEqual(Array.from({ length: 30 }, (_, i) => `c${i + 1}@example.com`));
    expect(rows[1]!.note).toBe('ligne "1"\nzwei');
    expect(rows[0]!.note).toBeNull();
    expect(Object.keys(rows[0]!)).toEqual(['id', 'email', 'amount', 'issued', 'note']);

    // The shell pipeline docs/archives.md gives, word for word.
    const jq = execFileSync('sh', ['-c', 'age -d -i "$1" "$2" | gunzip | jq -r .email', 'sh', key.file, path.join(cert.archive.dir, manifest.chunks[0]!.file)], { encoding: 'utf8' });
    expect(jq.trim().split('\n')).toEqual(rows.slice(0, manifest.chunks[0]!.rows).map((r) => r.email));

    // Steward verifies it with the key age-keygen made, and a key that is not a recipient fails.
    chmodSync(key.file, 0o600);
    const verified = await steward(dir, 'archive', 'verify', cert.archive.dir, '--key', key.file, '--json');
    expect(verified.code, verified.err).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, decrypted: true, rows: 30 });
    const other = ageKeygen(dir, 'other.key');
    expect((await steward(dir, 'archive', 'verify', cert.archive.dir, '--key', other.file)).code).toBe(7);
    expect(() => execFileSync('age', ['-d', '-i', other.file, path.join(cert.archive.dir, manifest.chunks[0]!.file)], { stdio: 'pipe' })).toThrow();
  });
});

describe('age files, both ways', () => {
  const dir = path.join(tmp, 'files');
  let theirs: { file: string; publicKey: string };
  let ours: { file: string; publicKey: string };
  const data = Buffer.concat([Buffer.from('id,email\n1,ann@example.com\n'), Buffer.alloc(200_000, 'x'), Buffer.from('\nend\n')]);

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    theirs = ageKeygen(dir, 'theirs.key');
    const made = await writeIdentityFile(path.join(dir, 'ours.key'));
    ours = { file: path.join(dir, 'ours.key'), publicKey: made.publicKey };
    writeFileSync(path.join(dir, 'export.csv'), data);
  });

  it('Steward opens a file written by `age -r` (to a key of Steward\'s and one of age-keygen\'s) and by `age -R`', async () => {
    execFileSync('age', ['-r', ours.publicKey, '-r', theirs.publicKey, '-o', path.join(dir, 'by-age.age'), path.join(dir, 'export.csv')]);
    writeFileSync(path.join(dir, 'recipients.txt'), `# the DPO\n${ours.publicKey}\n`);
    execFileSync('age', ['-R', path.join(dir, 'recipients.txt'), '-o', path.join(dir, 'by-age-R.age'), path.join(dir, 'export.csv')]);
    chmodSync(theirs.file, 0o600);
    for (const [file, keyFile] of [['by-age.age', ours.file], ['by-age.age', theirs.file], ['by-age-R.age', ours.file]] as const) {
      const out = path.join(dir, `${file}.${path.basename(keyFile)}.csv`);
      const r = await steward(dir, 'archive', 'decrypt', file, '--key', keyFile, '--out', out, '--json');
      expect(r.code, r.err).toBe(0);
      expect(readFileSync(out).equals(data)).toBe(true);
    }
    // Through the library too, and to stdout.
    const res = await decryptFile(path.join(dir, 'by-age.age'), path.join(dir, 'lib.csv'), await readIdentityFile(theirs.file));
    expect(res).toMatchObject({ format: 'age', plaintextBytes: data.length });
    expect(readFileSync(path.join(dir, 'lib.csv')).equals(data)).toBe(true);
    // A key age did not encrypt to: exit 7, CRYPTO_WRONG_KEY.
    const stranger = ageKeygen(dir, 'stranger.key');
    chmodSync(stranger.file, 0o600);
    const wrong = await steward(dir, 'archive', 'decrypt', 'by-age-R.age', '--key', stranger.file, '--out', 'x.csv', '--json');
    expect(wrong.code).toBe(7);
    expect(JSON.parse(wrong.out).error.code).toBe('CRYPTO_WRONG_KEY');
    // An armored file (`age -a`) is refused with a reason, not misread.
    execFileSync('age', ['-a', '-r', ours.publicKey, '-o', path.join(dir, 'armored.age'), path.join(dir, 'export.csv')]);
    const armored = await steward(dir, 'archive', 'decrypt', 'armored.age', '--key', ours.file, '--out', 'y.csv', '--json');
    expect(JSON.parse(armored.out).error).toMatchObject({ code: 'CRYPTO_NOT_CIPHERTEXT', message: expect.stringMatching(/armored/) });
  });

  it('`age -d` opens what `steward archive encrypt --recipient age1…` wrote, with either key', async () => {
    const r = await steward(dir, 'archive', 'encrypt', 'export.csv', '--recipient', theirs.publicKey, '--recipient', ours.publicKey, '--out', 'by-steward.age');
    expect(r.code, r.err).toBe(0);
    for (const key of [theirs.file, ours.file]) expect(execFileSync('age', ['-d', '-i', key, path.join(dir, 'by-steward.age')]).equals(data)).toBe(true);
    await encryptFile(path.join(dir, 'export.csv'), path.join(dir, 'lib.age'), [ours.publicKey]);
    expect(execFileSync('age', ['-d', '-i', ours.file, path.join(dir, 'lib.age')]).equals(data)).toBe(true);
  });
});

describe('archives of the earlier format (steward-archive/1) still read', () => {
  const dir = path.join(tmp, 'legacy');
  const expected = readFileSync(path.join(fixtures, 'rows.jsonl'), 'utf8');

  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(fixtures, dir, { recursive: true });
    chmodSync(path.join(dir, 'dpo.key'), 0o600);
    const db = new Database(path.join(dir, 'shop.db'));
    db.exec(readFileSync(path.join(fixtures, 'orders.sql'), 'utf8'));
    db.close();
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - { name: shop, kind: sqlite, url: shop.db, owner: t }\n');
  });

  it('the set verifies with its stwsec1 key and restores the exact rows; the file decrypts', async () => {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'set/manifest.json'), 'utf8')) as ArchiveManifest;
    expect(manifest).toMatchObject({ format: 'steward-retention-archive/1', encoding: { encryption: 'steward-archive/1' } });
    expect(readFileSync(path.join(dir, 'set', manifest.chunks[0]!.file)).subarray(0, 18).toString('latin1')).toBe('steward-archive/1\n');

    expect((await steward(dir, 'archive', 'verify', 'set')).code).toBe(0);
    const verified = await steward(dir, 'archive', 'verify', 'set', '--key', 'dpo.key', '--json');
    expect(verified.code, verified.err).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ ok: true, decrypted: true, rows: 25, chunks: 2 });

    const restored = await steward(dir, 'archive', 'restore', 'set', '--key', 'dpo.key', '--source', 'shop', '--json');
    expect(restored.code, restored.err).toBe(0);
    expect(JSON.parse(restored.out)).toMatchObject({ inserted: 25, present: 0 });
    const source = await openSource({ name: 'shop', kind: 'sqlite', url: path.join(dir, 'shop.db') });
    try {
      const table = (await source.introspect()).find((t) => t.name === 'orders')!;
      const back = await source.db.selectFrom('orders').select(selectForArchive(source, table.columns)).orderBy('id').execute();
      expect(back.map((r) => `${encodeRow(r, table.columns)}\n`).join('')).toBe(expected);
    } finally {
      await source.close();
    }

    const note = await steward(dir, 'archive', 'decrypt', 'note.txt.stwa', '--key', 'dpo.key');
    expect(note.code, note.err).toBe(0);
    expect(note.out).toBe(readFileSync(path.join(fixtures, 'note.txt'), 'utf8'));
    // Its key, rewritten in age's form, opens new archives with `age -d`.
    expect((await steward(dir, 'keys', 'recipient', 'convert', 'dpo.key', '--out', 'dpo.age.key')).code).toBe(0);
    const publicKey = (await steward(dir, 'keys', 'recipient', 'public', 'dpo.key')).out.trim();
    expect(publicKey).toMatch(/^age1/);
    expect((await steward(dir, 'archive', 'encrypt', 'note.txt', '-r', publicKey, '-o', 'note.txt.age')).code).toBe(0);
    expect(execFileSync('age', ['-d', '-i', path.join(dir, 'dpo.age.key'), path.join(dir, 'note.txt.age')], { encoding: 'utf8' })).toBe(readFileSync(path.join(fixtures, 'note.txt'), 'utf8'));
  });

  it('an unfinished set of that format, resumed, goes on in age chunks and finishes as format /2 listing both', async () => {
    const set = path.join(dir, 'unfinished');
    cpSync(path.join(fixtures, 'set'), set, { recursive: true });
    unlinkSync(path.join(set, 'manifest.json')); // the run was cut before finishing
    const writer = await resumeArchiveSet(set);
    expect(writer.chunks.map((c) => c.file)).toEqual(['chunk-000001.jsonl.gz.stwa', 'chunk-000002.jsonl.gz.stwa']);
    const more = Array.from({ length: 3 }, (_, i) => ({ id: 100 + i, big: i, name: `n${i}`, note: null, born: null, seen: null, amount: '1.5', active: 1, photo: null, score: 0.5 }));
    const r = await writer.writeChunk(more);
    expect(r).toMatchObject({ written: 3, chunk: { file: 'chunk-000003.jsonl.gz.age' } });
    const { manifest } = await writer.finish();
    expect(manifest).toMatchObject({ format: 'steward-retention-archive/2', encoding: { encryption: 'age-encryption.org/v1' } });
    expect(manifest.recipients[0]!.publicKey).toMatch(/^age1/);
    expect(manifest.chunks.map((c) => c.file)).toEqual(['chunk-000001.jsonl.gz.stwa', 'chunk-000002.jsonl.gz.stwa', 'chunk-000003.jsonl.gz.age']);
    const key = parseIdentity(readFileSync(path.join(dir, 'dpo.key'), 'utf8'));
    expect(await verifyArchiveSet(set, { privateKey: key })).toMatchObject({ rows: 28, chunks: 3, decrypted: true });
    expect(openWithAge(path.join(dir, 'dpo.age.key'), path.join(set, 'chunk-000003.jsonl.gz.age')).map((x) => x.id)).toEqual([100, 101, 102]);
  });
});
