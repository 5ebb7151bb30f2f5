import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, FileError } from '../../src/errors.js';
import { checkWritable, fileWriteError } from '../../src/files.js';
import { main } from '../../src/interfaces/cli/cli.js';
import { captureIo } from '../helpers/io.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (f: () => unknown): FileError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FileError);
    return e as FileError;
  }
  throw new Error('no error');
};

describe('files the user names', () => {
  it('checkWritable names a missing folder, a folder given as the file, and accepts a writable path', () => {
    expect(failure(() => checkWritable('nope/report.html', dir, 'the report')).message).toMatch(/cannot write the report to nope\/report\.html: its folder does not exist \(ENOENT\)/);
    mkdirSync(path.join(dir, 'a-folder'));
    expect(failure(() => checkWritable('a-folder', dir, 'the report')).reason).toBe('EISDIR');
    expect(checkWritable('ok.html', dir, 'the report')).toBe(path.join(dir, 'ok.html'));
  });

  it('a full disk is a FileError with its own hint', () => {
    const e = fileWriteError(Object.assign(new Error('x'), { code: 'ENOSPC' }), 'out.json', 'the checkpoint');
    expect(e.exitCode).toBe(ExitCode.File);
    expect(e.hint).toMatch(/Free some space/);
  });

  it('audit --out, log checkpoint --out and init --config into a missing folder exit 9 before any work, with no stack trace', async () => {
    for (const argv of [
      ['audit', '--out', 'missing/report.html', '--format', 'html'],
      ['log', 'checkpoint', '--key', 'k.pem', '--out', 'missing/cp.json'],
      ['init', '--config', 'missing/steward.yml'],
    ]) {
      const io = captureIo(dir);
      const code = await main(argv, io);
      expect(code, `${argv.join(' ')}: ${io.err()}`).toBe(ExitCode.File);
      expect(io.err()).toMatch(/its folder does not exist/);
      expect(io.err()).not.toMatch(/bug in Steward|    at /);
    }
  });
});
