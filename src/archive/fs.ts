/**
 * The file operations a retention archive set uses, behind one small interface
 * so tests can make a write fail the way a full disk does (ENOSPC) without
 * filling one. `nodeArchiveFs` is the real thing (node:fs/promises).
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ArchiveError } from '../errors.js';

export interface ArchiveFileHandle {
  write(data: Uint8Array): Promise<void>;
  /** fsync. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface ArchiveFs {
  mkdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** `flags` as node's `open`: `wx` (create, fail if it exists), `a` (append), `r+`. */
  open(file: string, flags: string, mode?: number): Promise<ArchiveFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readFile(file: string): Promise<Buffer>;
  /** Size and kind, or null when the path does not exist. */
  stat(file: string): Promise<{ size: number; isFile: boolean; isDirectory: boolean } | null>;
  createReadStream(file: string): Readable;
  /** fsync of a directory, so a rename or a new file in it survives a crash. */
  syncDir(dir: string): Promise<void>;
}

export const nodeArchiveFs: ArchiveFs = {
  mkdir: async (dir) => {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      // A recursive mkdir reports ENOENT on a read-only parent; the plain one says why.
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      await mkdir(dir);
    }
  },
  readdir: (dir) => readdir(dir),
  open: async (file, flags, mode) => {
    const h = await open(file, flags, mode);
    return {
      write: async (data) => {
        let at = 0;
        while (at < data.length) at += (await h.write(data, at, data.length - at)).bytesWritten;
      },
      sync: () => h.sync(),
      truncate: (length) => h.truncate(length),
      close: () => h.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  unlink: (file) => unlink(file),
  readFile: (file) => readFile(file),
  stat: async (file) => {
    try {
      const s = await stat(file);
      return { size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory() };
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return null;
      throw e;
    }
  },
  createReadStream: (file) => createReadStream(file),
  syncDir: async (dir) => {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } catch (e) {
      // Some file systems cannot fsync a directory (EINVAL); there is nothing more to do there.
      if ((e as { code?: string }).code !== 'EINVAL') throw e;
    } finally {
      await h.close();
    }
  },
};

const WHY: Record<string, string> = {
  ENOSPC: 'the target is full (ENOSPC)',
  EDQUOT: 'the disk quota is exceeded (EDQUOT)',
  EROFS: 'the target is read-only (EROFS)',
  EACCES: 'no permission to write there (EACCES)',
  EPERM: 'no permission to write there (EPERM)',
  ENOTDIR: 'a path component is not a directory (ENOTDIR)',
  ENOENT: 'it does not exist (ENOENT)',
  EIO: 'an I/O error (EIO)',
};

/** Why a file operation failed, in words (the errno name, never file contents). */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: string }).code;
  return code ? (WHY[code] ?? code) : e instanceof Error ? e.message : String(e);
}

/** An `ARCHIVE_TARGET` error for a failed write of `what` in `dir`. */
export function targetError(dir: string, what: string, e: unknown): ArchiveError {
  return new ArchiveError('ARCHIVE_TARGET', `Cannot write ${what} in the archive directory ${dir}: ${describeFsError(e)}`, {
    hint: 'Nothing from this write counts as archived, so no row may be deleted for it; free space or fix permissions, then run again (the set resumes where it stopped)',
    cause: e,
  });
}
