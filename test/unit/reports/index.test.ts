import { describe, expect, it } from 'vitest';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../../../src/interfaces/reports/index.js';
import { StewardError } from '../../../src/errors.js';
import type { AuditReport } from '../../../src/audit/types.js';
import { emptyReport, fixtureReport } from '../../fixtures/audit-report.js';

describe('renderReport', () => {
  it('knows the five formats', () => {
    expect([...REPORT_FORMATS]).toEqual(['terminal', 'json', 'markdown', 'html', 'sarif']);
  });

  it.each(REPORT_FORMATS)('renders the fixture and an empty audit as %s', (format) => {
    expect(renderReport(fixtureReport, format).length).toBeGreaterThan(200);
    const empty = renderReport(emptyReport, format);
    if (format === 'json') expect(JSON.parse(empty)).toMatchObject({ findings: [], sources: [] });
    else if (format === 'sarif') expect((JSON.parse(empty) as { runs: { results: unknown[] }[] }).runs[0]!.results).toEqual([]);
    else expect(empty).toContain('Nothing to report');
  });

  it.each(['terminal', 'markdown', 'html'] as const)('%s says "All clear" when personal data is mapped and nothing is wrong', (format) => {
    const clean: AuditReport = { ...fixtureReport, findings: [], diff: null, sources: [fixtureReport.sources[0]!] };
    expect(renderReport(clean, format)).toContain('All clear');
  });

  it('does not depend on the summary being consistent with the findings', () => {
    const stale = { ...fixtureReport, summary: { ...fixtureReport.summary, findingsBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 } } };
    expect(renderReport(stale, 'terminal')).toContain('Action needed');
  });

  it('rejects an unknown format with a usage error', () => {
    expect(() => renderReport(fixtureReport, 'pdf' as ReportFormat)).toThrow(StewardError);
  });

  it('is deterministic', () => {
    for (const f of REPORT_FORMATS) expect(renderReport(fixtureReport, f)).toBe(renderReport(fixtureReport, f));
  });
});

describe('a diff with no changes', () => {
  const unchanged: AuditReport = {
    ...fixtureReport,
    diff: { ...fixtureReport.diff!, appeared: [], fixed: [], changedSeverity: [], inventoryAdded: [], inventoryRemoved: [] },
  };
  it.each(['terminal', 'markdown', 'html'] as const)('%s says nothing changed', (format) => {
    const out = renderReport(unchanged, format, { width: 200 });
    expect(out).toMatch(/no changes|Nothing changed/);
    expect(out).not.toContain('0 new');
  });
});
