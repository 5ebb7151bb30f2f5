import path from 'node:path';
import { checkWritable, writeUserFile } from '../../../files.js';
import { loadConfig } from '../../../config/index.js';
import { runAudit, type AuditProgress } from '../../../audit/run-audit.js';
import { SEVERITIES, severityRank, type AuditReport, type AuditStage, type ReportScheduleEntry, type Severity } from '../../../audit/types.js';
import type { StageStatus } from '../../../audit/schedule.js';
import { openSource } from '../../../sources/index.js';
import { openAuditHistory } from '../../../state/audit-history.js';
import { renderReport, type ReportFormat } from '../../reports/index.js';
import { ExitCode } from '../../../errors.js';
import { progressBar, shown, stringifyJson, useColor, type Io } from '../output.js';

export interface AuditCommandOptions {
  readonly config?: string;
  readonly source?: readonly string[];
  readonly format?: ReportFormat;
  readonly out?: string;
  readonly json?: boolean;
  readonly failOn?: Severity | 'never';
  readonly sampleRows?: number;
  readonly color?: boolean;
  /** false: do not read or write the state store (one-off audit). */
  readonly history?: boolean;
  /** Which audit stage to run (default collection). */
  readonly stage?: AuditStage;
  /** Every runnable stage that is due by the schedule, for the sources whose stage is due. */
  readonly due?: boolean;
  /** The clock the schedule is read with (tests, `steward run`). */
  readonly now?: () => Date;
}

/** `steward audit`: returns the process exit code. */
export async function audit(options: AuditCommandOptions, io: Io): Promise<number> {
  // Before any work: an --out that cannot be written fails now, not after the whole audit.
  if (options.out) checkWritable(options.out, io.cwd, 'the report');
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const { loadSchedule, RUNNABLE_STAGES } = await import('./schedule.js');
  const { statuses } = options.history === false ? { statuses: [] } : await loadSchedule({ config: loaded.path }, io, options.now?.() ?? new Date());
  const format: ReportFormat = options.json ? 'json' : (options.format ?? 'terminal');

  // What to run: one stage for the given sources, or (--due) every runnable stage that is due.
  let plan: { stage: AuditStage; sources: readonly string[] | undefined }[];
  if (options.due) {
    plan = [...RUNNABLE_STAGES]
      .map((stage) => ({
        stage: stage as AuditStage,
        sources: statuses.filter((s) => s.stage === stage && s.due && (!options.source?.length || options.source.includes(s.source))).map((s) => s.source),
      }))
      .filter((p) => p.sources.length > 0);
    if (plan.length === 0) {
      const next = statuses.filter((s) => RUNNABLE_STAGES.has(s.stage)).sort((a, b) => a.nextDue.getTime() - b.nextDue.getTime())[0];
      io.stderr.write(`steward: no audit stage is due${next ? `; next: ${shown(next.stage)} of source "${shown(next.source)}" at ${next.nextDue.toISOString()}` : ''}. See \`steward schedule\`.\n`);
      if (options.json) io.stdout.write(`${stringifyJson({ runs: [] })}\n`);
      return ExitCode.Ok;
    }
  } else plan = [{ stage: options.stage ?? 'collection', sources: options.source }];

  // Retention is on the schedule too (where steward.yml gives it a frequency): it runs the
  // policies of the sources it is due for, and expires legal holds first.
  const retentionDue = plan.find((p) => (p.stage as string) === 'retention');
  plan = plan.filter((p) => (p.stage as string) !== 'retention');
  if (retentionDue?.sources?.length) {
    const { retentionApply } = await import('./retention.js');
    const { expireHolds } = await import('../../../retention/holds.js');
    const { currentActor } = await import('../../../state/audit-history.js');
    const { openStateStore } = await import('../../../state/index.js');
    const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
    try {
      await expireHolds(store, { actor: currentActor(), ...(options.now ? { now: options.now() } : {}) });
    } finally {
      await store.close();
    }
    const { policySources } = await import('../../../retention/categories.js');
    const declared = loaded.config.sources.map((s) => s.name);
    const policies = loaded.config.retention.policies.filter((p) => policySources(p, declared).some((s) => retentionDue.sources!.includes(s))).map((p) => p.name);
    if (policies.length) await retentionApply({ ...(options.config ? { config: options.config } : {}), policy: policies, sources: retentionDue.sources }, { ...io, stdout: io.stderr });
  }
  if (plan.length === 0) return ExitCode.Ok;

  const history = options.history === false ? null : await openAuditHistory(loaded.config.state.url, loaded.dir);
  const bar = progressBar(io, format === 'terminal' || Boolean(options.out));
  const reports: AuditReport[] = [];
  try {
    for (const { stage, sources } of plan) {
      reports.push(
        await runAudit({
          config: loaded.config,
          patterns: loaded.patterns,
          configFile: path.basename(loaded.path),
          stage,
          sources,
          overdue: statuses.filter((s) => s.overdue),
          ...(options.now ? { now: options.now } : {}),
          sampleRows: options.sampleRows,
          openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }),
          ...(history ? { history } : {}),
          onProgress: (e: AuditProgress) => {
            if (e.type === 'table-done') bar.update(e.done, e.total, `${stage} ${e.source}: ${e.table}`);
          },
        }),
      );
    }
  } finally {
    bar.done();
    await history?.close();
  }
  if (history) {
    // The schedule after these runs, so that reports say when each stage is next due.
    const after = (await loadSchedule({ config: loaded.path }, io, options.now?.() ?? new Date())).statuses;
    for (const [i, r] of reports.entries()) {
      const audited = new Set(r.sources.map((s) => s.name));
      reports[i] = { ...r, schedule: after.filter((s) => audited.has(s.source)).map(scheduleEntry) };
    }
  }
  for (const w of loaded.warnings) io.stderr.write(`steward: warning: ${shown(w)}\n`);
  if (options.due && format === 'json' && !options.out) {
    io.stdout.write(`${stringifyJson({ runs: reports }, 2)}\n`);
  } else {
    for (const [i, report] of reports.entries()) {
      const out = options.out && reports.length > 1 ? withStage(options.out, plan[i]!.stage) : options.out;
      await emit(report, format, { ...options, ...(out ? { out } : {}) }, io);
    }
  }
  const failOn = options.failOn ?? loaded.config.audit.failOn;
  return Math.max(...reports.map((r) => exitCodeFor(r, failOn)));
}

function scheduleEntry(s: StageStatus): ReportScheduleEntry {
  return {
    source: s.source,
    stage: s.stage,
    frequency: s.frequency,
    lastSuccess: s.lastSuccess?.toISOString() ?? null,
    lastFailure: s.lastFailure?.toISOString() ?? null,
    nextDue: s.nextDue.toISOString(),
    due: s.due,
    overdue: s.overdue,
  };
}

/** report.html → report.integrity.html when one command writes several stages. */
function withStage(file: string, stage: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${stage}${ext}`;
}

export async function emit(report: AuditReport, format: ReportFormat, options: { out?: string; color?: boolean }, io: Io): Promise<void> {
  if (options.out) {
    const file = checkWritable(options.out, io.cwd, `the ${format} report`);
    await writeUserFile(file, options.out, renderReport(report, format, { color: false }), `the ${format} report`);
    io.stderr.write(`steward: ${format} report written to ${shown(file)}\n`);
    if (format !== 'terminal') {
      // A one-line summary still reaches the terminal.
      io.stderr.write(`${summaryLine(report)}\n`);
    }
    return;
  }
  const color = format === 'terminal' && useColor(io, options.color);
  io.stdout.write(renderReport(report, format, { color, width: io.stdout.columns ?? 100 }));
  if (!renderEndsWithNewline(format)) io.stdout.write('\n');
}

function renderEndsWithNewline(format: ReportFormat): boolean {
  return format === 'terminal' || format === 'markdown' || format === 'html';
}

export function summaryLine(report: AuditReport): string {
  const s = report.summary;
  const sev = SEVERITIES.filter((k) => s.findingsBySeverity[k] > 0).map((k) => `${s.findingsBySeverity[k]} ${k}`);
  return `${s.personalColumns} personal-data columns in ${s.tables} tables of ${s.sources} source(s); findings: ${sev.length ? sev.join(', ') : 'none'}`;
}

/** 4 when no source could be audited at all; 1 when a finding reaches the --fail-on severity; else 0. */
export function exitCodeFor(report: AuditReport, failOn: Severity | 'never'): number {
  if (report.sources.length > 0 && report.sources.every((s) => s.status === 'error')) return ExitCode.Source;
  if (failOn !== 'never' && report.findings.some((f) => severityRank(f.severity) >= severityRank(failOn))) return ExitCode.Findings;
  return ExitCode.Ok;
}
