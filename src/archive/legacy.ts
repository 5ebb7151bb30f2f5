/**
 * Reading archives of Steward's earlier format, `steward-archive/1` (files
 * ending `.stwa`, written before archives became age files): the decoder only;
 * nothing writes this format any more. The format is specified in
 * docs/archives.md ("The earlier file format"). Every primitive is Node's `crypto`.
 *
 * Errors (`CryptoError`): `CRYPTO_NOT_CIPHERTEXT` (empty, or not `steward-archive/1`),
 * `CRYPTO_WRONG_KEY` (no stanza opens with the given private key; names the
 * recipients' fingerprints), `CRYPTO_TAMPERED` (header, stanza or chunk does not
 * verify; truncated; data appended). Messages name fingerprints, chunk numbers
 * and byte offsets, never key material or plaintext.
 */
import { createPublicKey, createSecretKey, diffieHellman, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { AuthenticationFailed, gcmOpen, hkdf, hmacSha256, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from '../crypto/primitives.js';
import { FINGERPRINT_BYTES, fingerprintText, type Recipient, type RecipientIdentity } from './keys.js';

/** The first bytes of every archive of this format. */
export const LEGACY_MAGIC = Buffer.from('steward-archive/1\n', 'latin1');
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
  return LEGACY_MAGIC.length + 1 + recipients * STANZA_BYTES + PREFIX_BYTES + MAC_BYTES;
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
export class LegacyDecryptor {
  readonly #identities: readonly RecipientIdentity[];
  readonly #name: string;
  #phase: Phase = 'header';
  readonly #head = Buffer.alloc(headerLength(MAX_RECIPIENTS));
  #headFilled = 0;
  #headNeed = LEGACY_MAGIC.length + 1;
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
    if (this.#identities.length === 0) throw new TypeError('LegacyDecryptor needs at least one private key');
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
    const n = Math.min(this.#headFilled, LEGACY_MAGIC.length);
    if (this.#head.subarray(0, n).equals(LEGACY_MAGIC.subarray(0, n))) return;
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
      if (this.#headNeed === LEGACY_MAGIC.length + 1) {
        const count = this.#head[LEGACY_MAGIC.length]!;
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
    const count = head[LEGACY_MAGIC.length]!;
    const stanzas: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const start = LEGACY_MAGIC.length + 1 + i * STANZA_BYTES;
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
    if (this.#phase === 'done' || this.#phase === 'failed') throw new Error(`LegacyDecryptor.update() after ${this.#phase === 'done' ? 'final()' : 'an error'}`);
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
    if (this.#phase === 'done' || this.#phase === 'failed') throw new Error(`LegacyDecryptor.final() after ${this.#phase === 'done' ? 'final()' : 'an error'}`);
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

/** Decrypts an archive of this format held in memory with one of `identities`. */
export function decryptLegacyBuffer(archive: Uint8Array, identities: RecipientIdentity | readonly RecipientIdentity[], options: DecryptOptions = {}): Buffer {
  const dec = new LegacyDecryptor(identities, options);
  return Buffer.concat([...dec.update(archive), ...dec.final()]);
}

/** True when `head` (the first bytes of a file) starts like an archive of this format. */
export function looksLikeLegacy(head: Uint8Array): boolean {
  return head.length >= LEGACY_MAGIC.length && Buffer.from(head.buffer, head.byteOffset, LEGACY_MAGIC.length).equals(LEGACY_MAGIC);
}

/**
 * What the header of a `steward-archive/1` file says without a private key: the
 * fingerprints of its recipients. A string says why `head` is not such a header.
 * `head` must hold at least the whole header (`headerLength(64)` bytes suffice).
 */
export function inspectLegacyHeader(head: Uint8Array, fileBytes: number): { recipients: string[]; headerBytes: number } | string {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < LEGACY_MAGIC.length + 1 || !b.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) return 'it is not a steward-archive/1 file';
  const n = b[LEGACY_MAGIC.length]!;
  if (n < 1 || n > MAX_RECIPIENTS) return `its header lists ${n} recipients (1 to ${MAX_RECIPIENTS} are possible)`;
  const headerBytes = headerLength(n);
  if (b.length < headerBytes || fileBytes < headerBytes + TAG_BYTES) return 'it ends inside its header or right after it';
  const recipients: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = LEGACY_MAGIC.length + 1 + i * STANZA_BYTES;
    recipients.push(fingerprintText(b.subarray(at, at + FINGERPRINT_BYTES)));
  }
  return { recipients, headerBytes };
}
