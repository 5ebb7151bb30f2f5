/**
 * Files the user names (`--out`, `--config`, a key file): checked before the work
 * starts, and any file-system failure turned into a FileError (exit 9) that names the
 * path, why, and what to do, instead of an internal error after a whole audit ran.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileError } from './errors.js';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EMFILE: 'too many files are open',
  ENAMETOOLONG: 'the path is too long',
};

/** The user-facing error for a failed write of `shown` (the path as the user gave it). */
export function fileWriteError(e: unknown, shown: string, what: string): FileError {
  const code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  const why = WHY[code] ?? `the system said ${code}`;
  const hint =
    code === 'ENOENT' ? `Create the folder first (mkdir -p ${path.dirname(shown)}), or give another path` : code === 'ENOSPC' || code === 'EDQUOT' ? 'Free some space, or give a path on another disk' : 'Give a path you can write to';
  return new FileError('FILE_WRITE', shown, `cannot write ${what} to ${shown}: ${why} (${code})`, { reason: code, hint });
}

/**
 * Checks, before any work, that `target` (relative to `cwd`) can be written: not a folder,
 * its folder exists and is writable. Throws FileError naming the problem.
 */
export function checkWritable(target: string, cwd: string, what: string): string {
  const file = path.resolve(cwd, target);
  const fail = (code: string) => {
    throw fileWriteError(Object.assign(new Error(code), { code }), target, what);
  };
  try {
    if (statSync(file).isDirectory()) fail('EISDIR');
    accessSync(file, constants.W_OK);
    return file;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof FileError) throw e;
      fail((e as NodeJS.ErrnoException).code ?? 'EACCES');
    }
  }
  const dir = path.dirname(file);
  try {
    if (!statSync(dir).isDirectory()) fail('ENOTDIR');
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof FileError) throw e;
    fail((e as NodeJS.ErrnoException).code ?? 'ENOENT');
  }
  return file;
}

/** Writes a file the user named; a failure (a full disk after the check) is a FileError too. */
export async function writeUserFile(file: string, shown: string, text: string | Uint8Array, what: string, options: { readonly mode?: number } = {}): Promise<void> {
  try {
    await writeFile(file, text, typeof text === 'string' ? { encoding: 'utf8', ...(options.mode !== undefined ? { mode: options.mode } : {}) } : { ...(options.mode !== undefined ? { mode: options.mode } : {}) });
  } catch (e) {
    throw fileWriteError(e, shown, what);
  }
}
