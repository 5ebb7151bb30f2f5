/**
 * What erase.ts and correct.ts share: key lists over a table's primary key, the keyed
 * hash that finds an open request's job again, and small collection helpers.
 */
import { createHmac } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { AuthenticationFailed, gcmOpen, gcmSeal, NONCE_BYTES, randomNonce } from '../crypto/primitives.js';
import type { TableInfo } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import { keysDigest } from './erase-plan.js';
import type { Identifier } from './identifiers.js';

/** `k in (…)`, or for a composite key `(k1 = ? and k2 = ?) or …` (SQLite has no row-value lists). */
export function keyListIn(t: TableInfo, keys: readonly (readonly unknown[])[]): RawBuilder<unknown> {
  const pk = t.primaryKey;
  if (keys.length === 0) return sql`1 = 0`;
  if (pk.length === 1) return sql`${sql.id(pk[0]!)} in (${sql.join(keys.map((k) => sql`${k[0]}`))})`;
  return sql`(${sql.join(keys.map((k) => sql`(${sql.join(pk.map((c, i) => sql`${sql.id(c)} = ${k[i]}`), sql` and `)})`), sql` or `)})`;
}

/** `k1 = ? and k2 = ?` for one row. */
export function keyEquals(pk: readonly string[], row: Readonly<Record<string, unknown>>): RawBuilder<unknown> {
  return sql.join(pk.map((k) => sql`${sql.id(k)} = ${row[k]}`), sql` and `);
}

/** A value as the job record keeps it (JSON). */
export const jsonSafe = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v);

/** The keyed hash of a request's identifiers (and anything else that makes it the same request): finds its open job again, reveals nobody. */
export async function requestHash(store: StateStore, secretName: string, ids: readonly Identifier[], extra = ''): Promise<string> {
  const secret = await store.holds.secret(secretName);
  const text = ids.map((i) => `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`).sort().join('\n');
  return createHmac('sha256', secret).update(`${text}\n\0${extra}`).digest('hex').slice(0, 32);
}

/** The key of certificates' key digests (`keysHmacSha256`): one per state store, so a digest proves a list of keys to whoever runs Steward on it, and names no one to a reader of the log. */
export async function certificateKey(store: StateStore): Promise<Buffer> {
  return store.holds.secret('subject-certificate');
}

/** The `keysHmacSha256` of a certificate's table for these keys (primary-key column → value): a list of keys checked against a certificate. */
export async function subjectKeysDigest(store: StateStore, keys: readonly Readonly<Record<string, unknown>>[]): Promise<string> {
  return keysDigest(keys.map((k) => Object.fromEntries(Object.entries(k).map(([c, v]) => [c, jsonSafe(v)]))), await certificateKey(store));
}

/**
 * The key that seals a request's manifest (its plan: tables and row keys): derived from
 * the store's secret and the identifiers, so only a run given the same identifiers opens
 * it. Sealed, the manifest shows no key (an email primary key is an identifier) and a
 * plan edited in the state store (another table, another row, SQL in a name) does not
 * open: Steward runs only a plan it wrote itself.
 */
export async function requestKey(store: StateStore, secretName: string, ids: readonly Identifier[], extra = ''): Promise<Buffer> {
  const secret = await store.holds.secret(secretName);
  const text = ids.map((i) => `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`).sort().join('\n');
  return createHmac('sha256', secret).update(`manifest\n\0${text}\n\0${extra}`).digest();
}

/** `value` as JSON, AES-256-GCM under `key`, bound to `aad` (the job's id): base64 of nonce, ciphertext and tag. */
export function seal(key: Buffer, aad: string, value: unknown): string {
  const nonce = randomNonce();
  return Buffer.concat([nonce, gcmSeal(key, nonce, Buffer.from(aad), Buffer.from(JSON.stringify(value)))]).toString('base64');
}

/** What {@link seal} sealed, or undefined when it does not open (another key, another job, a changed byte). */
export function unseal(key: Buffer, aad: string, text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  const raw = Buffer.from(text, 'base64');
  if (raw.length <= NONCE_BYTES) return undefined;
  try {
    return JSON.parse(gcmOpen(key, raw.subarray(0, NONCE_BYTES), Buffer.from(aad), raw.subarray(NONCE_BYTES)).toString('utf8'));
  } catch (e) {
    if (e instanceof AuthenticationFailed || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** What a manifest that does not open says. */
export function tampered(what: string): string {
  return `the record of ${what} in the state store was altered or damaged since the run that planned it (its seal does not open): nothing is written, Steward runs only a plan it wrote itself. Check who can write the state store (.steward/state.db or state.url) and restore it from a backup`;
}

/** A key as the job record keeps it (see {@link jsonSafe}) as the driver compares it again: bytes from hex, instants from ISO text. */
export function reviveKey(t: TableInfo, values: readonly unknown[]): unknown[] {
  return t.primaryKey.map((c, i) => {
    const v = values[i];
    const tc = t.columns.find((x) => x.name === c)?.typeClass;
    if (typeof v !== 'string') return v;
    if (tc === 'binary' && /^(?:[0-9a-f]{2})*$/.test(v)) return Buffer.from(v, 'hex');
    if ((tc === 'timestamp' || tc === 'date') && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v)) return new Date(v);
    return v;
  });
}

export const chunk = <T>(xs: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

export function groupBy<T>(xs: readonly T[], f: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(f(x), [...(m.get(f(x)) ?? []), x]);
  return m;
}
