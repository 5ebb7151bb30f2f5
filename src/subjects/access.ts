/**
 * `steward subject access`: the package a person receives for an access or
 * portability request (GDPR Art. 15 and 20). Pure: it takes what find.ts found
 * and the config, and gives the files; the CLI zips them and encrypts the zip to
 * recipients in the age format (or writes it in plain only with `--plaintext`).
 *
 * - `export.json`: machine-readable, per source, table and row (portability);
 * - `summary.html`: for a person, with what Art. 15(1) requires next to the data:
 *   purposes and legal basis (sources[].purposes in steward.yml), categories,
 *   recipients (sources[].recipients), the retention period that applies (the
 *   retention policies covering the table), and the source of the data;
 * - `README.txt`: what the files are.
 *
 * Values are exported decrypted where find.ts decrypted them (`SubjectRow.decrypted`,
 * with the keyring). A value that is still a Steward ciphertext is exported as
 * `{ "encrypted": true, "notDecrypted": <reason> }` and listed under `notDecrypted`
 * (per source, table, column and reason, with a row count), in export.json and in the
 * summary: the person is told what the package does not show in plain.
 */
import type { StewardConfig } from '../config/index.js';
import { escapeHtml } from '../interfaces/reports/html.js';
import { NOT_DECRYPTED_TEXT, type NotDecryptedEntry, type NotDecryptedReason } from './decrypt.js';
import type { FindResult, SubjectRow } from './find.js';
import type { SubjectMap } from './map.js';

export interface AccessPackage {
  readonly files: Readonly<Record<string, string>>;
  /** Values that are still Steward ciphertexts, per source.table.column and reason: the export says so. */
  readonly notDecrypted: readonly NotDecryptedEntry[];
  readonly rows: number;
}

interface PurposeInfo {
  readonly name: string;
  readonly description?: string;
  readonly legalBasis?: string;
  readonly categories: readonly string[];
}

const CIPHERTEXT = /^stw1:[A-Za-z0-9_-]+:\d+:[A-Za-z0-9_-]+$/;

function purposesOf(config: StewardConfig, source: string): PurposeInfo[] {
  const s = config.sources.find((x) => x.name === source);
  if (!s) return [];
  return s.purposes.map((p) => {
    if (typeof p !== 'string') return p;
    return config.purposes.find((x) => x.name === p) ?? { name: p, categories: [] };
  });
}

const jsonValue = (v: unknown): unknown => {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { base64: v.toString('base64') };
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  return v;
};

/** The row as exported: decrypted values in place, ciphertexts left as a marker with the reason. */
function exportedRow(r: SubjectRow, note: (column: string, reason: NotDecryptedReason) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, stored] of Object.entries(r.row)) {
    const v = r.decrypted?.[k] ?? stored;
    const reason = r.notDecrypted?.[k] ?? (typeof v === 'string' && CIPHERTEXT.test(v) ? 'keyring-unavailable' : undefined);
    if (reason) {
      note(k, reason);
      out[k] = { encrypted: true, notDecrypted: reason };
    } else out[k] = jsonValue(v);
  }
  return out;
}

const matches = (pattern: string, category: string) => pattern === '*' || pattern === category || (pattern.endsWith('.*') && category.startsWith(pattern.slice(0, -1)));

/** Builds the package's files from a find result. */
export function buildAccessPackage(input: { readonly config: StewardConfig; readonly map: SubjectMap; readonly found: FindResult; readonly generatedAt: string; readonly request?: string }): AccessPackage {
  const { config, map, found } = input;
  const bySource = new Map<string, SubjectRow[]>();
  for (const r of found.rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  const notDecrypted = new Map<string, { source: string; table: string; column: string; rows: number; reason: NotDecryptedReason }>();
  const sources = [...bySource].map(([source, rows]) => {
    const purposes = purposesOf(config, source);
    const cfg = config.sources.find((s) => s.name === source);
    const byTable = new Map<string, SubjectRow[]>();
    for (const r of rows) byTable.set(`${r.schema}.${r.name}`, [...(byTable.get(`${r.schema}.${r.name}`) ?? []), r]);
    return {
      source,
      owner: cfg?.owner ?? null,
      recipients: cfg?.recipients ?? [],
      purposes: purposes.map((p) => ({ name: p.name, description: p.description ?? null, legalBasis: p.legalBasis ?? null, categories: p.categories })),
      tables: [...byTable].map(([, trs]) => {
        const t = trs[0]!;
        const mt = map.tables.find((m) => m.source === source && m.schema === t.schema && m.name === t.name);
        const categories = [...new Set(mt ? mt.identifiers.map((i) => i.kind) : [])];
        const policies = config.retention.policies.filter((p) => (p.table !== undefined && (p.table === t.name || p.table === `${t.schema}.${t.name}`) && (p.source === undefined || p.source === source)) || (p.category !== undefined && (p.sources === undefined || p.sources.includes(source))));
        const note = (col: string, reason: NotDecryptedReason) => {
          const k = JSON.stringify([source, t.schema, t.name, col, reason]);
          const e = notDecrypted.get(k) ?? { source, table: `${t.schema}.${t.name}`, column: col, rows: 0, reason };
          e.rows++;
          notDecrypted.set(k, e);
        };
        const exported = trs.map((r) => exportedRow(r, note));
        return {
          schema: t.schema,
          table: t.name,
          identifiedBy: categories,
          personalColumns: mt?.personalColumns ?? [],
          retention: policies.map((p) => ({ policy: p.name, period: p.period, from: p.from === undefined ? null : [p.from].flat().join(' or '), legalBasis: p.legalBasis, method: p.method })),
          rows: exported,
        };
      }),
    };
  });
  const doc = {
    format: 'steward-subject-export/1',
    generatedAt: input.generatedAt,
    ...(input.request ? { request: input.request } : {}),
    identifiers: found.identifiers.map((i) => ({ kind: i.kind, value: i.value, given: i.given })),
    sources,
    mentions: found.mentions.map((m) => ({ source: m.source, schema: m.schema, table: m.name, column: m.column, key: m.key })),
    notDecrypted: [...notDecrypted.values()].map((n) => ({ ...n, why: NOT_DECRYPTED_TEXT[n.reason] })),
  };
  const files: Record<string, string> = {
    'export.json': `${JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
    'summary.html': renderSummary(doc, config),
    'README.txt': [
      'Your personal data, as held on the date below.',
      '',
      `Generated ${input.generatedAt} by Steward (steward subject access).`,
      '',
      'export.json   every record, per database, table and row (machine-readable, JSON)',
      'summary.html  what we hold, why, on which legal basis, who receives it and how long we keep it',
      '',
    ].join('\n'),
  };
  return { files, notDecrypted: [...notDecrypted.values()], rows: found.rows.length };
}

function renderSummary(doc: { generatedAt: string; sources: { source: string; owner: string | null; recipients: readonly string[]; purposes: { name: string; description: string | null; legalBasis: string | null; categories: readonly string[] }[]; tables: { schema: string; table: string; identifiedBy: string[]; personalColumns: readonly string[]; retention: { policy: string; period: string; from: string | null; legalBasis: string }[]; rows: unknown[] }[] }[]; mentions: unknown[]; notDecrypted: { table: string; column: string; rows: number; why: string }[] }, _config: StewardConfig): string {
  const e = escapeHtml;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your personal data</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}.bar{background:#4a7;height:.8rem;display:inline-block}</style></head><body>`);
  parts.push(`<h1>Your personal data</h1><p>As held on ${e(doc.generatedAt.slice(0, 10))}. The complete records are in <code>export.json</code> (machine-readable, for portability).</p>`);
  const total = doc.sources.reduce((n, s) => n + s.tables.reduce((m, t) => m + t.rows.length, 0), 0);
  parts.push(`<p><strong>${total}</strong> record(s) in ${doc.sources.length} system(s)${doc.mentions.length ? `, and ${doc.mentions.length} mention(s) of you in free text (notes, tickets)` : ''}.</p>`);
  for (const s of doc.sources) {
    parts.push(`<h2>${e(s.source)}</h2>`);
    parts.push(`<p>Responsible: ${e(s.owner ?? 'not stated')}. Recipients: ${s.recipients.length ? s.recipients.map(e).join(', ') : 'none declared'}.</p>`);
    if (s.purposes.length) {
      parts.push('<table><tr><th>Purpose</th><th>Legal basis (GDPR Art. 6)</th><th>Categories</th></tr>');
      for (const p of s.purposes) parts.push(`<tr><td>${e(p.name)}${p.description ? `<br>${e(p.description)}` : ''}</td><td>${e(p.legalBasis ?? 'not stated')}</td><td>${p.categories.map(e).join(', ')}</td></tr>`);
      parts.push('</table>');
    } else parts.push('<p>No purpose is declared for this system.</p>');
    const max = Math.max(1, ...s.tables.map((t) => t.rows.length));
    parts.push('<table><tr><th>Data set</th><th>Records</th><th>Personal data</th><th>How long it is kept</th></tr>');
    for (const t of s.tables) {
      const kept = t.retention.length ? t.retention.map((r) => `${e(r.period)}${r.from ? ` from ${e(r.from)}` : ''} (${e(r.legalBasis)})`).join('<br>') : 'no retention period declared';
      parts.push(`<tr><td>${e(t.table)}</td><td><span class="bar" style="width:${Math.round((t.rows.length / max) * 6)}rem"></span> ${t.rows.length}</td><td>${t.personalColumns.map(e).join(', ') || '—'}</td><td>${kept}</td></tr>`);
    }
    parts.push('</table>');
  }
  if (doc.notDecrypted.length) {
    parts.push('<h2>Values not decrypted</h2><p>These values are stored encrypted and could not be decrypted for this export:</p><ul>');
    for (const n of doc.notDecrypted) parts.push(`<li>${e(n.table)}.${e(n.column)}: ${n.rows} record(s): ${e(n.why)}</li>`);
    parts.push('</ul>');
  }
  parts.push('<p>You may ask us to correct or erase this data, or object to its use.</p></body></html>\n');
  return parts.join('\n');
}
