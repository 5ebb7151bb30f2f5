/**
 * Encrypted archives, format `steward-archive/1`: files encrypted to one or more
 * recipients' X25519 public keys (hybrid encryption in the manner of age), so the
 * machine that writes an archive — holding public keys only — cannot read it
 * back. Pure: the format's encoder and decoder over buffers; streams and files
 * are in archive-stream.ts. Every primitive is Node's `crypto` (OpenSSL).
 *
 * ## Keys
 *
 * ```
 * fileKey     = 32 random bytes, fresh per archive
 * per recipient R (public key R.pub, 32 bytes):
 *   eph        = fresh X25519 key pair
 *   shared     = X25519(eph.secret, R.pub)                 (an all-zero / low-order result is refused)
 *   wrapKey    = HKDF-SHA256(ikm = shared, salt = eph.pub ‖ R.pub, info = "steward-archive/1", 32)
 *   wrapped    = AES-256-GCM(wrapKey, nonce = 12 zero bytes, aad = "", fileKey)   = 32 bytes ‖ 16-byte tag
 *               (the zero nonce is safe: wrapKey is used once, eph being fresh)
 * macKey      = HKDF-SHA256(ikm = fileKey, salt = "", info = "steward-archive/1 header", 32)
 * payloadKey  = HKDF-SHA256(ikm = fileKey, salt = prefix, info = "steward-archive/1 payload", 32)
 * ```
 *
 * ## Layout (all integers big-endian)
 *
 * ```
 * header
 *   magic        18 bytes   "steward-archive/1\n" (ASCII)
 *   count         1 byte    n, the number of recipient stanzas, 1 … 64
 *   stanza × n   88 bytes each:
 *     fingerprint  8 bytes  SHA-256("steward-archive/1 recipient" ‖ R.pub)[0..8]
 *     ephemeral   32 bytes  eph.pub
 *     wrapped     48 bytes  the file key wrapped for R
 *   prefix        7 bytes   random, fresh per archive: the payload nonce prefix
 *   mac          32 bytes   HMAC-SHA256(macKey, every header byte before the mac)
 * payload: chunks 0 … k−1, each AES-256-GCM(payloadKey, nonce_i, aad = "", plaintext_i) = ciphertext ‖ 16-byte tag
 *   nonce_i  = prefix (7) ‖ u32be(i) ‖ 0x01 for the last chunk, 0x00 for every other
 *   plaintext_i is exactly 65,536 bytes for i < k−1; the last holds 1 … 65,536 bytes,
 *   or 0 only when the whole plaintext is empty (k = 1). At most 2^32 chunks.
 * ```
 *
 * Size: `58 + 88·n` header bytes, plus 16 bytes per chunk (`max(1, ⌈len / 65536⌉)` chunks).
 *
 * The header MAC makes every header byte (including the stanzas of other
 * recipients) tamper-evident to each recipient. The payload is the STREAM
 * construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in age): the chunk
 * counter and the last-chunk flag are in the nonce, so a changed, reordered,
 * swapped, dropped, duplicated or appended chunk, and a truncation at any point
 * (including exactly at a chunk boundary), fails to authenticate. A decoder
 * releases each chunk's plaintext once that chunk authenticates; only the end of
 * the input proves nothing was cut, so callers keep the output provisional until
 * decryption finishes without error (archive-stream.ts's `decryptFile` does:
 * temporary file, renamed only on success).
 *
 * Errors (`CryptoError`): `CRYPTO_NOT_CIPHERTEXT` (empty, or not `steward-archive/1`),
 * `CRYPTO_WRONG_KEY` (no stanza opens with the given private key; names the
 * recipients' fingerprints), `CRYPTO_TAMPERED` (header, stanza or chunk does not
 * verify; truncated; data appended). Messages name fingerprints, chunk numbers
 * and byte offsets, never key material or plaintext.
 */
import { createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { AuthenticationFailed, gcmOpen, gcmSeal, hkdf, hmacSha256, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './primitives.js';
import { FINGERPRINT_BYTES, fingerprintText, parseRecipient, type Recipient, type RecipientIdentity } from './recipients.js';

/** The first bytes of every archive. */
export const ARCHIVE_MAGIC = Buffer.from('steward-archive/1\n', 'latin1');
/** Plaintext bytes per chunk. */
export const CHUNK_BYTES = 64 * 1024;
/** Most recipients one archive can be encrypted to. */
export const MAX_RECIPIENTS = 64;
const SEALED_CHUNK = CHUNK_BYTES + TAG_BYTES;
const EPHEMERAL_BYTES = 32;
const WRAPPED_BYTES = KEY_BYTES + TAG_BYTES;
const STANZA_BYTES = FINGERPRINT_BYTES + EPHEMERAL_BYTES + WRAPPED_BYTES; // 88
const PREFIX_BYTES = 7;
const MAC_BYTES = 32;
const MAX_CHUNKS = 2 ** 32;
const INFO_WRAP = 'steward-archive/1';
const INFO_MAC = 'steward-archive/1 header';
const INFO_PAYLOAD = 'steward-archive/1 payload';
const ZERO_NONCE = Buffer.alloc(NONCE_BYTES);
const EMPTY = Buffer.alloc(0);
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const ARCHIVE_HINT = 'Copy the archive again from where it was written; do not trust anything already decrypted from this copy';

/** Header bytes of an archive for `recipients` recipients. */
export function headerLength(recipients: number): number {
  return ARCHIVE_MAGIC.length + 1 + recipients * STANZA_BYTES + PREFIX_BYTES + MAC_BYTES;
}

/** The size of the archive of `plaintextBytes` bytes encrypted to `recipients` recipients. */
export function archiveLength(plaintextBytes: number, recipients: number): number {
  const chunks = Math.max(1, Math.ceil(plaintextBytes / CHUNK_BYTES));
  return headerLength(recipients) + plaintextBytes + chunks * TAG_BYTES;
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

function chunkNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.allocUnsafe(NONCE_BYTES);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, PREFIX_BYTES);
  nonce[NONCE_BYTES - 1] = last ? 1 : 0;
  return nonce;
}

function payloadKey(fileKey: Buffer, prefix: Buffer): KeyObject {
  const k = hkdf(fileKey, prefix, INFO_PAYLOAD);
  const key = createSecretKey(k);
  k.fill(0);
  return key;
}

function headerMac(fileKey: Buffer, header: Uint8Array): Buffer {
  const k = hkdf(fileKey, EMPTY, INFO_MAC);
  const mac = hmacSha256(k, header);
  k.fill(0);
  return mac;
}

/** One stanza: the file key wrapped for `recipient` under a fresh ephemeral key. */
function wrapFileKey(recipient: Recipient, fileKey: Buffer): Buffer {
  const eph = generateKeyPairSync('x25519');
  const ephPub = rawPublic(eph.publicKey);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient.keyObject() });
  } catch (e) {
    throw new CryptoError('CRYPTO_RECIPIENT_KEY', `The recipient public key ${recipient.id} is not a usable X25519 key (a low-order point)`, {
      hint: 'Ask its owner for a key made by `steward keys recipient new`',
      cause: e,
    });
  }
  const wrapKey = hkdf(shared, Buffer.concat([ephPub, recipient.raw()]), INFO_WRAP);
  shared.fill(0);
  const wrapped = gcmSeal(wrapKey, ZERO_NONCE, EMPTY, fileKey);
  wrapKey.fill(0);
  return Buffer.concat([recipient.fingerprint, ephPub, wrapped]);
}

/** The file key from `stanza` with `identity`, or null when it does not open (another key, or changed). */
function unwrapFileKey(identity: RecipientIdentity, stanza: Buffer): Buffer | null {
  const ephPub = stanza.subarray(FINGERPRINT_BYTES, FINGERPRINT_BYTES + EPHEMERAL_BYTES);
  let shared: Buffer;
  try {
    const eph = createPublicKey({ key: Buffer.concat([SPKI_X25519, ephPub]), format: 'der', type: 'spki' });
    shared = diffieHellman({ privateKey: identity.keyObject(), publicKey: eph });
  } catch {
    return null; // OpenSSL refuses a low-order point (all-zero shared secret)
  }
  const wrapKey = hkdf(shared, Buffer.concat([ephPub, identity.recipient.raw()]), INFO_WRAP);
  shared.fill(0);
  try {
    return gcmOpen(wrapKey, ZERO_NONCE, EMPTY, stanza.subarray(FINGERPRINT_BYTES + EPHEMERAL_BYTES, STANZA_BYTES));
  } catch (e) {
    if (e instanceof AuthenticationFailed) return null;
    throw e;
  } finally {
    wrapKey.fill(0);
  }
}

/**
 * Encodes one archive incrementally: feed plaintext to {@link update}, then
 * call {@link final} once; concatenate every buffer returned, in order. Holds at
 * most one chunk (64 KiB) of plaintext, whatever the input size.
 *
 * @example
 *   const enc = new ArchiveEncryptor(['stwpub1…']);
 *   const parts = [...enc.update(data), ...enc.final()];
 */
export class ArchiveEncryptor {
  /** The recipients, deduplicated, in the order given. */
  readonly recipients: readonly Recipient[];
  #header: Buffer | null;
  readonly #key: KeyObject;
  readonly #prefix: Buffer;
  readonly #pending = Buffer.allocUnsafe(CHUNK_BYTES);
  #filled = 0;
  #counter = 0;
  #finished = false;
  #plaintextBytes = 0;
  #archiveBytes = 0;

  constructor(recipients: readonly (Recipient | string)[]) {
    const list: Recipient[] = [];
    const seen = new Set<string>();
    for (const r of recipients) {
      const recipient = parseRecipient(r);
      if (!seen.has(recipient.publicKey)) list.push(recipient);
      seen.add(recipient.publicKey);
    }
    if (list.length === 0) {
      throw new CryptoError('CRYPTO_RECIPIENT_KEY', 'An archive needs at least one recipient public key', {
        hint: 'Give the stwpub1… public key of whoever may read it (`steward keys recipient new` creates a key pair)',
      });
    }
    if (list.length > MAX_RECIPIENTS) {
      throw new CryptoError('CRYPTO_RECIPIENT_KEY', `An archive can be encrypted to at most ${MAX_RECIPIENTS} recipients, not ${list.length}`, {
        hint: 'Encrypt to fewer keys, e.g. a shared team key',
      });
    }
    this.recipients = list;
    const fileKey = randomBytes(KEY_BYTES);
    this.#prefix = randomBytes(PREFIX_BYTES);
    try {
      const body = Buffer.concat([ARCHIVE_MAGIC, Buffer.of(list.length), ...list.map((r) => wrapFileKey(r, fileKey)), this.#prefix]);
      this.#header = Buffer.concat([body, headerMac(fileKey, body)]);
      this.#key = payloadKey(fileKey, this.#prefix);
    } finally {
      fileKey.fill(0);
    }
  }

  /** Plaintext bytes taken so far. */
  get plaintextBytes(): number {
    return this.#plaintextBytes;
  }

  /** Archive bytes returned so far. */
  get archiveBytes(): number {
    return this.#archiveBytes;
  }

  #seal(plaintext: Uint8Array, last: boolean): Buffer {
    if (this.#counter >= MAX_CHUNKS) throw new RangeError(`An archive holds at most 2^32 chunks (${MAX_CHUNKS * CHUNK_BYTES} bytes)`);
    const sealed = gcmSeal(this.#key, chunkNonce(this.#prefix, this.#counter, last), EMPTY, plaintext);
    this.#counter++;
    return sealed;
  }

  #emit(out: Buffer[]): Buffer[] {
    if (this.#header) {
      out.unshift(this.#header);
      this.#header = null;
    }
    for (const b of out) this.#archiveBytes += b.length;
    return out;
  }

  /** Archive bytes for `data`: the header the first time, then every chunk known not to be the last. */
  update(data: Uint8Array): Buffer[] {
    if (this.#finished) throw new Error('ArchiveEncryptor.update() after final()');
    const out: Buffer[] = [];
    this.#plaintextBytes += data.length;
    let at = 0;
    while (at < data.length) {
      if (this.#filled === CHUNK_BYTES) {
        out.push(this.#seal(this.#pending, false)); // more data follows, so this chunk is not the last
        this.#filled = 0;
      }
      if (this.#filled === 0 && data.length - at > CHUNK_BYTES) {
        out.push(this.#seal(data.subarray(at, at + CHUNK_BYTES), false)); // whole chunk straight from the input
        at += CHUNK_BYTES;
        continue;
      }
      const n = Math.min(CHUNK_BYTES - this.#filled, data.length - at);
      this.#pending.set(data.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
    }
    return this.#emit(out);
  }

  /** The rest of the archive: the header if nothing was written yet, and the last chunk. */
  final(): Buffer[] {
    if (this.#finished) throw new Error('ArchiveEncryptor.final() called twice');
    this.#finished = true;
    const last = this.#seal(this.#pending.subarray(0, this.#filled), true);
    this.#pending.fill(0);
    return this.#emit([last]);
  }
}

export interface DecryptOptions {
  /** How messages name the archive, e.g. its file name (default "The archive"). */
  readonly name?: string;
}

type Phase = 'header' | 'payload' | 'done' | 'failed';

/**
 * Decodes one archive incrementally with one of `identities`: feed archive bytes
 * to {@link update} (returns plaintext of every chunk that authenticated), then
 * call {@link final} (returns the last chunk, or throws when the archive was cut).
 * Holds at most one sealed chunk and the header, whatever the input size.
 * @throws CryptoError `CRYPTO_NOT_CIPHERTEXT`, `CRYPTO_WRONG_KEY` or `CRYPTO_TAMPERED`.
 */
export class ArchiveDecryptor {
  readonly #identities: readonly RecipientIdentity[];
  readonly #name: string;
  #phase: Phase = 'header';
  readonly #head = Buffer.alloc(headerLength(MAX_RECIPIENTS));
  #headFilled = 0;
  #headNeed = ARCHIVE_MAGIC.length + 1;
  #key: KeyObject | null = null;
  #prefix: Buffer | null = null;
  readonly #pending = Buffer.allocUnsafe(SEALED_CHUNK);
  #filled = 0;
  #counter = 0;
  #archiveBytes = 0;
  #recipient: Recipient | null = null;
  #recipientIds: string[] = [];

  constructor(identities: RecipientIdentity | readonly RecipientIdentity[], options: DecryptOptions = {}) {
    this.#identities = Array.isArray(identities) ? identities : [identities as RecipientIdentity];
    if (this.#identities.length === 0) throw new TypeError('ArchiveDecryptor needs at least one private key');
    this.#name = options.name ?? 'The archive';
  }

  /** The recipient whose stanza opened (after the header was read). */
  get recipient(): Recipient | null {
    return this.#recipient;
  }

  /** Fingerprints of every recipient the archive is encrypted to (after the header was read). */
  get recipientIds(): readonly string[] {
    return this.#recipientIds;
  }

  #fail(code: 'CRYPTO_NOT_CIPHERTEXT' | 'CRYPTO_WRONG_KEY' | 'CRYPTO_TAMPERED', message: string, hint = ARCHIVE_HINT): never {
    this.#phase = 'failed';
    this.#pending.fill(0);
    throw new CryptoError(code, `${this.#name} ${message}`, { hint });
  }

  #checkMagic(): void {
    const n = Math.min(this.#headFilled, ARCHIVE_MAGIC.length);
    if (this.#head.subarray(0, n).equals(ARCHIVE_MAGIC.subarray(0, n))) return;
    const version = /^steward-archive\/([0-9]+)/.exec(this.#head.subarray(0, n).toString('latin1'))?.[1];
    if (version !== undefined) {
      this.#fail('CRYPTO_NOT_CIPHERTEXT', `is a Steward archive of format steward-archive/${version}, which this version of Steward cannot read`, 'Upgrade Steward to read it');
    }
    this.#fail('CRYPTO_NOT_CIPHERTEXT', 'is not a Steward archive (it does not start with "steward-archive/1")', 'Check the file: Steward archives are written by Steward for your public key');
  }

  /** Consumes header bytes from `data` at `at`; returns the new offset. */
  #readHeader(data: Uint8Array, at: number): number {
    while (at < data.length && this.#phase === 'header') {
      const n = Math.min(this.#headNeed - this.#headFilled, data.length - at);
      this.#head.set(data.subarray(at, at + n), this.#headFilled);
      this.#headFilled += n;
      at += n;
      this.#checkMagic();
      if (this.#headFilled < this.#headNeed) continue;
      if (this.#headNeed === ARCHIVE_MAGIC.length + 1) {
        const count = this.#head[ARCHIVE_MAGIC.length]!;
        if (count < 1 || count > MAX_RECIPIENTS) this.#fail('CRYPTO_TAMPERED', `header lists ${count} recipients (1 to ${MAX_RECIPIENTS} are possible): it was changed or is corrupt`);
        this.#headNeed = headerLength(count);
      } else {
        this.#openHeader();
      }
    }
    return at;
  }

  #openHeader(): void {
    const head = this.#head.subarray(0, this.#headNeed);
    const count = head[ARCHIVE_MAGIC.length]!;
    const stanzas: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const start = ARCHIVE_MAGIC.length + 1 + i * STANZA_BYTES;
      stanzas.push(head.subarray(start, start + STANZA_BYTES));
    }
    this.#recipientIds = stanzas.map((s) => fingerprintText(s.subarray(0, FINGERPRINT_BYTES)));
    let fileKey: Buffer | null = null;
    // The stanzas naming one of our keys first; an unopenable one of those was changed.
    for (const identity of this.#identities) {
      for (const stanza of stanzas) {
        if (!stanza.subarray(0, FINGERPRINT_BYTES).equals(identity.recipient.fingerprint)) continue;
        fileKey = unwrapFileKey(identity, stanza);
        if (!fileKey) this.#fail('CRYPTO_TAMPERED', `has an entry for key ${identity.id} that does not verify: its header was changed or is corrupt`);
        this.#recipient = identity.recipient;
        break;
      }
      if (fileKey) break;
    }
    // Then every stanza (its fingerprint may have been changed; the header MAC then fails below).
    if (!fileKey) {
      search: for (const identity of this.#identities) {
        for (const stanza of stanzas) {
          fileKey = unwrapFileKey(identity, stanza);
          if (fileKey) {
            this.#recipient = identity.recipient;
            break search;
          }
        }
      }
    }
    if (!fileKey) {
      const ours = this.#identities.map((i) => i.id).join(', ');
      const theirs = this.#recipientIds.join(', ');
      this.#fail(
        'CRYPTO_WRONG_KEY',
        `is not encrypted to key ${ours} (the given private key): it is for ${count === 1 ? 'recipient' : `${count} recipients`} ${theirs}`,
        'Decrypt it with the private key of one of those recipients (`steward keys recipient public <key file>` shows a key\'s fingerprint)',
      );
    }
    try {
      const macAt = this.#headNeed - MAC_BYTES;
      const mac = headerMac(fileKey, head.subarray(0, macAt));
      if (!timingSafeEqual(mac, head.subarray(macAt))) this.#fail('CRYPTO_TAMPERED', 'header does not verify: it was changed after it was written');
      this.#prefix = Buffer.from(head.subarray(macAt - PREFIX_BYTES, macAt));
      this.#key = payloadKey(fileKey, this.#prefix);
    } finally {
      fileKey.fill(0);
    }
    this.#archiveBytes = this.#headNeed;
    this.#phase = 'payload';
  }

  #open(sealed: Uint8Array, last: boolean): Buffer | null {
    try {
      return gcmOpen(this.#key!, chunkNonce(this.#prefix!, this.#counter, last), EMPTY, sealed);
    } catch (e) {
      if (e instanceof AuthenticationFailed) return null;
      throw e;
    }
  }

  #chunk(sealed: Uint8Array, last: boolean): Buffer {
    if (this.#counter >= MAX_CHUNKS) this.#fail('CRYPTO_TAMPERED', `has more than 2^32 chunks: it is corrupt`);
    const plain = this.#open(sealed, last);
    const where = `chunk ${this.#counter + 1} (archive bytes ${this.#archiveBytes}…${this.#archiveBytes + sealed.length - 1})`;
    if (!plain) {
      // Name the likely cause: a last chunk followed by more data, or a middle chunk where the end should be.
      if (!last && this.#open(sealed, true)) this.#fail('CRYPTO_TAMPERED', `has data after its final chunk (${where}): something was appended to it`);
      if (last && this.#open(sealed, false)) this.#fail('CRYPTO_TAMPERED', `ends after ${where} without its final chunk: it was truncated`);
      if (last) this.#fail('CRYPTO_TAMPERED', `${where}, its last, does not verify: the archive was cut short (mid-chunk), changed or appended to`);
      this.#fail('CRYPTO_TAMPERED', `${where} does not verify: the archive was changed, its chunks reordered, or it is corrupt`);
    }
    if (last && plain.length === 0 && this.#counter > 0) this.#fail('CRYPTO_TAMPERED', `ends with an empty final chunk after ${this.#counter} chunks: it is not a valid archive`);
    this.#counter++;
    this.#archiveBytes += sealed.length;
    return plain;
  }

  /** Plaintext of every chunk of `data` that authenticated (the last chunk waits for {@link final}). */
  update(data: Uint8Array): Buffer[] {
    if (this.#phase === 'done' || this.#phase === 'failed') throw new Error(`ArchiveDecryptor.update() after ${this.#phase === 'done' ? 'final()' : 'an error'}`);
    let at = this.#phase === 'header' ? this.#readHeader(data, 0) : 0;
    const out: Buffer[] = [];
    while (at < data.length) {
      if (this.#filled === SEALED_CHUNK) {
        out.push(this.#chunk(this.#pending, false)); // more data follows, so this chunk is not the last
        this.#filled = 0;
      }
      if (this.#filled === 0 && data.length - at > SEALED_CHUNK) {
        out.push(this.#chunk(data.subarray(at, at + SEALED_CHUNK), false));
        at += SEALED_CHUNK;
        continue;
      }
      const n = Math.min(SEALED_CHUNK - this.#filled, data.length - at);
      this.#pending.set(data.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
    }
    return out;
  }

  /** The last chunk's plaintext; throws when the archive ends early or its last chunk does not verify. */
  final(): Buffer[] {
    if (this.#phase === 'done' || this.#phase === 'failed') throw new Error(`ArchiveDecryptor.final() after ${this.#phase === 'done' ? 'final()' : 'an error'}`);
    if (this.#phase === 'header') {
      if (this.#headFilled === 0) this.#fail('CRYPTO_NOT_CIPHERTEXT', 'is empty, not a Steward archive', 'Check the file: Steward archives start with "steward-archive/1"');
      this.#fail('CRYPTO_TAMPERED', `ends inside its header (after ${this.#headFilled} bytes): it was truncated`);
    }
    if (this.#filled < TAG_BYTES) {
      const after = this.#counter === 0 ? 'its header' : `chunk ${this.#counter}`;
      this.#fail('CRYPTO_TAMPERED', `ends ${this.#filled === 0 ? '' : `${this.#filled} bytes `}after ${after} without its final chunk: it was truncated`);
    }
    const last = this.#chunk(this.#pending.subarray(0, this.#filled), true);
    this.#pending.fill(0);
    this.#phase = 'done';
    return [last];
  }
}

/** Encrypts `data` to `recipients` in memory (for small data; use archive-stream.ts for files). */
export function encryptBuffer(data: Uint8Array, recipients: readonly (Recipient | string)[]): Buffer {
  const enc = new ArchiveEncryptor(recipients);
  return Buffer.concat([...enc.update(data), ...enc.final()]);
}

/** Decrypts an archive held in memory with one of `identities`. */
export function decryptBuffer(archive: Uint8Array, identities: RecipientIdentity | readonly RecipientIdentity[], options: DecryptOptions = {}): Buffer {
  const dec = new ArchiveDecryptor(identities, options);
  return Buffer.concat([...dec.update(archive), ...dec.final()]);
}

/** True when `head` (the first bytes of a file, at least 18) starts like a Steward archive. */
export function looksLikeArchive(head: Uint8Array): boolean {
  return head.length >= ARCHIVE_MAGIC.length && Buffer.from(head.buffer, head.byteOffset, ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC);
}
