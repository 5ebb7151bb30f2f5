/**
 * `steward/crypto`: field-level encryption for application code, over Steward's
 * keyring (data keys per column, wrapped by a master key, kept in the state store).
 *
 * @example
 *   import { openStateStore } from 'steward';
 *   import { openKeyring, createFieldEncryption, CryptoError } from 'steward/crypto';
 *
 *   const store = await openStateStore({ url: '.steward/state.db', baseDir: process.cwd() });
 *   const keyring = await openKeyring({ store, master: { env: 'STEWARD_MASTER_KEY' } });
 *   const fields = createFieldEncryption(keyring);
 *
 *   const ctx = { source: 'shop', table: 'customers', column: 'email', rowKey: customer.id };
 *   const email_enc = await fields.encrypt(customer.email, ctx);           // 'stw1:…'
 *   const email_bidx = await fields.blindIndex(customer.email, ctx, { normalize: 'email' });
 *   // … INSERT … ; later: SELECT … WHERE email_bidx = ? with the blind index of the input
 *   const email = await fields.decrypt(row.email_enc, { ...ctx, rowKey: row.id });
 *
 * Encrypted archives for recipients' public keys (age files) are in `steward/archive`.
 *
 * Master key sources: `{ env: 'STEWARD_MASTER_KEY' }` (base64 or hex), `{ file: '/etc/steward/master.key' }`
 * (mode 0600), `{ passphrase }` (scrypt), or any {@link KmsProvider}.
 */
export {
  CIPHERTEXT_PREFIX,
  ciphertextLength,
  looksLikeCiphertext,
  parseCiphertext,
  PAYLOAD_OVERHEAD,
  type ColumnScope,
  type FieldContext,
  type ParsedCiphertext,
  type RowKey,
  type RowKeyPart,
} from './format.js';
export { ColumnCipher, createFieldEncryption, FieldEncryption } from './field.js';
export { BlindIndexer, DEFAULT_BLIND_INDEX_BYTES, type BlindIndexOptions, type Normalizer } from './blind-index.js';
export {
  DataKey,
  DEFAULT_MESSAGE_LIMIT,
  DEFAULT_RESERVE_BLOCK,
  Keyring,
  openKeyring,
  resolveMasterKey,
  type ColumnKeys,
  type KeyInfo,
  type KeyringOptions,
  type MasterKeySource,
} from './keyring.js';
export {
  DEFAULT_MASTER_KEY_ENV,
  DEFAULT_SCRYPT,
  generateMasterKeyText,
  LocalMasterKey,
  masterKeyFromEnv,
  masterKeyFromFile,
  masterKeyFromPassphrase,
  newScryptParams,
  writeMasterKeyFile,
  type KeyFileOptions,
  type ScryptParams,
} from './master-key.js';
export type { KeyKind, KeyState, KeyStore, KmsProvider, MasterKeyRecord, NewStoredKey, StoredKey, WrapContext } from './types.js';
export {
  createVaultTransitKms,
  DEFAULT_VAULT_RETRIES,
  DEFAULT_VAULT_TIMEOUT_MS,
  rewrapStoredKeys,
  VAULT_TRANSIT_KIND,
  vaultKeyVersion,
  vaultTransitFromEnv,
  VaultTransitKms,
  type VaultTransitBinding,
  type VaultTransitFactoryOptions,
  type VaultTransitKeyInfo,
  type VaultTransitOptions,
} from './kms/vault-transit.js';
export { CryptoError } from '../errors.js';
