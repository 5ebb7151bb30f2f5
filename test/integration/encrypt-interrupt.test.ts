/**
 * Ctrl-C during `steward encrypt` (the built CLI): SIGINT once a batch is checkpointed, after a
 * random further delay. It stops after the batch in flight, exits 130, says how far it got and
 * that the same command resumes, logs `column.encrypt.interrupted` with the counts; the re-run
 * finishes and every value is encrypted exactly once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createFieldEncryption } from '../../src/crypto/field.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { openStateStore } from '../../src/state/index.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
const N = 40_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-enc-int-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);

function batchesDone(stateFile: string): number {
  if (!existsSync(stateFile)) return 0;
  try {
    const db = new Database(stateFile, { readonly: true, fileMustExist: true });
    try {
      const r = db.prepare(`select counts_json from column_jobs where status = 'running' order by started_at desc limit 1`).get() as { counts_json: string } | undefined;
      return r ? Number((JSON.parse(r.counts_json) as { batches?: number }).batches ?? 0) : 0;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet, or busy: look again
  }
}

function runCli(dir: string, key: string, interrupt: boolean): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'encrypt', '--source', 's', '--column', 'enc_people.email', '--batch-size', '200'], {
      cwd: dir,
      env: { ...process.env, STEWARD_MASTER_KEY: key, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += String(b)));
    child.stderr.on('data', (b) => (stderr += String(b)));
    let poll: NodeJS.Timeout | null = null;
    if (interrupt) {
      const state = path.join(dir, '.steward', 'state.db');
      poll = setInterval(() => {
        if (batchesDone(state) >= 1) {
          clearInterval(poll!);
          poll = null;
          setTimeout(() => child.kill('SIGINT'), Math.floor(Math.random() * 150));
        }
      }, 10);
    }
    child.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe.skipIf(!existsSync(BIN))('steward encrypt interrupted with SIGINT (built CLI)', () => {
  it('SQLite: exit 130, says how far it got, logs it; the same command resumes and encrypts each value once', async () => {
    const dir = mkdtempSync(path.join(tmp, 'sqlite-'));
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.exec('create table enc_people (id integer primary key, email text)');
    const insert = db.prepare('insert into enc_people (id, email) values (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= N; i++) insert.run(i, `Int.${i}@Example.org`);
    })();
    db.close();
    writeFileSync(path.join(dir, 'steward.yml'), `sources:\n  - name: s\n    kind: sqlite\n    url: ${JSON.stringify(file)}\n    owner: t\n`);
    const key = generateMasterKeyText();

    const first = await runCli(dir, key, true);
    expect(first.signal, first.stderr).toBeNull();
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/stopped on request after the batch in flight \(\d+ value\(s\) done in \d+ batch\(es\)/);
    expect(first.stderr).toMatch(/run the same command again to resume/i);

    const second = await runCli(dir, key, false);
    expect(second.code, second.stderr).toBe(0);

    const st = await openStateStore({ url: path.join(dir, '.steward', 'state.db'), baseDir: dir });
    try {
      const log = await new Promise<string>((resolve) => {
        let out = '';
        const c = spawn(process.execPath, [BIN, 'log', '--json'], { cwd: dir, env: { ...process.env, STEWARD_MASTER_KEY: key, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
        c.stdout.on('data', (b) => (out += String(b)));
        c.on('exit', () => resolve(out));
      });
      const entries = JSON.parse(log) as { action: string; details: Record<string, unknown> }[];
      const interrupted = entries.filter((e) => e.action === 'column.encrypt.interrupted');
      expect(interrupted.length).toBe(1);
      expect(interrupted[0]!.details).toMatchObject({ error: 'INTERRUPTED' });
      expect(Number(interrupted[0]!.details.batches)).toBeGreaterThanOrEqual(1);
      expect(entries.some((e) => e.action === 'column.encrypt.finished')).toBe(true);
      const fields = createFieldEncryption(await openKeyring({ store: st, master: await masterKeyFromEnv('K', { K: key }) }));
      const cipher = await fields.column({ source: 's', table: 'enc_people', column: 'email' });
      const check = new Database(file);
      const rows = check.prepare('select id, email from enc_people order by id').all() as { id: number; email: string }[];
      check.close();
      expect(rows.length).toBe(N);
      for (const r of rows) expect(cipher.decryptSync(r.email, r.id)).toBe(`Int.${r.id}@Example.org`); // once: the plaintext, not another ciphertext
    } finally {
      await st.close();
    }
  }, 300_000);
});
