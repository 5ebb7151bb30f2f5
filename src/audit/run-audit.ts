/**
 * Runs the data collection review over the configured sources: connect,
 * introspect, sample each table (bounded), classify each column, derive
 * findings, compare with the previous run in the state store, record the run.
 */
import { shellCommand } from '../shell.js';
import { randomUUID } from 'node:crypto';
import type { PurposeConfig, SourceConfig, StewardConfig } from '../config/schema.js';
import { compileUserPattern, type UserPatterns } from '../config/index.js';
import { createClassifier, type Classifier, type ColumnRule } from '../detection/classify.js';
import { createCustomDetector } from '../detection/custom.js';
import { categoryInfo } from '../detection/taxonomy.js';
import { isStewardError, UsageError } from '../errors.js';
import type { Source, SourceConnection, TableInfo } from '../sources/types.js';
import { describeDriverError } from '../sources/errors.js';
import { VERSION } from '../version.js';
import {
  noTablesFinding,
  reviewInventory,
  sourceUnreachableFinding,
  stageOverdueFinding,
  tableUnreadableFinding,
  binaryNotSampledFinding,
  coveringPurpose,
  type BinaryColumn,
  findingId,
  type DraftFinding,
  type ResolvedPurpose,
} from './collection-review.js';
import { compareWithPrevious, type PreviousAudit } from './compare.js';
import type { AuditReport, AuditStage, InventoryItem, Severity, SourceReport } from './types.js';
import { checkTable, integrityFindings, type TableIntegrity } from './integrity.js';
import { SEVERITIES, type FindingRule, type SourceAccess } from './types.js';
import { sourceTransitFindings } from '../transit/session.js';
import type { SessionTransport } from '../transit/types.js';
import { reviewAccess, type AccessConfig } from './access.js';
import { accessProblems, integrityProblems, nameFindings, referenceProblem, schemaProblems, type NameProblem } from './config-names.js';
import { BUILTIN_CATEGORIES } from '../detection/taxonomy.js';
import { REQUEST_FINDINGS_SOURCE, requestFindings, type RequestDeadlineFacts } from '../subjects/requests.js';

/**
 * Retention status of a source (collection stage): rows past their policy's
 * period that are still there, and rows with no reference date (never due, so
 * never deleted: a person must decide). Legal holds are not applied here: held
 * rows are past their period too, and the plan says how many are held.
 */
async function retentionReview(source: Source, sourceName: string, options: AuditOptions, inventory: readonly InventoryItem[], tables?: readonly TableInfo[]): Promise<DraftFinding[]> {
  const declared = options.config.sources.map((s) => s.name);
  const { policiesForSource, policySources } = await import('../retention/categories.js');
  if (!options.config.retention.policies.some((p) => policySources(p, declared).includes(sourceName))) return [];
  const { planPolicy } = await import('../retention/apply.js');
  // Category policies find their tables in the inventory this very run produced.
  const mine = policiesForSource(options.config.retention.policies, sourceName, declared, tables ?? (await source.introspect()), inventory, source.kind);
  const out: DraftFinding[] = [];
  const invalid = (name: string, table: string | undefined, why: string) => {
    const location = { source: sourceName, ...(table ? { table } : {}) };
    out.push({ id: findingId('retention.policy-invalid', location, name), rule: 'retention.policy-invalid', severity: 'medium', location, title: 'Retention policy cannot run', message: `Policy "${name}" cannot run: ${why}.`, remedy: 'Fix the policy in steward.yml; `steward retention plan` lists every problem.' });
  };
  // One finding per policy (its id is per policy and table), naming every problem it has.
  const byPolicy = new Map<string, string[]>();
  for (const problem of mine.problems) byPolicy.set(problem.policy, [...(byPolicy.get(problem.policy) ?? []), `${problem.path}: ${problem.message}`]);
  for (const [name, whys] of byPolicy) invalid(name, mine.policies.find((m) => m.policy.name === name)?.policy.table, whys.join('; '));
  for (const { policy, index } of mine.policies) {
    if (mine.problems.some((p) => p.policy === policy.name)) continue;
    let plan;
    try {
      plan = await planPolicy({ source, policy, index, actor: 'audit', ...(tables ? { tables } : {}), ...(options.now ? { now: options.now } : {}) });
    } catch (e) {
      if (!isStewardError(e)) throw e;
      invalid(policy.name, policy.table, e.message);
      continue;
    }
    const location = { source: sourceName, schema: plan.target.schema, table: plan.target.name };
    if (plan.due > 0) {
      const ageDays = plan.oldest ? Math.floor((Date.parse(plan.cutoff) - Date.parse(plan.oldest)) / 86_400_000) : 0;
      out.push({
        id: findingId('retention.overdue-data', location, policy.name),
        rule: 'retention.overdue-data',
        severity: ageDays > 30 ? 'high' : 'medium',
        location,
        title: 'Data kept past its retention period',
        message: `Policy "${policy.name}" (${policy.method} after ${policy.period}, ${policy.legalBasis}): ${plan.due} row(s) of ${plan.table} are past their period${plan.oldest ? `, the oldest since ${plan.oldest.slice(0, 10)}` : ''}${plan.held ? `; ${plan.held} of them on legal hold` : ''}.`,
        remedy: `Run \`${shellCommand('steward', 'retention', 'apply', '--policy', policy.name, '--dry-run')}\`, then without --dry-run (storage limitation, GDPR Art. 5(1)(e)).`,
      });
    }
    if (plan.nullReference > 0) {
      out.push({
        id: findingId('retention.no-reference-date', location, policy.name),
        rule: 'retention.no-reference-date',
        severity: 'low',
        location: { ...location, column: policy.from },
        title: 'Rows no retention period can start for',
        message: `Policy "${policy.name}": ${plan.nullReference} row(s) of ${plan.table} have no ${policy.from}, so they are never due; Steward does not delete them silently.`,
        remedy: `Fill ${policy.from} for these rows (or decide on them by hand), so that the policy can apply to them.`,
      });
    }
  }
  return out;
}

/** Transit findings of a source (src/transit), as audit findings located at the source. */
function transitDrafts(cfg: SourceConfig, session: SessionTransport | undefined): DraftFinding[] {
  return sourceTransitFindings(cfg.name, cfg.kind, cfg.url, session, process.env).map((f) => {
    const rule = f.rule as FindingRule;
    const location = { source: cfg.name };
    return { id: findingId(rule, location), rule, severity: f.severity, location, title: f.title, message: f.message, remedy: f.remedy };
  });
}

function accessConfig(cfg: SourceConfig): AccessConfig {
  return { authorized: cfg.access?.authorized ?? [], rowLevelSecurity: cfg.access?.rowLevelSecurity ?? [] };
}

export type AuditProgress =
  | { readonly type: 'source-start'; readonly source: string }
  | { readonly type: 'tables'; readonly source: string; readonly total: number }
  | { readonly type: 'table-done'; readonly source: string; readonly table: string; readonly done: number; readonly total: number }
  | { readonly type: 'source-done'; readonly source: string; readonly status: 'ok' | 'error' };

/** What the state store offers the audit; implemented by src/state. */
export interface AuditHistory {
  previousAudit(stage: AuditStage, coveredSources: readonly string[]): Promise<PreviousAudit | null>;
  recordAudit(report: AuditReport): Promise<void>;
}

export interface AuditOptions {
  readonly config: StewardConfig;
  /** Only these sources (names); default all. */
  readonly sources?: readonly string[];
  /** Rows sampled per table; default `audit.sampleRows`. */
  readonly sampleRows?: number;
  /** Opens a source; defaults to `openSource` from src/sources (tests inject PGlite). */
  readonly openSource: (conn: SourceConnection) => Promise<Source>;
  readonly history?: AuditHistory;
  readonly onProgress?: (event: AuditProgress) => void;
  readonly now?: () => Date;
  /** Overdue stages of the audited sources when the run started (from the schedule), reported as findings. */
  readonly overdue?: readonly { readonly source: string; readonly stage: string; readonly frequency: string; readonly nextDue: Date; readonly overdueByMs: number }[];
  /** `collection` (default): the data collection review. `access`: who can read personal data. `integrity`: validity, duplicates, staleness and orphans, in SQL. */
  readonly stage?: AuditStage;
  /** Compiled user patterns: detection.columnRules[i] and detection.detectors[i].pattern / columnNames. */
  readonly patterns?: UserPatterns;
  /** The config file's name as findings about its settings should call it (default `steward.yml`). */
  readonly configFile?: string;
  /**
   * The open data-subject request cases (from the state store), reported as
   * `subjects.request-overdue` / `subjects.request-due-soon` findings; absent:
   * requests are not looked at (no state store).
   */
  readonly requests?: readonly RequestDeadlineFacts[];
}


/** Compiles user patterns on the linear-time engine when the caller did not (library use without loadConfig). */
function compilePatterns(config: StewardConfig): UserPatterns {
  return {
    columnRules: config.detection.columnRules.map((r, i) => compileUserPattern(r.pattern, `detection.columnRules[${i}].pattern`)),
    detectors: config.detection.detectors.map((d, i) => ({
      pattern: compileUserPattern(d.pattern, `detection.detectors[${i}].pattern`),
      columnNames: d.columnNames.map((c, j) => compileUserPattern(c, `detection.detectors[${i}].columnNames[${j}]`)),
    })),
  };
}

export function buildClassifier(config: StewardConfig, given?: UserPatterns): Classifier {
  const patterns = given ?? compilePatterns(config);
  const rules: ColumnRule[] = config.detection.columnRules.map((r, i) => ({
    pattern: patterns.columnRules[i]!,
    category: r.category,
  }));
  const detectors = config.detection.detectors.map((d, i) =>
    createCustomDetector({
      id: d.id,
      category: d.category,
      pattern: patterns.detectors[i]!.pattern,
      scanFreeText: d.scanFreeText,
    }),
  );
  const detectorColumnNames = new Map(
    config.detection.detectors.map((d, i) => [d.id, patterns.detectors[i]!.columnNames] as const),
  );
  return createClassifier({ columnRules: rules, detectors, detectorColumnNames });
}

export function resolvePurposes(source: SourceConfig, shared: readonly PurposeConfig[]): ResolvedPurpose[] {
  return source.purposes.map((p) => {
    if (typeof p !== 'string') return { name: p.name, categories: p.categories };
    const found = shared.find((s) => s.name === p);
    return { name: p, categories: found?.categories ?? [] };
  });
}

/** `schema.table`, `table`, `table.column`, `schema.table.column`, with `*` wildcards. */
export function compileExcludes(patterns: readonly string[]): (schema: string, table: string, column?: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`, 'i'));
  return (schema, table, column) => {
    const names = column === undefined ? [`${schema}.${table}`, table] : [`${schema}.${table}.${column}`, `${table}.${column}`];
    return res.some((re) => names.some((n) => re.test(n)));
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

interface SourceResult {
  readonly report: SourceReport;
  readonly findings: DraftFinding[];
}

async function auditSource(
  cfg: SourceConfig,
  options: AuditOptions,
  classifier: Classifier,
): Promise<SourceResult> {
  const started = Date.now();
  const purposes = resolvePurposes(cfg, options.config.purposes);
  const base = {
    name: cfg.name,
    kind: cfg.kind,
    owner: cfg.owner,
    purposes: purposes.map((p) => ({ name: p.name, categories: [...p.categories] })),
  };
  options.onProgress?.({ type: 'source-start', source: cfg.name });
  let source: Source;
  try {
    source = await options.openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs });
  } catch (e) {
    if (!isStewardError(e)) throw e;
    options.onProgress?.({ type: 'source-done', source: cfg.name, status: 'error' });
    return {
      report: { ...base, status: 'error', error: { code: e.code, message: e.toUserString() }, tables: 0, columns: 0, inventory: [], durationMs: Date.now() - started },
      findings: [sourceUnreachableFinding(cfg.name, e.code, e.message)],
    };
  }
  try {
    const excluded = compileExcludes(cfg.exclude);
    const all = await source.introspect(cfg.schemas ? { schemas: cfg.schemas } : {});
    const tables = all.filter((t) => !excluded(t.schema, t.name));
    const sourceIndex = options.config.sources.indexOf(cfg);
    // Names in steward.yml that match nothing would make their checks do nothing, silently.
    const named: NameProblem[] = [];
    if (cfg.schemas?.some((s) => !all.some((t) => t.schema.toLowerCase() === s.toLowerCase()))) {
      // Only now: the schemas that do hold tables, for the message.
      const existing = await source.introspect().then((ts) => [...new Set(ts.map((t) => t.schema))], () => undefined);
      named.push(...schemaProblems(sourceIndex, cfg.name, cfg.schemas, all, existing));
    }
    options.onProgress?.({ type: 'tables', source: cfg.name, total: tables.length });
    const sampleRows = options.sampleRows ?? cfg.sampleRows ?? options.config.audit.sampleRows;
    const findings: DraftFinding[] = [];
    let done = 0;
    const perTable = await mapPool(tables, options.config.audit.concurrency, async (table) => {
      const r = await auditTable(source, cfg.name, table, sampleRows, classifier, purposes, (col) => excluded(table.schema, table.name, col));
      options.onProgress?.({ type: 'table-done', source: cfg.name, table: table.name, done: ++done, total: tables.length });
      return r;
    });
    const inventory = perTable.flatMap((r) => r.inventory);
    for (const r of perTable) if (r.finding) findings.push(r.finding);
    const stage = options.stage ?? 'collection';
    let access: SourceAccess | undefined;
    let integrity: TableIntegrity[] | undefined;
    if (stage === 'collection') {
      findings.push(...reviewInventory(cfg.name, purposes, inventory));
      tables.forEach((t, i) => {
        if (perTable[i]!.binary.length) findings.push(binaryNotSampledFinding(cfg.name, t.schema, t.name, perTable[i]!.binary));
      });
      // The tables just introspected serve the policies too, unless the audit saw only some schemas.
      findings.push(...(await retentionReview(source, cfg.name, options, inventory, cfg.schemas ? undefined : all)));
    }
    else if (stage === 'access') {
      const snapshot = await source.readAccess(cfg.schemas ? { schemas: cfg.schemas } : {});
      const review = reviewAccess(cfg.name, snapshot, inventory, accessConfig(cfg), tables, options.now?.() ?? new Date());
      const categories = [...BUILTIN_CATEGORIES, ...options.config.detection.detectors.map((x) => x.category), ...options.config.detection.columnRules.flatMap((r) => (r.category ? [r.category] : []))];
      named.push(...accessProblems(sourceIndex, cfg.name, cfg.kind, accessConfig(cfg), snapshot, all, categories));
      // Who can read the data includes who can read it on the wire: the connection string and the live session.
      const session = await source.readTransport().catch(() => undefined);
      findings.push(...review.findings, ...transitDrafts(cfg, session));
      access = session?.applicable
        ? { ...review.access, session: { encrypted: session.encrypted, protocol: session.protocol, cipher: session.cipher, serverRequiresTls: session.serverRequiresTls } }
        : review.access;
    } else {
      const checked = await integrityOf(source, cfg, all, (t) => !excluded(t.schema, t.name), inventory, options);
      findings.push(...checked.findings);
      named.push(...checked.named);
      integrity = checked.results;
    }
    findings.push(...nameFindings(cfg.name, named, options.configFile));
    if (tables.length === 0) findings.push(noTablesFinding(cfg.name));
    options.onProgress?.({ type: 'source-done', source: cfg.name, status: 'ok' });
    return {
      report: {
        ...base,
        status: 'ok',
        tables: tables.length,
        columns: tables.reduce((n, t) => n + t.columns.length, 0),
        inventory,
        durationMs: Date.now() - started,
        ...(access ? { access } : {}),
        ...(integrity ? { integrity } : {}),
      },
      findings,
    };
  } catch (e) {
    if (!isStewardError(e)) throw e;
    options.onProgress?.({ type: 'source-done', source: cfg.name, status: 'error' });
    return {
      report: { ...base, status: 'error', error: { code: e.code, message: e.toUserString() }, tables: 0, columns: 0, inventory: [], durationMs: Date.now() - started },
      findings: [sourceUnreachableFinding(cfg.name, e.code, e.message)],
    };
  } finally {
    await source.close();
  }
}

async function auditTable(
  source: Source,
  sourceName: string,
  table: TableInfo,
  sampleRows: number,
  classifier: Classifier,
  purposes: readonly ResolvedPurpose[],
  columnExcluded: (column: string) => boolean,
): Promise<{ inventory: InventoryItem[]; finding?: DraftFinding; binary: BinaryColumn[] }> {
  const columns = table.columns.filter((c) => c.typeClass !== 'binary' && !columnExcluded(c.name));
  const siblings = table.columns.map((c) => c.name);
  // Binary values are not read (files, images, serialized data): the review says which columns it left out,
  // and what their names suggest. Key columns (a binary(16) UUID) identify rows; they are not content.
  const isKey = (c: string) => table.primaryKey.includes(c) || table.foreignKeys.some((fk) => fk.columns.includes(c));
  const binary = table.columns
    .filter((c) => c.typeClass === 'binary' && !columnExcluded(c.name) && !isKey(c.name))
    .map((c) => ({ column: c.name, dataType: c.dataType, suggests: classifier.classifyColumn({ table: table.name, column: c.name, typeClass: c.typeClass, dataType: c.dataType, values: [], siblings }).category }));
  if (columns.length === 0) return { inventory: [], binary };
  let rows: readonly Record<string, unknown>[] = [];
  let finding: DraftFinding | undefined;
  try {
    rows = await source.sample(table, { limit: sampleRows, columns: columns.map((c) => c.name) });
  } catch (e) {
    if (!isStewardError(e)) throw e;
    finding = tableUnreadableFinding(sourceName, table.schema, table.name, e.code, e.message);
  }
  const inventory: InventoryItem[] = [];
  for (const column of columns) {
    const values = rows.map((r) => r[column.name]);
    const c = classifier.classifyColumn({ table: table.name, column: column.name, typeClass: column.typeClass, dataType: column.dataType, values, siblings });
    if (c.category === null) continue;
    inventory.push({
      source: sourceName,
      schema: table.schema,
      table: table.name,
      column: column.name,
      dataType: column.dataType,
      category: c.category,
      risk: categoryInfo(c.category).risk,
      confidence: c.confidence,
      rowEstimate: table.rowEstimate,
      evidence: c.evidence,
      examples: c.examples,
      freeText: c.freeText,
      purpose: coveringPurpose(purposes, c.category),
      ...(c.evidence.signals.some((s) => s.kind === 'steward-ciphertext') ? { encrypted: true } : {}),
    });
  }
  return finding ? { inventory, finding, binary } : { inventory, binary };
}

/** Runs the collection review and, when a history is given, diffs against and records into it. */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const wanted = options.sources;
  const selected = wanted?.length ? options.config.sources.filter((s) => wanted.includes(s.name)) : options.config.sources;
  const unknown = (wanted ?? []).filter((n) => !options.config.sources.some((s) => s.name === n));
  if (unknown.length) {
    throw new UsageError(`unknown source ${unknown.map((u) => `"${u}"`).join(', ')}`, {
      hint: `Sources in steward.yml: ${options.config.sources.map((s) => s.name).join(', ')}`,
    });
  }
  const classifier = buildClassifier(options.config, options.patterns);
  // Sources are audited one after another: each gets the configured table concurrency.
  const results: SourceResult[] = [];
  for (const cfg of selected) results.push(await auditSource(cfg, options, classifier));

  const overdue = (options.overdue ?? [])
    .filter((o) => selected.some((s) => s.name === o.source))
    .map((o) => stageOverdueFinding(o.source, o.stage, o.frequency, o.nextDue, o.overdueByMs));
  const requests = options.requests ? requestFindings(options.requests, now(), options.config.subjects.requests.dueSoonDays) : [];
  const drafts = [...results.flatMap((r) => r.findings), ...overdue, ...requests].sort(compareFindings);
  const inventory = results.flatMap((r) => r.report.inventory);
  const covered = selected.map((s) => s.name);
  const previous = options.history ? await options.history.previousAudit(options.stage ?? 'collection', covered) : null;
  const completed = results.filter((r) => r.report.status === 'ok').map((r) => r.report.name);
  // Request findings are compared too (a case answered since is "fixed") when the cases were looked at.
  const reviewed = options.requests ? [REQUEST_FINDINGS_SOURCE] : [];
  const { findings, diff } = compareWithPrevious(drafts, inventory, [...covered, ...reviewed], previous, [...completed, ...reviewed]);

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) bySeverity[f.severity]++;
  const categories: Record<string, number> = {};
  for (const i of inventory) categories[i.category] = (categories[i.category] ?? 0) + 1;

  const report: AuditReport = {
    schemaVersion: 1,
    tool: { name: 'steward', version: VERSION },
    run: { id: randomUUID(), stage: options.stage ?? 'collection', startedAt, finishedAt: now().toISOString() },
    sources: results.map((r) => r.report),
    findings,
    summary: {
      sources: results.length,
      tables: results.reduce((n, r) => n + r.report.tables, 0),
      columns: results.reduce((n, r) => n + r.report.columns, 0),
      personalColumns: inventory.length,
      findingsBySeverity: bySeverity,
      categories,
    },
    diff,
  };
  if (options.history) await options.history.recordAudit(report);
  return report;
}

/**
 * The integrity stage for one open source: checks the tables that hold personal
 * data (from this run's classification) or that steward.yml names. A table that
 * cannot be checked (dropped since the schedule ran, no privilege) becomes a
 * finding; the other tables are still checked.
 */
async function integrityOf(
  source: Source,
  cfg: SourceConfig,
  all: readonly TableInfo[],
  audited: (t: TableInfo) => boolean,
  inventory: readonly InventoryItem[],
  options: AuditOptions,
): Promise<{ findings: DraftFinding[]; results: TableIntegrity[]; named: NameProblem[] }> {
  const ic = {
    required: cfg.integrity?.required ?? [],
    staleAfter: cfg.integrity?.staleAfter,
    updatedColumns: cfg.integrity?.updatedColumns ?? {},
    references: cfg.integrity?.references ?? {},
  };
  const tables = all.filter(audited);
  const problems = integrityProblems(options.config.sources.indexOf(cfg), cfg.name, ic, all, audited);
  const named = new Set([...ic.required.map((r) => r.split('.')[0]!), ...Object.keys(ic.updatedColumns), ...Object.keys(ic.references).map((r) => r.split('.')[0]!)]);
  const now = options.now?.() ?? new Date();
  const findings: DraftFinding[] = [];
  const results: TableIntegrity[] = [];
  const relevant = tables.filter((t) => t.kind === 'table' && (named.has(t.name) || inventory.some((i) => i.table === t.name && i.schema === t.schema)));
  await mapPool(relevant, options.config.audit.concurrency, async (t) => {
    try {
      // A reference to a table or column that does not exist would fail the whole table's check: it is left out (and reported).
      const references = Object.fromEntries(Object.entries(ic.references).filter(([from, to]) => !from.startsWith(`${t.name}.`) || referenceProblem(t, to, all) === null));
      results.push(await checkTable(source, t, inventory.filter((i) => i.table === t.name && i.schema === t.schema), { ...ic, references }, now));
    } catch (e) {
      // A driver's message can quote a row value (a view's RAISE): only Steward's own words and the names it knows.
      const reason = isStewardError(e) ? e.message.split('\n')[0]! : describeDriverError(e, source.kind, { names: [t.schema, t.name, ...t.columns.map((c) => c.name)] }).reason;
      findings.push(tableUnreadableFinding(cfg.name, t.schema, t.name, isStewardError(e) ? e.code : 'SOURCE_QUERY', `The integrity check of ${t.schema}.${t.name} failed: ${reason}`, 'Its integrity figures are missing from this run.'));
    }
  });
  results.sort((a, b) => a.table.localeCompare(b.table));
  return { findings: [...findings, ...integrityFindings(cfg.name, results, ic.staleAfter)], results, named: problems };
}

function compareFindings(a: DraftFinding, b: DraftFinding): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id.localeCompare(b.id);
}
