/**
 * `steward subject erase`: erasure (GDPR Art. 17) as jobs of the shared batch-job
 * engine (src/jobs/engine.ts). The plan is pure (erase-plan.ts); this file reads the
 * facts it needs, checks it against the live schema, tries it in a transaction that
 * is rolled back, and applies it.
 *
 * An erasure is one record in the state store's job table (the manifest: the plan's
 * row keys per source, no identifier) and two engine jobs per source, run in order:
 * 1. `text`: redact the mentions in free text and unlink other people's rows that
 *    point at the subject, in every source, before any row goes (a redaction needs
 *    the subject's identifiers, which it reads from the subject's rows by key);
 * 2. `rows`: anonymise what stays, then delete children before parents.
 * Every batch is one short transaction of at most `batchSize` rows whose writes are
 * idempotent (delete by key; set to a value computed from the erasure's id and the
 * key; replace spans that are no longer there), so the engine checkpoints after the
 * commit and a re-run redoes at most the batch that a kill interrupted. A re-run
 * with the same identifiers finds the open manifest (by a keyed hash of them) and
 * resumes its plan; it never plans again over a half-erased subject.
 *
 * The certificate (`subject.erasure-certificate`, one per source, in the activity
 * log) gives per table the action, the rows (each planned row once), the cleanup
 * methods and the SHA-256 of the affected keys; never a key or an identifier. When
 * the run finishes, the manifest keeps only counts: the keys it held are gone.
 *
 * Per-subject keys: Steward encrypts columns under per-column keys (src/crypto), not
 * per-subject ones, so an erasure deletes or anonymises ciphertexts like any value;
 * crypto-shredding would need a key per person, which column encryption does not
 * keep (see docs/subjects.md).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { StewardConfig } from '../config/index.js';
import { isStewardError, UsageError } from '../errors.js';
import { runJob, type CrashHook, type JobProgress } from '../jobs/engine.js';
import { holdCondition } from '../retention/hold-rules.js';
import { activeHolds } from '../retention/holds.js';
import { cutoffFor, tablePolicy } from '../retention/policy.js';
import { tableRef } from '../sources/column-writer.js';
import { toSourceError } from '../sources/errors.js';
import { tablesNamed } from '../sources/table-names.js';
import type { Source, TableInfo } from '../sources/types.js';
import type { Job } from '../state/jobs.js';
import type { StateStore } from '../state/store.js';
import { certificateKey, chunk, groupBy, jsonSafe, keyEquals, keyListIn, requestHash, requestKey, reviveKey, seal, tampered, unseal } from './rows.js';
import { anonymisedValue, keysDigest, planErasure, redactText, rowId, type ErasurePlan, type PlannedRow } from './erase-plan.js';
import type { SubjectKeyring } from './decrypt.js';
import { abandonManifest, withSubjectLease, type AbandonedStep } from './lease.js';
import { findSubject, type FindResult } from './find.js';
import { normaliseStored, phoneSpellings, type Identifier, type IdentifierKind } from './identifiers.js';
import { tableKey, type QualifiedTable, type SourceSchema, type SubjectMap } from './map.js';

export interface EraseOptions {
  readonly config: StewardConfig;
  readonly map: SubjectMap;
  readonly schemas: ReadonlyMap<string, SourceSchema>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly store: StateStore;
  readonly identifiers: readonly Identifier[];
  readonly defaultCountry?: string | undefined;
  /** The keyring (decrypt.ts `openSubjectKeyring`): encrypted identifier columns are searched through their blind index. */
  readonly keyring?: SubjectKeyring | undefined;
  /** Plan and try (in a transaction rolled back), change nothing. */
  readonly dryRun: boolean;
  /**
   * Give up the unfinished erasure of these identifiers (one a kill left whose plan can no
   * longer run: a row the data changed under it, a manifest that does not open): what it
   * did stays done, the log says what, and the next run plans again. See {@link abandonManifest}.
   */
  readonly abandon?: boolean;
  readonly actor: string;
  /** Rows per batch. Default 200. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((p: JobProgress & { readonly stage: string; readonly source: string }) => void | Promise<void>) | undefined;
  readonly crashAt?: CrashHook | undefined;
  readonly now?: Date;
}

export interface CertificateTable extends QualifiedTable {
  readonly action: PlannedRow['action'];
  readonly rows: number;
  readonly columns?: Readonly<Record<string, string>>;
  /** HMAC-SHA256 of the affected keys under the store's certificate key (rows.ts `subjectKeysDigest` recomputes it for a list of keys). */
  readonly keysHmacSha256: string;
}

export interface ErasureCertificate {
  readonly erasureId: string;
  readonly source: string;
  readonly tables: readonly CertificateTable[];
  readonly finishedAt: string;
}

export interface EraseResult {
  readonly erasureId: string | null;
  readonly dryRun: boolean;
  /** The run continued an erasure a killed or failed run had started. */
  readonly resumed: boolean;
  readonly plan: ErasurePlan | null;
  /** What stops the erasure before anything is written (a table dropped, a constraint the plan breaks). */
  readonly problems: readonly string[];
  readonly ambiguous: FindResult['ambiguous'];
  readonly notFound: boolean;
  readonly certificates: readonly ErasureCertificate[];
  /** With `abandon`: what the abandoned run had done, per source and stage. */
  readonly abandoned?: readonly AbandonedStep[];
}

const MANIFEST_SOURCE = '(subjects)';
const TABLE = 'erasure';
const SECRET = 'subject-erasure';
const STAGES = ['text', 'rows'] as const;
type Stage = (typeof STAGES)[number];

interface StoredRow {
  readonly s: string; // schema
  readonly t: string; // table
  readonly k: readonly unknown[]; // key values, in primary-key order
  readonly a: PlannedRow['action'];
  readonly c?: Readonly<Record<string, string>> | string; // anonymise columns, or unlink/redact column
}



/**
 * Erases (or plans to erase) one person's data. A run that writes holds the state
 * store's subject lease (lease.ts): one erasure or correction at a time.
 */
export async function eraseSubject(o: EraseOptions): Promise<EraseResult> {
  if (o.abandon) return withSubjectLease(o.store, 'Abandoning the erasure', () => abandonErasure(o));
  if (o.dryRun) return eraseNow(o);
  return withSubjectLease(o.store, 'The erasure', () => eraseNow(o));
}

async function abandonErasure(o: EraseOptions): Promise<EraseResult> {
  const hash = await requestHash(o.store, SECRET, o.identifiers);
  const manifest = await o.store.jobs.open({ source: MANIFEST_SOURCE, table: TABLE, target: `subject:${hash}` }, 'subject-erase');
  if (!manifest) throw new UsageError('There is no unfinished erasure for these identifiers: nothing to abandon', { hint: 'An erasure is found by the identifiers it was started with: give the same ones (steward subject erase --dry-run shows what an erasure would do now)' });
  const erasureId = String(manifest.options.erasureId);
  const names = [...new Set([...o.config.sources.map((s) => s.name), ...o.sources.keys()])].sort();
  const steps = STAGES.flatMap((stage) => names.map((source) => ({ id: `${manifest.id}:${stage}:${source}`, source, stage })));
  const abandoned = await abandonManifest(o.store, manifest, steps, { actor: o.actor, action: 'subject.erase.abandoned', subject: { erasureId }, what: `The erasure ${erasureId.slice(0, 8)}` });
  return { erasureId, dryRun: false, resumed: true, plan: null, problems: [], ambiguous: null, notFound: false, certificates: [], abandoned: abandoned.filter((x) => x.status !== 'not started') };
}

async function eraseNow(o: EraseOptions): Promise<EraseResult> {
  const now = o.now ?? new Date();
  const hash = await requestHash(o.store, SECRET, o.identifiers);
  const key = await requestKey(o.store, SECRET, o.identifiers);
  const target = { source: MANIFEST_SOURCE, table: TABLE, target: `subject:${hash}` };
  const manifest = await o.store.jobs.open(target, 'subject-erase');
  const info = (t: QualifiedTable): TableInfo | undefined => o.schemas.get(t.source)?.tables.find((x) => x.schema === t.schema && x.name === t.name);

  if (manifest) {
    const plan = planFromManifest(manifest, o.map, info, key);
    if (!plan) return { erasureId: String(manifest.options.erasureId), dryRun: o.dryRun, resumed: true, plan: null, problems: [tampered(`erasure ${String(manifest.options.erasureId).slice(0, 8)}`)], ambiguous: null, notFound: false, certificates: [] };
    const problems = liveProblems(plan, info, o.sources);
    if (o.dryRun || problems.length > 0) return { erasureId: String(manifest.options.erasureId), dryRun: o.dryRun, resumed: true, plan, problems, ambiguous: null, notFound: false, certificates: [] };
    return apply(o, manifest, plan, true, now);
  }

  // The map stands on an audit's inventory: a column it names that the live table no longer has stops the erasure here.
  const stale = staleColumns(o.map, info, o.sources);
  if (stale.length > 0) return { erasureId: null, dryRun: o.dryRun, resumed: false, plan: null, problems: stale, ambiguous: null, notFound: false, certificates: [] };

  const found = await findSubject({ map: o.map, schemas: o.schemas, sources: o.sources as Map<string, Source>, identifiers: o.identifiers, ...(o.keyring ? { keyring: o.keyring } : {}), ...(o.defaultCountry ? { defaultCountry: o.defaultCountry } : {}) });
  if (found.ambiguous) return { erasureId: null, dryRun: o.dryRun, resumed: false, plan: null, problems: [], ambiguous: found.ambiguous, notFound: false, certificates: [] };
  if (found.rows.length === 0 && found.mentions.length === 0 && found.references.length === 0) return { erasureId: null, dryRun: o.dryRun, resumed: false, plan: null, problems: [], ambiguous: null, notFound: true, certificates: [] };

  const plan = planErasure(await gatherFacts(o, found, info, now));
  const problems = [...liveProblems(plan, info, o.sources), ...(await preflight(o, plan, info, found))];
  if (o.dryRun || problems.length > 0) return { erasureId: null, dryRun: o.dryRun, resumed: false, plan, problems, ambiguous: null, notFound: false, certificates: [] };

  const erasureId = randomUUID();
  const at = now.toISOString();
  const rows: StoredRow[] = plan.rows.map((r) => ({ s: r.schema, t: r.name, k: info(r)!.primaryKey.map((k) => jsonSafe(r.key[k])), a: r.action, ...(r.columns ? { c: r.columns } : r.column ? { c: r.column } : {}), src: r.source }) as StoredRow & { src: string });
  const id = `erase-${erasureId}`;
  const record: Job = {
    id,
    ...target,
    operation: 'subject-erase',
    status: 'running',
    pass: 1,
    lastKey: null,
    counts: {},
    // The plan sealed: no key in plain (an email primary key), and an edited plan does not open.
    options: { erasureId, subjectHash: hash, sealed: seal(key, `${id}\0${erasureId}`, { rows, deleteOrder: plan.deleteOrder }), given: [...new Set(o.identifiers.map((i) => i.kind))] },
    owner: null,
    startedAt: at,
    updatedAt: at,
    finishedAt: null,
  };
  await o.store.jobs.create(record);
  await o.store.appendActivity({ actor: o.actor, action: 'subject.erase.planned', subject: { erasureId }, details: { tables: plan.tables.map((t) => ({ source: t.source, table: `${t.schema}.${t.name}`, action: t.action, rows: t.rows })) } });
  return apply(o, record, plan, false, now);
}

// ---- facts

async function gatherFacts(o: EraseOptions, found: FindResult, info: (t: QualifiedTable) => TableInfo | undefined, now: Date) {
  const held = new Map<string, string[]>();
  const others = new Map<string, number>();
  const pinned = new Map<string, number>();
  const legalMinimum = new Map<string, { policy: string; until: string | null; cleanup?: Readonly<Record<string, string>> }>();
  const exempt = new Map<string, string>();
  const retentionDates = new Map<string, string[]>();
  const inSet = new Set(found.rows.map((r) => rowId(r, r.key)));
  const byTable = new Map<string, FindResult['rows'][number][]>();
  for (const r of found.rows) byTable.set(tableKey(r), [...(byTable.get(tableKey(r)) ?? []), r]);
  const mentionTables = new Map<string, FindResult['mentions'][number][]>();
  for (const m of found.mentions) mentionTables.set(tableKey(m), [...(mentionTables.get(tableKey(m)) ?? []), m]);

  const query = async <R>(t: QualifiedTable, what: string, q: (db: Kysely<any>) => Promise<R>): Promise<R> => {
    const src = o.sources.get(t.source)!;
    try {
      return await q(src.db);
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw toSourceError(e, { source: t.source, kind: src.kind, action: what, table: { schema: t.schema, name: t.name }, command: 'subject' });
    }
  };

  // Exempt tables (steward.yml subjects.exempt).
  for (const x of o.config.subjects.exempt ?? []) {
    for (const s of o.schemas.values()) {
      if (x.source && x.source !== s.source) continue;
      for (const t of tablesNamed(s.tables, x.table)) exempt.set(tableKey({ source: s.source, schema: t.schema, name: t.name }), x.reason);
    }
  }

  // Legal holds: which of the subject's rows (and mentioned rows) each hold keeps.
  const keyed = new Map<string, { t: QualifiedTable; keys: Readonly<Record<string, unknown>>[] }>();
  for (const [k, rs] of byTable) keyed.set(k, { t: rs[0]!, keys: rs.map((r) => r.key) });
  for (const [k, ms] of mentionTables) keyed.set(k, { t: ms[0]!, keys: [...(keyed.get(k)?.keys ?? []), ...ms.map((m) => m.key)] });
  for (const { t, keys } of keyed.values()) {
    const ti = info(t);
    if (!ti || ti.primaryKey.length === 0) continue;
    const holds = await activeHolds(o.store, t.source, { schema: t.schema, name: t.name }, now);
    for (const h of holds) {
      for (const part of chunk(keys, 500)) {
        const rs = await query(t, 'check legal holds on', async (db) => (await sql<Record<string, unknown>>`select ${sql.join(ti.primaryKey.map((c) => sql.id(c)))} from ${tableRef(ti)} where ${holdCondition(h, o.sources.get(t.source)!.kind)} and ${keyListIn(ti, part.map((k) => ti.primaryKey.map((c) => k[c])))}`.execute(db)).rows);
        for (const r of rs) {
          const id = rowId(t, Object.fromEntries(ti.primaryKey.map((c) => [c, r[c]])));
          held.set(id, [...(held.get(id) ?? []), h.id]);
        }
      }
    }
  }

  // Rows of other people (and of excluded tables) that point at the subject's rows.
  const excluded = new Set(o.map.tables.filter((t) => t.role === 'excluded').map(tableKey));
  for (const l of o.map.links.filter((x) => x.used && !x.reference)) {
    const parents = byTable.get(tableKey(l.parent));
    const ci = info(l.child);
    const pi = info(l.parent);
    if (!parents || !ci || !pi || !o.sources.has(l.child.source)) continue;
    const values = parents.map((p) => ({ id: rowId(p, p.key), tuple: l.parent.columns.map((c) => p.row[c]) })).filter((x) => x.tuple.every((v) => v !== null && v !== undefined));
    if (values.length === 0) continue;
    const cols = l.child.columns.map((c) => sql.id(c));
    const pk = ci.primaryKey.length > 0 ? ci.primaryKey : l.child.columns;
    for (const part of chunk(values, 500)) {
      const where = cols.length === 1 ? sql`${cols[0]!} in (${sql.join(part.map((v) => sql`${v.tuple[0]}`))})` : sql`(${sql.join(part.map((v) => sql`(${sql.join(cols.map((c, i) => sql`${c} = ${v.tuple[i]}`), sql` and `)})`), sql` or `)})`;
      const rs = await query(l.child, 'count the rows that point at the subject in', async (db) => (await sql<Record<string, unknown>>`select ${sql.join([...new Set([...pk, ...l.child.columns])].map((c) => sql.id(c)))} from ${tableRef(ci)} where ${where}`.execute(db)).rows);
      for (const r of rs) {
        const childId = rowId(l.child, Object.fromEntries(ci.primaryKey.map((c) => [c, r[c]])));
        if (ci.primaryKey.length > 0 && inSet.has(childId)) continue;
        const tuple = JSON.stringify(l.child.columns.map((c) => String(r[c])));
        const parent = part.find((v) => JSON.stringify(v.tuple.map(String)) === tuple);
        if (!parent) continue;
        const into = excluded.has(tableKey(l.child)) ? pinned : others;
        into.set(parent.id, (into.get(parent.id) ?? 0) + 1);
      }
    }
  }
  // A subject row that points at another person's row (an address of another customer the subject's order used).
  const personTables = new Set(o.map.tables.filter((t) => t.role === 'identity' || t.role === 'identified').map(tableKey));
  for (const l of o.map.links.filter((x) => x.used && !x.reference && personTables.has(tableKey(x.parent)))) {
    for (const r of byTable.get(tableKey(l.child)) ?? []) {
      if (!(r.via.every((v) => v.startsWith('ref:')))) continue; // reached from the subject downwards: the parent is the subject's
      const tuple = l.child.columns.map((c) => r.row[c]);
      if (tuple.some((v) => v === null || v === undefined)) continue;
      const parentMine = (byTable.get(tableKey(l.parent)) ?? []).some((p) => JSON.stringify(l.parent.columns.map((c) => String(p.row[c]))) === JSON.stringify(tuple.map(String)));
      if (!parentMine) others.set(rowId(r, r.key), (others.get(rowId(r, r.key)) ?? 0) + 1);
    }
  }

  // Retention policies with a legal minimum on the subject's tables.
  for (const pc of o.config.retention.policies) {
    const p = tablePolicy(pc);
    const schema = p ? o.schemas.get(p.source) : undefined;
    if (!p || !schema) continue;
    for (const t of tablesNamed(schema.tables, p.table)) {
      const k = tableKey({ source: p.source, schema: t.schema, name: t.name });
      retentionDates.set(k, [...(retentionDates.get(k) ?? []), p.from]);
    }
    if (!p.legalMinimum) continue;
    const cutoff = cutoffFor(p.legalMinimum, now);
    for (const t of tablesNamed(schema.tables, p.table)) {
      for (const r of byTable.get(tableKey({ source: p.source, schema: t.schema, name: t.name })) ?? []) {
        const v = r.row[p.from];
        const d = v instanceof Date ? v : typeof v === 'string' || typeof v === 'number' ? new Date(v) : null;
        const valid = d !== null && !Number.isNaN(d.getTime());
        if (valid && d.getTime() <= cutoff.getTime()) continue; // the minimum is reached: erasable
        const until = valid ? new Date(d.getTime() + (now.getTime() - cutoff.getTime())).toISOString() : null;
        legalMinimum.set(rowId(r, r.key), { policy: p.name, until, ...(p.cleanup ? { cleanup: p.cleanup } : {}) });
      }
    }
  }
  return { map: o.map, found, tableInfo: info, held, others, pinned, legalMinimum, exempt, retentionDates };
}


// ---- checks before anything is written

/** A table dropped or a column renamed since the plan (or the audit it stands on) stops the erasure. */
function liveProblems(plan: ErasurePlan, info: (t: QualifiedTable) => TableInfo | undefined, sources: ReadonlyMap<string, Source>): string[] {
  const out = new Set<string>();
  for (const r of plan.rows) {
    const where = `${r.source}:${r.schema}.${r.name}`;
    if (!sources.has(r.source)) {
      out.add(`source ${r.source} is not open (left out with --source?): its part of the erasure cannot run`);
      continue;
    }
    const ti = info(r);
    if (!ti) {
      out.add(`table ${where} is gone from the database (dropped or renamed since the plan)`);
      continue;
    }
    if (ti.primaryKey.length === 0) out.add(`table ${where} has no primary key: its rows cannot be erased one by one`);
    for (const k of Object.keys(r.key)) if (!ti.primaryKey.includes(k)) out.add(`table ${where}: its primary key changed since the plan (no ${k})`);
    const cols = [...Object.keys(r.columns ?? {}), ...(r.column ? r.column.split(', ') : [])];
    for (const c of cols) if (!ti.columns.some((x) => x.name === c)) out.add(`column ${where}.${c} is gone (dropped or renamed since the audit that found personal data in it): run \`steward audit\` so the inventory knows the table as it is`);
  }
  return [...out];
}

/** Columns of the subject map (identifiers, personal data, free text) that the live tables no longer have. */
function staleColumns(map: SubjectMap, info: (t: QualifiedTable) => TableInfo | undefined, sources: ReadonlyMap<string, Source>): string[] {
  const out: string[] = [];
  for (const t of map.tables) {
    if (t.role === 'excluded' || t.role === 'unrelated' || !sources.has(t.source)) continue;
    const ti = info(t);
    if (!ti) continue;
    for (const c of new Set([...t.identifiers.map((i) => i.column), ...t.personalColumns, ...t.freeText])) {
      if (!ti.columns.some((x) => x.name === c)) out.push(`column ${t.source}:${t.schema}.${t.name}.${c} is gone (dropped or renamed since the audit that found personal data in it): run \`steward audit\` so the inventory knows the table as it is, then plan the erasure again`);
    }
  }
  return out;
}

/** Tries every write of the plan, per source, in one transaction rolled back: a constraint the plan would break is named before anything is written. */
async function preflight(o: EraseOptions, plan: ErasurePlan, info: (t: QualifiedTable) => TableInfo | undefined, found: FindResult): Promise<string[]> {
  const problems: string[] = [];
  const needles = needlesOf(o.identifiers, found.identifiers);
  class Rollback extends Error {}
  for (const source of new Set(plan.rows.map((r) => r.source))) {
    const src = o.sources.get(source);
    if (!src) continue;
    const steps = batchesOf(plan, source, info, o.batchSize ?? 200, 'preflight', undefined, o.map);
    let current = '';
    try {
      await src.db.transaction().execute(async (trx) => {
        for (const b of steps) {
          current = `${b.action} in ${source}:${b.table.schema}.${b.table.name}`;
          await writeBatch(trx, b, needles, 'preflight');
        }
        throw new Rollback();
      });
    } catch (e) {
      if (e instanceof Rollback) continue;
      const err = toSourceError(e, { source, kind: src.kind, action: 'try the erasure on', command: 'subject' });
      problems.push(`${current} would fail: ${err.message}`);
    }
  }
  return problems;
}

// ---- batches

interface Batch {
  readonly table: TableInfo;
  readonly source: string;
  readonly action: 'redact' | 'unlink' | 'anonymise' | 'delete';
  readonly keys: readonly (readonly unknown[])[];
  readonly columns?: Readonly<Record<string, string>>;
  readonly column?: string;
  /** The erasure's id, for placeholder values. */
  readonly seed: string;
  readonly kinds: ReadonlyMap<string, IdentifierKind>;
}

/** The batches of one source (or of one stage of it), in the order they run. */
function batchesOf(plan: ErasurePlan, source: string, info: (t: QualifiedTable) => TableInfo | undefined, size: number, seed: string, stage?: Stage, map?: SubjectMap): Batch[] {
  const out: Batch[] = [];
  const rows = plan.rows.filter((r) => r.source === source);
  const group = (action: Batch['action'], tables: readonly string[]) => {
    for (const tk of tables) {
      const rs = rows.filter((r) => r.action === action && tableKey(r) === tk);
      if (rs.length === 0) continue;
      const ti = info(rs[0]!)!;
      // Rows with the same columns go together.
      const by = new Map<string, PlannedRow[]>();
      for (const r of rs) {
        const k = JSON.stringify(r.columns ?? r.column ?? null);
        by.set(k, [...(by.get(k) ?? []), r]);
      }
      const mt = map?.tables.find((t) => tableKey(t) === tk);
      const kinds = new Map((mt?.identifiers ?? []).map((i) => [i.column, i.kind] as const));
      for (const g of by.values()) {
        for (const part of chunk(g, size)) {
          out.push({ table: ti, source, action, keys: part.map((r) => ti.primaryKey.map((k) => r.key[k])), ...(g[0]!.columns ? { columns: g[0]!.columns } : {}), ...(g[0]!.column ? { column: g[0]!.column } : {}), seed, kinds });
        }
      }
    }
  };
  const tablesWith = (a: PlannedRow['action']) => [...new Set(rows.filter((r) => r.action === a).map(tableKey))].sort();
  if (!stage || stage === 'text') {
    group('redact', tablesWith('redact'));
    group('unlink', tablesWith('unlink'));
  }
  if (!stage || stage === 'rows') {
    group('anonymise', tablesWith('anonymise'));
    group('delete', plan.deleteOrder.filter((k) => JSON.parse(k)[0] === source));
  }
  return out;
}

/** The spellings of every identifier of the subject, for redaction. */
function needlesOf(given: readonly Identifier[], found: readonly Identifier[]): string[] {
  return [...given, ...found].filter((i) => i.kind !== 'key').flatMap((i) => (i.kind === 'phone' ? phoneSpellings(i.value) : [i.value]));
}

/** One batch's writes, idempotent. Returns rows changed. */
async function writeBatch(trx: Kysely<any>, b: Batch, needles: readonly string[], seed: string): Promise<number> {
  const t = tableRef(b.table);
  const pk = b.table.primaryKey;
  const where = keyListIn(b.table, b.keys);
  const keyWhere = (r: Record<string, unknown>) => keyEquals(pk, r);
  switch (b.action) {
    case 'delete': {
      const r = await sql`delete from ${t} where ${where}`.execute(trx);
      return Number(r.numAffectedRows ?? 0);
    }
    case 'unlink': {
      const cols = b.column!.split(', ');
      const r = await sql`update ${t} set ${sql.join(cols.map((c) => sql`${sql.id(c)} = null`))} where ${where}`.execute(trx);
      return Number(r.numAffectedRows ?? 0);
    }
    case 'redact': {
      const col = b.column!;
      const rs = (await sql<Record<string, unknown>>`select ${sql.join(pk.map((k) => sql.id(k)))}, ${sql.id(col)} as ${sql.id('__text')} from ${t} where ${where}`.execute(trx)).rows;
      let n = 0;
      for (const r of rs) {
        if (typeof r.__text !== 'string') continue;
        let next = redactText(r.__text, needles);
        if (next === r.__text) continue;
        // Longer than the column allows (an identifier shorter than the marker): each span masked in its own length.
        const max = b.table.columns.find((x) => x.name === col)?.maxLength ?? null;
        if (max !== null && next.length > max) next = redactText(r.__text, needles, (span) => '*'.repeat(span.length));
        await sql`update ${t} set ${sql.id(col)} = ${next} where ${keyWhere(r)}`.execute(trx);
        n++;
      }
      return n;
    }
    case 'anonymise': {
      const cols = Object.keys(b.columns!);
      const rs = (await sql<Record<string, unknown>>`select ${sql.join([...new Set([...pk, ...cols])].map((c) => sql.id(c)))} from ${t} where ${where}`.execute(trx)).rows;
      // Unique: a value of its own for every column of a key (one in a composite UNIQUE too, and an email primary key).
      const unique = new Set([...pk, ...(b.table.uniqueKeys ?? []).flat()]);
      let n = 0;
      for (const r of rs) {
        const keyText = JSON.stringify(pk.map((k) => jsonSafe(r[k])));
        const sets = cols.map((c) => {
          const ci = b.table.columns.find((x) => x.name === c)!;
          const v = anonymisedValue(r[c], b.columns![c]!, ci, { kind: b.kinds.get(c), unique: unique.has(c), seed: `${seed}\0${b.table.schema}.${b.table.name}\0${keyText}\0${c}` });
          return sql`${sql.id(c)} = ${v}`;
        });
        await sql`update ${t} set ${sql.join(sets)} where ${keyWhere(r)}`.execute(trx);
        n++;
      }
      return n;
    }
  }
}

// ---- apply

/** The plan a run sealed in the manifest, or null when it does not open (altered in the state store, or damaged). */
function planFromManifest(job: Job, map: SubjectMap, info: (t: QualifiedTable) => TableInfo | undefined, key: Buffer): ErasurePlan | null {
  const opened = unseal(key, `${job.id}\0${String(job.options.erasureId)}`, job.options.sealed) as { rows?: unknown; deleteOrder?: unknown } | undefined;
  if (!opened || !Array.isArray(opened.rows) || !Array.isArray(opened.deleteOrder)) return null;
  const stored = opened.rows as (StoredRow & { src: string })[];
  const rows: PlannedRow[] = stored.map((r) => {
    const ti = info({ source: r.src, schema: r.s, name: r.t });
    const pk = ti?.primaryKey ?? r.k.map((_, i) => `#${i}`);
    const values = ti ? reviveKey(ti, r.k) : r.k;
    const key = Object.fromEntries(pk.map((k, i) => [k, values[i]]));
    return { source: r.src, schema: r.s, name: r.t, key, action: r.a, reason: 'planned', ...(typeof r.c === 'string' ? { column: r.c } : r.c ? { columns: r.c } : {}) };
  });
  void map;
  const plan: ErasurePlan = { rows, tables: [], deleteOrder: opened.deleteOrder as string[] };
  return { ...plan, tables: summariseStored(rows) };
}

function summariseStored(rows: readonly PlannedRow[]): ErasurePlan['tables'] {
  const m = new Map<string, { t: PlannedRow; n: number }>();
  for (const r of rows) {
    const k = `${r.action}\0${tableKey(r)}`;
    m.set(k, { t: r, n: (m.get(k)?.n ?? 0) + 1 });
  }
  return [...m.values()].map(({ t, n }) => ({ source: t.source, schema: t.schema, name: t.name, action: t.action, rows: n, reasons: ['planned by the run that started this erasure'], ...(t.columns ? { columns: t.columns } : {}) }));
}

async function apply(o: EraseOptions, manifest: Job, plan: ErasurePlan, resumed: boolean, now: Date): Promise<EraseResult> {
  const erasureId = String(manifest.options.erasureId);
  const info = (t: QualifiedTable): TableInfo | undefined => o.schemas.get(t.source)?.tables.find((x) => x.schema === t.schema && x.name === t.name);
  const sources = [...new Set(plan.rows.map((r) => r.source))].sort();
  const size = o.batchSize ?? 200;
  // The subject's identifiers for redaction: those given, and those the subject's rows hold (read by key: no row has gone yet while text runs).
  let needles: string[] | null = null;
  const readNeedles = async () => {
    if (needles) return needles;
    const found: Identifier[] = [];
    for (const source of sources) {
      const src = o.sources.get(source)!;
      for (const [tk, rs] of groupBy(plan.rows.filter((r) => r.source === source && r.action !== 'redact' && r.action !== 'unlink'), (r) => tableKey(r))) {
        const mt = o.map.tables.find((t) => tableKey(t) === tk);
        const ti = info(rs[0]!);
        if (!mt || !ti || mt.identifiers.length === 0) continue;
        for (const part of chunk(rs, 500)) {
          const got = (await sql<Record<string, unknown>>`select ${sql.join(mt.identifiers.map((i) => sql.id(i.column)))} from ${tableRef(ti)} where ${keyListIn(ti, part.map((r) => ti.primaryKey.map((k) => r.key[k])))}`.execute(src.db)).rows;
          for (const g of got) for (const i of mt.identifiers) {
            const v = normaliseStored(i.kind, g[i.column], o.defaultCountry as never);
            if (v) found.push({ kind: i.kind, value: v });
          }
        }
      }
    }
    needles = needlesOf(o.identifiers, found);
    return needles;
  };

  const certificates: ErasureCertificate[] = [];
  const digestKey = await certificateKey(o.store);
  for (const stage of STAGES) {
    for (const source of sources) {
      const src = o.sources.get(source)!;
      const batches = batchesOf(plan, source, info, size, erasureId, stage, o.map);
      const jobId = `${manifest.id}:${stage}:${source}`;
      const existing = await o.store.jobs.get(jobId);
      if (existing?.status === 'done') {
        if (stage === 'rows') certificates.push(certificateOf(erasureId, source, plan, info, existing.finishedAt ?? now.toISOString(), digestKey));
        continue;
      }
      if (stage === 'text' && batches.length > 0) await readNeedles();
      let done = Number(existing?.lastKey?.[0] ?? 0);
      const counts: Record<string, number> = { ...(existing?.counts ?? {}) };
      const cert = await runJob<ErasureCertificate | null>(
        {
          source: src,
          store: o.store,
          actor: o.actor,
          existing: existing ?? null,
          create: () => ({ id: jobId, source, table: TABLE, target: `${stage}:${erasureId}`, operation: 'subject-erase', pass: 1, lastKey: [0], counts: {}, options: { erasureId, stage } }),
          action: `subject.erase.${stage}`,
          ...(stage === 'rows' ? { finishedAction: 'subject.erasure-certificate' } : {}),
          subject: { erasureId, source },
          startedDetails: () => ({ batches: batches.length }),
          // Killed between its finished entry and being marked done: the entry stands, it is not written twice.
          alreadyDone: async (job) => {
            const action = stage === 'rows' ? 'subject.erasure-certificate' : 'subject.erase.text.finished';
            for await (const entries of o.store.activityBatches({ action })) {
              const e = entries.find((x) => (x.subject as { jobId?: string }).jobId === job.id);
              if (e) return { result: stage === 'rows' ? (e.details as unknown as ErasureCertificate) : null, counts: job.counts, finishedAt: e.at };
            }
            return undefined;
          },
          counts: () => counts,
          what: `the erasure ${erasureId.slice(0, 8)} (${stage} in ${source})`,
          progressText: () => `${done} of ${batches.length} batch(es) done`,
          progress: () => ({ done, total: batches.length }),
          ...(o.onProgress ? { onProgress: (p: JobProgress) => o.onProgress!({ ...p, stage, source }) } : {}),
          signal: o.signal,
          errorContext: () => ({ action: 'erase the subject in', command: 'subject' }),
          crashAt: o.crashAt,
        },
        async (run) => {
          await run.batches<number, Batch, Batch, number>({
            from: done,
            select: async (i) => {
              const at = i ?? 0;
              const b = batches[at];
              return b ? { batch: b, next: at + 1, last: at + 1 >= batches.length } : null;
            },
            write: (trx, b) => writeBatch(trx, b, needles ?? [], erasureId),
            checkpoint: 'after',
            committed: (b, n) => {
              done++;
              counts[b.action] = (counts[b.action] ?? 0) + (n ?? 0);
            },
            record: () => ({ lastKey: [done], counts }),
          });
          if (stage === 'text') return { result: null, counts, entry: { erasureId, source, redacted: counts.redact ?? 0, unlinked: counts.unlink ?? 0 } };
          // A deleted row back (the application wrote it again): named, not certified; the next run deletes again from the first batch.
          await verifyGone(src, plan, source, info).catch(async (e: unknown) => {
            done = 0;
            await run.checkpoint({ lastKey: [0], counts });
            throw e;
          });
          const c = certificateOf(erasureId, source, plan, info, new Date().toISOString(), digestKey);
          return { result: c, counts, entry: { ...c } };
        },
      );
      if (cert) certificates.push(cert);
    }
  }
  // Done: the manifest keeps counts only; the keys it held are gone.
  const totals: Record<string, number> = {};
  for (const r of plan.rows) totals[r.action] = (totals[r.action] ?? 0) + 1;
  await o.store.jobs.setOptions(manifest.id, { erasureId, subjectHash: manifest.options.subjectHash, totals });
  await o.store.jobs.finish(manifest.id, 'done', totals, new Date().toISOString());
  await o.store.appendActivity({ actor: o.actor, action: 'subject.erase.finished', subject: { erasureId }, details: { sources, ...totals } });
  return { erasureId, dryRun: false, resumed, plan, problems: [], ambiguous: null, notFound: false, certificates };
}

/** After the deletes: none of the planned rows is left. */
async function verifyGone(src: Source, plan: ErasurePlan, source: string, info: (t: QualifiedTable) => TableInfo | undefined): Promise<void> {
  for (const [, rs] of groupBy(plan.rows.filter((r) => r.source === source && r.action === 'delete'), (r) => tableKey(r))) {
    const ti = info(rs[0]!)!;
    for (const part of chunk(rs, 500)) {
      const n = Number((await sql<{ n: unknown }>`select count(*) as ${sql.id('n')} from ${tableRef(ti)} where ${keyListIn(ti, part.map((r) => ti.primaryKey.map((k) => r.key[k])))}`.execute(src.db)).rows[0]?.n ?? 0);
      if (n > 0) throw new UsageError(`${n} row(s) of ${source}:${ti.schema}.${ti.name} that the erasure deleted are back (written again by the application while it ran?)`, { hint: 'Stop what writes them and run the same `steward subject erase` again: it finishes the erasure' });
    }
  }
}

function certificateOf(erasureId: string, source: string, plan: ErasurePlan, info: (t: QualifiedTable) => TableInfo | undefined, finishedAt: string, digestKey: Buffer): ErasureCertificate {
  const tables: CertificateTable[] = [];
  for (const [, rs] of groupBy(plan.rows.filter((r) => r.source === source), (r) => `${r.action}\0${tableKey(r)}`)) {
    const r0 = rs[0]!;
    const ti = info(r0);
    const keys = rs.map((r) => Object.fromEntries((ti?.primaryKey ?? Object.keys(r.key)).map((k) => [k, jsonSafe(r.key[k])])));
    tables.push({ source, schema: r0.schema, name: r0.name, action: r0.action, rows: rs.length, ...(r0.columns ? { columns: r0.columns } : {}), keysHmacSha256: keysDigest(keys, digestKey) });
  }
  return { erasureId, source, tables, finishedAt };
}

