/** `steward keys recipient new|public|convert` and `steward archive encrypt|decrypt`, through the real argument parser. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/interfaces/cli/cli.js';
import type { Io } from '../../../src/interfaces/cli/output.js';
import { ExitCode } from '../../../src/errors.js';
import { generateRecipient, parseIdentity } from '../../../src/archive/keys.js';
import { archiveLength, CHUNK_BYTES } from '../../../src/archive/age.js';

/** Bytes before the first payload chunk of an age file for one recipient. */
const H1 = archiveLength(0, 1) - 16;

function io(cwd: string): Io & { out: () => Buffer; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  let err = '';
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env: { NO_COLOR: '1' }, cwd, out: () => Buffer.concat(out), err: () => err };
}

async function steward(cwd: string, ...argv: string[]) {
  const x = io(cwd);
  const code = await main(argv, x);
  return { code, out: x.out(), text: x.out().toString('utf8'), err: x.err() };
}

describe('steward keys recipient / archive', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'steward-arccli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('creates a key pair (0600 file, public key printed), encrypts to it and decrypts with it', async () => {
    const made = await steward(dir, 'keys', 'recipient', 'new', '--out', 'dpo.key');
    expect(made.code).toBe(0);
    const publicKey = made.text.trim();
    expect(publicKey).toMatch(/^age1[a-z0-9]{58}$/);
    expect(made.err).toMatch(/wrote the private key to dpo\.key \(mode 0600\)/);
    if (process.platform !== 'win32') expect((await stat(path.join(dir, 'dpo.key'))).mode & 0o777).toBe(0o600);
    const keyText = await readFile(path.join(dir, 'dpo.key'), 'utf8');
    expect(parseIdentity(keyText).recipient.publicKey).toBe(publicKey);

    // Never overwritten.
    const again = await steward(dir, 'keys', 'recipient', 'new', '--out', 'dpo.key');
    expect(again.code).toBe(ExitCode.Crypto);
    expect(again.err).toMatch(/already exists/);
    expect(await readFile(path.join(dir, 'dpo.key'), 'utf8')).toBe(keyText);

    const shown = await steward(dir, 'keys', 'recipient', 'public', 'dpo.key');
    expect(shown.code).toBe(0);
    expect(shown.text).toBe(`${publicKey}\n`);
    const shownJson = JSON.parse((await steward(dir, 'keys', 'recipient', 'public', 'dpo.key', '--json')).text) as { publicKey: string; id: string };
    expect(shownJson.publicKey).toBe(publicKey);
    expect(shownJson.id).toMatch(/^[A-Za-z0-9_-]{11}$/);

    const other = generateRecipient();
    const data = Buffer.concat([Buffer.from('id,email\n1,ann@example.com\n'), randomBytes(2 * CHUNK_BYTES)]);
    await writeFile(path.join(dir, 'export.csv'), data);
    const enc = await steward(dir, 'archive', 'encrypt', 'export.csv', '--recipient', publicKey, '-r', other.publicKey, '--json');
    expect(enc.code).toBe(0);
    const summary = JSON.parse(enc.text) as { file: string; plaintextBytes: number; archiveBytes: number; recipients: string[] };
    expect(summary).toMatchObject({ file: 'export.csv.age', plaintextBytes: data.length, recipients: [shownJson.id, other.identity.id] });
    const archive = await readFile(path.join(dir, 'export.csv.age'));
    expect(archive.length).toBe(summary.archiveBytes);
    expect(archive.includes(Buffer.from('ann@example.com'))).toBe(false);

    const dec = await steward(dir, 'archive', 'decrypt', 'export.csv.age', '--key', 'dpo.key', '--out', 'back.csv');
    expect(dec.code).toBe(0);
    expect(dec.text).toMatch(new RegExp(`^Decrypted export\\.csv\\.age with key ${shownJson.id}: back\\.csv \\(${data.length} bytes, mode 0600\\)`));
    expect((await readFile(path.join(dir, 'back.csv'))).equals(data)).toBe(true);

    const toStdout = await steward(dir, 'archive', 'decrypt', 'export.csv.age', '-k', 'dpo.key');
    expect(toStdout.code).toBe(0);
    expect(toStdout.out.equals(data)).toBe(true);

    // A reader that goes away (`| head`: EPIPE) ends decryption quietly with exit 0.
    const closed = new Writable({ write: (_c, _e, cb) => cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    const epipe = { ...io(dir), stdout: closed };
    expect(await main(['archive', 'decrypt', 'export.csv.age', '-k', 'dpo.key'], epipe)).toBe(0);

    // The other recipient's key (the bare AGE-SECRET-KEY-1 line in a 0600 file) decrypts too.
    await writeFile(path.join(dir, 'other.key'), `${other.privateKey}\n`, { mode: 0o600 });
    expect((await steward(dir, 'archive', 'decrypt', 'export.csv.age', '--key', 'other.key')).out.equals(data)).toBe(true);
  });

  it('exit 7 with the right code for a non-recipient, a tampered archive, a mistyped recipient; nothing written', async () => {
    const a = generateRecipient();
    const eve = generateRecipient();
    await writeFile(path.join(dir, 'eve.key'), `${eve.privateKey}\n`, { mode: 0o600 });
    await writeFile(path.join(dir, 'a.key'), `${a.privateKey}\n`, { mode: 0o600 });
    await writeFile(path.join(dir, 'rows.csv'), randomBytes(CHUNK_BYTES + 100));
    expect((await steward(dir, 'archive', 'encrypt', 'rows.csv', '-r', a.publicKey, '-o', 'rows.age')).code).toBe(0);
    const before = (await readdir(dir)).sort();

    const wrong = await steward(dir, 'archive', 'decrypt', 'rows.age', '--key', 'eve.key', '--out', 'x.csv', '--json');
    expect(wrong.code).toBe(ExitCode.Crypto);
    expect(JSON.parse(wrong.text).error).toMatchObject({ code: 'CRYPTO_WRONG_KEY', message: `The archive rows.age is not encrypted to key ${eve.identity.id} (the given private key): it is for another recipient` });

    const archive = await readFile(path.join(dir, 'rows.age'));
    const changed = Buffer.from(archive);
    changed[H1 + 10]! ^= 4;
    await writeFile(path.join(dir, 'changed.age'), changed);
    await writeFile(path.join(dir, 'cut.age'), archive.subarray(0, H1 + CHUNK_BYTES + 16));
    const tampered = await steward(dir, 'archive', 'decrypt', 'changed.age', '--key', 'a.key', '--out', 'x.csv');
    expect(tampered.code).toBe(ExitCode.Crypto);
    expect(tampered.err).toMatch(/^steward: error: The archive changed\.age does not verify: it was changed, cut short or appended to/);
    const cut = await steward(dir, 'archive', 'decrypt', 'cut.age', '--key', 'a.key', '--out', 'x.csv', '--json');
    expect(JSON.parse(cut.text).error.code).toBe('CRYPTO_TAMPERED');
    expect(JSON.parse(cut.text).error.message).toMatch(/^The archive cut\.age does not verify: it was changed, cut short or appended to/);

    const typo = a.publicKey.slice(0, 30) + (a.publicKey[30] === 'q' ? 'p' : 'q') + a.publicKey.slice(31);
    const badRecipient = await steward(dir, 'archive', 'encrypt', 'rows.csv', '-r', typo, '-o', 'y.age', '--json');
    expect(badRecipient.code).toBe(ExitCode.Crypto);
    expect(JSON.parse(badRecipient.text).error).toMatchObject({ code: 'CRYPTO_RECIPIENT_KEY', message: expect.stringMatching(/fails its checksum: it was mistyped or cut/) });
    const noRecipient = await steward(dir, 'archive', 'encrypt', 'rows.csv');
    expect(noRecipient.code).toBe(ExitCode.Usage);
    const privateAsRecipient = await steward(dir, 'archive', 'encrypt', 'rows.csv', '-r', a.privateKey);
    expect(privateAsRecipient.code).toBe(ExitCode.Crypto);

    // No output, no temporary file, and no private key in anything printed.
    expect((await readdir(dir)).sort()).toEqual([...before, 'changed.age', 'cut.age'].sort());
    const printed = [wrong, tampered, cut, badRecipient, noRecipient, privateAsRecipient].map((r) => r.text + r.err).join('\n');
    for (const secret of [a.privateKey, eve.privateKey, a.privateKey.slice(16, 50), eve.privateKey.slice(16, 50), a.privateKey.slice(16, 50).toLowerCase()]) expect(printed).not.toContain(secret);
  });

  it.skipIf(process.platform === 'win32')('refuses a private key file others can read, with the chmod to run', async () => {
    const k = generateRecipient();
    await writeFile(path.join(dir, 'open.key'), `${k.privateKey}\n`);
    await chmod(path.join(dir, 'open.key'), 0o644);
    const r = await steward(dir, 'keys', 'recipient', 'public', 'open.key');
    expect(r.code).toBe(ExitCode.Crypto);
    expect(r.err).toMatch(/mode 644.*chmod 600/);
    expect(r.err).not.toContain(k.privateKey.slice(16, 40));
  });

  it('without --out prints the key file to stdout and the public key to stderr; --help has examples', async () => {
    const r = await steward(dir, 'keys', 'recipient', 'new');
    expect(r.code).toBe(0);
    const identity = parseIdentity(r.text);
    expect(r.err).toContain(`Public key: ${identity.recipient.publicKey}\n`);
    expect(r.text).toContain(`# public key: ${identity.recipient.publicKey}`);
    for (const argv of [['keys', 'recipient', 'new'], ['archive', 'decrypt'], ['archive', 'encrypt'], ['keys', 'recipient', 'public'], ['keys', 'recipient', 'convert']]) {
      const help = await steward(dir, ...argv, '--help');
      expect(help.code).toBe(0);
      expect(help.text).toMatch(/Examples:\n {2}\$ npx steward /);
    }
    expect((await steward(dir, 'archive', 'decrypt', 'x.age')).code).toBe(ExitCode.Usage); // --key is required
  });

  it('convert writes a key of the earlier format (stwsec1) as an age key file (0600), never over an existing file', async () => {
    const legacy = await readFile(path.join(import.meta.dirname, '../../fixtures/legacy-archive/dpo.key'), 'utf8');
    await writeFile(path.join(dir, 'old.key'), legacy, { mode: 0o600 });
    const r = await steward(dir, 'keys', 'recipient', 'convert', 'old.key', '--out', 'new.key');
    expect(r.code).toBe(0);
    const old = parseIdentity(legacy);
    expect(r.text).toContain(`Wrote the key ${old.id} in age's form to new.key (mode 0600): \`age -d -i new.key FILE\` reads archives encrypted to ${old.recipient.publicKey}`);
    const text = await readFile(path.join(dir, 'new.key'), 'utf8');
    expect(text).toMatch(/^AGE-SECRET-KEY-1[A-Z0-9]{58}$/m);
    expect(parseIdentity(text).recipient.publicKey).toBe(old.recipient.publicKey);
    if (process.platform !== 'win32') expect((await stat(path.join(dir, 'new.key'))).mode & 0o777).toBe(0o600);
    expect((await steward(dir, 'keys', 'recipient', 'convert', 'old.key', '--out', 'new.key')).code).toBe(ExitCode.Crypto);
    expect((await steward(dir, 'keys', 'recipient', 'convert', 'old.key')).code).toBe(ExitCode.Usage);
  });
});
