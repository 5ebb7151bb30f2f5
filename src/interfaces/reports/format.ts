/**
 * Small formatting helpers shared by every report format: numbers, row
 * estimates, percentages, dates, locations, evidence and the one-line verdict.
 * All pure, locale-independent (reports must read the same on every machine).
 */
import { SEVERITIES, severityRank, type AuditReport, type Finding, type InventoryItem, type Location, type Severity } from '../../audit/types.js';
import type { Evidence } from '../../detection/types.js';
import { categoryInfo } from '../../detection/taxonomy.js';

/** 950 → "950", 12480 → "12k", 1234567 → "1.2M", -1 → "?". */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) {
    if (n >= size * 0.9995) {
      const v = n / size;
      const text = v >= 10 ? String(Math.round(v)) : (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, '');
      // 999.96k rounds to 1000k: carry into the next unit.
      if (text === '1000' && suffix !== 'B') continue;
      return `${text}${suffix}`;
    }
  }
  return String(Math.round(n));
}

/** "≈1.2M rows"; "? rows" when the database does not know. */
export function formatRows(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '? rows';
  return `≈${compactNumber(n)} ${n === 1 ? 'row' : 'rows'}`;
}

/** Row estimate for a table cell: "≈1.2M", "?". */
export function formatRowsShort(n: number): string {
  return !Number.isFinite(n) || n < 0 ? '?' : `≈${compactNumber(n)}`;
}

/** 0.953 → "95%"; values are clamped to 0..100. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '?';
  const pct = Math.min(100, Math.max(0, ratio * 100));
  // Never round 99.6% up to a reassuring "100%".
  return `${pct >= 99.5 && pct < 100 ? 99 : Math.round(pct)}%`;
}

/** ISO timestamp → "2025-03-14 09:30 UTC" (UTC, so the report reads the same everywhere). */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** 4250 → "4.3 s", 820 → "820 ms", 125000 → "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function runDurationMs(report: AuditReport): number {
  return Date.parse(report.run.finishedAt) - Date.parse(report.run.startedAt);
}

/** "3 tables", "1 table". */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/** "public.orders.card_number" (or the source name for a source-wide finding). */
export function locationPath(l: Location): string {
  return [l.schema, l.table, l.column].filter((p) => p !== undefined && p !== '').join('.');
}

/** "shop: public.orders.card_number", or "shop" for a finding about the whole source. */
export function locationText(l: Location): string {
  const path = locationPath(l);
  return path ? `${l.source}: ${path}` : l.source;
}

/** "table.column", with the schema when a source's inventory spans several schemas. */
export function columnLabel(item: InventoryItem, withSchema: boolean): string {
  return withSchema ? `${item.schema}.${item.table}.${item.column}` : `${item.table}.${item.column}`;
}

export function spansSchemas(items: readonly InventoryItem[]): boolean {
  return new Set(items.map((i) => i.schema)).size > 1;
}

const SIGNAL_NAMES: Record<Evidence['signals'][number]['kind'], string> = {
  'column-name': 'name',
  values: 'values',
  'free-text': 'free-text',
  context: 'context',
  type: 'type',
  'steward-ciphertext': 'encrypted',
};

/** "name+values 48/50", "name", "free-text 9/50". */
export function evidenceText(e: Evidence): string {
  const kinds = [...new Set(e.signals.map((s) => SIGNAL_NAMES[s.kind] ?? s.kind))];
  const what = kinds.length ? kinds.join('+') : 'none';
  return e.sampled > 0 ? `${what} ${e.matched}/${e.sampled}` : what;
}

export function categoryLabel(id: string): string {
  return categoryInfo(id).label;
}

/** Worst first, then by location and id, so that every format lists findings in the same order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      locationText(a.location).localeCompare(locationText(b.location), 'en') ||
      a.id.localeCompare(b.id, 'en'),
  );
}

export function groupBySeverity(findings: readonly Finding[]): { severity: Severity; findings: Finding[] }[] {
  const sorted = sortFindings(findings);
  return SEVERITIES.map((severity) => ({ severity, findings: sorted.filter((f) => f.severity === severity) })).filter((g) => g.findings.length > 0);
}

/** Findings counted from the list itself (the summary may be absent or stale in hand-built reports). */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}

/** "1 critical, 2 high, 1 medium" (non-zero only), or "none". */
export function severityCountsText(counts: Readonly<Record<Severity, number>>): string {
  const parts = SEVERITIES.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'none';
}

export type VerdictLevel = 'critical' | 'attention' | 'review' | 'clean' | 'empty';

export interface Verdict {
  readonly level: VerdictLevel;
  /** Short headline: "Action needed", "All clear", "Nothing to report". */
  readonly headline: string;
  /** The numbers behind it, as a sentence fragment that follows the headline. */
  readonly detail: string;
  /** `headline: detail.` — one line. */
  readonly text: string;
}

/** The single sentence every format ends (terminal) or starts (HTML, Markdown) with. */
export function verdict(report: AuditReport): Verdict {
  const counts = countBySeverity(report.findings);
  const failed = report.sources.filter((s) => s.status === 'error').length;
  const personal = report.sources.reduce((n, s) => n + s.inventory.length, 0);
  const make = (level: VerdictLevel, headline: string, detail: string): Verdict => ({ level, headline, detail, text: `${headline}: ${detail}` });
  if (report.findings.length === 0 && personal === 0 && failed === 0) {
    return make(
      'empty',
      'Nothing to report',
      report.sources.length === 0
        ? 'no sources were audited, no personal data was found, and there are no findings.'
        : `no personal data was found in ${plural(report.sources.length, 'source')}, and there are no findings.`,
    );
  }
  const mapped = `${plural(personal, 'personal-data column')} mapped`;
  if (report.findings.length === 0) {
    const why =
      report.run.stage === 'integrity'
        ? 'their values valid, unique where they identify a person, and up to date'
        : 'each covered by a declared purpose and protected as its category requires';
    return make('clean', 'All clear', `no findings; ${mapped}, ${why}.`);
  }
  const failedText = failed ? `; ${plural(failed, 'source')} could not be audited` : '';
  const detail = `${severityCountsText(counts)} ${report.findings.length === 1 ? 'finding' : 'findings'}${failedText}; ${mapped}.`;
  if (counts.critical > 0) return make('critical', 'Action needed', detail);
  if (counts.high > 0) return make('attention', 'Attention needed', detail);
  return make('review', 'Review recommended', detail);
}

export function diffIsEmpty(diff: NonNullable<AuditReport['diff']>): boolean {
  return !diff.appeared.length && !diff.fixed.length && !diff.changedSeverity.length && !diff.inventoryAdded.length && !diff.inventoryRemoved.length;
}

/** "2 new, 1 fixed, 1 changed severity" or "no changes". */
export function diffCountsText(diff: NonNullable<AuditReport['diff']>): string {
  if (diffIsEmpty(diff)) return 'no changes: same findings, same personal-data columns';
  const parts = [
    `${diff.appeared.length} new`,
    `${diff.fixed.length} fixed`,
    ...(diff.changedSeverity.length ? [`${diff.changedSeverity.length} changed severity`] : []),
  ];
  const inv = [
    ...(diff.inventoryAdded.length ? [`+${plural(diff.inventoryAdded.length, 'column')}`] : []),
    ...(diff.inventoryRemoved.length ? [`−${plural(diff.inventoryRemoved.length, 'column')}`] : []),
  ];
  return `${parts.join(', ')}${inv.length ? `; inventory ${inv.join(', ')}` : ''}`;
}

/** An inventory diff key `source.schema.table.column:category` → readable text with the category label. */
export function inventoryKeyText(key: string): string {
  const i = key.lastIndexOf(':');
  if (i <= 0) return key;
  const category = key.slice(i + 1);
  return /^[\w-]+\.[\w-]+$/.test(category) ? `${key.slice(0, i)} (${categoryLabel(category)})` : key;
}

/** terminalSafe's characters (src/interfaces/reports/text.ts) that JSON.stringify leaves as they are. */
const UNSAFE_BEYOND_C0 = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `JSON.stringify`, with every character a terminal or an editor would act on
 * written as a `\uXXXX` escape: JSON already escapes C0 controls, this adds DEL,
 * C1 controls (`\u009b` is a CSI on some terminals), bidi overrides and the line
 * and paragraph separators. The same value parses back; the text is safe to print.
 */
export function stringifyJson(value: unknown, space?: number): string {
  // JSON.stringify escapes C0 inside strings (the newlines left are its indentation); outside strings JSON
  // has only ASCII, so every match is inside one, where `\uXXXX` means the same character.
  return (JSON.stringify(value, null, space) ?? 'null').replace(UNSAFE_BEYOND_C0, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
