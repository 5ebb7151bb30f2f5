import { setTimeout as delay } from 'node:timers/promises';
import { PassThrough } from 'node:stream';
import { audit } from './audit.js';
import { loadSchedule, RUNNABLE_STAGES } from './schedule.js';
import { shown, type Io } from '../output.js';

export interface RunCommandOptions {
  readonly config?: string;
  /** Longest sleep between schedule checks, in seconds (default 300). */
  readonly interval?: number;
}

export interface RunDeps {
  readonly now: () => Date;
  /** Resolves after `ms`, or early (without throwing) when the signal aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly signal: AbortSignal;
}

const realSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * `steward run`: stays in the foreground and runs due audit stages as time
 * passes, for users who want a daemon without cron. SIGINT/SIGTERM stop it
 * between runs (a run in progress finishes first). Returns 0 when stopped.
 */
export async function runDaemon(options: RunCommandOptions, io: Io, deps?: Partial<RunDeps>): Promise<number> {
  const controller = new AbortController();
  const signal = deps?.signal ?? controller.signal;
  const stop = () => controller.abort();
  if (!deps?.signal) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  const now = deps?.now ?? (() => new Date());
  const sleep = deps?.sleep ?? realSleep;
  const maxSleepMs = (options.interval ?? 300) * 1000;
  io.stderr.write(`steward: running due audits as they fall due; Ctrl-C to stop.\n`);
  try {
    while (!signal.aborted) {
      const { statuses } = await loadSchedule({ config: options.config }, io, now());
      const due = statuses.filter((s) => s.due && RUNNABLE_STAGES.has(s.stage));
      if (due.length) {
        io.stderr.write(`${now().toISOString()} running collection review for ${due.map((s) => shown(s.source)).join(', ')}\n`);
        // The report goes to the state store (and the activity log); the terminal gets the summary line.
        const sink = new PassThrough();
        sink.resume();
        const code = await audit({ config: options.config, due: true, format: 'json', now }, { ...io, stdout: sink });
        io.stderr.write(`${now().toISOString()} done (exit ${code})\n`);
        continue;
      }
      const next = statuses.filter((s) => RUNNABLE_STAGES.has(s.stage)).map((s) => s.nextDue.getTime());
      const wait = Math.max(1000, Math.min(maxSleepMs, (next.length ? Math.min(...next) : Infinity) - now().getTime()));
      await sleep(wait, signal);
    }
    io.stderr.write('steward: stopped.\n');
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
