import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CryptoError, ExitCode } from '../../../src/errors.js';
import {
  checkScryptParams,
  decodeKeyText,
  generateMasterKeyText,
  LocalMasterKey,
  masterKeyFromEnv,
  masterKeyFromFile,
  masterKeyFromPassphrase,
  newScryptParams,
  writeMasterKeyFile,
} from '../../../src/crypto/master-key.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'steward-mk-'));
  dirs.push(d);
  return d;
}
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function failure(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

/** Every text form the key could leak in. */
function forms(key: Buffer): string[] {
  return [key.toString('hex'), key.toString('base64'), key.toString('base64url'), key.toString('base64').slice(0, 20)];
}

describe('master key text', () => {
  it('accepts 64 hex or 43/44 base64/base64url characters, with an optional prefix', () => {
    const key = randomBytes(32);
    for (const text of [key.toString('hex'), key.toString('hex').toUpperCase(), `hex:${key.toString('hex')}`, key.toString('base64'), key.toString('base64url'), `base64:${key.toString('base64')}`, ` ${key.toString('base64')}\n`]) {
      expect(decodeKeyText(text)?.equals(key), text).toBe(true);
    }
    for (const bad of ['', 'abc', key.toString('hex').slice(2), randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), `${key.toString('base64')}==`]) {
      expect(decodeKeyText(bad), bad).toBeNull();
    }
  });

  it('from the environment: same key, same id; other key, other id', async () => {
    const key = randomBytes(32);
    const a = await masterKeyFromEnv('MK', { MK: key.toString('base64') });
    const b = await masterKeyFromEnv('MK', { MK: key.toString('hex') });
    const c = await masterKeyFromEnv('MK', { MK: randomBytes(32).toString('hex') });
    expect(a.keyId).toMatch(/^local:[A-Za-z0-9_-]{12}$/);
    expect(a.keyId).toBe(b.keyId);
    expect(c.keyId).not.toBe(a.keyId);
  });

  it('an unset or malformed variable is a CRYPTO_MASTER_KEY error that never echoes the value', async () => {
    const unset = await failure(masterKeyFromEnv('STEWARD_MASTER_KEY', {}));
    expect(unset.code).toBe('CRYPTO_MASTER_KEY');
    expect(unset.exitCode).toBe(ExitCode.Crypto);
    expect(unset.message).toMatch(/STEWARD_MASTER_KEY is not set/);
    const secretish = 'hunter2-is-not-a-key-but-still-a-secret';
    const bad = await failure(masterKeyFromEnv('MK', { MK: secretish }));
    expect(bad.message).toMatch(/MK is not a 32-byte key/);
    expect(`${bad.message} ${bad.hint}`).not.toContain(secretish);
  });

  it('never prints key material: toString, JSON, inspect', async () => {
    const key = randomBytes(32);
    const mk = new LocalMasterKey(Buffer.from(key));
    const shown = [String(mk), JSON.stringify(mk), inspect(mk, { showHidden: true, depth: 5 }), JSON.stringify({ nested: [mk] })].join('\n');
    for (const f of forms(key)) expect(shown).not.toContain(f);
    expect(JSON.parse(JSON.stringify(mk))).toEqual({ keyId: mk.keyId, kind: 'key' });
    expect(inspect(mk)).toBe(`LocalMasterKey(${mk.keyId})`);
  });

  it('zeroes the buffer it was given', () => {
    const key = randomBytes(32);
    new LocalMasterKey(key);
    expect(key.equals(Buffer.alloc(32))).toBe(true);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new LocalMasterKey(randomBytes(16))).toThrow(CryptoError);
  });
});

describe('master key file', () => {
  it('reads base64, hex or raw bytes from a 0600 file', async () => {
    const dir = await tmp();
    const key = randomBytes(32);
    const ids = new Set<string>();
    for (const [name, content] of [['b64', `${key.toString('base64')}\n`], ['hex', key.toString('hex')], ['raw', key]] as const) {
      const f = path.join(dir, name);
      await writeFile(f, content, { mode: 0o600 });
      ids.add((await masterKeyFromFile(f)).keyId);
    }
    expect(ids.size).toBe(1);
  });

  it.skipIf(process.platform === 'win32')('refuses a file its group or others can read, naming the fix', async () => {
    const dir = await tmp();
    const f = path.join(dir, 'key');
    await writeFile(f, generateMasterKeyText());
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(f, mode);
      const e = await failure(masterKeyFromFile(f));
      expect(e.code).toBe('CRYPTO_MASTER_KEY');
      expect(e.message).toContain(`mode ${mode.toString(8)}`);
      expect(e.message).toMatch(/accessible to its group or other users/);
      expect(e.hint).toContain(`chmod 600 ${f}`);
    }
    await chmod(f, 0o644);
    await expect(masterKeyFromFile(f, { allowInsecurePermissions: true })).resolves.toBeInstanceOf(LocalMasterKey);
    await chmod(f, 0o400);
    await expect(masterKeyFromFile(f)).resolves.toBeInstanceOf(LocalMasterKey);
  });

  it('missing, a directory, or not a key: clear errors without the content', async () => {
    const dir = await tmp();
    expect((await failure(masterKeyFromFile(path.join(dir, 'nope')))).message).toMatch(/does not exist/);
    expect((await failure(masterKeyFromFile(dir))).message).toMatch(/not a regular file/);
    const f = path.join(dir, 'notkey');
    await writeFile(f, 'correct horse battery staple', { mode: 0o600 });
    const e = await failure(masterKeyFromFile(f));
    expect(e.message).toMatch(/does not hold a 32-byte key/);
    expect(`${e.message}${e.hint}`).not.toContain('horse');
  });

  it('writeMasterKeyFile creates a 0600 file and never overwrites', async () => {
    const dir = await tmp();
    const f = path.join(dir, 'master.key');
    const written = await writeMasterKeyFile(f);
    if (process.platform !== 'win32') expect((await stat(f)).mode & 0o777).toBe(0o600);
    expect((await masterKeyFromFile(f)).keyId).toBe(written.keyId);
    expect(decodeKeyText(await readFile(f, 'utf8'))).not.toBeNull();
    expect((await failure(writeMasterKeyFile(f))).message).toMatch(/already exists/);
  });
});

describe('passphrase master key (scrypt)', () => {
  const cheap = { N: 2 ** 10, r: 8, p: 1 };

  it('same passphrase and parameters: same key; another passphrase or salt: another key', async () => {
    const params = newScryptParams(cheap);
    const a = await masterKeyFromPassphrase('correct horse battery staple', params);
    const b = await masterKeyFromPassphrase('correct horse battery staple', { ...params });
    const c = await masterKeyFromPassphrase('correct horse battery stapler', params);
    const d = await masterKeyFromPassphrase('correct horse battery staple', newScryptParams(cheap));
    expect(a.keyId).toBe(b.keyId);
    expect(c.keyId).not.toBe(a.keyId);
    expect(d.keyId).not.toBe(a.keyId);
    expect(a.kind).toBe('passphrase');
    expect(a.params).toEqual(params);
    expect(JSON.stringify(a)).not.toContain('horse');
  });

  it('normalises Unicode (NFC), so the same passphrase typed differently derives the same key', async () => {
    const params = newScryptParams(cheap);
    expect((await masterKeyFromPassphrase('caf\u00e9', params)).keyId).toBe((await masterKeyFromPassphrase('cafe\u0301', params)).keyId);
  });

  it('defaults to N = 2^17, r = 8, p = 1 with a 16-byte salt', () => {
    const p = newScryptParams();
    expect(p).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
    expect(Buffer.from(p.salt, 'base64url')).toHaveLength(16);
  });

  it('refuses stored parameters that are malformed or would exhaust memory', () => {
    const salt = randomBytes(16).toString('base64url');
    for (const bad of [{ N: 1000, r: 8, p: 1, salt }, { N: 2 ** 30, r: 8, p: 1, salt }, { N: 2 ** 14, r: 0, p: 1, salt }, { N: 2 ** 14, r: 8, p: 99, salt }, { N: 2 ** 14, r: 8, p: 1, salt: 'short' }]) {
      expect(() => checkScryptParams(bad), JSON.stringify(bad)).toThrow(CryptoError);
    }
  });

  it('refuses an empty passphrase', async () => {
    expect((await failure(masterKeyFromPassphrase('', newScryptParams(cheap)))).code).toBe('CRYPTO_MASTER_KEY');
  });
});
