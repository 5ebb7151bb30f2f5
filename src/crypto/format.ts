/**
 * Steward's ciphertext format, version 1 (`stw1:<keyId>:<version>:<payload>`, AES-256-GCM
 * with the value's place bound as associated data). Pure: encoding and parsing only.
 *
 * Format: docs/encryption.md#ciphertext-format
 */
import { decodeBase64urlStrict, NONCE_BYTES, TAG_BYTES } from './primitives.js';

export const CIPHERTEXT_PREFIX = 'stw1:';
/** Bytes the payload adds to the plaintext: nonce and tag. */
export const PAYLOAD_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const MAX_KEY_VERSION = 2 ** 31 - 1;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** One encrypted column: the scope a data key belongs to. */
export interface ColumnScope {
  /** The source name in steward.yml (or any stable name the application uses). */
  readonly source: string;
  /** The table, schema-qualified if the application has several schemas (`public.customers`). Use the same spelling everywhere. */
  readonly table: string;
  readonly column: string;
}

/** One part of a primary key, written as text (numbers in decimal). */
export type RowKeyPart = string | number | bigint;
/** A row's primary key: one value, or the parts of a composite key in key order. */
export type RowKey = RowKeyPart | readonly RowKeyPart[];

/** Where a value lives: bound to its ciphertext so it cannot be moved elsewhere. */
export interface FieldContext extends ColumnScope {
  readonly rowKey: RowKey;
}

export interface ParsedCiphertext {
  readonly keyId: string;
  readonly version: number;
  /** `nonce ‖ ciphertext ‖ tag`. */
  readonly payload: Buffer;
}

export function isKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

export function isKeyVersion(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= MAX_KEY_VERSION;
}

/**
 * Does the value start like a Steward ciphertext? Cheap, and not proof: anyone who can write
 * a field can write `stw1:…`. {@link isCiphertextShaped} checks the structure; only a key of
 * the column's scope that authenticates it (`ColumnCipher.ownership`) makes it Steward's.
 */
export function looksLikeCiphertext(value: string): boolean {
  return value.startsWith(CIPHERTEXT_PREFIX);
}

/** Is the value a well-formed `stw1:` envelope (key id, version, canonical payload with room for nonce and tag)? Not authenticated. */
export function isCiphertextShaped(value: string): boolean {
  return typeof value === 'string' && value.startsWith(CIPHERTEXT_PREFIX) && !('invalid' in parseCiphertext(value));
}

/** `stw1:<keyId>:`: how every ciphertext of one data key (any version) starts. */
export function keyHeader(keyId: string): string {
  return `${CIPHERTEXT_PREFIX}${keyId}:`;
}

/** The text before the payload: `stw1:<keyId>:<version>:`. */
export function ciphertextHeader(keyId: string, version: number): string {
  return `${CIPHERTEXT_PREFIX}${keyId}:${version}:`;
}

/** `stw1:<keyId>:<version>:<base64url payload>`. */
export function formatCiphertext(keyId: string, version: number, payload: Uint8Array): string {
  return ciphertextHeader(keyId, version) + Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64url');
}

/**
 * Splits a ciphertext into key id, version and payload, or returns why it is
 * not one (a short phrase for a message; never echoes the value).
 */
export function parseCiphertext(text: string): ParsedCiphertext | { readonly invalid: string } {
  if (typeof text !== 'string') return { invalid: `it is a ${text === null ? 'null' : typeof text}, not a string` };
  if (!text.startsWith(CIPHERTEXT_PREFIX)) return { invalid: 'it does not start with "stw1:"' };
  const a = text.indexOf(':', CIPHERTEXT_PREFIX.length);
  const b = a < 0 ? -1 : text.indexOf(':', a + 1);
  if (b < 0) return { invalid: 'it lacks the key id or version field' };
  const keyId = text.slice(CIPHERTEXT_PREFIX.length, a);
  if (!KEY_ID.test(keyId)) return { invalid: 'its key id field is malformed' };
  const versionText = text.slice(a + 1, b);
  if (!/^[1-9][0-9]{0,9}$/.test(versionText)) return { invalid: 'its key version field is malformed' };
  const version = Number(versionText);
  if (version > MAX_KEY_VERSION) return { invalid: 'its key version field is out of range' };
  const payload = decodeBase64urlStrict(text.slice(b + 1));
  if (payload === null) return { invalid: 'its payload is not canonical base64url' };
  if (payload.length < PAYLOAD_OVERHEAD) return { invalid: 'its payload is too short to hold a nonce and tag' };
  return { keyId, version, payload };
}

/** Characters of the ciphertext of a `plaintextBytes`-byte value (for sizing columns). */
export function ciphertextLength(plaintextBytes: number, keyIdLength = 11, version = 1): number {
  return CIPHERTEXT_PREFIX.length + keyIdLength + 1 + String(version).length + 1 + Math.ceil(((PAYLOAD_OVERHEAD + plaintextBytes) * 4) / 3);
}

// ---- associated data

const AAD_TAG = Buffer.from('stw1\0', 'latin1');

function lp(parts: Buffer[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(bytes.length, 0);
  parts.push(len, bytes);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** The constant part of the AAD for one key version of one column (cache it). */
export function aadPrefix(keyId: string, version: number, scope: ColumnScope): Buffer {
  const parts: Buffer[] = [AAD_TAG];
  lp(parts, keyId);
  parts.push(u32(version));
  lp(parts, scope.source);
  lp(parts, scope.table);
  lp(parts, scope.column);
  return Buffer.concat(parts);
}

/** A row key part as text; rejects values that have no stable text form. */
export function rowKeyPartText(part: RowKeyPart): string {
  switch (typeof part) {
    case 'string':
      return part;
    case 'bigint':
      return part.toString(10);
    case 'number':
      if (!Number.isFinite(part)) throw new TypeError('A row key part must be a finite number, a bigint or a string');
      return String(part);
    default:
      throw new TypeError(`A row key part must be a string, number or bigint, not ${part === null ? 'null' : typeof part}`);
  }
}

/** The row-key part of the AAD: `u32be(k) ‖ lp(part)…`. */
export function encodeRowKey(rowKey: RowKey): Buffer {
  const list = Array.isArray(rowKey) ? (rowKey as readonly RowKeyPart[]) : [rowKey as RowKeyPart];
  if (list.length === 0) throw new TypeError('A row key must have at least one part');
  if (list.length === 1) {
    const bytes = Buffer.from(rowKeyPartText(list[0]!), 'utf8');
    const out = Buffer.allocUnsafe(8 + bytes.length);
    out.writeUInt32BE(1, 0);
    out.writeUInt32BE(bytes.length, 4);
    bytes.copy(out, 8);
    return out;
  }
  const parts: Buffer[] = [u32(list.length)];
  for (const p of list) lp(parts, rowKeyPartText(p));
  return Buffer.concat(parts);
}

/** The full AAD of one value: prefix ‖ row key. */
export function associatedData(keyId: string, version: number, context: FieldContext): Buffer {
  return Buffer.concat([aadPrefix(keyId, version, context), encodeRowKey(context.rowKey)]);
}

/** `source.table.column` for messages. */
export function scopeName(scope: ColumnScope): string {
  return `${scope.source}.${scope.table}.${scope.column}`;
}

/** An unambiguous map key for a scope (length-prefixed, like the AAD). */
export function scopeKey(scope: ColumnScope): string {
  return `${scope.source.length}:${scope.source}|${scope.table.length}:${scope.table}|${scope.column.length}:${scope.column}`;
}
