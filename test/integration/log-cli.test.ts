/** `steward log` commands over a real store: intact → 0, tampered → exit 6 naming the entry. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoDatabase } from '../../src/demo/build-demo.js';
import { audit } from '../../src/interfaces/cli/commands/audit.js';
import { logCheckpoint, logList, logVerify } from '../../src/interfaces/cli/commands/log.js';
import type { Io } from '../../src/interfaces/cli/output.js';
import { ExitCode, TamperError } from '../../src/errors.js';

function io(cwd: string): Io & { out: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (b) => (out += String(b)));
  stderr.resume();
  return { stdout, stderr, env: {}, cwd, out: () => out };
}

describe('steward log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-logcli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists audit runs, verifies, checkpoints, and catches tampering with exit 6', async () => {
    await buildDemoDatabase(path.join(dir, 'shop.db'), { customers: 30 });
    writeFileSync(path.join(dir, 'steward.yml'), 'sources:\n  - name: shop\n    kind: sqlite\n    url: shop.db\n    owner: t\n');
    await audit({ format: 'json' }, io(dir));
    await audit({ format: 'json' }, io(dir));

    const list = io(dir);
    expect(await logList({ json: true }, list)).toBe(0);
    const entries = JSON.parse(list.out()) as { seq: number; action: string; details: { new: number } }[];
    expect(entries.map((e) => [e.seq, e.action])).toEqual([[1, 'audit.run'], [2, 'audit.run']]);
    expect(entries[1]!.details.new).toBe(0);
    // No personal value from the demo database in the log.
    const db = new Database(path.join(dir, 'shop.db'), { readonly: true });
    const emails = db.prepare('select email from customers limit 20').all() as { email: string }[];
    db.close();
    for (const { email } of emails) expect(list.out()).not.toContain(email);

    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path.join(dir, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path.join(dir, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    expect(await logCheckpoint({ key: 'k.pem', out: 'cp.json' }, io(dir))).toBe(0);
    const ok = io(dir);
    expect(await logVerify({ checkpoint: 'cp.json', publicKey: 'k.pub' }, ok)).toBe(0);
    expect(ok.out()).toContain('intact: 2 entries; checkpoint at entry 2 holds');

    const state = new Database(path.join(dir, '.steward', 'state.db'));
    state.prepare(`update activity_log set details_json = replace(details_json, '"fixed":0', '"fixed":5') where seq = 2`).run();
    state.close();
    const err = (await logVerify({}, io(dir)).catch((e: unknown) => e)) as TamperError;
    expect(err).toBeInstanceOf(TamperError);
    expect(err.exitCode).toBe(ExitCode.Tampered);
    expect(err.message).toContain('broken at entry 2 (changed)');
  });
});
