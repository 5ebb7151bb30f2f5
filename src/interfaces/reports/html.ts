/**
 * One self-contained HTML file for the person answerable for compliance:
 * verdict first, then key numbers, charts (inline SVG drawn here), what changed
 * since the last run, every finding with its remedy, and the inventory.
 *
 * Self-contained: inline CSS and SVG, no fonts, images, scripts or styles from
 * anywhere else — it works offline, attached to an email, and printed. A
 * Content-Security-Policy allows only this file's own style and script (by
 * hash), so even markup that slipped through escaping could not run.
 *
 * Everything interpolated is escaped: the `html` tag escapes every value that
 * is not an explicitly trusted fragment. Names come from customer databases.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES, type AuditReport, type Finding, type InventoryItem, type Severity, type SourceReport, type TableIntegrity } from '../../audit/types.js';
import { categoryInfo } from '../../detection/taxonomy.js';
import {
  categoryLabel,
  columnLabel,
  compactNumber,
  countBySeverity,
  diffCountsText,
  diffIsEmpty,
  evidenceText,
  formatDate,
  formatDuration,
  formatPercent,
  formatRows,
  formatRowsShort,
  inventoryKeyText,
  locationPath,
  locationText,
  plural,
  runDurationMs,
  sortFindings,
  spansSchemas,
  verdict,
} from './format.js';
import { terminalSafe } from './text.js';

// ---------------------------------------------------------------------------
// Escaping

/**
 * Escapes text for HTML/SVG element content and quoted attribute values: every
 * markup character becomes an entity, and control characters, escape sequences,
 * newlines and bidi overrides become visible escapes (`\u001b`, `\n`), so a name
 * reads as it is and cannot reorder the text around it.
 */
export function escapeHtml(s: string): string {
  return terminalSafe(s).replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** A fragment of markup produced by this module, inserted without escaping. */
class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function interpolate(v: Interpolation): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(interpolate).join('');
  return escapeHtml(String(v));
}

/** Template tag: every interpolated value is escaped unless it is itself `html`. */
function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += interpolate(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted constant markup (never pass data). */
const trusted = (s: string) => new Html(s);

// ---------------------------------------------------------------------------
// Colours and labels

const SEVERITY_LABEL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' };

/** Okabe–Ito palette (distinguishable with the common colour-vision deficiencies). */
const SOURCE_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D31', '#7F7F7F'];

// ---------------------------------------------------------------------------
// Charts

interface Segment {
  readonly value: number;
  readonly colorClass: string;
  readonly color?: string;
  readonly title: string;
}

interface BarRow {
  readonly label: string;
  readonly sublabel?: string;
  readonly emphasis?: boolean;
  readonly segments: readonly Segment[];
}

/**
 * A horizontal (stacked) bar chart as inline SVG, one `<g class="bar">` per
 * row and one `<rect class="seg">` per non-zero segment; value at each bar's end.
 */
function barChart(id: string, title: string, desc: string, rows: readonly BarRow[], geometry: { width: number; labelW: number }): Html {
  const { width, labelW } = geometry;
  const valueW = 44;
  const rowH = 30;
  const barH = 18;
  const top = 8;
  const plotW = width - labelW - valueW;
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((n, s) => n + s.value, 0)));
  const height = top * 2 + rows.length * rowH;
  const ticks = niceTicks(max);
  const scale = (v: number) => (v / ticks[ticks.length - 1]!) * plotW;
  const grid = ticks.map(
    (t) =>
      html`<line class="grid" x1="${labelW + scale(t)}" x2="${labelW + scale(t)}" y1="${top - 4}" y2="${height - top + 4}"/>`,
  );
  const bars = rows.map((r, i) => {
    const y = top + i * rowH + (rowH - barH) / 2;
    let x = labelW;
    const total = r.segments.reduce((n, s) => n + s.value, 0);
    const segs = r.segments
      .filter((s) => s.value > 0)
      .map((s) => {
        const w = scale(s.value);
        const rect = html`<rect class="seg ${s.colorClass}" x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="${barH}"${s.color ? html` fill="${s.color}"` : ''}><title>${s.title}</title></rect>`;
        x += w;
        return rect;
      });
    const label = truncateLabel(r.label, Math.floor((labelW - 16) / 6.6));
    return html`<g class="bar">
<text class="label${r.emphasis ? ' emph' : ''}" x="${labelW - 10}" y="${y + barH / 2}" dy="0.35em" text-anchor="end">${label !== r.label ? html`<title>${r.label}</title>` : ''}${label}${r.sublabel ? html`<tspan class="sub"> ${r.sublabel}</tspan>` : ''}</text>
${segs}
<text class="value" x="${(x + 6).toFixed(1)}" y="${y + barH / 2}" dy="0.35em">${total}</text>
</g>`;
  });
  return html`<svg class="chart" id="${id}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" preserveAspectRatio="xMinYMin meet">
<title id="${id}-title">${title}</title>
<desc id="${id}-desc">${desc}</desc>
${grid}
${bars}
</svg>`;
}

function niceTicks(max: number): number[] {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];
  const step = steps.find((s) => max / s <= 5) ?? Math.pow(10, Math.ceil(Math.log10(max / 5)));
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) {
    ticks.push(t);
    if (t >= max) break;
  }
  return ticks;
}

function truncateLabel(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

// ---------------------------------------------------------------------------
// Sections

function severityBadge(s: Severity): Html {
  return html`<span class="badge sev-${s}">${SEVERITY_LABEL[s]}</span>`;
}

function locationHtml(f: Finding): Html {
  const path = locationPath(f.location);
  return html`<span class="loc"><span class="loc-src">${f.location.source}</span>${path ? html`<span class="loc-sep" aria-hidden="true"> › </span><code>${path}</code>` : ''}</span>`;
}

/** The most urgent findings (critical and high), linked to their entries: what to fix first. */
function fixFirst(report: AuditReport): Html | '' {
  const urgent = sortFindings(report.findings).filter((f) => f.severity === 'critical' || f.severity === 'high');
  if (urgent.length === 0) return '';
  const shown = urgent.slice(0, 3);
  return html`<div class="fix-first"><p class="ff-title">Fix first</p><ol>${shown.map(
    (f) => html`<li>${severityBadge(f.severity)} <a href="#finding-${f.id}">${f.title}</a> <span class="muted">— ${locationText(f.location)}</span></li>`,
  )}</ol>${urgent.length > shown.length ? html`<p class="muted">and ${urgent.length - shown.length} more critical or high ${urgent.length - shown.length === 1 ? 'finding' : 'findings'} below.</p>` : ''}</div>`;
}

function kpis(report: AuditReport): Html {
  const failed = report.sources.filter((s) => s.status === 'error').length;
  const personal = report.sources.reduce((n, s) => n + s.inventory.length, 0);
  const counts = countBySeverity(report.findings);
  const highRisk = report.sources.reduce((n, s) => n + s.inventory.filter((i) => i.risk === 'high').length, 0);
  const chips = SEVERITIES.map(
    (s) => html`<li class="chip sev-${s}${counts[s] === 0 ? ' zero' : ''}"><span class="n">${counts[s]}</span> ${s}</li>`,
  );
  return html`<section class="kpis" aria-label="Key numbers">
<div class="kpi"><p class="kpi-label">Sources</p><p class="kpi-value">${report.sources.length}</p><p class="kpi-note${failed ? ' bad' : ''}">${failed ? `${failed} could not be audited` : report.sources.length ? 'all audited' : 'none configured'}</p></div>
<div class="kpi"><p class="kpi-label">Tables</p><p class="kpi-value">${compactNumber(report.summary.tables)}</p><p class="kpi-note">${plural(report.summary.columns, 'column')} reviewed</p></div>
<div class="kpi"><p class="kpi-label">Personal-data columns</p><p class="kpi-value">${personal}</p><p class="kpi-note${highRisk ? ' bad' : ''}">${highRisk ? `${highRisk} high-risk` : 'none high-risk'}</p></div>
<div class="kpi kpi-findings"><p class="kpi-label">Findings</p><p class="kpi-value">${report.findings.length}</p><ul class="chips" aria-label="Findings by severity">${chips}</ul></div>
</section>`;
}

function categoryChart(report: AuditReport): Html {
  const sources = report.sources.filter((s) => s.inventory.length > 0);
  const cats = new Map<string, Map<string, number>>();
  for (const s of sources) {
    for (const i of s.inventory) {
      const m = cats.get(i.category) ?? new Map<string, number>();
      m.set(s.name, (m.get(s.name) ?? 0) + 1);
      cats.set(i.category, m);
    }
  }
  const failed = report.sources.filter((s) => s.status === 'error');
  const notAudited = failed.length
    ? html`<p class="note">Not included: ${failed.map((s, i) => html`${i ? ', ' : ''}<strong>${s.name}</strong>`)} could not be audited.</p>`
    : '';
  if (cats.size === 0) {
    return html`<figure class="card chart-card" id="categories"><figcaption><h3>Personal data by category</h3></figcaption><p class="empty">No personal data found.</p>${notAudited}</figure>`;
  }
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const ordered = [...cats.entries()].sort(
    (a, b) => total(b[1]) - total(a[1]) || (categoryInfo(a[0]).risk === 'high' ? -1 : 0) - (categoryInfo(b[0]).risk === 'high' ? -1 : 0) || a[0].localeCompare(b[0], 'en'),
  );
  const colorOf = (name: string) => SOURCE_COLORS[sources.findIndex((s) => s.name === name) % SOURCE_COLORS.length]!;
  const rows: BarRow[] = ordered.map(([cat, bySource]) => ({
    label: categoryLabel(cat),
    ...(categoryInfo(cat).risk === 'high' ? { sublabel: '▲', emphasis: true } : {}),
    segments: sources.map((s) => ({
      value: bySource.get(s.name) ?? 0,
      colorClass: `src-${sources.indexOf(s) % SOURCE_COLORS.length}`,
      color: colorOf(s.name),
      title: `${s.name}: ${categoryLabel(cat)} — ${plural(bySource.get(s.name) ?? 0, 'column')}`,
    })),
  }));
  const desc = ordered
    .map(([cat, m]) => `${categoryLabel(cat)}: ${[...m.entries()].map(([s, n]) => `${n} in ${s}`).join(', ')}`)
    .join('; ');
  const legend = html`<ul class="legend" aria-label="Sources">${sources.map(
    (s) => html`<li><span class="swatch" aria-hidden="true"><svg width="12" height="12" viewBox="0 0 12 12"><rect width="12" height="12" rx="2" fill="${colorOf(s.name)}"/></svg></span>${s.name}</li>`,
  )}<li class="legend-risk"><span class="emph" aria-hidden="true">▲</span> high-risk category</li></ul>`;
  const dataTable = html`<details class="chart-data"><summary>Chart data as a table</summary>
<table><caption>Personal-data columns per category and source</caption><thead><tr><th scope="col">Category</th><th scope="col">Risk</th>${sources.map((s) => html`<th scope="col" class="num">${s.name}</th>`)}<th scope="col" class="num">Total</th></tr></thead>
<tbody>${ordered.map(
    ([cat, m]) =>
      html`<tr><th scope="row">${categoryLabel(cat)} <code>${cat}</code></th><td>${categoryInfo(cat).risk}</td>${sources.map((s) => html`<td class="num">${m.get(s.name) ?? 0}</td>`)}<td class="num">${total(m)}</td></tr>`,
  )}</tbody></table></details>`;
  return html`<figure class="card chart-card" id="categories">
<figcaption><h3>Personal data by category</h3><p>Columns holding each category, stacked by source.</p></figcaption>
${legend}
${barChart('chart-categories', 'Personal-data columns per category, stacked by source', desc, rows, { width: 640, labelW: 210 })}
${notAudited}
${dataTable}
</figure>`;
}

function severityChart(report: AuditReport): Html {
  const counts = countBySeverity(report.findings);
  if (report.findings.length === 0) {
    return html`<figure class="card chart-card" id="severity"><figcaption><h3>Findings by severity</h3></figcaption><p class="empty">No findings.</p></figure>`;
  }
  const rows: BarRow[] = SEVERITIES.map((s) => ({
    label: SEVERITY_LABEL[s],
    segments: [{ value: counts[s], colorClass: `fill-${s}`, title: `${SEVERITY_LABEL[s]}: ${plural(counts[s], 'finding')}` }],
  }));
  const desc = SEVERITIES.map((s) => `${SEVERITY_LABEL[s]}: ${counts[s]}`).join('; ');
  return html`<figure class="card chart-card" id="severity">
<figcaption><h3>Findings by severity</h3><p>${plural(report.findings.length, 'finding')} in this run.</p></figcaption>
${barChart('chart-severity', 'Findings by severity', desc, rows, { width: 420, labelW: 90 })}
<details class="chart-data"><summary>Chart data as a table</summary>
<table><caption>Findings by severity</caption><thead><tr><th scope="col">Severity</th><th scope="col" class="num">Findings</th></tr></thead>
<tbody>${SEVERITIES.map((s) => html`<tr><th scope="row">${SEVERITY_LABEL[s]}</th><td class="num">${counts[s]}</td></tr>`)}</tbody></table></details>
</figure>`;
}

function diffSection(report: AuditReport): Html {
  const d = report.diff;
  if (!d) {
    return html`<section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">Changes since the last run</h2>
<p class="card empty">This is the first audit run: there is nothing to compare with yet. The next run will show what is new and what was fixed.</p></section>`;
  }
  if (diffIsEmpty(d)) {
    return html`<section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">Changes since the last run</h2>
<p class="card empty">Nothing changed since run <code>${d.previousRunId}</code> of ${formatDate(d.previousFinishedAt)}: same findings, same personal-data columns.</p></section>`;
  }
  const item = (f: Finding, extra?: Html) =>
    html`<li>${severityBadge(f.severity)}${extra ?? ''} <span class="d-title">${f.title}</span><br>${locationHtml(f)} <code class="fid">${f.id}</code></li>`;
  const col = (cls: string, title: string, n: number, items: Html[], none: string) =>
    html`<div class="card diff-col ${cls}"><h3><span class="diff-n">${n}</span> ${title}</h3>${items.length ? html`<ul>${items}</ul>` : html`<p class="empty">${none}</p>`}</div>`;
  const inv =
    d.inventoryAdded.length || d.inventoryRemoved.length
      ? html`<div class="card diff-inv"><h3>Personal-data columns</h3><ul>
${d.inventoryAdded.map((k) => html`<li><span class="plus" aria-label="added">+</span> ${inventoryKeyText(k)}</li>`)}
${d.inventoryRemoved.map((k) => html`<li><span class="minus" aria-label="removed">−</span> ${inventoryKeyText(k)}</li>`)}
</ul></div>`
      : '';
  return html`<section id="changes" aria-labelledby="changes-h"><h2 id="changes-h">Changes since the last run</h2>
<p class="lede">Compared with run <code>${d.previousRunId}</code> of ${formatDate(d.previousFinishedAt)}: ${diffCountsText(d)}.</p>
<div class="diff-grid">
${col('diff-new', 'new', d.appeared.length, d.appeared.map((f) => item(f)), 'Nothing new.')}
${col('diff-fixed', 'fixed', d.fixed.length, d.fixed.map((f) => item(f)), 'Nothing fixed since the last run.')}
${col(
  'diff-changed',
  'changed severity',
  d.changedSeverity.length,
  d.changedSeverity.map((c) => item(c.finding, html` <span class="was">was ${SEVERITY_LABEL[c.from].toLowerCase()}</span>`)),
  'No severity changed.',
)}
</div>
${inv}
</section>`;
}

function findingsSection(report: AuditReport): Html {
  if (report.findings.length === 0) {
    return html`<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings</h2><p class="card empty">No findings: nothing to report.</p></section>`;
  }
  const items = sortFindings(report.findings).map(
    (f) => html`<article class="finding sev-border-${f.severity}" id="finding-${f.id}" data-severity="${f.severity}">
<header>${severityBadge(f.severity)}${f.status === 'new' ? html`<span class="tag-new">New</span>` : ''}<h3>${f.title}</h3><code class="fid">${f.id}</code></header>
<dl>
<dt>Where</dt><dd>${locationHtml(f)}${f.category ? html` <span class="cat">${categoryLabel(f.category)}</span>` : ''}</dd>
<dt>Found</dt><dd>${f.message}</dd>
<dt>What to do</dt><dd class="remedy">${f.remedy}</dd>
</dl>
</article>`,
  );
  return html`<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings <span class="count">${report.findings.length}</span></h2>
<p class="lede">Worst first. Each finding has a stable id: the same problem keeps its id from run to run.</p>
<div id="finding-list">${items}</div>
</section>`;
}

function inventoryTable(src: SourceReport): Html {
  const withSchema = spansSchemas(src.inventory);
  const items = [...src.inventory].sort(
    (a, b) =>
      (b.risk === 'high' ? 1 : 0) - (a.risk === 'high' ? 1 : 0) ||
      a.schema.localeCompare(b.schema, 'en') ||
      a.table.localeCompare(b.table, 'en') ||
      a.column.localeCompare(b.column, 'en'),
  );
  const row = (i: InventoryItem) => html`<tr>
<th scope="row"><code>${columnLabel(i, withSchema)}</code><span class="dtype">${i.dataType}</span></th>
<td>${categoryLabel(i.category)}${i.encrypted ? html` <span class="enc" title="Steward ciphertexts (stw1:): encrypted at rest">🔒 encrypted</span>` : ''}<span class="cat-id">${i.category}</span>${i.freeText.length ? html`<span class="ft">contains ${i.freeText.map((h) => `${categoryLabel(h.category)} (${h.rows} rows)`).join(', ')}</span>` : ''}</td>
<td><span class="risk risk-${i.risk}">${i.risk}</span></td>
<td class="num" data-value="${i.confidence}"><span class="meter" aria-hidden="true"><svg width="40" height="6" viewBox="0 0 40 6"><rect class="meter-bg" width="40" height="6" rx="3"/><rect class="meter-fg" width="${(Math.max(0, Math.min(1, i.confidence)) * 40).toFixed(1)}" height="6" rx="3"/></svg></span>${formatPercent(i.confidence)}</td>
<td class="num" data-value="${i.rowEstimate}" title="${formatRows(i.rowEstimate)}">${formatRowsShort(i.rowEstimate)}</td>
<td>${evidenceText(i.evidence)}</td>
<td>${i.purpose === null ? html`<span class="nopurpose">none declared</span>` : i.purpose}</td>
<td class="examples">${i.examples.length ? i.examples.map((x, k) => html`${k ? html`<br>` : ''}<code>${x}</code>`) : html`<span class="muted">—</span>`}</td>
</tr>`;
  return html`<div class="table-wrap"><table class="inventory" data-sortable>
<caption>Personal data in ${src.name}: ${plural(src.inventory.length, 'column')}</caption>
<thead><tr><th scope="col" data-type="text">Column</th><th scope="col" data-type="text">Category</th><th scope="col" data-type="risk">Risk</th><th scope="col" data-type="num" class="num">Confidence</th><th scope="col" data-type="num" class="num">Rows</th><th scope="col" data-type="text">Evidence</th><th scope="col" data-type="text">Purpose</th><th scope="col" data-type="text">Masked examples</th></tr></thead>
<tbody>${items.map(row)}</tbody>
</table></div>`;
}

function inventorySection(report: AuditReport): Html {
  const parts = report.sources.map((s) => {
    const purposes = s.purposes.length
      ? html`<p class="purposes"><span class="muted">Declared purposes:</span> ${s.purposes.map(
          (p, i) => html`${i ? ' · ' : ''}<strong>${p.name}</strong> <span class="muted">(${p.categories.join(', ') || 'no categories'})</span>`,
        )}</p>`
      : html`<p class="purposes bad">No purposes declared for this source.</p>`;
    const meta = html`<p class="src-meta">${s.kind} · owner ${s.owner || '—'} · ${plural(s.tables, 'table')} · ${plural(s.columns, 'column')} · audited in ${formatDuration(s.durationMs)}</p>`;
    if (s.status === 'error') {
      return html`<section class="source card src-error" aria-labelledby="src-${slug(s.name)}"><h3 id="src-${slug(s.name)}">${s.name} <span class="status-err">could not be audited</span></h3>
<p class="src-meta">${s.kind} · owner ${s.owner || '—'}</p>
<p class="error-msg"><code>${s.error?.code ?? 'ERROR'}</code> ${s.error?.message ?? 'unknown error'}</p>
<p class="muted">Personal data in this source is unknown until it can be audited.</p></section>`;
    }
    return html`<section class="source card" aria-labelledby="src-${slug(s.name)}"><h3 id="src-${slug(s.name)}">${s.name}</h3>
${meta}${purposes}
${s.inventory.length ? inventoryTable(s) : html`<p class="empty">No personal data found in this source.</p>`}
</section>`;
  });
  return html`<section id="inventory" aria-labelledby="inventory-h"><h2 id="inventory-h">Inventory of personal data</h2>
${report.sources.length ? html`<p class="lede">Where personal data lives, per source: the category Steward recognised, how sure it is, how many rows the table holds, and which evidence fired.</p>${parts}` : html`<p class="card empty">No sources were audited: nothing to report.</p>`}
</section>`;
}

// ---------------------------------------------------------------------------
// Access, integrity and schedule (the stages beyond the inventory)

/**
 * Who reaches which personal data, as a two-column graph: principals on the
 * left, tables on the right, one line per path; red where some column on the
 * path is not authorized in steward.yml.
 */
function accessGraph(src: SourceReport): Html {
  const a = src.access!;
  const principals = [...a.principals].sort((x, y) => Number(x.authorized) - Number(y.authorized) || x.name.localeCompare(y.name, 'en'));
  const tables = [...new Set(a.edges.map((e) => `${e.schema}.${e.table}`))].sort((x, y) => x.localeCompare(y, 'en'));
  const rowH = 30;
  const top = 28;
  const width = 760;
  const leftX = 250;
  const rightX = 510;
  const height = top + Math.max(principals.length, tables.length, 1) * rowH + 8;
  const py = (name: string) => top + principals.findIndex((p) => p.name === name) * rowH + rowH / 2;
  const ty = (t: string) => top + tables.indexOf(t) * rowH + rowH / 2;
  // One line per principal and table; unauthorized wins when several paths join them.
  const lines = new Map<string, { p: string; t: string; bad: boolean; cols: number; via: string }>();
  for (const e of a.edges) {
    const t = `${e.schema}.${e.table}`;
    const key = `${e.principal}\u0000${t}`;
    const bad = e.columns.some((c) => !c.authorized);
    const prev = lines.get(key);
    lines.set(key, { p: e.principal, t, bad: bad || (prev?.bad ?? false), cols: Math.max(prev?.cols ?? 0, e.columns.length), via: prev ? `${prev.via}; ${e.path.join(' → ')}` : e.path.join(' → ') });
  }
  const edges = [...lines.values()]
    .sort((x, y) => Number(x.bad) - Number(y.bad))
    .map((l) => {
      const y1 = py(l.p);
      const y2 = ty(l.t);
      const mid = (leftX + rightX) / 2;
      return html`<path class="edge ${l.bad ? 'edge-bad' : 'edge-ok'}" d="M${leftX + 6} ${y1} C${mid} ${y1} ${mid} ${y2} ${rightX - 6} ${y2}"><title>${l.via}${l.bad ? ' (not authorized)' : ' (authorized)'}</title></path>`;
    });
  const pNodes = principals.map(
    (p) => html`<g class="node"><circle cx="${leftX}" cy="${py(p.name)}" r="5" class="${p.authorized ? 'dot-ok' : 'dot-bad'}"/><text x="${leftX - 12}" y="${py(p.name)}" dy="0.35em" text-anchor="end" class="label${p.authorized ? '' : ' emph'}">${truncateLabel(p.name, 30)}<tspan class="kind"> ${p.superuser ? 'superuser' : p.kind === 'public' ? 'everyone' : p.login ? 'login' : p.kind}</tspan></text></g>`,
  );
  const tNodes = tables.map((t) => {
    const cols = new Set(a.edges.filter((e) => `${e.schema}.${e.table}` === t).flatMap((e) => e.columns.map((c) => c.column)));
    return html`<g class="node"><rect x="${rightX - 5}" y="${ty(t) - 5}" width="10" height="10" class="dot-table"/><text x="${rightX + 12}" y="${ty(t)}" dy="0.35em" class="label">${truncateLabel(t, 30)}<tspan class="kind"> ${plural(cols.size, 'column')}</tspan></text></g>`;
  });
  const bad = principals.filter((p) => !p.authorized).length;
  return html`<svg class="chart access-graph" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="ag-${slug(src.name)}-t ag-${slug(src.name)}-d" preserveAspectRatio="xMinYMin meet">
<title id="ag-${slug(src.name)}-t">Who can read personal data in ${src.name}</title>
<desc id="ag-${slug(src.name)}-d">${plural(principals.length, 'principal')} reach ${plural(tables.length, 'table')} holding personal data; ${bad} of them without authorization.</desc>
<text x="${leftX - 12}" y="14" text-anchor="end" class="axis">who</text><text x="${rightX + 12}" y="14" class="axis">personal data</text>
${edges}${pNodes}${tNodes}
</svg>`;
}

function accessSection(report: AuditReport): Html | '' {
  const sources = report.sources.filter((s) => s.access);
  if (sources.length === 0) return '';
  const parts = sources.map((s) => {
    const a = s.access!;
    const rows = [...a.edges]
      .sort((x, y) => Number(x.columns.every((c) => c.authorized)) - Number(y.columns.every((c) => c.authorized)) || x.principal.localeCompare(y.principal, 'en'))
      .map((e) => {
        const ok = e.columns.every((c) => c.authorized);
        return html`<tr><th scope="row"><code>${e.principal}</code></th><td>${e.path.slice(1).join(' → ')}</td><td><code>${e.schema}.${e.table}</code></td>
<td>${e.columns.map((c) => html`<span class="colref"><span class="${c.authorized ? '' : 'bad'}">${c.column}</span><span class="cat-id">${c.category}</span></span>`)}</td>
<td>${ok ? html`<span class="ok">authorized</span>` : html`<span class="bad">not authorized</span>`}</td></tr>`;
      });
    const requires = a.session?.serverRequiresTls ?? a.requireSecureTransport;
    const transport = html`${a.session ? (a.session.encrypted ? html` · Steward's connection encrypted (${a.session.protocol ?? 'TLS'})` : a.session.encrypted === false ? html` · <span class="bad">Steward's connection not encrypted</span>` : '') : ''}${requires === undefined || requires === null ? '' : requires ? html` · server requires TLS` : html` · <span class="bad">server accepts unencrypted connections</span>`}`;
    return html`<section class="source card" aria-labelledby="acc-${slug(s.name)}"><h3 id="acc-${slug(s.name)}">${s.name}</h3>
<p class="src-meta">${plural(a.principals.length, 'principal')} reach personal data · ${plural(a.principals.filter((p) => !p.authorized).length, 'without authorization', 'without authorization')}${transport}${a.problems.length ? html` · <span class="bad">could not read ${a.problems.join(', ')}</span>` : ''}</p>
${a.edges.length ? accessGraph(s) : html`<p class="empty">Nobody but Steward's view of the catalog reaches personal data here.</p>`}
${a.edges.length ? html`<div class="table-wrap"><table data-sortable><caption>Paths to personal data in ${s.name}</caption>
<thead><tr><th scope="col" data-type="text">Principal</th><th scope="col" data-type="text">Path</th><th scope="col" data-type="text">Table</th><th scope="col" data-type="text">Columns</th><th scope="col" data-type="text">Status</th></tr></thead>
<tbody>${rows}</tbody></table></div>` : ''}
</section>`;
  });
  return html`<section id="access" aria-labelledby="access-h"><h2 id="access-h">Who can read personal data</h2>
<p class="lede">Every role, account or file permission that reaches a personal-data column, and the path it takes (membership, grant, ownership). Red paths are not authorized in <code>steward.yml</code> (<code>sources[].access.authorized</code>); each has a finding with the statement that removes it.</p>
${parts}</section>`;
}

function integritySection(report: AuditReport): Html | '' {
  const sources = report.sources.filter((s) => s.integrity && s.integrity.length > 0);
  if (sources.length === 0) return '';
  const parts = sources.map((s) => {
    const results = s.integrity!;
    const chartRows: BarRow[] = results.flatMap((t) =>
      t.columns
        .filter((c) => (c.invalid ?? 0) + (c.duplicateRows ?? 0) > 0)
        .map((c) => ({
          label: `${t.table}.${c.column}`,
          sublabel: `of ${compactNumber(c.nonNull)}`,
          segments: [
            { value: c.invalid ?? 0, colorClass: 'fill-medium', title: `${c.invalid ?? 0} invalid values` },
            { value: c.duplicateRows ?? 0, colorClass: 'fill-low', title: `${c.duplicateRows ?? 0} duplicate rows` },
          ],
        })),
    );
    const pct = (part: number, whole: number) => (whole > 0 ? formatPercent(part / whole) : '—');
    const rows = results.flatMap((t) => [
      ...t.columns.map(
        (c) => html`<tr><th scope="row"><code>${t.table}.${c.column}</code></th><td>${categoryLabel(c.category)}</td><td class="num" data-value="${c.nonNull}">${compactNumber(c.nonNull)}${c.encrypted ? html` <span class="muted">(${compactNumber(c.encrypted)} encrypted, not checked)</span>` : ''}</td>
<td class="num" data-value="${c.invalid ?? -1}">${c.invalid === undefined ? '—' : html`${c.invalid} <span class="muted">(${pct(c.invalid, c.nonNull - (c.encrypted ?? 0))})</span>`}</td>
<td class="num" data-value="${c.duplicateRows ?? -1}">${c.duplicateRows === undefined ? '—' : html`${c.duplicateRows}${c.duplicatedValues ? html` <span class="muted">(${plural(c.duplicatedValues, 'value')})</span>` : ''}`}</td>
<td class="examples">${[...(c.invalidExamples ?? []), ...(c.duplicateExamples ?? [])].slice(0, 3).map((x, k) => html`${k ? html`<br>` : ''}<code>${x}</code>`)}</td></tr>`,
      ),
    ]);
    const tableFacts = results.flatMap((t) => [
      ...t.requiredNulls.filter((q) => q.nulls > 0).map((q) => html`<li><code>${t.table}.${q.column}</code>: ${q.nulls} of ${compactNumber(t.rows)} rows empty though required</li>`),
      ...(t.stale && t.stale.rows > 0 ? [html`<li><code>${t.table}</code>: ${t.stale.rows} of ${compactNumber(t.rows)} rows (${pct(t.stale.rows, t.rows)}) not updated since ${t.stale.before.slice(0, 10)}</li>`] : []),
      ...t.orphans.filter((o) => o.rows > 0).map((o) => html`<li><code>${t.table}.${o.column}</code>: ${o.rows} rows point to a missing ${o.references}</li>`),
    ]);
    return html`<section class="source card" aria-labelledby="int-${slug(s.name)}"><h3 id="int-${slug(s.name)}">${s.name}</h3>
<p class="src-meta">${plural(results.length, 'table')} checked in SQL${approximations(results)}</p>
${chartRows.length ? html`<ul class="legend" aria-label="Legend"><li><span class="swatch fill-bg-medium" aria-hidden="true"></span>invalid values</li><li><span class="swatch fill-bg-low" aria-hidden="true"></span>duplicate rows</li></ul>` : ''}
${chartRows.length ? barChart(`int-chart-${slug(s.name)}`, `Invalid and duplicate values in ${s.name}`, chartRows.map((r) => `${r.label}: ${r.segments.map((g) => g.title).join(', ')}`).join('; '), chartRows, { width: 640, labelW: 220 }) : html`<p class="empty">No invalid or duplicate values.</p>`}
${tableFacts.length ? html`<ul class="facts">${tableFacts}</ul>` : ''}
<div class="table-wrap"><table data-sortable><caption>Integrity figures per column in ${s.name}</caption>
<thead><tr><th scope="col" data-type="text">Column</th><th scope="col" data-type="text">Category</th><th scope="col" data-type="num" class="num">Values</th><th scope="col" data-type="num" class="num">Invalid</th><th scope="col" data-type="num" class="num">Duplicates</th><th scope="col" data-type="text">Masked examples</th></tr></thead>
<tbody>${rows}</tbody></table></div>
</section>`;
  });
  return html`<section id="integrity" aria-labelledby="integrity-h"><h2 id="integrity-h">Integrity of personal data</h2>
<p class="lede">Whether stored personal data is accurate and up to date: values that cannot be right, the same identifying value on several records, required values missing, stale records and rows that point nowhere. Counted by the database over every row.</p>
${parts}</section>`;
}

function scheduleSection(report: AuditReport): Html | '' {
  const entries = report.schedule ?? [];
  if (entries.length === 0) return '';
  const rows = entries.map((e) => {
    const state = e.overdue ? html`<span class="bad">overdue</span>` : e.due ? html`<span class="warn">due now</span>` : html`<span class="ok">on schedule</span>`;
    return html`<tr><th scope="row">${e.source}</th><td>${e.stage}</td><td><code>${e.frequency}</code></td><td>${e.lastSuccess ? formatDate(e.lastSuccess) : html`<span class="muted">never</span>`}${e.lastFailure && (!e.lastSuccess || e.lastFailure > e.lastSuccess) ? html` <span class="bad">(failed ${formatDate(e.lastFailure)})</span>` : ''}</td><td>${formatDate(e.nextDue)}</td><td>${state}</td></tr>`;
  });
  return html`<section id="schedule" aria-labelledby="schedule-h"><h2 id="schedule-h">Audit schedule</h2>
<p class="lede">When each audit stage last ran for these sources and when it is next due (<code>steward audit --due</code> runs what is due).</p>
<div class="table-wrap card"><table><caption>Stages per source</caption>
<thead><tr><th scope="col">Source</th><th scope="col">Stage</th><th scope="col">Every</th><th scope="col">Last run</th><th scope="col">Next due</th><th scope="col">Status</th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
}

const slugs = new Map<string, string>();
/** A safe id fragment for any name (hashing keeps distinct names distinct). */
function slug(name: string): string {
  let s = slugs.get(name);
  if (!s) {
    s = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32)}-${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
    slugs.set(name, s);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Page

const CSS = `
:root{--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d8dee4;--grid:#e6e9ed;--accent:#0b5cad;
--critical:#a61b1b;--high:#b8430a;--medium:#8a5a00;--low:#1f58b8;--info:#56606b;
--critical-bg:#fdecec;--high-bg:#fff0e5;--medium-bg:#fff6d6;--low-bg:#e8f0fe;--info-bg:#eef0f2;--ok:#17703a;--ok-bg:#e6f4ea;
--font:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1318;--card:#171c22;--fg:#e6e9ed;--muted:#9aa4ae;--line:#2c343d;--grid:#252c34;--accent:#6cb0ff;
--critical:#ff7b7b;--high:#ffa468;--medium:#f2c14e;--low:#8ab4ff;--info:#aab3bd;
--critical-bg:#3a1717;--high-bg:#3a2414;--medium-bg:#332a10;--low-bg:#16243d;--info-bg:#23292f;--ok:#6fd391;--ok-bg:#12301d}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 var(--font)}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
h1,h2,h3{line-height:1.25;margin:0}
h2{font-size:1.3rem;margin:40px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem}
code{font-family:var(--mono);font-size:.88em;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.lede{color:var(--muted);margin:0 0 14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.empty{color:var(--muted);font-style:italic}
.brand{display:flex;justify-content:space-between;gap:12px;flex-wrap:wrap;color:var(--muted);font-size:.9rem;margin-bottom:12px}
.brand strong{color:var(--fg);letter-spacing:.02em}
.verdict{display:flex;gap:18px;align-items:flex-start;border-radius:12px;padding:20px 22px;border:1px solid var(--line);border-left:8px solid var(--v);background:var(--card)}
.verdict .icon{flex:none;width:44px;height:44px;border-radius:50%;background:var(--v);color:#fff;display:grid;place-items:center;font-size:26px;font-weight:700;line-height:1}
@media (prefers-color-scheme:dark){.verdict .icon{color:#0f1318}}
.verdict h1{font-size:1.75rem;color:var(--v)}
.verdict p{margin:6px 0 0;font-size:1.05rem}
.v-critical{--v:var(--critical)}.v-attention{--v:var(--high)}.v-review{--v:var(--medium)}.v-clean{--v:var(--ok)}.v-empty{--v:var(--info)}
.meta{margin:10px 0 0;color:var(--muted);font-size:.9rem}
.fix-first{margin:12px 0 0;padding:10px 14px;border-radius:8px;background:var(--bg)}
.fix-first .ff-title{margin:0 0 4px;font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.fix-first ol{margin:0;padding-left:1.3em}
.fix-first li{margin:3px 0}
.fix-first p.muted{margin:4px 0 0;font-size:.88rem}
.toc{display:flex;flex-wrap:wrap;gap:4px 18px;margin:12px 2px 0;font-size:.9rem}
.toc a{text-decoration:none}.toc a:hover{text-decoration:underline}
.sev-filter{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0 0 12px;font-size:.88rem}
.sev-filter button{font:inherit;font-size:.82rem;font-weight:600;padding:2px 10px;border-radius:999px;border:1px solid var(--sc);background:var(--sb);color:var(--sc);cursor:pointer}
.sev-filter button[aria-pressed=false]{background:transparent;opacity:.6;text-decoration:line-through}
.sev-filter button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin-top:20px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.kpi p{margin:0}
.kpi-label{color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
.kpi-value{font-size:2.1rem;font-weight:700;line-height:1.15}
.kpi-note{color:var(--muted);font-size:.88rem}
.kpi-note.bad{color:var(--critical);font-weight:600}
.chips{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
.chip{font-size:.78rem;padding:1px 7px;border-radius:999px;background:var(--sb);color:var(--sc);font-weight:600}
.chip.zero{opacity:.55;font-weight:400}
.sev-critical{--sc:var(--critical);--sb:var(--critical-bg)}.sev-high{--sc:var(--high);--sb:var(--high-bg)}.sev-medium{--sc:var(--medium);--sb:var(--medium-bg)}.sev-low{--sc:var(--low);--sb:var(--low-bg)}.sev-info{--sc:var(--info);--sb:var(--info-bg)}
.charts{display:grid;grid-template-columns:3fr 2fr;gap:14px;margin-top:14px}
figure{margin:0}
.chart-card figcaption p{margin:2px 0 8px;color:var(--muted);font-size:.9rem}
.chart{display:block;width:100%;max-width:760px;height:auto;font-family:var(--font)}
.chart .label{fill:var(--fg);font-size:13px}
.chart .label.emph{font-weight:700}
.chart .sub{fill:var(--critical);font-size:11px}
.chart .value{fill:var(--muted);font-size:12px;font-weight:600}
.chart .grid{stroke:var(--grid);stroke-width:1}
.chart .seg{stroke:var(--card);stroke-width:1}
.edge{fill:none;stroke-width:1.6;opacity:.8}.edge-ok{stroke:var(--line)}.edge-bad{stroke:var(--critical);stroke-width:2.2}
.chart .kind{fill:var(--muted);font-size:11px}.colref{display:inline-block;margin:0 .9em .2em 0;vertical-align:top}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px}.fill-bg-medium{background:var(--medium)}.fill-bg-low{background:var(--low)}
.enc{font-size:.78rem;color:var(--ok);font-weight:600;white-space:nowrap}
.dot-ok{fill:var(--ok)}.dot-bad{fill:var(--critical)}.dot-table{fill:var(--accent)}.chart .axis{font-size:11px;fill:var(--muted);text-transform:uppercase;letter-spacing:.05em}
span.bad{color:var(--critical);font-weight:600}span.ok{color:var(--ok)}span.warn{color:var(--medium);font-weight:600}ul.facts{margin:.5em 0 1em 1.2em;padding:0}
.fill-critical{fill:var(--critical)}.fill-high{fill:var(--high)}.fill-medium{fill:var(--medium)}.fill-low{fill:var(--low)}.fill-info{fill:var(--info)}
.legend{list-style:none;padding:0;margin:0 0 6px;display:flex;flex-wrap:wrap;gap:6px 16px;font-size:.88rem}
.legend li{display:flex;align-items:center;gap:6px}
.legend .emph{color:var(--critical);font-weight:700}
.note{font-size:.88rem;color:var(--muted);margin:6px 0 0}
details.chart-data{margin-top:8px;font-size:.88rem}
details.chart-data summary{cursor:pointer;color:var(--accent)}
details.chart-data table{margin-top:6px}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:0 0 6px;color:var(--muted);font-size:.88rem}
th,td{text-align:left;vertical-align:top;padding:7px 10px;border-bottom:1px solid var(--line)}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);white-space:nowrap}
tbody th{font-weight:400}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;padding:2px 8px;border-radius:4px;background:var(--sc);color:#fff;vertical-align:1px}
@media (prefers-color-scheme:dark){.badge{color:#0f1318}}
.tag-new{display:inline-block;font-size:.72rem;font-weight:700;padding:1px 6px;border-radius:4px;border:1px solid var(--accent);color:var(--accent);margin-left:6px;text-transform:uppercase;vertical-align:1px}
.diff-grid{display:grid;grid-template-columns:repeat(3,1fr);gap:14px}
.diff-col h3{font-size:1rem;margin-bottom:8px}
.diff-n{font-size:1.6rem;font-weight:700;margin-right:2px}
.diff-new .diff-n{color:var(--critical)}.diff-fixed .diff-n{color:var(--ok)}.diff-changed .diff-n{color:var(--medium)}
.diff-col ul,.diff-inv ul{list-style:none;margin:0;padding:0}
.diff-col li{padding:8px 0;border-top:1px solid var(--line);font-size:.92rem}
.diff-col li:first-child{border-top:0;padding-top:0}
.d-title{font-weight:600}
.was{font-size:.82rem;color:var(--muted)}
.diff-inv{margin-top:14px}
.diff-inv li{padding:2px 0;font-size:.92rem;overflow-wrap:anywhere}
.plus{color:var(--critical);font-weight:700}.minus{color:var(--ok);font-weight:700}
.count{font-size:.9rem;color:var(--muted);font-weight:400}
.finding{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--sc);border-radius:10px;padding:14px 18px;margin:0 0 12px}
.sev-border-critical{--sc:var(--critical)}.sev-border-high{--sc:var(--high)}.sev-border-medium{--sc:var(--medium)}.sev-border-low{--sc:var(--low)}.sev-border-info{--sc:var(--info)}
.finding header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
.finding h3{flex:1 1 280px;font-size:1.05rem}
.fid{color:var(--muted);font-size:.8rem}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:10px 0 0}
.finding dt{color:var(--muted);font-size:.85rem;padding-top:1px}
.finding dd{margin:0;overflow-wrap:anywhere}
.remedy{font-weight:500}
.loc-src{font-weight:600}
.cat{font-size:.8rem;border:1px solid var(--line);border-radius:999px;padding:0 8px;margin-left:6px;color:var(--muted);white-space:nowrap}
.source{margin-bottom:16px}
.source h3{font-size:1.15rem}
.src-meta,.purposes{margin:4px 0;font-size:.9rem;color:var(--muted)}
.purposes strong{color:var(--fg)}
.purposes.bad,.nopurpose{color:var(--critical);font-weight:600}
.src-error{border-left:6px solid var(--critical)}
.status-err{font-size:.8rem;font-weight:700;color:var(--critical);text-transform:uppercase;letter-spacing:.04em;margin-left:8px}
.error-msg{margin:8px 0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;margin-top:10px}
.inventory th[scope=row] code{font-weight:600}
.dtype,.cat-id,.ft{display:block;font-size:.78rem;color:var(--muted)}
.cat-id{font-family:var(--mono)}
.ft{color:var(--medium)}
.risk{font-size:.78rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.risk-high{color:var(--critical)}.risk-medium{color:var(--medium)}.risk-low{color:var(--muted)}
.meter{display:inline-block;margin-right:6px;vertical-align:1px}
.meter-bg{fill:var(--grid)}.meter-fg{fill:var(--accent)}
.examples code{color:var(--muted);white-space:nowrap}
.tools{display:flex;gap:10px;align-items:center;margin:10px 0 0;font-size:.9rem}
.tools input{font:inherit;padding:5px 9px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-width:240px}
th button{all:unset;cursor:pointer}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
footer{margin-top:44px;padding-top:14px;border-top:1px solid var(--line);color:var(--muted);font-size:.85rem}
footer p{margin:2px 0}
a{color:var(--accent)}
@media (max-width:820px){.kpis{grid-template-columns:repeat(2,1fr)}.charts,.diff-grid{grid-template-columns:1fr}}
@media print{
:root{--bg:#fff;--card:#fff;--fg:#000;--muted:#444;--line:#bbb;--grid:#ddd}
body{font-size:11pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:none;padding:0}
.card,.finding,.kpi,figure,tr{break-inside:avoid}
h2{break-after:avoid}
.tools,.toc,.sev-filter,details.chart-data summary{display:none}
.charts{grid-template-columns:1fr}
.chart{max-width:150mm}
.table-wrap{overflow:visible}
}
@page{margin:14mm}
`;

/** Sortable and filterable inventory tables. The page reads fully without it. */
const SCRIPT = `(function(){
var RISK={high:3,medium:2,low:1};
document.querySelectorAll('table[data-sortable]').forEach(function(table){
  var tbody=table.tBodies[0];if(!tbody)return;
  var wrap=table.parentNode;var tools=document.createElement('div');tools.className='tools';
  var label=document.createElement('label');label.textContent='Filter columns ';
  var input=document.createElement('input');input.type='search';input.placeholder='name, category, purpose…';
  label.appendChild(input);tools.appendChild(label);
  var shown=document.createElement('span');shown.className='muted';shown.setAttribute('aria-live','polite');tools.appendChild(shown);
  wrap.parentNode.insertBefore(tools,wrap);
  input.addEventListener('input',function(){
    var q=input.value.trim().toLowerCase();var n=0;
    Array.prototype.forEach.call(tbody.rows,function(r){var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!hit;if(hit)n++;});
    shown.textContent=q?n+' of '+tbody.rows.length+' shown':'';
  });
  var ths=table.tHead.rows[0].cells;
  Array.prototype.forEach.call(ths,function(th,col){
    var b=document.createElement('button');b.type='button';
    while(th.firstChild)b.appendChild(th.firstChild);th.appendChild(b);
    b.addEventListener('click',function(){
      var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
      Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',dir>0?'ascending':'descending');
      var type=th.getAttribute('data-type');
      var key=function(r){var c=r.cells[col];if(type==='num')return parseFloat(c.getAttribute('data-value'))||0;var t=c.textContent.trim().toLowerCase();return type==='risk'?(RISK[t]||0):t;};
      var rows=Array.prototype.slice.call(tbody.rows);
      rows.sort(function(a,b){var x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*dir;});
      rows.forEach(function(r){tbody.appendChild(r);});
    });
  });
});
var list=document.getElementById('finding-list');
if(list){
  var bar=document.createElement('div');bar.className='sev-filter';bar.setAttribute('role','group');bar.setAttribute('aria-label','Show findings by severity');
  var lab=document.createElement('span');lab.className='muted';lab.textContent='Show:';bar.appendChild(lab);
  ['critical','high','medium','low','info'].forEach(function(sev){
    var items=list.querySelectorAll('article[data-severity="'+sev+'"]');if(!items.length)return;
    var b=document.createElement('button');b.type='button';b.className='sev-'+sev;b.setAttribute('aria-pressed','true');
    b.textContent=sev+' ('+items.length+')';
    b.addEventListener('click',function(){var on=b.getAttribute('aria-pressed')!=='true';b.setAttribute('aria-pressed',on?'true':'false');
      Array.prototype.forEach.call(items,function(a){a.hidden=!on;});});
    bar.appendChild(b);
  });
  list.parentNode.insertBefore(bar,list);
}
})();`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
const CSP = `default-src 'none'; style-src ${sha256(CSS)}; script-src ${sha256(SCRIPT)}; base-uri 'none'; form-action 'none'`;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const VERDICT_ICON: Record<string, string> = { critical: '!', attention: '!', review: '?', clean: '✓', empty: '–' };

export function renderHtml(report: AuditReport): string {
  const v = verdict(report);
  const sourcesText = report.sources.length
    ? report.sources.map((s, i) => html`${i ? ', ' : ''}${s.name}${s.status === 'error' ? ' (not audited)' : ''}`)
    : 'no sources';
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="steward ${report.tool.version}">
<title>Steward audit ${formatDate(report.run.startedAt).slice(0, 10)} — ${v.headline}</title>
<style>${trusted(CSS)}</style>
</head>
<body>
<main>
<header>
<div class="brand"><span><strong>Steward</strong> · personal-data audit (${report.run.stage} review)</span><span>${formatDate(report.run.startedAt)}</span></div>
<div class="verdict v-${v.level}">
<div class="icon" aria-hidden="true">${VERDICT_ICON[v.level] ?? ''}</div>
<div><h1>${v.headline}</h1><p>${capitalize(v.detail)}</p>
${fixFirst(report)}
<p class="meta">Sources: ${sourcesText} · run <code>${report.run.id}</code> · took ${formatDuration(runDurationMs(report))}</p></div>
</div>
<nav class="toc" aria-label="Sections"><a href="#overview">Overview</a><a href="#changes">Changes since last run</a><a href="#findings">Findings (${report.findings.length})</a>${report.sources.some((s) => s.access) ? html`<a href="#access">Access</a>` : ''}${report.sources.some((s) => s.integrity?.length) ? html`<a href="#integrity">Integrity</a>` : ''}${report.schedule?.length ? html`<a href="#schedule">Schedule</a>` : ''}<a href="#inventory">Inventory</a></nav>
</header>
${kpis(report)}
<section id="overview" aria-labelledby="overview-h"><h2 id="overview-h">Overview</h2>
<div class="charts">
${categoryChart(report)}
${severityChart(report)}
</div>
</section>
${diffSection(report)}
${findingsSection(report)}
${accessSection(report)}
${integritySection(report)}
${scheduleSection(report)}
${inventorySection(report)}
<footer>
<p>Generated by steward ${report.tool.version} · run <code>${report.run.id}</code> · ${report.run.stage} review · started ${formatDate(report.run.startedAt)}, finished ${formatDate(report.run.finishedAt)} · report schema v${report.schemaVersion}</p>
<p>Sample values are masked: this report contains no raw personal data. Row counts are estimates from database statistics.</p>
</footer>
</main>
<script>${trusted(SCRIPT)}</script>
</body>
</html>
`;
  return page.value;
}

/** ` · approximate validity rules (why)` when a dialect approximated a check, in its own words. */
function approximations(results: readonly TableIntegrity[]): string {
  const inexact = results.filter((t) => !t.exact);
  if (inexact.length === 0) return '';
  const why = [...new Set(inexact.map((t) => t.approximation ?? 'the database has no regular expressions'))];
  return ` · approximate validity rules (${why.join('; ')})`;
}
