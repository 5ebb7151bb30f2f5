/**
 * One erasure or rectification at a time per state store.
 *
 * Two erasures planned side by side could each see a row the other person also points
 * at (a household address) as shared, keep it for the other, and leave it behind with
 * nobody's link to it once both have run; two runs of the same request could each
 * plan and apply it. So a destructive subject job holds a lease for its whole run
 * (find, plan, checks, apply): in this process, callers queue behind each other (a web
 * portal serving several requests at once, whatever store handle each uses); another process holding it refuses the
 * run, naming it; a holder that died (its pid gone on this host, or two minutes
 * without a heartbeat elsewhere) is taken over by compare-and-set. Dry runs read
 * only and hold no lease.
 *
 * The lease is a record of the job table (`column_jobs`, id `subject-lease`) that is
 * never finished: only its owner changes.
 */
import { UsageError } from '../errors.js';
import { ownerMayBeRunning, THIS_PROCESS, type Job } from '../state/jobs.js';
import type { StateStore } from '../state/store.js';

const LEASE_ID = 'subject-lease';
const HEARTBEAT_MS = 30_000;

/** The lease's owner is a process, so calls in one process queue here (for every store: two handles on one store are not told apart). */
let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` holding the store's subject lease (see the file's comment). `what` names the caller's job in a refusal. */
export async function withSubjectLease<T>(store: StateStore, what: string, fn: () => Promise<T>): Promise<T> {
  const before = queue;
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  queue = before.then(() => mine);
  await before;
  try {
    await acquire(store, what);
    const beat = setInterval(() => void store.jobs.touch(LEASE_ID, new Date().toISOString()).catch(() => undefined), HEARTBEAT_MS);
    beat.unref();
    try {
      return await fn();
    } finally {
      clearInterval(beat);
      await store.jobs.release(LEASE_ID, THIS_PROCESS, new Date().toISOString()).catch(() => undefined);
    }
  } finally {
    done();
  }
}

async function acquire(store: StateStore, what: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const lease = await current(store);
    const now = new Date();
    if (lease.owner && lease.owner.host === THIS_PROCESS.host && lease.owner.pid === THIS_PROCESS.pid) return;
    if (lease.owner && ownerMayBeRunning(lease, now)) {
      throw new UsageError(`${what} cannot start: another erasure or correction is running on this state store (pid ${lease.owner.pid} on ${lease.owner.host}); one runs at a time, so that two people's plans never both keep a row they share`, {
        hint: 'Wait for it to finish, then run the same command again',
      });
    }
    if (await store.jobs.claim(LEASE_ID, lease.owner, THIS_PROCESS, now.toISOString())) return;
  }
  throw new UsageError(`${what} cannot start: other Steward processes keep taking the state store's erasure lease`, { hint: 'Wait for them to finish, then run the same command again' });
}

async function current(store: StateStore): Promise<Job> {
  const got = await store.jobs.get(LEASE_ID);
  if (got) return got;
  const at = new Date().toISOString();
  try {
    await store.jobs.create({ id: LEASE_ID, source: '(subjects)', table: 'lease', target: 'lease', operation: 'subject-lease', pass: 1, lastKey: null, counts: {}, options: {}, owner: null, startedAt: at, updatedAt: at });
  } catch (e) {
    // Another process created it first.
    const again = await store.jobs.get(LEASE_ID);
    if (again) return again;
    throw e;
  }
  return (await store.jobs.get(LEASE_ID))!;
}

/** What an abandoned run had done, per engine job of it. */
export interface AbandonedStep {
  readonly source: string;
  readonly stage: string;
  readonly status: 'done' | 'stopped' | 'not started';
  readonly batchesDone: number;
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * Gives up an unfinished erasure or correction: its engine jobs and its manifest are
 * marked failed, the manifest keeps no plan (its keys are dropped), and the activity log
 * says what the run had done. What it changed stays changed; the next run plans again
 * from what the databases hold. Refused while a runner of it is alive.
 */
export async function abandonManifest(
  store: StateStore,
  manifest: Job,
  steps: readonly { readonly id: string; readonly source: string; readonly stage: string }[],
  log: { readonly actor: string; readonly action: string; readonly subject: Readonly<Record<string, unknown>>; readonly what: string },
): Promise<AbandonedStep[]> {
  const now = new Date();
  const jobs = await Promise.all(steps.map(async (s) => ({ s, job: await store.jobs.get(s.id) })));
  for (const { job } of jobs) {
    if (job?.status === 'running' && job.owner && ownerMayBeRunning(job, now)) {
      throw new UsageError(`${log.what} is being run by another Steward (pid ${job.owner.pid} on ${job.owner.host}): it cannot be abandoned while it runs`, { hint: 'Stop that run (Ctrl-C stops it after the batch in flight), then abandon it' });
    }
  }
  const out: AbandonedStep[] = [];
  const at = now.toISOString();
  for (const { s, job } of jobs) {
    if (!job) {
      out.push({ source: s.source, stage: s.stage, status: 'not started', batchesDone: 0, counts: {} });
      continue;
    }
    out.push({ source: s.source, stage: s.stage, status: job.status === 'done' ? 'done' : 'stopped', batchesDone: Number(job.lastKey?.[0] ?? 0), counts: job.counts });
    if (job.status === 'running') await store.jobs.finish(job.id, 'failed', job.counts, at);
  }
  const keep = Object.fromEntries(Object.entries(manifest.options).filter(([k]) => k !== 'sealed'));
  await store.jobs.setOptions(manifest.id, { ...keep, abandonedAt: at });
  await store.jobs.finish(manifest.id, 'failed', manifest.counts, at);
  await store.appendActivity({ actor: log.actor, action: log.action, subject: log.subject, details: { steps: out.filter((x) => x.status !== 'not started') } });
  return out;
}
