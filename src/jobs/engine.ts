/**
 * The engine of batched destructive jobs: `steward encrypt` / `decrypt` /
 * `encrypt --rotate` (src/crypto/column-migration.ts), `steward retention apply`
 * (src/retention/apply.ts) and `steward archive restore`
 * (src/retention/archive-restore.ts). It owns what keeps such a job safe on a live
 * database; each job supplies only its steps (select, transform, write, verify) and
 * what its checkpoint records.
 *
 * For every job, the engine:
 * - claims the job's record in the state store (src/state/jobs.ts): resumes one whose
 *   runner is gone (its pid is dead on this host; no checkpoint or heartbeat for two
 *   minutes from another host), refuses one whose runner lives, and takes it over by
 *   compare-and-set, so that of two runners that both saw a dead owner one wins;
 * - keeps a heartbeat while it runs, so that a long step without checkpoints (a DDL, a
 *   count over a big table) does not make the job look abandoned;
 * - runs each phase of the job as batches (in key order, by block range, over a list),
 *   each in one short transaction with a bounded lock wait, retried on a lock timeout
 *   (src/jobs/transaction.ts);
 * - writes the checkpoint: after the commit when the batch's write is idempotent (a
 *   crash in between redoes the batch), or as an intent inside the batch's transaction,
 *   before the commit, which the job settles on resume by asking the database what
 *   became of the batch;
 * - reports progress, with one rate for every job: rows done by this run per second
 *   since its first batch;
 * - logs `<action>.started`, `<action>.interrupted` (counts, and the error's code) and
 *   the finished entry (`<action>.finished`, or the job's own name for it), each with the
 *   subject `{ jobId, …the job's subject }`; the finished entry is written before the
 *   job is marked done, so a job is never done without it;
 * - stops between batches (never inside one) when its AbortSignal is aborted, with an
 *   InterruptedError; the same call resumes;
 * - turns driver errors into SourceErrors whose message and cause hold no row value
 *   (src/sources/errors.ts).
 *
 * The steps of one batch, and the named points between them, where a test hook may stop
 * the job (see {@link CrashPoint}):
 *
 *     select → transform → ┌ transaction ──────────────────────────────────────────────┐
 *                          │ before-write · write · after-write · verify                │
 *                          │ (intent: before-checkpoint · checkpoint · after-checkpoint) │
 *                          │ before-commit                                              │
 *                          └ commit ────────────────────────────────────────────────────┘
 *                          after-commit · (after: before-checkpoint · checkpoint · after-checkpoint)
 */
import type { Kysely } from 'kysely';
import { InternalError, isStewardError, UsageError } from '../errors.js';
import { throwIfInterrupted } from '../interrupt.js';
import { toSourceError, withoutDriverText, type SourceErrorContext } from '../sources/errors.js';
import type { Source } from '../sources/types.js';
import { ownerMayBeRunning, THIS_PROCESS, type Job } from '../state/jobs.js';
import type { StateStore } from '../state/store.js';
import { batchTransaction, DEFAULT_LOCK_TIMEOUT_MS } from './transaction.js';

/** The boundaries between a batch's steps, in the order a batch passes them (see the top of this file). */
export const CRASH_POINTS = ['before-write', 'after-write', 'before-checkpoint', 'after-checkpoint', 'before-commit', 'after-commit'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * Called at each named point of each batch (`batch`: 1 for this run's first). A test throws
 * here to stop the job as a kill would at that instant: inside the transaction, the batch
 * rolls back; after the commit, it stays. @internal
 */
export type CrashHook = (point: CrashPoint, batch: number) => void | Promise<void>;

/** How often a running job says it is alive. Another host takes a job over after two minutes of silence. */
export const HEARTBEAT_MS = 30_000;

/** What a checkpoint records, in one write (a crash leaves all of it or none). */
export interface CheckpointState {
  /** The pass (default: the job's current one). */
  readonly pass?: number;
  readonly lastKey: readonly unknown[] | null;
  readonly counts: Readonly<Record<string, number>>;
  /** The job's options, replaced as a whole when given. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A batch read by a phase's `select`. */
export interface Selected<C, B> {
  readonly batch: B;
  /** Where the batch after this one starts (in key order: this batch's last key), when the select knows it. */
  readonly next?: C;
  /** This is the phase's last batch (it holds fewer rows than asked for). */
  readonly last?: boolean;
}

/**
 * One phase of a job: a sequence of batches from a cursor (a key, a block, an index) to
 * the end. The engine runs the loop; the phase says how to read, prepare, write and check
 * a batch, and what its checkpoint records.
 */
export interface Phase<C, B, P = B, W = unknown> {
  /** Where the phase starts: null at the beginning, or the cursor a resumed job recorded. */
  readonly from: C | null;
  /** Reads the batch after `cursor` (null: the first), outside any transaction; null when nothing is left. */
  select(cursor: C | null): Promise<Selected<C, B> | null>;
  /** Prepares the batch's writes outside the transaction (encrypts, computes new values). */
  transform?(batch: B): P | Promise<P>;
  /** True when the prepared batch has nothing to write: no transaction is opened, and `write` is not called. */
  empty?(prepared: P): boolean;
  /** The batch's writes, inside its transaction. Runs again when the transaction is retried: it must start afresh. */
  write(trx: Kysely<any>, prepared: P): Promise<W>;
  /** Checks what was written, inside the transaction (throws to roll the batch back); may return the result to keep instead. */
  verify?(trx: Kysely<any>, prepared: P, written: W): W | void | Promise<W | void>;
  /**
   * When the state store records the batch:
   * - `after`: after the commit. The write must be idempotent: a crash between the commit
   *   and the checkpoint makes the re-run do the batch again.
   * - `intent`: inside the batch's transaction, after its write, before its commit. After a
   *   crash the job finds the intent and settles it (committed or rolled back) on resume.
   */
  readonly checkpoint: 'after' | 'intent';
  /** The checkpoint of the batch (`written` is null for an empty batch), or null to record nothing. */
  record(prepared: P, written: W | null): CheckpointState | null;
  /** After the commit (or an empty batch): folds the batch into the job's counts; may say where the next batch starts, and that the phase is done. */
  committed?(prepared: P, written: W | null): { readonly next?: C; readonly last?: boolean } | void;
  /**
   * One batch in flight: the next batch is read and prepared while this one is written
   * (the database's write and Node's work overlap; writes and checkpoints stay in order).
   * The select must then say where the next batch starts.
   */
  readonly overlap?: boolean;
}

/** A job's record before it is claimed: what the job sets. */
export type NewJob = Pick<Job, 'id' | 'source' | 'table' | 'target' | 'operation' | 'pass' | 'lastKey' | 'counts' | 'options'>;

export interface JobProgress {
  readonly done: number;
  readonly total: number;
  /** Rows done by this run per second, since its first batch. */
  readonly rowsPerSecond: number;
}

export interface JobSpec<R> {
  readonly source: Source;
  /** Where the job is recorded, or null for an unrecorded job (no claim, checkpoint, heartbeat or log entry): one that is safe to run again from the start. */
  readonly store: StateStore | null;
  readonly actor: string;
  /** The open job to resume (the caller found it, and may have shown it in a plan), or null for a new one. */
  readonly existing: Job | null;
  /** The record of a new job, when none is resumed. */
  readonly create: () => NewJob;
  /** The errors for an existing job whose runner lives (`busy`), and for one another runner claimed first (`lost`); by default, ones naming `what`. */
  readonly refuse?: { readonly busy: (job: Job) => Error; readonly lost: (job: Job) => Error };
  /** Activity-log entries: `<action>.started`, `<action>.interrupted`, `<action>.finished`. */
  readonly action: string;
  /** The finished entry's action, when it has a name of its own (`retention.certificate`). */
  readonly finishedAction?: string;
  /** Every entry's subject (besides `jobId`): names, never values. */
  readonly subject: Readonly<Record<string, unknown>>;
  readonly startedDetails?: (job: Job) => Readonly<Record<string, unknown>>;
  /**
   * A resumed job whose work a killed run finished (its finished entry is written, the job
   * not yet marked done): its outcome, which the engine marks done without logging it again;
   * undefined to run the job.
   */
  readonly alreadyDone?: (job: Job) => Promise<Omit<JobOutcome<R>, 'entry'> | undefined>;
  /** The job's counts so far, for the interrupted entry. */
  readonly counts: () => Readonly<Record<string, number>>;
  /** The job in an interruption message (`encrypt shop.people.email`), and how far it got. */
  readonly what: string;
  readonly progressText: () => string;
  /** Rows done and to do, for progress reports. */
  readonly progress?: () => { readonly done: number; readonly total: number };
  /** Called after each batch; a returned promise is awaited before the next one. */
  readonly onProgress?: (p: JobProgress) => void | Promise<void>;
  readonly signal?: AbortSignal | undefined;
  /** Longest a batch waits for a row lock. Default 2000 ms. */
  readonly lockTimeoutMs?: number | undefined;
  /** What a driver error is reported as: the action and table, the command for its hint. */
  readonly errorContext: () => Omit<SourceErrorContext, 'source' | 'kind'>;
  /** A new job that fails before it changed anything is closed as failed (nothing to resume, nothing left to block another job). Default: left open. */
  readonly closeIfUntouched?: boolean;
  readonly crashAt?: CrashHook | undefined;
  readonly now?: () => Date;
}

export interface JobOutcome<R> {
  readonly result: R;
  /** The job's final counts, in its record. */
  readonly counts: Readonly<Record<string, number>>;
  /** The finished entry's details. */
  readonly entry: Readonly<Record<string, unknown>>;
  /** When it finished (default: now). */
  readonly finishedAt?: string;
}

/** Rows per second over one run: counted from the run's first batch, from where the job then was. */
export class RateMeter {
  #t0: number | null = null;
  #base = 0;

  /** Starts the clock (once): `done` is what earlier runs of the job did. */
  start(done: number): void {
    if (this.#t0 !== null) return;
    this.#t0 = Date.now();
    this.#base = done;
  }

  rate(done: number): number {
    if (this.#t0 === null) return 0;
    return (done - this.#base) / (Math.max(1, Date.now() - this.#t0) / 1000);
  }
}

/** A job while it runs: its record, its checkpoints and log entries, and the batch loop. */
export class JobRun {
  readonly #spec: JobSpec<unknown>;
  #job: Job;
  readonly resumed: boolean;
  #touched = false;
  #batch = 0;
  readonly #meter = new RateMeter();

  /** @internal Created by {@link runJob}. */
  constructor(spec: JobSpec<unknown>, job: Job, resumed: boolean) {
    this.#spec = spec;
    this.#job = job;
    this.resumed = resumed;
  }

  /** The job's record as last written. */
  get job(): Job {
    return this.#job;
  }

  /** Whether this run has changed anything (a batch began, or the job said so). */
  get touched(): boolean {
    return this.#touched;
  }

  /** Says that the job changed something outside a batch (a DDL statement): from here on a failure is resumed, not closed. */
  touch(): void {
    this.#touched = true;
  }

  #now(): Date {
    return (this.#spec.now ?? (() => new Date()))();
  }

  /** Records progress in one write (see {@link CheckpointState}). */
  async checkpoint(state: CheckpointState): Promise<void> {
    const pass = state.pass ?? this.#job.pass;
    const at = this.#now().toISOString();
    await this.#spec.store?.jobs.checkpoint(this.#job.id, { pass, lastKey: state.lastKey, counts: state.counts, at, ...(state.options ? { options: state.options } : {}) });
    this.#job = { ...this.#job, pass, lastKey: state.lastKey, counts: state.counts, ...(state.options ? { options: state.options } : {}), updatedAt: at };
  }

  /** Replaces the job's options (what a resume must know: a rotation's target version). */
  async setOptions(options: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#spec.store?.jobs.setOptions(this.#job.id, options);
    this.#job = { ...this.#job, options };
  }

  /** Appends an activity-log entry about this job (subject: `{ jobId, …subject }`). */
  async log(action: string, details: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#spec.store?.appendActivity({ actor: this.#spec.actor, action, subject: { jobId: this.#job.id, ...this.#spec.subject }, details: { ...details } });
  }

  /** Between batches: stops the job (InterruptedError) when its signal is aborted. */
  async stopIfAsked(): Promise<void> {
    const { signal } = this.#spec;
    if (!signal) return;
    // An in-process database (SQLite) never yields to the event loop on its own: give a signal handler its turn.
    await new Promise((r) => setImmediate(r));
    throwIfInterrupted(signal, this.#spec.what, this.#spec.progressText());
  }

  /** A driver error as a SourceError without row values; anything else as it is. */
  scrub(e: unknown, always = false): unknown {
    if (isStewardError(e)) return e;
    if (!always && withoutDriverText(e) === e) return e;
    const s = this.#spec;
    return toSourceError(e, { source: s.source.name, kind: s.source.kind, ...s.errorContext() });
  }

  /**
   * A step that talks to the database. In a batch's transaction (`always`), any error
   * that is not Steward's is taken for a driver's; elsewhere (a select may also read
   * files), only one that looks like a driver's.
   */
  async #step<T>(fn: () => Promise<T>, always: boolean): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.scrub(e, always);
    }
  }

  /**
   * Runs a phase to its end (or until the job is stopped) and returns the cursor
   * after its last batch. See {@link Phase}.
   */
  async batches<C, B, P = B, W = unknown>(phase: Phase<C, B, P, W>): Promise<C | null> {
    this.#meter.start(this.#spec.progress?.().done ?? 0);
    let cursor = phase.from;
    let inflight: Promise<unknown> | null = null;
    const drain = async () => {
      const p = inflight;
      inflight = null;
      if (p) await p;
    };
    try {
      for (;;) {
        await this.stopIfAsked();
        const at = cursor;
        const selected = await this.#step(() => phase.select(at), false);
        if (!selected) break;
        const prepared = phase.transform ? await phase.transform(selected.batch) : (selected.batch as unknown as P);
        if (phase.overlap) {
          if (selected.next === undefined) throw new InternalError('a phase that overlaps its batches must say where the next one starts');
          await drain();
          inflight = this.#run(phase, prepared);
          inflight.catch(() => undefined); // awaited by drain(); a failure surfaces there
          cursor = selected.next;
          if (selected.last) break;
          continue;
        }
        const after = await this.#run(phase, prepared);
        cursor = after?.next ?? selected.next ?? cursor;
        if (selected.last || after?.last) break;
      }
      await drain();
    } catch (e) {
      // A batch still in flight finishes (or fails) before the job is reported stopped.
      if (inflight) await (inflight as Promise<unknown>).catch(() => undefined);
      throw e;
    }
    return cursor;
  }

  /** One batch: its transaction (unless empty), its checkpoint, its progress. */
  async #run<C, B, P, W>(phase: Phase<C, B, P, W>, prepared: P): Promise<{ readonly next?: C; readonly last?: boolean } | void> {
    const n = ++this.#batch;
    const hook = this.#spec.crashAt;
    const at = hook ? (p: CrashPoint) => hook(p, n) : null;
    const record = async (written: W | null) => {
      const state = phase.record(prepared, written);
      if (!state) return;
      await at?.('before-checkpoint');
      await this.checkpoint(state);
      await at?.('after-checkpoint');
    };
    let written: W | null = null;
    if (!phase.empty?.(prepared)) {
      this.#touched = true;
      written = await this.#step(() =>
        batchTransaction(this.#spec.source, this.#spec.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async (trx) => {
          await at?.('before-write');
          let w = await phase.write(trx, prepared);
          await at?.('after-write');
          if (phase.verify) {
            const v = await phase.verify(trx, prepared, w);
            if (v !== undefined) w = v;
          }
          if (phase.checkpoint === 'intent') await record(w);
          await at?.('before-commit');
          return w;
        }),
        true,
      );
      await at?.('after-commit');
    }
    const after = phase.committed?.(prepared, written);
    if (phase.checkpoint === 'after') await record(written);
    const { progress, onProgress } = this.#spec;
    if (onProgress && progress) {
      const p = progress();
      await onProgress({ done: p.done, total: p.total, rowsPerSecond: this.#meter.rate(p.done) });
    }
    return after ?? undefined;
  }
}

/** Takes over `job` for this process, unless its runner may still be running it. */
async function takeOver(spec: JobSpec<unknown>, job: Job, now: () => Date): Promise<Job> {
  if (!spec.store) return { ...job, owner: THIS_PROCESS };
  const o = job.owner;
  const refuse = spec.refuse ?? {
    busy: (j: Job) => new UsageError(`${spec.what} is being run by another Steward (pid ${j.owner?.pid} on ${j.owner?.host})`, { hint: 'Wait for it to finish' }),
    lost: () => new UsageError(`another Steward took over ${spec.what} just now`, { hint: 'Let it finish' }),
  };
  if (o && ownerMayBeRunning(job, now())) throw refuse.busy(job);
  if (!(await spec.store.jobs.claim(job.id, o, THIS_PROCESS, now().toISOString()))) throw refuse.lost(job);
  return { ...job, owner: THIS_PROCESS };
}

/**
 * Runs a job: claims (or creates) its record, logs it started, runs `body` (which
 * runs its phases with `run.batches`), logs it finished and marks it done; on an
 * error, logs it interrupted with its counts and leaves it open for the same call
 * to resume. See the top of this file.
 */
export async function runJob<R>(spec: JobSpec<R>, body: (run: JobRun) => Promise<JobOutcome<R>>): Promise<R> {
  const now = spec.now ?? (() => new Date());
  const { store } = spec;
  const resumed = spec.existing !== null;
  let job: Job;
  if (spec.existing) job = await takeOver(spec as JobSpec<unknown>, spec.existing, now);
  else {
    const at = now().toISOString();
    job = { ...spec.create(), status: 'running', owner: THIS_PROCESS, startedAt: at, updatedAt: at, finishedAt: null };
    await store?.jobs.create(job);
  }
  if (resumed && spec.alreadyDone) {
    const done = await spec.alreadyDone(job);
    if (done !== undefined) {
      await store?.jobs.finish(job.id, 'done', done.counts, done.finishedAt ?? now().toISOString());
      return done.result;
    }
  }
  const run = new JobRun(spec as JobSpec<unknown>, job, resumed);
  // A heartbeat while the run lives: long steps without a checkpoint must not let another
  // Steward take the job over as abandoned (see ownerMayBeRunning).
  const heartbeat = store ? setInterval(() => void store.jobs.touch(job.id, new Date().toISOString()).catch(() => undefined), HEARTBEAT_MS) : null;
  heartbeat?.unref();
  try {
    await run.log(`${spec.action}.started`, { ...spec.startedDetails?.(run.job), resumed });
    const outcome = await body(run);
    // The entry first, then the job is done: a kill in between leaves a running job whose
    // entry exists (the job's `alreadyDone` finds it), never a done job without one.
    await run.log(spec.finishedAction ?? `${spec.action}.finished`, outcome.entry);
    await store?.jobs.finish(job.id, 'done', outcome.counts, outcome.finishedAt ?? now().toISOString());
    return outcome.result;
  } catch (e) {
    const error = run.scrub(e);
    // The job stays open: a re-run resumes it. Say what happened in the log (counts and a code, no values).
    await run.log(`${spec.action}.interrupted`, { ...spec.counts(), error: isStewardError(error) ? error.code : 'INTERNAL' }).catch(() => undefined);
    // Failed before it changed anything: nothing to resume, so no open job is left to block another.
    if (!resumed && spec.closeIfUntouched && !run.touched) await store?.jobs.finish(job.id, 'failed', { ...spec.counts() }, now().toISOString()).catch(() => undefined);
    throw error;
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
}

/**
 * Records a run that found nothing to do and had nothing to resume: a job created and
 * finished at once (the schedule counts it as a run), with no log entry.
 */
export async function recordEmptyRun(store: StateStore, job: NewJob, counts: Readonly<Record<string, number>>, at: string): Promise<void> {
  await store.jobs.create({ ...job, owner: null, startedAt: at, updatedAt: at });
  await store.jobs.finish(job.id, 'done', counts, at);
}
