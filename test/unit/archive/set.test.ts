/**
 * Retention archive sets on disk, without a database: the writer's guarantees
 * (durable before it resolves, exactly once across crashes), verification with
 * and without the private key against every kind of tampering, and targets that
 * are full or read-only.
 */
import { encryptBuffer } from '../../../src/archive/age.js';
import { legacyEncrypt } from '../../helpers/legacy-archive.js';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateRecipient } from '../../../src/archive/keys.js';
import { ArchiveError, CryptoError, ExitCode } from '../../../src/errors.js';
import { chunkFileName, JOURNAL_FILE, MANIFEST_FILE, type ArchiveManifest } from '../../../src/archive/codec.js';
import { nodeArchiveFs, type ArchiveFs } from '../../../src/archive/fs.js';
import { openArchiveSet, openOrResumeArchiveSet, resumeArchiveSet, type OpenArchiveSetOptions } from '../../../src/archive/set.js';
import { readChunkRows, verifyArchiveSet } from '../../../src/archive/verify.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-aset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `set-${++n}`);

const dpo = generateRecipient();
const auditor = generateRecipient();
const outsider = generateRecipient();

const columns = [
  { name: 'id', dataType: 'integer', typeClass: 'integer' },
  { name: 'email', dataType: 'text', typeClass: 'text' },
  { name: 'amount', dataType: 'numeric(12,2)', typeClass: 'decimal' },
  { name: 'paid_at', dataType: 'timestamp with time zone', typeClass: 'timestamp' },
  { name: 'photo', dataType: 'bytea', typeClass: 'binary' },
];
const row = (id: number, v = 0) => ({
  id,
  email: `person.${id}.${v}@example.com`,
  amount: `${id}.${String(v).padStart(2, '0')}`,
  paid_at: new Date(Date.UTC(2020, 0, 1) + id * 3_600_000),
  photo: id % 3 === 0 ? null : Buffer.from([id & 255, 0, 255]),
});
const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => row(from + i));

const base = (dir: string, over: Partial<OpenArchiveSetOptions> = {}): OpenArchiveSetOptions => ({
  dir,
  recipients: [dpo.publicKey, auditor.publicKey],
  source: 'shop',
  table: { schema: 'public', name: 'orders' },
  primaryKey: ['id'],
  columns,
  runId: 'run-1',
  policy: 'orders-5y',
  ...over,
});

async function caught(p: Promise<unknown>): Promise<ArchiveError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ArchiveError) return e;
    throw e;
  }
  throw new Error('expected an ArchiveError');
}

/** A finished set of 3 chunks (ids 1–40, 41–80, 81–100). */
async function finishedSet(over: Partial<OpenArchiveSetOptions> = {}): Promise<{ dir: string; digest: string; manifest: ArchiveManifest }> {
  const dir = freshDir();
  const set = await openArchiveSet(base(dir, over));
  await set.writeChunk(rows(1, 40));
  await set.writeChunk(rows(41, 80));
  await set.writeChunk(rows(81, 100));
  const { digest, manifest } = await set.finish();
  return { dir, digest, manifest };
}

const readManifest = (dir: string): ArchiveManifest => JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
const writeManifest = (dir: string, m: ArchiveManifest) => writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(m, null, 2)}\n`);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function allIds(dir: string): Promise<number[]> {
  const m = readManifest(dir);
  const ids: number[] = [];
  for (const c of m.chunks) await readChunkRows(dir, c.file, dpo.identity, m.columns, (r) => ids.push(Number(r.id)));
  return ids;
}

describe('writing a set', () => {
  it('writes numbered encrypted chunks, a journal and a manifest that verify with and without the key', async () => {
    const dir = freshDir();
    const set = await openArchiveSet(base(dir));
    const first = await set.writeChunk(rows(1, 40));
    expect(first).toMatchObject({ written: 40, alreadyArchived: 0, conflicts: [] });
    expect(first.chunk).toMatchObject({ file: 'chunk-000001.jsonl.gz.age', rows: 40, firstKey: [1], lastKey: [40] });
    // Durable on return: the file is there with the recorded digest, and the journal lists it.
    expect(sha(path.join(dir, first.chunk!.file))).toBe(first.chunk!.sha256);
    expect(readFileSync(path.join(dir, JOURNAL_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
    await set.writeChunk(rows(41, 100));
    const done = await set.finish();
    expect(readdirSync(dir).sort()).toEqual(['chunk-000001.jsonl.gz.age', 'chunk-000002.jsonl.gz.age', MANIFEST_FILE, JOURNAL_FILE].sort());
    expect(done.digest).toBe(sha(path.join(dir, MANIFEST_FILE)));
    expect(done.manifest).toMatchObject({
      source: 'shop',
      table: { schema: 'public', name: 'orders' },
      primaryKey: ['id'],
      runId: 'run-1',
      policy: 'orders-5y',
      totals: { chunks: 2, rows: 100 },
      recipients: [{ id: dpo.identity.id }, { id: auditor.identity.id }],
    });
    expect(done.manifest.columns.map((c) => c.dataType)).toEqual(columns.map((c) => c.dataType));
    const plain = await verifyArchiveSet(dir);
    expect(plain).toMatchObject({ chunks: 2, rows: 100, decrypted: false, signature: 'none', digest: done.digest });
    const keyed = await verifyArchiveSet(dir, { privateKey: auditor.identity, expectedDigest: done.digest });
    expect(keyed.decrypted).toBe(true);
    // Nothing personal in the manifest or journal but the first/last primary keys.
    const onDisk = readFileSync(path.join(dir, MANIFEST_FILE), 'utf8') + readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
    expect(onDisk).not.toMatch(/example\.com/);
    // finish() again returns the same manifest.
    expect((await set.finish()).digest).toBe(done.digest);
  });

  it('stores rows readable as gzip JSON Lines after decryption, with types tagged', async () => {
    const { dir } = await finishedSet();
    const lines: Record<string, unknown>[] = [];
    await readChunkRows(dir, chunkFileName(1), dpo.identity, columns, (r) => lines.push(r));
    expect(lines[0]).toEqual({ id: 1, email: 'person.1.0@example.com', amount: '1.00', paid_at: { $ts: '2020-01-01T01:00:00.000Z' }, photo: { $b: Buffer.from([1, 0, 255]).toString('base64') } });
    expect(lines[2]!.photo).toBeNull();
  });

  it('skips rows already in the set, and reports rows changed since they were archived', async () => {
    const dir = freshDir();
    const set = await openArchiveSet(base(dir));
    await set.writeChunk(rows(1, 10));
    const again = await set.writeChunk([...rows(5, 10), row(11)]);
    expect(again).toMatchObject({ written: 1, alreadyArchived: 6, conflicts: [] });
    // conflictsOf says the same beforehand, and writes nothing.
    expect(set.conflictsOf([row(3, 7), row(12), row(4)])).toEqual([0]);
    expect(set.chunks).toHaveLength(2);
    const changed = await set.writeChunk([row(3, 7), row(12)]);
    expect(changed).toMatchObject({ written: 1, alreadyArchived: 0, conflicts: [0] });
    const none = await set.writeChunk(rows(1, 2));
    expect(none).toMatchObject({ chunk: null, written: 0, alreadyArchived: 2 });
    expect(set.chunks).toHaveLength(3);
    expect(set.has(row(3))).toBe(true);
    expect(set.has(row(99))).toBe(false);
    await set.finish();
    expect((await allIds(dir)).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await verifyArchiveSet(dir, { privateKey: dpo.identity });
  });

  it('refuses rows that do not fit the set, and a second set in the same directory', async () => {
    const dir = freshDir();
    const set = await openArchiveSet(base(dir));
    const { photo: _p, ...short } = row(1);
    await expect(set.writeChunk([short])).rejects.toThrow(/Row 1 .*no value for column photo/);
    await expect(set.writeChunk([{ ...row(1), extra: 1 }])).rejects.toThrow(/extra/);
    await expect(set.writeChunk([row(1), row(1)])).rejects.toThrow(/repeats the primary key/);
    await expect(set.writeChunk([{ ...row(1), id: null }])).rejects.toThrow(/null/);
    expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
    expect((await caught(openArchiveSet(base(dir)))).code).toBe('ARCHIVE_TARGET');
    await expect(openArchiveSet(base(freshDir(), { primaryKey: [] }))).rejects.toThrow(/no primary key/);
    await expect(openArchiveSet(base(freshDir(), { recipients: [dpo.privateKey] }))).rejects.toBeInstanceOf(CryptoError);
    await set.finish();
    const late = await caught(set.writeChunk(rows(2, 3)));
    expect(late.code).toBe('ARCHIVE_FINISHED');
  });

  it('signs the manifest with an Ed25519 key when given one', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').publicKey;
    const { dir } = await finishedSet({ signingKey: privateKey });
    expect((await verifyArchiveSet(dir)).signature).toBe('valid');
    expect((await verifyArchiveSet(dir, { signerPublicKey: publicKey })).signature).toBe('trusted');
    expect((await caught(verifyArchiveSet(dir, { signerPublicKey: other }))).message).toMatch(/not by the key given/);
    const m = readManifest(dir);
    m.policy = 'something-else';
    writeManifest(dir, m);
    expect((await caught(verifyArchiveSet(dir))).message).toMatch(/does not match its signature/);
    const unsigned = await finishedSet();
    expect((await caught(verifyArchiveSet(unsigned.dir, { signerPublicKey: publicKey }))).message).toMatch(/not signed/);
  });
});

describe('tampering: verify names the chunk', () => {
  it('a flipped byte in a chunk: both modes name it', async () => {
    const { dir } = await finishedSet();
    const file = path.join(dir, chunkFileName(2));
    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 0x01;
    writeFileSync(file, bytes);
    for (const privateKey of [undefined, dpo.identity]) {
      const e = await caught(verifyArchiveSet(dir, privateKey ? { privateKey } : {}));
      expect(e).toMatchObject({ code: 'ARCHIVE_CHUNK_CHANGED', chunk: chunkFileName(2), exitCode: ExitCode.Archive });
      expect(e.message).toMatch(/chunk-000002.*SHA-256/);
    }
  });

  it('a changed ciphertext whose manifest digest was updated too: only decryption catches it, naming the chunk', async () => {
    const { dir } = await finishedSet();
    const file = path.join(dir, chunkFileName(3));
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0x80;
    writeFileSync(file, bytes);
    const m = readManifest(dir);
    m.chunks[2]!.sha256 = sha(file);
    writeManifest(dir, m);
    await verifyArchiveSet(dir); // digests agree now
    const e = await caught(verifyArchiveSet(dir, { privateKey: dpo.identity }));
    expect(e).toMatchObject({ code: 'ARCHIVE_CHUNK_CHANGED', chunk: chunkFileName(3) });
    expect(e.message).toMatch(/does not decrypt/);
  });

  it('a chunk replaced by an age file for fewer recipients, or by a file of the other format, with the manifest updated: verify without the key finds it', async () => {
    const { dir } = await finishedSet();
    const file = path.join(dir, chunkFileName(2));
    const replace = (bytes: Buffer) => {
      writeFileSync(file, bytes);
      const m = readManifest(dir);
      m.chunks[1] = { ...m.chunks[1]!, sha256: sha(file), bytes: bytes.length };
      m.totals = { ...m.totals, bytes: m.chunks.reduce((n, c) => n + c.bytes, 0) };
      writeManifest(dir, m);
    };
    replace(await encryptBuffer(Buffer.from('x'), [dpo.publicKey]));
    const fewer = await caught(verifyArchiveSet(dir));
    expect(fewer).toMatchObject({ code: 'ARCHIVE_CHUNK_CHANGED', chunk: chunkFileName(2) });
    expect(fewer.message).toMatch(/has 1 recipient stanza\(s\) in its header, the manifest lists 2 recipient\(s\)/);
    replace(legacyEncrypt(Buffer.from('x'), [dpo.publicKey, auditor.publicKey]));
    expect((await caught(verifyArchiveSet(dir))).message).toMatch(/is a steward-archive\/1 file, which its name says it is not/);
  });

  it('a deleted chunk, a stray chunk, a renamed one', async () => {
    const a = await finishedSet();
    unlinkSync(path.join(a.dir, chunkFileName(2)));
    expect(await caught(verifyArchiveSet(a.dir))).toMatchObject({ code: 'ARCHIVE_CHUNK_MISSING', chunk: chunkFileName(2) });

    const b = await finishedSet();
    copyFileSync(path.join(b.dir, chunkFileName(1)), path.join(b.dir, chunkFileName(4)));
    expect(await caught(verifyArchiveSet(b.dir))).toMatchObject({ code: 'ARCHIVE_CHUNK_EXTRA', chunk: chunkFileName(4) });

    const c = await finishedSet();
    copyFileSync(path.join(c.dir, chunkFileName(1)), path.join(c.dir, chunkFileName(2)));
    expect(await caught(verifyArchiveSet(c.dir))).toMatchObject({ code: 'ARCHIVE_CHUNK_CHANGED', chunk: chunkFileName(2) });
  });

  it('an edited row count: the totals give it away without a key, the rows with one', async () => {
    const { dir, digest } = await finishedSet();
    const m = readManifest(dir);
    m.chunks[1]!.rows += 1;
    writeManifest(dir, m);
    const loose = await caught(verifyArchiveSet(dir));
    expect(loose.code).toBe('ARCHIVE_MANIFEST');
    expect(loose.message).toMatch(/100 rows in its totals but its chunks add up to 101/);
    // Totals edited to match: without a key only the recorded digest can tell …
    m.totals.rows += 1;
    writeManifest(dir, m);
    await verifyArchiveSet(dir);
    expect((await caught(verifyArchiveSet(dir, { expectedDigest: digest }))).message).toMatch(/not the .* recorded/);
    // … and with the key the chunk is named.
    const e = await caught(verifyArchiveSet(dir, { privateKey: dpo.identity }));
    expect(e).toMatchObject({ code: 'ARCHIVE_CHUNK_CONTENT', chunk: chunkFileName(2) });
    expect(e.message).toMatch(/holds 40 rows, the manifest says 41/);
  });

  it('a row archived twice (a chunk of another set spliced in) is found with the key', async () => {
    const { dir } = await finishedSet();
    const otherDir = freshDir();
    const other = await openArchiveSet(base(otherDir));
    const extra = await other.writeChunk(rows(35, 45));
    copyFileSync(path.join(otherDir, chunkFileName(1)), path.join(dir, chunkFileName(4)));
    const m = readManifest(dir);
    m.chunks.push({ ...extra.chunk!, file: chunkFileName(4) });
    m.totals = { chunks: 4, rows: m.totals.rows + 11, bytes: m.totals.bytes + extra.chunk!.bytes };
    writeManifest(dir, m);
    await verifyArchiveSet(dir);
    const e = await caught(verifyArchiveSet(dir, { privateKey: dpo.identity }));
    expect(e).toMatchObject({ code: 'ARCHIVE_DUPLICATE_KEY', chunk: chunkFileName(4) });
    expect(e.message).toMatch(/chunk-000001.* already holds/);
  });

  it('a missing, malformed or foreign manifest; the wrong private key', async () => {
    const dir = freshDir();
    const set = await openArchiveSet(base(dir));
    await set.writeChunk(rows(1, 5));
    expect((await caught(verifyArchiveSet(dir))).message).toMatch(/did not finish/);
    await set.finish();
    writeFileSync(path.join(dir, MANIFEST_FILE), '{"format":"something/9"}');
    expect(await caught(verifyArchiveSet(dir))).toMatchObject({ code: 'ARCHIVE_MANIFEST' });
    const ok = await finishedSet();
    await expect(verifyArchiveSet(ok.dir, { privateKey: outsider.identity })).rejects.toMatchObject({ code: 'CRYPTO_WRONG_KEY' });
  });
});

describe('crash safety of the writer', () => {
  it('resumes after a torn journal line, an orphan temp file and an unjournaled chunk; no row is in the set twice', async () => {
    const dir = freshDir();
    const set = await openArchiveSet(base(dir));
    await set.writeChunk(rows(1, 30));
    await set.writeChunk(rows(31, 60));
    // The crash: chunk 3 was renamed into place but its journal line was cut mid-write,
    // and the next chunk's temp file was left behind.
    const orphan = await openArchiveSet(base(freshDir()));
    const o = await orphan.writeChunk(rows(61, 90));
    copyFileSync(path.join(orphan.dir, chunkFileName(1)), path.join(dir, chunkFileName(3)));
    appendFileSync(path.join(dir, JOURNAL_FILE), `{"type":"chunk","file":"${chunkFileName(3)}","rows":30,"sha256":"${o.chunk!.sha256.slice(0, 20)}`);
    writeFileSync(path.join(dir, `.${chunkFileName(4)}.0a1b2c3d4e5f.tmp`), 'half a chunk');

    const resumed = await resumeArchiveSet(dir);
    expect(resumed.resumed.tornLine).toBe(true);
    expect([...resumed.resumed.removed].sort()).toEqual([`.${chunkFileName(4)}.0a1b2c3d4e5f.tmp`, chunkFileName(3)].sort());
    expect(resumed.chunks).toHaveLength(2);
    expect(resumed.rows).toBe(60);
    // The engine re-reads from its last checkpoint: rows 41–60 were archived but not yet deleted.
    const again = await resumed.writeChunk(rows(41, 90));
    expect(again).toMatchObject({ written: 30, alreadyArchived: 20, conflicts: [] });
    expect(again.chunk!.file).toBe(chunkFileName(3));
    await resumed.finish();
    const ids = await allIds(dir);
    expect(ids).toHaveLength(90);
    expect(new Set(ids).size).toBe(90);
    await verifyArchiveSet(dir, { privateKey: dpo.identity });
    // A journal that is whole again: a second resume finds nothing to repair.
    const third = await resumeArchiveSet(dir);
    expect(third.resumed).toEqual({ tornLine: false, removed: [] });
    expect(third.finished).toBe(true);
    expect(await third.writeChunk(rows(1, 90))).toMatchObject({ written: 0, alreadyArchived: 90 });
  });

  it('a crash between the chunk file and its journal line (injected): the rows are written again, once', async () => {
    const dir = freshDir();
    let killAt: string | null = null;
    class Killed extends Error {}
    const fs: ArchiveFs = {
      ...nodeArchiveFs,
      open: async (file, flags, mode) => {
        if (killAt === 'journal' && file.endsWith(JOURNAL_FILE)) throw new Killed('SIGKILL');
        return nodeArchiveFs.open(file, flags, mode);
      },
      unlink: async (file) => {
        if (killAt) throw new Killed('SIGKILL'); // a killed process cleans nothing up
        return nodeArchiveFs.unlink(file);
      },
    };
    const set = await openArchiveSet(base(dir, { fs }));
    await set.writeChunk(rows(1, 25));
    killAt = 'journal';
    const e = await caught(set.writeChunk(rows(26, 50)));
    expect(e.code).toBe('ARCHIVE_TARGET');
    // The writer refuses to go on after a journal it could not repair …
    await expect(set.writeChunk(rows(51, 60))).rejects.toThrow(/stopped after a failed journal write/);
    expect(existsSync(path.join(dir, chunkFileName(2)))).toBe(true); // … and the unjournaled chunk is on disk
    const resumed = await openOrResumeArchiveSet(base(dir));
    expect(resumed.resumed.removed).toEqual([chunkFileName(2)]);
    expect((await resumed.writeChunk(rows(1, 50))).written).toBe(25);
    await resumed.finish();
    expect((await allIds(dir)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('refuses to resume another run\'s set, and a journal damaged before its last line', async () => {
    const { dir } = await finishedSet();
    await expect(openOrResumeArchiveSet(base(dir, { runId: 'run-2' }))).rejects.toThrow(/holds the set of run run-1/);
    const lines = readFileSync(path.join(dir, JOURNAL_FILE), 'utf8').split('\n');
    lines[1] = lines[1]!.slice(0, 50);
    writeFileSync(path.join(dir, JOURNAL_FILE), lines.join('\n'));
    expect(await caught(resumeArchiveSet(dir))).toMatchObject({ code: 'ARCHIVE_JOURNAL' });
    const gone = await finishedSet();
    unlinkSync(path.join(gone.dir, chunkFileName(1)));
    expect(await caught(resumeArchiveSet(gone.dir))).toMatchObject({ code: 'ARCHIVE_CHUNK_MISSING', chunk: chunkFileName(1) });
  });
});

describe('a full or read-only target', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

  it('a write failing with ENOSPC (injected): a clear error, nothing left that counts, and the set continues once there is room', async () => {
    const dir = freshDir();
    let allowed = Infinity; // writes that still succeed
    const fs: ArchiveFs = {
      ...nodeArchiveFs,
      open: async (file, flags, mode) => {
        const h = await nodeArchiveFs.open(file, flags, mode);
        return { ...h, write: async (d) => (allowed-- > 0 ? h.write(d) : Promise.reject(enospc())) };
      },
    };
    const set = await openArchiveSet(base(dir, { fs }));
    await set.writeChunk(rows(1, 20));
    allowed = 1; // the disk fills up part-way through the next chunk
    const big = Array.from({ length: 2000 }, (_, i) => ({ ...row(100 + i), email: randomBytes(640).toString('hex') }));
    const e = await caught(set.writeChunk(big));
    expect(e).toMatchObject({ code: 'ARCHIVE_TARGET', exitCode: ExitCode.Archive });
    expect(e.message).toMatch(/chunk-000002.*the target is full \(ENOSPC\)/);
    expect(e.hint).toMatch(/no row may be deleted/);
    expect(readdirSync(dir).sort()).toEqual([chunkFileName(1), JOURNAL_FILE].sort()); // no temp file, no chunk 2
    // The manifest cannot be written either; verify accepts nothing.
    allowed = 0;
    expect((await caught(set.finish())).message).toMatch(/manifest\.json.*ENOSPC/);
    expect(readdirSync(dir).sort()).toEqual([chunkFileName(1), JOURNAL_FILE].sort());
    expect((await caught(verifyArchiveSet(dir))).code).toBe('ARCHIVE_MANIFEST');
    allowed = Infinity;
    expect((await set.writeChunk(big)).written).toBe(2000);
    await set.finish();
    expect((await verifyArchiveSet(dir, { privateKey: dpo.identity })).rows).toBe(2020);
  });

  it('a directory that is a file, or cannot be created', async () => {
    const file = path.join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    expect((await caught(openArchiveSet(base(file)))).message).toMatch(/is a file, not a directory/);
    expect((await caught(openArchiveSet(base(path.join(file, 'sub'))))).message).toMatch(/ENOTDIR|not a directory/);
  });

  it.skipIf(process.getuid?.() === 0)('a directory without write permission', async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o555 });
    const e = await caught(openArchiveSet(base(dir)));
    expect(e.message).toMatch(/EACCES/);
    expect(readdirSync(dir)).toEqual([]);
  });

  // Real file systems, where the machine lets us mount them (root): a read-only mount and a 256 KiB one.
  const canMount = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = mkdtempSync(path.join(tmp, 'probe-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const mounted = (options: string) => {
    const at = mkdtempSync(path.join(tmp, 'mnt-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at], { stdio: 'ignore' });
    return { at, [Symbol.dispose]: () => execFileSync('umount', [at], { stdio: 'ignore' }) };
  };

  it.skipIf(!canMount)('a read-only file system (tmpfs mounted ro): openArchiveSet fails before anything is archived', async () => {
    using m = mounted('ro,size=64k');
    for (const dir of [m.at, path.join(m.at, 'set')]) {
      const e = await caught(openArchiveSet(base(dir)));
      expect(e).toMatchObject({ code: 'ARCHIVE_TARGET' });
      expect(e.message).toMatch(/read-only \(EROFS\)/);
    }
    expect(readdirSync(m.at)).toEqual([]);
  });

  it.skipIf(!canMount)('a file system that fills up (256 KiB tmpfs): the chunk that does not fit fails, the chunks before it verify', async () => {
    using m = mounted('size=256k');
    const dir = path.join(m.at, 'set');
    const ballast = path.join(m.at, 'ballast');
    writeFileSync(ballast, randomBytes(48 * 1024)); // something else on the disk, removed later to make room
    const set = await openArchiveSet(base(dir));
    const noisy = (from: number) => Array.from({ length: 200 }, (_, i) => ({ ...row(from + i), photo: createHash('sha512').update(`${from + i}`).digest() }));
    let written = 0;
    let failure: ArchiveError | null = null;
    for (let from = 1; from < 100_000 && !failure; from += 200) {
      try {
        written += (await set.writeChunk(noisy(from))).written;
      } catch (e) {
        failure = e as ArchiveError;
      }
    }
    expect(failure).toBeInstanceOf(ArchiveError);
    expect(failure!.message).toMatch(/ENOSPC/);
    expect(written).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await caught(verifyArchiveSet(dir))).code).toBe('ARCHIVE_MANIFEST'); // not finished: nothing to accept
    // Everything the writer reported archived is durable and whole: resume, finish (a small manifest fits after a cleanup) and verify.
    const resumed = await resumeArchiveSet(dir);
    expect(resumed.rows).toBe(written);
    const full = await resumed.finish().then(() => null, (e: unknown) => e as ArchiveError);
    if (full) {
      expect(full.message).toMatch(/manifest\.json.*ENOSPC/);
      expect(readdirSync(dir).filter((f) => f.startsWith('.') || f === MANIFEST_FILE)).toEqual([]);
      unlinkSync(ballast);
      await resumed.finish();
    }
    expect((await verifyArchiveSet(dir, { privateKey: dpo.identity })).rows).toBe(written);
  });
});
