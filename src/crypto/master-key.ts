/**
 * The master key (key-encryption key, KEK): 32 bytes from an environment
 * variable, a key file, or a passphrase (scrypt), held by {@link LocalMasterKey},
 * the local {@link KmsProvider}. The raw master key is used only to derive the wrap
 * key and the key id, and is then dropped. The id is a fingerprint, so it doubles as
 * the verifier: a different key (or a wrong passphrase) has a different id, and the
 * keyring reports "wrong master key" before trying to unwrap anything, instead of
 * "tampered data".
 *
 * Format (derivations, wrapped form, key text, scrypt parameters): docs/encryption.md#wrapped-data-keys
 *
 * Nothing here ever puts key bytes in a message, `toString()`, `JSON.stringify`
 * or `util.inspect` output: objects show their id only.
 */
import { createSecretKey, randomBytes, scrypt as scryptCb, type KeyObject, type ScryptOptions } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { inspect } from 'node:util';
import { CryptoError } from '../errors.js';
import { AuthenticationFailed, decodeBase64urlStrict, gcmOpen, gcmSeal, hkdf, KEY_BYTES, NONCE_BYTES, randomNonce } from './primitives.js';
import type { KmsProvider, WrapContext } from './types.js';
import { scopeName } from './format.js';

/** The environment variable Steward reads the master key from by default. */
export const DEFAULT_MASTER_KEY_ENV = 'STEWARD_MASTER_KEY';

/** scrypt parameters of a passphrase-derived master key; stored (not secret) so the key can be re-derived. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two (default 2^17 = 131072). */
  readonly N: number;
  /** Block size (default 8). */
  readonly r: number;
  /** Parallelism (default 1). */
  readonly p: number;
  /** 16 random bytes, base64url. */
  readonly salt: string;
}

export const DEFAULT_SCRYPT: Omit<ScryptParams, 'salt'> = { N: 2 ** 17, r: 8, p: 1 };

/** Fresh parameters (new random salt) for a new passphrase-derived key. */
export function newScryptParams(cost: Partial<Omit<ScryptParams, 'salt'>> = {}): ScryptParams {
  const params = { ...DEFAULT_SCRYPT, ...cost, salt: randomBytes(16).toString('base64url') };
  checkScryptParams(params);
  return params;
}

/** Rejects parameters that are malformed or would take unbounded time or memory (they come from the store). */
export function checkScryptParams(p: ScryptParams): void {
  const ok =
    Number.isInteger(p.N) && p.N >= 2 ** 10 && p.N <= 2 ** 22 && (p.N & (p.N - 1)) === 0 &&
    Number.isInteger(p.r) && p.r >= 1 && p.r <= 32 &&
    Number.isInteger(p.p) && p.p >= 1 && p.p <= 16 &&
    typeof p.salt === 'string' && (decodeBase64urlStrict(p.salt)?.length ?? 0) >= 16;
  if (!ok) {
    throw new CryptoError('CRYPTO_MASTER_KEY', 'The stored scrypt parameters of the passphrase master key are malformed or out of range', {
      hint: 'Expected N a power of two in 2^10..2^22, r 1..32, p 1..16 and a 16-byte salt; restore the state store from a backup',
    });
  }
}

function scrypt(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(passphrase.normalize('NFC'), salt, KEY_BYTES, options, (e, key) => (e ? reject(e) : resolve(key))));
}

const WRAP_SALT = 'steward';
const WRAP_INFO = 'steward/master/wrap/v1';
const ID_INFO = 'steward/master/id/v1';

/**
 * A local master key: the first {@link KmsProvider}. Wraps data keys with
 * AES-256-GCM under a key derived from the master key; the wrapped form is
 * base64url `nonce (12) ‖ wrapped key (32) ‖ tag (16)`, bound to `context.aad`.
 *
 * @example
 *   const master = await masterKeyFromEnv();            // STEWARD_MASTER_KEY, base64 or hex
 *   String(master);                                     // 'LocalMasterKey(local:Q2x…)' — never the bytes
 */
export class LocalMasterKey implements KmsProvider {
  readonly keyId: string;
  readonly kind: 'key' | 'passphrase';
  /** scrypt parameters for a passphrase key (not secret); null for a raw key. */
  readonly params: ScryptParams | null;
  readonly #wrapKey: KeyObject;

  /** Takes ownership of `master` and zeroes it. Prefer the `masterKeyFrom…` functions. */
  constructor(master: Buffer, kind: 'key' | 'passphrase' = 'key', params: ScryptParams | null = null) {
    if (master.length !== KEY_BYTES) {
      master.fill(0);
      throw new CryptoError('CRYPTO_MASTER_KEY', `A master key must be ${KEY_BYTES} bytes`, { hint: 'Generate one with `openssl rand -base64 32`' });
    }
    const wrap = hkdf(master, WRAP_SALT, WRAP_INFO);
    this.#wrapKey = createSecretKey(wrap);
    wrap.fill(0);
    this.keyId = `local:${hkdf(master, WRAP_SALT, ID_INFO, 9).toString('base64url')}`;
    master.fill(0);
    this.kind = kind;
    this.params = params;
  }

  async wrapKey(dek: Uint8Array, context: WrapContext): Promise<string> {
    const nonce = Buffer.from(randomNonce());
    return Buffer.concat([nonce, gcmSeal(this.#wrapKey, nonce, context.aad, dek)]).toString('base64url');
  }

  async unwrapKey(wrapped: string, context: WrapContext): Promise<Buffer> {
    const what = `The wrapped ${context.kind === 'dek' ? 'data key' : 'blind-index key'} ${context.keyId} version ${context.version} of ${scopeName(context.scope)}`;
    const bytes = decodeBase64urlStrict(wrapped);
    if (bytes === null || bytes.length !== NONCE_BYTES + KEY_BYTES + 16) {
      throw new CryptoError('CRYPTO_TAMPERED', `${what} is malformed in the state store`, { hint: 'Restore the state store from a backup' });
    }
    try {
      return gcmOpen(this.#wrapKey, bytes.subarray(0, NONCE_BYTES), context.aad, bytes.subarray(NONCE_BYTES));
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      throw new CryptoError('CRYPTO_TAMPERED', `${what} does not verify under master key ${this.keyId}: its stored row was changed`, {
        hint: 'Restore the state store from a backup; the master key itself is the right one (its id matches)',
      });
    }
  }

  toString(): string {
    return `LocalMasterKey(${this.keyId})`;
  }

  toJSON(): { keyId: string; kind: string } {
    return { keyId: this.keyId, kind: this.kind };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Decodes a key written as 64 hex characters or 43/44 base64/base64url characters
 * (optionally prefixed `hex:` / `base64:`), to 32 bytes; null when it is not one.
 */
export function decodeKeyText(text: string): Buffer | null {
  const t = text.trim();
  const hex = /^(?:hex:)?([0-9a-fA-F]{64})$/.exec(t);
  if (hex) return Buffer.from(hex[1]!, 'hex');
  const b64 = /^(?:base64:)?([A-Za-z0-9+/_-]{43})=?$/.exec(t);
  if (b64) {
    const buf = Buffer.from(b64[1]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === KEY_BYTES) return buf;
  }
  return null;
}

const KEY_FORMAT_HINT = 'Write 32 random bytes as 44 base64 characters (`openssl rand -base64 32`) or 64 hex characters (`openssl rand -hex 32`)';

/**
 * The master key from an environment variable (default `STEWARD_MASTER_KEY`),
 * base64 or hex.
 * @throws CryptoError `CRYPTO_MASTER_KEY` when it is unset or not a 32-byte key (the value is never echoed).
 */
export async function masterKeyFromEnv(name = DEFAULT_MASTER_KEY_ENV, env: NodeJS.ProcessEnv = process.env): Promise<LocalMasterKey> {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new CryptoError('CRYPTO_MASTER_KEY', `The master key environment variable ${name} is not set`, {
      hint: `Set ${name} to the master key (${KEY_FORMAT_HINT.charAt(0).toLowerCase()}${KEY_FORMAT_HINT.slice(1)}), or use a key file or passphrase`,
    });
  }
  const key = decodeKeyText(value);
  if (!key) {
    throw new CryptoError('CRYPTO_MASTER_KEY', `The master key in ${name} is not a 32-byte key (${value.trim().length} characters, neither 64 hex nor 44 base64)`, {
      hint: KEY_FORMAT_HINT,
    });
  }
  return new LocalMasterKey(key);
}

export interface KeyFileOptions {
  /** Accept a file that its group or others may read (default false: refused). */
  readonly allowInsecurePermissions?: boolean;
}

/**
 * The master key from a file holding base64 or hex text (trailing newline
 * allowed) or exactly 32 raw bytes. On POSIX systems a file that the group or
 * others can read or write is refused (like ssh does for private keys).
 * @throws CryptoError `CRYPTO_MASTER_KEY` when the file is missing, too open, or not a key.
 */
export async function masterKeyFromFile(file: string, options: KeyFileOptions = {}): Promise<LocalMasterKey> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CryptoError('CRYPTO_MASTER_KEY', `Cannot read the master key file ${file}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? 'unreadable')}`, {
      hint: 'Check the path, or create a key file with `openssl rand -base64 32 > key && chmod 600 key`',
      cause: e,
    });
  }
  if (!info.isFile()) {
    throw new CryptoError('CRYPTO_MASTER_KEY', `The master key file ${file} is not a regular file`, { hint: 'Point to the file holding the key' });
  }
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0 && !options.allowInsecurePermissions) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw new CryptoError('CRYPTO_MASTER_KEY', `The master key file ${file} is accessible to its group or other users (mode ${mode})`, {
      hint: `Run \`chmod 600 ${file}\` so only its owner can read it`,
    });
  }
  if (info.size > 4096) {
    throw new CryptoError('CRYPTO_MASTER_KEY', `The master key file ${file} is ${info.size} bytes, too large to be a key`, { hint: KEY_FORMAT_HINT });
  }
  const handle = await open(file, fsConstants.O_RDONLY);
  let raw: Buffer;
  try {
    raw = await handle.readFile();
  } finally {
    await handle.close();
  }
  const fromText = decodeKeyText(raw.toString('latin1'));
  if (fromText) {
    raw.fill(0);
    return new LocalMasterKey(fromText);
  }
  if (raw.length === KEY_BYTES) return new LocalMasterKey(raw);
  raw.fill(0);
  throw new CryptoError('CRYPTO_MASTER_KEY', `The master key file ${file} does not hold a 32-byte key`, { hint: KEY_FORMAT_HINT });
}

/**
 * The master key derived from a passphrase with scrypt and `params` (from the
 * state store, or {@link newScryptParams} for a new store). Takes about as long
 * as N asks (≈0.3 s at the default 2^17).
 */
export async function masterKeyFromPassphrase(passphrase: string, params: ScryptParams): Promise<LocalMasterKey> {
  checkScryptParams(params);
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new CryptoError('CRYPTO_MASTER_KEY', 'The master key passphrase is empty', { hint: 'Supply the passphrase the state store was set up with' });
  }
  const key = await scrypt(passphrase, decodeBase64urlStrict(params.salt)!, params);
  return new LocalMasterKey(key, 'passphrase', { N: params.N, r: params.r, p: params.p, salt: params.salt });
}

/** A new random master key as base64 text (for `STEWARD_MASTER_KEY` or a key file). */
export function generateMasterKeyText(): string {
  const key = randomBytes(KEY_BYTES);
  const text = key.toString('base64');
  key.fill(0);
  return text;
}

/**
 * Writes a new random master key to `file` (base64 and a newline), created with
 * mode 0600; refuses to overwrite an existing file.
 * @returns the new key, ready to use.
 */
export async function writeMasterKeyFile(file: string): Promise<LocalMasterKey> {
  const key = randomBytes(KEY_BYTES);
  let handle;
  try {
    handle = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (e) {
    key.fill(0);
    const code = (e as { code?: string }).code;
    throw new CryptoError('CRYPTO_MASTER_KEY', `Cannot create the master key file ${file}: ${code === 'EEXIST' ? 'it already exists' : (code ?? 'error')}`, {
      hint: code === 'EEXIST' ? 'Steward never overwrites a key file; choose another path or remove it yourself' : 'Check the directory exists and is writable',
      cause: e,
    });
  }
  try {
    await handle.writeFile(`${key.toString('base64')}\n`);
  } finally {
    await handle.close();
  }
  return new LocalMasterKey(key);
}
