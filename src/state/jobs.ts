/**
 * Jobs in the state store (migration 0004, table `column_jobs`): the record and
 * checkpoint of each batched destructive job — an online column migration
 * (encrypt, decrypt, rotate) or a retention run. Obtain it as `store.jobs`; the
 * engine that runs them is src/jobs/.
 *
 * A job works on a `target` of one table: the column it migrates (`email`), or
 * `policy:<name>` for a retention run. The target is stored in `column_name`
 * (its name from when only column migrations were jobs); the storage shape is unchanged.
 */
import os from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import { runStateOperation, type StateBackend } from './backend.js';
import type { ColumnJobsTable, StateDatabase } from './tables.js';

/** What a job does. A `restore` is run unrecorded (it is safe to run again from the start). */
export type JobOperation = 'encrypt' | 'decrypt' | 'rotate' | 'retention' | 'restore' | 'subject-erase' | 'subject-correct' | 'subject-lease';
export type JobStatus = 'running' | 'done' | 'failed';
/** The process running a job: a host and a pid on it. */
export interface JobOwner {
  readonly host: string;
  readonly pid: number;
}

/** What a job works on: a source, a table as the job names it, and the column or `policy:<name>` in it. */
export interface JobTarget {
  readonly source: string;
  readonly table: string;
  /** The column a migration rewrites, or `policy:<name>` for a retention run (see {@link policyTarget}). */
  readonly target: string;
}

/** The target of a retention run of the policy `name`. */
export const policyTarget = (name: string): string => `policy:${name}`;

export interface Job extends JobTarget {
  readonly id: string;
  readonly operation: JobOperation;
  readonly status: JobStatus;
  /** 1: the sweep over every row in key order; 2+: follow-up passes over rows still to do. */
  readonly pass: number;
  /** The primary key of the last row handled in this pass (its parts, as the driver returned them); null at a pass's start. */
  readonly lastKey: readonly unknown[] | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly options: Readonly<Record<string, unknown>>;
  readonly owner: JobOwner | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** This process, as the owner of the jobs it runs. */
export const THIS_PROCESS: JobOwner = { host: os.hostname(), pid: process.pid };

/**
 * Whether a job's recorded owner may still be running it: on this host, its
 * pid is alive; on another, it wrote a checkpoint in the last two minutes.
 * A job whose owner is gone may be taken over (and resumed).
 */
export function ownerMayBeRunning(job: Pick<Job, 'owner' | 'updatedAt'>, now: Date): boolean {
  const o = job.owner;
  if (!o || (o.host === THIS_PROCESS.host && o.pid === THIS_PROCESS.pid)) return false;
  if (o.host !== THIS_PROCESS.host) return now.getTime() - Date.parse(job.updatedAt) < 120_000;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class StateJobStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  readonly #assertOpen: () => void;

  /** @internal Use `StateStore.jobs`. */
  constructor(backend: StateBackend, assertOpen: () => void) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#assertOpen = assertOpen;
  }

  /** The unfinished job (of this operation, when given) on this target, if any (newest first). */
  async open(target: JobTarget, operation?: JobOperation): Promise<Job | null> {
    return this.#run('read jobs from', async () => {
      let q = this.#db
        .selectFrom('column_jobs')
        .selectAll()
        .where('source', '=', target.source)
        .where('table_name', '=', target.table)
        .where('column_name', '=', target.target)
        .where('status', '=', 'running');
      if (operation) q = q.where('operation', '=', operation);
      const row = await q.orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      return row ? toJob(row) : null;
    });
  }

  /**
   * Every unfinished job on this target (a column) of this source, whatever spelling its
   * table was recorded under (`t`, `public.t`): the caller resolves the spellings to tables.
   */
  async openOnTarget(source: string, target: string): Promise<Job[]> {
    return this.#run('read jobs from', async () =>
      (await this.#db.selectFrom('column_jobs').selectAll().where('source', '=', source).where('column_name', '=', target).where('status', '=', 'running').orderBy('started_at', 'desc').execute()).map(toJob),
    );
  }

  /**
   * Every job, finished or not, on this target (a column) of this source, newest first, whatever
   * spelling its table was recorded under: what was done to a column and with which options
   * (the subject map reads which blind index `steward encrypt` keeps beside a column).
   */
  async historyOnTarget(source: string, target: string): Promise<Job[]> {
    return this.#run('read jobs from', async () =>
      (await this.#db.selectFrom('column_jobs').selectAll().where('source', '=', source).where('column_name', '=', target).orderBy('started_at', 'desc').execute()).map(toJob),
    );
  }

  async get(id: string): Promise<Job | null> {
    return this.#run('read jobs from', async () => {
      const row = await this.#db.selectFrom('column_jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toJob(row) : null;
    });
  }

  async list(limit = 50): Promise<Job[]> {
    return this.#run('read jobs from', async () => (await this.#db.selectFrom('column_jobs').selectAll().orderBy('started_at', 'desc').limit(limit).execute()).map(toJob));
  }

  async create(job: Omit<Job, 'status' | 'finishedAt'>): Promise<void> {
    await this.#run('record a job in', () =>
      this.#db
        .insertInto('column_jobs')
        .values({
          id: job.id,
          source: job.source,
          table_name: job.table,
          column_name: job.target,
          operation: job.operation,
          status: 'running',
          pass: job.pass,
          last_key_json: job.lastKey === null ? null : JSON.stringify(job.lastKey),
          counts_json: JSON.stringify(job.counts),
          options_json: JSON.stringify(job.options),
          owner_host: job.owner?.host ?? null,
          owner_pid: job.owner?.pid ?? null,
          started_at: job.startedAt,
          updated_at: job.updatedAt,
          finished_at: null,
        })
        .execute(),
    );
  }

  /**
   * Takes the job over for `owner`, only if its recorded owner is still `expected`
   * (compare-and-set: of two runners that both saw a dead owner, one wins).
   */
  async claim(id: string, expected: JobOwner | null, owner: JobOwner, at: string): Promise<boolean> {
    return this.#run('claim a job in', async () => {
      let q = this.#db.updateTable('column_jobs').set({ owner_host: owner.host, owner_pid: owner.pid, updated_at: at }).where('id', '=', id).where('status', '=', 'running');
      q = expected ? q.where('owner_host', '=', expected.host).where('owner_pid', '=', expected.pid) : q.where('owner_pid', 'is', null);
      return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
    });
  }

  /** Gives the job up: its owner cleared, only if it is still `owner` (a lease held between runs, src/subjects/lease.ts). */
  async release(id: string, owner: JobOwner, at: string): Promise<void> {
    await this.#run('release a job in', () =>
      this.#db.updateTable('column_jobs').set({ owner_host: null, owner_pid: null, updated_at: at }).where('id', '=', id).where('owner_host', '=', owner.host).where('owner_pid', '=', owner.pid).execute(),
    );
  }

  /**
   * Records progress: the pass, the last key done, the counts — and, when given,
   * the options — in one statement, so a crash never leaves half of it written.
   */
  async checkpoint(
    id: string,
    state: { pass: number; lastKey: readonly unknown[] | null; counts: Readonly<Record<string, number>>; at: string; options?: Readonly<Record<string, unknown>> },
  ): Promise<void> {
    await this.#run('record a checkpoint in', () =>
      this.#db
        .updateTable('column_jobs')
        .set({
          pass: state.pass,
          last_key_json: state.lastKey === null ? null : JSON.stringify(state.lastKey),
          counts_json: JSON.stringify(state.counts),
          updated_at: state.at,
          ...(state.options ? { options_json: JSON.stringify(state.options) } : {}),
        })
        .where('id', '=', id)
        .execute(),
    );
  }

  /** Says the job's runner is alive (its `updated_at`), and nothing else: a heartbeat through long steps without checkpoints. */
  async touch(id: string, at: string): Promise<void> {
    await this.#run('record a heartbeat in', () => this.#db.updateTable('column_jobs').set({ updated_at: at }).where('id', '=', id).where('status', '=', 'running').execute());
  }

  /** Replaces the job's options (a rotation records the version it rotates to, so a resume does not rotate again). */
  async setOptions(id: string, options: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#run('update a job in', () => this.#db.updateTable('column_jobs').set({ options_json: JSON.stringify(options) }).where('id', '=', id).execute());
  }

  async finish(id: string, status: Exclude<JobStatus, 'running'>, counts: Readonly<Record<string, number>>, at: string): Promise<void> {
    await this.#run('finish a job in', () =>
      this.#db
        .updateTable('column_jobs')
        .set({ status, counts_json: JSON.stringify(counts), updated_at: at, finished_at: at, owner_host: null, owner_pid: null })
        .where('id', '=', id)
        .execute(),
    );
  }

  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, this.#assertOpen, what, fn);
  }
}

function toJob(r: Selectable<ColumnJobsTable>): Job {
  return {
    id: r.id,
    source: r.source,
    table: r.table_name,
    target: r.column_name,
    operation: r.operation as JobOperation,
    status: r.status as JobStatus,
    pass: Number(r.pass),
    lastKey: r.last_key_json === null ? null : (JSON.parse(r.last_key_json) as unknown[]),
    counts: JSON.parse(r.counts_json) as Record<string, number>,
    options: JSON.parse(r.options_json) as Record<string, unknown>,
    owner: r.owner_host !== null && r.owner_pid !== null ? { host: r.owner_host, pid: Number(r.owner_pid) } : null,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}
