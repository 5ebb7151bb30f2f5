/**
 * When each audit stage of each source is due. Pure: the clock and the run
 * history are inputs, so every boundary is testable without sleeping.
 *
 * The source text's defaults: data collection review quarterly, access
 * verification monthly, integrity check bi-annually. A frequency is an ISO-8601
 * duration (`P3M`, `P2W`, `PT12H`) counted from the end of the last successful
 * run, or a cron expression (`0 3 1 * *`) whose next firing after the start of
 * the last successful run is the due time.
 */
import { Cron } from 'croner';
import { ConfigError } from '../errors.js';

export type ScheduledStage = 'collection' | 'access' | 'integrity' | 'retention';

export const DEFAULT_FREQUENCIES: Readonly<Record<ScheduledStage, string>> = {
  collection: 'P3M',
  access: 'P1M',
  integrity: 'P6M',
  // Retention deletes data: it joins the schedule only where steward.yml gives it a frequency.
  retention: '',
};

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

export type Frequency =
  | { readonly kind: 'duration'; readonly text: string; readonly duration: IsoDuration }
  | { readonly kind: 'cron'; readonly text: string; readonly cron: Cron };

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Parses an ISO-8601 duration (whole numbers), or returns null. */
export function parseIsoDuration(text: string): IsoDuration | null {
  const m = DURATION.exec(text.trim().toUpperCase());
  if (!m) return null;
  const n = (i: number) => (m[i] ? Number(m[i]) : 0);
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/** `P3M`, `PT12H`, or a 5/6-field cron expression (UTC). `path` names the config location for errors. */
export function parseFrequency(text: string, path = 'frequency'): Frequency {
  const duration = parseIsoDuration(text);
  if (duration) {
    const total = duration.years + duration.months + duration.weeks + duration.days + duration.hours + duration.minutes + duration.seconds;
    if (total === 0) throw new ConfigError('CONFIG_INVALID', `${path}: "${text}" is a zero duration`, { hint: 'Use a positive period such as P1M (monthly) or P3M (quarterly)' });
    return { kind: 'duration', text, duration };
  }
  try {
    return { kind: 'cron', text, cron: new Cron(text, { paused: true, timezone: 'UTC' }) };
  } catch (e) {
    throw new ConfigError('CONFIG_INVALID', `${path}: "${text}" is neither an ISO-8601 duration nor a cron expression (${e instanceof Error ? e.message : String(e)})`, {
      hint: 'Write a duration like P3M (quarterly), P1M (monthly), P6M (bi-annual), or cron like "0 3 1 * *"',
    });
  }
}

/** Calendar arithmetic in UTC; month ends clamp (31 Jan + P1M = 28/29 Feb). */
export function addDuration(from: Date, d: IsoDuration): Date {
  const t = new Date(from.getTime());
  const day = t.getUTCDate();
  t.setUTCDate(1);
  t.setUTCFullYear(t.getUTCFullYear() + d.years);
  t.setUTCMonth(t.getUTCMonth() + d.months);
  const lastDay = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
  t.setUTCDate(Math.min(day, lastDay));
  return new Date(t.getTime() + (((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60_000 + d.seconds * 1000);
}

/** The next due time after a successful run. */
export function nextDueAfter(freq: Frequency, run: { readonly startedAt: Date; readonly finishedAt: Date }): Date {
  if (freq.kind === 'duration') return addDuration(run.finishedAt, freq.duration);
  return freq.cron.nextRun(run.startedAt) ?? new Date(8.64e15);
}

export interface StageRun {
  readonly source: string;
  readonly stage: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** `partial`: some sources or tables failed; counts as done for the sources that succeeded. */
  readonly status: 'ok' | 'partial' | 'failed';
}

export interface ScheduleEntry {
  readonly source: string;
  readonly stage: ScheduledStage;
  readonly frequency: Frequency;
}

export type DueReason = 'never-run' | 'due' | 'retry-after-failure' | 'not-due' | 'waiting-to-retry';

export interface StageStatus {
  readonly source: string;
  readonly stage: ScheduledStage;
  readonly frequency: string;
  readonly lastSuccess: Date | null;
  readonly lastFailure: Date | null;
  readonly nextDue: Date;
  readonly due: boolean;
  readonly reason: DueReason;
  /** Past its due time by more than the grace period: a finding of its own. */
  readonly overdue: boolean;
  readonly overdueByMs: number;
}

export interface ScheduleOptions {
  readonly now: Date;
  /** A failed run is retried this long after it ended (default PT1H). */
  readonly retryAfter?: IsoDuration;
  /** How long past due before a stage counts as overdue (default P1D). */
  readonly grace?: IsoDuration;
}

const PT1H: IsoDuration = { years: 0, months: 0, weeks: 0, days: 0, hours: 1, minutes: 0, seconds: 0 };
const P1D: IsoDuration = { years: 0, months: 0, weeks: 0, days: 1, hours: 0, minutes: 0, seconds: 0 };

/**
 * Status of every scheduled stage. A missed window makes a stage due once (not
 * once per missed period); a stage whose last attempt failed is retried after
 * `retryAfter`, even when its period has not come round again.
 */
export function computeSchedule(entries: readonly ScheduleEntry[], runs: readonly StageRun[], options: ScheduleOptions): StageStatus[] {
  const now = options.now.getTime();
  return entries.map((entry) => {
    const mine = runs.filter((r) => r.source === entry.source && r.stage === entry.stage);
    const success = latest(mine.filter((r) => r.status !== 'failed'));
    const failure = latest(mine.filter((r) => r.status === 'failed'));
    const failedSince = failure && (!success || failure.finishedAt.getTime() > success.finishedAt.getTime()) ? failure : null;

    let nextDue: Date;
    let reason: DueReason;
    if (!success) {
      nextDue = failedSince ? addDuration(failedSince.finishedAt, options.retryAfter ?? PT1H) : options.now;
      reason = failedSince ? (now >= nextDue.getTime() ? 'retry-after-failure' : 'waiting-to-retry') : 'never-run';
    } else {
      const scheduled = nextDueAfter(entry.frequency, success);
      if (failedSince) {
        const retry = addDuration(failedSince.finishedAt, options.retryAfter ?? PT1H);
        nextDue = retry.getTime() < scheduled.getTime() ? retry : scheduled;
        reason = now >= nextDue.getTime() ? 'retry-after-failure' : 'waiting-to-retry';
      } else {
        nextDue = scheduled;
        reason = now >= nextDue.getTime() ? 'due' : 'not-due';
      }
    }
    const due = now >= nextDue.getTime();
    // Overdue is measured from the scheduled time, not from a retry.
    const reference = success ? nextDueAfter(entry.frequency, success) : null;
    const overdueByMs = reference ? Math.max(0, now - addDuration(reference, options.grace ?? P1D).getTime()) : 0;
    return {
      source: entry.source,
      stage: entry.stage,
      frequency: entry.frequency.text,
      lastSuccess: success?.finishedAt ?? null,
      lastFailure: failedSince?.finishedAt ?? null,
      nextDue,
      due,
      reason,
      overdue: overdueByMs > 0,
      overdueByMs,
    };
  });
}

function latest(runs: readonly StageRun[]): StageRun | null {
  let best: StageRun | null = null;
  for (const r of runs) if (!best || r.finishedAt.getTime() > best.finishedAt.getTime()) best = r;
  return best;
}

/** The schedule steward.yml asks for: per source and stage, its own frequency, else the top-level one, else the default. */
export function scheduleEntries(config: {
  readonly schedule: Partial<Record<ScheduledStage, string | undefined>>;
  readonly sources: readonly { readonly name: string; readonly schedule?: Partial<Record<ScheduledStage, string | undefined>> | undefined }[];
}): ScheduleEntry[] {
  const stages: ScheduledStage[] = ['collection', 'access', 'integrity', 'retention'];
  return config.sources.flatMap((s, i) =>
    stages.flatMap((stage) => {
      const own = s.schedule?.[stage];
      const text = own ?? config.schedule[stage] ?? DEFAULT_FREQUENCIES[stage];
      if (!text) return [];
      return [{ source: s.name, stage, frequency: parseFrequency(text, own ? `sources[${i}].schedule.${stage}` : `schedule.${stage}`) }];
    }),
  );
}
