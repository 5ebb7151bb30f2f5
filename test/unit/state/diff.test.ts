import { describe, expect, it } from 'vitest';
import type { Finding, InventoryItem } from '../../../src/audit/types.js';
import { diffAudits, markNew, type StoredAudit } from '../../../src/state/diff.js';
import { stateFinding as finding, stateItem as item } from '../../fixtures/state-report.js';

const run = { id: 'prev', finishedAt: '2026-03-01T10:00:05.000Z' };
const previous = (findings: Finding[], inventory: InventoryItem[] = []): StoredAudit => ({
  run,
  findings: findings.map((f) => ({ ...f, status: 'existing' })),
  inventory,
});
const ids = (fs: readonly Finding[]) => fs.map((f) => f.id);

describe('diffAudits', () => {
  it('reports appeared, fixed and changed severity by stable id', () => {
    const prev = previous([finding('A', 'shop'), finding('B', 'shop', { severity: 'low' }), finding('C', 'shop')]);
    const current = { findings: [finding('B', 'shop', { severity: 'high' }), finding('C', 'shop'), finding('D', 'shop')], inventory: [] };
    const diff = diffAudits(current, prev, ['shop']);
    expect(diff.previousRunId).toBe('prev');
    expect(diff.previousFinishedAt).toBe(run.finishedAt);
    expect(ids(diff.appeared)).toEqual(['D']);
    expect(ids(diff.fixed)).toEqual(['A']);
    expect(diff.changedSeverity).toEqual([{ finding: expect.objectContaining({ id: 'B', severity: 'high', status: 'existing' }), from: 'low' }]);
  });

  it('does not report findings of a source this run did not cover as fixed', () => {
    const prev = previous([finding('S1', 'shop'), finding('C1', 'crm'), finding('C2', 'crm')], [item('crm', 'email'), item('shop', 'email')]);
    // `steward audit --source shop`: crm was not audited this time.
    const diff = diffAudits({ findings: [finding('S1', 'shop')], inventory: [item('shop', 'email')] }, prev, ['shop']);
    expect(diff.fixed).toEqual([]);
    expect(diff.appeared).toEqual([]);
    expect(diff.inventoryRemoved).toEqual([]);
    expect(diff.inventoryAdded).toEqual([]);
  });

  it('a source that failed this run (not covered) keeps its findings out of fixed', () => {
    const prev = previous([finding('S1', 'shop'), finding('C1', 'crm')]);
    const unreachable = finding('SRC-crm', 'crm', { rule: 'collection.source-unreachable', location: { source: 'crm' } });
    const diff = diffAudits({ findings: [finding('S1', 'shop'), unreachable], inventory: [] }, prev, ['shop']);
    expect(ids(diff.fixed)).toEqual([]);
    expect(ids(diff.appeared)).toEqual(['SRC-crm']);
  });

  it('lists inventory columns added and removed; a category change is removed + added', () => {
    const prev = previous([], [item('shop', 'email'), item('shop', 'fax'), item('shop', 'name', { category: 'identity.person_name' })]);
    const current = {
      findings: [],
      inventory: [item('shop', 'email'), item('shop', 'name', { category: 'contact.email' }), item('shop', 'phone', { category: 'contact.phone' })],
    };
    const diff = diffAudits(current, prev, ['shop']);
    expect(diff.inventoryAdded).toEqual(['shop.public.customers.name:contact.email', 'shop.public.customers.phone:contact.phone']);
    expect(diff.inventoryRemoved).toEqual(['shop.public.customers.fax:contact.email', 'shop.public.customers.name:identity.person_name']);
  });
});

describe('markNew', () => {
  it('marks everything new without a previous run', () => {
    expect(markNew([finding('A', 'shop', { status: 'existing' })], null, ['shop']).map((f) => f.status)).toEqual(['new']);
  });

  it('marks findings the previous run had as existing, others new', () => {
    const marked = markNew([finding('A', 'shop'), finding('B', 'shop', { status: 'existing' })], previous([finding('A', 'shop')]), ['shop']);
    expect(marked.map((f) => [f.id, f.status])).toEqual([
      ['A', 'existing'],
      ['B', 'new'],
    ]);
  });
});
