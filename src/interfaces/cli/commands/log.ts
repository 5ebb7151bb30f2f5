import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../../config/index.js';
import { TamperError, UsageError } from '../../../errors.js';
import { checkpoint, checkpointSignatureValid, type Checkpoint } from '../../../state/activity-log.js';
import { openStateStore, type StateStore } from '../../../state/index.js';
import type { Io } from '../output.js';

interface Common {
  readonly config?: string;
  readonly json?: boolean;
}

async function withStore<T>(options: Common, io: Io, fn: (store: StateStore) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({ path: options.config, cwd: io.cwd, env: io.env });
  const store = await openStateStore({ url: loaded.config.state.url, baseDir: loaded.dir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export interface LogListOptions extends Common {
  readonly action?: string;
  readonly since?: string;
  readonly limit?: number;
}

/** `steward log`: entries, newest last, filtered. */
export async function logList(options: LogListOptions, io: Io): Promise<number> {
  if (options.since && Number.isNaN(Date.parse(options.since))) throw new UsageError(`--since "${options.since}" is not a date`, { hint: 'Use an ISO-8601 date such as 2026-01-31 or 2026-01-31T12:00:00Z' });
  const since = options.since ? new Date(options.since).toISOString() : undefined;
  const entries = await withStore(options, io, async (store) => {
    const out = [];
    for await (const batch of store.activityBatches()) {
      for (const e of batch) if ((!options.action || e.action === options.action) && (!since || e.at >= since)) out.push(e);
    }
    return options.limit ? out.slice(-options.limit) : out;
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    io.stdout.write('The activity log has no matching entries.\n');
    return 0;
  }
  for (const e of entries) {
    io.stdout.write(`${String(e.seq).padStart(5)}  ${e.at}  ${e.actor.padEnd(10)}  ${e.action.padEnd(16)}  ${JSON.stringify(e.subject)}  ${JSON.stringify(e.details)}\n`);
  }
  return 0;
}

export interface LogVerifyOptions extends Common {
  readonly checkpoint?: string;
  readonly publicKey?: string;
}

/** `steward log verify`: exit 0 when the chain (and checkpoint) hold; exit 6 naming the first broken entry. */
export async function logVerify(options: LogVerifyOptions, io: Io): Promise<number> {
  if (Boolean(options.checkpoint) !== Boolean(options.publicKey)) {
    throw new UsageError('--checkpoint and --public-key go together', { hint: 'Pass both: the checkpoint file and the Ed25519 public key (PEM) it was signed with' });
  }
  const cp = options.checkpoint ? (JSON.parse(await readFile(path.resolve(io.cwd, options.checkpoint), 'utf8')) as Checkpoint) : null;
  const pub = options.publicKey ? await readFile(path.resolve(io.cwd, options.publicKey), 'utf8') : null;
  const { result, held } = await withStore(options, io, async (store) => ({
    result: await store.verifyActivityLog(),
    held: cp ? await store.activityHash(cp.seq) : null,
  }));
  if (!result.ok) {
    const b = result.firstBroken!;
    throw new TamperError(`activity log broken at entry ${b.seq} (${b.reason}): ${b.detail}`, {
      hint: 'Entries before it are intact. Restore the state store from a backup or a copy, and find out who had write access to it',
    });
  }
  if (cp && pub) {
    if (!checkpointSignatureValid(cp, pub)) throw new TamperError(`checkpoint ${options.checkpoint} is not signed by that public key, or was edited`, { hint: 'Check that you passed the public key matching the checkpoint\'s keyFingerprint' });
    if (held !== cp.hash) {
      throw new TamperError(`the activity log no longer holds the entry checkpointed at seq ${cp.seq} (${cp.at}): the log was rewritten after the checkpoint`, {
        hint: 'Every entry after the last good checkpoint is suspect. Restore the state store from a backup taken before the rewrite',
      });
    }
  }
  const msg = `activity log intact: ${result.entries} ${result.entries === 1 ? "entry" : "entries"}${cp ? `; checkpoint at entry ${cp.seq} holds` : ''}`;
  io.stdout.write(options.json ? `${JSON.stringify({ ok: true, entries: result.entries, lastSeq: result.lastSeq, lastHash: result.lastHash, checkpoint: cp ? 'ok' : null })}\n` : `${msg}\n`);
  return 0;
}

export interface LogCheckpointOptions extends Common {
  readonly key: string;
  readonly out?: string;
}

/** `steward log checkpoint`: signs the current head of the log with an Ed25519 key kept away from the store. */
export async function logCheckpoint(options: LogCheckpointOptions, io: Io): Promise<number> {
  const pem = await readFile(path.resolve(io.cwd, options.key), 'utf8').catch((e: unknown) => {
    throw new UsageError(`cannot read the key ${options.key}: ${e instanceof Error ? e.message : String(e)}`, { hint: 'Create one with `openssl genpkey -algorithm ed25519 -out steward-log.pem`' });
  });
  const head = await withStore(options, io, (store) => store.verifyActivityLog());
  if (!head.ok) throw new TamperError(`refusing to checkpoint a broken log (entry ${head.firstBroken!.seq}, ${head.firstBroken!.reason})`, { hint: 'Run `steward log verify` first' });
  if (head.entries === 0) throw new UsageError('the activity log is empty: nothing to checkpoint', { hint: 'Run an audit first' });
  let cp: Checkpoint;
  try {
    cp = checkpoint({ seq: head.lastSeq, hash: head.lastHash }, pem, new Date().toISOString());
  } catch (e) {
    throw new UsageError(`${options.key} is not an Ed25519 private key (${e instanceof Error ? e.message : String(e)})`, { hint: 'Create one with `openssl genpkey -algorithm ed25519 -out steward-log.pem`' });
  }
  const text = `${JSON.stringify(cp, null, 2)}\n`;
  if (options.out) {
    await writeFile(path.resolve(io.cwd, options.out), text, 'utf8');
    io.stderr.write(`steward: checkpoint of entry ${cp.seq} written to ${options.out}; keep it (and the public key) away from the state store.\n`);
  } else io.stdout.write(text);
  return 0;
}
