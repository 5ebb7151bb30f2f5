/**
 * `steward retention plan | apply | certificates`: thin over src/retention/.
 */
import path from 'node:path';
import { shellCommand } from '../../../shell.js';
import { padEnd } from '../../reports/text.js';
import pc from 'picocolors';
import { loadConfig, type StewardConfig } from '../../../config/index.js';
import { applyPolicy, planPolicy, type RetentionCertificate, type RetentionContext, type RetentionPlan } from '../../../retention/apply.js';
import { holdFilterFor } from '../../../retention/holds.js';
import { policiesForSource, policySources, selectedBy, type SourcePolicies } from '../../../retention/categories.js';
import { openKeyring, type Keyring } from '../../../crypto/keyring.js';
import { ConfigError, ExitCode, HoldError, UsageError, isStewardError } from '../../../errors.js';
import { findTable } from '../../../retention/policy.js';
import type { TableInfo } from '../../../sources/types.js';
import { masterKeySource } from './encrypt.js';
import { openSource } from '../../../sources/index.js';
import { currentActor } from '../../../state/audit-history.js';
import { openStateStore } from '../../../state/index.js';
import { stopOnSignals } from '../../../interrupt.js';
import { progressBar, shown, stringifyJson, useColor, type Io } from '../output.js';

export interface RetentionOptions {
  readonly config?: string;
  readonly policy?: readonly string[];
  readonly json?: boolean;
  readonly color?: boolean;
  readonly dryRun?: boolean;
  /** Only these sources (the scheduler's: those retention is due for). */
  readonly sources?: readonly string[];
  /** A plan: a master key that does not open is a warning, not an error. */
  readonly planOnly?: boolean;
}

/** The names `--policy` may give: a policy in steward.yml, or one table of a category policy (`name[schema.table]`). */
function checkNames(config: StewardConfig, names: readonly string[] | undefined, file = 'steward.yml'): void {
  const all = config.retention.policies;
  if (all.length === 0) throw new UsageError(`${file} declares no retention policies`, { hint: 'Add retention.policies (docs/retention.md)' });
  const unknown = (names ?? []).filter((n) => !all.some((p) => p.name === n || (p.category !== undefined && n.startsWith(`${p.name}[`))));
  if (unknown.length) throw new UsageError(`unknown policy ${unknown.map((u) => `"${u}"`).join(', ')}`, { hint: `Policies in ${file}: ${all.map((p) => p.name).join(', ')}` });
}

/** What a policy run skipped: tables of a category policy that a table policy covers. */
export type Skipped = SourcePolicies['skipped'][number] & { readonly source: string };

/** A policy that could not run while the others did (a legal hold on its table that no longer runs). */
export interface PolicyFailure {
  readonly policy: string;
  readonly source: string;
  readonly error: HoldError;
}

async function withEach<T>(options: RetentionOptions, io: Io, fn: (ctx: RetentionContext) => Promise<T>, skipped: Skipped[] = [], failures: PolicyFailure[] = []): Promise<T[]> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const config = loaded.config;
  // Messages name the file actually read (--config other.yml, STEWARD_CONFIG), not steward.yml.
  const file = path.relative(io.cwd, loaded.path) || loaded.path;
  checkNames(config, options.policy, file);
  const declared = config.sources.map((s) => s.name);
  const chosen = config.retention.policies.filter((p) => !options.policy?.length || options.policy.some((n) => n === p.name || n.startsWith(`${p.name}[`)));
  for (const policy of chosen) {
    if (policy.source !== undefined && !declared.includes(policy.source)) {
      throw new ConfigError('CONFIG_INVALID', `retention policy "${policy.name}" names source "${policy.source}", which ${file} does not declare`, { hint: `Sources: ${declared.join(', ')}` });
    }
    const unknown = (policy.sources ?? []).filter((s) => !declared.includes(s));
    if (unknown.length) throw new ConfigError('CONFIG_INVALID', `retention policy "${policy.name}" names source ${unknown.map((u) => `"${u}"`).join(', ')}, which ${file} does not declare`, { hint: `Sources: ${declared.join(', ')}` });
  }
  const store = await openStateStore({ url: config.state.url, baseDir: loaded.dir });
  const out: T[] = [];
  // Keyed hashes (cleanup: hash) take a key from the keyring: opened once, only when a chosen policy hashes.
  const hashes = chosen.some((p) => p.method === 'cleanup' && (typeof p.cleanup === 'string' ? p.cleanup === 'hash' : Object.values(p.cleanup ?? {}).includes('hash')));
  let keyring: Keyring | null = null;
  let keyProblem: string | undefined;
  if (hashes) {
    try {
      keyring = await openKeyring({ store, master: await masterKeySource(config, loaded.dir, io.env) });
    } catch (e) {
      if (!isStewardError(e)) throw e;
      if (!options.planOnly) {
        await store.close();
        throw e;
      }
      keyProblem = `the master key does not open (${e.message})`;
    }
  }
  const sources = declared.filter((s) => (!options.sources || options.sources.includes(s)) && chosen.some((p) => policySources(p, declared).includes(s)));
  /** The source opened, its tables, and its policies (category policies expanded from the last audit's inventory). */
  const expand = async (source: string) => {
    const cfg = config.sources.find((s) => s.name === source)!;
    const needsInventory = config.retention.policies.some((p) => p.category !== undefined && policySources(p, declared).includes(source));
    const run = needsInventory ? await store.previousRun('collection', { sources: [source] }) : null;
    const inventory = run ? await store.loadInventory(run.id) : null;
    const open = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { command: 'retention' });
    try {
      const tables = await open.introspect();
      return { open, tables, mine: policiesForSource(config.retention.policies, source, declared, tables, inventory, open.kind) };
    } catch (e) {
      await open.close();
      throw e;
    }
  };
  try {
    // `name[schema.table]` names one table of a category policy: checked before anything runs.
    const tableNames = (options.policy ?? []).filter((n) => n.includes('['));
    if (tableNames.length) {
      const known = new Set<string>();
      const notes = new Map<string, string>();
      for (const source of sources) {
        const x = await expand(source);
        await x.open.close();
        for (const m of x.mine.policies) known.add(m.policy.name);
        for (const k of x.mine.skipped) notes.set(k.table ? `${k.policy}[${k.table}]` : k.policy, k.reason);
      }
      const unmatched = tableNames.filter((n) => !known.has(n));
      if (unmatched.length) {
        const n = unmatched[0]!;
        const origin = n.slice(0, n.indexOf('['));
        const why = notes.get(n) ?? notes.get(origin);
        throw new UsageError(`no table ${unmatched.map((u) => `"${u}"`).join(', ')} under category policy "${origin}"${why ? `: ${why}` : ''}`, {
          hint: `\`${shellCommand('steward', 'retention', 'plan', '--policy', origin)}\` lists its tables as name[schema.table] (the schema is part of the name); nothing was changed`,
        });
      }
    }
    for (const source of sources) {
      const { open, tables, mine } = await expand(source);
      try {
        // Every problem of every policy of this source first: nothing runs while one is impossible.
        if (mine.problems.length) {
          const problems = mine.problems;
          throw new ConfigError('CONFIG_INVALID', `${problems.length} retention polic${problems.length === 1 ? 'y problem' : 'y problems'} in ${file}: ${problems[0]!.path}: ${problems[0]!.message}`, {
            hint: 'Fix them; nothing was changed',
            issues: problems.map((p) => `${p.path}: ${p.message}`),
          });
        }
        skipped.push(...mine.skipped.filter((k) => !options.policy?.length || options.policy.includes(k.policy)).map((k) => ({ ...k, source })));
        const holds = holdFilterFor(store, open, new Date());
        for (const { policy, index } of mine.policies.filter((m) => selectedBy(m.policy, options.policy))) {
          const table = findTable(tables, policy.table);
          const hashKey = keyring && table ? hashKeyOf(keyring, source, table) : undefined;
          let result: T;
          try {
            result = await fn({
              source: open,
              store,
              policy,
              index,
              holds,
              actor: currentActor(),
              tables,
              batchSize: config.retention.batchSize,
              ...(hashKey ? { hashKey } : {}),
              ...(keyProblem ? { hashKeyProblem: keyProblem } : {}),
              archive: { dir: path.resolve(loaded.dir, config.retention.archive.dir), recipients: config.retention.archive.recipients },
            });
          } catch (e) {
            // Fails closed for this table only: its rows are kept, the other policies run.
            if (e instanceof HoldError) {
              failures.push({ policy: policy.name, source, error: e });
              continue;
            }
            throw e;
          }
          out.push(result);
        }
      } finally {
        await open.close();
      }
    }
  } finally {
    await store.close();
  }
  return out;
}

/**
 * The keyed-hash key of a cleaned column: the keyring's blind-index key of a scope of its
 * own (`<column>#retention-hash` on the physical table), so a cleanup hash is never the
 * column's blind index and cannot be matched against one.
 */
function hashKeyOf(keyring: Keyring, source: string, table: TableInfo) {
  return (column: string) => keyring.blindIndexKey({ source, table: `${table.schema}.${table.name}`, column: `${column}#retention-hash` });
}

/** `steward retention plan`: per policy, what is due, held, without a reference date, and what goes with it. No writes. */
export async function retentionPlan(options: RetentionOptions, io: Io): Promise<number> {
  const skipped: Skipped[] = [];
  const failures: PolicyFailure[] = [];
  const plans = await withEach({ ...options, planOnly: true }, io, planPolicy, skipped, failures);
  if (options.json) {
    io.stdout.write(`${stringifyJson({ plans, skipped, failed: failedJson(failures) }, 2)}\n`);
    return failures.length ? ExitCode.Source : 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const lines = plans.map((p) => planText(p, c));
  for (const k of skipped) lines.push((k.table ? c.dim : c.yellow)(`${shown(k.policy)}: ${k.table ? `${shown(k.source)}.${shown(k.table)}: ` : `source "${shown(k.source)}": `}${shown(k.reason)}`));
  io.stdout.write(`${lines.join('\n')}\n`);
  return reportFailures(failures, io);
}

const failedJson = (failures: readonly PolicyFailure[]) => failures.map((f) => ({ policy: f.policy, source: f.source, error: f.error.toJSON() }));

/** Each policy that could not run, on stderr; exit 4 when there was one. */
function reportFailures(failures: readonly PolicyFailure[], io: Io): number {
  for (const f of failures) io.stderr.write(`steward: error: policy "${shown(f.policy)}" did not run: ${shown(f.error.toUserString())}\n`);
  return failures.length ? ExitCode.Source : 0;
}

function planText(p: RetentionPlan, c: ReturnType<typeof pc.createColors>): string {
  const lines = [
    c.bold(`${shown(p.policy)}: ${shown(p.method)} ${shown(p.source)}.${shown(p.table)} after ${shown(p.period)} (${shown(p.legalBasis)})`),
    `  due: ${p.due} row(s) with a reference date on or before ${p.cutoff.slice(0, 19)}Z${p.oldest ? `, the oldest ${p.oldest.slice(0, 10)}` : ''}`,
  ];
  if (p.held) lines.push(`  held: ${p.held} of them are on legal hold and will be kept`);
  for (const ch of p.children) lines.push(`  with them: ${ch.rows} row(s) of ${shown(ch.table)}`);
  if (p.nullReference) lines.push(c.yellow(`  ${p.nullReference} row(s) have no reference date: they are never due, and never deleted silently (see steward audit)`));
  for (const w of p.warnings) lines.push(c.yellow(`  warning: ${shown(w)}`));
  lines.push(`  estimated time: about ${p.estimatedSeconds} s${p.resumes ? `; resumes run ${p.resumes.slice(0, 8)}` : ''}`);
  return lines.join('\n');
}

/** `steward retention apply`: runs the policies (or `--policy`), writes a certificate per run. `--dry-run` is the plan. */
export async function retentionApply(options: RetentionOptions, io: Io): Promise<number> {
  if (options.dryRun) return retentionPlan(options, io);
  const bar = progressBar(io, !options.json);
  let certs: RetentionCertificate[];
  const skipped: Skipped[] = [];
  const failures: PolicyFailure[] = [];
  // Ctrl-C / SIGTERM: stop after the batch in flight (the job logs retention.interrupted; the same command resumes).
  try {
    certs = await stopOnSignals(
      (signal) => withEach(options, io, (ctx) => applyPolicy({ ...ctx, signal, onProgress: (p) => bar.update(p.done, p.total, `${ctx.policy.name} (${Math.round(p.rowsPerSecond)} rows/s)`) }), skipped, failures),
      () => io.stderr.write('steward: stopping after the batch in flight…\n'),
    );
  } finally {
    bar.done();
  }
  if (options.json) {
    io.stdout.write(`${stringifyJson({ certificates: certs, skipped, failed: failedJson(failures) }, 2)}\n`);
    return failures.length ? ExitCode.Source : 0;
  }
  for (const k of skipped) if (!k.table) io.stdout.write(`Not run: policy "${shown(k.policy)}" on source "${shown(k.source)}" ${shown(k.reason)}.\n`);
  for (const cert of certs) {
    if (!cert.runId) {
      io.stdout.write(`Nothing due under policy "${shown(cert.policy)}" (${shown(cert.source)}.${shown(cert.table)}, cut-off ${cert.cutoff.slice(0, 10)})${cert.remaining ? `; ${cert.remaining} due row(s) are on legal hold` : ''}.\n`);
      continue;
    }
    const verb = cert.method === 'erase' ? 'Erased' : cert.method === 'cleanup' ? 'Cleaned up' : 'Archived';
    io.stdout.write(`${verb} ${cert.rows} row(s) of ${shown(cert.source)}.${shown(cert.table)}${cert.childRows ? ` and ${cert.childRows} child row(s)` : ''} under policy "${shown(cert.policy)}" (cut-off ${cert.cutoff.slice(0, 10)}); certificate ${cert.runId.slice(0, 8)}, keys ${cert.keysSha256.slice(0, 16)}…${cert.remaining ? `; ${cert.remaining} due row(s) kept (held, or changed during the run)` : ''}.\n`);
  }
  return reportFailures(failures, io);
}

/** `steward retention certificates`: the deletion certificates in the activity log. */
export async function retentionCertificates(options: RetentionOptions & { readonly limit?: number }, io: Io): Promise<number> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env, deferSourceUrls: true });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  const certs: (RetentionCertificate & { seq: number; at: string; actor: string; entryHash: string | null })[] = [];
  try {
    for await (const batch of store.activityBatches({ action: 'retention.certificate', ...(options.limit ? { last: options.limit } : {}) })) {
      for (const e of batch) {
        const d = e.details as unknown as RetentionCertificate;
        // A category policy's certificates are per table (`name[schema.table]`); its name selects them all.
        if (options.policy?.length && !options.policy.some((n) => d.policy === n || d.policy.startsWith(`${n}[`))) continue;
        certs.push({ ...d, seq: e.seq, at: e.at, actor: e.actor, entryHash: e.hash });
      }
    }
  } finally {
    await store.close();
  }
  if (options.json) {
    io.stdout.write(`${stringifyJson({ certificates: certs }, 2)}\n`);
    return 0;
  }
  if (certs.length === 0) {
    io.stdout.write('No deletion certificates yet: `steward retention apply` writes one per run.\n');
    return 0;
  }
  for (const c of certs) {
    io.stdout.write(`#${c.seq} ${c.at.slice(0, 19)}Z ${padEnd(shown(c.policy), 20)} ${c.method.padEnd(7)} ${String(c.rows).padStart(8)} rows ${shown(c.source)}.${shown(c.table)}  cut-off ${c.cutoff.slice(0, 10)}  keys ${c.keysSha256.slice(0, 16)}…  by ${shown(c.actor)}\n`);
  }
  return 0;
}

export interface ReclaimOptions {
  readonly config?: string;
  readonly source?: string;
  readonly table?: string;
  readonly full?: boolean;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/**
 * `steward retention reclaim`: after deletions, asks the database to drop the
 * deleted rows' bytes from the table's files (SQLite VACUUM, Postgres VACUUM
 * [FULL], MySQL OPTIMIZE TABLE), and says plainly what still holds them.
 */
export async function retentionReclaim(options: ReclaimOptions, io: Io): Promise<number> {
  if (!options.source || !options.table) throw new UsageError('--source and --table are required', { hint: 'For example: steward retention reclaim --source shop --table customers' });
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const cfg = loaded.config.sources.find((s) => s.name === options.source);
  if (!cfg) throw new UsageError(`unknown source "${options.source}"`, { hint: `Sources in ${path.relative(io.cwd, loaded.path) || loaded.path}: ${loaded.config.sources.map((s) => s.name).join(', ')}` });
  const source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { command: 'retention' });
  let result: { statements: readonly string[]; remains: readonly string[]; ran: boolean };
  try {
    const { findTable } = await import('../../../retention/policy.js');
    const table = findTable(await source.introspect(), options.table);
    if (!table) throw new UsageError(`source "${cfg.name}" has no table ${options.table}`);
    const plan = source.writer.reclaim(table, options.full ?? false);
    if (!options.dryRun) {
      const { sql } = await import('kysely');
      for (const stmt of plan.statements) await sql.raw(stmt).execute(source.db);
      const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
      try {
        await store.appendActivity({ actor: currentActor(), action: 'retention.reclaimed', subject: { source: cfg.name, table: `${table.schema}.${table.name}` }, details: { statements: [...plan.statements] } });
      } finally {
        await store.close();
      }
    }
    result = { ...plan, ran: !options.dryRun };
  } finally {
    await source.close();
  }
  if (options.json) io.stdout.write(`${stringifyJson(result, 2)}\n`);
  else {
    io.stdout.write(`${result.ran ? 'Ran' : 'Would run'}: ${shown(result.statements.join('; '))}\nStill holding deleted rows:\n${result.remains.map((r) => `  - ${shown(r)}`).join('\n')}\n  - Encrypted columns close this gap: destroying their key (steward keys destroy) makes every copy unreadable, backups included.\n`);
  }
  return 0;
}
