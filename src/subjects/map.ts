/**
 * The subject map: which tables describe a person, which columns identify them,
 * and which tables hang off them, derived from the collection inventory and the
 * introspected foreign keys, completed by links Steward infers where the schema
 * declares none (names and types, confirmed by value inclusion measured on the
 * data), and overridden by `subjects:` in steward.yml. Pure: discover.ts does the
 * I/O (introspection, inventory, measurements) and calls {@link deriveSubjectMap}.
 *
 * Roles of a table:
 * - `identity`: a primary key and identifying columns (email, phone, national ID),
 *   not itself a child of another identity table: where a person *is*;
 * - `identified`: identifying columns and a parent: searched by identifier too
 *   (a guest order with an email and no customer);
 * - `child`: reached only along links (orders → order_items → refunds), several hops;
 * - `excluded` (config), `unreachable` (personal data that no path reaches: a
 *   request would miss it, a finding), `unrelated` (no personal data, not reached).
 *
 * Links go parent → child: the child's columns hold the parent's key. A link from a
 * table to itself (referrals) is a *reference*: the rows it reaches belong to other
 * people who point at the subject; they are listed, never treated as the subject's.
 */
import type { InventoryItem } from '../audit/types.js';
import { dialectOf } from '../sources/dialects.js';
import { NATIONAL_ID_LOOKUP, PHONE_LOOKUP, type LookupExpression } from '../sources/lookup-expressions.js';
import type { ColumnInfo, SourceKind, TableInfo, TableRef } from '../sources/types.js';
import { shellCommand } from '../shell.js';
import { IDENTIFIER_CATEGORIES, type IdentifierKind } from './identifiers.js';

/** The blind-index normaliser that fits each identifier kind (what a lookup can reproduce). */
const BLIND_NORMALIZER: Readonly<Record<Exclude<IdentifierKind, 'key'>, BlindIndexNormalizer>> = { email: 'email', phone: 'digits', nationalId: 'trim' };

/** How phones and national IDs are compared (the expression an index must be on). */
const LOOKUPS: Readonly<Record<'phone' | 'nationalId', LookupExpression>> = { phone: PHONE_LOOKUP, nationalId: NATIONAL_ID_LOOKUP };

/**
 * An index lead or lookup expression reduced for comparison: Postgres deparses `"phone"::text`
 * as `phone`, `(phone)::text` or with `' '::text` literals; quotes, spacing and case differ.
 */
const normLead = (x: string) =>
  x
    .toLowerCase()
    .replace(/::(text|character varying|varchar)\b/g, '')
    .replace(/[\s"`]/g, '')
    .replace(/\((\w+)\)/g, (m, w: string, at: number, all: string) => (at > 0 && /\w/.test(all[at - 1]!) ? m : w));

/** Free-text columns of tables above this many rows (estimated) get a finding when no index serves mention search. */
export const FREE_TEXT_INDEX_ROWS = 10_000;

export type TableRole = 'identity' | 'identified' | 'child' | 'excluded' | 'unreachable' | 'unrelated';

export interface QualifiedTable extends TableRef {
  readonly source: string;
}

export interface LinkEnd extends QualifiedTable {
  readonly columns: readonly string[];
}

export interface LinkEvidence {
  /** Child values sampled (non-null). */
  readonly sampled: number;
  /** Of those, found in the parent key. */
  readonly found: number;
  /** Why it was a candidate: `name` (customer_id → customers.id), `category` (same identifier category). */
  readonly reason: string;
}

export interface SubjectLink {
  readonly parent: LinkEnd;
  readonly child: LinkEnd;
  readonly origin: 'foreign-key' | 'config' | 'inferred';
  /** 1 for declared links; the measured inclusion share (with the name evidence) for inferred ones. */
  readonly confidence: number;
  readonly evidence?: LinkEvidence;
  /** Inferred links below the threshold, and links rejected in config, are shown but not followed. */
  readonly used: boolean;
  /** Why it is not used, when it is not. */
  readonly why?: string;
  /** A table pointing at itself (referred_by → id): the rows reached are other people's. */
  readonly reference: boolean;
}

export interface IdentifierColumn {
  readonly column: string;
  readonly kind: Exclude<IdentifierKind, 'key'>;
  /**
   * From the inventory, `config` when steward.yml declared it, or `encryption` when only the
   * keyring says so (a column `steward encrypt` keeps an email blind index for).
   */
  readonly origin: 'inventory' | 'config' | 'encryption';
  /** Encrypted by Steward (found through its blind index when there is one). */
  readonly encrypted: boolean;
  /** Whether an index serves the lookup (see discover.ts); null when unknown. */
  readonly indexed: boolean | null;
  /**
   * Encrypted columns: the blind index a request searches instead (null: none, so the
   * column's rows are found only through links). Absent on plain columns.
   */
  readonly blindIndex?: BlindIndexRef | null;
  /**
   * Encrypted columns whose `steward encrypt` has not finished: some values may still be
   * plaintext, so they are searched both ways.
   */
  readonly mixed?: boolean;
}

/** The blind index `steward encrypt --blind-index` keeps beside an encrypted column. */
export interface BlindIndexRef {
  /** The column holding the index (`email_bidx`). */
  readonly column: string;
  /** How values were normalised before indexing (`--normalize`). */
  readonly normalize: BlindIndexNormalizer;
  /** Bytes of HMAC kept. */
  readonly bytes: number;
  /** The table as the key scope names it (the spelling `steward encrypt` was given: `customers`, `public.customers`). */
  readonly scopeTable: string;
  /** Whether an index serves `where <column> in (…)`; null when unknown. */
  readonly indexed: boolean | null;
}

export type BlindIndexNormalizer = 'none' | 'trim' | 'lowercase' | 'email' | 'digits';

/**
 * What the state store says about one column Steward encrypted (discover.ts reads it from
 * the data keys and the `steward encrypt` jobs; no master key is needed for it).
 */
export interface EncryptedColumn extends TableRef {
  readonly column: string;
  /** Still encrypted (false: `steward decrypt` finished after the last encrypt). */
  readonly encrypted: boolean;
  /** An encrypt (or rotation) has not finished: some values may still be plaintext. */
  readonly mixed: boolean;
  readonly blindIndex: Omit<BlindIndexRef, 'indexed'> | null;
}

export interface SubjectTable extends QualifiedTable {
  readonly role: TableRole;
  readonly primaryKey: readonly string[];
  readonly identifiers: readonly IdentifierColumn[];
  /** Columns the inventory found personal data in (every category). */
  readonly personalColumns: readonly string[];
  /** Free-text columns holding personal data: searched for every identifier (mentions). */
  readonly freeText: readonly string[];
  /** Hops from the nearest identity table along used links (0 for identity tables); null if not reached. */
  readonly depth: number | null;
}

export interface SubjectMapFinding {
  readonly rule: 'subjects.identifier-not-indexed' | 'subjects.unreachable-personal-data' | 'subjects.link-inferred' | 'subjects.encrypted-identifier-unsearchable' | 'subjects.free-text-not-indexed';
  readonly severity: 'medium' | 'low' | 'info';
  readonly location: QualifiedTable & { readonly column?: string };
  readonly message: string;
  readonly remedy: string;
}

export interface SubjectMap {
  readonly tables: readonly SubjectTable[];
  readonly links: readonly SubjectLink[];
  readonly findings: readonly SubjectMapFinding[];
  /** Sources that could not be mapped, with the reason (a request would miss them). */
  readonly problems: readonly { readonly source: string; readonly message: string }[];
}

/** One source as discover.ts read it. */
export interface SourceSchema {
  readonly source: string;
  readonly kind: SourceKind;
  readonly tables: readonly TableInfo[];
  readonly inventory: readonly InventoryItem[];
  /** `schema.table` → columns (or `lower(col)` expressions) that lead an index. */
  readonly indexLeads?: ReadonlyMap<string, readonly string[]> | null;
  /** Columns Steward encrypted, as the state store records them (physical tables). */
  readonly encrypted?: readonly EncryptedColumn[];
}

export interface LinkConfig {
  readonly from: LinkEnd;
  readonly to: LinkEnd;
  /** false: a rejected (inferred) link; true or absent: a declared one. */
  readonly accept: boolean;
}

export interface SubjectMapConfig {
  /** Inferred links at or above this confidence are followed. Default 0.9. */
  readonly minConfidence: number;
  readonly links: readonly LinkConfig[];
  readonly exclude: readonly QualifiedTable[];
  /** Columns steward.yml declares identifying (`{ source, table, column, kind }`). */
  readonly identifiers: readonly (QualifiedTable & { readonly column: string; readonly kind: Exclude<IdentifierKind, 'key'> })[];
}

export const DEFAULT_SUBJECT_MAP_CONFIG: SubjectMapConfig = { minConfidence: 0.9, links: [], exclude: [], identifiers: [] };

export const tableKey = (t: QualifiedTable) => JSON.stringify([t.source, t.schema, t.name]);
const plainKey = (t: TableRef) => `${t.schema}.${t.name}`;
const sameEnd = (a: LinkEnd, b: LinkEnd) => tableKey(a) === tableKey(b) && a.columns.join('\0') === b.columns.join('\0');

// ---- inferred link candidates

/** A link the schema does not declare, proposed from names and types, to be measured. */
export interface LinkCandidate {
  readonly parent: LinkEnd;
  readonly child: LinkEnd;
  readonly reason: string;
}

const KEY_SUFFIX = /^(.+?)_?(id|ref|key|no|number|uuid)$/i;

/** `address` → the table names it may stand for: address, addresses, addresss…; `category` → categories. */
function pluralForms(stem: string): string[] {
  const s = stem.toLowerCase();
  const out = new Set([s, `${s}s`, `${s}es`]);
  if (s.endsWith('y')) out.add(`${s.slice(0, -1)}ies`);
  if (s.endsWith('s')) out.add(s.slice(0, -1));
  if (s === 'person') out.add('people');
  return [...out];
}

/** `shipping_address_id` → [`shipping_address`, `address`]; `customerId` → [`customer`]. */
function stemsOf(column: string): string[] {
  const snake = column.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const m = KEY_SUFFIX.exec(snake);
  if (!m || !m[1]) return [];
  const base = m[1].replace(/_+$/, '');
  if (!base) return [];
  const words = base.split('_').filter(Boolean);
  return words.map((_, i) => words.slice(i).join('_'));
}

const compatible = (a: ColumnInfo, b: ColumnInfo) =>
  a.typeClass === b.typeClass || (['text', 'uuid'].includes(a.typeClass) && ['text', 'uuid'].includes(b.typeClass)) || (['integer', 'decimal'].includes(a.typeClass) && ['integer', 'decimal'].includes(b.typeClass));

/**
 * Candidates from names and types, in one source: a column `<stem>_id` (`_ref`, `Id`, …)
 * whose type fits the single-column primary key of a table named like the stem
 * (`customer_id` → customers.id, `shipping_address_id` → addresses.id). Columns a
 * declared foreign key already covers are skipped.
 */
export function linkCandidates(schema: SourceSchema): LinkCandidate[] {
  const out: LinkCandidate[] = [];
  const tables = schema.tables.filter((t) => t.kind === 'table');
  const byName = new Map<string, TableInfo[]>();
  for (const t of tables) byName.set(t.name.toLowerCase(), [...(byName.get(t.name.toLowerCase()) ?? []), t]);
  for (const child of tables) {
    const declared = new Set(child.foreignKeys.filter((f) => f.columns.length === 1).map((f) => f.columns[0]!));
    for (const col of child.columns) {
      if (declared.has(col.name)) continue;
      if (child.primaryKey.length === 1 && child.primaryKey[0] === col.name) continue;
      for (const stem of stemsOf(col.name)) {
        const parents = pluralForms(stem).flatMap((n) => byName.get(n) ?? []);
        const hits = parents.filter((p) => p.primaryKey.length === 1 && !(p.schema === child.schema && p.name === child.name && p.primaryKey[0] === col.name));
        const fitting = hits.filter((p) => {
          const pk = p.columns.find((c) => c.name === p.primaryKey[0]);
          return pk !== undefined && compatible(pk, col);
        });
        if (fitting.length === 0) continue;
        // Prefer the parent in the child's own schema.
        const parent = fitting.find((p) => p.schema === child.schema) ?? fitting[0]!;
        out.push({
          parent: { source: schema.source, schema: parent.schema, name: parent.name, columns: [parent.primaryKey[0]!] },
          child: { source: schema.source, schema: child.schema, name: child.name, columns: [col.name] },
          reason: `name: ${col.name} → ${parent.name}.${parent.primaryKey[0]}`,
        });
        break;
      }
    }
  }
  return out;
}

/** Confidence of an inferred link from its evidence: the inclusion share, none below 20 sampled values counts fully. */
export function inferredConfidence(e: LinkEvidence): number {
  if (e.sampled === 0) return 0;
  const share = e.found / e.sampled;
  const weight = Math.min(1, e.sampled / 20);
  return Math.round(share * weight * 1000) / 1000;
}

// ---- the map

/**
 * Derives the map from what discover.ts read: per source the tables, the inventory
 * and index leads; the candidates it measured with their evidence; the config.
 */
export function deriveSubjectMap(
  schemas: readonly SourceSchema[],
  measured: readonly (LinkCandidate & { readonly evidence: LinkEvidence })[],
  config: SubjectMapConfig = DEFAULT_SUBJECT_MAP_CONFIG,
  problems: readonly { readonly source: string; readonly message: string }[] = [],
): SubjectMap {
  const links: SubjectLink[] = [];
  const isExcluded = (t: QualifiedTable) => config.exclude.some((x) => tableKey(x) === tableKey(t));
  const rejected = (parent: LinkEnd, child: LinkEnd) => config.links.some((l) => !l.accept && sameEnd(l.to, parent) && sameEnd(l.from, child));
  const addLink = (l: Omit<SubjectLink, 'reference'>) => {
    if (links.some((x) => sameEnd(x.parent, l.parent) && sameEnd(x.child, l.child))) return;
    const reference = tableKey(l.parent) === tableKey(l.child);
    const off = rejected(l.parent, l.child) ? 'rejected in steward.yml (subjects.links … accept: false)' : undefined;
    links.push({ ...l, ...(off ? { used: false, why: off } : {}), reference });
  };
  for (const s of schemas) {
    for (const t of s.tables) {
      for (const fk of t.foreignKeys) {
        addLink({
          parent: { source: s.source, schema: fk.referencedSchema || t.schema, name: fk.referencedTable, columns: fk.referencedColumns },
          child: { source: s.source, schema: t.schema, name: t.name, columns: fk.columns },
          origin: 'foreign-key',
          confidence: 1,
          used: true,
        });
      }
    }
  }
  for (const l of config.links) if (l.accept) addLink({ parent: l.to, child: l.from, origin: 'config', confidence: 1, used: true });
  for (const m of measured) {
    const confidence = inferredConfidence(m.evidence);
    const used = confidence >= config.minConfidence;
    addLink({
      parent: m.parent,
      child: m.child,
      origin: 'inferred',
      confidence,
      evidence: m.evidence,
      used,
      ...(used ? {} : { why: `confidence ${confidence} is below subjects.minConfidence ${config.minConfidence}: ${m.evidence.found} of ${m.evidence.sampled} sampled values found in the parent key` }),
    });
  }

  // Per table: identifiers, personal columns, free text.
  interface Draft {
    t: TableInfo;
    q: QualifiedTable;
    identifiers: IdentifierColumn[];
    personal: string[];
    freeText: string[];
    kind: SourceKind;
  }
  const drafts = new Map<string, Draft>();
  for (const s of schemas) {
    for (const t of s.tables.filter((x) => x.kind === 'table')) {
      const q: QualifiedTable = { source: s.source, schema: t.schema, name: t.name };
      const inv = s.inventory.filter((i) => i.schema === t.schema && i.table === t.name);
      const leads = s.indexLeads ? (s.indexLeads.get(plainKey(t)) ?? []) : undefined;
      // Email lookups use an index on `lower(col)` (MySQL's collations fold case themselves: on the column);
      // phones and national IDs one on exactly the expression they are compared by (`lookupExpression`),
      // where the dialect can index it (elsewhere they scan: false, with a finding that says so).
      const indexedFor = (column: string, kind: Exclude<IdentifierKind, 'key'>): boolean | null => {
        if (!leads) return null;
        const d = dialectOf(s.kind);
        if (kind === 'email') return leads.some((l) => normLead(l) === (d.capabilities.textEqualityFoldsCase ? normLead(column) : `lower(${normLead(column)})`));
        const want = d.lookupExpression(column, LOOKUPS[kind]);
        return want !== null && leads.some((l) => normLead(l) === normLead(want));
      };
      const plainIndexed = (column: string): boolean | null => (leads ? leads.some((l) => l.toLowerCase().replace(/[\s"`]/g, '') === column.toLowerCase()) : null);
      // What the state store says about an encrypted column overrides the inventory (which may
      // predate `steward encrypt`, or a `steward decrypt`); the inventory alone (ciphertexts sampled)
      // still marks a column encrypted whose keys this state store does not hold.
      const recorded = (s.encrypted ?? []).filter((e) => e.schema === t.schema && e.name === t.name);
      const encryptionOf = (column: string, sampled: boolean): Pick<IdentifierColumn, 'encrypted' | 'blindIndex' | 'mixed'> => {
        const e = recorded.find((x) => x.column === column);
        if (!e) return sampled ? { encrypted: true, blindIndex: null } : { encrypted: false };
        if (!e.encrypted) return { encrypted: false };
        return { encrypted: true, blindIndex: e.blindIndex ? { ...e.blindIndex, indexed: plainIndexed(e.blindIndex.column) } : null, ...(e.mixed ? { mixed: true } : {}) };
      };
      const identifiers: IdentifierColumn[] = [];
      for (const i of inv) {
        const kind = IDENTIFIER_CATEGORIES[i.category];
        if (kind && !identifiers.some((x) => x.column === i.column)) identifiers.push({ column: i.column, kind, origin: 'inventory', ...encryptionOf(i.column, i.encrypted === true), indexed: indexedFor(i.column, kind) });
      }
      for (const c of config.identifiers.filter((x) => tableKey(x) === tableKey(q))) {
        if (!t.columns.some((x) => x.name === c.column)) continue;
        const existing = identifiers.findIndex((x) => x.column === c.column);
        const sampled = inv.some((i) => i.column === c.column && i.encrypted === true);
        const entry: IdentifierColumn = { column: c.column, kind: c.kind, origin: 'config', ...encryptionOf(c.column, sampled), indexed: indexedFor(c.column, c.kind) };
        if (existing >= 0) identifiers[existing] = entry;
        else identifiers.push(entry);
      }
      // A column encrypted with an email blind index holds emails, whatever the inventory saw in its ciphertexts.
      for (const e of recorded) {
        if (!e.encrypted || e.blindIndex?.normalize !== 'email' || identifiers.some((x) => x.column === e.column) || !t.columns.some((x) => x.name === e.column)) continue;
        identifiers.push({ column: e.column, kind: 'email', origin: 'encryption', ...encryptionOf(e.column, true), indexed: null });
      }
      const freeText = inv.filter((i) => i.category === 'content.free_text' || i.freeText.length > 0).map((i) => i.column);
      drafts.set(tableKey(q), { t, q, identifiers, personal: [...new Set([...inv.map((i) => i.column), ...identifiers.filter((i) => i.origin === 'encryption').map((i) => i.column)])], freeText: [...new Set(freeText)], kind: s.kind });
    }
  }

  // Identity tables: a primary key, identifiers, and no used link to a parent that is an identity candidate itself.
  const used = links.filter((l) => l.used && !l.reference && !isExcluded(l.parent) && !isExcluded(l.child));
  const candidate = (d: Draft) => d.t.primaryKey.length > 0 && d.identifiers.length > 0 && !isExcluded(d.q);
  const identities = new Set<string>();
  for (const [k, d] of drafts) {
    if (!candidate(d)) continue;
    const hasIdentityParent = used.some((l) => tableKey(l.child) === k && tableKey(l.parent) !== k && drafts.has(tableKey(l.parent)) && candidate(drafts.get(tableKey(l.parent))!));
    if (!hasIdentityParent) identities.add(k);
  }
  // Depth: BFS from identity tables and identified tables along used links, parent → child.
  const depth = new Map<string, number>();
  const queue: string[] = [];
  for (const [k, d] of drafts) {
    if (isExcluded(d.q)) continue;
    if (identities.has(k) || d.identifiers.length > 0) {
      depth.set(k, 0);
      queue.push(k);
    }
  }
  while (queue.length > 0) {
    const k = queue.shift()!;
    for (const l of used) {
      if (tableKey(l.parent) !== k) continue;
      const c = tableKey(l.child);
      if (!depth.has(c) && drafts.has(c)) {
        depth.set(c, depth.get(k)! + 1);
        queue.push(c);
      }
    }
  }

  // Upwards: a table with personal data that a reached table points at (the shipping address of an order) is reached
  // too (find.ts reads it from the child's link column), one hop further; its other children are not followed.
  for (let grew = true; grew; ) {
    grew = false;
    for (const l of used) {
      const c = tableKey(l.child);
      const p = tableKey(l.parent);
      const d = drafts.get(p);
      if (!depth.has(c) || depth.has(p) || !d || d.personal.length === 0) continue;
      depth.set(p, depth.get(c)! + 1);
      grew = true;
    }
  }

  const tables: SubjectTable[] = [];
  const findings: SubjectMapFinding[] = [];
  for (const [k, d] of drafts) {
    const role: TableRole = isExcluded(d.q)
      ? 'excluded'
      : identities.has(k)
        ? 'identity'
        : d.identifiers.length > 0
          ? 'identified'
          : depth.has(k)
            ? 'child'
            : d.personal.length > 0
              ? 'unreachable'
              : 'unrelated';
    tables.push({ ...d.q, role, primaryKey: d.t.primaryKey, identifiers: d.identifiers, personalColumns: d.personal, freeText: d.freeText, depth: depth.get(k) ?? null });
    if (role === 'unreachable') {
      findings.push({
        rule: 'subjects.unreachable-personal-data',
        severity: 'medium',
        location: d.q,
        message: `${plainKey(d.q)} holds personal data (${d.personal.join(', ')}) but no identifier column and no link from a table that has one: a data-subject request would miss its rows.`,
        remedy: 'Declare the link in steward.yml (subjects.links: - { from: TABLE.COLUMN, to: PARENT.KEY }) or the identifying column (subjects.identifiers), or exclude the table with a reason.',
      });
    }
    if (role === 'identity' || role === 'identified') {
      for (const i of d.identifiers) {
        if (i.encrypted) {
          if (!i.blindIndex) {
            findings.push({
              rule: 'subjects.encrypted-identifier-unsearchable',
              severity: 'medium',
              location: { ...d.q, column: i.column },
              message: `${plainKey(d.q)}.${i.column} identifies people (${i.kind}) but is encrypted without a blind index Steward knows of: a request cannot search it, and finds its rows only through links from other tables.`,
              remedy: `Keep a blind index beside it (re-encrypting every value once): ${shellCommand('steward', 'encrypt', '--rotate', '--source', d.q.source, '--column', `${d.q.schema}.${d.q.name}.${i.column}`, '--blind-index', `${i.column}_bidx`, '--normalize', BLIND_NORMALIZER[i.kind])}`,
            });
          } else if (i.blindIndex.indexed === false) {
            findings.push({
              rule: 'subjects.identifier-not-indexed',
              severity: 'low',
              location: { ...d.q, column: i.blindIndex.column },
              message: `${plainKey(d.q)}.${i.column} identifies people (${i.kind}, encrypted) but no index serves the lookup by its blind index ${i.blindIndex.column}: every request scans the table.`,
              remedy: `Add one: ${createIndexSql(d.kind, d.t, { column: i.blindIndex.column, kind: 'key' })}`,
            });
          }
          continue;
        }
        if (i.indexed !== false) continue;
        const statement = createIndexSql(d.kind, d.t, i);
        findings.push({
          rule: 'subjects.identifier-not-indexed',
          severity: statement ? 'low' : 'info',
          location: { ...d.q, column: i.column },
          message: statement
            ? `${plainKey(d.q)}.${i.column} identifies people (${i.kind}) but no index serves the lookup: every request scans the table.`
            : `${plainKey(d.q)}.${i.column} identifies people (${i.kind}): ${dialectOf(d.kind).displayName} compares it by its characters without separators, an expression it cannot index, so every request scans the table (${d.t.rowEstimate >= 0 ? `~${d.t.rowEstimate} rows` : 'size unknown'}).`,
          remedy: statement ? `Add one: ${statement}` : 'None Steward can suggest on this database (an index on a generated column is not used for the expression either): the lookup stays correct, its time grows with the table.',
        });
      }
    }
    // Free-text mention search (`lower(col) like '%…%'`) scans; where the dialect has an index for it, suggest it on large tables.
    const ft = dialectOf(d.kind).freeTextIndex;
    const leads = schemas.find((x) => x.source === d.q.source)?.indexLeads?.get(plainKey(d.q));
    if (ft && leads && role !== 'excluded' && d.t.rowEstimate > FREE_TEXT_INDEX_ROWS) {
      for (const column of d.freeText) {
        if (leads.some((l) => normLead(l) === normLead(ft.lead(column)))) continue;
        findings.push({
          rule: 'subjects.free-text-not-indexed',
          severity: 'info',
          location: { ...d.q, column },
          message: `${plainKey(d.q)}.${column} is searched for mentions of every identifier (~${d.t.rowEstimate} rows): no index serves the search, so every request scans the table.`,
          remedy: `Add one: ${ft.statement(d.t, column)}`,
        });
      }
    }
  }
  for (const l of links) {
    if (l.origin !== 'inferred' || !l.used) continue;
    findings.push({
      rule: 'subjects.link-inferred',
      severity: 'info',
      location: { ...l.child, column: l.child.columns.join(', ') },
      message: `Inferred link ${plainKey(l.child)}.${l.child.columns.join(',')} → ${plainKey(l.parent)}.${l.parent.columns.join(',')} (confidence ${l.confidence}; ${l.evidence?.found} of ${l.evidence?.sampled} sampled values found; ${l.evidence?.reason}).`,
      remedy: 'Declare it as a foreign key, or confirm it in steward.yml (subjects.links, accept: true) or reject it (accept: false).',
    });
  }
  return { tables, links, findings, problems };
}

/**
 * The index a lookup by this identifier needs, as SQL for the dialect: on the column (or `lower(col)`) for
 * emails, on the expression phones and national IDs are compared by, on the column for keys (a blind index
 * is compared exactly); null where the dialect cannot index that expression.
 */
export function createIndexSql(kind: SourceKind, t: TableRef, i: { readonly column: string; readonly kind: IdentifierKind }): string | null {
  const d = dialectOf(kind);
  const name = `${t.name}_${i.column}_subject`;
  if (i.kind === 'phone' || i.kind === 'nationalId') return d.lookupIndexStatement(t, i.column, LOOKUPS[i.kind], { name });
  return d.indexStatement(t, i.column, { caseInsensitive: i.kind === 'email' && !d.capabilities.textEqualityFoldsCase, name });
}

/** The tables a request visits in order: identity and identified first, then children by depth. */
export function requestOrder(map: SubjectMap): SubjectTable[] {
  return map.tables.filter((t) => t.depth !== null && t.role !== 'excluded').sort((a, b) => a.depth! - b.depth!);
}
