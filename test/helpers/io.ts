/** An in-memory Io for calling CLI commands directly: stdout is captured, stderr discarded. */
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/interfaces/cli/output.js';

export function captureIo(cwd: string): Io & { out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.resume();
  return { stdout, stderr, env: {}, cwd, out: () => out };
}
