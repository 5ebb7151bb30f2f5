/**
 * The contracts of Steward's keyring: where wrapped keys are stored
 * ({@link KeyStore}, implemented by the state store in src/state/keys.ts) and
 * who wraps them ({@link KmsProvider}, implemented locally by `LocalMasterKey` in
 * master-key.ts). No key material crosses these interfaces unwrapped except
 * the DEK handed to a KMS to wrap, and the DEK it returns when unwrapping.
 */
import type { ColumnScope } from './format.js';

/**
 * What a key row is for:
 * - `dek`: a data-encryption key of one column, versioned; encrypts values.
 * - `bidx`: the blind-index secret of one column (one version, never rotated with
 *   the DEK, so `WHERE email_bidx = ?` keeps working across DEK rotations).
 */
export type KeyKind = 'dek' | 'bidx';

/**
 * - `active`: the version new values are encrypted with (one per scope and kind);
 * - `retired`: still decrypts, never encrypts;
 * - `destroyed`: its wrapped bytes are deleted (crypto-shredding); values under it are unrecoverable.
 */
export type KeyState = 'active' | 'retired' | 'destroyed';

/** A key row as stored: never the plaintext key. */
export interface StoredKey {
  readonly scope: ColumnScope;
  readonly kind: KeyKind;
  /** Identifies the key across versions; written into every ciphertext. */
  readonly keyId: string;
  readonly version: number;
  readonly state: KeyState;
  /** The master key (KEK) id the key is wrapped under, e.g. `local:…`; kept after destruction. */
  readonly kekId: string;
  /** The KMS's wrapped form (for `LocalMasterKey`: base64url `nonce ‖ ciphertext ‖ tag`); null once destroyed. */
  readonly wrapped: string | null;
  /** Messages (nonces) handed out for this version so far, in blocks; counts up to `messageLimit`. */
  readonly messagesReserved: number;
  /** Most messages this version may encrypt before Steward rolls over to a new version. */
  readonly messageLimit: number;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly destroyedAt: string | null;
}

export type NewStoredKey = Omit<StoredKey, 'state' | 'retiredAt' | 'destroyedAt' | 'messagesReserved'> & {
  readonly messagesReserved?: number;
};

/** A master key the store has seen, with what is needed to re-derive it (no key material). */
export interface MasterKeyRecord {
  /** The KEK id, e.g. `local:9f3Kx…` (a fingerprint of the key: see LocalMasterKey). */
  readonly id: string;
  /** `key` (32 raw bytes from an env var or file), `passphrase` (scrypt), or an external KMS name (`vault-transit`, `aws-kms`, …). */
  readonly kind: string;
  /** For `passphrase`: the scrypt parameters and salt (JSON of {@link ScryptParams}); otherwise null. */
  readonly params: string | null;
  readonly createdAt: string;
}

/**
 * Persistence for the keyring. Every method is atomic on its own; the keyring
 * relies on the conditional ones (`createVersion`, `reserveMessages`) for
 * correctness when several processes share one store.
 */
export interface KeyStore {
  /** Every key row, optionally of one scope and/or kind, ordered by scope, kind, version. */
  listKeys(filter?: { readonly scope?: ColumnScope; readonly kind?: KeyKind }): Promise<StoredKey[]>;
  /**
   * Inserts `key` as the new `active` version and, in the same transaction, retires
   * `retire` (the version the caller believed active; null when there is none).
   * Returns false, changing nothing, when another writer got there first: `retire`
   * is no longer active, or `key.version` (or that scope/kind/version) already exists.
   */
  createVersion(key: NewStoredKey, retire: number | null): Promise<boolean>;
  /**
   * Adds `count` to the version's `messagesReserved` if it stays within its
   * `messageLimit` and the version is still active. False (nothing reserved) otherwise.
   */
  reserveMessages(keyId: string, version: number, count: number): Promise<boolean>;
  /** Active → retired. False when the version does not exist or is not active. */
  retireKey(keyId: string, version: number, at: string): Promise<boolean>;
  /** Deletes the wrapped bytes and marks the version destroyed. False when it does not exist or already is. */
  destroyKey(keyId: string, version: number, at: string): Promise<boolean>;
  /** Replaces wrapped forms (master key rotation), all or nothing. */
  rewrapKeys(updates: readonly { readonly keyId: string; readonly version: number; readonly kekId: string; readonly wrapped: string }[]): Promise<void>;
  listMasterKeys(): Promise<MasterKeyRecord[]>;
  /** Records a master key; a no-op when its id is already recorded. */
  addMasterKey(record: MasterKeyRecord): Promise<void>;
}

/** What a wrapped key is bound to; a KMS must authenticate `aad` (or the fields) with the wrap. */
export interface WrapContext {
  readonly scope: ColumnScope;
  readonly kind: KeyKind;
  readonly keyId: string;
  readonly version: number;
  /** Canonical bytes of the fields above (plus the KEK id): what `LocalMasterKey` uses as GCM associated data. */
  readonly aad: Buffer;
}

/**
 * A key-encryption service: wraps and unwraps data keys under a master key it
 * holds. Steward stores only what `wrapKey` returns, next to `keyId`.
 *
 * Implementations (one per provider; `LocalMasterKey` in master-key.ts is the first):
 *
 * - **Local** (`LocalMasterKey`): AES-256-GCM under a key derived (HKDF) from the 32-byte
 *   master key, random nonce, `context.aad` as associated data. `keyId` is
 *   `local:` + a 72-bit HKDF fingerprint of the master key
 *   (format: docs/encryption.md#wrapped-data-keys).
 *
 * - **HashiCorp Vault transit** (e.g. `VaultTransitKms({ address, token, mount: 'transit', name })`):
 *   `keyId` = `vault:<mount>/<name>`. `wrapKey` = `POST /v1/<mount>/encrypt/<name>`
 *   with `{ plaintext: base64(dek), associated_data: base64(context.aad) }` (an
 *   `aes256-gcm96` key; or `context: base64(aad)` for a `derived` key); store the
 *   returned `data.ciphertext` (`vault:v3:…`) as is. `unwrapKey` = `POST …/decrypt/<name>`
 *   with the same associated data; map HTTP 400 "cipher: message authentication
 *   failed" to `CRYPTO_TAMPERED`, 403 to `CRYPTO_WRONG_KEY` (token lacks the key),
 *   unreachable to `CRYPTO_MASTER_KEY`. Rotating the Vault key keeps old versions
 *   decrypting; `…/rewrap/<name>` re-wraps without exposing DEKs.
 *
 * - **AWS KMS** (`@aws-sdk/client-kms`, endpoint overridable for a local test server):
 *   `keyId` = `aws-kms:<key ARN>`. `wrapKey` = `Encrypt({ KeyId, Plaintext: dek,
 *   EncryptionContext: { steward: base64(context.aad) } })`, store base64(CiphertextBlob).
 *   `unwrapKey` = `Decrypt({ CiphertextBlob, KeyId, EncryptionContext })` (same context:
 *   KMS refuses on mismatch → `CRYPTO_TAMPERED`; `IncorrectKeyException` /
 *   `AccessDeniedException` → `CRYPTO_WRONG_KEY`).
 *
 * Rules for every implementation: never log or put `dek` (or what unwrap returns)
 * in an error; throw `CryptoError` with the codes above; be safe to call concurrently.
 */
export interface KmsProvider {
  /** The KEK new keys are wrapped under; stored with every wrapped key. */
  readonly keyId: string;
  /** Recorded in the store's master key list (`key`, `passphrase`, `vault-transit`, …). */
  readonly kind: string;
  /** Returns the wrapped form of `dek` (text, stored as is). */
  wrapKey(dek: Uint8Array, context: WrapContext): Promise<string>;
  /**
   * Returns the DEK `wrapped` holds. Throws `CryptoError` `CRYPTO_TAMPERED` when
   * the wrapped bytes or their context were changed.
   */
  unwrapKey(wrapped: string, context: WrapContext): Promise<Buffer>;
}
