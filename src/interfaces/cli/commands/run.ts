import { setTimeout as delay } from 'node:timers/promises';
import { runAuditStages, waitBeforeNextCheck } from '../../../audit/due.js';
import { loadConfig } from '../../../config/index.js';
import { openSource } from '../../../sources/index.js';
import { exitCodeFor, summaryLine } from './audit.js';
import { retentionApply } from './retention.js';
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
      // Read each time: a changed steward.yml applies from the next check on.
      const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
      const result = await runAuditStages({
        loaded,
        plan: 'due',
        now,
        openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }),
        applyRetention: async ({ policies, sources }) => {
          io.stderr.write(`${now().toISOString()} applying retention (${policies.map(shown).join(', ')}) on ${sources.map(shown).join(', ')}\n`);
          await retentionApply({ ...(options.config ? { config: options.config } : {}), policy: policies, sources }, { ...io, stdout: io.stderr });
        },
      });
      if (!result.idle) {
        // The reports go to the state store (and the activity log); the terminal gets a line per stage.
        for (const { stage, report } of result.reports) {
          io.stderr.write(`${now().toISOString()} ${stage} of ${report.sources.map((s) => shown(s.name)).join(', ')}: ${summaryLine(report)} (exit ${exitCodeFor(report, loaded.config.audit.failOn)})\n`);
        }
        continue;
      }
      await sleep(waitBeforeNextCheck(result.statuses, now(), maxSleepMs), signal);
    }
    io.stderr.write('steward: stopped.\n');
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
