/**
 * The only cryptographic primitives Steward's encryption uses, each a thin,
 * strict wrapper over Node's `crypto` (OpenSSL):
 *
 * - AES-256-GCM with a 96-bit nonce and a 128-bit tag ({@link gcmSeal}, {@link gcmOpen}).
 *   The tag length is pinned on decrypt (`authTagLength: 16`): without it Node
 *   accepts a truncated 4-byte tag, which would make forgeries cheap.
 * - HMAC-SHA256, truncated ({@link hmacSha256}) for blind indexes.
 * - HKDF-SHA256 ({@link hkdf}) to derive independent keys from one secret.
 * - Random bytes from a pooled CSPRNG buffer ({@link randomNonce}).
 *
 * Pure functions of their inputs (except the random pool); no I/O. The
 * Wycheproof tests (test/unit/crypto/vectors.test.ts) run through exactly these.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

export type SecretKey = KeyObject | Uint8Array;

/** Thrown by {@link gcmOpen} when the tag does not verify; callers map it to a {@link CryptoError}. */
export class AuthenticationFailed extends Error {
  constructor() {
    super('AES-GCM authentication failed');
    this.name = 'AuthenticationFailed';
  }
}

/**
 * Encrypts `plaintext` under `key` (32 bytes) with `nonce` (12 bytes), binding
 * `aad`. Returns `ciphertext ‖ tag` (tag 16 bytes) in one buffer.
 */
export function gcmSeal(key: SecretKey, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  return gcmSealInto(key, nonce, aad, plaintext, 0);
}

/**
 * {@link gcmSeal} into a buffer that starts with `head` bytes left for the
 * caller (the field format puts the nonce there), saving a copy: returns
 * `(head bytes) ‖ ciphertext ‖ tag`.
 */
export function gcmSealInto(key: SecretKey, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, head: number): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`AES-GCM nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  if (aad.length > 0) cipher.setAAD(aad);
  const out = Buffer.allocUnsafe(head + plaintext.length + TAG_BYTES);
  let at = head + cipher.update(plaintext).copy(out, head);
  const tail = cipher.final(); // empty for GCM (a stream mode), kept for correctness
  if (tail.length > 0) at += tail.copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/**
 * Decrypts `sealed` (= `ciphertext ‖ tag`, as {@link gcmSeal} returns it).
 * @throws AuthenticationFailed when the key, nonce, aad, ciphertext or tag differ from sealing.
 */
export function gcmOpen(key: SecretKey, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`AES-GCM nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  if (sealed.length < TAG_BYTES) throw new AuthenticationFailed();
  const split = sealed.length - TAG_BYTES;
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(split));
  if (aad.length > 0) decipher.setAAD(aad);
  const head = decipher.update(sealed.subarray(0, split));
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    head.fill(0);
    throw new AuthenticationFailed();
  }
}

/** HMAC-SHA256 of `message`, truncated to `bytes` (1–32; default 32). */
export function hmacSha256(key: SecretKey, message: Uint8Array | string, bytes = 32): Buffer {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 32) throw new RangeError(`HMAC-SHA256 output must be 1–32 bytes, got ${bytes}`);
  const mac = createHmac('sha256', key).update(message).digest();
  return bytes === 32 ? mac : mac.subarray(0, bytes);
}

/** HKDF-SHA256 (RFC 5869): `length` bytes from `ikm` for purpose `info`. */
export function hkdf(ikm: SecretKey, salt: string | Uint8Array, info: string | Uint8Array, length = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

// Random nonces are taken from a pooled buffer refilled from the CSPRNG: one
// OpenSSL call per 341 nonces instead of one per nonce. Every byte is used once.
const POOL_BYTES = NONCE_BYTES * 341;
let pool = Buffer.allocUnsafe(0);
let poolOffset = 0;

/** 12 fresh random bytes (a view into the pool: consume before the next call, or copy). */
export function randomNonce(): Buffer {
  if (poolOffset + NONCE_BYTES > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return out;
}

const B64URL = /^[A-Za-z0-9_-]*$/;
const B64URL_LAST2 = /[AQgw]$/; // len % 4 == 2: the last char carries 2 bits, the other 4 must be 0
const B64URL_LAST3 = /[AEIMQUYcgkosw048]$/; // len % 4 == 3: the last char carries 4 bits, the other 2 must be 0

/**
 * Strict unpadded base64url: only the alphabet, no padding, and the unused low
 * bits of the last character zero — so every distinct text decodes to distinct
 * bytes (Node's decoder alone skips invalid characters and ignores those bits,
 * which would let a flipped bit in the text go unnoticed). Null when not canonical.
 */
export function decodeBase64urlStrict(text: string): Buffer | null {
  const rem = text.length & 3;
  if (rem === 1 || !B64URL.test(text)) return null;
  if (rem === 2 && !B64URL_LAST2.test(text)) return null;
  if (rem === 3 && !B64URL_LAST3.test(text)) return null;
  return Buffer.from(text, 'base64url');
}
