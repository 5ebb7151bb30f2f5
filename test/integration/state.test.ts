import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AuditReport, Finding } from '../../src/audit/types.js';
import { InternalError, StateError } from '../../src/errors.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { PG_URL } from '../helpers/servers.js';
import { stateFinding, stateItem, stateReport } from '../fixtures/state-report.js';

type Backend = 'sqlite' | 'postgres';
const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];
const servers = inject('servers');
const RUN_TAG = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

const tempDirs: string[] = [];
const schemas: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'steward-state-'));
  tempDirs.push(dir);
  return dir;
}

/** A fresh, empty store location per call: a temp dir (SQLite) or a new schema (PostgreSQL). */
async function location(backend: Backend): Promise<{ url: string; baseDir: string; schema?: string }> {
  if (backend === 'sqlite') return { url: '.steward/state.db', baseDir: await tempDir() };
  const schema = `steward_t_${RUN_TAG}_${schemas.length}`;
  schemas.push(schema);
  return { url: PG_URL, baseDir: os.tmpdir(), schema };
}

/** Runs raw SQL against the store's database, bypassing Steward (to tamper with it). */
async function rawExec(backend: Backend, loc: { url: string; baseDir: string; schema?: string }, sqlText: string): Promise<void> {
  if (backend === 'sqlite') {
    const db = new Database(path.resolve(loc.baseDir, loc.url));
    try {
      db.exec(sqlText);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${loc.schema}"`);
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
  if (schemas.length > 0 && servers.postgres) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
    } finally {
      await client.end();
    }
  }
});

const existing = (findings: readonly Finding[]): Finding[] => findings.map((f) => ({ ...f, status: 'existing' }));
const inventoryOf = (r: AuditReport) => r.sources.flatMap((s) => s.inventory);

async function withStore<T>(loc: { url: string; baseDir: string; schema?: string }, fn: (s: StateStore) => Promise<T>): Promise<T> {
  const store = await openStateStore(loc);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const backend of BACKENDS) {
  describe.skipIf(backend === 'postgres' && !servers.postgres)(`${backend}: state store`, () => {
    it('applies migrations once and is idempotent on reopen', async () => {
      const loc = await location(backend);
      await withStore(loc, async (s) => {
        expect(s.dialect).toBe(backend);
        expect(await s.migrations()).toEqual(['0001_audit_runs', '0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases']);
        await s.recordAuditRun(stateReport(), { configHash: 'abc' });
      });
      await withStore(loc, async (s) => {
        expect(await s.migrations()).toEqual(['0001_audit_runs', '0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases']);
        expect((await s.listRuns()).map((r) => r.id)).toEqual(['run-1']);
      });
    });

    it('a job heartbeat moves only its updated time, and only while it runs', async () => {
      await withStore(await location(backend), async (s) => {
        const job = { id: 'job-hb', source: 's', table: 't', target: 'policy:p', operation: 'retention' as const, pass: 1, lastKey: [7], counts: { rows: 3 }, options: { x: 1 }, owner: { host: 'h', pid: 1 }, startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
        await s.jobs.create(job);
        await s.jobs.touch('job-hb', '2026-01-01T00:05:00.000Z');
        expect(await s.jobs.get('job-hb')).toMatchObject({ updatedAt: '2026-01-01T00:05:00.000Z', lastKey: [7], counts: { rows: 3 }, options: { x: 1 }, status: 'running' });
        await s.jobs.finish('job-hb', 'done', { rows: 3 }, '2026-01-01T00:06:00.000Z');
        await s.jobs.touch('job-hb', '2026-01-01T00:09:00.000Z');
        expect(await s.jobs.get('job-hb')).toMatchObject({ updatedAt: '2026-01-01T00:06:00.000Z', status: 'done' });
      });
    });

    it('round-trips a report: record → previousRun → loadFindings / loadInventory', async () => {
      const loc = await location(backend);
      const report = stateReport();
      await withStore(loc, async (s) => {
        await s.recordAuditRun(report, { configHash: 'sha256:cfg' });
        const run = await s.previousRun('collection');
        expect(run).toStrictEqual({
          id: 'run-1',
          stage: 'collection',
          startedAt: '2026-03-01T10:00:00.000Z',
          finishedAt: '2026-03-01T10:00:05.000Z',
          status: 'ok',
          toolVersion: '0.1.0',
          configHash: 'sha256:cfg',
          summary: report.summary,
          sources: [
            { name: 'crm', status: 'ok', errorCode: null, tables: 4, columns: 23, durationMs: 1234 },
            { name: 'shop', status: 'ok', errorCode: null, tables: 4, columns: 23, durationMs: 1234 },
          ],
        });
        expect(await s.loadFindings('run-1')).toStrictEqual(existing(report.findings));
        expect(await s.loadInventory('run-1')).toStrictEqual(inventoryOf(report));
        expect(await s.loadFindings('no-such-run')).toEqual([]);
      });
    });

    it('records large runs in batches, all or nothing', async () => {
      const loc = await location(backend);
      const findings = Array.from({ length: 1100 }, (_, i) => stateFinding(`PND-${String(i).padStart(10, '0')}`, 'shop'));
      const big = stateReport({ id: 'big', findings });
      const many = Array.from({ length: 1300 }, (_, i) => stateItem('shop', `c${i}`));
      const report: AuditReport = { ...big, sources: [{ ...big.sources[0]!, inventory: many }] };
      await withStore(loc, async (s) => {
        await s.recordAuditRun(report, { configHash: null });
        expect(await s.loadFindings('big')).toStrictEqual(existing(findings));
        expect(await s.loadInventory('big')).toStrictEqual(many);

        // A duplicate finding id in the last chunk: nothing of the run is kept.
        const dup = stateReport({ id: 'dup', findings: [...findings, findings[0]!] });
        await expect(s.recordAuditRun(dup, { configHash: null })).rejects.toBeInstanceOf(InternalError);
        expect(await s.getRun('dup')).toBeNull();
        expect(await s.loadInventory('dup')).toEqual([]);
        // Recording the same run twice is refused; the first stays intact.
        await expect(s.recordAuditRun(report, { configHash: null })).rejects.toThrow(/big could not be recorded/);
        expect((await s.loadFindings('big')).length).toBe(1100);
      });
    });

    it('previousRun picks the latest finished run of the right stage, coverage and cut-off', async () => {
      const loc = await location(backend);
      await withStore(loc, async (s) => {
        const at = (h: number) => `2026-03-0${h}T10:00:00.000Z`;
        await s.recordAuditRun(stateReport({ id: 'r1', startedAt: at(1), finishedAt: at(1) }), { configHash: null });
        await s.recordAuditRun(stateReport({ id: 'r2', startedAt: at(2), finishedAt: at(2), sources: { shop: 'error', crm: 'ok' } }), {
          configHash: null,
        });
        // Another stage, later: never the previous run of `collection`.
        await s.recordAuditRun(stateReport({ id: 'a3', stage: 'access' as 'collection', startedAt: at(3), finishedAt: at(3) }), {
          configHash: null,
        });
        // Every source failed: not a run to compare with.
        await s.recordAuditRun(stateReport({ id: 'r4', startedAt: at(4), finishedAt: at(4), sources: { shop: 'error', crm: 'error' } }), {
          configHash: null,
        });
        // Recorded out of order: ordering is by finish time, not insertion.
        await s.recordAuditRun(stateReport({ id: 'r0', startedAt: '2026-02-01T00:00:00.000Z', finishedAt: '2026-02-01T00:00:00.000Z' }), {
          configHash: null,
        });

        expect((await s.previousRun('collection'))?.id).toBe('r2');
        expect((await s.previousRun('collection'))?.status).toBe('partial');
        expect((await s.previousRun('access'))?.id).toBe('a3');
        expect(await s.previousRun('integrity')).toBeNull();
        expect((await s.previousRun('collection', { sources: ['shop'] }))?.id).toBe('r1');
        expect((await s.previousRun('collection', { sources: ['crm'] }))?.id).toBe('r2');
        expect((await s.previousRun('collection', { sources: ['crm', 'shop', 'shop'] }))?.id).toBe('r1');
        expect(await s.previousRun('collection', { sources: ['billing'] })).toBeNull();
        expect((await s.previousRun('collection', { before: 'r2' }))?.id).toBe('r1');
        expect((await s.previousRun('collection', { before: 'r1' }))?.id).toBe('r0');
        expect((await s.previousRun('collection', { before: '2026-03-01T12:00:00Z' }))?.id).toBe('r1');
        expect(await s.previousRun('collection', { before: '2026-01-01' })).toBeNull();
        await expect(s.previousRun('collection', { before: 'nonsense' })).rejects.toThrow(/neither a recorded run id nor an ISO-8601 time/);

        expect((await s.listRuns()).map((r) => r.id)).toEqual(['r4', 'a3', 'r2', 'r1', 'r0']);
        expect((await s.listRuns({ stage: 'collection', limit: 2 })).map((r) => r.id)).toEqual(['r4', 'r2']);
        const r2 = (await s.listRuns({ stage: 'collection' })).find((r) => r.id === 'r2');
        expect(r2?.sources.find((x) => x.name === 'shop')).toEqual({
          name: 'shop',
          status: 'error',
          errorCode: 'SOURCE_UNREACHABLE',
          tables: 0,
          columns: 0,
          durationMs: 1234,
        });
      });
    });

    it('several processes opening a fresh store at once all migrate and record', async () => {
      const loc = await location(backend);
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const code = [
        `import { openStateStore } from ${JSON.stringify(path.join(root, 'src/state/store.ts'))};`,
        `import { stateReport } from ${JSON.stringify(path.join(root, 'test/fixtures/state-report.ts'))};`,
        `const s = await openStateStore(JSON.parse(process.argv[1]));`,
        `await s.recordAuditRun(stateReport({ id: 'p' + process.pid }), { configHash: null });`,
        `await s.close();`,
      ].join('\n');
      const run = () =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(loc)], { cwd: root });
      await Promise.all(Array.from({ length: 3 }, run));
      await withStore(loc, async (s) => {
        expect(await s.migrations()).toEqual(['0001_audit_runs', '0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases']);
        expect(await s.listRuns()).toHaveLength(3);
      });
    }, 120_000);

    it('refuses a store written by a newer Steward, naming the upgrade', async () => {
      const loc = await location(backend);
      await withStore(loc, async (s) => s.recordAuditRun(stateReport(), { configHash: null }));
      await rawExec(backend, loc, `insert into steward_migration (name, timestamp) values ('0099_from_the_future', '2030-01-01T00:00:00.000Z')`);
      const err = await openStateStore(loc).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateError);
      expect((err as StateError).code).toBe('STATE_MIGRATE');
      expect((err as StateError).message).toMatch(/written by a newer Steward.*version 99 \(0099_from_the_future\).*0099_from_the_future/);
      expect((err as StateError).hint).toMatch(/Upgrade Steward/);
      // Nothing was touched: removing the row makes the store usable again, data intact.
      await rawExec(backend, loc, `delete from steward_migration where name = '0099_from_the_future'`);
      await withStore(loc, async (s) => expect((await s.loadFindings('run-1')).length).toBe(3));
    });

    it('reports a failed migration with the version the store was left at', async () => {
      const loc = await location(backend);
      // A table in the way of migration 0001.
      if (backend === 'postgres') await rawExec(backend, loc, `create schema if not exists "${loc.schema}"`);
      else await mkdir(path.dirname(path.resolve(loc.baseDir, loc.url)), { recursive: true });
      await rawExec(backend, loc, 'create table findings (x integer)');
      const err = (await openStateStore(loc).catch((e: unknown) => e)) as StateError;
      expect(err).toBeInstanceOf(StateError);
      expect(err.code).toBe('STATE_MIGRATE');
      expect(err.message).toMatch(/Migration 0001_audit_runs of the state store .* failed: .*; the store was left at version 0 \(empty\)/);
      expect(err.hint).toMatch(/run Steward again/);
      // The migration ran in one transaction: none of its tables were left behind.
      await rawExec(backend, loc, 'drop table findings');
      await withStore(loc, async (s) => expect(await s.migrations()).toEqual(['0001_audit_runs', '0002_activity_log', '0003_keys', '0004_column_jobs', '0005_legal_holds', '0006_request_cases']));
    });
  });
}

describe('sqlite: files and errors', () => {
  it('creates the directory 0700 and the file 0600, in WAL mode', async () => {
    const base = await tempDir();
    await withStore({ url: '', baseDir: base }, async (s) => {
      expect(s.location).toBe(path.join(base, '.steward', 'state.db'));
      await s.recordAuditRun(stateReport(), { configHash: null });
    });
    expect((await stat(path.join(base, '.steward'))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(base, '.steward', 'state.db'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(base, '.steward', '.gitignore'), 'utf8')).toBe('*\n');
    const db = new Database(path.join(base, '.steward', 'state.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('accepts sqlite: URLs and :memory:', async () => {
    const base = await tempDir();
    await withStore({ url: 'sqlite:nested/dir/s.db', baseDir: base }, async (s) => expect(s.location).toBe(path.join(base, 'nested', 'dir', 's.db')));
    await withStore({ url: ':memory:', baseDir: base }, async (s) => {
      await s.recordAuditRun(stateReport(), { configHash: null });
      expect((await s.previousRun('collection'))?.id).toBe('run-1');
    });
  });

  it('a parent that is a regular file gives STATE_OPEN with a fix', async () => {
    const base = await tempDir();
    await writeFile(path.join(base, 'plain-file'), 'x');
    const err = (await openStateStore({ url: 'plain-file/state.db', baseDir: base }).catch((e: unknown) => e)) as StateError;
    expect(err).toBeInstanceOf(StateError);
    expect(err.code).toBe('STATE_OPEN');
    expect(err.message).toContain(path.join(base, 'plain-file', 'state.db'));
    expect(err.message).toMatch(/is a file, not a directory/);
    expect(err.hint).toMatch(/state\.url/);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable directory gives STATE_OPEN with a fix', async () => {
    const base = await tempDir();
    const locked = path.join(base, 'locked');
    await mkdir(locked, { mode: 0o500 });
    try {
      const err = (await openStateStore({ url: 'locked/sub/state.db', baseDir: base }).catch((e: unknown) => e)) as StateError;
      expect(err).toBeInstanceOf(StateError);
      expect(err.code).toBe('STATE_OPEN');
      expect(err.message).toMatch(/permission denied/);
      expect(err.hint).toMatch(/writable/);
    } finally {
      await chmod(locked, 0o700);
    }
  });

  it('a file that is not a database gives STATE_OPEN', async () => {
    const base = await tempDir();
    await writeFile(path.join(base, 'junk.db'), 'this is not sqlite, just some text that is long enough to have a header'.repeat(20));
    const err = (await openStateStore({ url: 'junk.db', baseDir: base }).catch((e: unknown) => e)) as StateError;
    expect(err).toBeInstanceOf(StateError);
    expect(err.code).toBe('STATE_OPEN');
    expect(err.message).toMatch(/not a SQLite database/);
  });

  it('an unsupported URL scheme gives STATE_OPEN', async () => {
    await expect(openStateStore({ url: 'mysql://root@localhost/x', baseDir: os.tmpdir() })).rejects.toMatchObject({
      code: 'STATE_OPEN',
      message: expect.stringContaining('mysql:'),
    });
  });
});

describe.skipIf(!servers.postgres)('postgres: schema and errors', () => {
  it('keeps every table in its own schema', async () => {
    const loc = await location('postgres');
    await withStore(loc, async () => {});
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const r = await client.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [loc.schema],
      );
      expect(r.rows.map((x) => x.table_name)).toEqual(['activity_log', 'audit_runs', 'column_jobs', 'data_keys', 'findings', 'inventory', 'legal_holds', 'master_keys', 'request_cases', 'request_lookups', 'request_steps', 'run_sources', 'steward_migration', 'steward_migration_lock', 'store_secrets']);
    } finally {
      await client.end();
    }
  });

  it('an unreachable server gives STATE_OPEN without the password', async () => {
    const err = (await openStateStore({ url: 'postgres://steward:s3cret@127.0.0.1:1/x', baseDir: os.tmpdir() }).catch((e: unknown) => e)) as StateError;
    expect(err).toBeInstanceOf(StateError);
    expect(err.code).toBe('STATE_OPEN');
    expect(err.message).toMatch(/cannot reach the server/);
    expect(err.toUserString()).not.toContain('s3cret');
    expect(err.hint).toMatch(/host and port/);
  });

  it('a missing database gives STATE_OPEN with a fix', async () => {
    const u = new URL(PG_URL);
    u.pathname = '/steward_no_such_db';
    const err = (await openStateStore({ url: u.toString(), baseDir: os.tmpdir() }).catch((e: unknown) => e)) as StateError;
    expect(err.code).toBe('STATE_OPEN');
    expect(err.message).toMatch(/database does not exist/);
    expect(err.hint).toMatch(/createdb/);
  });
});
