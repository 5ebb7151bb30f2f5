/**
 * `steward/archive`: files and archive sets encrypted to recipients' public keys,
 * as age files (https://age-encryption.org/v1), so the machine that writes them
 * cannot read them back and `age -d` opens them without Steward. Files of
 * Steward's earlier format (`steward-archive/1`, `.stwa`) are still read.
 * docs/archives.md describes the layout and how to open an archive with age alone.
 *
 * @example
 *   import { pipeline } from 'node:stream/promises';
 *   import { encryptStream, encryptFile, decryptFile, readIdentityFile, verifyArchiveSet } from 'steward/archive';
 *
 *   // The writer holds public keys only:
 *   await pipeline(exportRows(), encryptStream(['age1…', 'age1…']), createWriteStream('export.jsonl.age'));
 *   await encryptFile('export.csv', 'export.csv.age', ['age1…']);
 *
 *   // Whoever holds a private key (`age -d -i dpo.key export.csv.age` does the same):
 *   await decryptFile('export.csv.age', 'export.csv', await readIdentityFile('dpo.key'));
 *   await verifyArchiveSet('archives/orders-5y/<run>', { privateKey: await readIdentityFile('dpo.key') });
 */
export {
  fingerprintOf,
  generateRecipient,
  identityFileText,
  LEGACY_PRIVATE_KEY_PREFIX,
  LEGACY_PUBLIC_KEY_PREFIX,
  parseIdentity,
  parseRecipient,
  parseRecipients,
  PRIVATE_KEY_PREFIX,
  PUBLIC_KEY_PREFIX,
  publicKeyOf,
  readIdentityFile,
  readRecipientsFile,
  Recipient,
  RecipientIdentity,
  writeIdentityFile,
  type GeneratedRecipient,
  type IdentityFileOptions,
} from './keys.js';
export {
  AGE_MAGIC,
  archiveLength,
  CHUNK_BYTES as ARCHIVE_CHUNK_BYTES,
  decryptBuffer,
  decryptStream,
  encryptBuffer,
  encryptStream,
  inspectArchiveHeader,
  looksLikeArchive,
  type ArchiveDecryptStream,
  type ArchiveEncryptStream,
  type ArchiveHeader,
  type DecryptOptions as ArchiveDecryptOptions,
} from './age.js';
export { decryptFile, encryptFile, type DecryptFileResult, type EncryptFileResult, type FileOptions as ArchiveFileOptions } from './files.js';
export {
  openArchiveSet,
  openOrResumeArchiveSet,
  resumeArchiveSet,
  signManifest,
  type ArchiveSetWriter,
  type FinishResult,
  type OpenArchiveSetOptions,
  type ResumeArchiveSetOptions,
  type WriteChunkResult,
} from './set.js';
export { readArchiveManifest, readChunkRows, verifyArchiveSet, type ArchiveSetVerification, type VerifyArchiveSetOptions } from './verify.js';
export { restoreArchiveSet, type RestoreArchiveSetOptions, type RestoreResult } from './restore.js';
export { ARCHIVE_SET_FORMAT, chunkFileName, LEGACY_SET_FORMAT, MANIFEST_FILE, type ArchiveChunkRecord, type ArchiveColumn, type ArchiveManifest } from './codec.js';
export { ArchiveError, CryptoError } from '../errors.js';
