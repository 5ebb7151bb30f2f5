import { describe, expect, it } from 'vitest';
import { addDuration, computeSchedule, parseFrequency, parseIsoDuration, type StageRun } from '../../../src/audit/schedule.js';
import { ConfigError } from '../../../src/errors.js';

const D = (s: string) => new Date(s);
const run = (finished: string, status: StageRun['status'] = 'ok', stage = 'collection', source = 'shop'): StageRun => ({
  source,
  stage,
  startedAt: new Date(D(finished).getTime() - 60_000),
  finishedAt: D(finished),
  status,
});
const quarterly = [{ source: 'shop', stage: 'collection' as const, frequency: parseFrequency('P3M') }];

describe('ISO-8601 durations', () => {
  it('parses and rejects', () => {
    expect(parseIsoDuration('P3M')).toMatchObject({ months: 3, days: 0 });
    expect(parseIsoDuration('P1Y2M3W4DT5H6M7S')).toEqual({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 });
    for (const bad of ['P', 'PT', '3M', 'P3X', 'P-1M', 'P1.5M', '']) expect(parseIsoDuration(bad)).toBeNull();
  });
  it('adds calendar months with month-end clamping', () => {
    expect(addDuration(D('2026-01-31T10:00:00Z'), parseIsoDuration('P1M')!).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addDuration(D('2024-01-31T10:00:00Z'), parseIsoDuration('P1M')!).toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(addDuration(D('2026-11-30T00:00:00Z'), parseIsoDuration('P3M')!).toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(addDuration(D('2026-01-01T00:00:00Z'), parseIsoDuration('PT36H')!).toISOString()).toBe('2026-01-02T12:00:00.000Z');
  });
  it('gives a config error naming the path for garbage and zero periods', () => {
    expect(() => parseFrequency('every month', 'sources[0].schedule.access')).toThrow(ConfigError);
    expect(() => parseFrequency('every month', 'sources[0].schedule.access')).toThrow(/sources\[0\]\.schedule\.access/);
    expect(() => parseFrequency('P0D')).toThrow(/zero duration/);
  });
});

describe('computeSchedule (injected clock)', () => {
  it('a stage never run is due at once', () => {
    const [s] = computeSchedule(quarterly, [], { now: D('2026-05-01T00:00:00Z') });
    expect(s).toMatchObject({ due: true, reason: 'never-run', overdue: false, lastSuccess: null });
  });

  it('is not due one millisecond before the boundary and due exactly at it', () => {
    const runs = [run('2026-01-15T12:00:00Z')];
    const before = computeSchedule(quarterly, runs, { now: D('2026-04-15T11:59:59.999Z') })[0]!;
    const at = computeSchedule(quarterly, runs, { now: D('2026-04-15T12:00:00Z') })[0]!;
    expect(before).toMatchObject({ due: false, reason: 'not-due' });
    expect(before.nextDue.toISOString()).toBe('2026-04-15T12:00:00.000Z');
    expect(at).toMatchObject({ due: true, reason: 'due', overdue: false });
  });

  it('a missed window is due once and overdue past the grace day, not once per missed quarter', () => {
    const s = computeSchedule(quarterly, [run('2025-01-15T12:00:00Z')], { now: D('2026-01-15T12:00:00Z') })[0]!;
    expect(s.due).toBe(true);
    expect(s.overdue).toBe(true);
    expect(s.nextDue.toISOString()).toBe('2025-04-15T12:00:00.000Z');
    expect(Math.round(s.overdueByMs / 86_400_000)).toBe(274);
    // After the catch-up run, the next due date is one period later — not in the past.
    const after = computeSchedule(quarterly, [run('2025-01-15T12:00:00Z'), run('2026-01-15T12:05:00Z')], { now: D('2026-01-15T12:06:00Z') })[0]!;
    expect(after).toMatchObject({ due: false, overdue: false });
    expect(after.nextDue.toISOString()).toBe('2026-04-15T12:05:00.000Z');
  });

  it('within the grace period it is due but not yet overdue', () => {
    const s = computeSchedule(quarterly, [run('2026-01-15T12:00:00Z')], { now: D('2026-04-16T11:00:00Z') })[0]!;
    expect(s).toMatchObject({ due: true, overdue: false });
  });

  it('a failed run is retried after retryAfter, even before the period comes round', () => {
    const runs = [run('2026-01-15T12:00:00Z'), run('2026-02-01T08:00:00Z', 'failed')];
    const waiting = computeSchedule(quarterly, runs, { now: D('2026-02-01T08:30:00Z') })[0]!;
    expect(waiting).toMatchObject({ due: false, reason: 'waiting-to-retry' });
    expect(waiting.lastFailure?.toISOString()).toBe('2026-02-01T08:00:00.000Z');
    const retry = computeSchedule(quarterly, runs, { now: D('2026-02-01T09:00:00Z') })[0]!;
    expect(retry).toMatchObject({ due: true, reason: 'retry-after-failure' });
    // A failure older than the last success no longer matters.
    const healed = computeSchedule(quarterly, [...runs, run('2026-02-01T10:00:00Z')], { now: D('2026-02-02T00:00:00Z') })[0]!;
    expect(healed).toMatchObject({ due: false, reason: 'not-due', lastFailure: null });
  });

  it('a partial run counts as done; only runs of the same source and stage count', () => {
    const entries = [
      { source: 'shop', stage: 'access' as const, frequency: parseFrequency('P1M') },
      { source: 'crm', stage: 'access' as const, frequency: parseFrequency('P1M') },
    ];
    const runs = [run('2026-03-01T00:00:00Z', 'partial', 'access', 'shop'), run('2026-03-01T00:00:00Z', 'ok', 'collection', 'crm')];
    const [shop, crm] = computeSchedule(entries, runs, { now: D('2026-03-15T00:00:00Z') });
    expect(shop).toMatchObject({ due: false, reason: 'not-due' });
    expect(crm).toMatchObject({ due: true, reason: 'never-run' });
  });

  it('cron frequencies: due at the next firing after the last run started', () => {
    const monthly = [{ source: 'shop', stage: 'access' as const, frequency: parseFrequency('0 3 1 * *') }];
    const runs = [run('2026-03-01T03:10:00Z', 'ok', 'access')];
    expect(computeSchedule(monthly, runs, { now: D('2026-04-01T02:59:00Z') })[0]).toMatchObject({ due: false });
    const s = computeSchedule(monthly, runs, { now: D('2026-04-01T03:00:00Z') })[0]!;
    expect(s.due).toBe(true);
    expect(s.nextDue.toISOString()).toBe('2026-04-01T03:00:00.000Z');
  });
});
