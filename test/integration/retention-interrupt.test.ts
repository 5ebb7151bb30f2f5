/**
 * Ctrl-C during `steward retention apply` (the built CLI): SIGINT (or SIGTERM) once the
 * run has shown progress (a batch checkpointed in the state store), after a random further
 * delay. The run stops after the batch in flight, exits 130, says how far it got and that
 * the same command resumes, logs `retention.interrupted`; the re-run finishes the same job
 * and its one certificate counts every due row exactly once. SQLite, and PostgreSQL when
 * the server is up.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/state/index.js';
import { uniqueName } from '../helpers/dialects.js';
import { inject, PG_URL } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
const N = 30_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-retint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);

const due = (id: number) => id % 3 !== 0;

/** Runs `retention apply`; once the state store shows a checkpointed batch, waits a random 0–150 ms and sends `signal`. */
function applyAndInterrupt(dir: string, signal: 'SIGINT' | 'SIGTERM' | null): Promise<{ code: number | null; stderr: string; progressSeen: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'retention', 'apply'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited = false;
    let progressSeen = false;
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('exit', (code) => {
      exited = true;
      resolve({ code, stderr, progressSeen });
    });
    if (!signal) return;
    void (async () => {
      const state = path.join(dir, '.steward', 'state.db');
      while (!exited) {
        if (existsSync(state)) {
          const db = new Database(state, { readonly: true, fileMustExist: true });
          try {
            const rows = db.prepare("select counts_json as counts from column_jobs where status = 'running'").all() as { counts: string }[];
            if (rows.some((r) => Number((JSON.parse(r.counts) as { batches?: number }).batches ?? 0) > 0)) progressSeen = true;
          } catch {
            // the store is being created or migrated: look again
          } finally {
            db.close();
          }
        }
        if (progressSeen) {
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
          child.kill(signal);
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  });
}

async function interruptThenResume(dir: string, kind: string, url: string, remaining: () => Promise<number>): Promise<void> {
  writeFileSync(
    path.join(dir, 'steward.yml'),
    ['sources:', `  - { name: s, kind: ${kind}, url: ${JSON.stringify(url)}, owner: t }`, 'retention:', '  batchSize: 10', '  policies:', '    - { name: visits, source: s, table: visits, from: seen, period: 2y, method: erase, legalBasis: "no longer needed" }'].join('\n'),
  );
  const keep = Array.from({ length: N }, (_, i) => i + 1).filter((id) => !due(id)).length;
  let stopped = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const r = await applyAndInterrupt(dir, signal);
    expect(r.progressSeen, `${signal} exit ${r.code}: ${r.stderr}`).toBe(true);
    if (r.code === 0 || r.code === null) continue; // finished before the signal landed (null: after the handler was removed)
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('stopping after the batch in flight');
    expect(r.stderr).toMatch(/retention policy "visits" stopped on request after the batch in flight \(\d+ row\(s\) in \d+ batch\(es\) done\)/);
    expect(r.stderr).toMatch(/run the same command again to resume/i);
    expect(r.stderr).not.toMatch(/    at |bug in Steward/);
    const left = await remaining();
    expect(left).toBeLessThan(N);
    expect(left).toBeGreaterThan(keep);
    stopped++;
  }
  expect(stopped).toBeGreaterThan(0);
  const last = await applyAndInterrupt(dir, null);
  expect(last.code, last.stderr).toBe(0);
  expect(await remaining()).toBe(keep);
  const store = await openStateStore({ url: path.join(dir, '.steward', 'state.db'), baseDir: dir });
  try {
    const entries = [];
    for await (const b of store.activityBatches({})) entries.push(...b);
    const interrupted = entries.filter((e) => e.action === 'retention.interrupted');
    expect(interrupted).toHaveLength(stopped);
    expect(interrupted.every((e) => (e.details as { error: string }).error === 'INTERRUPTED')).toBe(true);
    const certs = entries.filter((e) => e.action === 'retention.certificate');
    expect(certs).toHaveLength(1);
    expect((certs[0]!.details as { rows: number }).rows).toBe(N - keep);
    expect((await store.verifyActivityLog()).ok).toBe(true);
  } finally {
    await store.close();
  }
}

describe.skipIf(!existsSync(BIN))('steward retention apply stopped by SIGINT/SIGTERM and resumed (built CLI)', () => {
  it('SQLite', async () => {
    const dir = mkdtempSync(path.join(tmp, 'sqlite-'));
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.exec('create table visits (id integer primary key, ip text, seen date)');
    const ins = db.prepare('insert into visits values (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= N; i++) ins.run(i, `10.0.${i % 250}.${i % 200}`, due(i) ? '2019-01-01' : '2099-01-01');
    })();
    db.close();
    await interruptThenResume(dir, 'sqlite', file, async () => {
      const r = new Database(file, { readonly: true });
      try {
        return (r.prepare('select count(*) as n from visits').get() as { n: number }).n;
      } finally {
        r.close();
      }
    });
  }, 240_000);

  it.skipIf(!inject('servers').postgres)('PostgreSQL', async () => {
    const name = uniqueName('steward_retint');
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    try {
      await c.query(`create table visits (id integer primary key, ip text, seen date)`);
      await c.query(`insert into visits select i, '10.0.0.1', case when i % 3 <> 0 then date '2019-01-01' else date '2099-01-01' end from generate_series(1, ${N}) i`);
      await interruptThenResume(mkdtempSync(path.join(tmp, 'pg-')), 'postgres', u.toString(), async () => Number((await c.query('select count(*) as n from visits')).rows[0].n));
    } finally {
      await c.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }, 240_000);
});
