/**
 * `steward audit diff [from] [to]` and `steward audit runs`: what changed
 * between two recorded runs of one stage (appeared, fixed, changed severity,
 * personal-data columns added or removed), from the state store alone — no
 * source is contacted.
 */
import pc from 'picocolors';
import { compareWithPrevious } from '../../../audit/compare.js';
import type { AuditDiff, Finding } from '../../../audit/types.js';
import { UsageError } from '../../../errors.js';
import type { StateStore, StoredRun } from '../../../state/index.js';
import { withStore } from './log.js';
import { shown, stringifyJson, useColor, type Io } from '../output.js';

export interface AuditDiffOptions {
  readonly config?: string;
  readonly stage?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** A run by full id or unique prefix (at least 4 characters). */
async function resolveRun(store: StateStore, ref: string): Promise<StoredRun> {
  if (ref.length < 4) throw new UsageError(`run "${ref}" is too short to identify a run`, { hint: 'Give at least 4 characters of a run id; `steward audit runs` lists them' });
  const exact = await store.getRun(ref);
  if (exact) return exact;
  const matches = (await store.listRuns()).filter((r) => r.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  throw new UsageError(matches.length === 0 ? `no recorded audit run has an id starting with "${ref}"` : `"${ref}" matches ${matches.length} runs`, {
    hint: 'List recorded runs with `steward audit runs` and give more of the id',
  });
}

export interface RunsDiff {
  readonly from: StoredRun;
  readonly to: StoredRun;
  readonly diff: AuditDiff;
}

/** The diff between two stored runs; `to` defaults to the latest run of the stage, `from` to the run before `to`. */
export async function diffRuns(store: StateStore, refs: { from?: string | undefined; to?: string | undefined; stage?: string | undefined }): Promise<RunsDiff> {
  let to: StoredRun | null = refs.to ? await resolveRun(store, refs.to) : null;
  let from: StoredRun | null = refs.from ? await resolveRun(store, refs.from) : null;
  if (from && !refs.to) {
    // One run given: compare it with the run before it.
    to = from;
    from = null;
  }
  const stage = to?.stage ?? refs.stage ?? 'collection';
  if (!to) {
    to = (await store.listRuns({ stage, limit: 1 }))[0] ?? null;
    if (!to) throw new UsageError(`no ${stage} audit has been recorded yet`, { hint: `Run \`steward audit --stage ${stage}\` first` });
  }
  if (!from) {
    from = await store.previousRun(to.stage, { before: to.id });
    if (!from) throw new UsageError(`run ${to.id} is the first ${to.stage} audit: there is nothing before it to compare with`, { hint: 'Run the stage again later, or name two runs: `steward audit diff <from> <to>`' });
  }
  if (from.stage !== to.stage) {
    throw new UsageError(`run ${from.id} is a ${from.stage} audit and run ${to.id} a ${to.stage} audit: only runs of one stage compare`, { hint: 'Pick two runs of the same stage from `steward audit runs`' });
  }
  const [fromFindings, fromInventory, toFindings, toInventory] = await Promise.all([
    store.loadFindings(from.id),
    store.loadInventory(from.id),
    store.loadFindings(to.id),
    store.loadInventory(to.id),
  ]);
  const covered = to.sources.map((s) => s.name);
  const completed = to.sources.filter((s) => s.status === 'ok').map((s) => s.name);
  const drafts = toFindings.map(({ status: _status, ...f }) => f);
  const { diff } = compareWithPrevious(drafts, toInventory, covered, { runId: from.id, finishedAt: from.finishedAt, findings: fromFindings, inventory: fromInventory }, completed);
  return { from, to, diff: diff! };
}

/** `steward audit diff`. Exit 0; 2 when a run cannot be found or the runs do not compare. */
export async function auditDiff(from: string | undefined, to: string | undefined, options: AuditDiffOptions, io: Io): Promise<number> {
  const result = await withStore(options, io, (store) => diffRuns(store, { from, to, stage: options.stage }));
  if (options.json) {
    io.stdout.write(`${stringifyJson({ from: header(result.from), to: header(result.to), ...result.diff }, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(useColor(io, options.color));
  const { diff: d } = result;
  const out: string[] = [];
  out.push(c.bold(`${shown(result.to.stage)} audit: run ${shown(result.from.id.slice(0, 8))} (${day(result.from.finishedAt)}) → run ${shown(result.to.id.slice(0, 8))} (${day(result.to.finishedAt)})`));
  out.push(`${d.appeared.length} appeared, ${d.fixed.length} fixed, ${d.changedSeverity.length} changed severity; personal-data columns +${d.inventoryAdded.length} −${d.inventoryRemoved.length}`);
  const line = (mark: string, color: (s: string) => string, f: Finding, sev: string) =>
    out.push(`  ${color(mark)} ${shown(f.id)}  ${shown(sev).padEnd(8)} ${shown(f.title)} · ${shown([f.location.source, f.location.schema, f.location.table, f.location.column].filter(Boolean).join('.'))}`);
  if (d.appeared.length) out.push('', c.bold('Appeared'));
  for (const f of d.appeared) line('+', c.red, f, f.severity);
  if (d.fixed.length) out.push('', c.bold('Fixed'));
  for (const f of d.fixed) line('-', c.green, f, f.severity);
  if (d.changedSeverity.length) out.push('', c.bold('Changed severity'));
  for (const { finding, from: was } of d.changedSeverity) line('~', c.yellow, finding, `${was} → ${finding.severity}`);
  if (d.inventoryAdded.length || d.inventoryRemoved.length) out.push('', c.bold('Personal-data columns'));
  for (const k of d.inventoryAdded) out.push(`  ${c.red('+')} ${shown(k)}`);
  for (const k of d.inventoryRemoved) out.push(`  ${c.green('-')} ${shown(k)}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** `steward audit runs`: recorded runs, newest first. */
export async function auditRuns(options: AuditDiffOptions & { readonly limit?: number }, io: Io): Promise<number> {
  const runs = await withStore(options, io, (store) => store.listRuns({ ...(options.stage ? { stage: options.stage } : {}), limit: options.limit ?? 20 }));
  if (options.json) {
    io.stdout.write(`${stringifyJson(runs.map(header), 2)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    io.stdout.write('No audit has been recorded yet. Run `steward audit`.\n');
    return 0;
  }
  const rows = runs.map((r) => {
    const f = r.summary.findingsBySeverity;
    const counts = (['critical', 'high', 'medium', 'low', 'info'] as const).filter((s) => f[s] > 0).map((s) => `${f[s]} ${s}`).join(', ') || 'no findings';
    return `${shown(r.id.slice(0, 8))}  ${day(r.finishedAt)}  ${shown(r.stage).padEnd(10)} ${shown(r.status).padEnd(7)} ${r.sources.map((s) => shown(s.name)).join(',')}  ${counts}`;
  });
  io.stdout.write(`${rows.join('\n')}\n`);
  return 0;
}

function header(r: StoredRun) {
  return { id: r.id, stage: r.stage, startedAt: r.startedAt, finishedAt: r.finishedAt, status: r.status, sources: r.sources.map((s) => ({ name: s.name, status: s.status })), findingsBySeverity: r.summary.findingsBySeverity };
}

const day = (iso: string) => `${shown(iso.replace('T', ' ').slice(0, 16))}Z`;
