/**
 * The engine of batched destructive jobs (src/jobs/engine.ts), tested on its own with
 * two small jobs over a real SQLite file and a real state store:
 * - an encrypt-like job (values rewritten in place, compare-and-set, checkpoint after
 *   the commit, one batch in flight) and a delete-like job (rows deleted, intent written
 *   inside the batch's transaction, settled on resume);
 * - each is stopped at every named point of a batch in turn (before/after the write,
 *   before/after the checkpoint, before/after the commit), at its first, a middle and its
 *   last batch, then resumed; the end state is the same every time: every row done exactly
 *   once, the deletions counted exactly once, no job left open, the log verifies;
 * - claiming (a dead owner's job is taken over; a live owner's, or a fresh one from
 *   another host, is refused; of two claims one wins), a lock timeout retried, a driver
 *   error without its row values, an interruption by AbortSignal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { InternalError, InterruptedError, SourceError, UsageError } from '../../../src/errors.js';
import { CRASH_POINTS, runJob, type CrashHook, type CrashPoint, type JobSpec } from '../../../src/jobs/engine.js';
import { keyColumns, keyOfRow, selectAfter } from '../../../src/jobs/keyset.js';
import { openSource, type Source, type TableInfo } from '../../../src/sources/index.js';
import { THIS_PROCESS, type Job } from '../../../src/state/jobs.js';
import { openStateStore, type StateStore } from '../../../src/state/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'steward-engine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 50; // rows
const BATCH = 8; // 7 batches: the last one short
const BATCHES = Math.ceil(N / BATCH);
const due = (id: number) => id % 3 !== 0;

interface Env {
  readonly file: string;
  readonly source: Source;
  readonly store: StateStore;
  readonly table: TableInfo;
  close(): Promise<void>;
}

let n = 0;
async function env(): Promise<Env> {
  const dir = mkdtempSync(path.join(tmp, `e${n++}-`));
  const file = path.join(dir, 'shop.db');
  const db = new Database(file);
  db.exec('create table people (id integer primary key, email text, due integer not null)');
  const ins = db.prepare('insert into people values (?, ?, ?)');
  db.transaction(() => {
    for (let id = 1; id <= N; id++) ins.run(id, `p${id}@example.org`, due(id) ? 1 : 0);
  })();
  db.close();
  const source = await openSource({ name: 's', kind: 'sqlite', url: file });
  const store = await openStateStore({ url: path.join(dir, 'state.db'), baseDir: dir });
  const table = (await source.introspect()).find((t) => t.name === 'people')!;
  return { file, source, store, table, close: async () => (await source.close(), await store.close()) };
}

const rows = (file: string) => {
  const db = new Database(file);
  try {
    return db.prepare('select id, email from people order by id').all() as { id: number; email: string }[];
  } finally {
    db.close();
  }
};

class Crash extends InternalError {
  constructor(point: CrashPoint, batch: number) {
    super(`crash at ${point} of batch ${batch}`);
  }
}

const crashAt = (point: CrashPoint, batch: number): CrashHook => (p, b) => {
  if (p === point && b === batch) throw new Crash(p, b);
};

type Overrides = Partial<Pick<JobSpec<unknown>, 'crashAt' | 'signal' | 'now'>> & { writeHook?: (trx: Kysely<any>, attempt: number) => Promise<void> };

/**
 * Encrypt-like: `email` → `enc:` + email, in key order, each row by compare-and-set (only if it
 * still holds the value read); a value already `enc:` is never selected again (the rows are the
 * truth, the checkpoint only saves time), so a batch redone after a crash changes nothing twice.
 */
async function encryptLike(e: Env, o: Overrides = {}): Promise<{ changed: number; batches: number }> {
  const counts = { changed: 0, batches: 0 };
  const existing = await e.store.jobs.open({ source: 's', table: 'people', target: 'email' });
  let attempt = 0;
  return runJob(
    {
      ...baseSpec(e, existing, 'encrypt', 'email', () => counts),
      action: 'test.encrypt',
      progressText: () => `${counts.changed} done`,
      ...o,
    },
    async (run) => {
      await run.batches<readonly unknown[], Record<string, unknown>[], { id: number; old: string; value: string }[], number>({
        from: run.job.lastKey,
        overlap: true,
        checkpoint: 'after',
        select: async (after) => {
          const got = await selectAfter(e.source.db, { table: e.table, columns: [...keyColumns(['id']), sql.ref('email')], where: sql`email not like 'enc:%'`, after, limit: BATCH });
          return got.length ? { batch: got, next: keyOfRow(got[got.length - 1]!, ['id']), last: got.length < BATCH } : null;
        },
        transform: (b) => b.map((r) => ({ id: Number(r.id), old: String(r.email), value: `enc:${String(r.email)}` })),
        write: async (trx, b) => {
          await o.writeHook?.(trx, ++attempt);
          let changed = 0;
          for (const r of b) changed += Number((await sql`update people set email = ${r.value} where id = ${r.id} and email = ${r.old}`.execute(trx)).numAffectedRows ?? 0n);
          return changed;
        },
        verify: async (trx, b, changed) => {
          const back = (await sql<{ n: number }>`select count(*) as n from people where id in (${sql.join(b.map((r) => r.id))}) and email like 'enc:%'`.execute(trx)).rows[0]!;
          if (Number(back.n) !== b.length) throw new InternalError('read-back differs');
          return changed;
        },
        committed: (_b, changed) => {
          counts.changed += changed ?? 0;
          counts.batches++;
        },
        record: (b) => ({ lastKey: [b[b.length - 1]!.id], counts: { ...counts } }),
      });
      return { result: { ...counts }, counts: { ...counts }, entry: { ...counts } };
    },
  );
}

interface Pending {
  readonly keys: number[];
  readonly next: number[];
}

/**
 * Delete-like: due rows deleted in key order; each batch writes its intent (its keys, and
 * where the next batch starts) inside its transaction, before the commit; a resumed run asks
 * the database whether those rows are gone, and counts them once if so.
 */
async function deleteLike(e: Env, o: Overrides = {}): Promise<{ rows: number; batches: number }> {
  const existing = await e.store.jobs.open({ source: 's', table: 'people', target: 'policy:due' });
  const counts = { rows: 0, batches: 0 };
  return runJob(
    {
      ...baseSpec(e, existing, 'retention', 'policy:due', () => counts),
      action: 'test.delete',
      progressText: () => `${counts.rows} deleted`,
      ...o,
    },
    async (run) => {
      counts.rows = Number(run.job.counts.rows ?? 0);
      counts.batches = Number(run.job.counts.batches ?? 0);
      let from = run.job.lastKey;
      const pending = (run.job.options as { pending?: Pending }).pending;
      if (pending) {
        const left = (await sql<{ n: number }>`select count(*) as n from people where id in (${sql.join(pending.keys)})`.execute(e.source.db)).rows[0]!;
        const committed = Number(left.n) === 0;
        if (committed) {
          counts.rows += pending.keys.length;
          counts.batches++;
          from = pending.next;
        }
        await run.checkpoint({ lastKey: from, counts: { ...counts }, options: {} });
      }
      const last = await run.batches<readonly unknown[], { after: readonly unknown[] | null; keys: number[] }, { after: readonly unknown[] | null; keys: number[] }, number[]>({
        from,
        checkpoint: 'intent',
        select: async (after) => {
          const got = await selectAfter(e.source.db, { table: e.table, columns: keyColumns(['id']), where: sql`due = 1`, after, limit: BATCH });
          const keys = got.map((r) => Number(r.id));
          return keys.length ? { batch: { after, keys }, next: [keys[keys.length - 1]!], last: keys.length < BATCH } : null;
        },
        write: async (trx, { keys }) => {
          await o.writeHook?.(trx, 0);
          const locked = (await sql<{ id: number }>`select id from people where id in (${sql.join(keys)}) and due = 1`.execute(trx)).rows.map((r) => Number(r.id));
          if (locked.length) await sql`delete from people where id in (${sql.join(locked)})`.execute(trx);
          return locked;
        },
        // The intent: where this batch started, the counts before it, and what it deletes if it commits.
        record: (b, deleted) => (deleted && deleted.length ? { lastKey: b.after, counts: { ...counts }, options: { pending: { keys: deleted, next: [b.keys[b.keys.length - 1]!] } } } : null),
        committed: (_b, deleted) => {
          counts.rows += deleted?.length ?? 0;
          counts.batches++;
        },
      });
      await run.checkpoint({ lastKey: last, counts: { ...counts }, options: {} });
      return { result: { ...counts }, counts: { ...counts }, entry: { ...counts } };
    },
  );
}

function baseSpec<R>(e: Env, existing: Job | null, operation: Job['operation'], target: string, counts: () => Record<string, number>): Omit<JobSpec<R>, 'action' | 'progressText'> {
  return {
    source: e.source,
    store: e.store,
    actor: 'test',
    existing,
    create: () => ({ id: `job-${target}-${Math.random().toString(36).slice(2)}`, source: 's', table: 'people', target, operation, pass: 1, lastKey: null, counts: {}, options: {} }),
    refuse: { busy: (j) => new UsageError(`busy: pid ${j.owner?.pid}`), lost: () => new UsageError('lost') },
    subject: { source: 's', table: 'people', target },
    counts,
    what: `test job on ${target}`,
    errorContext: () => ({ action: 'test a batch of', table: e.table, command: 'encrypt' }),
  };
}

async function actions(store: StateStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.activityBatches({})) out.push(...b.map((x) => x.action));
  return out;
}

const ENCRYPTED = Array.from({ length: N }, (_, i) => ({ id: i + 1, email: `enc:p${i + 1}@example.org` }));
const KEPT = Array.from({ length: N }, (_, i) => ({ id: i + 1, email: `p${i + 1}@example.org` })).filter((r) => !due(r.id));
const DUE = N - KEPT.length;
const DELETE_BATCHES = Math.ceil(DUE / BATCH);
/** The first, a middle and the last batch. */
const at = (batches: number) => [1, Math.ceil(batches / 2), batches];
/** Points a batch passes before its commit, for a job that checkpoints after the commit. */
const BEFORE_COMMIT: readonly CrashPoint[] = ['before-write', 'after-write', 'before-commit'];

describe('the job engine, stopped at every step boundary and resumed', () => {
  it('names six points, in the order a batch passes them', () => {
    expect(CRASH_POINTS).toEqual(['before-write', 'after-write', 'before-checkpoint', 'after-checkpoint', 'before-commit', 'after-commit']);
  });

  for (const point of CRASH_POINTS) {
    it(`encrypt-like (checkpoint after the commit, one batch in flight): stopped at ${point} of batches ${at(BATCHES).join(', ')}, resumed: every value rewritten exactly once`, async () => {
      for (const batch of at(BATCHES)) {
        const e = await env();
        try {
          const err = await encryptLike(e, { crashAt: crashAt(point, batch) }).catch((x: unknown) => x);
          expect(err, `${point} of batch ${batch}`).toBeInstanceOf(Crash);
          const open = await e.store.jobs.open({ source: 's', table: 'people', target: 'email' });
          expect(open?.status).toBe('running'); // left open for the re-run
          // Before its commit the batch rolled back: its rows are still to do.
          const done = rows(e.file).filter((r) => r.email.startsWith('enc:')).length;
          if (BEFORE_COMMIT.includes(point)) expect(done).toBeLessThanOrEqual((batch - 1) * BATCH);
          else expect(done).toBeGreaterThanOrEqual(batch * BATCH > N ? N : batch * BATCH);
          await encryptLike(e);
          expect(rows(e.file)).toEqual(ENCRYPTED); // nothing lost, nothing rewritten twice
          expect((await e.store.jobs.list()).filter((j) => j.status === 'running')).toEqual([]);
          expect(await actions(e.store)).toEqual(['test.encrypt.started', 'test.encrypt.interrupted', 'test.encrypt.started', 'test.encrypt.finished']);
          expect((await e.store.verifyActivityLog()).ok).toBe(true);
        } finally {
          await e.close();
        }
      }
    });

    it(`delete-like (intent inside the transaction, settled on resume): stopped at ${point} of batches ${at(DELETE_BATCHES).join(', ')}, resumed: the due rows gone, each counted once`, async () => {
      for (const batch of at(DELETE_BATCHES)) {
        const e = await env();
        try {
          const err = await deleteLike(e, { crashAt: crashAt(point, batch) }).catch((x: unknown) => x);
          expect(err, `${point} of batch ${batch}`).toBeInstanceOf(Crash);
          // Only a stop after the commit keeps the batch; its intent says so to the re-run.
          const gone = N - rows(e.file).length;
          expect(gone).toBe(Math.min(DUE, (point === 'after-commit' ? batch : batch - 1) * BATCH));
          const done = await deleteLike(e);
          expect(rows(e.file)).toEqual(KEPT);
          expect(done.rows).toBe(DUE); // across the stop: every deleted row counted exactly once
          expect(done.batches).toBe(DELETE_BATCHES);
          const job = (await e.store.jobs.list())[0]!;
          expect(job).toMatchObject({ status: 'done', counts: { rows: DUE, batches: DELETE_BATCHES } });
          expect(await actions(e.store)).toEqual(['test.delete.started', 'test.delete.interrupted', 'test.delete.started', 'test.delete.finished']);
          expect((await e.store.verifyActivityLog()).ok).toBe(true);
        } finally {
          await e.close();
        }
      }
    });
  }

  it('an uninterrupted run of each: the same end state, one started and one finished entry', async () => {
    const e = await env();
    try {
      expect(await encryptLike(e)).toEqual({ changed: N, batches: BATCHES });
      expect(rows(e.file)).toEqual(ENCRYPTED);
      expect(await actions(e.store)).toEqual(['test.encrypt.started', 'test.encrypt.finished']);
    } finally {
      await e.close();
    }
    const f = await env();
    try {
      expect(await deleteLike(f)).toEqual({ rows: DUE, batches: DELETE_BATCHES });
      expect(rows(f.file)).toEqual(KEPT);
    } finally {
      await f.close();
    }
  });
});

describe('the job engine: claiming, retries, errors, interruption', () => {
  const job = (owner: Job['owner'], updatedAt: string): Omit<Job, 'status' | 'finishedAt'> => ({ id: 'job-claim', source: 's', table: 'people', target: 'email', operation: 'encrypt', pass: 1, lastKey: [16], counts: {}, options: {}, owner, startedAt: updatedAt, updatedAt });

  it('takes over a job whose owner on this host is dead, resuming at its checkpoint', async () => {
    const e = await env();
    try {
      const child = spawn(process.execPath, ['-e', '0']);
      const pid = await new Promise<number>((r) => child.on('exit', () => r(child.pid!)));
      await e.store.jobs.create(job({ host: THIS_PROCESS.host, pid }, new Date().toISOString()));
      await encryptLike(e);
      // Resumed after key 16: the first two batches' rows were never selected.
      expect(rows(e.file).filter((r) => !r.email.startsWith('enc:')).map((r) => r.id)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      expect((await e.store.jobs.get('job-claim'))?.status).toBe('done');
    } finally {
      await e.close();
    }
  });

  it('refuses a job whose owner lives (this host: its pid; another host: a checkpoint in the last two minutes), and takes over a silent one', async () => {
    const e = await env();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => child.once('spawn', r));
      await e.store.jobs.create(job({ host: THIS_PROCESS.host, pid: child.pid! }, new Date().toISOString()));
      await expect(encryptLike(e)).rejects.toThrow(`busy: pid ${child.pid}`);
      await e.store.jobs.finish('job-claim', 'failed', {}, new Date().toISOString());
      await e.store.jobs.create({ ...job({ host: 'elsewhere', pid: 1 }, new Date().toISOString()), id: 'job-far' });
      await expect(encryptLike(e)).rejects.toThrow('busy: pid 1');
      expect(rows(e.file).every((r) => !r.email.startsWith('enc:'))).toBe(true); // refused before any write
      await e.store.jobs.finish('job-far', 'failed', {}, new Date().toISOString());
      await e.store.jobs.create({ ...job({ host: 'elsewhere', pid: 1 }, new Date(Date.now() - 180_000).toISOString()), id: 'job-silent' });
      await encryptLike(e);
      expect((await e.store.jobs.get('job-silent'))?.status).toBe('done');
    } finally {
      child.kill();
      await e.close();
    }
  });

  it('of two runners claiming the same abandoned job, one wins and the other is refused', async () => {
    const e = await env();
    try {
      await e.store.jobs.create(job({ host: 'elsewhere', pid: 1 }, '2020-01-01T00:00:00.000Z'));
      const existing = (await e.store.jobs.open({ source: 's', table: 'people', target: 'email' }))!;
      // The other runner claims it first, between our read and our claim.
      expect(await e.store.jobs.claim(existing.id, existing.owner, { host: 'other', pid: 2 }, new Date().toISOString())).toBe(true);
      const spec = { ...baseSpec<void>(e, existing, 'encrypt', 'email', () => ({})), action: 'test', progressText: () => '' };
      await expect(runJob(spec, async () => ({ result: undefined, counts: {}, entry: {} }))).rejects.toThrow('lost');
    } finally {
      await e.close();
    }
  });

  it('a batch that meets a lock timeout is rolled back and retried; the job finishes once', async () => {
    const e = await env();
    try {
      const attempts: number[] = [];
      const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      await encryptLike(e, {
        writeHook: async (trx, attempt) => {
          attempts.push(attempt);
          if (attempt > 2) return;
          // Write something first: a retried attempt must not keep it.
          await sql`update people set email = 'half' where id = ${N}`.execute(trx);
          throw busy;
        },
      });
      expect(attempts).toEqual(Array.from({ length: BATCHES + 2 }, (_, i) => i + 1)); // the first batch three times, then once each
      expect(rows(e.file)).toEqual(ENCRYPTED);
      const err = await encryptLike(await env(), { writeHook: async () => Promise.reject(busy) }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(SourceError); // after four attempts: the job's error
    } finally {
      await e.close();
    }
  });

  it('a driver error that quotes a row value comes out as a SourceError without it, logged with its code; the job stays open', async () => {
    const e = await env();
    try {
      const err = await deleteLike(e, {
        writeHook: async () => {
          throw Object.assign(new Error("trigger refused: p1@example.org belongs to 'Ann Lee'"), { code: 'SQLITE_CONSTRAINT_TRIGGER' });
        },
      }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(SourceError);
      expect(String((err as Error).message)).toMatch(/cannot test a batch of/);
      expect(`${(err as Error).message} ${(err as SourceError).hint} ${String((err as Error).cause)}`).not.toMatch(/example\.org|Ann Lee/);
      const entries: { action: string; details: Record<string, unknown> }[] = [];
      for await (const b of e.store.activityBatches({})) entries.push(...b);
      expect(entries.find((x) => x.action === 'test.delete.interrupted')?.details).toMatchObject({ error: 'SOURCE_QUERY' });
      expect((await e.store.jobs.list())[0]?.status).toBe('running');
    } finally {
      await e.close();
    }
  });

  it('an aborted signal stops the job between batches with InterruptedError; the same call resumes', async () => {
    const e = await env();
    try {
      const stop = new AbortController();
      let seen = 0;
      const err = await deleteLike(e, {
        signal: stop.signal,
        crashAt: (p) => {
          if (p === 'after-commit' && ++seen === 2) stop.abort();
        },
      }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(InterruptedError);
      expect((err as Error).message).toMatch(/test job on policy:due stopped on request after the batch in flight \(16 deleted\)/);
      expect(rows(e.file).length).toBe(N - 2 * BATCH);
      expect(await deleteLike(e)).toEqual({ rows: DUE, batches: DELETE_BATCHES });
      expect(rows(e.file)).toEqual(KEPT);
    } finally {
      await e.close();
    }
  });

  it('a new job that fails before it changed anything is closed when it asks to be, and left open otherwise', async () => {
    const e = await env();
    try {
      const spec = (closeIfUntouched: boolean) => ({ ...baseSpec<void>(e, null, 'encrypt', 'email', () => ({})), action: 'test', progressText: () => '', closeIfUntouched });
      await expect(runJob(spec(true), async () => Promise.reject(new UsageError('no key')))).rejects.toThrow('no key');
      expect((await e.store.jobs.list()).map((j) => j.status)).toEqual(['failed']);
      await expect(runJob(spec(false), async () => Promise.reject(new UsageError('no key')))).rejects.toThrow('no key');
      expect((await e.store.jobs.list()).map((j) => j.status).sort()).toEqual(['failed', 'running']);
    } finally {
      await e.close();
    }
  });
});
