/**
 * `steward hold add|list|release`: legal holds, rows no retention method may
 * touch until released or expired. Thin: the work is in src/retention/holds.ts.
 * Every command also writes the `hold.expired` entries of holds whose end has
 * passed since (so the log says when a hold lapsed, with or without the daemon).
 */
import pc from 'picocolors';
import { loadConfig } from '../../../config/index.js';
import { UsageError } from '../../../errors.js';
import { addHold, expireHolds, listHolds, releaseHold, type HoldView } from '../../../retention/holds.js';
import { openSource, type Source } from '../../../sources/index.js';
import { currentActor } from '../../../state/audit-history.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import { displayWidth, padEnd } from '../../reports/text.js';
import { shown, stringifyJson, useColor, type Io } from '../output.js';

interface Common {
  readonly config?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

export interface HoldAddOptions extends Common {
  readonly source?: string;
  readonly table?: string;
  readonly where?: string;
  readonly subjectColumn?: string;
  readonly subjectValue?: string;
  readonly subjectValueEnv?: string;
  readonly all?: boolean;
  readonly reason?: string;
  readonly until?: string;
  /** Seconds the checking query may run. */
  readonly timeout?: number;
}

export interface HoldListOptions extends Common {
  readonly source?: string;
  readonly all?: boolean;
  readonly subjectValue?: string;
  readonly subjectValueEnv?: string;
}

export interface HoldReleaseOptions extends Common {
  readonly reason?: string;
}

async function withStore<T>(options: Common, io: Io, fn: (ctx: { store: StateStore; config: Awaited<ReturnType<typeof loadConfig>>['config'] }) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env, deferSourceUrls: true });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    await expireHolds(store, { actor: currentActor() });
    return await fn({ store, config: loaded.config });
  } finally {
    await store.close();
  }
}

/** `--subject-value V` or `--subject-value-env VAR` (keeps the identifier out of shell history and `ps`). */
function subjectValue(options: { subjectValue?: string; subjectValueEnv?: string }, io: Io): string | undefined {
  if (options.subjectValue !== undefined && options.subjectValueEnv !== undefined) throw new UsageError('give the subject with --subject-value or --subject-value-env, not both');
  if (options.subjectValueEnv !== undefined) {
    const v = io.env[options.subjectValueEnv];
    if (v === undefined || v === '') throw new UsageError(`the environment variable ${options.subjectValueEnv} named by --subject-value-env is not set`, { hint: `export ${options.subjectValueEnv}='…' first` });
    return v;
  }
  return options.subjectValue;
}

const short = (id: string) => id.slice(0, 8);

/** `steward hold add`: places a hold, prints its id and how many rows it holds now. */
export async function holdAdd(options: HoldAddOptions, io: Io): Promise<number> {
  if (!options.source) throw new UsageError('--source is required', { hint: 'Name the source in steward.yml: --source shop' });
  if (!options.table) throw new UsageError('--table is required', { hint: 'TABLE or SCHEMA.TABLE: --table customers' });
  const value = subjectValue(options, io);
  if ((options.subjectColumn === undefined) !== (value === undefined)) {
    throw new UsageError('a subject hold needs both --subject-column and --subject-value (or --subject-value-env)', { hint: 'e.g. --subject-column email --subject-value-env SUBJECT' });
  }
  const result = await withStore(options, io, async ({ store, config }) => {
    const cfg = config.sources.find((s) => s.name === options.source);
    if (!cfg) throw new UsageError(`unknown source "${options.source}"`, { hint: `Sources in steward.yml: ${config.sources.map((s) => s.name).join(', ')}` });
    // Placing a hold only reads the source.
    const source: Source = await openSource({ name: cfg.name, kind: cfg.kind, url: cfg.url, connectTimeoutMs: cfg.connectTimeoutMs }, { readonly: true, command: 'hold' });
    try {
      return await addHold({
        store,
        source,
        table: options.table!,
        ...(options.where !== undefined ? { where: options.where } : {}),
        ...(options.subjectColumn !== undefined && value !== undefined ? { subject: { column: options.subjectColumn, value } } : {}),
        ...(options.all ? { all: true } : {}),
        reason: options.reason ?? '',
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(options.timeout !== undefined ? { timeoutMs: options.timeout * 1000 } : {}),
        actor: currentActor(),
      });
    } finally {
      await source.close();
    }
  });
  const h = result.hold;
  for (const w of result.warnings) io.stderr.write(`steward: warning: ${shown(w)}\n`);
  if (options.json) {
    io.stdout.write(`${stringifyJson({ id: h.id, rows: result.rows, hold: h, warnings: result.warnings }, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const what =
    h.kind === 'where'
      ? 'rows where the predicate is true, re-evaluated at every retention run'
      : h.kind === 'subject'
        ? `the rows whose ${shown(h.subjectColumn)} matched now, by primary key; rows written later for the same person are not held by it`
        : 'the whole table';
  const lines = [
    c.bold(`Hold ${short(h.id)} placed on ${shown(h.source)} ${shown(h.resolvedTable)}: ${result.rows} row(s) held now (${what}).`),
    `  id ${h.id}; ${h.until ? `in force until ${h.until}, then it expires` : 'in force until released'}.`,
  ];
  if (h.kind === 'where' && result.rows === 0) lines.push(c.yellow('  It holds no row now: check the predicate if you expected some (rows that match it later are held).'));
  lines.push(`  Recorded in the activity log (hold.added). Release it with: steward hold release ${short(h.id)} --reason "…"`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `steward hold list`: holds in force (with --all, released and expired ones too). */
export async function holdList(options: HoldListOptions, io: Io): Promise<number> {
  const value = subjectValue(options, io);
  const holds = await withStore(options, io, ({ store }) =>
    listHolds(store, { ...(options.source ? { source: options.source } : {}), includeReleased: options.all ?? false, ...(value !== undefined ? { subjectValue: value } : {}) }),
  );
  if (options.json) {
    io.stdout.write(`${stringifyJson(holds, 2)}\n`);
    return 0;
  }
  if (holds.length === 0) {
    io.stdout.write(options.all ? 'No legal hold has been placed.\n' : 'No legal hold is in force (`steward hold list --all` shows released and expired ones).\n');
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const status = (h: HoldView) => (h.status === 'active' ? c.green(h.status.padEnd(8)) : c.dim(h.status.padEnd(8)));
  const src = Math.max(6, ...holds.map((h) => displayWidth(shown(h.source))));
  const tbl = Math.max(5, ...holds.map((h) => displayWidth(shown(h.resolvedTable))));
  io.stdout.write(c.bold(`${'id'.padEnd(8)}  ${'status'.padEnd(8)}  ${'source'.padEnd(src)}  ${'table'.padEnd(tbl)}  ${'rows'.padStart(7)}  ${'until'.padEnd(24)}  holds · reason\n`));
  for (const h of holds) {
    const held = h.kind === 'where' ? `where ${shown(h.predicate)}` : h.kind === 'subject' ? `subject by ${shown(h.subjectColumn)} (${h.keyCount} row(s) by key)` : 'whole table';
    io.stdout.write(`${short(h.id)}  ${status(h)}  ${padEnd(shown(h.source), src)}  ${padEnd(shown(h.resolvedTable), tbl)}  ${String(h.heldRows).padStart(7)}  ${(h.until ?? '—').padEnd(24)}  ${held} · ${shown(h.reason)}\n`);
    if (h.status === 'released') io.stdout.write(c.dim(`          released ${h.releasedAt} by ${shown(h.releasedBy)}: ${shown(h.releaseReason)}\n`));
  }
  return 0;
}

/** `steward hold release <id>`: ends a hold (id or unique prefix), with the reason recorded. */
export async function holdRelease(id: string, options: HoldReleaseOptions, io: Io): Promise<number> {
  const h = await withStore(options, io, ({ store }) => releaseHold(store, id, { actor: currentActor(), reason: options.reason ?? '' }));
  if (options.json) io.stdout.write(`${stringifyJson(h, 2)}\n`);
  else io.stdout.write(`Hold ${short(h.id)} released: the rows it held in ${shown(h.source)} ${shown(h.resolvedTable)} are subject to retention again. Recorded in the activity log (hold.released).\n`);
  return 0;
}
