/**
 * The state store as the audit sees it (`AuditHistory` in src/audit/run-audit.ts):
 * the previous comparable run, and recording the new one.
 */
import type { PreviousAudit } from '../audit/compare.js';
import type { AuditReport, Finding } from '../audit/types.js';
import os from 'node:os';
import { StateError } from '../errors.js';
import type { NewActivity } from './activity-log.js';
import { openStateStore, type StateStore } from './store.js';

export interface StateAuditHistory {
  /** The latest run of `stage` that audited every one of `coveredSources` successfully, with its findings and inventory. */
  previousAudit(stage: string, coveredSources: readonly string[]): Promise<PreviousAudit | null>;
  recordAudit(report: AuditReport): Promise<void>;
  close(): Promise<void>;
  readonly store: StateStore;
}

export function auditHistory(store: StateStore, options: { readonly configHash?: string | null } = {}): StateAuditHistory {
  return {
    store,
    async previousAudit(stage, coveredSources) {
      const run = await store.previousRun(stage, { sources: coveredSources });
      if (!run) return null;
      const [findings, inventory] = await Promise.all([store.loadFindings(run.id), store.loadInventory(run.id)]);
      return { runId: run.id, finishedAt: run.finishedAt, findings, inventory };
    },
    async recordAudit(report) {
      // The run and its activity log entries in one transaction: a run the log was refused for is not stored.
      try {
        await store.recordAuditRun(report, { configHash: options.configHash ?? null }, auditRunEntries(report));
      } catch (e) {
        // Neither the run nor its entries were written: say so, and why.
        if (e instanceof StateError) throw new StateError('STATE_OPEN', `Audit run ${report.run.id} was not recorded: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), cause: e });
        throw e;
      }
    },
    close: () => store.close(),
  };
}

/** The `audit.run` activity log entry of a run, and one per finding that appeared, was fixed or changed severity. Locations and counts only. */
function auditRunEntries(report: AuditReport): NewActivity[] {
  const actor = currentActor();
  const at = report.run.finishedAt;
  const where = (f: Finding) => ({ source: f.location.source, ...(f.location.schema ? { schema: f.location.schema } : {}), ...(f.location.table ? { table: f.location.table } : {}), ...(f.location.column ? { column: f.location.column } : {}) });
  const change = (action: string, f: Finding, extra: Record<string, unknown> = {}) => ({
    at,
    actor,
    action,
    subject: { findingId: f.id, runId: report.run.id },
    details: { rule: f.rule, severity: f.severity, stage: report.run.stage, location: where(f), ...(f.category ? { category: f.category } : {}), ...extra },
  });
  // Each finding's lifecycle (appeared, fixed, severity changed) is evidence of its own.
  const appeared = report.diff ? report.diff.appeared : report.findings;
  return [
    {
      at,
      actor,
      action: 'audit.run',
      subject: { runId: report.run.id, stage: report.run.stage, sources: report.sources.map((s) => s.name) },
      details: {
        sources: report.sources.map((s) => ({ name: s.name, status: s.status, tables: s.tables, personalColumns: s.inventory.length })),
        findingsBySeverity: report.summary.findingsBySeverity,
        new: report.diff?.appeared.length ?? report.findings.length,
        fixed: report.diff?.fixed.length ?? 0,
      },
    },
    ...appeared.map((f) => change('finding.appeared', f)),
    ...(report.diff?.fixed ?? []).map((f) => change('finding.fixed', f)),
    ...(report.diff?.changedSeverity ?? []).map(({ finding, from }) => change('finding.severity-changed', finding, { from })),
  ];
}

/** Opens the store at `url` (relative to `baseDir`, the directory of steward.yml). */
export async function openAuditHistory(
  url: string,
  baseDir: string,
  options: { readonly configHash?: string | null; readonly schema?: string } = {},
): Promise<StateAuditHistory> {
  const store = await openStateStore({ url, baseDir, ...(options.schema ? { schema: options.schema } : {}) });
  return auditHistory(store, options);
}

/** The OS user running Steward, for the activity log. */
export function currentActor(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
