/**
 * Request cases, the pure part: kinds and aliases, deadlines with month ends
 * clamped, extensions counted from receipt, which transitions are refused and
 * with what, the steps still to run, deadline classification, and the audit
 * findings it gives.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  DEFAULT_REQUEST_SETTINGS,
  classifyDeadline,
  daysBetween,
  daysLeftText,
  dueDate,
  extendedDueDate,
  newRequestId,
  normaliseRequestId,
  parseReceived,
  parseRequestKind,
  pendingSteps,
  requestFindings,
  resolveJurisdiction,
  shredDueAt,
  transitionRefusal,
  REQUEST_FINDINGS_SOURCE,
  type CaseFacts,
  type RequestState,
} from '../../../src/subjects/requests.js';

const NOW = new Date('2026-12-10T15:00:00Z');

const facts = (over: Partial<CaseFacts> = {}): CaseFacts => ({
  id: 'REQ-7KQ3M9',
  state: 'received',
  receivedOn: '2026-12-01',
  dueOn: '2027-01-01',
  extendedDueOn: null,
  extendBy: 'P2M',
  jurisdiction: 'gdpr',
  verifiedBy: null,
  verifiedAt: null,
  closedAt: null,
  shreddedAt: null,
  ...over,
});

describe('kinds', () => {
  it('takes the four kinds and the CCPA names, case-insensitively', () => {
    expect(parseRequestKind('erasure')).toBe('erasure');
    expect(parseRequestKind(' Access ')).toBe('access');
    expect(parseRequestKind('know')).toBe('access');
    expect(parseRequestKind('delete')).toBe('erasure');
    expect(parseRequestKind('CORRECT')).toBe('rectification');
    expect(parseRequestKind('find')).toBe('find');
  });
  it('refuses anything else with the list', () => {
    expect(() => parseRequestKind('forget')).toThrow(/not a kind of request/);
    expect(() => parseRequestKind(undefined)).toThrow(/--kind is required/);
  });
});

describe('deadlines', () => {
  it('GDPR: one calendar month from receipt', () => {
    expect(dueDate('2026-12-01', 'P1M')).toBe('2027-01-01');
    expect(dueDate('2026-03-15', 'P1M')).toBe('2026-04-15');
  });
  it('clamps to the last day of a shorter month (31 Jan → 28/29 Feb, 31 Mar → 30 Apr)', () => {
    expect(dueDate('2026-01-31', 'P1M')).toBe('2026-02-28');
    expect(dueDate('2028-01-31', 'P1M')).toBe('2028-02-29');
    expect(dueDate('2026-03-31', 'P1M')).toBe('2026-04-30');
    expect(dueDate('2026-01-30', 'P1M')).toBe('2026-02-28');
  });
  it('CCPA: 45 calendar days, across a year end', () => {
    expect(dueDate('2026-12-01', 'P45D')).toBe('2027-01-15');
    expect(dueDate('2027-02-01', 'P45D')).toBe('2027-03-18');
  });
  it('an extension counts from receipt: GDPR three months in all (31 Jan → 30 Apr, not 28 Apr), CCPA 90 days', () => {
    expect(extendedDueDate('2026-01-31', 'P1M', 'P2M')).toBe('2026-04-30');
    expect(extendedDueDate('2026-12-01', 'P1M', 'P2M')).toBe('2027-03-01');
    expect(extendedDueDate('2026-12-01', 'P45D', 'P45D')).toBe('2027-03-01');
  });
  it('days between dates, and the words for them', () => {
    expect(daysBetween('2026-12-10', '2027-01-01')).toBe(22);
    expect(daysBetween('2027-01-03', '2027-01-01')).toBe(-2);
    expect(daysLeftText(0)).toBe('due today');
    expect(daysLeftText(1)).toBe('1 day left');
    expect(daysLeftText(-3)).toBe('3 days overdue');
  });
  it('the received date: a real date, not in the future; default today (UTC)', () => {
    expect(parseReceived(undefined, NOW)).toBe('2026-12-10');
    expect(parseReceived('2026-12-01', NOW)).toBe('2026-12-01');
    expect(() => parseReceived('2026-02-30', NOW)).toThrow(/not a date/);
    expect(() => parseReceived('01/12/2026', NOW)).toThrow(/not a date/);
    expect(() => parseReceived('2026-12-11', NOW)).toThrow(/in the future/);
  });
  it('jurisdictions: built in, overridden, added, unknown refused', () => {
    expect(resolveJurisdiction(DEFAULT_REQUEST_SETTINGS)).toMatchObject({ name: 'gdpr', respondWithin: 'P1M', extendBy: 'P2M' });
    expect(resolveJurisdiction(DEFAULT_REQUEST_SETTINGS, 'CCPA')).toMatchObject({ name: 'ccpa', respondWithin: 'P45D' });
    const settings = { ...DEFAULT_REQUEST_SETTINGS, defaultJurisdiction: 'lgpd', jurisdictions: { lgpd: { respondWithin: 'P15D', extendBy: 'P0D' }, gdpr: { respondWithin: 'P30D', extendBy: 'P60D' } } };
    expect(resolveJurisdiction(settings)).toMatchObject({ name: 'lgpd', respondWithin: 'P15D' });
    expect(resolveJurisdiction(settings, 'gdpr')).toMatchObject({ respondWithin: 'P30D', label: 'GDPR Art. 12(3)' });
    expect(() => resolveJurisdiction(DEFAULT_REQUEST_SETTINGS, 'pipeda')).toThrow(/not a jurisdiction Steward knows/);
  });
  it('shredding is due a period after closing', () => {
    expect(shredDueAt('2026-12-10T15:00:00.000Z', 'P30D')).toBe('2027-01-09T15:00:00.000Z');
  });
});

describe('ids', () => {
  it('REQ- and six Crockford characters, read back however typed', () => {
    const id = newRequestId();
    expect(id).toMatch(/^REQ-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$/);
    expect(newRequestId(Buffer.from([0, 1, 2, 30, 31, 32]))).toBe('REQ-012YZ0');
    expect(normaliseRequestId(id.toLowerCase())).toBe(id);
    expect(normaliseRequestId(id.slice(4))).toBe(id);
    expect(normaliseRequestId('req-o12yzo')).toBe('REQ-012YZ0');
    expect(normaliseRequestId('REQ-12')).toBeNull();
    expect(normaliseRequestId("x' or 1=1")).toBeNull();
  });
});

describe('transitions', () => {
  const refusal = (c: CaseFacts, a: Parameters<typeof transitionRefusal>[1], now = NOW) => transitionRefusal(c, a, now);

  it('an unverified case is not run, with the command that verifies it', () => {
    const e = refusal(facts(), 'run')!;
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/REQ-7KQ3M9 is not verified/);
    expect(e.hint).toContain("steward request verify REQ-7KQ3M9 --method 'ID document' --by support");
  });
  it('verified, in progress and completed cases run (completed does nothing)', () => {
    for (const state of ['verified', 'in-progress', 'completed'] as const) expect(refusal(facts({ state, closedAt: state === 'completed' ? '2026-12-05T00:00:00Z' : null }), 'run')).toBeNull();
  });
  it('a case waiting for an identifier is not run, with the command that adds one', () => {
    const e = refusal(facts({ state: 'awaiting-identifier' }), 'run')!;
    expect(e.message).toMatch(/waiting for an identifier/);
    expect(e.hint).toContain('steward request add-identifier REQ-7KQ3M9');
  });
  it('verify only once', () => {
    expect(refusal(facts(), 'verify')).toBeNull();
    expect(refusal(facts({ state: 'verified', verifiedBy: 'support', verifiedAt: '2026-12-02T10:00:00Z' }), 'verify')!.message).toMatch(/already verified \(by "support" on 2026-12-02\)/);
  });
  it('a closed case changes no more', () => {
    for (const state of ['completed', 'refused'] as const) {
      for (const action of ['verify', 'add-identifier', 'refuse', 'extend'] as const) {
        expect(refusal(facts({ state, closedAt: '2026-12-05T00:00:00Z' }), action)!.message, `${state} ${action}`).toMatch(/is closed \(.* on 2026-12-05\)/);
      }
    }
    expect(refusal(facts({ state: 'refused', closedAt: '2026-12-05T00:00:00Z' }), 'run')!.message).toMatch(/is closed/);
  });
  it('every open state can be refused or given an identifier', () => {
    for (const state of ['received', 'verified', 'in-progress', 'awaiting-identifier'] as RequestState[]) {
      expect(refusal(facts({ state }), 'refuse')).toBeNull();
      expect(refusal(facts({ state }), 'add-identifier')).toBeNull();
    }
  });
  it('extend: once, only where the law allows, only before the first deadline', () => {
    expect(refusal(facts(), 'extend')).toBeNull();
    expect(refusal(facts(), 'extend', new Date('2027-01-01T23:59:00Z'))).toBeNull();
    expect(refusal(facts(), 'extend', new Date('2027-01-02T00:00:00Z'))!.message).toMatch(/was due on 2027-01-01/);
    expect(refusal(facts({ extendedDueOn: '2027-03-01' }), 'extend')!.message).toMatch(/already extended \(to 2027-03-01\)/);
    expect(refusal(facts({ extendBy: 'P0D', jurisdiction: 'lgpd' }), 'extend')!.message).toMatch(/lgpd, which allows no extension/);
  });
  it('shred: only closed cases, once', () => {
    expect(refusal(facts({ state: 'in-progress' }), 'shred')!.message).toMatch(/needed until the case is closed/);
    expect(refusal(facts({ state: 'completed', closedAt: '2026-12-05T00:00:00Z' }), 'shred')).toBeNull();
    expect(refusal(facts({ state: 'completed', closedAt: '2026-12-05T00:00:00Z', shreddedAt: '2027-01-04T00:00:00Z' }), 'shred')!.message).toMatch(/already shredded on 2027-01-04/);
  });
});

describe('steps still to run', () => {
  it('by kind, in order; a done or skipped step with the current identifiers is not run again', () => {
    expect(pendingSteps('access', [], 1)).toEqual(['find', 'access']);
    expect(pendingSteps('erasure', [], 1)).toEqual(['find', 'erase']);
    expect(pendingSteps('rectification', [], 1)).toEqual(['find', 'correct']);
    expect(pendingSteps('find', [], 1)).toEqual(['find']);
    expect(pendingSteps('access', [{ step: 'find', status: 'done', identifiersVersion: 1 }], 1)).toEqual(['access']);
    expect(pendingSteps('access', [{ step: 'find', status: 'done', identifiersVersion: 1 }, { step: 'access', status: 'failed', identifiersVersion: 1 }], 1)).toEqual(['access']);
    expect(pendingSteps('access', [{ step: 'find', status: 'done', identifiersVersion: 1 }, { step: 'access', status: 'skipped', identifiersVersion: 1 }], 1)).toEqual([]);
  });
  it('an ambiguous, failed or interrupted step runs again; a new identifier runs every step again', () => {
    expect(pendingSteps('erasure', [{ step: 'find', status: 'ambiguous', identifiersVersion: 1 }], 1)).toEqual(['find', 'erase']);
    expect(pendingSteps('erasure', [{ step: 'find', status: 'interrupted', identifiersVersion: 1 }], 1)).toEqual(['find', 'erase']);
    expect(pendingSteps('access', [{ step: 'find', status: 'done', identifiersVersion: 1 }], 2)).toEqual(['find', 'access']);
  });
});

describe('deadline status and findings', () => {
  const open = { id: 'REQ-7KQ3M9', kind: 'erasure' as const, state: 'in-progress' as const, receivedOn: '2026-12-01', dueOn: '2027-01-01', extendedDueOn: null, jurisdiction: 'gdpr' };

  it('open, due soon (deadline day included), overdue from the day after, closed', () => {
    expect(classifyDeadline(open, new Date('2026-12-10T00:00:00Z'), 7)).toEqual({ status: 'open', dueOn: '2027-01-01', daysLeft: 22 });
    expect(classifyDeadline(open, new Date('2026-12-25T00:00:00Z'), 7)).toEqual({ status: 'due-soon', dueOn: '2027-01-01', daysLeft: 7 });
    expect(classifyDeadline(open, new Date('2026-12-24T00:00:00Z'), 7)).toMatchObject({ status: 'open', daysLeft: 8 });
    expect(classifyDeadline(open, new Date('2027-01-01T23:00:00Z'), 7)).toMatchObject({ status: 'due-soon', daysLeft: 0 });
    expect(classifyDeadline(open, new Date('2027-01-02T00:00:00Z'), 7)).toMatchObject({ status: 'overdue', daysLeft: -1 });
    expect(classifyDeadline({ ...open, state: 'completed' }, new Date('2027-02-01T00:00:00Z'), 7)).toEqual({ status: 'closed', dueOn: '2027-01-01', daysLeft: null });
    expect(classifyDeadline({ ...open, extendedDueOn: '2027-03-01' }, new Date('2027-01-20T00:00:00Z'), 7)).toMatchObject({ status: 'open', dueOn: '2027-03-01' });
  });

  it('overdue → high, due soon → medium, at the case, without identifiers; on time and closed → nothing', () => {
    const cases = [
      { ...open, id: 'REQ-AAAAAA' },
      { ...open, id: 'REQ-BBBBBB', receivedOn: '2026-12-20', dueOn: '2027-01-20' },
      { ...open, id: 'REQ-CCCCCC', receivedOn: '2027-01-10', dueOn: '2027-02-10' },
      { ...open, id: 'REQ-DDDDDD', state: 'refused' as const },
    ];
    const f = requestFindings(cases, new Date('2027-01-15T09:00:00Z'), 7);
    expect(f.map((x) => [x.rule, x.severity, x.location])).toEqual([
      ['subjects.request-overdue', 'high', { source: REQUEST_FINDINGS_SOURCE, table: 'REQ-AAAAAA' }],
      ['subjects.request-due-soon', 'medium', { source: REQUEST_FINDINGS_SOURCE, table: 'REQ-BBBBBB' }],
    ]);
    expect(f[0]!.message).toBe('Request REQ-AAAAAA (erasure, gdpr), received 2026-12-01 and in progress, was due 2027-01-01 and is 14 days overdue.');
    expect(f[0]!.remedy).toContain('steward request run REQ-AAAAAA');
    expect(f[1]!.message).toContain('is due 2027-01-20: 5 days left');
    expect(f[1]!.remedy).toContain('steward request extend REQ-BBBBBB');
    // Stable ids: the same case gives the same finding id run after run.
    expect(requestFindings(cases, new Date('2027-01-16T09:00:00Z'), 7)[0]!.id).toBe(f[0]!.id);
  });

  it('an unverified overdue case says to verify it first', () => {
    const [f] = requestFindings([{ ...open, state: 'received' }], new Date('2027-01-05T00:00:00Z'), 7);
    expect(f!.remedy).toContain('steward request verify REQ-7KQ3M9');
  });
});
