import pc from 'picocolors';
import { RUNNABLE_STAGES, loadStageStatuses } from '../../../audit/due.js';
import type { StageStatus } from '../../../audit/schedule.js';
import { loadConfig } from '../../../config/index.js';
import { shown, stringifyJson, useColor, type Io } from '../output.js';

export interface ScheduleCommandOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** Stages `steward audit --due` can run in this version; the others are listed but not run yet. */
export { RUNNABLE_STAGES };

/** Loads steward.yml and the run history, and computes every stage's status at `now`. */
export async function loadSchedule(options: { config?: string | undefined }, io: Io, now: Date): Promise<{ statuses: StageStatus[]; configPath: string }> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  return { statuses: await loadStageStatuses(loaded, now), configPath: loaded.path };
}

const day = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) + 'Z' : '—');

/** `steward schedule`: last and next run of every stage per source. Exit 0. */
export async function schedule(options: ScheduleCommandOptions, io: Io, now = new Date()): Promise<number> {
  const { statuses } = await loadSchedule(options, io, now);
  if (options.json) {
    io.stdout.write(`${stringifyJson({ now: now.toISOString(), stages: statuses.map((s) => ({ ...s, runnable: RUNNABLE_STAGES.has(s.stage) })) }, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const rows = statuses.map((s) => [
    shown(s.source),
    shown(s.stage),
    shown(s.frequency),
    day(s.lastSuccess),
    day(s.nextDue),
    s.overdue ? c.red(`OVERDUE ${Math.ceil(s.overdueByMs / 86_400_000)}d`) : s.due ? c.yellow(s.reason === 'never-run' ? 'due (never run)' : s.reason === 'retry-after-failure' ? 'due (retry)' : 'due') : c.green(s.reason === 'waiting-to-retry' ? 'failed, retry pending' : 'ok'),
    RUNNABLE_STAGES.has(s.stage) ? '' : c.dim('(stage not available in this version)'),
  ]);
  const header = ['SOURCE', 'STAGE', 'EVERY', 'LAST SUCCESS', 'NEXT DUE', 'STATUS', ''];
  const plain = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, '');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => plain(r[i]!).length)));
  const line = (r: string[]) => r.map((cell, i) => cell + ' '.repeat(widths[i]! - plain(cell).length)).join('  ').trimEnd();
  io.stdout.write(`${c.bold(line(header))}\n${rows.map(line).join('\n')}\n`);
  const overdue = statuses.filter((s) => s.overdue).length;
  const due = statuses.filter((s) => s.due && RUNNABLE_STAGES.has(s.stage)).length;
  io.stdout.write(`\n${overdue ? `${overdue} stage(s) overdue. ` : ''}${due ? `Run \`steward audit --due\` to run the ${due} due stage(s).` : 'Nothing runnable is due.'}\n`);
  return 0;
}
