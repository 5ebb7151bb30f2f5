/**
 * Which audit stages are due, and running them: the schedule (schedule.ts) read
 * against the state store's history, then each due stage run for the sources it
 * is due for (and retention, where steward.yml schedules it, after expiring the
 * legal holds whose end has passed). `steward audit --due` and `steward run` are
 * thin over this; a dashboard or a worker calls the same functions.
 *
 * @example
 * const loaded = await loadConfig({ cwd: process.cwd() });
 * const result = await runAuditStages({ loaded, plan: 'due', openSource: (c) => openSource(c, { readonly: true, command: 'audit' }) });
 * for (const { stage, report } of result.reports) console.log(stage, report.summary.findingsBySeverity);
 */
import path from 'node:path';
import type { LoadedConfig, StewardConfig } from '../config/index.js';
import { policySources } from '../retention/categories.js';
import type { Source, SourceConnection } from '../sources/types.js';
import { auditHistory, currentActor } from '../state/audit-history.js';
import type { Job } from '../state/jobs.js';
import { openStateStore, type StateStore } from '../state/store.js';
import { runAudit, type AuditProgress } from './run-audit.js';
import { computeSchedule, parseIsoDuration, scheduleEntries, type ScheduleEntry, type ScheduledStage, type StageRun, type StageStatus } from './schedule.js';
import type { AuditReport, AuditStage, ReportScheduleEntry } from './types.js';

/** Stages this version runs when they fall due; the others are listed by the schedule but not run. */
export const RUNNABLE_STAGES: ReadonlySet<ScheduledStage> = new Set<ScheduledStage>(['collection', 'access', 'integrity', 'retention']);

/** The schedule steward.yml asks for, less retention on sources that no retention policy covers (nothing to run there). */
export function scheduledStages(config: Pick<StewardConfig, 'schedule' | 'sources' | 'retention'>): ScheduleEntry[] {
  const declared = config.sources.map((s) => s.name);
  const covered = new Set(config.retention.policies.flatMap((p) => policySources(p, declared)));
  return scheduleEntries(config).filter((e) => e.stage !== 'retention' || covered.has(e.source));
}

/** Retention runs are jobs, not audits: each finished or abandoned one counts as a run of its source's retention stage. */
export function retentionStageRuns(jobs: readonly Pick<Job, 'operation' | 'status' | 'source' | 'startedAt' | 'finishedAt' | 'updatedAt'>[]): StageRun[] {
  return jobs
    .filter((j) => j.operation === 'retention' && j.status !== 'running')
    .map((j) => ({ source: j.source, stage: 'retention', startedAt: new Date(j.startedAt), finishedAt: new Date(j.finishedAt ?? j.updatedAt), status: j.status === 'done' ? ('ok' as const) : ('failed' as const) }));
}

/** Every scheduled stage's status at `now`, from the runs and retention jobs the store holds. */
export async function readSchedule(config: StewardConfig, store: StateStore, now: Date): Promise<StageStatus[]> {
  const runs = [...(await store.stageRuns()), ...retentionStageRuns(await store.jobs.list(10_000))];
  const retryAfter = parseIsoDuration(config.schedule.retryAfter) ?? undefined;
  return computeSchedule(scheduledStages(config), runs, { now, ...(retryAfter ? { retryAfter } : {}) });
}

/** {@link readSchedule} on the state store `steward.yml` names (opened and closed here). */
export async function loadStageStatuses(loaded: Pick<LoadedConfig, 'config' | 'dir'>, now: Date): Promise<StageStatus[]> {
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    return await readSchedule(loaded.config, store, now);
  } finally {
    await store.close();
  }
}

/** A stage to run and the sources to run it for. */
export interface DueStage {
  readonly stage: ScheduledStage;
  readonly sources: readonly string[];
}

/**
 * The runnable stages that are due, each with the sources it is due for (only
 * those in `only`, when given), in the order the stages run. Pure.
 */
export function dueStages(statuses: readonly StageStatus[], only?: readonly string[]): DueStage[] {
  return [...RUNNABLE_STAGES]
    .map((stage) => ({ stage, sources: statuses.filter((s) => s.stage === stage && s.due && (!only?.length || only.includes(s.source))).map((s) => s.source) }))
    .filter((d) => d.sources.length > 0);
}

/** The runnable stage that falls due first (the one to name when nothing is due). Pure. */
export function nextRunnable(statuses: readonly StageStatus[]): StageStatus | undefined {
  return statuses.filter((s) => RUNNABLE_STAGES.has(s.stage)).sort((a, b) => a.nextDue.getTime() - b.nextDue.getTime())[0];
}

/**
 * How long a daemon waits before it looks again: until the next runnable stage
 * falls due, but at least a second and at most `maxMs` (so that a changed
 * steward.yml or a run made elsewhere is seen). Pure.
 */
export function waitBeforeNextCheck(statuses: readonly StageStatus[], now: Date, maxMs: number): number {
  const next = statuses.filter((s) => RUNNABLE_STAGES.has(s.stage)).map((s) => s.nextDue.getTime());
  return Math.max(1000, Math.min(maxMs, (next.length ? Math.min(...next) : Infinity) - now.getTime()));
}

/** The retention policies a due retention stage applies: those covering any of `sources`, in steward.yml order. Pure. */
export function retentionPoliciesFor(config: Pick<StewardConfig, 'sources' | 'retention'>, sources: readonly string[]): string[] {
  const declared = config.sources.map((s) => s.name);
  return config.retention.policies.filter((p) => policySources(p, declared).some((s) => sources.includes(s))).map((p) => p.name);
}

/** A status as `report.schedule` carries it. Pure. */
export function reportScheduleEntry(s: StageStatus): ReportScheduleEntry {
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

/** The retention part of a run: the policies to apply on the sources retention is due for. */
export interface DueRetention {
  readonly policies: readonly string[];
  readonly sources: readonly string[];
}

export interface RunAuditStagesOptions {
  /** steward.yml as `loadConfig` returned it (its directory anchors the state store's path; findings about its settings name its file). */
  readonly loaded: Pick<LoadedConfig, 'config' | 'dir' | 'patterns'> & { readonly path?: string };
  /** `due`: every runnable stage that is due, for the sources it is due for; or one stage for the given sources (default all). */
  readonly plan: 'due' | { readonly stage: AuditStage; readonly sources?: readonly string[] | undefined };
  /** With `plan: 'due'`: only these sources. */
  readonly sources?: readonly string[] | undefined;
  /** false: no state store at all (a one-off audit; nothing is due, nothing recorded). Default true. */
  readonly history?: boolean;
  readonly now?: () => Date;
  readonly sampleRows?: number | undefined;
  readonly openSource: (conn: SourceConnection) => Promise<Source>;
  readonly onProgress?: (stage: AuditStage, event: AuditProgress) => void;
  /**
   * Applies retention when its stage is due (the CLI: `steward retention apply`
   * for these policies and sources). Legal holds whose end has passed are
   * expired before it is called. Absent: a due retention stage is not run (and
   * is returned as `retention` with `applied: false`).
   */
  readonly applyRetention?: (due: DueRetention) => Promise<void>;
  /** Who the activity log names for expired holds; default the OS user. */
  readonly actor?: string;
}

export interface AuditStagesResult {
  /** Each audit stage run, with its report (`report.schedule` filled from the schedule after the runs, with a state store). */
  readonly reports: readonly { readonly stage: AuditStage; readonly report: AuditReport }[];
  /** The retention stage, when it was due. */
  readonly retention: (DueRetention & { readonly applied: boolean }) | null;
  /** The statuses the plan was made from (empty without a state store). */
  readonly statuses: readonly StageStatus[];
  /** `plan: 'due'` and nothing was due: the runnable stage due next, if any. */
  readonly idle: { readonly next: StageStatus | undefined } | null;
}

/**
 * Runs audit stages the way the schedule asks: reads what is due (and what is
 * overdue, which the reports name as findings), expires lapsed legal holds and
 * applies retention where it is due, runs each audit stage, records it, and
 * attaches the schedule after the runs to each report.
 */
export async function runAuditStages(options: RunAuditStagesOptions): Promise<AuditStagesResult> {
  const { config, dir, patterns } = options.loaded;
  const now = () => options.now?.() ?? new Date();
  const useHistory = options.history !== false;
  const statuses = useHistory ? await loadStageStatuses(options.loaded, now()) : [];

  let plan: { stage: ScheduledStage; sources: readonly string[] | undefined }[];
  if (options.plan === 'due') {
    plan = dueStages(statuses, options.sources);
    if (plan.length === 0) return { reports: [], retention: null, statuses, idle: { next: nextRunnable(statuses) } };
  } else {
    plan = [{ stage: options.plan.stage, sources: options.plan.sources }];
  }

  // Retention is on the schedule too (where steward.yml gives it a frequency): it runs the
  // policies of the sources it is due for, after the holds that lapsed are expired.
  let retention: AuditStagesResult['retention'] = null;
  const retentionDue = plan.find((p) => p.stage === 'retention');
  if (retentionDue?.sources?.length) {
    const policies = retentionPoliciesFor(config, retentionDue.sources);
    retention = { policies, sources: retentionDue.sources, applied: false };
    if (options.applyRetention) {
      const { expireHolds } = await import('../retention/holds.js');
      const store = await openStateStore({ url: config.state.url, baseDir: dir });
      try {
        await expireHolds(store, { actor: options.actor ?? currentActor(), now: now() });
      } finally {
        await store.close();
      }
      if (policies.length) await options.applyRetention({ policies, sources: retentionDue.sources });
      retention = { ...retention, applied: true };
    }
  }
  const audits = plan.filter((p): p is { stage: AuditStage; sources: readonly string[] | undefined } => p.stage !== 'retention');
  if (audits.length === 0) return { reports: [], retention, statuses, idle: null };

  const store = useHistory ? await openStateStore({ url: config.state.url, baseDir: dir }) : null;
  const reports: { stage: AuditStage; report: AuditReport }[] = [];
  try {
    const history = store ? auditHistory(store) : null;
    // Open data-subject requests: overdue and nearly-due ones are findings of every report.
    const requests = store ? await store.requests.list({ states: ['received', 'verified', 'in-progress', 'awaiting-identifier'] }) : undefined;
    for (const { stage, sources } of audits) {
      const report = await runAudit({
        config,
        patterns,
        ...(options.loaded.path ? { configFile: path.basename(options.loaded.path) } : {}),
        stage,
        sources,
        overdue: statuses.filter((s) => s.overdue),
        ...(requests ? { requests } : {}),
        ...(options.now ? { now: options.now } : {}),
        sampleRows: options.sampleRows,
        openSource: options.openSource,
        ...(history ? { history } : {}),
        ...(options.onProgress ? { onProgress: (e: AuditProgress) => options.onProgress!(stage, e) } : {}),
      });
      reports.push({ stage, report });
    }
    if (store) {
      // The schedule after these runs, so that reports say when each stage is next due.
      const after = await readSchedule(config, store, now());
      for (const [i, r] of reports.entries()) {
        const audited = new Set(r.report.sources.map((s) => s.name));
        reports[i] = { stage: r.stage, report: { ...r.report, schedule: after.filter((s) => audited.has(s.source)).map(reportScheduleEntry) } };
      }
    }
  } finally {
    await store?.close();
  }
  return { reports, retention, statuses, idle: null };
}
