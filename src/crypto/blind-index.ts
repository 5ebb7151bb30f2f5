/**
 * Blind indexes: a keyed, truncated HMAC-SHA256 of a (normalised) value, stored
 * beside its ciphertext so equality lookups work without decrypting:
 *
 * ```sql
 * SELECT id, email FROM customers WHERE email_bidx = ?   -- ? = await fields.blindIndex(input, scope)
 * ```
 *
 * The index is a truncated HMAC-SHA256 under a column key from the keyring
 * (`Keyring.blindIndexKey`): HKDF of a per-column blind-index secret, independent of
 * the column's encryption keys. Truncation (default 16 bytes = 128 bits) keeps the index short; shorter
 * indexes give more false positives (confirm by decrypting) and leak less.
 * Like any deterministic index it reveals which rows share a value.
 *
 * Format: docs/encryption.md#blind-index-keys
 */
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { hmacSha256, type SecretKey } from './primitives.js';

/**
 * How a value is normalised before it is indexed (lookups must use the same):
 * - `none`: exactly as given;
 * - `trim`: surrounding whitespace removed;
 * - `lowercase`: trimmed, Unicode NFC, lower-cased;
 * - `email`: like `lowercase` (addresses are matched case-insensitively as almost every provider treats them);
 * - `digits`: only the digits kept (phone numbers, card or account numbers written with spaces or dashes);
 * - a function of your own.
 */
export type Normalizer = 'none' | 'trim' | 'lowercase' | 'email' | 'digits' | ((value: string) => string);

export interface BlindIndexOptions {
  /** Bytes of the HMAC kept, 4–32. Default 16. */
  readonly bytes?: number;
  /** Text encoding of the index. Default `hex` (2 characters per byte). */
  readonly encoding?: 'hex' | 'base64url';
  /** Default `none`. */
  readonly normalize?: Normalizer;
}

export const DEFAULT_BLIND_INDEX_BYTES = 16;

function normalizerOf(n: Normalizer): (value: string) => string {
  if (typeof n === 'function') return n;
  switch (n) {
    case 'none':
      return (v) => v;
    case 'trim':
      return (v) => v.trim();
    case 'lowercase':
    case 'email':
      return (v) => v.trim().normalize('NFC').toLowerCase();
    case 'digits':
      return (v) => v.replace(/\D+/g, '');
    default:
      throw new RangeError(`Unknown blind-index normalizer "${String(n)}"`);
  }
}

/**
 * Computes blind indexes under one column key.
 *
 * @example
 *   const bidx = await fields.blindIndexer({ source: 'shop', table: 'customers', column: 'email' }, { normalize: 'email' });
 *   bidx.index(' Ann@Example.com ') === bidx.index('ann@example.com');   // true
 */
export class BlindIndexer {
  readonly bytes: number;
  readonly encoding: 'hex' | 'base64url';
  readonly #key: SecretKey;
  readonly #normalize: (value: string) => string;

  constructor(key: KeyObject | Uint8Array, options: BlindIndexOptions = {}) {
    const bytes = options.bytes ?? DEFAULT_BLIND_INDEX_BYTES;
    if (!Number.isInteger(bytes) || bytes < 4 || bytes > 32) throw new RangeError(`Blind index length must be 4–32 bytes, got ${bytes}`);
    this.bytes = bytes;
    this.encoding = options.encoding ?? 'hex';
    this.#key = key;
    this.#normalize = normalizerOf(options.normalize ?? 'none');
  }

  /** The index of `value` (after normalisation), as text. */
  index(value: string): string {
    return this.indexBytes(value).toString(this.encoding);
  }

  /** The index of `value` as bytes. */
  indexBytes(value: string): Buffer {
    if (typeof value !== 'string') throw new TypeError(`A blind index is computed over a string, not ${value === null ? 'null' : typeof value}`);
    return hmacSha256(this.#key, Buffer.from(this.#normalize(value), 'utf8'), this.bytes);
  }

  /** Characters of every index: for sizing the index column. */
  get length(): number {
    return this.encoding === 'hex' ? this.bytes * 2 : Math.ceil((this.bytes * 4) / 3);
  }

  toString(): string {
    return `BlindIndexer(${this.bytes} bytes, ${this.encoding})`;
  }

  toJSON(): { bytes: number; encoding: string } {
    return { bytes: this.bytes, encoding: this.encoding };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
