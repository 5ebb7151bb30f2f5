import { describe, expect, it } from 'vitest';
import { compareWithPrevious } from '../../../src/audit/compare.js';
import type { DraftFinding } from '../../../src/audit/collection-review.js';
import type { Finding, InventoryItem } from '../../../src/audit/types.js';

const f = (id: string, source: string, severity: Finding['severity'] = 'medium'): DraftFinding => ({
  id,
  rule: 'collection.purpose-not-declared',
  severity,
  title: 't',
  message: 'm',
  remedy: 'r',
  location: { source, schema: 'main', table: 't', column: id },
});
const inv = (source: string, column: string, category = 'contact.email'): InventoryItem => ({
  source,
  schema: 'main',
  table: 't',
  column,
  dataType: 'text',
  category,
  risk: 'medium',
  confidence: 1,
  rowEstimate: 1,
  evidence: { signals: [], sampled: 1, matched: 1 },
  examples: [],
  freeText: [],
  purpose: null,
});
const prev = (findings: DraftFinding[], inventory: InventoryItem[]) => ({
  runId: 'r1',
  finishedAt: '2026-01-01T00:00:00.000Z',
  findings: findings.map((x) => ({ ...x, status: 'existing' as const })),
  inventory,
});

describe('compareWithPrevious', () => {
  it('first run: everything is new and there is no diff', () => {
    const r = compareWithPrevious([f('a', 's')], [], ['s'], null);
    expect(r.diff).toBeNull();
    expect(r.findings[0]!.status).toBe('new');
  });

  it('reports appeared, fixed and changed severity', () => {
    const r = compareWithPrevious(
      [f('a', 's'), f('b', 's', 'high')],
      [inv('s', 'email'), inv('s', 'phone', 'contact.phone')],
      ['s'],
      prev([f('b', 's', 'medium'), f('c', 's')], [inv('s', 'email'), inv('s', 'old')]),
    );
    expect(r.findings.map((x) => [x.id, x.status])).toEqual([
      ['a', 'new'],
      ['b', 'existing'],
    ]);
    expect(r.diff!.appeared.map((x) => x.id)).toEqual(['a']);
    expect(r.diff!.fixed.map((x) => x.id)).toEqual(['c']);
    expect(r.diff!.changedSeverity).toEqual([{ finding: expect.objectContaining({ id: 'b', severity: 'high' }), from: 'medium' }]);
    expect(r.diff!.inventoryAdded).toEqual(['s.main.t.phone:contact.phone']);
    expect(r.diff!.inventoryRemoved).toEqual(['s.main.t.old:contact.email']);
  });

  it('does not call findings of a source this run did not cover "fixed"', () => {
    const r = compareWithPrevious([f('a', 's')], [], ['s'], prev([f('a', 's'), f('z', 'other')], [inv('other', 'email')]));
    expect(r.diff!.fixed).toEqual([]);
    expect(r.diff!.inventoryRemoved).toEqual([]);
  });

  it('an unreachable source has nothing fixed: its old findings were not looked at', () => {
    const r = compareWithPrevious([f('down', 'db2')], [], ['db1', 'db2'], prev([f('a', 'db2'), f('b', 'db1')], [inv('db2', 'email')]), ['db1']);
    expect(r.diff!.fixed.map((x) => x.id)).toEqual(['b']);
    expect(r.diff!.inventoryRemoved).toEqual([]);
  });
});
