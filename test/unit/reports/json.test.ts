import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/interfaces/reports/index.js';
import { emptyReport, fixtureReport } from '../../fixtures/audit-report.js';

/** Rebuilds every object with its keys in reverse order (same data, different insertion order). */
function shuffled(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shuffled);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffled(x)]));
}

describe('JSON report', () => {
  it('round-trips to an equal object', () => {
    expect(JSON.parse(renderReport(fixtureReport, 'json'))).toEqual(fixtureReport);
    expect(JSON.parse(renderReport(emptyReport, 'json'))).toEqual(emptyReport);
  });

  it('has a key order independent of how the report object was built', () => {
    const a = renderReport(fixtureReport, 'json');
    const b = renderReport(shuffled(fixtureReport) as typeof fixtureReport, 'json');
    expect(b).toBe(a);
  });

  it('puts keys in the documented order', () => {
    const parsed = JSON.parse(renderReport(fixtureReport, 'json')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'tool', 'run', 'summary', 'sources', 'findings', 'diff']);
    expect(Object.keys(parsed.summary!.findingsBySeverity as object)).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    const cats = Object.keys(parsed.summary!.categories as object);
    expect(cats).toEqual([...cats].sort());
    const finding = (parsed.findings as unknown as Record<string, unknown>[])[0]!;
    expect(Object.keys(finding).slice(0, 4)).toEqual(['id', 'rule', 'severity', 'status']);
    const item = ((parsed.sources as unknown as { inventory: Record<string, unknown>[] }[])[0]!.inventory)[0]!;
    expect(Object.keys(item).slice(0, 6)).toEqual(['source', 'schema', 'table', 'column', 'dataType', 'category']);
  });

  it('keeps unknown (future) fields, after the known ones, sorted', () => {
    const extended = { ...fixtureReport, zeta: 1, alpha: 2 } as typeof fixtureReport;
    const keys = Object.keys(JSON.parse(renderReport(extended, 'json')) as object);
    expect(keys.slice(-2)).toEqual(['alpha', 'zeta']);
  });

  it('treats a "__proto__" key as data', () => {
    const odd = { ...fixtureReport, summary: { ...fixtureReport.summary, categories: JSON.parse('{"__proto__": 3, "a.b": 1}') as Record<string, number> } };
    const parsed = JSON.parse(renderReport(odd, 'json')) as { summary: { categories: Record<string, number> } };
    expect(Object.getOwnPropertyNames(parsed.summary.categories)).toEqual(['__proto__', 'a.b']);
  });
});
