import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../../config/index.js';
import { runAudit, type AuditProgress } from '../../../audit/run-audit.js';
import { SEVERITIES, severityRank, type AuditReport, type Severity } from '../../../audit/types.js';
import { openSource } from '../../../sources/index.js';
import { openAuditHistory } from '../../../state/audit-history.js';
import { renderReport, type ReportFormat } from '../../reports/index.js';
import { ExitCode } from '../../../errors.js';
import { progressBar, useColor, type Io } from '../output.js';

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
  /** Only the sources whose collection review is due by the schedule. */
  readonly due?: boolean;
  /** The clock the schedule is read with (tests, `steward run`). */
  readonly now?: () => Date;
}

/** `steward audit`: returns the process exit code. */
export async function audit(options: AuditCommandOptions, io: Io): Promise<number> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  let sources = options.source;
  const { loadSchedule } = await import('./schedule.js');
  const { statuses } = options.history === false ? { statuses: [] } : await loadSchedule({ config: loaded.path }, io, options.now?.() ?? new Date());
  if (options.due) {
    const due = statuses.filter((s) => s.stage === 'collection' && s.due && (!sources?.length || sources.includes(s.source)));
    if (due.length === 0) {
      const next = statuses.filter((s) => s.stage === 'collection').sort((a, b) => a.nextDue.getTime() - b.nextDue.getTime())[0];
      io.stderr.write(`steward: no collection review is due${next ? `; next: source "${next.source}" at ${next.nextDue.toISOString()}` : ''}. See \`steward schedule\`.\n`);
      if (options.json) io.stdout.write(`${JSON.stringify({ due: [] })}\n`);
      return ExitCode.Ok;
    }
    sources = due.map((s) => s.source);
  }
  const format: ReportFormat = options.json ? 'json' : (options.format ?? 'terminal');
  const history = options.history === false ? null : await openAuditHistory(loaded.config.state.url, loaded.dir);
  const bar = progressBar(io, format === 'terminal' || Boolean(options.out));
  let report: AuditReport;
  try {
    report = await runAudit({
      config: loaded.config,
      patterns: loaded.patterns,
      sources,
      overdue: statuses.filter((s) => s.overdue),
      ...(options.now ? { now: options.now } : {}),
      sampleRows: options.sampleRows,
      openSource: (conn) => openSource(conn, { readonly: true }),
      ...(history ? { history } : {}),
      onProgress: (e: AuditProgress) => {
        if (e.type === 'table-done') bar.update(e.done, e.total, `${e.source}: ${e.table}`);
      },
    });
  } finally {
    bar.done();
    await history?.close();
  }
  for (const w of loaded.warnings) io.stderr.write(`steward: warning: ${w}\n`);
  await emit(report, format, options, io);
  return exitCodeFor(report, options.failOn ?? loaded.config.audit.failOn);
}

export async function emit(report: AuditReport, format: ReportFormat, options: { out?: string; color?: boolean }, io: Io): Promise<void> {
  if (options.out) {
    const file = path.resolve(io.cwd, options.out);
    await writeFile(file, renderReport(report, format, { color: false }), 'utf8');
    io.stderr.write(`steward: ${format} report written to ${file}\n`);
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
