/**
 * Reads what the subject map is derived from, per source: the tables and foreign
 * keys (introspection), the latest recorded collection inventory (or a fresh
 * collection review when none is recorded), the indexes, and the value inclusion
 * of each inferred link candidate; resolves the `subjects:` section of steward.yml
 * against it; and calls the pure {@link deriveSubjectMap}.
 */
import type { InventoryItem } from '../audit/types.js';
import type { StewardConfig } from '../config/index.js';
import { ConfigError, isStewardError } from '../errors.js';
import { indexLeads, inclusion } from '../sources/subject-queries.js';
import { lastUnquotedDot, tablesNamed, unquoteName } from '../sources/table-names.js';
import type { Source, TableInfo } from '../sources/types.js';
import type { KeyInfo } from '../crypto/keyring.js';
import type { Job } from '../state/jobs.js';
import type { StateStore } from '../state/store.js';
import { deriveSubjectMap, linkCandidates, type BlindIndexNormalizer, type EncryptedColumn, type LinkConfig, type LinkEnd, type QualifiedTable, type SourceSchema, type SubjectMap, type SubjectMapConfig } from './map.js';

export interface DiscoverOptions {
  readonly config: StewardConfig;
  /** Open sources by name (the caller owns and closes them). */
  readonly sources: ReadonlyMap<string, Source>;
  /** Where the latest inventory is read from; null: none recorded. */
  readonly store: StateStore | null;
  /** Runs a collection review of one source when no inventory of it is recorded. */
  readonly freshInventory?: (source: string) => Promise<readonly InventoryItem[]>;
  /** Child values sampled per inferred link candidate. Default 1000. */
  readonly sample?: number;
}

export interface DiscoveredMap {
  readonly map: SubjectMap;
  /** Per source, the tables as introspected (for the queries that follow). */
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  /** Per source, where its inventory came from. */
  readonly inventoryFrom: ReadonlyMap<string, { readonly runId: string; readonly at: string } | 'fresh'>;
}

/** `[source:]table.column` → parts; the table may hold dots, the column is after the last one. */
function parseColumnRef(text: string, defaultSource: string | undefined, field: string): { source: string; table: string; column: string } {
  const colon = text.indexOf(':');
  const source = colon > 0 && /^[A-Za-z0-9_-]+$/.test(text.slice(0, colon)) ? text.slice(0, colon) : defaultSource;
  const rest = colon > 0 && source === text.slice(0, colon) ? text.slice(colon + 1) : text;
  const dot = lastUnquotedDot(rest);
  if (!source || dot <= 0 || dot === rest.length - 1) {
    throw new ConfigError('CONFIG_INVALID', `${field} "${text}" is not [SOURCE:]TABLE.COLUMN`, { hint: 'e.g. from: orders.customer_ref, to: customers.id (add source: NAME, or write shop:customers.id, when there are several sources)' });
  }
  return { source, table: rest.slice(0, dot), column: unquoteName(rest.slice(dot + 1)) };
}

function resolveEnd(ref: { source: string; table: string; column: string }, schemas: ReadonlyMap<string, SourceSchema>, field: string): LinkEnd {
  const s = schemas.get(ref.source);
  if (!s) throw new ConfigError('CONFIG_INVALID', `${field} names the source "${ref.source}", which steward.yml does not declare`, { hint: `Sources: ${[...schemas.keys()].join(', ')}` });
  const hits = tablesNamed(s.tables, ref.table);
  if (hits.length !== 1) {
    throw new ConfigError('CONFIG_INVALID', `${field}: ${hits.length === 0 ? `source "${ref.source}" has no table ${ref.table}` : `${ref.table} names several tables (${hits.map((t) => `${t.schema}.${t.name}`).join(', ')})`}`, {
      hint: 'Name the table as `steward audit` lists it (SCHEMA.TABLE when it is ambiguous)',
    });
  }
  const t = hits[0]!;
  if (!t.columns.some((c) => c.name === ref.column)) throw new ConfigError('CONFIG_INVALID', `${field}: table ${t.schema}.${t.name} has no column ${ref.column}`, { hint: `Its columns: ${t.columns.map((c) => c.name).join(', ')}` });
  return { source: ref.source, schema: t.schema, name: t.name, columns: [ref.column] };
}

/** The `subjects:` section resolved against the introspected tables (unknown names are config errors, exit 3). */
export function resolveSubjectConfig(config: StewardConfig, schemas: ReadonlyMap<string, SourceSchema>): SubjectMapConfig {
  const only = config.sources.length === 1 ? config.sources[0]!.name : undefined;
  const sc = config.subjects;
  const links: LinkConfig[] = sc.links.map((l, i) => {
    const def = l.source ?? only;
    const from = resolveEnd(parseColumnRef(l.from, def, `subjects.links[${i}].from`), schemas, `subjects.links[${i}].from`);
    const to = resolveEnd(parseColumnRef(l.to, from.source === def ? def : (def ?? from.source), `subjects.links[${i}].to`), schemas, `subjects.links[${i}].to`);
    return { from, to, accept: l.accept };
  });
  const identifiers = sc.identifiers.map((c, i) => {
    const end = resolveEnd(parseColumnRef(c.column, c.source ?? only, `subjects.identifiers[${i}].column`), schemas, `subjects.identifiers[${i}].column`);
    return { source: end.source, schema: end.schema, name: end.name, column: end.columns[0]!, kind: c.kind };
  });
  const exclude: QualifiedTable[] = sc.exclude.map((x, i) => {
    const source = x.source ?? only;
    const s = source ? schemas.get(source) : undefined;
    if (!s) throw new ConfigError('CONFIG_INVALID', `subjects.exclude[${i}] needs source: NAME (there are several sources)`, { hint: `Sources: ${[...schemas.keys()].join(', ')}` });
    const hits = tablesNamed(s.tables, x.table);
    if (hits.length !== 1) throw new ConfigError('CONFIG_INVALID', `subjects.exclude[${i}]: ${hits.length === 0 ? `source "${source}" has no table ${x.table}` : `${x.table} names several tables`}`, { hint: 'Name the table as `steward audit` lists it' });
    return { source: s.source, schema: hits[0]!.schema, name: hits[0]!.name };
  });
  return { minConfidence: sc.minConfidence, links, identifiers, exclude };
}

const NORMALIZERS: ReadonlySet<string> = new Set(['none', 'trim', 'lowercase', 'email', 'digits']);

/**
 * The columns of one source Steward encrypted, from the state store: a data key (`dek`) names
 * the column (under the table spelling `steward encrypt` was given), and the column's jobs say
 * whether it is still encrypted (no `decrypt` finished after the last encrypt), whether an
 * encrypt or decrypt is unfinished (some values plaintext, some not), and which blind index the newest
 * encrypt or rotation keeps (`options.blindIndex`: column, normaliser, bytes). Pure.
 *
 * A blind index counts only when its column still exists, its normaliser is one a lookup can
 * reproduce (a function given through the library is recorded as `none`, and is taken as
 * such), and the column's blind-index key exists (`bidx`, not destroyed).
 */
export function recordedEncryption(source: string, tables: readonly TableInfo[], keys: readonly KeyInfo[], jobsOf: (column: string) => readonly Job[]): EncryptedColumn[] {
  const out: EncryptedColumn[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    if (k.kind !== 'dek' || k.scope.source !== source) continue;
    const hits = tablesNamed(tables, k.scope.table);
    if (hits.length !== 1) continue; // dropped since, or a spelling that no longer names one table
    const t = hits[0]!;
    const id = JSON.stringify([t.schema, t.name, k.scope.column]);
    if (seen.has(id) || !t.columns.some((c) => c.name === k.scope.column)) continue;
    seen.add(id);
    const samePhysical = (spelling: string) => tablesNamed(tables, spelling).some((x) => x.schema === t.schema && x.name === t.name);
    const jobs = jobsOf(k.scope.column)
      .filter((j) => (j.operation === 'encrypt' || j.operation === 'decrypt' || j.operation === 'rotate') && samePhysical(j.table))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    const last = jobs[0];
    const encrypted = !(last && last.operation === 'decrypt' && last.status === 'done');
    const mixed = last !== undefined && last.status !== 'done' && (last.operation === 'encrypt' || last.operation === 'decrypt');
    let blindIndex: EncryptedColumn['blindIndex'] = null;
    for (const j of jobs) {
      if (j.operation === 'decrypt') break;
      const b = j.options.blindIndex as { column?: unknown; normalize?: unknown; bytes?: unknown } | null | undefined;
      if (!b || typeof b.column !== 'string') continue;
      const normalize = typeof b.normalize === 'string' && NORMALIZERS.has(b.normalize) ? (b.normalize as BlindIndexNormalizer) : 'none';
      const bytes = typeof b.bytes === 'number' && Number.isInteger(b.bytes) ? b.bytes : 16;
      const liveKey = keys.some((x) => x.kind === 'bidx' && x.state !== 'destroyed' && x.scope.source === source && x.scope.column === k.scope.column && x.scope.table === j.table);
      if (liveKey && t.columns.some((c) => c.name === b.column)) blindIndex = { column: b.column, normalize, bytes, scopeTable: j.table };
      break;
    }
    out.push({ schema: t.schema, name: t.name, column: k.scope.column, encrypted, mixed, blindIndex });
  }
  return out;
}

/** Introspects, reads inventories and indexes, measures inferred links, and derives the map. */
export async function discoverSubjectMap(options: DiscoverOptions): Promise<DiscoveredMap> {
  const schemas = new Map<string, SourceSchema>();
  const inventoryFrom = new Map<string, { runId: string; at: string } | 'fresh'>();
  const problems: { source: string; message: string }[] = [];
  for (const [name, source] of options.sources) {
    let tables: TableInfo[];
    try {
      // The schemas steward.yml limits the source to (`sources[].schemas`), as the audit reads them.
      const limit = options.config.sources.find((c) => c.name === name)?.schemas;
      tables = (await source.introspect(limit ? { schemas: limit } : {})).filter((t) => t.kind === 'table');
    } catch (e) {
      if (!isStewardError(e)) throw e;
      problems.push({ source: name, message: e.message });
      continue;
    }
    let inventory: readonly InventoryItem[] = [];
    const run = options.store ? await options.store.previousRun('collection', { sources: [name] }) : null;
    if (run && options.store) {
      inventory = (await options.store.loadInventory(run.id)).filter((i) => i.source === name);
      inventoryFrom.set(name, { runId: run.id, at: run.finishedAt });
    } else if (options.freshInventory) {
      inventory = await options.freshInventory(name);
      inventoryFrom.set(name, 'fresh');
    }
    // Encrypted columns: the data keys and the jobs of this source (no master key needed for either).
    const keys = options.store ? (await options.store.keys.listKeys()).map(({ wrapped: _w, ...k }) => k) : [];
    const jobs = new Map<string, readonly Job[]>();
    for (const column of new Set(keys.filter((k) => k.kind === 'dek' && k.scope.source === name).map((k) => k.scope.column))) jobs.set(column, await options.store!.jobs.historyOnTarget(name, column));
    const encrypted = recordedEncryption(name, tables, keys, (c) => jobs.get(c) ?? []);
    schemas.set(name, { source: name, kind: source.kind, tables, inventory, indexLeads: await indexLeads(source.db, source.kind, tables), ...(encrypted.length ? { encrypted } : {}) });
  }
  const config = resolveSubjectConfig(options.config, schemas);
  const measured = [];
  for (const s of schemas.values()) {
    const source = options.sources.get(s.source)!;
    const declared = (c: { child: LinkEnd; parent: LinkEnd }) => config.links.some((l) => l.accept && l.from.name === c.child.name && l.from.schema === c.child.schema && l.from.columns[0] === c.child.columns[0]);
    for (const c of linkCandidates(s)) {
      if (declared(c)) continue;
      const childT = s.tables.find((t) => t.schema === c.child.schema && t.name === c.child.name)!;
      const parentT = s.tables.find((t) => t.schema === c.parent.schema && t.name === c.parent.name)!;
      const cc = childT.columns.find((x) => x.name === c.child.columns[0])!;
      const pc = parentT.columns.find((x) => x.name === c.parent.columns[0])!;
      try {
        const e = await inclusion(source.db, s.kind, { ...childT, column: cc.name }, { ...parentT, column: pc.name }, { sample: options.sample ?? 1000, sameType: cc.typeClass === pc.typeClass });
        measured.push({ ...c, evidence: { ...e, reason: c.reason } });
      } catch {
        // A candidate the database cannot compare (types, permissions) is shown as unmeasured, never followed.
        measured.push({ ...c, evidence: { sampled: 0, found: 0, reason: `${c.reason} (could not be measured)` } });
      }
    }
  }
  return { map: deriveSubjectMap([...schemas.values()], measured, config, problems), schemas, inventoryFrom };
}
