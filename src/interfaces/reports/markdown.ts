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

/**
 * Escapes text for a GFM paragraph or table cell: HTML-significant characters
 * become entities, Markdown punctuation is backslash-escaped, pipes cannot end
 * a cell, and line breaks cannot end a row.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // Brackets are escaped, so parentheses can never form a link and stay readable.
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, ' ');
}

const e = escapeMarkdown;

/** An inline code span; pipes stay escaped so that it is safe inside a table cell. */
function code(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|')}\``;
}

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
          `${code(f.id)}`,
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
          `${e(categoryLabel(i.category))} (${code(i.category)})${i.encrypted ? ', encrypted' : ''}`,
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
