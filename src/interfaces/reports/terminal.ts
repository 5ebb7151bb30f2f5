/**
 * The terminal report: what `steward audit` prints. Header, per-source
 * inventory tables, findings grouped by severity, the diff since the previous
 * run, and a one-line verdict as the last line (what a user sees without
 * scrolling). Colour only when asked: the CLI decides from TTY and NO_COLOR.
 */
import pc from 'picocolors';
import type { AuditReport, Finding, Severity, SourceReport } from '../../audit/types.js';
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
  groupBySeverity,
  inventoryKeyText,
  locationText,
  plural,
  runDurationMs,
  severityCountsText,
  spansSchemas,
  verdict,
} from './format.js';
import { alignTable, displayWidth, terminalSafe, truncate, wrap } from './text.js';

export interface TerminalOptions {
  readonly color?: boolean;
  /** Terminal width in cells (default 100; at least 40 is used). */
  readonly width?: number;
}

export type Colors = ReturnType<typeof pc.createColors>;

/** How a severity is coloured on a terminal (also used by `steward tls check`). */
export function severityStyle(c: Colors, s: Severity): (t: string) => string {
  switch (s) {
    case 'critical':
      return (t) => c.bold(c.red(t));
    case 'high':
      return c.red;
    case 'medium':
      return c.yellow;
    case 'low':
      return c.cyan;
    default:
      return c.dim;
  }
}

export function renderTerminal(report: AuditReport, options: TerminalOptions = {}): string {
  const c = pc.createColors(options.color === true);
  const width = Math.max(40, Math.floor(options.width ?? 100));
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  const safe = terminalSafe;
  const fit = (s: string) => truncate(s, width);
  /** Wraps plain text to the width, then styles each line. */
  const para = (text: string, style: (t: string) => string = (t) => t, indent = '') => {
    for (const l of wrap(text, width - indent.length)) line(indent + style(l));
  };

  // Header
  line(c.bold(fit(`Steward audit · ${report.run.stage} review`)));
  line(
    c.dim(
      fit(
        `run ${safe(report.run.id)} · ${formatDate(report.run.startedAt)} · ${formatDuration(runDurationMs(report))} · steward ${safe(report.tool.version)}`,
      ),
    ),
  );
  const s = report.summary;
  const personal = report.sources.reduce((n, src) => n + src.inventory.length, 0);
  const counts = countBySeverity(report.findings);
  para(
    (
      `${plural(report.sources.length, 'source')} · ${plural(s.tables, 'table')} · ${plural(s.columns, 'column')} · ` +
        `${plural(personal, 'personal-data column')} · ${plural(report.findings.length, 'finding')}` +
        (report.findings.length ? ` (${severityCountsText(counts)})` : '')
    ),
  );

  // Inventory per source
  for (const src of report.sources) {
    line();
    renderSource(src, c, width, line);
  }

  // Findings
  line();
  if (report.findings.length === 0) {
    line(`${c.bold('Findings')}  ${c.green('none')}`);
  } else {
    line(c.bold(`Findings (${report.findings.length})`));
    for (const group of groupBySeverity(report.findings)) {
      const style = severityStyle(c, group.severity);
      line(style(`${group.severity.toUpperCase()} (${group.findings.length})`));
      for (const f of group.findings) renderFinding(f, c, width, line);
    }
  }

  // Diff since the previous run
  if (report.diff) {
    const d = report.diff;
    line();
    para(`Since previous run ${safe(d.previousRunId)} (${formatDate(d.previousFinishedAt)}): ${diffCountsText(d)}`, c.bold);
    const marks: string[] = [];
    const rows: string[][] = [];
    const add = (mark: string, what: string, f: Finding, severity: string) => {
      marks.push(mark);
      rows.push([mark, what, f.id, severity, `${f.title} · ${locationText(f.location)}`]);
    };
    for (const f of d.appeared) add('+', 'new', f, f.severity);
    for (const f of d.fixed) add('-', 'fixed', f, f.severity);
    for (const { finding, from } of d.changedSeverity) add('~', 'changed', finding, `${from} → ${finding.severity}`);
    const inv: string[][] = [
      ...d.inventoryAdded.map((k) => ['+', 'column', inventoryKeyText(k)]),
      ...d.inventoryRemoved.map((k) => ['-', 'column', inventoryKeyText(k)]),
    ];
    const markStyle = (m: string) => (m === '+' ? c.red : m === '-' ? c.green : c.yellow);
    if (rows.length) {
      const lines = alignTable(
        [{ header: '' }, { header: '', drop: 1 }, { header: '', shrink: 1, min: 14 }, { header: '', shrink: 2, min: 8 }, { header: '', shrink: 3, min: 12 }],
        rows,
        { width, indent: 2, style: (t, col, row) => (row >= 0 && col <= 1 ? markStyle(marks[row]!)(t) : t) },
      );
      for (const l of lines.slice(1)) line(l);
    }
    if (inv.length) {
      const lines = alignTable([{ header: '' }, { header: '' }, { header: '', shrink: 1, min: 10 }], inv, {
        width,
        indent: 2,
        style: (t, col, row) => (row >= 0 && col <= 1 ? markStyle(inv[row]![0]!)(t) : t),
      });
      for (const l of lines.slice(1)) line(l);
    }
  }

  // Verdict, last
  const v = verdict(report);
  line();
  const mark = v.level === 'critical' || v.level === 'attention' ? '✖' : v.level === 'review' ? '!' : '✔';
  const vStyle =
    v.level === 'critical' || v.level === 'attention' ? (t: string) => c.bold(c.red(t)) : v.level === 'review' ? (t: string) => c.bold(c.yellow(t)) : (t: string) => c.bold(c.green(t));
  para(`${mark} ${v.text}`, vStyle);
  return `${out.join('\n')}\n`;
}

function renderSource(src: SourceReport, c: Colors, width: number, line: (s?: string) => void): void {
  const safe = terminalSafe;
  if (src.status === 'error') {
    line(c.bold(c.red(truncate(`${safe(src.name)} (${src.kind}) could not be audited`, width))));
    const msg = src.error ? `${src.error.code}: ${src.error.message}` : 'unknown error';
    for (const l of wrap(safe(msg), width - 2)) line(`  ${c.red(l)}`);
    return;
  }
  const name = truncate(safe(src.name), Math.floor(width / 2));
  const facts = ` (${src.kind}) · ${plural(src.tables, 'table')} · ${plural(src.columns, 'column')} · ${plural(src.inventory.length, 'personal-data column')} · ${formatDuration(src.durationMs)}`;
  line(`${c.bold(name)}${c.dim(truncate(facts, Math.max(0, width - displayWidth(name))))}`);
  const purposes = src.purposes.length ? `purposes: ${src.purposes.map((p) => p.name).join(', ')}` : 'no purposes declared';
  for (const l of wrap(safe(`owner: ${src.owner || '—'} · ${purposes}`), width - 2)) line(`  ${c.dim(l)}`);
  if (src.inventory.length === 0) {
    line(`  ${c.dim('no personal data found')}`);
    return;
  }
  const withSchema = spansSchemas(src.inventory);
  const items = [...src.inventory].sort(
    (a, b) => a.schema.localeCompare(b.schema, 'en') || a.table.localeCompare(b.table, 'en') || a.column.localeCompare(b.column, 'en'),
  );
  const rows = items.map((i) => [
    columnLabel(i, withSchema),
    categoryLabel(i.category) + (i.encrypted ? ' (encrypted)' : '') + (i.purpose === null ? ' *' : ''),
    formatPercent(i.confidence),
    formatRowsShort(i.rowEstimate),
    evidenceText(i.evidence),
  ]);
  const lines = alignTable(
    [
      { header: 'COLUMN', shrink: 3, min: 12 },
      { header: 'CATEGORY', shrink: 2, min: 10 },
      { header: 'CONF', align: 'right' },
      { header: 'ROWS', align: 'right', drop: 1 },
      { header: 'EVIDENCE', shrink: 1, min: 8, drop: 2 },
    ],
    rows,
    {
      width,
      indent: 2,
      style: (t, col, row) => {
        if (row === -1) return c.dim(t);
        const it = items[row]!;
        if (col === 1 && it.risk === 'high') return c.red(t);
        if (col === 1 && it.purpose === null) return c.yellow(t);
        return t;
      },
    },
  );
  for (const l of lines) line(l);
  if (items.some((i) => i.purpose === null)) for (const l of wrap('* no declared purpose covers this category', width - 2)) line(`  ${c.dim(l)}`);
}

function renderFinding(f: Finding, c: Colors, width: number, line: (s?: string) => void): void {
  const safe = terminalSafe;
  const head = `${safe(f.id)}  ${safe(f.title)}${f.status === 'new' ? ' [new]' : ''}`;
  line(`  ${truncate(head, width - 2)}`);
  line(`    ${c.dim(truncate(safe(locationText(f.location)), width - 4))}`);
  for (const l of wrap(safe(f.message), width - 4)) line(`    ${l}`);
  const remedy = wrap(safe(f.remedy), width - 6);
  remedy.forEach((l, i) => line(`    ${i === 0 ? c.green('→') : ' '} ${l}`));
}
