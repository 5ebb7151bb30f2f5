/**
 * Retention, enforced: `steward retention plan` (counts, no writes) and
 * `steward retention apply` (batched erase / cleanup; archive through
 * src/archive/set.ts).
 *
 * How a run stays safe:
 * - Batches in primary-key order, one short transaction each with a bounded
 *   lock wait, a checkpoint in the state store after each.
 * - Inside the transaction the batch's rows are locked and re-checked (still
 *   due, still not held); only those are touched, children first along the
 *   listed foreign keys. A row the application changed (new activity) or an
 *   operator held since it was read is kept.
 * - Before each batch commits, its keys are written to the job as "pending";
 *   after a kill, the re-run asks the database whether those rows are gone
 *   (committed) or still there (rolled back), so the deletion certificate's
 *   count and key hash are exact across any number of crashes.
 * - Cleanup methods are idempotent: already-clean rows are skipped, never
 *   processed twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql, type AliasedRawBuilder, type Kysely, type RawBuilder } from 'kysely';
import { ConfigError, InternalError, SourceError, UsageError, isStewardError } from '../errors.js';
import { recordEmptyRun, runJob, type CheckpointState, type CrashHook, type JobRun } from '../jobs/engine.js';
import { keyColumns, keyOfRow, selectAfter } from '../jobs/keyset.js';
import { keyTuple, tableRef, valueTuple, type ErasedBatch } from '../sources/column-writer.js';
import type { ColumnInfo, Source, TableInfo } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import { policyTarget, type JobTarget } from '../state/jobs.js';
import type { ArchiveSetWriter } from '../archive/set.js';
import { changes, cleanValue } from './cleanup.js';
import { predicateErrorReason } from './hold-rules.js';
import { toSourceError } from '../sources/errors.js';
import { allOf, checkPredicate, predicateSql } from '../sources/predicate.js';
import { childrenOf, cutoffFor, findTable, policyWhereLabel, validatePolicies, type RetentionPolicy } from './policy.js';

/** Rows an operator has put on legal hold, as SQL: `exclude` is ANDed into every retention query. */
export interface HoldFilter {
  /** `not (…)` over the active holds of the table, or null when none. */
  readonly exclude: RawBuilder<unknown> | null;
  /** A hold covers the whole table: nothing may be touched. */
  readonly wholeTable: boolean;
}

export interface RetentionContext {
  readonly source: Source;
  readonly store: StateStore;
  readonly policy: RetentionPolicy;
  /** Index of the policy in steward.yml, for messages. */
  readonly index: number;
  readonly holds?: (table: TableInfo) => Promise<HoldFilter>;
  /** The per-column secret keyed hashes use (cleanup method `hash`). */
  readonly hashKey?: (column: string) => Promise<import('node:crypto').KeyObject>;
  /** Why no `hashKey` could be given (the master key does not open): the plan says so. */
  readonly hashKeyProblem?: string;
  readonly now?: () => Date;
  readonly batchSize?: number;
  readonly lockTimeoutMs?: number;
  readonly actor: string;
  /** Called after each batch; a returned promise is awaited before the next batch. */
  readonly onProgress?: (p: { done: number; total: number; rowsPerSecond: number }) => void | Promise<void>;
  /** Aborted (Ctrl-C): the run stops after the batch in flight, logs `retention.interrupted`, and the same command resumes it. */
  readonly signal?: AbortSignal;
  /** The source's tables, when the caller has just introspected them (saves a second catalog read). */
  readonly tables?: readonly TableInfo[];
  /** Where archive sets go (one directory per run under it) and who can read them. */
  readonly archive?: { readonly dir: string; readonly recipients: readonly string[] };
  /** Test hook: called at each named point of each batch (src/jobs/engine.ts); a crash test throws there. @internal */
  readonly crashAt?: CrashHook;
}

export interface RetentionPlan {
  readonly policy: string;
  readonly source: string;
  /** `schema.table`, for display (a name may hold dots: use {@link RetentionPlan.target} to address it). */
  readonly table: string;
  /** The physical table, unambiguous. */
  readonly target: { readonly schema: string; readonly name: string };
  readonly method: RetentionPolicy['method'];
  readonly period: string;
  readonly legalBasis: string;
  readonly cutoff: string;
  /** Rows past their period (held ones included). */
  readonly due: number;
  readonly held: number;
  /** Rows whose reference date is empty: never due, never deleted silently (a finding). */
  readonly nullReference: number;
  readonly oldest: string | null;
  /** Child rows that go with the due rows (erase with cascade). */
  readonly children: readonly { readonly table: string; readonly rows: number }[];
  readonly estimatedSeconds: number;
  readonly resumes: string | null;
  /** The category policy this table comes from, when it does. */
  readonly origin?: { readonly policy: string; readonly category: string };
  /** What will stop `apply` although the policy is valid (a keyed hash without a key). */
  readonly warnings: readonly string[];
}

export interface RetentionCertificate {
  readonly runId: string;
  readonly policy: string;
  readonly source: string;
  readonly table: string;
  readonly method: RetentionPolicy['method'];
  readonly legalBasis: string;
  readonly period: string;
  readonly cutoff: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly rows: number;
  readonly childRows: number;
  readonly held: number;
  readonly batches: number;
  /** SHA-256 chain over the keys of every row ended, batch by batch in key order. */
  readonly keysSha256: string;
  /** The run's archive set, and (archive with cascade) one set per child table beside it. */
  readonly archive: {
    readonly dir: string;
    readonly digest: string;
    readonly chunks: number;
    readonly children?: readonly { readonly table: string; readonly dir: string; readonly digest: string; readonly chunks: number }[];
  } | null;
  /** Due rows left (held rows, or rows the application changed during the run). */
  readonly remaining: number;
  /** The category policy this table comes from, when it does. */
  readonly origin?: { readonly policy: string; readonly category: string };
  /**
   * Batches cut by a crash whose commit the database could no longer tell (a job left for
   * a very long time). If one had committed, its rows are gone and not in `rows`; if it had
   * not, this run deleted them again and they are in `rows`. Which of the two, the database
   * cannot say any more; the batch's count and key digest are here so a person can.
   */
  readonly unsettled?: readonly UnsettledBatch[];
}

const textOf = (v: unknown): string => (v instanceof Date ? v.toISOString() : Buffer.isBuffer(v) ? v.toString('hex') : String(v));
const keyText = (parts: readonly unknown[]) => JSON.stringify(parts.map(textOf));
const EMPTY = '0'.repeat(64);

interface Resolved {
  table: TableInfo;
  from: ColumnInfo;
  tables: readonly TableInfo[];
  cutoff: Date;
  due: RawBuilder<unknown>;
  dueIgnoringHolds: RawBuilder<unknown>;
  holds: HoldFilter;
  /** The tables going with the policy's rows (erase/archive `cascade`), deepest first; empty for cleanup. */
  cascade: ReturnType<typeof cascadeOrder>;
}

async function resolve(ctx: RetentionContext, now: Date, fixedCutoff?: Date): Promise<Resolved> {
  const { source, policy } = ctx;
  const tables = ctx.tables ?? (await source.introspect());
  const problems = validatePolicies([policy], () => ctx.index, tables, source.kind);
  if (problems.length) {
    throw new UsageError(`retention policy "${policy.name}" cannot run: ${problems[0]!.path}: ${problems[0]!.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      hint: 'Fix steward.yml; `steward retention plan` lists every problem. Nothing was changed',
    });
  }
  const table = findTable(tables, policy.table)!;
  const from = table.columns.find((c) => c.name === policy.from)!;
  const cutoff = fixedCutoff ?? cutoffFor(policy.period, now);
  // The where: runs once with limit 0 (parsed and planned, no row read): an unknown column is named here.
  const filterProbe = policyFilter(ctx);
  if (filterProbe.length) {
    try {
      await sql`select 1 from ${tableRef(table)} where ${filterProbe[0]!} limit 0`.execute(source.db);
    } catch (e) {
      throw new ConfigError('CONFIG_INVALID', `retention.policies[${ctx.index}].where does not run on ${keyOf(table)}: ${predicateErrorReason(e, source.kind, { predicate: policy.where!, names: table.columns.map((c) => c.name) })}`, {
        hint: `Write it over the columns of ${keyOf(table)} (${table.columns.map((c) => c.name).join(', ')}) as what would follow WHERE in this database; nothing was changed`,
      });
    }
  }
  const holds = ctx.holds ? await ctx.holds(table) : { exclude: null, wholeTable: false };
  // Every condition parenthesised on its own (allOf): a policy's where: is one checked expression
  // (src/sources/predicate.ts) and cannot change the precedence of the due or hold conditions.
  const filter = policyFilter(ctx);
  const dueIgnoringHolds = allOf([source.integrity.notAfter(sql.id(from.name), from, cutoff), ...filter]);
  const due = holds.wholeTable ? sql`(1 = 0)` : holds.exclude ? allOf([dueIgnoringHolds, holds.exclude]) : dueIgnoringHolds;
  const cascade = policy.method === 'cleanup' ? [] : cascadeOrder(tables, table, policy.cascade);
  return { table, from, tables, cutoff, due, dueIgnoringHolds, holds, cascade };
}

/** The policy's `where:` as a condition list (empty without one), checked for the source's dialect. */
function policyFilter(ctx: Pick<RetentionContext, 'policy' | 'index' | 'source'>): RawBuilder<unknown>[] {
  const w = ctx.policy.where;
  return w === undefined ? [] : [predicateSql(checkPredicate(w, ctx.source.kind, policyWhereLabel(ctx.index)))];
}

async function count(db: Kysely<any>, t: TableInfo, where: RawBuilder<unknown>): Promise<number> {
  return Number((await sql<{ n: unknown }>`select count(*) as ${sql.id('n')} from ${tableRef(t)} where ${where}`.execute(db)).rows[0]?.n ?? 0);
}

type ForeignKey = import('../sources/types.js').ForeignKey;
const keyOf = (t: TableInfo) => `${t.schema}.${t.name}`;

/**
 * Child tables to delete with the parent, deepest first (the order to delete them
 * in), each with every foreign key that leads to a table going with it: a child may
 * reference the root twice (sender and recipient) or two tables of the cascade.
 * Depth is the longest path from the root, so every table comes before all its parents.
 */
function cascadeOrder(tables: readonly TableInfo[], root: TableInfo, listed: readonly string[]): { table: TableInfo; edges: { fk: ForeignKey; parent: TableInfo }[] }[] {
  const members = new Map<string, TableInfo>([[keyOf(root), root]]);
  const queue = [root];
  while (queue.length) {
    for (const { table } of childrenOf(tables, queue.shift()!)) {
      const k = keyOf(table);
      if (members.has(k) || !listed.some((c) => c === table.name || c === k)) continue;
      members.set(k, table);
      queue.push(table);
    }
  }
  const edgesOf = new Map<string, { fk: ForeignKey; parent: TableInfo }[]>();
  for (const [k, t] of members) {
    if (t === root) continue;
    edgesOf.set(k, t.foreignKeys.flatMap((fk) => {
      const parent = members.get(`${fk.referencedSchema}.${fk.referencedTable}`);
      return parent && parent !== t ? [{ fk, parent }] : [];
    }));
  }
  // Longest-path depth (a cycle among cascade tables stops growing after |members| rounds; its back edges are dropped).
  const depth = new Map<string, number>([...members.keys()].map((k) => [k, k === keyOf(root) ? 0 : 1]));
  for (let round = 0; round <= members.size; round++) {
    let changed = false;
    for (const [k, edges] of edgesOf) {
      for (const e of edges) {
        const d = depth.get(keyOf(e.parent))! + 1;
        if (d > depth.get(k)! && d <= members.size) {
          depth.set(k, d);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return [...edgesOf]
    .map(([k, edges]) => ({ table: members.get(k)!, depth: depth.get(k)!, edges: edges.filter((e) => depth.get(keyOf(e.parent))! < depth.get(k)!) }))
    .sort((a, b) => b.depth - a.depth || (keyOf(a.table) < keyOf(b.table) ? -1 : 1))
    .map(({ table, edges }) => ({ table, edges }));
}

/** Per cascade table, the condition selecting its rows under the root rows `rootWhere`: any of its foreign keys leading to a row that goes. */
function cascadeWheres(order: ReturnType<typeof cascadeOrder>, root: TableInfo, rootWhere: RawBuilder<unknown>): Map<string, RawBuilder<unknown>> {
  const where = new Map<string, RawBuilder<unknown>>([[keyOf(root), rootWhere]]);
  for (const step of [...order].reverse()) {
    const parts = step.edges.map((e) => underParent(e.fk, e.parent, where.get(keyOf(e.parent))!));
    // Only a cycle leaves a table without a path from the root, and validation refuses cycles.
    if (parts.length === 0) throw new UsageError(`${keyOf(step.table)} is in a cycle of foreign keys with ${keyOf(root)}'s cascade`, { hint: 'Run `steward retention plan`: it names the cycle' });
    where.set(keyOf(step.table), parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`);
  }
  return where;
}

/** How many times the root's key list appears in the largest cascade statement (one per path from the root). */
function cascadePaths(order: ReturnType<typeof cascadeOrder>, root: TableInfo): number {
  const uses = new Map<string, number>([[keyOf(root), 1]]);
  let most = 0;
  for (const step of [...order].reverse()) {
    const n = step.edges.reduce((sum, e) => sum + (uses.get(keyOf(e.parent)) ?? 0), 0);
    uses.set(keyOf(step.table), n);
    most = Math.max(most, n);
  }
  return most;
}

/** `(child.fk…) in (select parent.ref… from parent where <parentWhere>)`, following one foreign key. */
function underParent(fk: ForeignKey, parent: TableInfo, parentWhere: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`${keyTuple(fk.columns)} in (select ${sql.join(fk.referencedColumns.map((c) => sql.id(c)))} from ${tableRef(parent)} where ${parentWhere})`;
}

/** The rows a cascade deletes under `rootWhere` rows, per child table (for plans). */
async function childCounts(db: Kysely<any>, order: ReturnType<typeof cascadeOrder>, root: TableInfo, rootWhere: RawBuilder<unknown>): Promise<{ table: string; rows: number }[]> {
  // Each child's condition is built from its parents': children of children go with them too.
  const where = cascadeWheres(order, root, rootWhere);
  const out: { table: string; rows: number }[] = [];
  for (const step of [...order].reverse()) out.push({ table: keyOf(step.table), rows: await count(db, step.table, where.get(keyOf(step.table))!) });
  return out;
}

/** `steward retention plan` for one policy: counts only, no writes. */
export async function planPolicy(ctx: Omit<RetentionContext, 'store'> & { readonly store?: StateStore }): Promise<RetentionPlan> {
  try {
    return await planPolicyUnguarded(ctx);
  } catch (e) {
    if (isStewardError(e)) throw e;
    // A driver error: whitelisted (never its text), with a hint that fits retention.
    throw toSourceError(e, { source: ctx.source.name, kind: ctx.source.kind, action: `plan retention policy "${ctx.policy.name}" on`, command: 'retention' });
  }
}

async function planPolicyUnguarded(ctx: Omit<RetentionContext, 'store'> & { readonly store?: StateStore }): Promise<RetentionPlan> {
  const now = (ctx.now ?? (() => new Date()))();
  const r = await resolve(ctx as RetentionContext, now);
  const db = ctx.source.db;
  const fromRef = sql.id(r.from.name);
  const agg = (
    await sql<Record<string, unknown>>`select count(*) as ${sql.id('due')}, min(${fromRef}) as ${sql.id('oldest')} from ${tableRef(r.table)} where ${r.dueIgnoringHolds}`.execute(db)
  ).rows[0]!;
  const due = Number(agg.due ?? 0);
  const notHeld = r.holds.wholeTable ? 0 : r.holds.exclude ? await count(db, r.table, r.due) : due;
  const nullReference = await count(db, r.table, allOf([sql`${fromRef} is null`, ...policyFilter(ctx)]));
  const children = await childCounts(db, r.cascade, r.table, r.due);
  const job = ctx.store ? await ctx.store.jobs.open(target(ctx as RetentionContext), 'retention') : null;
  const rows = notHeld + children.reduce((n, c) => n + c.rows, 0);
  return {
    policy: ctx.policy.name,
    source: ctx.source.name,
    table: keyOf(r.table),
    target: { schema: r.table.schema, name: r.table.name },
    method: ctx.policy.method,
    period: ctx.policy.period,
    legalBasis: ctx.policy.legalBasis,
    cutoff: r.cutoff.toISOString(),
    due,
    held: due - notHeld,
    nullReference,
    oldest: agg.oldest === null || agg.oldest === undefined ? null : textOf(agg.oldest),
    children,
    // Measured (BENCHMARKS.md): ~500,000 rows/s for erase without children on Postgres (one statement
    // per batch); ~20,000 rows/s with children or elsewhere; cleanup rewrites rows one by one.
    estimatedSeconds: Math.ceil(rows / (ctx.policy.method === 'cleanup' ? 5000 : ctx.policy.method === 'erase' && ctx.source.writer.eraseNext && children.length === 0 ? 500_000 : 20000)),
    resumes: job?.id ?? null,
    ...(ctx.policy.origin ? { origin: ctx.policy.origin } : {}),
    warnings: planWarnings(ctx),
  };
}

function planWarnings(ctx: Pick<RetentionContext, 'policy' | 'hashKey' | 'hashKeyProblem'>): string[] {
  const hashed = ctx.policy.method === 'cleanup' ? Object.entries(ctx.policy.cleanup ?? {}).filter(([, m]) => m === 'hash').map(([c]) => c) : [];
  if (hashed.length === 0 || ctx.hashKey) return [];
  return [`cleanup hashes ${hashed.join(', ')} with a key from the keyring, and ${ctx.hashKeyProblem ?? 'no key is available'}: apply will refuse this policy until the master key (encryption.masterKey) opens`];
}

/** The keyed-hash keys of a cleanup policy's `hash` columns; refuses (before any work) when they cannot be had. */
async function cleanupHashKeys(ctx: Pick<RetentionContext, 'policy' | 'hashKey'>): Promise<Map<string, import('node:crypto').KeyObject>> {
  const keys = new Map<string, import('node:crypto').KeyObject>();
  const hashed = Object.entries(ctx.policy.cleanup ?? {}).filter(([, m]) => m === 'hash').map(([c]) => c);
  if (ctx.policy.method !== 'cleanup' || hashed.length === 0) return keys;
  if (!ctx.hashKey) {
    throw new UsageError(`policy "${ctx.policy.name}" hashes ${hashed.join(', ')}, and no keyed-hash key was given to it`, {
      hint: 'Run it with `steward retention apply`, which takes the key from the keyring (encryption.masterKey in steward.yml), or pass hashKey when calling applyPolicy; nothing was changed',
    });
  }
  for (const c of hashed) keys.set(c, await ctx.hashKey(c));
  return keys;
}

/** The job of a policy's runs: its table as steward.yml names it, and `policy:<name>`. */
const target = (ctx: Pick<RetentionContext, 'source' | 'policy'>): JobTarget => ({ source: ctx.source.name, table: ctx.policy.table, target: policyTarget(ctx.policy.name) });

/** A batch whose fate the database could no longer tell (see `transactionCommitted`). */
export interface UnsettledBatch {
  readonly txid: string;
  /** Rows it deleted if it committed, and the digest of their keys. */
  readonly rows: number;
  readonly keysSha256: string;
}

interface Progress {
  rows: number;
  childRows: number;
  batches: number;
  keysSha256: string;
  unsettled: UnsettledBatch[];
}

/**
 * `steward retention apply` for one policy. Resumable: a job left by a killed
 * run is taken over (after checking what its last batch did), never run twice
 * at once. Returns the deletion certificate, also appended to the activity log.
 * The batches run on the engine (src/jobs/engine.ts); this function supplies their
 * steps and settles a killed run's last batch.
 */
export async function applyPolicy(ctx: RetentionContext): Promise<RetentionCertificate> {
  const now = ctx.now ?? (() => new Date());
  const runStart = now();
  const { source, store, policy } = ctx;
  if (policy.method === 'archive' && !ctx.archive?.recipients.length) {
    throw new UsageError(`policy "${policy.name}" archives, and no recipient public key is configured`, {
      hint: 'Add retention.archive.recipients (age1… public keys from `steward keys recipient new` or `age-keygen`, kept by whoever may read archives); nothing was changed',
    });
  }
  // Keys before anything else: a run that cannot hash must stop before it opens a job.
  const hashKeys = await cleanupHashKeys(ctx);
  const existing = await store.jobs.open(target(ctx), 'retention');
  // A resumed job keeps its cut-off: one run, one certificate, whatever the interruptions.
  const recorded = (existing?.options as { cutoff?: string } | undefined)?.cutoff;
  const r = await resolve(ctx, runStart, recorded ? new Date(recorded) : undefined);
  const cutoff = r.cutoff;
  const due = r.due;
  const pk = r.table.primaryKey;
  const w = source.writer;
  const where = { source: source.name, table: keyOf(r.table), policy: policy.name };

  // The progress bar's total, where one is drawn; otherwise only whether anything is due (cheaper).
  const countDue = async () => (ctx.onProgress ? await count(source.db, r.table, due) : (await sql`select 1 from ${tableRef(r.table)} where ${due} limit 1`.execute(source.db)).rows.length);
  let total = 0;
  if (!existing) {
    total = await countDue();
    if (total === 0) {
      // Nothing due and nothing to resume: no certificate, nothing logged; a finished empty job
      // records that the policy ran (for the schedule).
      const at = runStart.toISOString();
      const id = randomUUID();
      await recordEmptyRun(store, { id, ...target(ctx), operation: 'retention', pass: 1, lastKey: null, counts: { rows: 0 }, options: { cutoff: cutoff.toISOString(), empty: true } }, { rows: 0, childRows: 0, batches: 0 }, at);
      return { runId: '', policy: policy.name, source: source.name, table: keyOf(r.table), method: policy.method, legalBasis: policy.legalBasis, period: policy.period, cutoff: cutoff.toISOString(), startedAt: at, finishedAt: at, rows: 0, childRows: 0, held: 0, batches: 0, keysSha256: EMPTY, archive: null, remaining: await count(source.db, r.table, r.dueIgnoringHolds) };
    }
  }

  const state: Progress = { rows: 0, childRows: 0, batches: 0, keysSha256: EMPTY, unsettled: [] };
  /** The checkpoint: counts, key hash and intent (the batch in flight, or none) in one write. */
  const progressState = (run: JobRun, lastKey: readonly unknown[] | null, pending: Pending | null, options: Readonly<Record<string, unknown>> = run.job.options): CheckpointState => {
    const o: Record<string, unknown> = { ...options, keysSha256: state.keysSha256, ...(pending ? { pending } : {}), ...(state.unsettled.length ? { unsettled: state.unsettled } : {}) };
    if (!pending) delete o.pending;
    return { pass: 1, lastKey, counts: { rows: state.rows, childRows: state.childRows, batches: state.batches }, options: o };
  };
  /** A batch that committed: into the counts and the certificate's key chain. */
  const add = (rows: number, childRows: number, digest: string) => {
    state.rows += rows;
    state.childRows += childRows;
    state.batches++;
    state.keysSha256 = chain(state.keysSha256, digest);
  };

  return runJob<RetentionCertificate>(
    {
      source,
      store,
      actor: ctx.actor,
      existing,
      create: () => ({
        id: randomUUID(),
        ...target(ctx),
        operation: 'retention',
        pass: 1,
        lastKey: null,
        counts: { rows: 0, childRows: 0, batches: 0 },
        options: { cutoff: cutoff.toISOString(), keysSha256: EMPTY, startedAt: runStart.toISOString() },
      }),
      refuse: {
        busy: (j) => new UsageError(`policy "${policy.name}" is being applied by another Steward (pid ${j.owner?.pid} on ${j.owner?.host})`, { hint: 'Wait for it to finish' }),
        lost: () => new UsageError(`another Steward took over policy "${policy.name}" just now`),
      },
      action: 'retention',
      finishedAction: 'retention.certificate',
      subject: where,
      startedDetails: () => ({ method: policy.method, cutoff: cutoff.toISOString() }),
      // Killed after writing its certificate, before marking the job done: finish it, nothing more.
      // (Every certificate is read: this only runs when a job is resumed, and certificates are few.)
      alreadyDone: async (job) => {
        for await (const entries of store.activityBatches({ action: 'retention.certificate' })) {
          const done = entries.find((e) => (e.subject as { jobId?: string }).jobId === job.id);
          if (done) {
            const cert = done.details as unknown as RetentionCertificate;
            return { result: cert, counts: { rows: cert.rows, childRows: cert.childRows, batches: cert.batches }, finishedAt: cert.finishedAt };
          }
        }
        return undefined;
      },
      counts: () => ({ rows: state.rows, childRows: state.childRows, batches: state.batches }),
      what: `retention policy "${policy.name}"`,
      progressText: () => `${state.rows} row(s) in ${state.batches} batch(es) done`,
      progress: () => ({ done: state.rows, total: Math.max(total, state.rows) }),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      signal: ctx.signal,
      lockTimeoutMs: ctx.lockTimeoutMs,
      errorContext: () => ({ action: `apply retention policy "${policy.name}" to`, table: r.table, command: 'retention' }),
      crashAt: ctx.crashAt,
      now,
    },
    async (run) => {
      const job0 = run.job;
      state.rows = Number(job0.counts.rows ?? 0);
      state.childRows = Number(job0.counts.childRows ?? 0);
      state.batches = Number(job0.counts.batches ?? 0);
      state.keysSha256 = String(job0.options.keysSha256 ?? EMPTY);
      state.unsettled = [...((job0.options as { unsettled?: UnsettledBatch[] }).unsettled ?? [])];
      if (run.resumed) total = await countDue();

      // What did the batch in flight at the crash do? The rows are gone (committed) or all there (rolled back).
      const pending = (job0.options as { pending?: Pending }).pending;
      if (pending) {
        const committed = await settlePending(ctx, run, pending, r, hashKeys, state.unsettled);
        // Erase commits all of a batch or none of it; a rolled-back batch is simply done again.
        if (committed) add(pending.rows, pending.childRows, pending.digest);
        const options = committed && pending.nextBlock !== undefined ? { ...run.job.options, block: pending.nextBlock } : run.job.options;
        await run.checkpoint(progressState(run, committed && pending.next !== undefined ? pending.next : run.job.lastKey, null, options));
      }

      // Archive: the run's set (resumed after a crash: rows already in it are not written twice), and
      // (archive with children) one set per child table beside it, written in the same batch
      // transaction, before any row of the batch is deleted.
      const sets = policy.method === 'archive' ? await openArchiveSets(ctx, r, run.job.id) : null;
      const archiveSet = sets?.root ?? null;
      const { selectForArchive } = await import('../archive/values.js');
      const archiveSelect = archiveSet ? selectForArchive(source, r.table.columns) : null;

      const { batchSize, keyChunk } = batchLimits(source, r, ctx.batchSize);
      if (policy.method !== 'cleanup') await w.beforeDelete(source.db);
      let last = run.job.lastKey;
      // Erase without children on an integer key, where the database can later say whether a
      // transaction committed (Postgres): one statement per batch, keys never leave the server.
      const eligible = policy.method === 'erase' && w.eraseNext && w.transactionStatus && w.fastErase && r.cascade.length === 0 && pk.every((k) => r.table.columns.find((c) => c.name === k)?.typeClass === 'integer');
      // Null for a table that is not a plain heap (Postgres: partitioned or foreign): the general path.
      const support = eligible ? await w.fastErase!(source.db, r.table) : null;
      const p: PolicyRun = { ctx, r, run, batchSize, checkpointOf: (lastKey, pending, options) => progressState(run, lastKey, pending, options), add };
      let remainingKnown: number | null = null;
      if (support) ({ last, remaining: remainingKnown } = await eraseOnServer(p, support, last));
      // An archive run killed after its sets were finished (all batches done, the certificate not yet
      // written): nothing more may go into them; straight to the certificate.
      const setsFinished = archiveSet?.finished === true;
      if (!support && !setsFinished) last = await keyOrderPass(p, last, hashKeys, { archiveSet, childSets: sets?.children ?? new Map(), archiveSelect, keyChunk });
      await run.checkpoint(progressState(run, last, null));
      const remaining = policy.method === 'cleanup' ? 0 : remainingKnown ?? (await count(source.db, r.table, r.dueIgnoringHolds));
      const archived = archiveSet ? await archiveSet.finish() : null;
      const childArchives: { table: string; dir: string; digest: string; chunks: number }[] = [];
      for (const [table, set] of sets?.children ?? []) {
        const f = await set.finish();
        childArchives.push({ table, dir: set.dir, digest: f.digest, chunks: f.manifest.chunks.length });
      }
      const finishedAt = now().toISOString();
      const certificate: RetentionCertificate = {
        runId: run.job.id,
        policy: policy.name,
        source: source.name,
        table: keyOf(r.table),
        method: policy.method,
        legalBasis: policy.legalBasis,
        period: policy.period,
        cutoff: cutoff.toISOString(),
        startedAt: String(run.job.options.startedAt ?? run.job.startedAt),
        finishedAt,
        rows: state.rows,
        childRows: state.childRows,
        held: policy.method !== 'cleanup' ? remaining : 0,
        batches: state.batches,
        keysSha256: state.keysSha256,
        archive: archived && archiveSet ? { dir: archiveSet.dir, digest: archived.digest, chunks: archived.manifest.chunks.length, ...(childArchives.length ? { children: childArchives } : {}) } : null,
        remaining,
        ...(policy.origin ? { origin: policy.origin } : {}),
        ...(state.unsettled.length ? { unsettled: state.unsettled } : {}),
      };
      // The certificate is the run's finished entry: written before the job is marked done (by the
      // engine), so a kill in between leaves a running job whose certificate exists, which the next
      // run finds and finishes (never a second certificate, never a finished job without one).
      return { result: certificate, counts: { rows: state.rows, childRows: state.childRows, batches: state.batches }, entry: { ...certificate }, finishedAt };
    },
  );
}

/** What the phases of one policy run share. */
interface PolicyRun {
  readonly ctx: RetentionContext;
  readonly r: Resolved;
  readonly run: JobRun;
  readonly batchSize: number;
  /** The checkpoint: counts, key hash and intent (the batch in flight, or none) in one write. */
  checkpointOf(lastKey: readonly unknown[] | null, pending: Pending | null, options?: Readonly<Record<string, unknown>>): CheckpointState;
  /** A batch that committed: into the counts and the certificate's key chain. */
  add(rows: number, childRows: number, digest: string): void;
}

/**
 * Erase without children on an integer key where the database can later say whether a
 * transaction committed (Postgres): one statement per batch, keys never leave the server.
 * First the physical order by block range (Postgres 14+), then key order for rows the
 * application moved behind that pass. Returns the key cursor at the end, and the due rows
 * left (held ones included) when a count already said.
 */
async function eraseOnServer(p: PolicyRun, support: { readonly blocks: number | null; readonly rowsPerBlock: number }, from: readonly unknown[] | null): Promise<{ last: readonly unknown[] | null; remaining: number | null }> {
  const { r, batchSize } = p;
  const w = p.ctx.source.writer;
  const due = r.due;
  let last = from;
  let remainingKnown: number | null = null;
  let keysPhaseDone = false;
  const phase = (p.run.job.options as { phase?: string }).phase ?? 'blocks';
  const blocks = phase === 'blocks' && support.blocks !== null ? { blocks: support.blocks, rowsPerBlock: support.rowsPerBlock } : null;
  // The key cursor (`lastKey`) and the block cursor (`options.block`) are kept apart, so that
  // neither is ever read as the other (should a resumed job take another path).
  if (blocks) {
    // Physical order first (Postgres 14+): block ranges sized to about `batchSize` due rows,
    // starting as if every row were due and adapting to the density found.
    const first = Math.max(1, Math.floor(batchSize / blocks.rowsPerBlock));
    let span = first;
    await p.run.batches<number, BlockRange, BlockRange, Omit<ErasedBatch, 'seen' | 'last'>>({
      from: Number((p.run.job.options as { block?: number }).block ?? 0),
      checkpoint: 'intent',
      select: async (block) => {
        const from = block ?? 0;
        if (from >= blocks.blocks) return null;
        const to = Math.min(blocks.blocks, from + span);
        return { batch: { from, to }, next: to, last: to >= blocks.blocks };
      },
      write: (trx, b) => w.eraseBlocks!(trx, { table: r.table, due, from: b.from, to: b.to }),
      // The intent, with the batch done but not committed: its transaction id settles it after a crash.
      record: (b, e) => (e && e.rows > 0 ? p.checkpointOf(last, { txid: e.txid, rows: e.rows, childRows: 0, digest: e.digest, nextBlock: b.to }, { ...p.run.job.options, block: b.from }) : null),
      committed: (b, e) => {
        if (e && e.rows > 0) p.add(e.rows, 0, e.digest);
        const density = (e?.rows ?? 0) / (b.to - b.from);
        // At most twice the last span, and never more than 16 times the rows a batch may delete scanned.
        span = Math.max(1, Math.min(span * 2, first * 16, Math.floor(batchSize / Math.max(density, 1e-9))));
      },
    });
    // Then key order, for rows the application moved behind the pass while it ran (rare: a quick count says).
    await p.run.checkpoint(p.checkpointOf(null, null, { ...p.run.job.options, phase: 'keys' }));
    last = null;
    // One scan for both: anything still due (then a key-order pass), and what the certificate reports as left.
    const left = (
      await sql<{ due: unknown; all: unknown }>`select count(*) filter (where ${due}) as ${sql.id('due')}, count(*) filter (where ${r.dueIgnoringHolds}) as ${sql.id('all')} from ${tableRef(r.table)}`.execute(p.ctx.source.db)
    ).rows[0]!;
    if (Number(left.due) === 0) {
      keysPhaseDone = true;
      remainingKnown = Number(left.all);
    }
  }
  if (!keysPhaseDone) {
    // The select is the erase itself: one statement chooses the next due rows in key order and deletes them.
    last = await p.run.batches<readonly unknown[], readonly unknown[] | null, readonly unknown[] | null, ErasedBatch>({
      from: last,
      checkpoint: 'intent',
      select: async (after) => ({ batch: after }),
      write: (trx, after) => w.eraseNext!(trx, { table: r.table, due, after, limit: batchSize }),
      record: (after, e) => (e && e.rows > 0 ? p.checkpointOf(after, { txid: e.txid, rows: e.rows, childRows: 0, digest: e.digest, next: e.last }) : null),
      committed: (after, e) => {
        if (e && e.rows > 0) p.add(e.rows, 0, e.digest);
        return { ...(e?.last ? { next: [...e.last] } : after ? { next: after } : {}), last: (e?.seen ?? 0) < batchSize };
      },
    });
  }
  return { last, remaining: remainingKnown };
}

/**
 * The key-order pass of every other run (children, other keys, other databases, archive,
 * cleanup): due rows read in key order; in each batch's transaction they are locked and
 * re-checked, archived, and deleted children first (or cleaned). Returns the key cursor at the end.
 */
async function keyOrderPass(p: PolicyRun, from: readonly unknown[] | null, hashKeys: ReadonlyMap<string, import('node:crypto').KeyObject>, archive: ArchiveContext): Promise<readonly unknown[] | null> {
  const { ctx, r, batchSize } = p;
  const { policy, source } = ctx;
  const pk = r.table.primaryKey;
  const due = r.due;
  const archiveSet = archive.archiveSet;
  const cascading = r.cascade.length > 0;
  // With children, the first batch is a probe: how many child rows go with a row is not known yet.
  let take = cascading ? Math.min(batchSize, 100) : batchSize;
  const cols = policy.method === 'cleanup' ? Object.keys(policy.cleanup ?? {}) : [];
  return p.run.batches<readonly unknown[], KeyBatch, KeyBatch, KeyBatchWritten>({
    from,
    checkpoint: 'intent',
    select: async (after) => {
      const limit = take;
      // (Archive rows are read in full inside the batch's transaction, once locked.)
      const rows = await selectAfter(source.db, { table: r.table, columns: keyColumns([...pk, ...(archiveSet ? [] : cols)]), where: due, after, limit });
      if (rows.length === 0) return null;
      const keys = rows.map((row) => keyOfRow(row, pk));
      return { batch: { after, rows, keys, updates: [] }, next: keys[keys.length - 1]!, last: rows.length < limit };
    },
    transform: (b) => (policy.method === 'cleanup' ? { ...b, updates: cleanupUpdates(b.rows, pk, policy.cleanup!, hashKeys) } : b),
    empty: (b) => policy.method === 'cleanup' && b.updates.length === 0,
    write: (trx, b) => eraseBatch(trx, ctx, r, b, archive),
    // The intent, written with the batch done but not yet committed: a crash between the commit
    // and the checkpoint is settled on resume by asking the database what became of these rows.
    record: (b, done) =>
      done && done.keys.length > 0 ? p.checkpointOf(b.after, { keys: done.keys, rows: done.keys.length, childRows: done.childRows, digest: batchDigest(done.keys), next: b.keys[b.keys.length - 1]! }) : null,
    committed: (_b, done) => {
      const keys = done?.keys ?? [];
      const childRows = done?.childRows ?? 0;
      // With children, a batch's transaction touches its rows and theirs: size the next one so
      // that both together stay near the batch size (a customer with a thousand orders is a
      // thousand and one rows), growing back at most twofold per batch.
      if (cascading && keys.length > 0) take = Math.max(1, Math.min(batchSize, take * 2, Math.floor((batchSize * keys.length) / (keys.length + childRows))));
      // No write here: the next batch's intent (or the final save) carries this batch's counts.
      p.add(keys.length, childRows, batchDigest(keys));
    },
  });
}

/** A block range of the physical pass: blocks [from, to). */
interface BlockRange {
  readonly from: number;
  readonly to: number;
}

/** A batch of the key-order pass: its due rows' keys (and, for cleanup, the new values of those that change). */
interface KeyBatch {
  /** Where it starts: the last key of the batch before. */
  readonly after: readonly unknown[] | null;
  readonly rows: readonly Record<string, unknown>[];
  readonly keys: readonly unknown[][];
  readonly updates: readonly CleanupUpdate[];
}

interface KeyBatchWritten {
  /** The rows the batch ended (locked, still due, not held), in key order. */
  readonly keys: unknown[][];
  readonly childRows: number;
}

interface CleanupUpdate {
  readonly key: unknown[];
  readonly set: Readonly<Record<string, unknown>>;
}

/** The transform of a cleanup: the columns of each row its methods change (rows already clean are left out). */
function cleanupUpdates(rows: readonly Record<string, unknown>[], pk: readonly string[], cleanup: NonNullable<RetentionPolicy['cleanup']>, hashKeys: ReadonlyMap<string, import('node:crypto').KeyObject>): CleanupUpdate[] {
  return rows.flatMap((row) => {
    const set: Record<string, unknown> = {};
    for (const [c, m] of Object.entries(cleanup)) {
      const v = cleanValue(row[c], m, hashKeys.get(c) ?? null);
      if (changes(row[c], v)) set[c] = v;
    }
    return Object.keys(set).length ? [{ key: pk.map((k) => row[k]), set }] : [];
  });
}

/**
 * Rows per batch, and keys per statement: bound parameters per statement are limited
 * (SQLite 32,766, MySQL and Postgres 65,535). A key list is one parameter per key column
 * (Postgres single keys: one array), and a cascade repeats the batch's key list once per
 * path from the root, so batches shrink to fit.
 */
function batchLimits(source: Source, r: Resolved, asked: number | undefined): { batchSize: number; keyChunk: (t: TableInfo) => number } {
  let batchSize = Math.max(1, Math.min(asked ?? 1000, 10_000));
  const paramLimit = source.capabilities.maxBindParameters;
  const perKey = (t: TableInfo) => source.writer.keyParameters(t);
  const keyChunk = (t: TableInfo) => (perKey(t) === 0 ? 100_000 : Math.max(1, Math.floor(paramLimit / perKey(t))));
  const paths = cascadePaths(r.cascade, r.table);
  if (paths > 0 && perKey(r.table) > 0) batchSize = Math.max(1, Math.min(batchSize, Math.floor(paramLimit / (paths * perKey(r.table)))));
  return { batchSize, keyChunk };
}

/**
 * Settles the intent a killed run left: whether its last batch committed (its rows are gone,
 * or clean) or rolled back (all still there). A transaction whose fate the database no longer
 * knows is carried into the certificate as unsettled, and said in the log.
 */
async function settlePending(ctx: RetentionContext, run: JobRun, pending: Pending, r: Resolved, hashKeys: ReadonlyMap<string, import('node:crypto').KeyObject>, unsettled: UnsettledBatch[]): Promise<boolean> {
  const { source, policy } = ctx;
  const w = source.writer;
  if (pending.txid) {
    const settled = await transactionCommitted(ctx, pending.txid);
    // Unknowable: not counted as deleted, and carried into the certificate as unsettled (with its
    // count and key digest), and said in the log.
    if (settled === null) {
      unsettled.push({ txid: pending.txid, rows: pending.rows, keysSha256: pending.digest });
      await run.log('retention.batch-unsettled', { txid: pending.txid, rows: pending.rows, keysSha256: pending.digest });
    }
    return settled === true;
  }
  if (policy.method !== 'cleanup') return (await count(source.db, r.table, w.keysIn(r.table, pending.keys!))) === 0;
  // Cleanup: every row of the batch had something to clean; now all are clean only if it committed.
  const cols = Object.keys(policy.cleanup ?? {});
  const rows = (await sql<Record<string, unknown>>`select ${sql.join(cols.map((c) => sql.id(c)))} from ${tableRef(r.table)} where ${w.keysIn(r.table, pending.keys!)}`.execute(source.db)).rows;
  return rows.length > 0 && rows.every((row) => cols.every((c) => !changes(row[c], cleanValue(row[c], policy.cleanup![c]!, hashKeys.get(c) ?? null))));
}

/** The archive sets of a run: the policy's table's, and one per cascade table beside it (resumed after a crash). */
async function openArchiveSets(ctx: RetentionContext, r: Resolved, runId: string): Promise<{ root: ArchiveSetWriter; children: Map<string, ArchiveSetWriter> }> {
  const { openOrResumeArchiveSet } = await import('../archive/set.js');
  const path = await import('node:path');
  const { policy, source } = ctx;
  const open = (t: TableInfo, dir: string) =>
    openOrResumeArchiveSet({
      dir: path.join(ctx.archive!.dir, policy.name, dir),
      recipients: ctx.archive!.recipients,
      source: source.name,
      table: { schema: t.schema, name: t.name },
      primaryKey: t.primaryKey,
      columns: t.columns.map((c) => ({ name: c.name, dataType: c.dataType, typeClass: c.typeClass, nullable: c.nullable })),
      runId,
      policy: policy.name,
    });
  const root = await open(r.table, runId);
  const children = new Map<string, ArchiveSetWriter>();
  for (const step of r.cascade) children.set(keyOf(step.table), await open(step.table, `${runId}.${step.table.schema}.${step.table.name}`));
  return { root, children };
}

interface ArchiveContext {
  readonly archiveSet: ArchiveSetWriter | null;
  readonly childSets: ReadonlyMap<string, ArchiveSetWriter>;
  readonly archiveSelect: readonly (RawBuilder<unknown> | AliasedRawBuilder<unknown, string>)[] | null;
  readonly keyChunk: (t: TableInfo) => number;
}

/**
 * The write of a key-order batch, inside its transaction: locks the batch's rows and keeps
 * only those still due and not held; archives them (and their children) durably; deletes
 * children first, deepest first, then the rows — or, for cleanup, rewrites the columns of
 * the rows still due. Returns the rows it ended, in key order.
 */
async function eraseBatch(trx: Kysely<any>, ctx: RetentionContext, r: Resolved, b: KeyBatch, a: ArchiveContext): Promise<KeyBatchWritten> {
  const { source, policy } = ctx;
  const w = source.writer;
  const pk = r.table.primaryKey;
  const due = r.due;
  const digestKeys = policy.method === 'cleanup' ? b.updates.map((u) => u.key) : b.keys;
  // Lock the batch's rows and keep only those still due and not held.
  const inBatch = w.keysIn(r.table, digestKeys);
  // Archive: read in full here, under the lock, so the archive holds exactly what is deleted
  // (read the way the archive codec keeps values exactly: Postgres timestamps to the microsecond, SQLite big integers).
  const lockedList = a.archiveSelect ? sql.join(a.archiveSelect) : sql.join(pk.map((k) => sql.id(k)));
  const locked = (await sql<Record<string, unknown>>`select ${lockedList} from ${tableRef(r.table)} where ${inBatch} and ${due} ${w.lockClause()}`.execute(trx)).rows;
  let keys = locked.map((l) => pk.map((k) => l[k]));
  let archivedChildren = new Map<string, unknown[][]>();
  if (a.archiveSet && locked.length > 0) ({ keys, archivedChildren } = await archiveBatch(trx, source, r, a, locked, keys));
  keys.sort(compareKeys);
  if (keys.length === 0) return { keys, childRows: 0 };
  const confirmed = w.keysIn(r.table, keys);
  let childRows = 0;
  if (policy.method === 'cleanup') {
    const ok = new Set(keys.map(keyText));
    for (const u of b.updates) {
      if (!ok.has(keyText(u.key))) continue;
      const set = Object.entries(u.set).map(([c, v]) => sql`${sql.id(c)} = ${v}`);
      await sql`update ${tableRef(r.table)} set ${sql.join(set)} where ${keyTuple(pk)} = ${valueTuple(u.key)}`.execute(trx);
    }
    return { keys, childRows };
  }
  // Children first, deepest first, each under the parents that are going. Archive deletes
  // exactly the child rows it archived, and refuses (rolls the batch back) if the database
  // deletes any other number: no row leaves without being in a set.
  const whereOf = a.archiveSet ? null : cascadeWheres(r.cascade, r.table, confirmed);
  for (const step of r.cascade) {
    if (whereOf) {
      const res = await sql`delete from ${tableRef(step.table)} where ${whereOf.get(keyOf(step.table))!}`.execute(trx);
      childRows += Number(res.numAffectedRows ?? 0n);
      continue;
    }
    const archivedKeys = archivedChildren.get(keyOf(step.table)) ?? [];
    const chunk = a.keyChunk(step.table);
    let deleted = 0;
    for (let i = 0; i < archivedKeys.length; i += chunk) {
      const res = await sql`delete from ${tableRef(step.table)} where ${w.keysIn(step.table, archivedKeys.slice(i, i + chunk))}`.execute(trx);
      deleted += Number(res.numAffectedRows ?? 0n);
    }
    if (deleted !== archivedKeys.length) {
      throw new SourceError('SOURCE_QUERY', source.name, `deleting the archived rows of ${keyOf(step.table)} removed ${deleted} row(s), not the ${archivedKeys.length} archived, so the batch was rolled back`, {
        hint: 'Something else changed those rows during the batch (a trigger, ON DELETE CASCADE from another table, the application); nothing of the batch was deleted. Run the same command again to resume',
      });
    }
    childRows += deleted;
  }
  await sql`delete from ${tableRef(r.table)} where ${confirmed}`.execute(trx);
  return { keys, childRows };
}

/**
 * Writes a locked batch and its children to the archive (children first), durably,
 * and returns the keys that may now be deleted, with the keys of the child rows archived
 * per cascade table (the delete removes exactly those). Conflicts (a row the set already
 * holds with other content: changed after a crash) are found before anything is
 * written: such a parent is kept with its children, and a batch with such a child
 * is kept whole (counted as remaining); nothing kept is archived.
 * The parents are locked, so no child row can appear before the delete.
 */
async function archiveBatch(trx: Kysely<any>, source: Source, r: Resolved, a: ArchiveContext, rows: Record<string, unknown>[], keys: unknown[][]): Promise<{ keys: unknown[][]; archivedChildren: Map<string, unknown[][]> }> {
  const archivedChildren = new Map<string, unknown[][]>();
  const w = source.writer;
  const changed = new Set(a.archiveSet!.conflictsOf(rows));
  const keep = keys.filter((_, i) => !changed.has(i));
  if (keep.length === 0) return { keys: [], archivedChildren };
  const { selectForArchive } = await import('../archive/values.js');
  const order = r.cascade;
  const whereOf = cascadeWheres(order, r.table, w.keysIn(r.table, keep));
  const children: { set: ArchiveSetWriter; rows: Record<string, unknown>[]; table: TableInfo }[] = [];
  // Read and lock parents before their children (shallowest first): a locked row cannot get a
  // new child (or an old one moved onto it) until the batch ends, so what is read is all there is.
  for (const step of [...order].reverse()) {
    const k = keyOf(step.table);
    const childRows = (await sql<Record<string, unknown>>`select ${sql.join(selectForArchive(source, step.table.columns))} from ${tableRef(step.table)} where ${whereOf.get(k)!} ${w.lockClause()}`.execute(trx)).rows;
    const set = a.childSets.get(k)!;
    if (set.conflictsOf(childRows).length > 0) return { keys: [], archivedChildren };
    if (childRows.length > 0) children.push({ set, rows: childRows, table: step.table });
  }
  for (const c of children) {
    await c.set.writeChunk(c.rows);
    archivedChildren.set(keyOf(c.table), c.rows.map((row) => c.table.primaryKey.map((k) => row[k])));
  }
  // Durably in a verified chunk before any of these rows may be deleted.
  const res = await a.archiveSet!.writeChunk(rows.filter((_, i) => !changed.has(i)));
  if (res.conflicts.length) throw new InternalError('the archive set reported a conflict it did not report a moment before'); // cannot happen: one writer
  return { keys: keep, archivedChildren };
}

/** Key order: part by part, numbers (and numeric strings of equal kind) numerically, else as text. */
export function compareKeys(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    const nx = (typeof x === 'number' && Number.isInteger(x)) || typeof x === 'bigint' || (typeof x === 'string' && /^-?\d+$/.test(x));
    const ny = (typeof y === 'number' && Number.isInteger(y)) || typeof y === 'bigint' || (typeof y === 'string' && /^-?\d+$/.test(y));
    if (nx && ny) {
      const d = BigInt(x as number | bigint | string) - BigInt(y as number | bigint | string);
      if (d !== 0n) return d < 0n ? -1 : 1;
      continue;
    }
    const tx = textOf(x);
    const ty = textOf(y);
    if (tx !== ty) return tx < ty ? -1 : 1;
  }
  return a.length - b.length;
}

/** The batch in flight when a run was killed: its keys, or (fast erase) its transaction id. */
interface Pending {
  readonly keys?: unknown[][];
  readonly txid?: string;
  readonly rows: number;
  readonly childRows: number;
  readonly digest: string;
  /** Where the next batch starts once this one is settled as committed: a key, or (block pass) a block. */
  readonly next?: readonly unknown[] | null;
  readonly nextBlock?: number;
}

/** Asks the database what became of a killed run's last transaction; waits while the server is still closing it. */
async function transactionCommitted(ctx: RetentionContext, txid: string): Promise<boolean | null> {
  const w = ctx.source.writer;
  if (!w.transactionStatus) throw new UsageError(`the last run of policy "${ctx.policy.name}" was cut on a ${ctx.source.kind} source by a transaction it cannot look up`, { hint: 'Run it again with the Steward version that started it' });
  for (let i = 0; ; i++) {
    const s = await w.transactionStatus(ctx.source.db, txid);
    if (s === 'committed') return true;
    if (s === 'aborted') return false;
    // The database no longer keeps its status (the job lay abandoned for millions of transactions).
    if (s === null) return null;
    // 'in progress': the killed client's connection is still being closed by the server.
    if (i >= 100) throw new UsageError(`the last batch of policy "${ctx.policy.name}" is still open in the database (transaction ${txid})`, { hint: 'A killed run\'s session is still alive on the server; wait for it to end (or end it: pg_terminate_backend) and run again' });
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** SHA-256 (hex) of one batch's keys, one `["k…"]` line each in the order given (key order): a certificate link. */
export function batchDigest(keys: readonly (readonly unknown[])[]): string {
  const h = createHash('sha256');
  for (const k of keys) h.update(keyText(k)).update('\n');
  return h.digest('hex');
}

function chain(prev: string, batch: string): string {
  return createHash('sha256').update(prev).update(batch).digest('hex');
}
