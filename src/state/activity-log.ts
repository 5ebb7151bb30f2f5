/**
 * The activity log's hash chain, as pure functions.
 *
 * Each entry carries the hash of the one before it:
 *   hash = sha256_hex(prev_hash ‖ "\n" ‖ canonicalJson({seq, at, actor, action, subject, details}))
 * with prev_hash of the first entry = 64 zeros. Editing, removing, inserting or
 * reordering entries breaks the chain at the first affected entry.
 *
 * What a chain cannot do alone: someone with write access to the store and this
 * source code can rewrite the whole tail consistently. Signed checkpoints close
 * that gap: `checkpoint()` signs (seq, hash) with an Ed25519 key kept elsewhere,
 * and a later `verifyCheckpoint()` proves the log still holds that exact prefix.
 *
 * Entries hold ids, names, counts and locations, never raw personal values:
 * `redactPersonalData` masks any string in which a detector recognises one.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createClassifier } from '../detection/classify.js';
import { maskValue } from '../detection/mask.js';
import { InternalError } from '../errors.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ActivityEntry {
  readonly seq: number;
  /** ISO-8601 UTC. */
  readonly at: string;
  /** Who did it: OS user, or `steward run` for the daemon. */
  readonly actor: string;
  /** `audit.run`, `finding.state`, later `encrypt.run`, `retention.apply`, `keys.destroy`… */
  readonly action: string;
  /** What it was done to: source, table, run id… */
  readonly subject: Readonly<Record<string, unknown>>;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface StoredActivity extends ActivityEntry {
  readonly prevHash: string;
  readonly hash: string | null;
}

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new InternalError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function entryHash(prevHash: string, e: ActivityEntry): string {
  const body = canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, details: e.details });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

export type BreakReason = 'changed' | 'removed' | 'inserted' | 'reordered' | 'truncated';

export interface VerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly firstBroken?: { readonly seq: number; readonly reason: BreakReason; readonly detail: string };
}

/**
 * Checks the log in seq order (read in batches from the store) and names the
 * first broken entry. It holds the entries in memory to tell a reordering from
 * an edit: fine for years of audit activity (a few hundred bytes an entry);
 * a log of many millions of entries would want a two-pass variant.
 */
export async function verifyChain(batches: AsyncIterable<readonly StoredActivity[]>): Promise<VerifyResult> {
  const rows: StoredActivity[] = [];
  for await (const batch of batches) rows.push(...batch);
  let prevHash = GENESIS_HASH;
  let prevPrevHash: string | null = null;
  let expected = 1;
  const laterHashes = new Map<string, number>();
  for (const r of rows) if (r.hash) laterHashes.set(r.hash, r.seq);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const broken = (seq: number, reason: BreakReason, detail: string): VerifyResult => ({
      ok: false,
      entries: rows.length,
      lastSeq: rows[rows.length - 1]!.seq,
      lastHash: rows[rows.length - 1]!.hash ?? '',
      firstBroken: { seq, reason, detail },
    });
    if (r.seq > expected) return broken(expected, 'removed', `entry ${expected} is missing (the next entry is ${r.seq})`);
    if (r.seq < expected) return broken(r.seq, 'inserted', `entry ${r.seq} appears twice`);
    if (r.prevHash !== prevHash) {
      if (prevPrevHash !== null && r.prevHash === prevPrevHash) {
        return broken(r.seq - 1, 'inserted', `entry ${r.seq - 1} was inserted: entry ${r.seq} links to the entry before it`);
      }
      const target = laterHashes.get(r.prevHash);
      if (target !== undefined && target > r.seq) return broken(r.seq, 'reordered', `entry ${r.seq} links to entry ${target}, which comes after it`);
      return broken(r.seq, 'changed', `entry ${r.seq} does not link to entry ${r.seq - 1}`);
    }
    if (r.hash === null || !HEX64.test(r.hash)) {
      const last = i === rows.length - 1;
      return broken(r.seq, last ? 'truncated' : 'changed', last ? `the last entry (${r.seq}) was cut mid-write: it has no valid hash` : `entry ${r.seq} has no valid hash`);
    }
    if (entryHash(r.prevHash, r) !== r.hash) return broken(r.seq, 'changed', `entry ${r.seq} was altered after it was written`);
    prevPrevHash = prevHash;
    prevHash = r.hash;
    expected = r.seq + 1;
  }
  return { ok: true, entries: rows.length, lastSeq: expected - 1, lastHash: prevHash };
}

// ---- signed checkpoints

export interface Checkpoint {
  readonly format: 'steward-log-checkpoint/1';
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  /** base64 Ed25519 signature of canonicalJson({format, seq, hash, at}). */
  readonly signature: string;
  /** SHA-256 of the public key (SPKI DER), hex: which key to verify with. */
  readonly keyFingerprint: string;
}

function signedBody(c: Pick<Checkpoint, 'format' | 'seq' | 'hash' | 'at'>): Buffer {
  return Buffer.from(canonicalJson({ format: c.format, seq: c.seq, hash: c.hash, at: c.at }));
}

export function checkpoint(head: { seq: number; hash: string }, privateKeyPem: string, at: string): Checkpoint {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new InternalError('checkpoint key must be an Ed25519 private key');
  const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const body = { format: 'steward-log-checkpoint/1' as const, seq: head.seq, hash: head.hash, at };
  return {
    ...body,
    signature: sign(null, signedBody(body), key).toString('base64'),
    keyFingerprint: createHash('sha256').update(pub).digest('hex'),
  };
}

/** The signature is valid for this public key. (Whether the log still holds it is checked by the store.) */
export function checkpointSignatureValid(c: Checkpoint, publicKeyPem: string): boolean {
  try {
    return verify(null, signedBody(c), createPublicKey(publicKeyPem), Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

// ---- no personal data in the log

let guard: ReturnType<typeof createClassifier> | undefined;
/** Categories a log entry may name (where, when) — everything else recognised is masked. */
const ALLOWED = new Set(['identity.person_name', 'identity.date_of_birth', 'network.ip_address', 'contact.postcode', 'contact.postal_address', 'location.geolocation']);

/**
 * A copy of `value` in which every string a detector recognises as personal data
 * (an email, a card, a phone, an ID, a secret…) is masked. Entries are built from
 * ids, names and counts; this is the safety net, not the mechanism.
 */
export function redactPersonalData<T>(value: T): T {
  guard ??= createClassifier();
  if (typeof value === 'string') {
    const hit = guard.classifyValue(value);
    return (hit && !ALLOWED.has(hit.category) ? maskValue(value, hit.category) : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => redactPersonalData(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactPersonalData(v)])) as T;
  }
  return value;
}
