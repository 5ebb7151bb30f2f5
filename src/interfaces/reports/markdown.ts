/**
 * GitHub-flavoured Markdown: for a pull-request comment, a wiki page or a
 * ticket. Every name from a customer database is escaped, so a column called
 * `a|b` or `<b>x</b>` cannot break a table or inject markup.
 */
import { SEVERITIES, type AuditReport, type Finding } from '../../audit/types.js';
import {
  categoryLabel,
  columnLabel,
  countBySeverity,
  diffCountsText,
  evidenceText,
  formatDate,
  formatDuration,
  formatPercent,
  formatRowsShort,
  inventoryKeyText,
  locationText,
  runDurationMs,
  sortFindings,
  spansSchemas,
  verdict,
} from './format.js';
import { terminalSafe } from './text.js';

/**
 * Escapes text for a GFM paragraph, list item or table cell. Control characters,
 * escape sequences, newlines and bidi overrides become visible escapes (`\u001b`,
 * `\n`: the text stays on its line and reads as it is); HTML-significant
 * characters become entities; Markdown punctuation is backslash-escaped (a pipe
 * cannot end a cell); and what would open a block at the start of a line (`#`,
 * `-`, `+`, `=`, `1.`) is escaped there.
 */
export function escapeMarkdown(s: string): string {
  return terminalSafe(s)
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^ +/, (m) => '&#32;'.repeat(m.length))
    .replace(/^[#+=-]/, '\\$&')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

const e = escapeMarkdown;

/**
 * An inline code span showing `s` exactly (control characters as visible escapes):
 * fenced with one backtick more than the longest run inside, padded when it starts
 * or ends with a backtick or a space. `cell`: inside a table row, where GFM splits
 * cells at every unescaped pipe, code spans included.
 */
export function markdownCode(s: string, cell = false): string {
  const text = terminalSafe(s);
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${cell ? text.replace(/\|/g, '\\|') : text}${pad}${fence}`;
}

const code = (s: string) => markdownCode(s);
const cellCode = (s: string) => markdownCode(s, true);

const SEVERITY_MARK: Record<string, string> = {
  critical: '🟥 critical',
  high: '🟧 high',
  medium: '🟨 medium',
  low: '🟦 low',
  info: '⬜ info',
};

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string[] {
  const sep = headers.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [row(headers), row(sep), ...rows.map(row)];
}

export function renderMarkdown(report: AuditReport): string {
  const out: string[] = [];
  const v = verdict(report);
  const counts = countBySeverity(report.findings);
  const personal = report.sources.reduce((n, s) => n + s.inventory.length, 0);

  out.push('# Steward audit report', '');
  out.push(`> **${e(v.headline)}:** ${e(v.detail)}`, '');
  out.push(
    `Run ${code(report.run.id)} · ${report.run.stage} review · ${formatDate(report.run.startedAt)} · ${formatDuration(runDurationMs(report))} · steward ${e(report.tool.version)}`,
    '',
  );

  // Summary
  out.push('## Summary', '');
  const failed = report.sources.filter((s) => s.status === 'error').length;
  out.push(
    `- **Sources:** ${report.sources.length}${failed ? ` (${failed} could not be audited)` : ''}`,
    `- **Tables:** ${report.summary.tables} · **Columns:** ${report.summary.columns}`,
    `- **Personal-data columns:** ${personal}`,
    `- **Findings:** ${report.findings.length}${report.findings.length ? ` — ${SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ')}` : ''}`,
    '',
  );
  if (report.sources.length) {
    out.push(
      ...table(
        ['Source', 'Kind', 'Owner', 'Status', 'Tables', 'Personal-data columns'],
        report.sources.map((s) => [
          e(s.name),
          s.kind,
          e(s.owner),
          s.status === 'ok' ? 'ok' : `**error** ${e(s.error?.code ?? '')}`,
          String(s.tables),
          String(s.inventory.length),
        ]),
        ['l', 'l', 'l', 'l', 'r', 'r'],
      ),
      '',
    );
  }

  // Findings
  out.push('## Findings', '');
  if (report.findings.length === 0) {
    out.push(report.sources.length === 0 && personal === 0 ? 'Nothing to report: no findings.' : 'No findings.', '');
  } else {
    out.push(
      ...table(
        ['Severity', 'ID', 'Finding', 'Location', 'Remedy'],
        sortFindings(report.findings).map((f) => [
          SEVERITY_MARK[f.severity] ?? f.severity,
          `${cellCode(f.id)}`,
          `**${e(f.title)}**${f.status === 'new' ? ' *(new)*' : ''}<br>${e(f.message)}`,
          e(locationText(f.location)),
          e(f.remedy),
        ]),
      ),
      '',
    );
  }

  // Diff
  if (report.diff) {
    const d = report.diff;
    out.push('## Changes since the previous run', '');
    out.push(`Compared with run ${code(d.previousRunId)} (${formatDate(d.previousFinishedAt)}): ${e(diffCountsText(d))}.`, '');
    const item = (f: Finding, extra = '') => `${code(f.id)} ${f.severity}${extra} — ${e(f.title)} (${e(locationText(f.location))})`;
    if (d.appeared.length) out.push('**New**', '', ...d.appeared.map((f) => `- ${item(f)}`), '');
    if (d.fixed.length) out.push('**Fixed**', '', ...d.fixed.map((f) => `- ${item(f)}`), '');
    if (d.changedSeverity.length) out.push('**Changed severity**', '', ...d.changedSeverity.map((c) => `- ${item(c.finding, ` (was ${c.from})`)}`), '');
    if (d.inventoryAdded.length) out.push('**Personal-data columns added**', '', ...d.inventoryAdded.map((k) => `- ${e(inventoryKeyText(k))}`), '');
    if (d.inventoryRemoved.length) out.push('**Personal-data columns removed**', '', ...d.inventoryRemoved.map((k) => `- ${e(inventoryKeyText(k))}`), '');
  }

  // Inventory
  out.push('## Inventory', '');
  if (report.sources.length === 0) out.push('No sources were audited.', '');
  for (const s of report.sources) {
    out.push(`### ${e(s.name)} (${s.kind})`, '');
    if (s.status === 'error') {
      out.push(`Could not be audited: ${e(s.error ? `${s.error.code}: ${s.error.message}` : 'unknown error')}.`, '');
      continue;
    }
    if (s.inventory.length === 0) {
      out.push('No personal data found.', '');
      continue;
    }
    const withSchema = spansSchemas(s.inventory);
    const items = [...s.inventory].sort(
      (a, b) => a.schema.localeCompare(b.schema, 'en') || a.table.localeCompare(b.table, 'en') || a.column.localeCompare(b.column, 'en'),
    );
    out.push(
      ...table(
        ['Column', 'Category', 'Risk', 'Confidence', 'Rows', 'Evidence', 'Purpose', 'Masked examples'],
        items.map((i) => [
          e(columnLabel(i, withSchema)),
          `${e(categoryLabel(i.category))} (${cellCode(i.category)})${i.encrypted ? ', encrypted' : ''}`,
          i.risk,
          formatPercent(i.confidence),
          formatRowsShort(i.rowEstimate),
          e(evidenceText(i.evidence)),
          i.purpose === null ? '**none declared**' : e(i.purpose),
          i.examples.map(e).join(', '),
        ]),
        ['l', 'l', 'l', 'r', 'r', 'l', 'l', 'l'],
      ),
      '',
    );
  }
  out.push(`---`, '', `*Generated by steward ${e(report.tool.version)}, run ${code(report.run.id)}. Sample values are masked; this report contains no raw personal data.*`, '');
  return out.join('\n');
}
