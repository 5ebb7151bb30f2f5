/** Which stages are due and what runs (src/audit/due.ts): pure, with the clock and the history as inputs. */
import { describe, expect, it } from 'vitest';
import { dueStages, nextRunnable, reportScheduleEntry, retentionPoliciesFor, retentionStageRuns, scheduledStages, waitBeforeNextCheck } from '../../../src/audit/due.js';
import type { StageStatus } from '../../../src/audit/schedule.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const status = (source: string, stage: StageStatus['stage'], due: boolean, nextDue: string, extra: Partial<StageStatus> = {}): StageStatus => ({
  source,
  stage,
  frequency: 'P1M',
  lastSuccess: null,
  lastFailure: null,
  nextDue: new Date(nextDue),
  due,
  reason: due ? 'due' : 'not-due',
  overdue: false,
  overdueByMs: 0,
  ...extra,
});

const policy = (name: string, where: { source?: string; sources?: string[]; category?: string }) => ({ name, table: 'customers', period: 'P1Y', method: 'erase', ...where }) as never;
const config = (policies: unknown[], schedule: Record<string, string> = {}) =>
  ({
    schedule: { retryAfter: 'PT1H', ...schedule },
    sources: [{ name: 'shop' }, { name: 'crm' }, { name: 'logs' }],
    retention: { policies },
  }) as never;

describe('dueStages', () => {
  const statuses = [
    status('shop', 'integrity', true, '2026-02-01T00:00:00Z'),
    status('shop', 'collection', true, '2026-02-20T00:00:00Z'),
    status('crm', 'collection', true, '2026-02-25T00:00:00Z'),
    status('crm', 'access', false, '2026-04-01T00:00:00Z'),
    status('shop', 'retention', true, '2026-02-28T00:00:00Z'),
  ];

  it('lists each due stage once, in the order stages run, with the sources it is due for', () => {
    expect(dueStages(statuses)).toEqual([
      { stage: 'collection', sources: ['shop', 'crm'] },
      { stage: 'integrity', sources: ['shop'] },
      { stage: 'retention', sources: ['shop'] },
    ]);
  });

  it('keeps only the sources asked for, and drops a stage left without any', () => {
    expect(dueStages(statuses, ['crm'])).toEqual([{ stage: 'collection', sources: ['crm'] }]);
    expect(dueStages(statuses, ['nowhere'])).toEqual([]);
    expect(dueStages(statuses, [])).toHaveLength(3);
  });

  it('is empty when nothing is due', () => {
    expect(dueStages([status('shop', 'collection', false, '2026-04-01T00:00:00Z')])).toEqual([]);
    expect(dueStages([])).toEqual([]);
  });
});

describe('nextRunnable and waitBeforeNextCheck', () => {
  const statuses = [status('shop', 'collection', false, '2026-03-05T00:00:00Z'), status('crm', 'access', false, '2026-03-02T00:00:00Z')];

  it('names the stage that falls due first', () => {
    expect(nextRunnable(statuses)).toMatchObject({ source: 'crm', stage: 'access' });
    expect(nextRunnable([])).toBeUndefined();
  });

  it('sleeps until the next due time, at most the interval and at least a second', () => {
    expect(waitBeforeNextCheck(statuses, NOW, 7 * 86_400_000)).toBe(86_400_000);
    expect(waitBeforeNextCheck(statuses, NOW, 3_600_000)).toBe(3_600_000);
    // Already due (a check a moment ago ran it, or it failed and waits): no busy loop.
    expect(waitBeforeNextCheck([status('shop', 'collection', true, '2026-02-01T00:00:00Z')], NOW, 300_000)).toBe(1000);
    // Nothing scheduled: the interval.
    expect(waitBeforeNextCheck([], NOW, 300_000)).toBe(300_000);
  });
});

describe('retention on the schedule', () => {
  const policies = [policy('leads', { source: 'crm' }), policy('orders', { category: 'contact', sources: ['shop', 'logs'] }), policy('old', { source: 'logs' })];

  it('applies the policies covering any source retention is due for, in steward.yml order', () => {
    expect(retentionPoliciesFor(config(policies), ['shop'])).toEqual(['orders']);
    expect(retentionPoliciesFor(config(policies), ['logs', 'crm'])).toEqual(['leads', 'orders', 'old']);
    expect(retentionPoliciesFor(config(policies), [])).toEqual([]);
  });

  it('schedules retention only where steward.yml gives it a frequency and a policy covers the source', () => {
    const entries = scheduledStages(config([policy('leads', { source: 'crm' })], { retention: 'P1D' }));
    expect(entries.filter((e) => e.stage === 'retention').map((e) => e.source)).toEqual(['crm']);
    expect(entries.filter((e) => e.stage === 'collection').map((e) => e.source)).toEqual(['shop', 'crm', 'logs']);
    expect(scheduledStages(config([policy('leads', { source: 'crm' })])).some((e) => e.stage === 'retention')).toBe(false);
  });

  it('counts finished and abandoned retention jobs as runs, not running ones nor other jobs', () => {
    const job = (operation: string, status: string, finishedAt: string | null) =>
      ({ operation, status, source: 'crm', startedAt: '2026-02-01T00:00:00Z', updatedAt: '2026-02-01T00:05:00Z', finishedAt }) as never;
    expect(retentionStageRuns([job('retention', 'done', '2026-02-01T00:10:00Z'), job('retention', 'failed', null), job('retention', 'running', null), job('encrypt', 'done', '2026-02-01T00:10:00Z')])).toEqual([
      { source: 'crm', stage: 'retention', startedAt: new Date('2026-02-01T00:00:00Z'), finishedAt: new Date('2026-02-01T00:10:00Z'), status: 'ok' },
      { source: 'crm', stage: 'retention', startedAt: new Date('2026-02-01T00:00:00Z'), finishedAt: new Date('2026-02-01T00:05:00Z'), status: 'failed' },
    ]);
  });
});

describe('reportScheduleEntry', () => {
  it('is the status with ISO times, as reports carry it', () => {
    const s = status('shop', 'collection', false, '2026-04-01T00:00:00Z', { lastSuccess: new Date('2026-03-01T00:00:00Z'), overdue: false });
    expect(reportScheduleEntry(s)).toEqual({ source: 'shop', stage: 'collection', frequency: 'P1M', lastSuccess: '2026-03-01T00:00:00.000Z', lastFailure: null, nextDue: '2026-04-01T00:00:00.000Z', due: false, overdue: false });
  });
});
