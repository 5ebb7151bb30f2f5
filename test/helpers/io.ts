/** An in-memory Io for calling CLI commands directly: stdout and stderr are captured. */
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/interfaces/cli/output.js';

export function captureIo(cwd: string): Io & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.on('data', (b) => (err += String(b)));
  return { stdout, stderr, env: {}, cwd, out: () => out, err: () => err };
}
