/**
 * The encoder of Steward's earlier archive format, `steward-archive/1`, kept for
 * tests only: Steward now writes age files and only reads this format
 * (src/archive/legacy.ts), so its decoder is still tested against every kind of
 * tampering with archives this encoder writes. Moved here unchanged from
 * src/crypto/archive.ts.
 */
import { createSecretKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { gcmSeal, hkdf, hmacSha256, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from '../../src/crypto/primitives.js';
import { CryptoError } from '../../src/errors.js';
import { parseRecipient, type Recipient } from '../../src/archive/keys.js';
import { CHUNK_BYTES, headerLength, LEGACY_MAGIC as ARCHIVE_MAGIC, MAX_RECIPIENTS } from '../../src/archive/legacy.js';

const PREFIX_BYTES = 7;
const MAX_CHUNKS = 2 ** 32;
const INFO_WRAP = 'steward-archive/1';
const INFO_MAC = 'steward-archive/1 header';
const INFO_PAYLOAD = 'steward-archive/1 payload';
const ZERO_NONCE = Buffer.alloc(NONCE_BYTES);
const EMPTY = Buffer.alloc(0);

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

/** Encrypts `data` to `recipients` in memory, in the earlier format. */
export function legacyEncrypt(data: Uint8Array, recipients: readonly (Recipient | string)[]): Buffer {
  const enc = new ArchiveEncryptor(recipients);
  return Buffer.concat([...enc.update(data), ...enc.final()]);
}
