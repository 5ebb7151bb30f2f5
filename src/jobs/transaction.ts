/**
 * One batch, one short transaction: a bounded lock wait, and a retry when the
 * bound is reached (or the database picked the batch as a deadlock's victim).
 * The batch's function runs again from the start on a retry, so it must not
 * keep anything from a failed attempt (it is given the attempt number).
 */
import type { Kysely } from 'kysely';
import type { Source } from '../sources/types.js';

/** Lock waits past the bound and deadlocks, per driver: the batch is retried. */
const LOCK_CODES = new Set(['55P03', '40P01', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'SQLITE_BUSY']);

/** Attempts of a batch before its lock timeout is the job's error. */
export const BATCH_ATTEMPTS = 4;

/** Longest a batch waits for a row lock, unless the job says otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 2000;

/** True when `e` is a lock wait past the bound or a deadlock (worth a retry). */
export function isLockTimeout(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && LOCK_CODES.has(code);
}

/**
 * Runs `fn` in one transaction whose row-lock waits are bounded by `lockTimeoutMs`;
 * on a lock timeout or a deadlock the transaction is rolled back and run again
 * (after 200, 400, 800 ms), then the error is thrown.
 */
export async function batchTransaction<T>(source: Source, lockTimeoutMs: number, fn: (trx: Kysely<any>, attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await source.db.transaction().execute(async (trx) => {
        await source.writer.boundLockWait(trx, lockTimeoutMs);
        return fn(trx, attempt);
      });
    } catch (e) {
      if (attempt < BATCH_ATTEMPTS && isLockTimeout(e)) {
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        continue;
      }
      throw e;
    }
  }
}
