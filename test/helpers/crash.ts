/**
 * Crash tests' kill: run the built CLI, wait until it has shown progress (a checkpoint
 * of one of its jobs in the state store: a running job's counts changed since the run
 * started), then kill it after a random further delay. A kill on a fixed timer lands
 * before any work on a loaded machine and proves nothing; this one always lands after
 * some work, at a random point of what follows.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface KillRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** A checkpoint was seen before the process ended (or was killed). */
  readonly progressed: boolean;
}

export interface KillOptions {
  readonly bin: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The SQLite state store the run checkpoints into (`.steward/state.db`). */
  readonly stateDb: string;
  /** Kill (with `signal`) this many ms after the first checkpoint; null: let it finish. */
  readonly delayMs: number | null;
  readonly signal?: NodeJS.Signals;
}

/** Running jobs' counts, by job id (empty while the store does not exist yet). */
function runningCounts(stateDb: string): Map<string, string> | null {
  if (!existsSync(stateDb)) return new Map();
  let db: Database.Database | undefined;
  try {
    db = new Database(stateDb, { readonly: true, fileMustExist: true });
    const rows = db.prepare("select id, counts_json as counts from column_jobs where status = 'running'").all() as { id: string; counts: string }[];
    return new Map(rows.map((r) => [r.id, r.counts]));
  } catch {
    return null; // being created, migrated or written: look again
  } finally {
    db?.close();
  }
}

const someWork = (counts: string) => Object.values(JSON.parse(counts) as Record<string, unknown>).some((v) => typeof v === 'number' && v > 0);

export function runAndKillAfterProgress(o: KillOptions): Promise<KillRun> {
  let before = runningCounts(o.stateDb);
  for (let i = 0; before === null && i < 50; i++) before = runningCounts(o.stateDb);
  const baseline = before ?? new Map<string, string>();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [o.bin, ...o.args], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited = false;
    let progressed = false;
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal, stderr, progressed });
    });
    if (o.delayMs === null) return;
    const delay = o.delayMs;
    void (async () => {
      while (!exited) {
        const now = runningCounts(o.stateDb);
        if (now) {
          for (const [id, counts] of now) {
            const was = baseline.get(id);
            if (was === undefined ? someWork(counts) : was !== counts) progressed = true;
          }
        }
        if (progressed) {
          await new Promise((r) => setTimeout(r, delay));
          if (!exited) child.kill(o.signal ?? 'SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  });
}
