/**
 * The erasure plan (GDPR Art. 17), pure: from what find.ts found and the facts
 * erase.ts read (holds, the rows that point at each row, the retention policies),
 * what becomes of every row of the subject, and why.
 *
 * Actions, per row:
 * - `delete`: the row goes; children before parents along the map's links;
 * - `anonymise`: the row stays (a legal minimum not yet reached, or a kept row points
 *   at it) and its personal columns are cleaned (the policy's cleanup methods, else a
 *   placeholder that respects the column's type and constraints);
 * - `keep`: the row stays as it is, with the reason (a legal hold, a table exempt in
 *   steward.yml, a legal minimum on a table without personal columns);
 * - `shared`: the row also belongs to someone else (another person's rows point at it,
 *   or it points at another person): kept unchanged, the other owners counted, never
 *   named; only the subject's link to it goes (with the subject's row that holds it);
 * - `unlink`: another person's row that points at the subject (a referral): its link
 *   column is set to NULL (kept when NOT NULL, with the reason);
 * - `redact`: a free-text value that mentions the subject: every identifier span is
 *   replaced with {@link REDACTED}, the row kept.
 *
 * Anonymisation, not pseudonymisation: a cleanup method `hash` (a keyed hash still
 * links the records to the person, Recital 26) is replaced by the placeholder here.
 */
import { createHash, createHmac } from 'node:crypto';
import { cleanValue } from '../retention/cleanup.js';
import type { ColumnInfo, TableInfo } from '../sources/types.js';
import type { FindResult } from './find.js';
import type { IdentifierKind } from './identifiers.js';
import { tableKey, type QualifiedTable, type SubjectMap, type SubjectTable } from './map.js';

export type EraseAction = 'delete' | 'anonymise' | 'keep' | 'shared' | 'unlink' | 'redact';

/** What a redaction writes in place of an identifier. */
export const REDACTED = '[redacted]';

/** Domain of the placeholder emails: `.invalid` never resolves (RFC 2606). */
export const PLACEHOLDER_DOMAIN = 'erased.invalid';

export interface PlannedRow extends QualifiedTable {
  readonly key: Readonly<Record<string, unknown>>;
  readonly action: EraseAction;
  readonly reason: string;
  /** anonymise: column → cleanup method (`placeholder`, `null`, `year`, `month`, `prefix:N`, `fixed:…`). */
  readonly columns?: Readonly<Record<string, string>>;
  /** unlink and redact: the column written. */
  readonly column?: string;
  /** shared: how many rows of other people point at it, or it points at. */
  readonly otherOwners?: number;
}

export interface TablePlan extends QualifiedTable {
  readonly action: EraseAction;
  readonly rows: number;
  readonly reasons: readonly string[];
  readonly columns?: Readonly<Record<string, string>>;
}

export interface ErasurePlan {
  readonly rows: readonly PlannedRow[];
  /** Per table and action, in the order they run. */
  readonly tables: readonly TablePlan[];
  /** Tables in the order rows are deleted from (children first). */
  readonly deleteOrder: readonly string[];
}

/** Facts the planner needs, read by erase.ts. */
export interface PlanFacts {
  readonly map: SubjectMap;
  readonly found: FindResult;
  readonly tableInfo: (t: QualifiedTable) => TableInfo | undefined;
  /** Rows some legal hold keeps: rowId → hold ids. */
  readonly held: ReadonlyMap<string, readonly string[]>;
  /** Rows of other people that point at a subject row, or that a subject row points at: rowId → count. */
  readonly others: ReadonlyMap<string, number>;
  /** Rows that a row outside the map (an excluded table) points at: rowId → count; such rows cannot be deleted. */
  readonly pinned: ReadonlyMap<string, number>;
  /** Rows whose legal minimum is not reached: rowId → the policy and until when. */
  readonly legalMinimum: ReadonlyMap<string, { readonly policy: string; readonly until: string | null; readonly cleanup?: Readonly<Record<string, string>> | undefined }>;
  /** Tables steward.yml marks exempt from erasure, tableKey → reason. */
  readonly exempt: ReadonlyMap<string, string>;
  /** Columns a retention policy counts from, tableKey → columns: never anonymised (a kept invoice still ages out). */
  readonly retentionDates?: ReadonlyMap<string, readonly string[]>;
}

/** One row's identity in a plan: its table and key (bytes as hex: two binary keys that are no UTF-8 must not read alike). */
export const rowId = (t: QualifiedTable, key: Readonly<Record<string, unknown>>): string =>
  `${tableKey(t)}\0${JSON.stringify(Object.values(key).map((v) => (v === null || v === undefined ? null : v instanceof Uint8Array ? `\\x${Buffer.from(v).toString('hex')}` : String(v))))}`;

/** Builds the plan. */
export function planErasure(f: PlanFacts): ErasurePlan {
  const mt = (t: QualifiedTable): SubjectTable | undefined => f.map.tables.find((x) => tableKey(x) === tableKey(t));
  const rows = new Map<string, PlannedRow>();
  const links = f.map.links.filter((l) => l.used && !l.reference);
  const dates = (t: QualifiedTable) => f.retentionDates?.get(tableKey(t)) ?? [];

  // 1. Each found row on its own.
  for (const r of f.found.rows) {
    const id = rowId(r, r.key);
    const t = { source: r.source, schema: r.schema, name: r.name };
    const exempt = f.exempt.get(tableKey(t));
    const hold = f.held.get(id);
    const others = f.others.get(id) ?? 0;
    const minimum = f.legalMinimum.get(id);
    const base = { ...t, key: r.key };
    if (hold) rows.set(id, { ...base, action: 'keep', reason: `legal hold ${hold.map((h) => h.slice(0, 8)).join(', ')}` });
    else if (exempt) rows.set(id, { ...base, action: 'keep', reason: `exempt in steward.yml: ${exempt}` });
    else if (others > 0) rows.set(id, { ...base, action: 'shared', reason: `shared with ${others} row(s) of other people: kept, only the subject's link to it goes`, otherOwners: others });
    else if (minimum) {
      const cols = anonymiseColumns(mt(t), f.tableInfo(t), minimum.cleanup, dates(t));
      const why = `retention policy ${minimum.policy}: legal minimum not reached${minimum.until ? ` (until ${minimum.until.slice(0, 10)})` : ' (no reference date)'}`;
      rows.set(id, Object.keys(cols).length > 0 ? { ...base, action: 'anonymise', reason: why, columns: cols } : { ...base, action: 'keep', reason: why });
    } else if ((f.pinned.get(id) ?? 0) > 0) {
      rows.set(id, anonymisedOrKept(base, mt(t), f.tableInfo(t), `${f.pinned.get(id)} row(s) outside the subject map point at it`, dates(t)));
    } else rows.set(id, { ...base, action: 'delete', reason: 'nothing keeps it: no hold, legal minimum, exemption or other owner' });
  }

  // 2. A row that stays keeps the rows it points at: a parent of a kept row is anonymised, not deleted
  // (an invoice kept for 5 years keeps its order, and the order its customer, without the person in them).
  const stays = (p: PlannedRow) => p.action !== 'delete';
  const byTable = new Map<string, PlannedRow[]>();
  for (const p of rows.values()) byTable.set(tableKey(p), [...(byTable.get(tableKey(p)) ?? []), p]);
  const rowOf = new Map(f.found.rows.map((r) => [rowId(r, r.key), r.row] as const));
  for (let changed = true; changed; ) {
    changed = false;
    for (const l of links) {
      const children = (byTable.get(tableKey(l.child)) ?? []).filter(stays);
      if (children.length === 0) continue;
      const parents = (byTable.get(tableKey(l.parent)) ?? []).filter((p) => p.action === 'delete');
      if (parents.length === 0) continue;
      const held = new Set(children.map((c) => JSON.stringify(l.child.columns.map((col) => String(rowOf.get(rowId(c, c.key))?.[col] ?? '')))));
      for (const p of parents) {
        const pr = rowOf.get(rowId(p, p.key));
        if (!pr || !held.has(JSON.stringify(l.parent.columns.map((col) => String(pr[col] ?? ''))))) continue;
        const next = anonymisedOrKept(p, mt(p), f.tableInfo(p), `a row of ${l.child.name} that stays points at it`, dates(p));
        rows.set(rowId(p, p.key), next);
        byTable.set(tableKey(p), byTable.get(tableKey(p))!.map((x) => (x === p ? next : x)));
        changed = true;
      }
    }
  }

  // 3. Other people's rows that point at the subject (self-references): unlink.
  for (const r of f.found.references) {
    const id = rowId(r, r.key);
    if (rows.has(id)) continue;
    const info = f.tableInfo(r);
    const cols = r.column.split(', ');
    const notNull = cols.filter((c) => info?.columns.find((x) => x.name === c)?.nullable === false);
    rows.set(id, notNull.length > 0
      ? { source: r.source, schema: r.schema, name: r.name, key: r.key, action: 'keep', reason: `another person's row points at the subject through ${cols.join(', ')}, which is NOT NULL: left as it is`, column: r.column }
      : { source: r.source, schema: r.schema, name: r.name, key: r.key, action: 'unlink', reason: "another person's row points at the subject: the link is set to NULL", column: r.column });
  }

  // 4. Mentions in free text: redact, unless the row is deleted anyway.
  const mentions: PlannedRow[] = [];
  for (const m of f.found.mentions) {
    const id = rowId(m, m.key);
    const existing = rows.get(id);
    if (existing?.action === 'delete') continue;
    const exempt = f.exempt.get(tableKey(m));
    if (exempt) {
      mentions.push({ source: m.source, schema: m.schema, name: m.name, key: m.key, action: 'keep', reason: `mentions the subject in ${m.column}; exempt in steward.yml: ${exempt}`, column: m.column });
      continue;
    }
    if (f.held.get(id)) {
      mentions.push({ source: m.source, schema: m.schema, name: m.name, key: m.key, action: 'keep', reason: `mentions the subject in ${m.column}; legal hold ${f.held.get(id)!.map((h) => h.slice(0, 8)).join(', ')}`, column: m.column });
      continue;
    }
    mentions.push({ source: m.source, schema: m.schema, name: m.name, key: m.key, action: 'redact', reason: `mentions the subject (${m.kinds.join(', ')}) in ${m.column}: the spans are replaced with ${REDACTED}`, column: m.column });
  }

  const all = [...rows.values(), ...mentions];
  const deleteOrder = deletionOrder(f.map, all.filter((p) => p.action === 'delete'));
  const tables = summarise(all, deleteOrder);
  return { rows: all, tables, deleteOrder };
}

function anonymisedOrKept(base: PlannedRow | (QualifiedTable & { key: Readonly<Record<string, unknown>> }), mt: SubjectTable | undefined, info: TableInfo | undefined, why: string, keep: readonly string[] = []): PlannedRow {
  const cols = anonymiseColumns(mt, info, undefined, keep);
  const { source, schema, name, key } = base;
  return Object.keys(cols).length > 0 ? { source, schema, name, key, action: 'anonymise', reason: `${why}: anonymised instead of deleted`, columns: cols } : { source, schema, name, key, action: 'keep', reason: `${why}; it holds no personal column` };
}

/** The personal columns of a table (identifiers and inventory), without key or link columns (nor `keep`: retention dates), and how each is cleaned. */
export function anonymiseColumns(mt: SubjectTable | undefined, info: TableInfo | undefined, cleanup?: Readonly<Record<string, string>>, keep: readonly string[] = []): Record<string, string> {
  if (!mt || !info) return {};
  // A key column stays, unless it is an identifier (an email primary key): a row that stays must not keep the person's email.
  const ids = new Set(mt.identifiers.map((i) => i.column));
  const structural = new Set([...info.primaryKey.filter((c) => !ids.has(c)), ...info.foreignKeys.flatMap((k) => k.columns), ...keep]);
  const cols = [...new Set([...mt.identifiers.map((i) => i.column), ...mt.personalColumns])].filter((c) => !structural.has(c) && info.columns.some((x) => x.name === c));
  const out: Record<string, string> = {};
  for (const c of cols) {
    const m = cleanup?.[c];
    out[c] = m && m !== 'hash' ? m : 'placeholder';
  }
  return out;
}

/** Tables in deletion order: a table after every table whose rows point at it (children first); cycles by depth. */
export function deletionOrder(map: SubjectMap, deletes: readonly PlannedRow[]): string[] {
  const tables = [...new Set(deletes.map((d) => tableKey(d)))];
  const set = new Set(tables);
  const links = map.links.filter((l) => l.used && !l.reference && set.has(tableKey(l.parent)) && set.has(tableKey(l.child)) && tableKey(l.parent) !== tableKey(l.child));
  const depth = (k: string) => map.tables.find((t) => tableKey(t) === k)?.depth ?? 0;
  const out: string[] = [];
  const left = new Set(tables);
  while (left.size > 0) {
    // Ready: no remaining child table points at it.
    const ready = [...left].filter((k) => !links.some((l) => tableKey(l.parent) === k && left.has(tableKey(l.child))));
    const pick = (ready.length > 0 ? ready : [...left]).sort((a, b) => depth(b) - depth(a) || a.localeCompare(b));
    const next = ready.length > 0 ? ready.sort((a, b) => depth(b) - depth(a) || a.localeCompare(b)) : [pick[0]!];
    for (const k of next) {
      out.push(k);
      left.delete(k);
    }
  }
  return out;
}

const ACTION_ORDER: readonly EraseAction[] = ['redact', 'unlink', 'anonymise', 'delete', 'shared', 'keep'];

function summarise(rows: readonly PlannedRow[], deleteOrder: readonly string[]): TablePlan[] {
  const groups = new Map<string, { t: QualifiedTable; action: EraseAction; rows: number; reasons: Set<string>; columns?: Readonly<Record<string, string>> }>();
  for (const r of rows) {
    const k = `${r.action}\0${tableKey(r)}`;
    const g = groups.get(k) ?? { t: { source: r.source, schema: r.schema, name: r.name }, action: r.action, rows: 0, reasons: new Set<string>(), ...(r.columns ? { columns: r.columns } : {}) };
    g.rows++;
    g.reasons.add(r.reason);
    groups.set(k, g);
  }
  return [...groups.values()]
    .sort((a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) || (a.action === 'delete' ? deleteOrder.indexOf(tableKey(a.t)) - deleteOrder.indexOf(tableKey(b.t)) : tableKey(a.t).localeCompare(tableKey(b.t))))
    .map((g) => ({ ...g.t, action: g.action, rows: g.rows, reasons: [...g.reasons], ...(g.columns ? { columns: g.columns } : {}) }));
}

// ---- values

/**
 * The value an anonymised column gets: NULL where the column allows it; otherwise a
 * placeholder of the column's type that fits its length, and is unique per row when the
 * column must be (a masked unique email stays unique and well-formed). `seed` is the
 * erasure's id and the row's key: the same run and row give the same value (a re-run
 * writes what the first one wrote), and nothing in it comes from the person.
 */
export function placeholderValue(col: ColumnInfo, opts: { readonly kind?: IdentifierKind | undefined; readonly unique: boolean; readonly seed: string }): unknown {
  if (col.nullable) return null;
  const h = createHash('sha256').update(opts.seed).digest('hex');
  const fit = (s: string) => (col.maxLength !== null && s.length > col.maxLength ? s.slice(0, col.maxLength) : s);
  switch (col.typeClass) {
    case 'integer':
      return opts.unique ? -(Number.parseInt(h.slice(0, 12), 16) % 2_000_000_000) - 1 : 0;
    case 'decimal':
      return opts.unique ? -(Number.parseInt(h.slice(0, 12), 16) % 2_000_000_000) - 1 : 0;
    case 'boolean':
      return false;
    case 'date':
      return '1970-01-01';
    case 'timestamp':
      return new Date(Date.UTC(1970, 0, 2)); // not the epoch: MySQL's TIMESTAMP starts one second after it (in UTC)
    case 'uuid':
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    case 'json':
      return '{}';
    case 'binary':
      return Buffer.alloc(0);
    default: {
      // Short columns: the hash in base 36 (more values per character) rather than a truncated marker.
      const b36 = BigInt(`0x${h}`).toString(36);
      if (opts.kind === 'email') {
        const local = `erased-${h.slice(0, 16)}`;
        const full = `${local}@${PLACEHOLDER_DOMAIN}`;
        if (col.maxLength === null || full.length <= col.maxLength) return full;
        // `x.invalid` while it leaves 6 characters of hash, then `x.x` (no such top-level domain) down to `abcd@x.x`-sized columns.
        const domain = col.maxLength >= 16 ? 'x.invalid' : 'x.x';
        return fit(`${b36.slice(-Math.max(1, col.maxLength - domain.length - 1))}@${domain}`);
      }
      if (!opts.unique) return fit('erased');
      const marked = `erased-${h.slice(0, 16)}`;
      return col.maxLength === null || marked.length <= col.maxLength ? marked : b36.slice(-Math.max(1, col.maxLength));
    }
  }
}

/** The cleaned value of one column of a row for a method of the plan. */
export function anonymisedValue(value: unknown, method: string, col: ColumnInfo, opts: { readonly kind?: IdentifierKind | undefined; readonly unique: boolean; readonly seed: string }): unknown {
  if (method === 'placeholder' || method === 'hash') return placeholderValue(col, opts);
  const v = cleanValue(value, method);
  return v === null && !col.nullable ? placeholderValue(col, opts) : v;
}

/** Escapes a string for a case-insensitive regular expression. */
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `text` with every needle (case-insensitive) replaced by {@link REDACTED} (or what `marker` makes of the span): idempotent. */
export function redactText(text: string, needles: readonly string[], marker: string | ((span: string) => string) = REDACTED): string {
  const ns = [...new Set(needles.filter((n) => n.length >= 3))].sort((a, b) => b.length - a.length);
  if (ns.length === 0) return text;
  const re = new RegExp(ns.map(escapeRe).join('|'), 'gi');
  return typeof marker === 'string' ? text.replace(re, () => marker) : text.replace(re, marker);
}

/**
 * A table's affected keys, sorted, as one digest: the certificate proves which rows
 * without naming them. Keyed (HMAC-SHA256) when `key` is given, as certificates are: a
 * plain hash of `[42]` is undone by trying every id, and would say whose rows went.
 */
export function keysDigest(keys: readonly Readonly<Record<string, unknown>>[], key?: Buffer): string {
  const lines = keys.map((k) => JSON.stringify(Object.values(k).map((v) => (v === null || v === undefined ? null : String(v))))).sort();
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(lines.join('\n')).digest('hex');
}
