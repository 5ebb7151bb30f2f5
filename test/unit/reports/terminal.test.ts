import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/interfaces/reports/index.js';
import { displayWidth, truncate, wrap } from '../../../src/interfaces/reports/text.js';
import { emptyReport, fixtureReport } from '../../fixtures/audit-report.js';
import type { AuditReport } from '../../../src/audit/types.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('terminal report', () => {
  it('emits no ANSI codes unless colour is asked for', () => {
    expect(renderReport(fixtureReport, 'terminal')).not.toMatch(ANSI);
    expect(renderReport(fixtureReport, 'terminal', { color: false })).not.toMatch(ANSI);
    expect(renderReport(fixtureReport, 'terminal', { color: true })).toMatch(ANSI);
  });

  it('lists every finding id, title and remedy, worst severity first', () => {
    const out = renderReport(fixtureReport, 'terminal', { width: 100 });
    for (const f of fixtureReport.findings) {
      expect(out).toContain(f.id);
      expect(flat(out)).toContain(flat(f.remedy));
    }
    const groups = ['CRITICAL (1)', 'HIGH (2)', 'MEDIUM (2)', 'LOW (1)', 'INFO (1)'].map((g) => out.indexOf(g));
    expect(groups.every((i) => i >= 0)).toBe(true);
    expect([...groups].sort((a, b) => a - b)).toEqual(groups);
  });

  it('shows the inventory with category label, confidence, rows and evidence', () => {
    const out = renderReport(fixtureReport, 'terminal', { width: 120 });
    const line = out.split('\n').find((l) => l.includes('customers.email'))!;
    expect(line).toMatch(/customers\.email\s+Email address\s+99%\s+≈12k\s+name\+values 48\/50/);
    expect(out).toMatch(/orders\.card_number\s+Payment card\s+100%\s+≈1\.2M/);
    expect(out).toContain('crm (mysql) could not be audited');
    expect(out).toContain('SOURCE_UNREACHABLE');
  });

  it('summarises the diff and ends with the verdict', () => {
    const out = renderReport(fixtureReport, 'terminal', { width: 200 });
    expect(out).toContain('2 new, 1 fixed, 1 changed severity');
    expect(out).toMatch(/~\s+changed\s+PHR-1a2b3c4d5e\s+high → critical/);
    expect(out).toMatch(/-\s+fixed\s+PHR-deadbeef01/);
    const lines = out.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^✖ Action needed: 1 critical, 2 high, 2 medium, 1 low, 1 info findings; 1 source could not be audited/);
  });

  it.each([40, 60, 80, 132])('fits every line into %i cells', (width) => {
    const out = renderReport(fixtureReport, 'terminal', { width });
    for (const l of out.split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(width);
  });

  it('neutralises terminal control sequences in names from the database', () => {
    const hostile: AuditReport = {
      ...fixtureReport,
      sources: [
        {
          ...fixtureReport.sources[0]!,
          inventory: [{ ...fixtureReport.sources[0]!.inventory[0]!, column: 'x\u001b[2J\u001b]0;pwned\u0007' }],
        },
      ],
      findings: [{ ...fixtureReport.findings[0]!, title: 'evil\u001b[31m title\r\nline' }],
    };
    const out = renderReport(hostile, 'terminal', { color: false });
    expect(out).not.toMatch(ANY_CONTROL);
    expect(out).toContain('x\\u001b[2J');
  });

  it('says there is nothing to report for an empty audit', () => {
    const out = renderReport(emptyReport, 'terminal');
    expect(out).toContain('Findings  none');
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^✔ Nothing to report/);
  });
});

describe('text layout helpers', () => {
  it('counts wide characters as two cells and truncates by cells', () => {
    expect(displayWidth('顧客')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(truncate('顧客メール', 5)).toBe('顧客…');
    expect(displayWidth(truncate('顧客メール', 5))).toBeLessThanOrEqual(5);
    expect(truncate('short', 10)).toBe('short');
  });

  it('wraps on words and cuts words longer than a line', () => {
    expect(wrap('aaa bbb ccc', 10)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });
});
