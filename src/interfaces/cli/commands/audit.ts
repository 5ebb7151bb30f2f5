import path from 'node:path';
import { checkWritable, writeUserFile } from '../../../files.js';
import { loadConfig } from '../../../config/index.js';
import { runAuditStages, type AuditStagesResult } from '../../../audit/due.js';
import { SEVERITIES, severityRank, type AuditReport, type AuditStage, type Severity } from '../../../audit/types.js';
import { openSource } from '../../../sources/index.js';
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
  const format: ReportFormat = options.json ? 'json' : (options.format ?? 'terminal');
  // Made at the first audited table, after a scheduled retention stage has written its lines.
  let bar: ReturnType<typeof progressBar> | undefined;
  let result: AuditStagesResult;
  try {
    result = await runAuditStages({
      loaded,
      plan: options.due ? 'due' : { stage: options.stage ?? 'collection', sources: options.source },
      ...(options.due ? { sources: options.source } : {}),
      history: options.history !== false,
      ...(options.now ? { now: options.now } : {}),
      sampleRows: options.sampleRows,
      openSource: (conn) => openSource(conn, { readonly: true, command: 'audit' }),
      onProgress: (stage, e) => {
        if (e.type === 'table-done') (bar ??= progressBar(io, format === 'terminal' || Boolean(options.out))).update(e.done, e.total, `${stage} ${e.source}: ${e.table}`);
      },
      // The scheduled retention stage: `steward retention apply` for its policies, its output on stderr.
      applyRetention: async ({ policies, sources }) => {
        const { retentionApply } = await import('./retention.js');
        await retentionApply({ ...(options.config ? { config: options.config } : {}), policy: policies, sources }, { ...io, stdout: io.stderr });
      },
    });
  } finally {
    bar?.done();
  }
  if (result.idle) {
    const next = result.idle.next;
    io.stderr.write(`steward: no audit stage is due${next ? `; next: ${shown(next.stage)} of source "${shown(next.source)}" at ${next.nextDue.toISOString()}` : ''}. See \`steward schedule\`.\n`);
    if (options.json) io.stdout.write(`${stringifyJson({ runs: [] })}\n`);
    return ExitCode.Ok;
  }
  if (result.reports.length === 0) return ExitCode.Ok;
  const reports = result.reports.map((r) => r.report);
  const plan = result.reports;

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
