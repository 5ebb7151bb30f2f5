/**
 * Field encryption: `encrypt(value, context)` / `decrypt(ciphertext, context)`
 * with AES-256-GCM under the column's data key, a random 96-bit nonce per value,
 * and the context (source, table, column, row key) bound as associated data, in
 * the `stw1:` format (format.ts). {@link ColumnCipher} is the per-column hot path
 * (synchronous once keys are loaded and messages reserved); {@link FieldEncryption}
 * is the convenient async API over every column of a keyring.
 */
import { inspect } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { CryptoError, InternalError } from '../errors.js';
import { BlindIndexer, type BlindIndexOptions } from './blind-index.js';
import {
  aadPrefix,
  CIPHERTEXT_PREFIX,
  ciphertextHeader,
  parseCiphertext,
  PAYLOAD_OVERHEAD,
  rowKeyPartText,
  scopeName,
  type ColumnScope,
  type FieldContext,
  type RowKey,
  type RowKeyPart,
} from './format.js';
import { keyObjectOf, type ColumnKeys, type DataKey, type Keyring } from './keyring.js';
import { AuthenticationFailed, decodeBase64urlStrict, gcmOpen, gcmSealInto, NONCE_BYTES, randomNonce } from './primitives.js';

/** One usable key version, with its constant header and AAD prefix precomputed. */
class Version {
  readonly key: KeyObject;
  readonly version: number;
  /** `stw1:<keyId>:<version>:` */
  readonly header: string;
  readonly #prefix: Buffer;
  /** Prefix followed by room for a row key: reused for every value (AAD is consumed at once). */
  #scratch: Buffer;

  constructor(key: DataKey, scope: ColumnScope) {
    this.key = keyObjectOf(key);
    this.version = key.version;
    this.header = ciphertextHeader(key.keyId, key.version);
    this.#prefix = aadPrefix(key.keyId, key.version, scope);
    this.#scratch = Buffer.alloc(this.#prefix.length + 256);
    this.#prefix.copy(this.#scratch, 0);
  }

  /** The AAD for one row: a view of the scratch buffer, valid until the next call. */
  aad(rowKey: RowKey): Buffer {
    const base = this.#prefix.length;
    if (typeof rowKey === 'string' || typeof rowKey === 'number' || typeof rowKey === 'bigint') {
      const text = typeof rowKey === 'string' ? rowKey : rowKeyPartText(rowKey);
      // One part: u32(1) ‖ u32(len) ‖ bytes. Worst case 3 bytes per UTF-16 unit.
      this.#ensure(base + 8 + text.length * 3);
      this.#scratch.writeUInt32BE(1, base);
      const n = this.#scratch.write(text, base + 8, 'utf8');
      this.#scratch.writeUInt32BE(n, base + 4);
      return this.#scratch.subarray(0, base + 8 + n);
    }
    if (!Array.isArray(rowKey) || rowKey.length === 0) throw new TypeError('A row key must be a string, number, bigint, or a non-empty list of them');
    const parts = (rowKey as readonly RowKeyPart[]).map(rowKeyPartText);
    this.#ensure(base + 4 + parts.reduce((s, p) => s + 4 + p.length * 3, 0));
    this.#scratch.writeUInt32BE(parts.length, base);
    let at = base + 4;
    for (const p of parts) {
      const n = this.#scratch.write(p, at + 4, 'utf8');
      this.#scratch.writeUInt32BE(n, at);
      at += 4 + n;
    }
    return this.#scratch.subarray(0, at);
  }

  #ensure(bytes: number): void {
    if (bytes <= this.#scratch.length) return;
    const next = Buffer.alloc(Math.max(bytes, this.#scratch.length * 2));
    this.#prefix.copy(next, 0);
    this.#scratch = next;
  }
}

/**
 * Encrypts and decrypts the values of one column. Obtain with
 * {@link FieldEncryption.column}. The `…Sync` methods do no I/O: `encryptSync`
 * needs messages reserved first ({@link reserve}), `decryptSync` knows the key
 * versions loaded so far. The async methods reserve and reload as needed.
 *
 * @example
 *   const emails = await fields.column({ source: 'shop', table: 'customers', column: 'email' });
 *   await emails.reserve(rows.length);                 // one store write per batch
 *   const out = rows.map((r) => emails.encryptSync(r.email, r.id));
 */
export class ColumnCipher {
  readonly scope: ColumnScope;
  readonly #keyring: Keyring;
  #keyId: string | null = null;
  /** `stw1:<keyId>:` */
  #keyHeader = '';
  #versions = new Map<number, Version>();
  #destroyed: ReadonlySet<number> = new Set();
  #active: Version | null = null;
  #remaining = 0;
  #reserving: Promise<void> | null = null;
  #generation: number;

  /** @internal Use {@link FieldEncryption.column}. */
  constructor(keyring: Keyring, scope: ColumnScope, keys: ColumnKeys) {
    this.#keyring = keyring;
    this.scope = { source: scope.source, table: scope.table, column: scope.column };
    this.#generation = keyring.generation;
    this.#apply(keys);
  }

  /** Values that can still be encrypted synchronously before the next reservation. */
  get reserved(): number {
    this.#sync();
    return this.#remaining;
  }

  /** The version new values are encrypted with (null before the first key exists). */
  get activeVersion(): number | null {
    return this.#active?.version ?? null;
  }

  /**
   * Makes sure `count` values can be encrypted synchronously: reserves messages
   * in the store (a block at a time), creating the column's first key or rolling
   * over to a new version when the active one reached its message limit.
   */
  async reserve(count = 1): Promise<void> {
    while (this.reserved < count) {
      if (this.#reserving) {
        await this.#reserving;
        continue;
      }
      this.#reserving = (async () => {
        const { key, granted } = await this.#keyring.reserve(this.scope, count - this.#remaining);
        const keys = await this.#keyring.columnKeys(this.scope);
        this.#apply(keys);
        const v = this.#versions.get(key.version);
        if (!v) throw new InternalError(`Reserved version ${key.version} of ${scopeName(this.scope)} is not loaded`);
        // Messages left on a previous version are dropped (a roll-over): never encrypt under two versions at once.
        if (this.#active !== v) this.#remaining = 0;
        this.#active = v;
        this.#remaining += granted;
      })();
      try {
        await this.#reserving;
      } finally {
        this.#reserving = null;
      }
    }
  }

  /** Re-reads the column's keys (after another process rotated, retired or destroyed one). */
  async reload(): Promise<void> {
    const active = this.#active;
    this.#apply(await this.#keyring.reload(this.scope));
    const v = active ? this.#versions.get(active.version) : undefined;
    // Keep the reserved messages only if that version is still the active one.
    if (!v || this.#active !== v) this.#remaining = 0;
  }

  /** Encrypts a string (as UTF-8). Reserves messages when needed. */
  async encrypt(value: string, rowKey: RowKey): Promise<string> {
    while (this.reserved === 0) await this.reserve(1);
    return this.encryptSync(value, rowKey);
  }

  /** Encrypts raw bytes. Reserves messages when needed. */
  async encryptBytes(value: Uint8Array, rowKey: RowKey): Promise<string> {
    while (this.reserved === 0) await this.reserve(1);
    return this.encryptBytesSync(value, rowKey);
  }

  /** Encrypts a string without I/O; needs a reserved message (see {@link reserve}). */
  encryptSync(value: string, rowKey: RowKey): string {
    if (typeof value !== 'string') throw new TypeError(`encrypt takes a string, not ${value === null ? 'null' : typeof value}; use encryptBytes for bytes`);
    return this.#seal(Buffer.from(value, 'utf8'), rowKey);
  }

  /** Encrypts bytes without I/O; needs a reserved message (see {@link reserve}). */
  encryptBytesSync(value: Uint8Array, rowKey: RowKey): string {
    if (!(value instanceof Uint8Array)) throw new TypeError('encryptBytes takes a Uint8Array');
    return this.#seal(value, rowKey);
  }

  /** Decrypts to a string. Reloads the keys once when the ciphertext names a version not loaded yet. */
  async decrypt(ciphertext: string, rowKey: RowKey): Promise<string> {
    return (await this.#openAsync(ciphertext, rowKey)).toString('utf8');
  }

  /** Decrypts to bytes. */
  async decryptBytes(ciphertext: string, rowKey: RowKey): Promise<Buffer> {
    return this.#openAsync(ciphertext, rowKey);
  }

  /** Decrypts to a string with the keys already loaded. */
  decryptSync(ciphertext: string, rowKey: RowKey): string {
    return this.#open(ciphertext, rowKey).toString('utf8');
  }

  /** Decrypts to bytes with the keys already loaded. */
  decryptBytesSync(ciphertext: string, rowKey: RowKey): Buffer {
    return this.#open(ciphertext, rowKey);
  }

  /** The column's key id (null before its first key exists): every ciphertext of the column starts `stw1:<keyId>:`. */
  get keyId(): string | null {
    this.#sync();
    return this.#keyId;
  }

  /** Does `value` start like a ciphertext of this column's key (any version)? Cheap; does not authenticate: see {@link ownership}. */
  isOwnCiphertext(value: string): boolean {
    return this.#keyId !== null && typeof value === 'string' && value.startsWith(this.#keyHeader);
  }

  /**
   * Whose `value` is, checked with the keys loaded (no I/O), by decrypting it for its row:
   * - `'own'`: a ciphertext of this column's key that authenticates for this row;
   * - `'destroyed'`: a well-formed ciphertext naming a destroyed version of this column's key
   *   (crypto-shredded: it cannot be checked or read, by design);
   * - `'unverified'`: it starts with this column's header (`stw1:<keyId>:`) but does not parse,
   *   names a version the key never had, or does not authenticate (tampered, moved from another
   *   row, or written to look encrypted);
   * - `null`: not this column's at all (plaintext, or another key's or tool's ciphertext).
   */
  ownership(value: string, rowKey: RowKey): 'own' | 'destroyed' | 'unverified' | null {
    if (!this.isOwnCiphertext(value)) return null;
    try {
      this.#open(value, rowKey);
      return 'own';
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      return e.code === 'CRYPTO_KEY_DESTROYED' ? 'destroyed' : 'unverified';
    }
  }

  toString(): string {
    return `ColumnCipher(${scopeName(this.scope)}${this.#keyId ? ` ${this.#keyId}` : ''})`;
  }

  toJSON(): { scope: ColumnScope; keyId: string | null; activeVersion: number | null } {
    return { scope: this.scope, keyId: this.#keyId, activeVersion: this.activeVersion };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** Picks up keys the keyring (re)loaded, rotated or destroyed since this cipher last looked. */
  #sync(): void {
    if (this.#generation === this.#keyring.generation) return;
    this.#generation = this.#keyring.generation;
    const keys = this.#keyring.loadedColumnKeys(this.scope);
    if (keys) this.#apply(keys);
  }

  #apply(keys: ColumnKeys): void {
    const next = new Map<number, Version>();
    for (const [n, k] of keys.usable) next.set(n, this.#versions.get(n) ?? new Version(k, this.scope));
    this.#versions = next;
    this.#destroyed = keys.destroyed;
    this.#keyId = keys.keyId;
    this.#keyHeader = keys.keyId ? `${CIPHERTEXT_PREFIX}${keys.keyId}:` : '';
    const active = keys.active ? (next.get(keys.active.version) ?? null) : null;
    if (active !== this.#active) this.#remaining = 0;
    this.#active = active;
  }

  #seal(plaintext: Uint8Array, rowKey: RowKey): string {
    this.#sync();
    const v = this.#active;
    if (v === null || this.#remaining <= 0) {
      throw new InternalError(`encryptSync on ${scopeName(this.scope)} without a reserved message: await reserve(n) before encrypting n values synchronously`);
    }
    this.#remaining--;
    const nonce = randomNonce();
    const out = gcmSealInto(v.key, nonce, v.aad(rowKey), plaintext, NONCE_BYTES);
    nonce.copy(out, 0);
    return v.header + out.toString('base64url');
  }

  async #openAsync(ciphertext: string, rowKey: RowKey): Promise<Buffer> {
    try {
      return this.#open(ciphertext, rowKey);
    } catch (e) {
      if (!(e instanceof CryptoError) || (e.code !== 'CRYPTO_UNKNOWN_KEY_VERSION' && e.code !== 'CRYPTO_TAMPERED')) throw e;
      // A version created (or a first key written) by another process since we loaded.
      const parsed = parseCiphertext(ciphertext);
      if ('invalid' in parsed || this.#versions.has(parsed.version)) throw e;
      await this.reload();
      return this.#open(ciphertext, rowKey);
    }
  }

  #open(text: string, rowKey: RowKey): Buffer {
    this.#sync();
    if (typeof text !== 'string' || !this.#keyId || !text.startsWith(this.#keyHeader)) throw this.#foreign(text);
    const end = text.indexOf(':', this.#keyHeader.length);
    const v = end < 0 ? undefined : this.#versions.get(Number(text.slice(this.#keyHeader.length, end)));
    if (v === undefined || text.length <= v.header.length || !text.startsWith(v.header)) throw this.#badVersion(text);
    const payload = decodeBase64urlStrict(text.slice(v.header.length));
    if (payload === null || payload.length < PAYLOAD_OVERHEAD) throw this.#foreign(text);
    try {
      return gcmOpen(v.key, payload.subarray(0, NONCE_BYTES), v.aad(rowKey), payload.subarray(NONCE_BYTES));
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      throw new CryptoError(
        'CRYPTO_TAMPERED',
        `A ciphertext of ${scopeName(this.scope)} (key ${this.#keyId} version ${v.version}) does not verify: it was changed, or copied from another row or column`,
        { hint: 'Restore the value from a backup; Steward never returns data that fails authentication' },
      );
    }
  }

  #foreign(text: string): CryptoError {
    const parsed = parseCiphertext(text);
    if ('invalid' in parsed) {
      return new CryptoError('CRYPTO_NOT_CIPHERTEXT', `A value of ${scopeName(this.scope)} is not a Steward ciphertext: ${parsed.invalid}`, {
        hint: 'Encrypt plaintext values first (or skip them); values written by another tool cannot be decrypted by Steward',
      });
    }
    if (this.#keyId === null) {
      return new CryptoError('CRYPTO_UNKNOWN_KEY_VERSION', `A ciphertext of ${scopeName(this.scope)} names key ${parsed.keyId} version ${parsed.version}, but this column has no keys in the keyring`, {
        hint: 'Open the keyring on the state store the values were encrypted with',
      });
    }
    return new CryptoError(
      'CRYPTO_TAMPERED',
      `A ciphertext of ${scopeName(this.scope)} was encrypted under key ${parsed.keyId}, not this column's key ${this.#keyId}: it was copied from another column, or the column was re-keyed`,
      { hint: 'Decrypt it with the context it was encrypted for; values are bound to their source, table, column and row' },
    );
  }

  #badVersion(text: string): CryptoError {
    const parsed = parseCiphertext(text);
    if ('invalid' in parsed) return this.#foreign(text);
    if (this.#destroyed.has(parsed.version)) {
      return new CryptoError('CRYPTO_KEY_DESTROYED', `A ciphertext of ${scopeName(this.scope)} needs key ${parsed.keyId} version ${parsed.version}, which was destroyed`, {
        hint: 'The value is unrecoverable by design (crypto-shredding); clear or overwrite it',
      });
    }
    return new CryptoError(
      'CRYPTO_UNKNOWN_KEY_VERSION',
      `A ciphertext of ${scopeName(this.scope)} needs key ${parsed.keyId} version ${parsed.version}, which the keyring does not have (versions: ${[...this.#versions.keys()].join(', ') || 'none'})`,
      { hint: 'Open the keyring on the state store the value was encrypted with; a restored older state store may lack newer key versions' },
    );
  }
}

/**
 * The field encryption library: every column of one keyring.
 *
 * @example
 *   import { openKeyring, createFieldEncryption } from 'steward/crypto';
 *   const keyring = await openKeyring({ store, master: { env: 'STEWARD_MASTER_KEY' } });
 *   const fields = createFieldEncryption(keyring);
 *   const ctx = { source: 'shop', table: 'customers', column: 'email', rowKey: 42 };
 *   const stored = await fields.encrypt('ann@example.com', ctx);   // 'stw1:Qk3…:1:…'
 *   await fields.decrypt(stored, ctx);                               // 'ann@example.com'
 *   await fields.decrypt(stored, { ...ctx, rowKey: 43 });            // throws CryptoError CRYPTO_TAMPERED
 *   const bidx = await fields.blindIndex('Ann@Example.com', ctx, { normalize: 'email' });
 */
export class FieldEncryption {
  readonly keyring: Keyring;
  /** source → table → column → cipher: no string building per call. */
  readonly #ciphers = new Map<string, Map<string, Map<string, ColumnCipher | Promise<ColumnCipher>>>>();

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  /** The cipher of one column (cached; loads its keys on first use). */
  column(scope: ColumnScope): ColumnCipher | Promise<ColumnCipher> {
    let bySource = this.#ciphers.get(scope.source);
    if (!bySource) this.#ciphers.set(scope.source, (bySource = new Map()));
    let byTable = bySource.get(scope.table);
    if (!byTable) bySource.set(scope.table, (byTable = new Map()));
    const found = byTable.get(scope.column);
    if (found) return found;
    const table = byTable;
    const loading = this.keyring.columnKeys(scope).then(
      (keys) => {
        const cipher = new ColumnCipher(this.keyring, scope, keys);
        table.set(scope.column, cipher);
        return cipher;
      },
      (e: unknown) => {
        table.delete(scope.column);
        throw e;
      },
    );
    table.set(scope.column, loading);
    return loading;
  }

  /** Encrypts `value` for its place (`context`): returns a `stw1:` ciphertext. */
  encrypt(value: string, context: FieldContext): Promise<string> {
    // Fast path without an async frame: keys loaded and a message reserved.
    const c = context && this.#ciphers.get(context.source)?.get(context.table)?.get(context.column);
    if (c instanceof ColumnCipher && c.reserved > 0) {
      try {
        return Promise.resolve(c.encryptSync(value, context.rowKey));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#encryptSlow(value, context);
  }

  /** Encrypts bytes for their place. */
  async encryptBytes(value: Uint8Array, context: FieldContext): Promise<string> {
    const c = this.#cipher(context);
    return (c instanceof ColumnCipher ? c : await c).encryptBytes(value, context.rowKey);
  }

  /**
   * Decrypts a ciphertext encrypted for exactly this `context`.
   * @throws CryptoError `CRYPTO_NOT_CIPHERTEXT`, `CRYPTO_TAMPERED` (changed, or another row/column),
   *   `CRYPTO_UNKNOWN_KEY_VERSION`, `CRYPTO_KEY_DESTROYED`, `CRYPTO_WRONG_KEY` (master key).
   */
  decrypt(ciphertext: string, context: FieldContext): Promise<string> {
    const c = context && this.#ciphers.get(context.source)?.get(context.table)?.get(context.column);
    if (c instanceof ColumnCipher) {
      try {
        return Promise.resolve(c.decryptSync(ciphertext, context.rowKey));
      } catch (e) {
        if (!(e instanceof CryptoError)) return Promise.reject(e);
        // Possibly a version another process created since: the slow path reloads once.
      }
    }
    return this.#decryptSlow(ciphertext, context);
  }

  /** Decrypts to bytes. */
  async decryptBytes(ciphertext: string, context: FieldContext): Promise<Buffer> {
    const c = this.#cipher(context);
    return (c instanceof ColumnCipher ? c : await c).decryptBytes(ciphertext, context.rowKey);
  }

  /** A blind indexer for the column (its own HMAC key, created on first use). */
  async blindIndexer(scope: ColumnScope, options: BlindIndexOptions = {}): Promise<BlindIndexer> {
    return new BlindIndexer(await this.keyring.blindIndexKey(scope), options);
  }

  /** The blind index of one value in a column (same options on write and lookup). */
  async blindIndex(value: string, scope: ColumnScope, options: BlindIndexOptions = {}): Promise<string> {
    return (await this.blindIndexer(scope, options)).index(value);
  }

  toString(): string {
    return `FieldEncryption(master ${this.keyring.masterKeyId})`;
  }

  toJSON(): { masterKeyId: string } {
    return { masterKeyId: this.keyring.masterKeyId };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  async #encryptSlow(value: string, context: FieldContext): Promise<string> {
    const c = this.#cipher(context);
    const cipher = c instanceof ColumnCipher ? c : await c;
    while (cipher.reserved === 0) await cipher.reserve(1);
    return cipher.encryptSync(value, context.rowKey);
  }

  async #decryptSlow(ciphertext: string, context: FieldContext): Promise<string> {
    const c = this.#cipher(context);
    return (c instanceof ColumnCipher ? c : await c).decrypt(ciphertext, context.rowKey);
  }

  #cipher(scope: ColumnScope): ColumnCipher | Promise<ColumnCipher> {
    return this.#ciphers.get(scope.source)?.get(scope.table)?.get(scope.column) ?? this.column(scope);
  }
}

/** The field encryption library over a keyring. See {@link FieldEncryption}. */
export function createFieldEncryption(keyring: Keyring): FieldEncryption {
  return new FieldEncryption(keyring);
}
