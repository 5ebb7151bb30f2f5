/**
 * Archives as files: {@link encryptFile} and {@link decryptFile}, written
 * atomically (a temporary file renamed when complete), so an output path either
 * does not change or holds the whole result.
 *
 * @example
 *   import { encryptFile, decryptFile, readIdentityFile } from 'steward/archive';
 *
 *   // The writer holds public keys only:
 *   await encryptFile('export.csv', 'export.csv.age', ['age1…']);
 *   // Whoever holds a private key (or: age -d -i dpo.key export.csv.age > export.csv):
 *   await decryptFile('export.csv.age', 'export.csv', await readIdentityFile('dpo.key'));
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { decryptStream, encryptStream, type DecryptOptions } from './age.js';
import type { Recipient, RecipientIdentity } from './keys.js';

export interface FileOptions {
  /** Replace `outPath` if it exists (default false: refused, and nothing is written). */
  readonly overwrite?: boolean;
  /** Permissions of a new output file (default 0644 for an archive, 0600 for decrypted plaintext; the umask applies). */
  readonly mode?: number;
}

export interface EncryptFileResult {
  readonly plaintextBytes: number;
  readonly archiveBytes: number;
  readonly recipients: readonly Recipient[];
}

export interface DecryptFileResult {
  readonly plaintextBytes: number;
  readonly archiveBytes: number;
  /** The recipient whose key opened it. */
  readonly recipient: Recipient;
  /** The format it was in: an age file, or Steward's earlier format. */
  readonly format: 'age' | 'steward-archive/1';
}

async function openInput(file: string): Promise<Readable> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`Cannot read ${file}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? 'unreadable')}`, { hint: 'Check the path', cause: e });
  }
  if (!info.isFile()) throw new UsageError(`${file} is not a regular file`, { hint: 'Give the path of a file' });
  return createReadStream(file);
}

async function refuseExisting(file: string): Promise<void> {
  if (await stat(file).then(() => true, () => false)) {
    throw new UsageError(`${file} already exists`, { hint: 'Steward does not overwrite files unless asked (--force); choose another output path or remove it' });
  }
}

/**
 * Writes `outPath` through `write` atomically: into a temporary file in the same
 * directory, synced (fsync) and closed by the write stream, then renamed (or hard-linked, when overwriting is not
 * allowed, so an existing file is never replaced); the temporary file is removed
 * on any error, so `outPath` either does not change or holds the whole result.
 */
async function writeAtomically(outPath: string, options: FileOptions, defaultMode: number, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  if (!options.overwrite) await refuseExisting(outPath);
  const tmp = path.join(path.dirname(outPath), `.${path.basename(outPath)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | null;
  try {
    handle = await open(tmp, 'wx', options.mode ?? defaultMode);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`Cannot write to the directory of ${outPath}: ${code ?? 'error'}`, { hint: 'Check the directory exists and is writable', cause: e });
  }
  try {
    await write(handle); // through handle.createWriteStream({ flush: true }): synced and closed when done
    handle = null;
    if (options.overwrite) {
      await rename(tmp, outPath);
    } else {
      try {
        await link(tmp, outPath); // fails with EEXIST instead of replacing a file created meanwhile
        await unlink(tmp);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'EEXIST') await refuseExisting(outPath);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
        await refuseExisting(outPath); // no hard links on this file system
        await rename(tmp, outPath);
      }
    }
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dir = await open(path.dirname(outPath), 'r').catch(() => null);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}

/**
 * Encrypts the file `inPath` to `recipients` into `outPath`, an age file
 * (atomically: a temporary file renamed when complete). Needs public keys only.
 */
export async function encryptFile(inPath: string, outPath: string, recipients: readonly (Recipient | string)[], options: FileOptions = {}): Promise<EncryptFileResult> {
  const enc = encryptStream(recipients); // validates the recipients before any file is touched
  const input = await openInput(inPath);
  await writeAtomically(outPath, options, 0o644, (handle) => pipeline(input, enc, handle.createWriteStream({ flush: true })));
  return { plaintextBytes: enc.plaintextBytes, archiveBytes: enc.archiveBytes, recipients: enc.recipients };
}

/**
 * Decrypts the archive `inPath` into `outPath` with one of `identities`. The
 * plaintext goes to a temporary file (mode 0600) renamed to `outPath` only when
 * the whole archive verified: a tampered or truncated archive leaves nothing.
 */
export async function decryptFile(
  inPath: string,
  outPath: string,
  identities: RecipientIdentity | readonly RecipientIdentity[],
  options: FileOptions & DecryptOptions = {},
): Promise<DecryptFileResult> {
  const dec = decryptStream(identities, { name: options.name ?? `The archive ${inPath}` });
  const input = await openInput(inPath);
  await writeAtomically(outPath, options, 0o600, (handle) => pipeline(input, dec, handle.createWriteStream({ flush: true })));
  return { plaintextBytes: dec.plaintextBytes, archiveBytes: dec.archiveBytes, recipient: dec.recipient!, format: dec.format! };
}
