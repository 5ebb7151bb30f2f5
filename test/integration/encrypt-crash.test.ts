/**
 * Crash safety of `steward encrypt`: the built CLI is killed with SIGKILL at
 * random moments, at least ten times, and run again each time; at the end
 * every row decrypts to exactly its original value (nothing lost), no value was
 * encrypted twice, every blind index matches, and the activity log verifies.
 * Runs on SQLite and, when the server is up, on PostgreSQL.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createFieldEncryption } from '../../src/crypto/field.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { generateMasterKeyText, masterKeyFromEnv } from '../../src/crypto/master-key.js';
import { openStateStore } from '../../src/state/index.js';
import { runAndKillAfterProgress } from '../helpers/crash.js';
import { uniqueName } from '../helpers/dialects.js';
import { inject, PG_URL } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../dist/interfaces/cli/bin.js', import.meta.url));
const N = 30_000;
const KILLS = 12;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-crash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// `npm test` builds first; in CI a missing build is a failure, not a skip.
if (process.env.CI && !existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` before the tests`);

interface Target {
  readonly url: string;
  readonly kind: 'sqlite' | 'postgres';
  rows(): Promise<{ id: number; email: string | null; email_bidx: string | null }[]>;
  close(): Promise<void>;
}

/** Runs the migration; with a delay, SIGKILLs it that long after its first checkpoint (see test/helpers/crash.ts). */
function runCli(dir: string, key: string, killDelayMs: number | null) {
  return runAndKillAfterProgress({
    bin: BIN,
    args: ['encrypt', '--source', 's', '--column', 'people.email', '--batch-size', '40', '--blind-index', 'email_bidx', '--normalize', 'email'],
    cwd: dir,
    env: { ...process.env, STEWARD_MASTER_KEY: key, NO_COLOR: '1' },
    stateDb: path.join(dir, '.steward', 'state.db'),
    delayMs: killDelayMs,
  });
}

async function crashLoop(target: Target, dir: string): Promise<void> {
  const key = generateMasterKeyText();
  writeFileSync(path.join(dir, 'steward.yml'), `sources:\n  - name: s\n    kind: ${target.kind}\n    url: ${JSON.stringify(target.url)}\n    owner: t\n`);
  const original = new Map((await target.rows()).map((r) => [r.id, r.email]));
  let killed = 0;
  let midway = 0;
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 60 && (killed < KILLS || midway === 0); i++) {
    const r = await runCli(dir, key, Math.floor(rand() ** 2 * 400)); // mostly soon after a checkpoint, sometimes well after
    if (r.signal === 'SIGKILL') killed++;
    else expect(r.code, r.stderr).toBe(0); // it finished before the kill: fine, the next runs find nothing to do
    const encrypted = (await target.rows()).filter((x) => x.email?.startsWith('stw1:')).length;
    if (encrypted > 0 && encrypted < original.size - N / 10) midway++;
  }
  expect(killed).toBeGreaterThanOrEqual(KILLS);
  expect(midway).toBeGreaterThan(0); // some kills landed in the middle of the migration
  const last = await runCli(dir, key, null);
  expect(last.code, last.stderr).toBe(0);

  const store = await openStateStore({ url: path.join(dir, '.steward', 'state.db'), baseDir: dir });
  try {
    const fields = createFieldEncryption(await openKeyring({ store, master: await masterKeyFromEnv('K', { K: key }) }));
    const cipher = await fields.column({ source: 's', table: 'people', column: 'email' });
    const bidx = await fields.blindIndexer({ source: 's', table: 'people', column: 'email' }, { normalize: 'email' });
    const rows = await target.rows();
    expect(rows.length).toBe(original.size);
    for (const r of rows) {
      const was = original.get(r.id);
      if (was === null) {
        expect(r.email).toBeNull();
        continue;
      }
      const plain = cipher.decryptSync(r.email!, r.id);
      expect(plain).toBe(was); // nothing lost, nothing encrypted twice
      expect(r.email_bidx).toBe(bidx.index(plain));
    }
    const jobs = await store.jobs.list();
    expect(jobs[0]!.status).toBe('done');
    expect(jobs.filter((j) => j.status === 'running')).toEqual([]);
    expect((await store.verifyActivityLog()).ok).toBe(true);
  } finally {
    await store.close();
  }
}

const seedRows = () => Array.from({ length: N }, (_, i) => ({ id: i + 1, email: i % 97 === 0 ? null : `Crash.${i + 1}@Example.org` }));

describe.skipIf(!existsSync(BIN))('steward encrypt killed with SIGKILL and re-run (built CLI)', () => {
  it('SQLite: nothing lost, nothing encrypted twice', async () => {
    const dir = mkdtempSync(path.join(tmp, 'sqlite-'));
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.exec('create table people (id integer primary key, email text)');
    const insert = db.prepare('insert into people (id, email) values (?, ?)');
    db.transaction(() => {
      for (const r of seedRows()) insert.run(r.id, r.email);
    })();
    db.close();
    await crashLoop(
      {
        url: file,
        kind: 'sqlite',
        rows: async () => {
          // Not readonly: after a kill mid-transaction the rollback journal is hot, and only a writer may roll it back.
          const d = new Database(file);
          try {
            return d.prepare('select * from people order by id').all() as { id: number; email: string | null; email_bidx: string | null }[];
          } catch {
            return (d.prepare('select id, email, null as email_bidx from people order by id').all() as never[]);
          } finally {
            d.close();
          }
        },
        close: async () => undefined,
      },
      dir,
    );
  }, 600_000);

  it.skipIf(!inject('servers').postgres)('PostgreSQL: nothing lost, nothing encrypted twice', async () => {
    const dir = mkdtempSync(path.join(tmp, 'pg-'));
    const name = uniqueName();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      await client.query('create table people (id integer primary key, email varchar(60))');
      const rows = seedRows();
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000);
        await client.query('insert into people select * from unnest($1::int[], $2::text[])', [chunk.map((r) => r.id), chunk.map((r) => r.email)]);
      }
      await crashLoop(
        {
          url: u.toString(),
          kind: 'postgres',
          rows: async () => {
            const cols = (await client.query(`select column_name from information_schema.columns where table_name = 'people'`)).rows.map((r: { column_name: string }) => r.column_name);
            return (await client.query(`select id, email, ${cols.includes('email_bidx') ? 'email_bidx' : 'null as email_bidx'} from people order by id`)).rows;
          },
          close: async () => undefined,
        },
        dir,
      );
    } finally {
      await client.end();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  }, 600_000);
});
