/** Archive recipient keys: age1/AGE-SECRET-KEY-1 text (as age-keygen makes them) with checksum, the earlier stwpub1/stwsec1 keys, PEM, key files, and no leaks. */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bech32Decode } from '../../../src/archive/bech32.js';
import {
  fingerprintOf,
  generateRecipient,
  parseIdentity,
  parseRecipient,
  parseRecipients,
  publicKeyOf,
  readIdentityFile,
  readRecipientsFile,
  writeIdentityFile,
} from '../../../src/archive/keys.js';
import { CryptoError, ExitCode } from '../../../src/errors.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'steward-rcpt-'));
  dirs.push(d);
  return d;
}
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function failure(fn: () => unknown): CryptoError {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  return caught as CryptoError;
}

async function failureAsync(p: Promise<unknown>): Promise<CryptoError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(CryptoError);
  return e as CryptoError;
}

/** The raw private scalar of a key text (AGE-SECRET-KEY-1… or stwsec1…), in every form it could leak as. */
function secretForms(secretText: string): string[] {
  const d = bech32Decode(secretText);
  const raw = typeof d === 'string' ? Buffer.from(secretText.slice(7), 'base64url').subarray(0, 32) : d.bytes;
  return [secretText, secretText.slice(16, 40), secretText.slice(16, 40).toLowerCase(), raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')];
}

/** Changes one character of `text` at `i` to another character of its alphabet (Bech32, or base64url for stw keys). */
function typo(text: string, i: number): string {
  const c = text[i]!;
  const replacement = text.startsWith('stw') ? (c === 'A' ? 'B' : 'A') : c.toLowerCase() === 'q' ? 'p' : 'q';
  const r = text === text.toUpperCase() ? replacement.toUpperCase() : replacement;
  return text.slice(0, i) + r + text.slice(i + 1);
}

const legacyKeyFile = path.join(import.meta.dirname, '../../fixtures/legacy-archive/dpo.key');

describe('recipient key text', () => {
  it('generates age1/AGE-SECRET-KEY-1 pairs (62 and 74 characters) whose public half derives from the private', () => {
    const a = generateRecipient();
    const b = generateRecipient();
    expect(a.publicKey).toMatch(/^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
    expect(a.privateKey).toMatch(/^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(publicKeyOf(a.privateKey)).toBe(a.publicKey);
    expect(publicKeyOf(a.identity)).toBe(a.publicKey);
    expect(parseIdentity(a.privateKey).recipient.publicKey).toBe(a.publicKey);
    expect(parseIdentity(a.privateKey).toText()).toBe(a.privateKey);
    expect(parseRecipient(a.publicKey).publicKey).toBe(a.publicKey);
    expect(parseRecipient(`  ${a.publicKey}\n`).publicKey).toBe(a.publicKey);
  });

  it('makes and reads the same keys as age-keygen, both ways', async () => {
    const dir = await tmp();
    // age-keygen's key, read by Steward: the public key age-keygen -y derives.
    execFileSync('age-keygen', ['-o', path.join(dir, 'theirs.key')], { stdio: 'ignore' });
    const theirs = await readIdentityFile(path.join(dir, 'theirs.key'));
    expect(theirs.recipient.publicKey).toBe(execFileSync('age-keygen', ['-y', path.join(dir, 'theirs.key')], { encoding: 'utf8' }).trim());
    // Steward's key file, read by age-keygen.
    const ours = await writeIdentityFile(path.join(dir, 'ours.key'));
    expect(execFileSync('age-keygen', ['-y', path.join(dir, 'ours.key')], { encoding: 'utf8' }).trim()).toBe(ours.publicKey);
  });

  it('names a key by its fingerprint: SHA-256("steward-archive/1 recipient" ‖ pub)[0..8] as 11 base64url characters', () => {
    const { publicKey } = generateRecipient();
    const d = bech32Decode(publicKey);
    if (typeof d === 'string') throw new Error(d);
    expect(d.prefix).toBe('age');
    const fp = createHash('sha256').update('steward-archive/1 recipient').update(d.bytes).digest().subarray(0, 8);
    expect(parseRecipient(publicKey).id).toBe(fp.toString('base64url'));
    expect(fingerprintOf(d.bytes).equals(fp)).toBe(true);
  });

  it('rejects every one-character typo, dropped or added character, and swapped neighbours in a public key', () => {
    const { publicKey } = generateRecipient();
    const bad: string[] = [];
    for (let i = 4; i < publicKey.length; i++) bad.push(typo(publicKey, i));
    for (let i = 4; i < publicKey.length - 1; i++) {
      if (publicKey[i] !== publicKey[i + 1]) bad.push(publicKey.slice(0, i) + publicKey[i + 1] + publicKey[i] + publicKey.slice(i + 2));
    }
    bad.push(publicKey.slice(0, -1), `${publicKey}q`, publicKey.slice(0, 30), publicKey.replace('age1', 'agf1'), `${publicKey.slice(0, 10).toUpperCase()}${publicKey.slice(10)}`, '', 'age1qqqq', 'stwpub1AAAA');
    for (const text of bad) {
      const e = failure(() => parseRecipient(text));
      expect(e.code).toBe('CRYPTO_RECIPIENT_KEY');
      expect(e.exitCode).toBe(ExitCode.Crypto);
      expect(e.hint).toMatch(/age1 followed by 58 characters/);
    }
    const e = failure(() => parseRecipient(typo(publicKey, 20)));
    expect(e.message).toMatch(/fails its checksum: it was mistyped or cut/);
    expect(e.message).toContain('"age1');
    expect(failure(() => parseRecipient('ssh-ed25519 AAAA')).message).toMatch(/does not start with age1/);
  });

  it('refuses age recipients and identities of other kinds (post-quantum, tag, plugin): Steward encrypts to X25519 keys', () => {
    for (const r of ['age1pq1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', 'age1tag1qqqqqqqqqqqqqqqqqqqqqqqq', 'age1yubikey1qqqqqqqqqqqqqqqqqqqqqqqqqqqq']) {
      expect(failure(() => parseRecipient(r)).message).toMatch(/an age recipient of a kind other than X25519/);
    }
    expect(failure(() => parseIdentity('AGE-SECRET-KEY-PQ-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQ')).message).toMatch(/an age identity of a kind other than X25519/);
  });

  it('still reads keys of the earlier format (stwpub1/stwsec1, with their checksum): the same X25519 keys', async () => {
    const legacy = (await readFile(legacyKeyFile, 'utf8')).split('\n').find((l) => l.startsWith('stwsec1'))!;
    const publicLine = (await readFile(legacyKeyFile, 'utf8')).split('\n').find((l) => l.startsWith('# public key: '))!.slice('# public key: '.length);
    expect(publicLine).toMatch(/^stwpub1/);
    const identity = parseIdentity(legacy);
    // The stwpub1 text and the age1 text are one key: same fingerprint, same age1 form.
    expect(parseRecipient(publicLine).publicKey).toBe(identity.recipient.publicKey);
    expect(parseRecipient(publicLine).id).toBe(identity.id);
    expect(identity.recipient.publicKey).toMatch(/^age1/);
    // Its age form is a key age itself reads.
    expect(parseIdentity(identity.toText()).recipient.publicKey).toBe(identity.recipient.publicKey);
    expect(failure(() => parseRecipient(typo(publicLine, 20))).message).toMatch(/fails its checksum/);
    expect(failure(() => parseIdentity(typo(legacy, 20))).message).toMatch(/fails its checksum/);
  });

  it('refuses a private key given as a recipient, without echoing it, and the reverse', () => {
    const { publicKey, privateKey } = generateRecipient();
    for (const text of [privateKey, privateKey.toLowerCase()]) {
      const e = failure(() => parseRecipient(text));
      expect(e.message).toMatch(/A private key was given where a recipient public key/);
      for (const form of secretForms(privateKey)) expect(e.toUserString()).not.toContain(form);
    }
    expect(failure(() => parseIdentity(publicKey)).message).toMatch(/A public key \(age1…\) was given where a private key was expected/);
  });

  it('rejects a damaged private key without putting any of it in the message', () => {
    const { privateKey } = generateRecipient();
    const damaged = [typo(privateKey, 20), typo(privateKey, 73), privateKey.slice(0, -2), `${privateKey}\n${privateKey}`, '', '# only a comment'];
    for (const text of damaged) {
      const e = failure(() => parseIdentity(text));
      expect(e.code).toBe('CRYPTO_RECIPIENT_KEY');
      const shown = `${e.message} ${e.hint} ${JSON.stringify(e)} ${inspect(e)}`;
      for (const form of secretForms(privateKey)) expect(shown).not.toContain(form);
    }
    expect(failure(() => parseIdentity(typo(privateKey, 20))).message).toMatch(/fails its checksum/);
    expect(failure(() => parseIdentity(`${privateKey}\n${privateKey}`)).message).toMatch(/2 key lines; expected exactly one/);
  });

  it('accepts OpenSSL PEM keys (X25519 PKCS#8 / SPKI) and refuses other key types', () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const pemSecret = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pemPublic = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const identity = parseIdentity(pemSecret);
    expect(parseRecipient(pemPublic).publicKey).toBe(identity.recipient.publicKey);
    expect(parseRecipient(identity.recipient.toPem()).publicKey).toBe(identity.recipient.publicKey);
    const ed = generateKeyPairSync('ed25519');
    expect(failure(() => parseRecipient(ed.publicKey.export({ type: 'spki', format: 'pem' }).toString())).message).toMatch(/is a ed25519 key, not X25519/);
    expect(failure(() => parseIdentity(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).message).toMatch(/is a ed25519 key, not X25519/);
    expect(failure(() => parseRecipient(pemSecret)).message).toMatch(/A private key \(PEM\) was given/);
    expect(failure(() => parseIdentity(pemPublic)).message).toMatch(/A public key \(PEM\) was given/);
  });

  it('never prints or serialises a private key: toString, JSON and inspect show the fingerprint only', () => {
    const { privateKey, identity, publicKey } = generateRecipient();
    const shown = [String(identity), JSON.stringify(identity), inspect(identity), inspect({ identity }, { depth: 5 }), JSON.stringify({ r: identity.recipient })].join(' ');
    for (const form of secretForms(privateKey)) expect(shown).not.toContain(form);
    expect(String(identity)).toBe(`RecipientIdentity(${identity.id})`);
    expect(String(identity.recipient)).toBe(`Recipient(${identity.id})`);
    expect(JSON.parse(JSON.stringify(identity))).toEqual({ id: identity.id, publicKey });
  });
});

describe('recipient key files', () => {
  it('writes a private key file with mode 0600, its public key in a comment (as age-keygen does), and reads it back', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'dpo.key');
    const made = await writeIdentityFile(file);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toContain(`# public key: ${made.publicKey}\n`);
    expect(text).toMatch(/^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    expect(text).toContain(`\n${made.privateKey}\n`);
    expect((await readIdentityFile(file)).recipient.publicKey).toBe(made.publicKey);
    const again = await failureAsync(writeIdentityFile(file));
    expect(again.message).toMatch(/already exists/);
    expect(await readFile(file, 'utf8')).toBe(text); // not overwritten
  });

  it.skipIf(process.platform === 'win32')('refuses a private key file others can read, unless allowed', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'open.key');
    const { privateKey, publicKey } = generateRecipient();
    await writeFile(file, `${privateKey}\n`);
    await chmod(file, 0o644);
    const e = await failureAsync(readIdentityFile(file));
    expect(e.message).toMatch(/accessible to its group or other users \(mode 644\)/);
    expect(e.hint).toContain('chmod 600');
    expect((await readIdentityFile(file, { allowInsecurePermissions: true })).recipient.publicKey).toBe(publicKey);
  });

  it('names the file in errors, never its content', async () => {
    const dir = await tmp();
    const { privateKey } = generateRecipient();
    const file = path.join(dir, 'bad.key');
    await writeFile(file, `# note\n${typo(privateKey, 30)}\n`, { mode: 0o600 });
    const e = await failureAsync(readIdentityFile(file));
    expect(e.message).toContain(file);
    for (const form of secretForms(privateKey)) expect(e.toUserString()).not.toContain(form);
    expect((await failureAsync(readIdentityFile(path.join(dir, 'missing.key')))).message).toMatch(/does not exist/);
  });

  it('reads a recipients file (one key a line, comments) and names the line of a bad key', async () => {
    const dir = await tmp();
    const a = generateRecipient();
    const b = generateRecipient();
    const file = path.join(dir, 'recipients.txt');
    await writeFile(file, `# DPO\n${a.publicKey}\n\n# backup officer\n${b.publicKey}  \n`);
    expect((await readRecipientsFile(file)).map((r) => r.publicKey)).toEqual([a.publicKey, b.publicKey]);
    const e = failure(() => parseRecipients(`${a.publicKey}\n${typo(b.publicKey, 40)}\n`, 'team.txt'));
    expect(e.message).toMatch(/^team\.txt line 2: The recipient public key .* fails its checksum/);
    await writeFile(file, '# nobody yet\n');
    expect((await failureAsync(readRecipientsFile(file))).message).toMatch(/lists no public key/);
  });

  it('rewrites a key in the standard form (writeIdentityFile with an identity): age-keygen reads the same public key', async () => {
    const dir = await tmp();
    const legacy = await readIdentityFile(legacyKeyFile, { allowInsecurePermissions: true });
    const file = path.join(dir, 'dpo.age.key');
    const written = await writeIdentityFile(file, legacy);
    expect(written.publicKey).toBe(legacy.recipient.publicKey);
    expect(execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim()).toBe(legacy.recipient.publicKey);
  });
});
