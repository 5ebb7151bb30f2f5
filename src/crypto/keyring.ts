/**
 * The keyring: data keys (DEKs) per (source, table, column), each versioned,
 * generated here, wrapped by a {@link KmsProvider} (the master key) and stored
 * wrapped in a {@link KeyStore} (the state store). Unwrapped keys live only in
 * memory, inside {@link DataKey} objects that never print or serialise their bytes.
 *
 * Usage limits: every DEK version may encrypt at most `messageLimit` values
 * (default 2^32, the NIST SP 800-38D §8.3 bound for random 96-bit nonces, which
 * keeps the chance of a nonce repeating under one key below 2^-32). Encrypting
 * processes reserve messages from the store in blocks (`reserveBlock`, default
 * 65,536) with one atomic conditional UPDATE; when a version cannot grant a
 * block, the keyring rolls over to a new version (the old one is retired and
 * keeps decrypting). Blocks a process reserves but does not use are simply lost,
 * so the stored count is an upper bound on real use — the safe direction.
 *
 * Several processes may share one store: version creation and reservations are
 * conditional writes, and a process that loses a race reloads and retries.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { CryptoError, InternalError } from '../errors.js';
import { scopeKey, scopeName, type ColumnScope, MAX_KEY_VERSION } from './format.js';
import { checkScryptParams, masterKeyFromEnv, masterKeyFromFile, masterKeyFromPassphrase, newScryptParams, type ScryptParams } from './master-key.js';
import { hkdf, KEY_BYTES } from './primitives.js';
import type { KeyKind, KeyState, KeyStore, KmsProvider, StoredKey, WrapContext } from './types.js';

/** NIST SP 800-38D: at most 2^32 invocations per key with random 96-bit IVs. */
export const DEFAULT_MESSAGE_LIMIT = 2 ** 32;
export const DEFAULT_RESERVE_BLOCK = 65_536;

/**
 * Where the master key comes from: a ready {@link KmsProvider} (a `LocalMasterKey`,
 * or a Vault/AWS implementation), or one of the local sources.
 */
export type MasterKeySource =
  | KmsProvider
  /** An environment variable holding base64 or hex (`STEWARD_MASTER_KEY`). */
  | { readonly env: string; readonly environment?: NodeJS.ProcessEnv }
  /** A key file, refused when its group or others can read it. */
  | { readonly file: string; readonly allowInsecurePermissions?: boolean }
  /** A passphrase, stretched with scrypt; `scrypt` sets the cost for a new store. */
  | { readonly passphrase: string; readonly scrypt?: Partial<Omit<ScryptParams, 'salt'>> };

export interface KeyringOptions {
  /** Where wrapped keys live: a `StateStore` (its `keys`) or any {@link KeyStore}. */
  readonly store: { readonly keys: KeyStore } | KeyStore;
  /** The master key new keys are wrapped under. */
  readonly master: MasterKeySource;
  /** Older master keys still accepted for unwrapping (during a master key rotation). */
  readonly previous?: readonly MasterKeySource[];
  /** Most values one DEK version may encrypt (recorded with each new version). Default 2^32. */
  readonly messageLimit?: number;
  /** Messages reserved from the store at a time. Default 65,536 (never more than the limit). */
  readonly reserveBlock?: number;
  /** Clock for the timestamps of key rows. */
  readonly now?: () => Date;
}

/** A key row without its wrapped bytes: what may be listed, logged and reported. */
export type KeyInfo = Omit<StoredKey, 'wrapped'>;

const material = new WeakMap<DataKey, KeyObject>();

/**
 * An unwrapped key version in memory. Its bytes are unreachable from outside
 * Steward's crypto module: `toString`, `JSON.stringify` and `util.inspect` show
 * the key id, version and scope only.
 */
export class DataKey {
  readonly scope: ColumnScope;
  readonly kind: KeyKind;
  readonly keyId: string;
  readonly version: number;

  /** @internal Created by the keyring. */
  constructor(info: { scope: ColumnScope; kind: KeyKind; keyId: string; version: number }, key: Buffer) {
    this.scope = info.scope;
    this.kind = info.kind;
    this.keyId = info.keyId;
    this.version = info.version;
    material.set(this, createSecretKey(key));
    key.fill(0);
  }

  toString(): string {
    return `DataKey(${this.keyId} v${this.version} ${scopeName(this.scope)})`;
  }

  toJSON(): { keyId: string; version: number; kind: KeyKind; scope: ColumnScope } {
    return { keyId: this.keyId, version: this.version, kind: this.kind, scope: this.scope };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** @internal The key object of a {@link DataKey}, for the crypto module only (not exported from index.ts). */
export function keyObjectOf(key: DataKey): KeyObject {
  const k = material.get(key);
  if (!k) throw new InternalError('A DataKey without key material');
  return k;
}

/** The DEK versions of one column as last loaded. */
export interface ColumnKeys {
  readonly scope: ColumnScope;
  /** The column's key id (null before its first key is created). */
  readonly keyId: string | null;
  /** The version new values are encrypted with; null when none is active. */
  readonly active: DataKey | null;
  /** Every usable (active or retired) version. */
  readonly usable: ReadonlyMap<number, DataKey>;
  /** Versions that existed and were destroyed. */
  readonly destroyed: ReadonlySet<number>;
}

const WRAP_TAG = 'steward-wrap-v1';

function lp(parts: Buffer[], s: string): void {
  const b = Buffer.from(s, 'utf8');
  const n = Buffer.allocUnsafe(4);
  n.writeUInt32BE(b.length, 0);
  parts.push(n, b);
}

/** The canonical associated data a wrapped key is bound to: tag, KEK id, kind, key id, version, scope. Format: docs/encryption.md#wrapped-data-keys */
export function wrapAad(kekId: string, kind: KeyKind, keyId: string, version: number, scope: ColumnScope): Buffer {
  const parts: Buffer[] = [];
  lp(parts, WRAP_TAG);
  lp(parts, kekId);
  lp(parts, kind);
  lp(parts, keyId);
  const v = Buffer.allocUnsafe(4);
  v.writeUInt32BE(version, 0);
  parts.push(v);
  lp(parts, scope.source);
  lp(parts, scope.table);
  lp(parts, scope.column);
  return Buffer.concat(parts);
}

function isProvider(s: MasterKeySource): s is KmsProvider {
  return typeof (s as KmsProvider).wrapKey === 'function' && typeof (s as KmsProvider).unwrapKey === 'function';
}

function keyStoreOf(store: KeyringOptions['store']): KeyStore {
  return 'keys' in store && typeof (store as { keys: unknown }).keys === 'object' ? (store as { keys: KeyStore }).keys : (store as KeyStore);
}

/**
 * Turns a {@link MasterKeySource} into a provider. A passphrase is matched
 * against the scrypt parameters recorded in the store (oldest first): the
 * derived key's id must equal the recorded id, or the passphrase is wrong. With
 * no passphrase recorded yet, new parameters are generated and recorded.
 *
 * @throws CryptoError `CRYPTO_WRONG_KEY` for a passphrase that matches no recorded one;
 *   `CRYPTO_MASTER_KEY` for a missing, malformed or insecure env var or file.
 */
/** How long a first passphrase opener waits before trusting it is alone (once per store). */
const PASSPHRASE_SETTLE_MS = 50;

export async function resolveMasterKey(source: MasterKeySource, store: KeyStore, now: () => Date = () => new Date()): Promise<KmsProvider> {
  if (isProvider(source)) return source;
  if ('env' in source) return masterKeyFromEnv(source.env, source.environment);
  if ('file' in source) return masterKeyFromFile(source.file, { allowInsecurePermissions: source.allowInsecurePermissions ?? false });
  const passphraseKeys = async () =>
    (await store.listMasterKeys())
      .filter((m) => m.kind === 'passphrase' && m.params !== null)
      // Oldest first (ties by id): every process picks the same record.
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  let recorded = await passphraseKeys();
  if (recorded.length === 0) {
    const key = await masterKeyFromPassphrase(source.passphrase, newScryptParams(source.scrypt));
    await store.addMasterKey({ id: key.keyId, kind: 'passphrase', params: JSON.stringify(key.params), createdAt: now().toISOString() });
    // Racing another first opener, the oldest record wins (ties by id). A racer that records in the
    // same millisecond may do so just after we look: look once more after a short settle, so both
    // see both records and pick the same one. A later racer's record is younger and loses anyway.
    await new Promise((r) => setTimeout(r, PASSPHRASE_SETTLE_MS));
    recorded = await passphraseKeys();
    if (recorded[0]?.id === key.keyId) return key;
  }
  for (const m of recorded) {
    let params: ScryptParams;
    try {
      params = JSON.parse(m.params!) as ScryptParams;
    } catch {
      params = { N: 0, r: 0, p: 0, salt: '' };
    }
    checkScryptParams(params);
    const key = await masterKeyFromPassphrase(source.passphrase, params);
    if (key.keyId === m.id) return key;
  }
  throw new CryptoError('CRYPTO_WRONG_KEY', `The passphrase does not match the master key of this state store (${recorded.map((m) => m.id).join(', ')})`, {
    hint: 'Supply the passphrase the keys were created with; a wrong passphrase cannot decrypt anything',
  });
}

/**
 * Opens the keyring on a store with a master key.
 *
 * @example
 *   import { openKeyring, createFieldEncryption } from 'steward/crypto';
 *   const store = await openStateStore({ url: '.steward/state.db', baseDir: process.cwd() });
 *   const keyring = await openKeyring({ store, master: { env: 'STEWARD_MASTER_KEY' } });
 *   const fields = createFieldEncryption(keyring);
 *
 * @throws CryptoError `CRYPTO_MASTER_KEY` / `CRYPTO_WRONG_KEY` (see {@link resolveMasterKey}).
 */
export async function openKeyring(options: KeyringOptions): Promise<Keyring> {
  const store = keyStoreOf(options.store);
  const now = options.now ?? (() => new Date());
  const current = await resolveMasterKey(options.master, store, now);
  const previous: KmsProvider[] = [];
  for (const p of options.previous ?? []) previous.push(await resolveMasterKey(p, store, now));
  return new Keyring(store, current, previous, options);
}

/**
 * Data keys of every encrypted column, over one store and master key. Methods
 * are safe to call concurrently; loaded keys are cached until {@link reload}.
 */
export class Keyring {
  readonly #store: KeyStore;
  readonly #master: KmsProvider;
  readonly #providers: Map<string, KmsProvider>;
  readonly #messageLimit: number;
  readonly #reserveBlock: number;
  readonly #now: () => Date;
  readonly #columns = new Map<string, Promise<ColumnKeys>>();
  readonly #loaded = new Map<string, ColumnKeys>();
  #generation = 0;
  /** Unwrapped keys by `keyId/version`, so a reload unwraps only what is new. */
  readonly #unwrapped = new Map<string, DataKey>();
  readonly #blindKeys = new Map<string, Promise<KeyObject>>();
  #masterRecorded = false;

  /** @internal Use {@link openKeyring}. */
  constructor(store: KeyStore, master: KmsProvider, previous: readonly KmsProvider[], options: Pick<KeyringOptions, 'messageLimit' | 'reserveBlock' | 'now'> = {}) {
    this.#store = store;
    this.#master = master;
    this.#providers = new Map([...previous, master].map((p) => [p.keyId, p]));
    const limit = options.messageLimit ?? DEFAULT_MESSAGE_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`messageLimit must be a positive safe integer, got ${limit}`);
    this.#messageLimit = limit;
    const block = options.reserveBlock ?? DEFAULT_RESERVE_BLOCK;
    if (!Number.isSafeInteger(block) || block < 1) throw new RangeError(`reserveBlock must be a positive safe integer, got ${block}`);
    this.#reserveBlock = Math.min(block, limit);
    this.#now = options.now ?? (() => new Date());
  }

  /** The id of the master key new keys are wrapped under. */
  get masterKeyId(): string {
    return this.#master.keyId;
  }

  /** The message limit new DEK versions get. */
  get messageLimit(): number {
    return this.#messageLimit;
  }

  toString(): string {
    return `Keyring(master ${this.#master.keyId})`;
  }

  toJSON(): { masterKeyId: string; messageLimit: number } {
    return { masterKeyId: this.#master.keyId, messageLimit: this.#messageLimit };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** The column's DEK versions (cached; the first call loads and unwraps them). */
  columnKeys(scope: ColumnScope): Promise<ColumnKeys> {
    return this.#columns.get(scopeKey(scope)) ?? this.reload(scope);
  }

  /** Re-reads the column's keys from the store (after another process rotated or destroyed one). */
  reload(scope: ColumnScope): Promise<ColumnKeys> {
    const k = scopeKey(scope);
    const p = this.#load(scope);
    this.#columns.set(k, p);
    p.then(
      (keys) => {
        if (this.#columns.get(k) !== p) return; // a newer load superseded this one
        this.#loaded.set(k, keys);
        this.#generation++;
      },
      () => {
        if (this.#columns.get(k) === p) this.#columns.delete(k);
      },
    );
    return p;
  }

  /**
   * Increases whenever any column's keys are (re)loaded, rotated, retired or
   * destroyed in this keyring; ciphers compare it to refresh their snapshot.
   */
  get generation(): number {
    return this.#generation;
  }

  /** The column's keys as last loaded, without I/O (undefined when never loaded). */
  loadedColumnKeys(scope: ColumnScope): ColumnKeys | undefined {
    return this.#loaded.get(scopeKey(scope));
  }

  /** Every key row (or those of one column), without wrapped bytes. */
  async list(scope?: ColumnScope): Promise<KeyInfo[]> {
    const rows = await this.#store.listKeys(scope ? { scope } : {});
    return rows.map(({ wrapped: _wrapped, ...info }) => info);
  }

  /**
   * Reserves `count` messages (nonces) on the column's active DEK version,
   * creating the first version or rolling over to a new one when the active
   * version cannot grant them within its limit. Returns the version to encrypt
   * with and how many messages were granted (at least `count`; a whole block
   * when `count` is smaller).
   */
  async reserve(scope: ColumnScope, count = 1): Promise<{ readonly key: DataKey; readonly granted: number }> {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    if (count > this.#messageLimit) throw new RangeError(`Cannot reserve ${count} messages: more than the per-version limit ${this.#messageLimit}`);
    const granted = Math.max(count, this.#reserveBlock);
    let keys = await this.columnKeys(scope);
    for (let attempt = 0; attempt < 8; attempt++) {
      if (keys.active && (await this.#store.reserveMessages(keys.active.keyId, keys.active.version, granted))) {
        return { key: keys.active, granted };
      }
      const fresh = await this.reload(scope);
      if (fresh.active && fresh.active.version !== keys.active?.version) {
        keys = fresh; // another process rolled over: use its version
        continue;
      }
      const created = await this.#createVersion(scope, 'dek', fresh, granted);
      keys = await this.reload(scope);
      if (created && keys.active?.version === created.version) return { key: keys.active, granted };
    }
    throw new InternalError(`Could not reserve messages on a data key of ${scopeName(scope)}: the key rows kept changing under concurrent writers`);
  }

  /**
   * Starts a new DEK version for the column (the active one is retired and still
   * decrypts). For `steward encrypt --rotate`: re-encrypt, then retire/destroy old versions.
   */
  async rotate(scope: ColumnScope): Promise<KeyInfo> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const fresh = await this.reload(scope);
      const created = await this.#createVersion(scope, 'dek', fresh, 0);
      if (created) {
        await this.reload(scope);
        return created;
      }
    }
    throw new InternalError(`Could not rotate the data key of ${scopeName(scope)}: the key rows kept changing under concurrent writers`);
  }

  /** Stops a version encrypting; it still decrypts. False when it was not active. */
  async retire(scope: ColumnScope, version: number): Promise<boolean> {
    const keys = await this.reload(scope);
    if (!keys.keyId) return false;
    const done = await this.#store.retireKey(keys.keyId, version, this.#now().toISOString());
    await this.reload(scope);
    return done;
  }

  /**
   * Crypto-shredding: deletes the wrapped bytes of one version of the column's
   * DEK (or, without `version`, of every version and the blind-index secret).
   * Values encrypted under it can never be decrypted again; decrypting them
   * fails with `CRYPTO_KEY_DESTROYED`. Returns the versions destroyed.
   *
   * Keys other processes already hold in memory stay usable there until they
   * reload; backups of the state store still hold the wrapped key (destroy
   * those too, or rotate the master key so old backups cannot be unwrapped).
   */
  async destroy(scope: ColumnScope, version?: number): Promise<KeyInfo[]> {
    const rows = await this.#store.listKeys({ scope });
    const targets = rows.filter((r) => r.state !== 'destroyed' && (version === undefined || (r.kind === 'dek' && r.version === version)));
    const at = this.#now().toISOString();
    const out: KeyInfo[] = [];
    for (const r of targets) {
      if (await this.#store.destroyKey(r.keyId, r.version, at)) {
        const { wrapped: _w, ...info } = r;
        out.push({ ...info, state: 'destroyed', destroyedAt: at });
      }
      this.#unwrapped.delete(`${r.keyId}/${r.version}`);
    }
    if (version === undefined) this.#blindKeys.delete(scopeKey(scope));
    await this.reload(scope);
    return out;
  }

  /**
   * Master key rotation: re-wraps every live key under `to` (no data is
   * re-encrypted), all or nothing. The old master key must be this keyring's
   * current or previous one. Returns how many keys were re-wrapped.
   */
  async rewrap(to: KmsProvider): Promise<number> {
    const rows = (await this.#store.listKeys()).filter((r) => r.wrapped !== null && r.kekId !== to.keyId);
    const updates: { keyId: string; version: number; kekId: string; wrapped: string }[] = [];
    for (const r of rows) {
      const dek = await this.#unwrapRow(r);
      try {
        const aad = wrapAad(to.keyId, r.kind, r.keyId, r.version, r.scope);
        updates.push({ keyId: r.keyId, version: r.version, kekId: to.keyId, wrapped: await to.wrapKey(dek, { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad }) });
      } finally {
        dek.fill(0);
      }
    }
    await this.#recordMaster(to);
    await this.#store.rewrapKeys(updates);
    this.#providers.set(to.keyId, to);
    return updates.length;
  }

  /**
   * The column's blind-index key: HKDF-SHA256 of the column's blind-index
   * secret (a separate random 32-byte key, stored wrapped, created on first
   * use, never rotated with the DEK), with the column as HKDF info. Independent
   * of every DEK, so an index reveals nothing about the encryption key.
   */
  blindIndexKey(scope: ColumnScope): Promise<KeyObject> {
    const k = scopeKey(scope);
    let p = this.#blindKeys.get(k);
    if (!p) {
      p = this.#loadBlindKey(scope);
      this.#blindKeys.set(k, p);
      p.catch(() => this.#blindKeys.delete(k));
    }
    return p;
  }

  /** Drops every unwrapped key from memory (they are reloaded on demand). */
  forget(): void {
    this.#columns.clear();
    this.#loaded.clear();
    this.#generation++;
    this.#unwrapped.clear();
    this.#blindKeys.clear();
  }

  async #loadBlindKey(scope: ColumnScope): Promise<KeyObject> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const rows = await this.#store.listKeys({ scope, kind: 'bidx' });
      const live = rows.find((r) => r.state !== 'destroyed');
      if (live) {
        const secret = await this.#unwrapRow(live);
        try {
          const info = Buffer.concat([Buffer.from('steward/bidx/v1\0'), wrapAad('', 'bidx', live.keyId, live.version, scope)]);
          return createSecretKey(hkdf(secret, 'steward/bidx', info));
        } finally {
          secret.fill(0);
        }
      }
      if (rows.length > 0) {
        throw new CryptoError('CRYPTO_KEY_DESTROYED', `The blind-index key of ${scopeName(scope)} was destroyed`, {
          hint: 'Its blind indexes can no longer be computed; create a new column (or scope) if the column must be indexed again',
        });
      }
      const empty: ColumnKeys = { scope, keyId: null, active: null, usable: new Map(), destroyed: new Set() };
      await this.#createVersion(scope, 'bidx', empty, 0);
    }
    throw new InternalError(`Could not create the blind-index key of ${scopeName(scope)}`);
  }

  async #load(scope: ColumnScope): Promise<ColumnKeys> {
    const rows = await this.#store.listKeys({ scope, kind: 'dek' });
    const usable = new Map<number, DataKey>();
    const destroyed = new Set<number>();
    let active: DataKey | null = null;
    for (const r of rows) {
      if (r.state === 'destroyed' || r.wrapped === null) {
        destroyed.add(r.version);
        this.#unwrapped.delete(`${r.keyId}/${r.version}`);
        continue;
      }
      const id = `${r.keyId}/${r.version}`;
      let key = this.#unwrapped.get(id);
      if (!key) {
        key = new DataKey({ scope, kind: 'dek', keyId: r.keyId, version: r.version }, await this.#unwrapRow(r));
        this.#unwrapped.set(id, key);
      }
      usable.set(r.version, key);
      if (r.state === 'active') active = key;
    }
    return { scope, keyId: rows[0]?.keyId ?? null, active, usable, destroyed };
  }

  async #unwrapRow(r: StoredKey): Promise<Buffer> {
    const what = `${r.kind === 'dek' ? 'Data key' : 'Blind-index key'} ${r.keyId} version ${r.version} of ${scopeName(r.scope)}`;
    if (r.wrapped === null) {
      throw new CryptoError('CRYPTO_KEY_DESTROYED', `${what} was destroyed${r.destroyedAt ? ` on ${r.destroyedAt}` : ''}`, {
        hint: 'Values encrypted under it are unrecoverable by design (crypto-shredding)',
      });
    }
    const kms = this.#providers.get(r.kekId);
    if (!kms) {
      throw new CryptoError('CRYPTO_WRONG_KEY', `${what} is wrapped under master key ${r.kekId}, but the master key supplied is ${this.#master.keyId}`, {
        hint: 'Supply the master key (STEWARD_MASTER_KEY, key file or passphrase) these keys were created with; after a master key rotation, pass the old one as a previous key until re-wrapped',
      });
    }
    const aad = wrapAad(r.kekId, r.kind, r.keyId, r.version, r.scope);
    const key = await kms.unwrapKey(r.wrapped, { scope: r.scope, kind: r.kind, keyId: r.keyId, version: r.version, aad });
    if (key.length !== KEY_BYTES) {
      key.fill(0);
      throw new CryptoError('CRYPTO_TAMPERED', `${what} unwrapped to ${key.length} bytes instead of ${KEY_BYTES}`, { hint: 'Restore the state store from a backup' });
    }
    return key;
  }

  async #recordMaster(kms: KmsProvider): Promise<void> {
    if (kms === this.#master && this.#masterRecorded) return;
    const params = (kms as { params?: unknown }).params;
    await this.#store.addMasterKey({ id: kms.keyId, kind: kms.kind, params: params ? JSON.stringify(params) : null, createdAt: this.#now().toISOString() });
    if (kms === this.#master) this.#masterRecorded = true;
  }

  /** Creates the next version (retiring `seen.active`); null when another writer won the race. */
  async #createVersion(scope: ColumnScope, kind: KeyKind, seen: ColumnKeys, reserved: number): Promise<KeyInfo | null> {
    const all = await this.#store.listKeys({ scope, kind });
    const keyId = seen.keyId ?? all[0]?.keyId ?? randomBytes(8).toString('base64url');
    const version = all.reduce((m, r) => Math.max(m, r.version), 0) + 1;
    if (version > MAX_KEY_VERSION) throw new InternalError(`${scopeName(scope)} has run out of key versions`);
    const activeNow = all.find((r) => r.state === 'active')?.version ?? null;
    if (activeNow !== (kind === 'dek' ? (seen.active?.version ?? null) : null)) return null;
    await this.#recordMaster(this.#master);
    const dek = randomBytes(KEY_BYTES);
    let wrapped: string;
    try {
      const ctx: WrapContext = { scope, kind, keyId, version, aad: wrapAad(this.#master.keyId, kind, keyId, version, scope) };
      wrapped = await this.#master.wrapKey(dek, ctx);
      if (kind === 'dek') this.#unwrapped.set(`${keyId}/${version}`, new DataKey({ scope, kind, keyId, version }, Buffer.from(dek)));
    } finally {
      dek.fill(0);
    }
    const row = {
      scope: { source: scope.source, table: scope.table, column: scope.column },
      kind,
      keyId,
      version,
      kekId: this.#master.keyId,
      wrapped,
      messagesReserved: reserved,
      messageLimit: kind === 'dek' ? this.#messageLimit : 0,
      createdAt: this.#now().toISOString(),
    };
    const ok = await this.#store.createVersion(row, activeNow);
    if (!ok) {
      this.#unwrapped.delete(`${keyId}/${version}`);
      return null;
    }
    const state: KeyState = 'active';
    const { wrapped: _w, ...info } = row;
    return { ...info, state, messagesReserved: reserved, retiredAt: null, destroyedAt: null };
  }
}
