/** Archive streams and files (age files): large inputs streamed with flat memory, atomic files, nothing left behind on failure. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { CryptoError, UsageError } from '../../../src/errors.js';
import { archiveLength, CHUNK_BYTES, decryptStream, encryptStream, inspectArchiveHeader } from '../../../src/archive/age.js';
import { decryptFile, encryptFile } from '../../../src/archive/files.js';
import { generateRecipient } from '../../../src/archive/keys.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'steward-arcs-'));
  dirs.push(d);
  return d;
}
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const alice = generateRecipient();
const bob = generateRecipient();
const eve = generateRecipient();
/** Bytes before the first payload chunk of an age file for one recipient: header and payload nonce. */
const H1 = archiveLength(0, 1) - 16;

/** `total` pseudo-random bytes in pieces of varying size, generated on demand (never held whole). */
function source(total: number, seed = randomBytes(1 << 20)): Readable {
  let sent = 0;
  let turn = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(total - sent, [65_536, 1, 100_000, 4096, 65_537, 300_000][turn++ % 6]!);
      const at = (sent * 7) % (seed.length - size);
      this.push(seed.subarray(at, at + size));
      sent += size;
    },
  });
}

/** A sink hashing what it receives. */
function hashSink(onWrite?: () => void): Writable & { digest: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      onWrite?.();
      cb();
    },
  });
  return Object.assign(sink, { digest: () => hash.digest('hex'), bytes: () => bytes });
}

describe('archive streams', () => {
  it('streams several MB through encrypt and decrypt: same bytes, documented size', async () => {
    const total = 5 * 1024 * 1024 + 12_345;
    const seed = randomBytes(1 << 20);
    const plain = hashSink();
    await pipeline(source(total, seed), plain);
    const enc = encryptStream([alice.publicKey, bob.publicKey]);
    const dec = decryptStream(bob.identity);
    const out = hashSink();
    await pipeline(source(total, seed), enc, dec, out);
    expect(out.bytes()).toBe(total);
    expect(out.digest()).toBe(plain.digest());
    expect(enc.plaintextBytes).toBe(total);
    expect(enc.archiveBytes).toBe(archiveLength(total, 2));
    expect(dec.archiveBytes).toBe(archiveLength(total, 2));
    expect(dec.plaintextBytes).toBe(total);
    expect(dec.recipient?.publicKey).toBe(bob.publicKey);
    expect(dec.format).toBe('age');
  });

  it('writes an age header with one X25519 stanza per recipient (deduplicated), and opens with any of several keys', async () => {
    const parts: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('x')]), encryptStream([alice.publicKey, bob.publicKey, alice.identity.recipient]), new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
    const archive = Buffer.concat(parts);
    expect(archive.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    const header = inspectArchiveHeader(archive, archive.length);
    expect(header).toMatchObject({ format: 'age', recipients: 2 });
    expect(archive.length).toBe(archiveLength(1, 2));
    const dec = decryptStream([eve.identity, bob.identity]);
    const out: Buffer[] = [];
    await pipeline(Readable.from([archive]), dec, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    expect(Buffer.concat(out).toString()).toBe('x');
    expect(dec.recipient?.publicKey).toBe(bob.publicKey);
    // No recipient at all is refused before anything is written.
    expect(() => encryptStream([])).toThrow(/at least one recipient/);
  });

  it('round-trips 0 bytes, 1 byte, one chunk and one chunk + 1 as streams', async () => {
    for (const size of [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1]) {
      const data = randomBytes(size);
      const parts: Buffer[] = [];
      await pipeline(Readable.from(size ? [data] : []), encryptStream([alice.publicKey]), decryptStream(alice.identity), new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
      expect(Buffer.concat(parts).equals(data)).toBe(true);
    }
  });

  it('keeps memory flat: 64 MiB through encrypt → decrypt with a bounded RSS increase', async () => {
    const total = 64 * 1024 * 1024;
    const seed = randomBytes(1 << 20);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let writes = 0;
    const out = hashSink(() => {
      if (++writes % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    });
    const started = performance.now();
    await pipeline(source(total, seed), encryptStream([alice.publicKey]), decryptStream(alice.identity), out);
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - before) / 2 ** 20;
    console.log(`64 MiB encrypt→decrypt stream: ${ms.toFixed(0)} ms (${((2 * total) / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s of ChaCha20-Poly1305), RSS growth ${growthMb.toFixed(1)} MiB`);
    expect(out.bytes()).toBe(total);
    // Buffering the data would take ≥ 64 MiB (and twice that for both stages); streaming holds a few chunks.
    expect(growthMb).toBeLessThan(40);
  });

  it('errors the pipeline with the CryptoError when the archive is tampered, truncated or not for this key', async () => {
    const data = randomBytes(3 * CHUNK_BYTES);
    const parts: Buffer[] = [];
    await pipeline(Readable.from([data]), encryptStream([alice.publicKey]), new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
    const archive = Buffer.concat(parts);
    const run = (bytes: Buffer, identity = alice.identity) =>
      pipeline(Readable.from([bytes]), decryptStream(identity, { name: 'export.age' }), new Writable({ write: (_c, _e, cb) => cb() })).then(() => null, (e: unknown) => e);
    const flipped = Buffer.from(archive);
    flipped[H1 + CHUNK_BYTES + 100]! ^= 1;
    for (const [bytes, code, identity] of [
      [flipped, 'CRYPTO_TAMPERED', alice.identity],
      [archive.subarray(0, archive.length - 1), 'CRYPTO_TAMPERED', alice.identity],
      [archive, 'CRYPTO_WRONG_KEY', bob.identity],
      [Buffer.from('hello'), 'CRYPTO_NOT_CIPHERTEXT', alice.identity],
      [Buffer.alloc(0), 'CRYPTO_NOT_CIPHERTEXT', alice.identity],
      [archive.subarray(0, 60), 'CRYPTO_TAMPERED', alice.identity],
      [archive.subarray(0, H1 - 16), 'CRYPTO_TAMPERED', alice.identity],
      [Buffer.concat([archive, Buffer.from('x')]), 'CRYPTO_TAMPERED', alice.identity],
    ] as const) {
      const e = await run(bytes, identity);
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).code).toBe(code);
      expect((e as CryptoError).message).toMatch(/^export\.age /);
    }
  });
});

describe('archive files', () => {
  it('encrypts and decrypts files atomically; the plaintext output is mode 0600', async () => {
    const dir = await tmp();
    const input = path.join(dir, 'export.csv');
    await writeFile(input, randomBytes(2 * CHUNK_BYTES + 5));
    const archived = await encryptFile(input, path.join(dir, 'export.csv.age'), [alice.publicKey, bob.publicKey]);
    expect(archived.plaintextBytes).toBe(2 * CHUNK_BYTES + 5);
    expect((await stat(path.join(dir, 'export.csv.age'))).size).toBe(archived.archiveBytes);
    const opened = await decryptFile(path.join(dir, 'export.csv.age'), path.join(dir, 'back.csv'), alice.identity);
    expect(opened.recipient.publicKey).toBe(alice.publicKey);
    expect((await readFile(path.join(dir, 'back.csv'))).equals(await readFile(input))).toBe(true);
    if (process.platform !== 'win32') expect((await stat(path.join(dir, 'back.csv'))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['back.csv', 'export.csv', 'export.csv.age']);
  });

  it('a tampered or truncated archive leaves no output file and no temporary file', async () => {
    const dir = await tmp();
    const input = path.join(dir, 'data.bin');
    await writeFile(input, randomBytes(3 * CHUNK_BYTES + 10));
    await encryptFile(input, path.join(dir, 'a.age'), [alice.publicKey]);
    const archive = await readFile(path.join(dir, 'a.age'));
    await writeFile(path.join(dir, 'cut.age'), archive.subarray(0, H1 + 2 * (CHUNK_BYTES + 16)));
    const changed = Buffer.from(archive);
    changed[changed.length - 3]! ^= 0x80;
    await writeFile(path.join(dir, 'changed.age'), changed);
    for (const name of ['cut.age', 'changed.age']) {
      const e = await decryptFile(path.join(dir, name), path.join(dir, 'out.bin'), alice.identity).then(() => null, (x: unknown) => x);
      expect((e as CryptoError).code).toBe('CRYPTO_TAMPERED');
      expect((e as CryptoError).message).toContain(`The archive ${path.join(dir, name)} `);
    }
    const wrong = await decryptFile(path.join(dir, 'a.age'), path.join(dir, 'out.bin'), bob.identity).then(() => null, (x: unknown) => x);
    expect((wrong as CryptoError).code).toBe('CRYPTO_WRONG_KEY');
    expect((await readdir(dir)).sort()).toEqual(['a.age', 'changed.age', 'cut.age', 'data.bin']);
  });

  it('never replaces an existing output unless asked; a missing input is a usage error', async () => {
    const dir = await tmp();
    const input = path.join(dir, 'in.txt');
    await writeFile(input, 'name,email\n');
    await encryptFile(input, path.join(dir, 'in.age'), [alice.publicKey]);
    await writeFile(path.join(dir, 'out.txt'), 'keep me');
    const e = await decryptFile(path.join(dir, 'in.age'), path.join(dir, 'out.txt'), alice.identity).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).message).toMatch(/already exists/);
    expect(await readFile(path.join(dir, 'out.txt'), 'utf8')).toBe('keep me');
    await decryptFile(path.join(dir, 'in.age'), path.join(dir, 'out.txt'), alice.identity, { overwrite: true });
    expect(await readFile(path.join(dir, 'out.txt'), 'utf8')).toBe('name,email\n');
    const missing = await encryptFile(path.join(dir, 'nope.csv'), path.join(dir, 'nope.age'), [alice.publicKey]).then(() => null, (x: unknown) => x);
    expect((missing as UsageError).message).toMatch(/nope\.csv: it does not exist/);
    const badKey = await encryptFile(input, path.join(dir, 'x.age'), ['age1oops']).then(() => null, (x: unknown) => x);
    expect((badKey as CryptoError).code).toBe('CRYPTO_RECIPIENT_KEY');
    expect((await readdir(dir)).sort()).toEqual(['in.age', 'in.txt', 'out.txt']);
  });

  it('streams a file to a file through both directions with fs streams', async () => {
    const dir = await tmp();
    const input = path.join(dir, 'big.bin');
    await pipeline(source(3 * 1024 * 1024), createWriteStream(input));
    await pipeline(createReadStream(input), encryptStream([bob.publicKey]), createWriteStream(path.join(dir, 'big.age')));
    const out = hashSink();
    await pipeline(createReadStream(path.join(dir, 'big.age')), decryptStream(bob.identity), out);
    expect(out.digest()).toBe(createHash('sha256').update(await readFile(input)).digest('hex'));
  });
});
