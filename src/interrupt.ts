/**
 * Interruption of long destructive jobs. The CLI turns SIGINT/SIGTERM into an
 * aborted {@link AbortSignal}; a job checks {@link throwIfInterrupted} between
 * batches (never inside one), logs its own `.interrupted` entry with how far it
 * got, and the same command resumes it. Library callers pass any AbortSignal.
 *
 * On SQLite (better-sqlite3 is synchronous) a batch can run as microtasks only: a job
 * must yield to the event loop (`await new Promise((r) => setImmediate(r))`) before it
 * checks, or the signal's handler runs only after the whole job.
 */
import { InterruptedError } from './errors.js';

/** Throws InterruptedError when `signal` is aborted; `what` names the job ("encrypt shop.public.users.email"). */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string, progress: string): void {
  if (!signal?.aborted) return;
  throw new InterruptedError(`${what} stopped on request after the batch in flight (${progress})`, {
    hint: 'Nothing is half done: run the same command again to resume where it stopped',
  });
}

/**
 * Runs `fn` with a signal that Ctrl-C or SIGTERM aborts (the CLI's destructive commands):
 * the job stops after the batch in flight; `onStop` says so once. The handlers are removed
 * when `fn` settles.
 */
export async function stopOnSignals<T>(fn: (signal: AbortSignal) => Promise<T>, onStop?: () => void): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) onStop?.();
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(stop.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
