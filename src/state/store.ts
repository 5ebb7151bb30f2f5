/**
 * Steward's own store: every audit run, its per-source outcome, findings and
 * inventory. Embedded SQLite by default; PostgreSQL (schema `steward`) for teams.
 * Migrations are served from code and run on open.
 */
import path from 'node:path';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { AuditReport, Finding, FindingRule, InventoryItem, Location, Severity } from '../audit/types.js';
import type { Evidence, FreeTextHit } from '../detection/types.js';
import type { Risk } from '../detection/taxonomy.js';
import { InternalError, StateError, UsageError, isStewardError } from '../errors.js';
import { VERSION } from '../version.js';
import { errorCode, runStateOperation, stateError, type StateBackend } from './backend.js';
import { MIGRATIONS } from './migrations/index.js';
import { assertNoPersonalData, type NewActivity, type StoredActivity, type VerifyResult } from './activity-log.js';
import { StateActivityStore } from './activity.js';
import { StateKeyStore } from './keys.js';
import { StateJobStore } from './jobs.js';
import { StateHoldStore } from './holds.js';
import { StateRequestStore } from './requests.js';
import { DEFAULT_PG_SCHEMA, openPostgresBackend } from './postgres.js';
import { openSqliteBackend } from './sqlite.js';
import type { FindingsTable, InventoryTable, RunSourcesTable, StateDatabase } from './tables.js';

/** Where the store lives when `state.url` is not set: relative to the config file's directory. */
export const DEFAULT_STATE_URL = '.steward/state.db';

const MIGRATION_TABLE = 'steward_migration';
const MIGRATION_LOCK_TABLE = 'steward_migration_lock';
/** Rows per INSERT: 500 × 15 columns stays far below SQLite's 32766 and PostgreSQL's 65535 bind parameters. */
const CHUNK = 500;

export type RunStatus = 'ok' | 'partial' | 'failed';

/** One source's part in one run, as the scheduler sees it. */
export interface StageRunRecord {
  readonly source: string;
  readonly stage: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly status: 'ok' | 'failed';
}

export interface StoredRunSource {
  readonly name: string;
  readonly status: 'ok' | 'error';
  readonly errorCode: string | null;
  readonly tables: number;
  readonly columns: number;
  readonly durationMs: number;
}

/** An audit run as recorded: its header, and how each source it covered went. */
export interface StoredRun {
  readonly id: string;
  readonly stage: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: RunStatus;
  readonly toolVersion: string;
  readonly configHash: string | null;
  readonly summary: AuditReport['summary'];
  readonly sources: readonly StoredRunSource[];
}

export interface OpenStateStoreOptions {
  /** A SQLite path (relative to `baseDir`; `''` means `.steward/state.db`), `:memory:`, or `postgres://…`. */
  readonly url: string;
  /** Directory relative SQLite paths resolve against: the directory of steward.yml. */
  readonly baseDir: string;
  /** PostgreSQL only: the schema holding Steward's tables (default `steward`). */
  readonly schema?: string;
}

export interface PreviousRunOptions {
  /** Only runs that finished before this run (by id) or this ISO-8601 time. */
  readonly before?: string;
  /** Only runs in which every one of these sources was audited successfully. */
  readonly sources?: readonly string[];
}

/** `ok`: every source audited; `failed`: none; `partial`: some. */
export function runStatus(report: AuditReport): RunStatus {
  const ok = report.sources.filter((s) => s.status === 'ok').length;
  if (ok === report.sources.length) return 'ok';
  return ok === 0 ? 'failed' : 'partial';
}

/**
 * Opens the state store, creating it and applying pending migrations.
 *
 * @example
 * const store = await openStateStore({ url: config.state.url, baseDir: path.dirname(configFile) });
 * try {
 *   const prev = await store.previousRun('collection', { sources: ['shop'] });
 *   await store.recordAuditRun(report, { configHash });
 * } finally {
 *   await store.close();
 * }
 *
 * @throws StateError `STATE_OPEN` when the store cannot be created or reached,
 *   `STATE_MIGRATE` when a migration fails or the store was written by a newer Steward.
 */
export async function openStateStore(options: OpenStateStoreOptions): Promise<StateStore> {
  const backend = await openBackend(options);
  try {
    await migrate(backend);
  } catch (e) {
    await backend.rootDb.destroy().catch(() => {});
    throw e;
  }
  return new StateStore(backend);
}

async function openBackend(options: OpenStateStoreOptions): Promise<StateBackend> {
  const url = options.url.trim() || DEFAULT_STATE_URL;
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const schema = options.schema ?? DEFAULT_PG_SCHEMA;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new StateError('STATE_OPEN', `Invalid state store schema name "${schema}"`, {
        hint: 'Use letters, digits and underscores, starting with a letter',
      });
    }
    return openPostgresBackend(url, schema);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (scheme && !/^(sqlite|file)$/i.test(scheme)) {
    throw new StateError('STATE_OPEN', `Unsupported state store URL scheme "${scheme}:"`, {
      hint: 'Set state.url in steward.yml to a SQLite file path (default .steward/state.db) or a postgres:// URL',
    });
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  return openSqliteBackend(file === ':memory:' ? file : path.resolve(options.baseDir, file));
}

function versionOf(executed: readonly string[]): string {
  const last = executed.at(-1);
  return last ? `version ${Number.parseInt(last, 10)} (${last})` : 'version 0 (empty)';
}

async function executedMigrations(backend: StateBackend): Promise<string[]> {
  if (!(await backend.tableExists(MIGRATION_TABLE))) return [];
  const table = backend.schema ? `${backend.schema}.${MIGRATION_TABLE}` : MIGRATION_TABLE;
  const rows = await backend.rootDb.selectFrom(table).select('name').orderBy('name').execute();
  return rows.map((r: { name: string }) => r.name);
}

async function migrate(backend: StateBackend): Promise<void> {
  let before: string[];
  try {
    before = await executedMigrations(backend);
  } catch (e) {
    const { reason, hint, cause } = backend.explain(e);
    throw new StateError('STATE_OPEN', `Cannot read the state store ${backend.location}: ${reason}`, { hint, cause });
  }
  const unknown = before.filter((name) => !Object.hasOwn(MIGRATIONS, name));
  if (unknown.length > 0) {
    throw new StateError(
      'STATE_MIGRATE',
      `The state store ${backend.location} was written by a newer Steward: it is at ${versionOf(before)} and has migration(s) ${unknown.join(', ')} that Steward ${VERSION} does not know`,
      { hint: 'Upgrade Steward (npm install steward@latest) to use this store; Steward never downgrades a store' },
    );
  }
  const ctx = { dialect: backend.dialect } as const;
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) {
        out[name] = { up: (db: Kysely<any>) => m.up(backend.schema ? db.withSchema(backend.schema) : db, ctx) };
      }
      return out;
    },
  };
  const migrator = new Migrator({
    db: backend.rootDb,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(backend.schema ? { migrationTableSchema: backend.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  const after = await executedMigrations(backend).catch(() => before);
  const { reason, hint, cause } = backend.explain(error);
  throw new StateError(
    'STATE_MIGRATE',
    `${failed ? `Migration ${failed}` : 'Migrating'} of the state store ${backend.location} failed: ${reason}; the store was left at ${versionOf(after)}`,
    { hint: `Nothing recorded was lost. ${hint}, then run Steward again to retry the migration`, cause },
  );
}

/** Stored times are `toISOString()` UTC so that text order is time order in both databases. */
function isoTime(value: string, field: string): string {
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new InternalError(`run.${field} is not a time: ${JSON.stringify(value)}`);
  return t.toISOString();
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/**
 * Audit history in Steward's own database. Open with {@link openStateStore};
 * close when done. Methods are safe to call concurrently on one instance.
 */
export class StateStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  #closed = false;
  #keys: StateKeyStore | undefined;
  #jobs: StateJobStore | undefined;
  #holds: StateHoldStore | undefined;
  #requests: StateRequestStore | undefined;
  #activity: StateActivityStore | undefined;

  /** @internal Use {@link openStateStore}. */
  constructor(backend: StateBackend) {
    this.#backend = backend;
    this.#db = backend.db;
  }

  /** `sqlite` or `postgres`. */
  get dialect(): StateBackend['dialect'] {
    return this.#backend.dialect;
  }

  /** The file path, or the URL without password plus the schema. */
  get location(): string {
    return this.#backend.location;
  }

  /** Checkpoints of online column migrations (src/crypto/column-migration.ts). */
  get jobs(): StateJobStore {
    return (this.#jobs ??= new StateJobStore(this.#backend, () => this.#open()));
  }

  /** Wrapped data keys and master key records, for the keyring (src/crypto/keyring.ts). */
  get keys(): StateKeyStore {
    return (this.#keys ??= new StateKeyStore(this.#backend, () => this.#open()));
  }

  /** Legal hold rows (src/retention/holds.ts). */
  get holds(): StateHoldStore {
    return (this.#holds ??= new StateHoldStore(this.#backend, () => this.#open()));
  }

  /** Data-subject request cases (src/subjects/cases.ts). */
  get requests(): StateRequestStore {
    return (this.#requests ??= new StateRequestStore(this.#backend, () => this.#open(), this.activity));
  }

  /** The hash-chained activity log (src/state/activity-log.ts says what it guarantees). */
  get activity(): StateActivityStore {
    return (this.#activity ??= new StateActivityStore(this.#backend, () => this.#open()));
  }

  /** Names of the migrations applied to this store, in order. */
  async migrations(): Promise<string[]> {
    return this.#read(() => executedMigrations(this.#backend));
  }

  /**
   * Records a finished run with its sources, findings and inventory, all or
   * nothing (one transaction). `status` defaults to {@link runStatus}.
   * `activity`: the run's activity log entries, appended in the same transaction,
   * so that a run is never stored without its evidence (nor the evidence without the run).
   */
  async recordAuditRun(report: AuditReport, meta: { readonly status?: RunStatus; readonly configHash: string | null }, activity: readonly NewActivity[] = []): Promise<void> {
    for (const entry of activity) {
      assertNoPersonalData(entry.subject, 'subject');
      assertNoPersonalData(entry.details, 'details');
    }
    const runId = report.run.id;
    const sources: RunSourcesTable[] = report.sources.map((s) => ({
      run_id: runId,
      source: s.name,
      status: s.status,
      error_code: s.error?.code ?? null,
      tables: s.tables,
      columns: s.columns,
      duration_ms: Math.round(s.durationMs),
    }));
    const findings: FindingsTable[] = report.findings.map((f, ordinal) => ({
      run_id: runId,
      finding_id: f.id,
      ordinal,
      rule: f.rule,
      severity: f.severity,
      source: f.location.source,
      schema: f.location.schema ?? null,
      table_name: f.location.table ?? null,
      column_name: f.location.column ?? null,
      category: f.category ?? null,
      title: f.title,
      message: f.message,
      remedy: f.remedy,
    }));
    const inventory: InventoryTable[] = report.sources
      .flatMap((s) => s.inventory)
      .map((i, ordinal) => ({
        run_id: runId,
        ordinal,
        source: i.source,
        schema: i.schema,
        table_name: i.table,
        column_name: i.column,
        data_type: i.dataType,
        category: i.category,
        risk: i.risk,
        confidence: i.confidence,
        row_estimate: i.rowEstimate,
        purpose: i.purpose,
        evidence_json: JSON.stringify(i.evidence),
        free_text_json: JSON.stringify(i.freeText),
        examples_json: JSON.stringify(i.examples),
      }));
    this.#open();
    try {
      await this.#db.transaction().execute(async (trx) => {
        // The activity lock first, as every appender takes it: two audits never deadlock on each other.
        if (activity.length > 0) await this.activity.lockIn(trx);
        await trx
          .insertInto('audit_runs')
          .values({
            id: runId,
            stage: report.run.stage,
            started_at: isoTime(report.run.startedAt, 'startedAt'),
            finished_at: isoTime(report.run.finishedAt, 'finishedAt'),
            status: meta.status ?? runStatus(report),
            tool_version: report.tool.version,
            config_hash: meta.configHash,
            summary_json: JSON.stringify(report.summary),
          })
          .execute();
        for (const c of chunks(sources)) await trx.insertInto('run_sources').values(c).execute();
        for (const c of chunks(findings)) await trx.insertInto('findings').values(c).execute();
        for (const c of chunks(inventory)) await trx.insertInto('inventory').values(c).execute();
        if (activity.length > 0) await this.activity.appendIn(trx, activity);
      });
    } catch (e) {
      if (isStewardError(e)) throw e;
      const code = errorCode(e);
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') {
        const { reason, cause } = this.#backend.explain(e);
        throw new InternalError(`Audit run ${runId} could not be recorded: ${reason} (a run id or finding id repeated)`, { cause });
      }
      throw stateError(this.#backend, `Cannot record audit run ${runId} in the state store ${this.#backend.location}`, e);
    }
  }

  /**
   * The latest recorded run of `stage` that did not fail outright — the one to
   * compare a new run with. With `sources`, only runs that audited every one of
   * them successfully (so `--source shop` compares with the last run that saw shop).
   * With `before`, only runs that finished before that run (id) or time (ISO-8601).
   */
  async previousRun(stage: string, options: PreviousRunOptions = {}): Promise<StoredRun | null> {
    return this.#read(async () => {
      let q = this.#db.selectFrom('audit_runs').selectAll().where('stage', '=', stage).where('status', '!=', 'failed');
      if (options.before !== undefined) {
        const cutoff = await this.#cutoff(options.before);
        q = q.where('finished_at', '<', cutoff.time);
        if (cutoff.runId) q = q.where('id', '!=', cutoff.runId);
      }
      const wanted = [...new Set(options.sources ?? [])];
      if (wanted.length > 0) {
        q = q.where('id', 'in', (eb) =>
          eb
            .selectFrom('run_sources')
            .select('run_id')
            .where('status', '=', 'ok')
            .where('source', 'in', wanted)
            .groupBy('run_id')
            .having(sql<number>`count(*)`, '=', wanted.length),
        );
      }
      const row = await q.orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      if (!row) return null;
      return (await this.#hydrate([row]))[0] ?? null;
    });
  }

  /** Recorded runs, newest first. */
  async listRuns(options: { readonly stage?: string; readonly limit?: number } = {}): Promise<StoredRun[]> {
    return this.#read(async () => {
      let q = this.#db.selectFrom('audit_runs').selectAll();
      if (options.stage !== undefined) q = q.where('stage', '=', options.stage);
      q = q.orderBy('finished_at', 'desc').orderBy('id', 'desc');
      if (options.limit !== undefined) q = q.limit(Math.max(0, Math.floor(options.limit)));
      return this.#hydrate(await q.execute());
    });
  }

  /** One run by id, or null. */
  async getRun(runId: string): Promise<StoredRun | null> {
    return this.#read(async () => {
      const row = await this.#db.selectFrom('audit_runs').selectAll().where('id', '=', runId).executeTakeFirst();
      return row ? ((await this.#hydrate([row]))[0] ?? null) : null;
    });
  }

  /** The findings of a run, in recorded order, each with status `existing`. Empty for an unknown run. */
  async loadFindings(runId: string): Promise<Finding[]> {
    return this.#read(async () => {
      const rows = await this.#db.selectFrom('findings').selectAll().where('run_id', '=', runId).orderBy('ordinal').execute();
      return rows.map((r): Finding => {
        const location: { -readonly [K in keyof Location]: Location[K] } = { source: r.source };
        if (r.schema !== null) location.schema = r.schema;
        if (r.table_name !== null) location.table = r.table_name;
        if (r.column_name !== null) location.column = r.column_name;
        return {
          id: r.finding_id,
          rule: r.rule as FindingRule,
          severity: r.severity as Severity,
          title: r.title,
          message: r.message,
          remedy: r.remedy,
          location,
          ...(r.category !== null ? { category: r.category } : {}),
          status: 'existing',
        };
      });
    });
  }

  /** The inventory of a run (every source), in recorded order. Empty for an unknown run. */
  async loadInventory(runId: string): Promise<InventoryItem[]> {
    return this.#read(async () => {
      const rows = await this.#db.selectFrom('inventory').selectAll().where('run_id', '=', runId).orderBy('ordinal').execute();
      return rows.map(
        (r): InventoryItem => ({
          source: r.source,
          schema: r.schema,
          table: r.table_name,
          column: r.column_name,
          dataType: r.data_type,
          category: r.category,
          risk: r.risk as Risk,
          confidence: Number(r.confidence),
          rowEstimate: Number(r.row_estimate),
          evidence: JSON.parse(r.evidence_json) as Evidence,
          examples: JSON.parse(r.examples_json) as string[],
          freeText: JSON.parse(r.free_text_json) as FreeTextHit[],
          purpose: r.purpose,
        }),
      );
    });
  }

  /** Closes the connection (pool). Idempotent. */
  /**
   * Per source, every recorded run of every stage (or one stage), for the
   * scheduler: a source that errored in a run counts as a failed run of that stage.
   */
  async stageRuns(stage?: string): Promise<StageRunRecord[]> {
    return this.#read(async () => {
      let q = this.#db
        .selectFrom('run_sources')
        .innerJoin('audit_runs', 'audit_runs.id', 'run_sources.run_id')
        .select(['run_sources.source', 'audit_runs.stage', 'audit_runs.started_at', 'audit_runs.finished_at', 'run_sources.status']);
      if (stage) q = q.where('audit_runs.stage', '=', stage);
      const rows = await q.orderBy('audit_runs.finished_at').execute();
      return rows.map((r) => ({
        source: r.source,
        stage: r.stage,
        startedAt: new Date(r.started_at),
        finishedAt: new Date(r.finished_at),
        status: r.status === 'ok' ? ('ok' as const) : ('failed' as const),
      }));
    });
  }

  /**
   * Appends one entry to the hash-chained activity log and returns it (see
   * {@link StateActivityStore.append}).
   */
  appendActivity(entry: NewActivity): Promise<StoredActivity> {
    return this.activity.append(entry);
  }

  /** Appends several entries in one transaction (all or none), chained in order. */
  appendActivities(entries: readonly NewActivity[]): Promise<StoredActivity[]> {
    return this.activity.appendAll(entries);
  }

  /** Completes a last entry that was cut mid-write (see {@link StateActivityStore.repair}). */
  repairActivityLog(options: { readonly actor: string; readonly dryRun?: boolean; readonly at?: string }): Promise<{ readonly repaired: StoredActivity | null; readonly message: string }> {
    return this.activity.repair(options);
  }

  /** Activity log entries in seq order, in bounded batches (see {@link StateActivityStore.batches}). */
  activityBatches(
    options: { readonly afterSeq?: number; readonly batch?: number; readonly action?: string; readonly since?: string; readonly last?: number } = {},
  ): AsyncGenerator<StoredActivity[]> {
    return this.activity.batches(options);
  }

  /** Checks the whole chain; names the first broken entry. */
  verifyActivityLog(): Promise<VerifyResult> {
    return this.activity.verify();
  }

  /** The stored hash of entry `seq`, or null when there is no such entry. */
  activityHash(seq: number): Promise<string | null> {
    return this.activity.hash(seq);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.rootDb.destroy();
  }

  async #cutoff(before: string): Promise<{ time: string; runId?: string }> {
    const run = await this.#db.selectFrom('audit_runs').select(['id', 'finished_at']).where('id', '=', before).executeTakeFirst();
    if (run) return { time: run.finished_at, runId: run.id };
    const t = new Date(before);
    if (!/^\d{4}-\d{2}-\d{2}/.test(before) || Number.isNaN(t.getTime())) {
      throw new UsageError(`"${before}" is neither a recorded run id nor an ISO-8601 time`, {
        hint: 'Pass a run id from `steward history` or a time like 2026-01-31T00:00:00Z',
      });
    }
    return { time: t.toISOString() };
  }

  async #hydrate(rows: readonly StateDatabase['audit_runs'][]): Promise<StoredRun[]> {
    if (rows.length === 0) return [];
    const bySource = new Map<string, StoredRunSource[]>();
    for (const ids of chunks(rows.map((r) => r.id))) {
      const srcs = await this.#db.selectFrom('run_sources').selectAll().where('run_id', 'in', ids).orderBy('run_id').orderBy('source').execute();
      for (const s of srcs) {
        const list = bySource.get(s.run_id) ?? [];
        list.push({
          name: s.source,
          status: s.status,
          errorCode: s.error_code,
          tables: Number(s.tables),
          columns: Number(s.columns),
          durationMs: Number(s.duration_ms),
        });
        bySource.set(s.run_id, list);
      }
    }
    return rows.map((r) => ({
      id: r.id,
      stage: r.stage,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      status: r.status,
      toolVersion: r.tool_version,
      configHash: r.config_hash,
      summary: JSON.parse(r.summary_json) as AuditReport['summary'],
      sources: bySource.get(r.id) ?? [],
    }));
  }

  #open(): void {
    if (this.#closed) throw new InternalError(`The state store ${this.#backend.location} was used after close()`);
  }

  #read<T>(fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, () => this.#open(), 'read', fn);
  }

}
