import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/interfaces/reports/index.js';
import { escapeMarkdown } from '../../../src/interfaces/reports/markdown.js';
import { emptyReport, fixtureReport, HOSTILE_COLUMN, PIPE_COLUMN } from '../../fixtures/audit-report.js';

/** Cell separators: pipes not preceded by a backslash. */
const cells = (row: string) => row.split(/(?<!\\)\|/).length - 1;

describe('Markdown report', () => {
  const md = renderReport(fixtureReport, 'markdown');

  it('escapes pipes in names so that table rows keep their columns', () => {
    expect(PIPE_COLUMN).toContain('|');
    expect(md).toContain('tickets.notes\\|internal');
    expect(md).not.toMatch(/notes\|internal/);
    // Every row of every table has as many cell separators as its header.
    const lines = md.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.startsWith('|') && lines[i + 1]?.startsWith('| ---')) {
        const n = cells(lines[i]!);
        for (let j = i + 1; lines[j]?.startsWith('|'); j++) expect(cells(lines[j]!), lines[j]).toBe(n);
      }
    }
  });

  it('escapes HTML in names', () => {
    expect(md).not.toContain(HOSTILE_COLUMN);
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('lists every finding id and remedy, the diff and the inventory per source', () => {
    for (const f of fixtureReport.findings) {
      expect(md).toContain(`\`${f.id}\``);
      expect(md).toContain(escapeMarkdown(f.remedy));
    }
    expect(md).toContain('## Changes since the previous run');
    expect(md).toContain('2 new, 1 fixed, 1 changed severity');
    expect(md).toContain('`PHR-deadbeef01` critical');
    expect(md).toContain('### shop (postgres)');
    expect(md).toContain('### crm (mysql)');
    expect(md).toContain('Could not be audited: SOURCE\\_UNREACHABLE');
    expect(md).toContain('j\\*\\*\\*@e\\*\\*\\*.com');
  });

  it('escapes Markdown syntax', () => {
    expect(escapeMarkdown('*bold* _x_ [link](u) `code` a|b <b>')).toBe('\\*bold\\* \\_x\\_ \\[link\\](u) \\`code\\` a\\|b &lt;b&gt;');
    expect(escapeMarkdown('two\nlines')).toBe('two\\\\nlines');
  });

  it('says there is nothing to report for an empty audit', () => {
    const empty = renderReport(emptyReport, 'markdown');
    expect(empty).toContain('Nothing to report');
    expect(empty).not.toContain('| Severity |');
  });
});
