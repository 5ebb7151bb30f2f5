/**
 * `steward log`, `steward log verify`, `steward log checkpoint`: the
 * hash-chained activity log (src/state/activity-log.ts). Entries hold ids,
 * counts and locations only, never a personal value.
 */
import { readFile } from 'node:fs/promises';
import { checkWritable, writeUserFile } from '../../../files.js';
import path from 'node:path';
import { loadConfig } from '../../../config/index.js';
import { ExitCode, TamperError, UsageError, isStewardError } from '../../../errors.js';
import { exportCheckpoint, verifyCheckpoint, type Checkpoint, type CheckpointCheck, type StoredActivity } from '../../../state/activity-log.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import { shown as safe, stringifyJson, type Io } from '../output.js';

interface Common {
  readonly config?: string;
  readonly json?: boolean;
}

const KEY_HINT = 'Create one with `openssl genpkey -algorithm ed25519 -out steward-log.pem` and its public key with `openssl pkey -in steward-log.pem -pubout -out steward-log.pub`';

/** Loads steward.yml, opens its state store for `fn`, closes it. */
export async function withStore<T>(options: { readonly config?: string | undefined }, io: Io, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env, deferSourceUrls: true });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function readText(io: Io, file: string, what: string, hint: string): Promise<string> {
  try {
    return await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`, { hint });
  }
}

export interface LogListOptions extends Common {
  readonly action?: string;
  readonly since?: string;
  readonly limit?: number;
}

/** `steward log`: matching entries in seq order (the last `--limit` of them), streamed from the store. */
export async function logList(options: LogListOptions, io: Io): Promise<number> {
  if (options.since && Number.isNaN(Date.parse(options.since))) throw new UsageError(`--since "${options.since}" is not a date`, { hint: 'Use an ISO-8601 date such as 2026-01-31 or 2026-01-31T12:00:00Z' });
  const since = options.since ? new Date(options.since).toISOString() : undefined;
  let shown = 0;
  await withStore(options, io, async (store) => {
    const batches = store.activityBatches({
      ...(options.action ? { action: options.action } : {}),
      ...(since ? { since } : {}),
      ...(options.limit ? { last: options.limit } : {}),
    });
    if (options.json) io.stdout.write('[');
    for await (const batch of batches) {
      for (const e of batch) {
        if (options.json) io.stdout.write(`${shown ? ',' : ''}\n  ${stringifyJson(e)}`);
        else {
          if (shown === 0) io.stdout.write(`${'seq'.padStart(5)}  ${'at'.padEnd(24)}  ${'actor'.padEnd(10)}  ${'action'.padEnd(16)}  subject · details\n`);
          io.stdout.write(row(e));
        }
        shown++;
      }
    }
    if (options.json) io.stdout.write(shown ? '\n]\n' : ']\n');
  });
  if (!options.json && shown === 0) io.stdout.write('The activity log has no matching entries.\n');
  return 0;
}

function row(e: StoredActivity): string {
  return `${String(e.seq).padStart(5)}  ${safe(e.at).padEnd(24)}  ${safe(e.actor).padEnd(10)}  ${safe(e.action).padEnd(16)}  ${stringifyJson(e.subject)} · ${stringifyJson(e.details)}\n`;
}

export interface LogVerifyOptions extends Common {
  readonly checkpoint?: string;
  readonly publicKey?: string;
}

function parseCheckpoint(text: string, file: string): Checkpoint {
  let c: Partial<Checkpoint> | undefined;
  try {
    c = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    c = undefined;
  }
  if (!c || typeof c !== 'object' || c.format !== 'steward-log-checkpoint/1' || !Number.isInteger(c.seq) || typeof c.hash !== 'string' || typeof c.at !== 'string' || typeof c.signature !== 'string') {
    throw new UsageError(`${file} is not a Steward log checkpoint`, { hint: 'Pass a file written by `steward log checkpoint`' });
  }
  return c as Checkpoint;
}

/** `steward log verify`: exit 0 when the chain (and checkpoint) hold; exit 6 naming the first broken entry. */
export async function logVerify(options: LogVerifyOptions, io: Io): Promise<number> {
  if (Boolean(options.checkpoint) !== Boolean(options.publicKey)) {
    throw new UsageError('--checkpoint and --public-key go together', { hint: 'Pass both: the checkpoint file and the Ed25519 public key (PEM) it was signed with' });
  }
  const cp = options.checkpoint ? parseCheckpoint(await readText(io, options.checkpoint, 'checkpoint', 'Pass a file written by `steward log checkpoint`'), options.checkpoint) : null;
  const pub = options.publicKey ? await readText(io, options.publicKey, 'public key', KEY_HINT) : null;
  const { result, held } = await withStore(options, io, async (store) => ({
    result: await store.verifyActivityLog(),
    held: cp && pub ? await verifyCheckpoint(cp, pub, store) : null,
  }));
  const summary = {
    ok: result.ok && (held === null || held.ok),
    entries: result.entries,
    lastSeq: result.lastSeq,
    lastHash: result.lastHash,
    ...(result.firstBroken ? { firstBroken: result.firstBroken, hint: brokenHint(result.firstBroken.reason) } : {}),
    checkpoint: cp ? { seq: cp.seq, at: cp.at, ...checkpointResult(held!) } : null,
  };
  if (options.json) {
    io.stdout.write(`${stringifyJson(summary)}\n`);
    return summary.ok ? 0 : ExitCode.Tampered;
  }
  if (!result.ok) {
    const b = result.firstBroken!;
    throw new TamperError(`activity log broken at entry ${b.seq} (${b.reason}): ${b.detail}`, { hint: brokenHint(b.reason) });
  }
  if (cp && held && !held.ok) {
    if (held.reason === 'signature') {
      throw new TamperError(`checkpoint ${options.checkpoint} is not signed by that public key, or was edited`, { hint: "Check that you passed the public key matching the checkpoint's keyFingerprint" });
    }
    throw new TamperError(`checkpoint ${options.checkpoint} does not match the activity log: ${held.detail}`, {
      hint: 'Every entry after the last good checkpoint is suspect. Restore the state store from a backup taken before the rewrite',
    });
  }
  io.stdout.write(`activity log intact: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}${cp ? `; checkpoint at entry ${cp.seq} holds` : ''}\n`);
  return 0;
}

/** What to do about a broken chain: a last entry cut mid-write is for `log repair`; anything else is tampering, for a backup. */
function brokenHint(reason: string): string {
  return reason === 'truncated'
    ? 'Entries before it are intact; a write was interrupted. Run `steward log repair --dry-run` to see what it would complete, then `steward log repair`; restore from a backup only if repair refuses'
    : 'Entries before it are intact. Restore the state store from a backup or a copy, and find out who had write access to it';
}

function checkpointResult(c: CheckpointCheck): { ok: boolean; reason?: string; detail?: string } {
  return c.ok ? { ok: true } : { ok: false, reason: c.reason, detail: c.detail };
}

export interface LogCheckpointOptions extends Common {
  readonly key: string;
  readonly out?: string;
}

/** `steward log checkpoint`: signs the current head of the log with an Ed25519 key kept away from the store. */
export async function logCheckpoint(options: LogCheckpointOptions, io: Io): Promise<number> {
  const out = options.out ? checkWritable(options.out, io.cwd, 'the checkpoint') : null;
  const privateKeyPem = await readText(io, options.key, 'key', KEY_HINT);
  const cp = await withStore(options, io, async (store) => {
    try {
      return await exportCheckpoint(store, { privateKeyPem });
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw new UsageError(`${options.key} is not an Ed25519 private key (${e instanceof Error ? e.message : String(e)})`, { hint: KEY_HINT });
    }
  });
  const text = `${stringifyJson(cp, 2)}\n`;
  if (options.out && out) {
    await writeUserFile(out, options.out, text, 'the checkpoint');
    io.stderr.write(`steward: checkpoint of entry ${cp.seq} written to ${safe(options.out)}; keep it (and the public key) away from the state store.\n`);
  } else io.stdout.write(text);
  return 0;
}

export interface LogRepairOptions extends Common {
  readonly dryRun?: boolean;
}

/**
 * `steward log repair`: completes a last entry that was cut mid-write (its
 * content is whole and links to the entry before it, but it has no hash), and
 * appends a `log.repaired` entry saying so. Anything else broken is refused:
 * that is tampering, for a backup to fix.
 */
export async function logRepair(options: LogRepairOptions, io: Io): Promise<number> {
  const { currentActor } = await import('../../../state/audit-history.js');
  const result = await withStore(options, io, (store) => store.repairActivityLog({ actor: currentActor(), dryRun: options.dryRun ?? false }));
  if (options.json) io.stdout.write(`${stringifyJson({ repaired: result.repaired !== null, dryRun: options.dryRun ?? false, message: result.message, ...(result.repaired ? { entry: result.repaired } : {}) })}\n`);
  else io.stdout.write(`${safe(result.message)}.\n`);
  return 0;
}
