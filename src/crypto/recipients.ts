/**
 * Recipient keys for encrypted archives (see archive.ts): X25519 key pairs, as
 * short checksummed text so a mistyped key is caught instead of silently
 * encrypting to nobody.
 *
 * ## Text forms
 *
 * ```
 * public key:  stwpub1<48 base64url chars>   = "stwpub1" ‖ b64url(pub (32) ‖ check (4))
 * private key: stwsec1<48 base64url chars>   = "stwsec1" ‖ b64url(sec (32) ‖ check (4))
 * check = SHA-256(prefix ‖ key)[0..4]        (prefix = the 7 ASCII bytes "stwpub1" / "stwsec1")
 * ```
 *
 * 55 characters each; base64url is case-sensitive and the 32-bit check catches a
 * changed, dropped or swapped character (and a public key pasted where a private
 * one is expected, or the reverse: the prefixes differ). PEM keys from OpenSSL are
 * accepted too (`openssl genpkey -algorithm x25519`: PKCS#8 private, SPKI public).
 *
 * A private key file holds `#` comment lines and one `stwsec1…` line (or a PEM
 * private key); Steward writes it with mode 0600 and refuses to read one that its
 * group or others can read (like ssh). A recipients file holds one public key per
 * line, with `#` comments.
 *
 * The fingerprint of a public key, `SHA-256("steward-archive/1 recipient" ‖ pub)[0..8]`,
 * names the key in archive headers, messages and `toString()` (11 base64url
 * characters). Nothing here ever puts private key bytes or text in a message,
 * `toString()`, `JSON.stringify` or `util.inspect` output.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { inspect } from 'node:util';
import { CryptoError } from '../errors.js';
import { decodeBase64urlStrict } from './primitives.js';

export const PUBLIC_KEY_PREFIX = 'stwpub1';
export const PRIVATE_KEY_PREFIX = 'stwsec1';
const X25519_BYTES = 32;
const CHECK_BYTES = 4;
const KEY_TEXT_CHARS = PUBLIC_KEY_PREFIX.length + ((X25519_BYTES + CHECK_BYTES) / 3) * 4; // 55
/** Bytes of a recipient fingerprint (as stored in archive headers). */
export const FINGERPRINT_BYTES = 8;
const FINGERPRINT_DOMAIN = 'steward-archive/1 recipient';

// DER framing of a raw X25519 key (RFC 8410): fixed prefixes, then the 32 key bytes.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

const PUBLIC_HINT = `A recipient public key is ${KEY_TEXT_CHARS} characters: stwpub1 followed by 48 base64url characters (from \`steward keys recipient new\`); copy it again from its owner`;

function checksum(prefix: string, key: Uint8Array): Buffer {
  return createHash('sha256').update(prefix).update(key).digest().subarray(0, CHECK_BYTES);
}

function encodeKeyText(prefix: string, key: Uint8Array): string {
  return prefix + Buffer.concat([key, checksum(prefix, key)]).toString('base64url');
}

/** The 32 key bytes of `text` (`prefix` + 48 base64url), or why not; never echoes the text. */
function decodeKeyText(text: string, prefix: string): Buffer | 'shape' | 'checksum' {
  if (text.length !== KEY_TEXT_CHARS || !text.startsWith(prefix)) return 'shape';
  const bytes = decodeBase64urlStrict(text.slice(prefix.length));
  if (bytes === null || bytes.length !== X25519_BYTES + CHECK_BYTES) return 'shape';
  const key = bytes.subarray(0, X25519_BYTES);
  if (!checksum(prefix, key).equals(bytes.subarray(X25519_BYTES))) {
    bytes.fill(0);
    return 'checksum';
  }
  const out = Buffer.from(key);
  bytes.fill(0);
  return out;
}

/** The fingerprint of a raw X25519 public key. */
export function fingerprintOf(publicKey: Uint8Array): Buffer {
  return createHash('sha256').update(FINGERPRINT_DOMAIN).update(publicKey).digest().subarray(0, FINGERPRINT_BYTES);
}

/** A fingerprint as text (11 base64url characters). */
export function fingerprintText(fingerprint: Uint8Array): string {
  return Buffer.from(fingerprint).toString('base64url');
}

function rawPublic(key: KeyObject): Buffer {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new TypeError('not an X25519 key');
  return Buffer.from(x, 'base64url');
}

/**
 * Someone archives can be encrypted to: an X25519 public key. Public, so it may
 * be printed; it still prints as its fingerprint to keep logs short.
 */
export class Recipient {
  /** The `stwpub1…` text. */
  readonly publicKey: string;
  /** 8 bytes naming the key in archive headers. */
  readonly fingerprint: Buffer;
  /** 11 base64url characters of the fingerprint. */
  readonly id: string;
  readonly #raw: Buffer;
  readonly #key: KeyObject;

  /** Use {@link parseRecipient} (text) or {@link RecipientIdentity.recipient}. */
  constructor(raw: Uint8Array) {
    if (raw.length !== X25519_BYTES) throw new RangeError(`An X25519 public key is ${X25519_BYTES} bytes`);
    this.#raw = Buffer.from(raw);
    this.#key = createPublicKey({ key: Buffer.concat([SPKI_X25519, this.#raw]), format: 'der', type: 'spki' });
    this.publicKey = encodeKeyText(PUBLIC_KEY_PREFIX, this.#raw);
    this.fingerprint = fingerprintOf(this.#raw);
    this.id = fingerprintText(this.fingerprint);
  }

  /** The 32 raw public key bytes (a copy). */
  raw(): Buffer {
    return Buffer.from(this.#raw);
  }

  /** The Node key object (for `crypto.diffieHellman`). */
  keyObject(): KeyObject {
    return this.#key;
  }

  /** The public key as PEM (SPKI), for tools other than Steward. */
  toPem(): string {
    return this.#key.export({ format: 'pem', type: 'spki' }).toString();
  }

  toString(): string {
    return `Recipient(${this.id})`;
  }

  toJSON(): { id: string; publicKey: string } {
    return { id: this.id, publicKey: this.publicKey };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * The private half: decrypts archives encrypted to {@link recipient}. Never
 * prints or serialises its secret; only {@link toText} returns it.
 */
export class RecipientIdentity {
  readonly recipient: Recipient;
  readonly #key: KeyObject;

  /** Use {@link parseIdentity}, {@link readIdentityFile} or {@link generateRecipient}. */
  constructor(key: KeyObject) {
    if (key.type !== 'private' || key.asymmetricKeyType !== 'x25519') throw new TypeError('not an X25519 private key');
    this.#key = key;
    this.recipient = new Recipient(rawPublic(createPublicKey(key)));
  }

  /** 11 base64url characters: the fingerprint of the public key. */
  get id(): string {
    return this.recipient.id;
  }

  /** The Node key object (for `crypto.diffieHellman`). */
  keyObject(): KeyObject {
    return this.#key;
  }

  /** The `stwsec1…` text: secret. */
  toText(): string {
    const d = Buffer.from(this.#key.export({ format: 'jwk' }).d!, 'base64url');
    const text = encodeKeyText(PRIVATE_KEY_PREFIX, d);
    d.fill(0);
    return text;
  }

  toString(): string {
    return `RecipientIdentity(${this.id})`;
  }

  toJSON(): { id: string; publicKey: string } {
    return { id: this.id, publicKey: this.recipient.publicKey };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A new key pair: give `publicKey` to whoever writes archives, keep `privateKey` secret. */
export interface GeneratedRecipient {
  /** `stwpub1…` (55 characters). */
  readonly publicKey: string;
  /** `stwsec1…` (55 characters): secret. */
  readonly privateKey: string;
  readonly identity: RecipientIdentity;
}

/** A fresh X25519 key pair. */
export function generateRecipient(): GeneratedRecipient {
  const { privateKey } = generateKeyPairSync('x25519');
  const identity = new RecipientIdentity(privateKey);
  return { publicKey: identity.recipient.publicKey, privateKey: identity.toText(), identity };
}

/** Shows a key text without revealing it: its first characters (a prefix only) and its length. */
function describeText(text: string, secret: boolean): string {
  const shown = secret ? '' : text.slice(0, Math.min(12, PUBLIC_KEY_PREFIX.length + 5));
  return secret || text.length <= shown.length ? `(${text.length} characters)` : `"${shown}…" (${text.length} characters)`;
}

/**
 * A recipient from its `stwpub1…` text or a PEM public key (SPKI, X25519).
 * @throws CryptoError `CRYPTO_RECIPIENT_KEY` for a malformed or mistyped key, or a private key given instead.
 */
export function parseRecipient(text: string | Recipient): Recipient {
  if (text instanceof Recipient) return text;
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.startsWith('-----BEGIN')) return recipientFromPem(t);
  if (t.startsWith(PRIVATE_KEY_PREFIX) || t.startsWith('AGE-SECRET-KEY')) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `A private key was given where a recipient public key (stwpub1…) was expected ${describeText(t, true)}`, {
      hint: 'Give the public key (`steward keys recipient public <private key file>` prints it) and keep the private key away from the machine that writes archives',
    });
  }
  const raw = decodeKeyText(t, PUBLIC_KEY_PREFIX);
  if (raw === 'checksum') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} fails its checksum: it was mistyped or cut`, { hint: PUBLIC_HINT });
  }
  if (raw === 'shape') {
    const why = t.startsWith(PUBLIC_KEY_PREFIX) ? `is not ${KEY_TEXT_CHARS} characters of base64url` : 'does not start with stwpub1';
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} ${why}`, { hint: PUBLIC_HINT });
  }
  return new Recipient(raw);
}

function recipientFromPem(pem: string): Recipient {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'The recipient PEM key cannot be read as a public key', { hint: PUBLIC_HINT, cause: e });
  }
  if (pem.includes('PRIVATE KEY')) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'A private key (PEM) was given where a recipient public key was expected', {
      hint: 'Give the public key (`openssl pkey -in key.pem -pubout`) and keep the private key away from the machine that writes archives',
    });
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient PEM key is a ${key.asymmetricKeyType ?? 'unknown'} key, not X25519`, {
      hint: 'Create an X25519 key with `steward keys recipient new` (or `openssl genpkey -algorithm x25519`)',
    });
  }
  return new Recipient(rawPublic(key));
}

/**
 * A private key from its `stwsec1…` text, the contents of a key file (`#`
 * comments and one key line), or a PEM private key (PKCS#8, X25519).
 * @throws CryptoError `CRYPTO_RECIPIENT_KEY` for anything else; the message never contains the text.
 */
export function parseIdentity(text: string): RecipientIdentity {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.startsWith('-----BEGIN')) return identityFromPem(t);
  const lines = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const hint = 'A private key is stwsec1 followed by 48 base64url characters, as `steward keys recipient new` writes it';
  if (lines.length !== 1) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key holds ${lines.length} key lines; expected exactly one`, { hint });
  }
  const line = lines[0]!;
  if (line.startsWith(PUBLIC_KEY_PREFIX)) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'A public key (stwpub1…) was given where a private key was expected', {
      hint: 'Decrypting needs the private key (stwsec1…) that belongs to the public key the archive was encrypted to',
    });
  }
  const raw = decodeKeyText(line, PRIVATE_KEY_PREFIX);
  if (raw === 'checksum') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} fails its checksum: it was changed or cut`, { hint });
  }
  if (raw === 'shape') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} is not stwsec1 followed by 48 base64url characters`, { hint });
  }
  const der = Buffer.concat([PKCS8_X25519, raw]);
  raw.fill(0);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  return new RecipientIdentity(key);
}

function identityFromPem(pem: string): RecipientIdentity {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    const pub = pem.includes('PUBLIC KEY');
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', pub ? 'A public key (PEM) was given where a private key was expected' : 'The PEM private key cannot be read (encrypted PEM keys are not supported)', {
      hint: 'Give the unencrypted X25519 private key (PKCS#8 PEM, or stwsec1… from `steward keys recipient new`)',
      cause: e,
    });
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The PEM private key is a ${key.asymmetricKeyType ?? 'unknown'} key, not X25519`, {
      hint: 'Archives are encrypted to X25519 keys: create one with `steward keys recipient new`',
    });
  }
  return new RecipientIdentity(key);
}

/** The `stwpub1…` public key belonging to a private key (text or key file contents). */
export function publicKeyOf(privateKey: string | RecipientIdentity): string {
  return (privateKey instanceof RecipientIdentity ? privateKey : parseIdentity(privateKey)).recipient.publicKey;
}

export interface IdentityFileOptions {
  /** Accept a file that its group or others may read (default false: refused). */
  readonly allowInsecurePermissions?: boolean;
}

const MAX_KEY_FILE = 16 * 1024;

async function readSmallFile(file: string, what: string, hint: string): Promise<Buffer> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `Cannot read the ${what} ${file}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? 'unreadable')}`, { hint, cause: e });
  }
  if (!info.isFile()) throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The ${what} ${file} is not a regular file`, { hint });
  if (info.size > MAX_KEY_FILE) throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The ${what} ${file} is ${info.size} bytes, too large to be a key file`, { hint });
  const handle = await open(file, fsConstants.O_RDONLY);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Reads a private key file (as {@link writeIdentityFile} writes it, or a PEM
 * X25519 private key). On POSIX systems a file its group or others can read or
 * write is refused.
 */
export async function readIdentityFile(file: string, options: IdentityFileOptions = {}): Promise<RecipientIdentity> {
  const hint = 'Point --key to the private key file `steward keys recipient new --out` wrote';
  const info = await stat(file).catch(() => null);
  if (info && process.platform !== 'win32' && (info.mode & 0o077) !== 0 && !options.allowInsecurePermissions) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key file ${file} is accessible to its group or other users (mode ${mode})`, {
      hint: `Run \`chmod 600 ${file}\` so only its owner can read it`,
    });
  }
  const raw = await readSmallFile(file, 'private key file', hint);
  try {
    return parseIdentity(raw.toString('utf8'));
  } catch (e) {
    if (e instanceof CryptoError) throw new CryptoError(e.code as 'CRYPTO_RECIPIENT_KEY', `${file}: ${e.message}`, { hint: e.hint ?? hint });
    throw e;
  } finally {
    raw.fill(0);
  }
}

/** Parses a recipients list: one public key per line (`stwpub1…`), `#` comments and blank lines ignored. */
export function parseRecipients(text: string, source = 'the recipients list'): Recipient[] {
  const out: Recipient[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      out.push(parseRecipient(line));
    } catch (e) {
      if (e instanceof CryptoError) throw new CryptoError('CRYPTO_RECIPIENT_KEY', `${source} line ${i + 1}: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}) });
      throw e;
    }
  }
  return out;
}

/** Reads a recipients file (see {@link parseRecipients}); a PEM public key file is one recipient. */
export async function readRecipientsFile(file: string): Promise<Recipient[]> {
  const text = (await readSmallFile(file, 'recipients file', 'List one stwpub1… public key per line')).toString('utf8');
  if (text.trim().startsWith('-----BEGIN')) return [parseRecipient(text)];
  const list = parseRecipients(text, file);
  if (list.length === 0) throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipients file ${file} lists no public key`, { hint: 'List one stwpub1… public key per line' });
  return list;
}

/** The private key file's text: comments (creation time, public key) and the `stwsec1…` line. */
export function identityFileText(identity: RecipientIdentity, created = new Date()): string {
  return [
    '# Steward archive recipient key (X25519). Secret: whoever holds it can read archives encrypted to it.',
    `# created: ${created.toISOString()}`,
    `# public key: ${identity.recipient.publicKey}`,
    identity.toText(),
    '',
  ].join('\n');
}

/**
 * Writes a new private key to `file` (created with mode 0600; an existing file
 * is never overwritten).
 * @returns the new key pair.
 */
export async function writeIdentityFile(file: string): Promise<GeneratedRecipient> {
  const generated = generateRecipient();
  let handle;
  try {
    handle = await open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `Cannot create the private key file ${file}: ${code === 'EEXIST' ? 'it already exists' : (code ?? 'error')}`, {
      hint: code === 'EEXIST' ? 'Steward never overwrites a key file; choose another path or remove it yourself' : 'Check the directory exists and is writable',
      cause: e,
    });
  }
  try {
    await handle.writeFile(identityFileText(generated.identity));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return generated;
}
