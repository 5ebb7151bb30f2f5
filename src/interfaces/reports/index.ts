/**
 * Audit reports in every format Steward prints or writes. Each renderer is a
 * pure function of the AuditReport: no I/O, no clock, no environment — the
 * CLI decides colour (TTY, NO_COLOR) and width and passes them in.
 *
 * No report contains a raw personal value: the audit masks samples before
 * they reach the report, and renderers show only what the report holds.
 */
import type { AuditReport } from '../../audit/types.js';
import { UsageError } from '../../errors.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderTerminal } from './terminal.js';

export const REPORT_FORMATS = ['terminal', 'json', 'markdown', 'html', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderOptions {
  /** Terminal only: emit ANSI colours. Default false (never colour unless asked). */
  readonly color?: boolean;
  /** Terminal only: width in cells to fit (default 100). */
  readonly width?: number;
  /** SARIF only: repository-relative path results point at (default `steward.yml`). */
  readonly sarifArtifactUri?: string;
}

export function isReportFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

/**
 * Renders a report. Terminal, Markdown and HTML end with a newline; JSON and
 * SARIF do not (the CLI adds one on stdout).
 */
export function renderReport(report: AuditReport, format: ReportFormat, options: RenderOptions = {}): string {
  switch (format) {
    case 'terminal':
      return renderTerminal(report, { color: options.color === true, ...(options.width !== undefined ? { width: options.width } : {}) });
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'sarif':
      return renderSarif(report, options.sarifArtifactUri !== undefined ? { artifactUri: options.sarifArtifactUri } : {});
    default:
      throw new UsageError(`unknown report format "${String(format)}"; expected one of ${REPORT_FORMATS.join(', ')}`);
  }
}

export { renderHtml, renderJson, renderMarkdown, renderSarif, renderTerminal };
export { escapeHtml } from './html.js';
export { escapeMarkdown } from './markdown.js';
export { SARIF_LEVEL } from './sarif.js';
export { verdict, type Verdict } from './format.js';
