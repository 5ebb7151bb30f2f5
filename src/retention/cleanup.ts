/**
 * Cleanup (anonymise in place), pure: what each method turns a value into.
 * Every method is idempotent — applying it to its own output changes nothing —
 * so a re-run after a crash never double-processes a row: rows whose values are
 * already clean are recognised and skipped.
 */
import { createHmac, type KeyObject } from 'node:crypto';

export type CleanupMethod = string; // null | hash | year | month | prefix:N | fixed:VALUE

/** Keyed hashes are written with this prefix, so a hashed value is recognised as clean. */
export const HASH_PREFIX = 'anon:';

function dateParts(v: unknown): { y: number; m: number } | null {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return { y: v.getUTCFullYear(), m: v.getUTCMonth() + 1 };
  if (typeof v === 'string') {
    const m = /^(\d{4})-(\d{2})/.exec(v);
    if (m) return { y: Number(m[1]), m: Number(m[2]) };
  }
  return null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The cleaned form of `value`. `hashKey` is needed only by `hash` (a per-column
 * secret from the keyring, so hashes cannot be reversed by guessing).
 */
export function cleanValue(value: unknown, method: CleanupMethod, hashKey?: KeyObject | null): unknown {
  if (value === null || value === undefined) return null;
  if (method === 'null') return null;
  if (method.startsWith('fixed:')) return method.slice('fixed:'.length);
  if (method === 'hash') {
    const text = value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? value.toString('base64') : String(value);
    if (text.startsWith(HASH_PREFIX)) return text;
    if (!hashKey) throw new Error('cleanup method "hash" needs a key');
    return HASH_PREFIX + createHmac('sha256', hashKey).update(text, 'utf8').digest('hex').slice(0, 32);
  }
  if (method === 'year' || method === 'month') {
    const d = dateParts(value);
    if (!d) return null; // not a date: nothing general to keep
    const text = `${d.y}-${method === 'year' ? '01' : pad(d.m)}-01`;
    return value instanceof Date ? new Date(`${text}T00:00:00Z`) : text;
  }
  const prefix = /^prefix:(\d+)$/.exec(method);
  if (prefix) {
    const n = Number(prefix[1]);
    const text = String(value);
    return text.length <= n ? value : text.slice(0, n);
  }
  throw new Error(`unknown cleanup method "${method}"`);
}

/** Whether cleaning changes anything (dates compared by instant). */
export function changes(before: unknown, after: unknown): boolean {
  if (before instanceof Date && after instanceof Date) return before.getTime() !== after.getTime();
  if (before instanceof Date && typeof after === 'string') return before.toISOString().slice(0, 10) !== after;
  return before !== after && !(before === undefined && after === null);
}
