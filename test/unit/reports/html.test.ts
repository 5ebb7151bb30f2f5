import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/interfaces/reports/index.js';
import { escapeHtml } from '../../../src/interfaces/reports/html.js';
import type { AuditReport } from '../../../src/audit/types.js';
import { emptyReport, fixtureReport, HOSTILE_COLUMN } from '../../fixtures/audit-report.js';

const html = renderReport(fixtureReport, 'html');

function svg(id: string, doc = html): string {
  const start = doc.indexOf(`<svg class="chart" id="${id}"`);
  expect(start, id).toBeGreaterThan(-1);
  return doc.slice(start, doc.indexOf('</svg>', start) + 6);
}
const count = (s: string, needle: RegExp) => (s.match(needle) ?? []).length;

describe('HTML report', () => {
  it('is one self-contained file: nothing is loaded from anywhere', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/<iframe\b/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
  });

  it('allows only its own inline style and script, by hash', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toContain("default-src 'none'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(count(html, /<script\b/g)).toBe(1);
  });

  it('has balanced markup and an inline script that parses', () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(() => new Function(script)).not.toThrow();
    const body = html.replace(/<(script|style)>[\s\S]*?<\/\1>/g, '');
    const VOID = new Set(['meta', 'br', 'input', 'img', 'link', 'hr']);
    const stack: string[] = [];
    for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^<>]*?(\/?)>/g)) {
      const [, close, name, selfClose] = m;
      const tag = name!.toLowerCase();
      if (VOID.has(tag) || selfClose) continue;
      if (close) expect(stack.pop(), `</${tag}> at ${m.index}`).toBe(tag);
      else stack.push(tag);
    }
    expect(stack).toEqual([]);
    // Every "<" left in the text is the start of a tag: none comes from data.
    expect(body.replace(/<(\/?)([a-zA-Z][\w-]*)\b[^<>]*?(\/?)>|<!doctype html>/g, '')).not.toContain('<');
  });

  it('renders a hostile column name only as text', () => {
    expect(html).not.toContain(HOSTILE_COLUMN);
    expect(html).not.toContain('onerror=alert(1)>');
    expect(html).toContain(escapeHtml(HOSTILE_COLUMN));
    const evil: AuditReport = {
      ...fixtureReport,
      run: { ...fixtureReport.run, id: '"><script>alert(1)</script>' },
      sources: [{ ...fixtureReport.sources[0]!, name: "shop'\"><svg onload=alert(1)>" }],
    };
    const out = renderReport(evil, 'html');
    expect(count(out, /<script\b/g)).toBe(1);
    expect(out).not.toContain('<svg onload');
    expect(out).not.toContain('"><script>');
  });

  it('draws the category chart: one bar per category, one segment per category and source', () => {
    const chart = svg('chart-categories');
    const categories = new Set(fixtureReport.sources.flatMap((s) => s.inventory.map((i) => i.category)));
    expect(categories.size).toBe(10);
    expect(count(chart, /<g class="bar">/g)).toBe(categories.size);
    expect(count(chart, /<rect class="seg /g)).toBe(categories.size); // only one source has inventory
    expect(chart).toMatch(/<title id="chart-categories-title">/);
    expect(chart).toMatch(/<desc id="chart-categories-desc">[^<]*Email address: 2 in shop/);
    expect(chart).toContain('role="img"');
    // Labels come from the taxonomy.
    for (const label of ['Email address', 'Payment card', 'Government ID', 'Free text with personal data']) expect(chart).toContain(label);
  });

  it('draws the severity chart: five bars, lengths proportional to the counts', () => {
    const chart = svg('chart-severity');
    expect(count(chart, /<g class="bar">/g)).toBe(5);
    const widths = [...chart.matchAll(/<rect class="seg fill-(\w+)"[^>]*width="([\d.]+)"/g)].map((m) => [m[1], Number(m[2])] as const);
    expect(widths.map((w) => w[0])).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    const byName = Object.fromEntries(widths);
    expect(byName.high! / byName.critical!).toBeCloseTo(2, 1);
  });

  it('gives every chart a text alternative with the numbers', () => {
    expect(count(html, /<svg class="chart"/g)).toBe(2);
    expect(html).toContain('<caption>Findings by severity</caption>');
    expect(html).toMatch(/<th scope="row">Critical<\/th><td class="num">1<\/td>/);
    expect(html).toContain('<caption>Personal-data columns per category and source</caption>');
  });

  it('lists every finding with its badge, id, location and remedy', () => {
    for (const f of fixtureReport.findings) {
      expect(html).toContain(`id="finding-${escapeHtml(f.id)}"`);
      expect(html).toContain(escapeHtml(f.remedy));
      expect(html).toContain(escapeHtml(f.message));
    }
    expect(count(html, /<article class="finding/g)).toBe(fixtureReport.findings.length);
    expect(count(html, /<span class="badge sev-critical">/g)).toBeGreaterThanOrEqual(1);
  });

  it('shows the headline verdict, KPIs, the diff, the inventory and the footer', () => {
    expect(html).toMatch(/<h1>Action needed<\/h1>/);
    // "Fix first" links the critical and high findings, worst first.
    const ff = html.slice(html.indexOf('<div class="fix-first">'), html.indexOf('</ol>'));
    expect([...ff.matchAll(/href="#finding-([^"]+)"/g)].map((m) => m[1])).toEqual(['PHR-1a2b3c4d5e', 'SRC-9f8e7d6c5b', 'PHR-0a9b8c7d6e']);
    expect(html).toMatch(/<p class="kpi-label">Personal-data columns<\/p><p class="kpi-value">11<\/p>/);
    expect(html).toContain('<span class="diff-n">2</span> new');
    expect(html).toContain('<span class="diff-n">1</span> fixed');
    expect(html).toContain('<span class="diff-n">1</span> changed severity');
    expect(html).toContain('was high');
    expect(count(html, /<table class="inventory"/g)).toBe(1);
    expect(html).toContain('<th scope="col" data-type="text">Column</th>');
    expect(html).toContain('could not be audited');
    expect(html).toContain('<code>j***@e***.com</code>');
    const footer = html.slice(html.indexOf('<footer>'), html.indexOf('</footer>'));
    for (const s of ['run-2025-03-14T09-30-00Z-7f3a', 'steward 0.1.0', 'Sample values are masked']) expect(footer).toContain(s);
    expect(html).toContain('prefers-color-scheme:dark');
    expect(html).toContain('@media print');
  });

  it('says there is nothing to report for an empty audit, without charts', () => {
    const empty = renderReport(emptyReport, 'html');
    expect(empty).toMatch(/<h1>Nothing to report<\/h1>/);
    expect(count(empty, /<svg class="chart"/g)).toBe(0);
    expect(empty).toContain('first audit run');
  });

  it('writes the fixture report to a file (for a look in a browser)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'steward-report-'));
    const file = path.join(dir, 'report.html');
    writeFileSync(file, html);
    expect(html.length).toBeGreaterThan(10_000);
  });
});

describe('HTML report: access, integrity and schedule', () => {
  const src = fixtureReport.sources[0]!;
  const report: AuditReport = {
    ...fixtureReport,
    sources: [
      {
        ...src,
        access: {
          principals: [
            { name: 'app', kind: 'role', login: true, superuser: false, authorized: true },
            { name: HOSTILE_COLUMN, kind: 'role', login: true, superuser: false, authorized: false },
          ],
          edges: [
            { principal: 'app', path: ['app', 'SELECT on public.customers'], grant: 'SELECT on public.customers', schema: 'public', table: 'customers', columns: [{ column: 'email', category: 'contact.email', authorized: true }] },
            { principal: HOSTILE_COLUMN, path: [HOSTILE_COLUMN, 'member of analyst', 'SELECT on public.customers'], grant: 'SELECT on public.customers', schema: 'public', table: 'customers', columns: [{ column: 'email', category: 'contact.email', authorized: false }] },
          ],
          requireSecureTransport: false,
          problems: [],
        },
        integrity: [
          { schema: 'public', table: 'customers', rows: 100, exact: true, columns: [{ column: 'email', category: 'contact.email', nonNull: 90, invalid: 7, invalidExamples: ['j***@e***'], duplicateRows: 3, duplicatedValues: 2, duplicateExamples: [] }], requiredNulls: [{ column: 'phone', nulls: 4 }], stale: { column: 'updated_at', rows: 6, before: '2024-11-24T00:00:00.000Z' }, orphans: [] },
        ],
      },
      ...fixtureReport.sources.slice(1),
    ],
    schedule: [
      { source: src.name, stage: 'access', frequency: 'P1M', lastSuccess: '2026-11-01T00:00:00.000Z', lastFailure: null, nextDue: '2026-12-01T00:00:00.000Z', due: false, overdue: false },
      { source: src.name, stage: 'integrity', frequency: 'P6M', lastSuccess: null, lastFailure: null, nextDue: '2026-01-01T00:00:00.000Z', due: true, overdue: true },
    ],
  };
  const doc = renderReport(report, 'html');

  it('draws the access graph: one node per principal and table, the unauthorized path in red', () => {
    const start = doc.indexOf('<svg class="chart access-graph"');
    expect(start).toBeGreaterThan(-1);
    const graph = doc.slice(start, doc.indexOf('</svg>', start));
    expect(count(graph, /class="edge edge-bad"/g)).toBe(1);
    expect(count(graph, /class="edge edge-ok"/g)).toBe(1);
    expect(count(graph, /<circle /g)).toBe(2);
    expect(graph).toContain('member of analyst');
    // Names from the database are escaped everywhere.
    expect(doc).not.toContain(HOSTILE_COLUMN);
    expect(doc).toContain('server accepts unencrypted connections');
  });

  it('shows integrity figures and the schedule, and links them from the contents', () => {
    expect(doc).toContain('id="integrity"');
    expect(doc).toContain(`7 <span class="muted">(8%)</span>`);
    expect(doc).toContain('4 of 100 rows empty though required');
    expect(doc).toContain('id="schedule"');
    expect(count(doc, /<span class="bad">overdue<\/span>/g)).toBe(1);
    for (const id of ['access', 'integrity', 'schedule']) expect(doc).toContain(`<a href="#${id}">`);
    // Without these parts, no empty sections.
    for (const id of ['access', 'integrity', 'schedule']) expect(html).not.toContain(`id="${id}"`);
  });
});
