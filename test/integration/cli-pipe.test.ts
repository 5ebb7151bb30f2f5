/**
 * The built CLI when its reader goes away (`steward --help | head -1`): no EPIPE stack
 * trace, and the command's own exit code. The read end is closed before the child
 * writes anything, so every write meets a closed pipe.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);

function runClosed(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(!existsSync(BIN))('CLI output into a closed pipe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-pipe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const args of [['--help'], ['demo', '--help'], ['subject', 'erase', '--help'], ['request', '--help'], ['--version']]) {
    it(`steward ${args.join(' ')}: exit 0, no EPIPE`, async () => {
      const r = await runClosed(args, dir);
      expect(r.stderr).not.toContain('EPIPE');
      expect(r.stderr).not.toContain('Unhandled');
      expect(r.code).toBe(0);
    });
  }
  it('an error still says what failed and exits with its code (stderr is open)', async () => {
    const r = await runClosed(['audit', '--config', path.join(dir, 'missing.yml')], dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('missing.yml');
    expect(r.stderr).not.toContain('EPIPE');
  });
});
