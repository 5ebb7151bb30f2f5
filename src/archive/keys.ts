/**
 * Recipient keys for encrypted archives: X25519 key pairs in age's own text
 * forms, so `age`, `rage` and `age-keygen` use the same keys as Steward
 * (docs/archives.md).
 *
 * - public key (recipient): `age1…` (62 characters, Bech32 with a checksum);
 * - private key (identity): `AGE-SECRET-KEY-1…` (74 characters), in a key file
 *   as `age-keygen` writes it: `#` comment lines and the key line.
 *
 * Read too: the keys of Steward's earlier archive format, `stwpub1…` and
 * `stwsec1…` (the same X25519 keys: "stwpub1" ‖ base64url(key ‖ SHA-256("stwpub1" ‖ key)[0..4])),
 * and PEM keys from OpenSSL (`openssl genpkey -algorithm x25519`). A mistyped key
 * fails its checksum instead of encrypting to nobody.
 *
 * Steward writes a private key file with mode 0600 and refuses to read one that
 * its group or others can read (like ssh). A recipients file holds one public key
 * per line, with `#` comments (as `age -R` reads it).
 *
 * A key's fingerprint, `SHA-256("steward-archive/1 recipient" ‖ pub)[0..8]` as 11
 * base64url characters, names it in manifests and messages (age headers do not
 * name their recipients). Nothing here ever puts private key bytes or text in a
 * message, `toString()`, `JSON.stringify` or `util.inspect` output.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { inspect } from 'node:util';
import { decodeBase64urlStrict } from '../crypto/primitives.js';
import { CryptoError } from '../errors.js';
import { bech32Decode, bech32Encode } from './bech32.js';

/** Prefix of an age X25519 recipient. */
export const PUBLIC_KEY_PREFIX = 'age1';
/** Prefix of an age X25519 identity. */
export const PRIVATE_KEY_PREFIX = 'AGE-SECRET-KEY-1';
/** Prefixes of the keys of Steward's earlier archive format (read, never written). */
export const LEGACY_PUBLIC_KEY_PREFIX = 'stwpub1';
export const LEGACY_PRIVATE_KEY_PREFIX = 'stwsec1';
const AGE_PUBLIC_HRP = 'age';
const AGE_SECRET_HRP = 'age-secret-key-';
const X25519_BYTES = 32;
const LEGACY_CHECK_BYTES = 4;
const LEGACY_TEXT_CHARS = LEGACY_PUBLIC_KEY_PREFIX.length + ((X25519_BYTES + LEGACY_CHECK_BYTES) / 3) * 4; // 55
/** Bytes of a recipient fingerprint. */
export const FINGERPRINT_BYTES = 8;
const FINGERPRINT_DOMAIN = 'steward-archive/1 recipient';

// DER framing of a raw X25519 key (RFC 8410): fixed prefixes, then the 32 key bytes.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

const PUBLIC_HINT = 'A recipient public key is age1 followed by 58 characters (from `steward keys recipient new` or `age-keygen`); copy it again from its owner';
const PRIVATE_HINT = 'A private key is AGE-SECRET-KEY-1 followed by 58 characters, as `steward keys recipient new` (or `age-keygen`) writes it';

function legacyChecksum(prefix: string, key: Uint8Array): Buffer {
  return createHash('sha256').update(prefix).update(key).digest().subarray(0, LEGACY_CHECK_BYTES);
}

/** The 32 key bytes of a `stwpub1…`/`stwsec1…` text, or why not; never echoes the text. */
function decodeLegacyText(text: string, prefix: string): Buffer | 'shape' | 'checksum' {
  if (text.length !== LEGACY_TEXT_CHARS || !text.startsWith(prefix)) return 'shape';
  const bytes = decodeBase64urlStrict(text.slice(prefix.length));
  if (bytes === null || bytes.length !== X25519_BYTES + LEGACY_CHECK_BYTES) return 'shape';
  const key = bytes.subarray(0, X25519_BYTES);
  const ok = legacyChecksum(prefix, key).equals(bytes.subarray(X25519_BYTES));
  const out = ok ? Buffer.from(key) : null;
  bytes.fill(0);
  return out ?? 'checksum';
}

/** The 32 key bytes of an age key text with Bech32 prefix `hrp`, or why not. */
function decodeAgeText(text: string, hrp: string): Buffer | 'shape' | 'checksum' {
  const d = bech32Decode(text);
  if (typeof d === 'string') return d;
  if (d.prefix !== hrp || d.bytes.length !== X25519_BYTES) {
    d.bytes.fill(0);
    return 'shape';
  }
  return d.bytes;
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
  /** The `age1…` text. */
  readonly publicKey: string;
  /** 8 bytes naming the key in manifests (and in headers of the earlier format). */
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
    this.publicKey = bech32Encode(AGE_PUBLIC_HRP, this.#raw);
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

  /** The public key as PEM (SPKI), for tools other than Steward and age. */
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
  #webKey: Promise<webcrypto.CryptoKey> | null = null;

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

  /** The key as a non-extractable WebCrypto key (what the age library takes, instead of the secret text). */
  cryptoKey(): Promise<webcrypto.CryptoKey> {
    this.#webKey ??= (async () => {
      const der = this.#key.export({ format: 'der', type: 'pkcs8' });
      try {
        return await webcrypto.subtle.importKey('pkcs8', der, { name: 'X25519' }, false, ['deriveBits']);
      } finally {
        der.fill(0);
      }
    })();
    return this.#webKey;
  }

  /** The `AGE-SECRET-KEY-1…` text: secret. */
  toText(): string {
    const d = Buffer.from(this.#key.export({ format: 'jwk' }).d!, 'base64url');
    const text = bech32Encode(AGE_SECRET_HRP, d).toUpperCase();
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
  /** `age1…` (62 characters). */
  readonly publicKey: string;
  /** `AGE-SECRET-KEY-1…` (74 characters): secret. */
  readonly privateKey: string;
  readonly identity: RecipientIdentity;
}

/** A fresh X25519 key pair. */
export function generateRecipient(): GeneratedRecipient {
  const { privateKey } = generateKeyPairSync('x25519');
  const identity = new RecipientIdentity(privateKey);
  return { publicKey: identity.recipient.publicKey, privateKey: identity.toText(), identity };
}

/** Shows a key text without revealing it: its first characters (public keys only) and its length. */
function describeText(text: string, secret: boolean): string {
  const shown = secret ? '' : text.slice(0, 9);
  return secret || text.length <= shown.length ? `(${text.length} characters)` : `"${shown}…" (${text.length} characters)`;
}

const isPrivateText = (t: string) => t.toUpperCase().startsWith('AGE-SECRET-KEY') || t.startsWith(LEGACY_PRIVATE_KEY_PREFIX);

/**
 * A recipient from its `age1…` text, a `stwpub1…` key of the earlier format, or
 * a PEM public key (SPKI, X25519).
 * @throws CryptoError `CRYPTO_RECIPIENT_KEY` for a malformed or mistyped key, a kind of age recipient
 *   other than X25519, or a private key given instead.
 */
export function parseRecipient(text: string | Recipient): Recipient {
  if (text instanceof Recipient) return text;
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.startsWith('-----BEGIN')) return recipientFromPem(t);
  if (isPrivateText(t)) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `A private key was given where a recipient public key (age1…) was expected ${describeText(t, true)}`, {
      hint: 'Give the public key (`steward keys recipient public <private key file>` or `age-keygen -y <file>` prints it) and keep the private key away from the machine that writes archives',
    });
  }
  if (t.startsWith(LEGACY_PUBLIC_KEY_PREFIX)) {
    const raw = decodeLegacyText(t, LEGACY_PUBLIC_KEY_PREFIX);
    if (raw === 'checksum') throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} fails its checksum: it was mistyped or cut`, { hint: PUBLIC_HINT });
    if (raw === 'shape') throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} is not ${LEGACY_TEXT_CHARS} characters of base64url`, { hint: PUBLIC_HINT });
    return new Recipient(raw);
  }
  if (t.toLowerCase().startsWith(PUBLIC_KEY_PREFIX) && t.lastIndexOf('1') > 3) {
    // The Bech32 prefix runs to the last "1": age1pq1…, age1tag1…, age1yubikey1… are other kinds of recipient.
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient ${describeText(t, false)} is an age recipient of a kind other than X25519 (post-quantum, tag or plugin)`, {
      hint: 'Steward encrypts archives to X25519 keys: age1 followed by 58 characters, as `age-keygen` or `steward keys recipient new` makes them',
    });
  }
  const raw = t.toLowerCase().startsWith(PUBLIC_KEY_PREFIX) ? decodeAgeText(t, AGE_PUBLIC_HRP) : null;
  if (raw === 'checksum') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} fails its checksum: it was mistyped or cut`, { hint: PUBLIC_HINT });
  }
  if (raw === 'shape' || raw === null) {
    const why = raw === null ? 'does not start with age1' : 'is not age1 followed by 58 Bech32 characters';
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${describeText(t, false)} ${why}`, { hint: PUBLIC_HINT });
  }
  return new Recipient(raw);
}

function recipientFromPem(pem: string): Recipient {
  if (pem.includes('PRIVATE KEY')) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'A private key (PEM) was given where a recipient public key was expected', {
      hint: 'Give the public key (`openssl pkey -in key.pem -pubout`) and keep the private key away from the machine that writes archives',
    });
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'The recipient PEM key cannot be read as a public key', { hint: PUBLIC_HINT, cause: e });
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient PEM key is a ${key.asymmetricKeyType ?? 'unknown'} key, not X25519`, {
      hint: 'Create an X25519 key with `steward keys recipient new` (or `age-keygen`)',
    });
  }
  return new Recipient(rawPublic(key));
}

function identityFromRaw(raw: Buffer): RecipientIdentity {
  const der = Buffer.concat([PKCS8_X25519, raw]);
  raw.fill(0);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  return new RecipientIdentity(key);
}

/**
 * A private key from its `AGE-SECRET-KEY-1…` text, the contents of a key file
 * (`#` comments and one key line, as `age-keygen` writes it), a `stwsec1…` key of
 * the earlier format, or a PEM private key (PKCS#8, X25519).
 * @throws CryptoError `CRYPTO_RECIPIENT_KEY` for anything else; the message never contains the text.
 */
export function parseIdentity(text: string): RecipientIdentity {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.startsWith('-----BEGIN')) return identityFromPem(t);
  const lines = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key holds ${lines.length} key lines; expected exactly one`, { hint: PRIVATE_HINT });
  }
  const line = lines[0]!;
  if (line.toLowerCase().startsWith(PUBLIC_KEY_PREFIX) || line.startsWith(LEGACY_PUBLIC_KEY_PREFIX)) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'A public key (age1…) was given where a private key was expected', {
      hint: 'Decrypting needs the private key (AGE-SECRET-KEY-1…) that belongs to the public key the archive was encrypted to',
    });
  }
  if (line.startsWith(LEGACY_PRIVATE_KEY_PREFIX)) {
    const raw = decodeLegacyText(line, LEGACY_PRIVATE_KEY_PREFIX);
    if (raw === 'checksum') throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} fails its checksum: it was changed or cut`, { hint: PRIVATE_HINT });
    if (raw === 'shape') throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} is not stwsec1 followed by 48 base64url characters`, { hint: PRIVATE_HINT });
    return identityFromRaw(raw);
  }
  if (/^AGE-SECRET-KEY-(PQ-|PLUGIN-)/i.test(line)) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} is an age identity of a kind other than X25519 (post-quantum or plugin)`, { hint: PRIVATE_HINT });
  }
  const raw = line.toUpperCase().startsWith(PRIVATE_KEY_PREFIX) ? decodeAgeText(line, AGE_SECRET_HRP) : 'shape';
  if (raw === 'checksum') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} fails its checksum: it was changed or cut`, { hint: PRIVATE_HINT });
  }
  if (raw === 'shape') {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The private key ${describeText(line, true)} is not AGE-SECRET-KEY-1 followed by 58 Bech32 characters`, { hint: PRIVATE_HINT });
  }
  return identityFromRaw(raw);
}

function identityFromPem(pem: string): RecipientIdentity {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    const pub = pem.includes('PUBLIC KEY');
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', pub ? 'A public key (PEM) was given where a private key was expected' : 'The PEM private key cannot be read (encrypted PEM keys are not supported)', {
      hint: 'Give the unencrypted X25519 private key (PKCS#8 PEM, or AGE-SECRET-KEY-1… from `steward keys recipient new`)',
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

/** The `age1…` public key belonging to a private key (text or key file contents). */
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
 * Reads a private key file (as {@link writeIdentityFile} or `age-keygen` writes
 * it, a `stwsec1…` file of the earlier format, or a PEM X25519 private key). On
 * POSIX systems a file its group or others can read or write is refused.
 */
export async function readIdentityFile(file: string, options: IdentityFileOptions = {}): Promise<RecipientIdentity> {
  const hint = 'Point --key to the private key file `steward keys recipient new --out` (or `age-keygen -o`) wrote';
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

/** Parses a recipients list: one public key per line (`age1…`), `#` comments and blank lines ignored. */
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
  const text = (await readSmallFile(file, 'recipients file', 'List one age1… public key per line')).toString('utf8');
  if (text.trim().startsWith('-----BEGIN')) return [parseRecipient(text)];
  const list = parseRecipients(text, file);
  if (list.length === 0) throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipients file ${file} lists no public key`, { hint: 'List one age1… public key per line' });
  return list;
}

/** The private key file's text, as `age-keygen` writes it: comments (creation time, public key) and the key line. */
export function identityFileText(identity: RecipientIdentity, created = new Date()): string {
  return [
    '# Steward archive recipient key (age X25519). Secret: whoever holds it can read archives encrypted to it.',
    `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    `# public key: ${identity.recipient.publicKey}`,
    identity.toText(),
    '',
  ].join('\n');
}

/**
 * Writes a private key to `file` (created with mode 0600; an existing file is
 * never overwritten): a new one, or `identity` (to rewrite a key of the earlier
 * format in the standard form).
 * @returns the key pair written.
 */
export async function writeIdentityFile(file: string, identity?: RecipientIdentity): Promise<GeneratedRecipient> {
  const written = identity ? { publicKey: identity.recipient.publicKey, privateKey: identity.toText(), identity } : generateRecipient();
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
    await handle.writeFile(identityFileText(written.identity));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return written;
}
