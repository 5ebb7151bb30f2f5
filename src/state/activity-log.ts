/**
 * The activity log's hash chain, as pure functions.
 *
 * Each entry carries the hash of the one before it, so editing, removing, inserting
 * or reordering entries breaks the chain at the first affected entry.
 * Format (the chain and checkpoint files): docs/state.md#format-of-the-log
 *
 * What a chain cannot do alone: someone with write access to the store and this
 * source code can rewrite the whole tail consistently. Signed checkpoints close
 * that gap: `checkpoint()` signs (seq, hash) with an Ed25519 key kept elsewhere,
 * and a later `verifyCheckpoint()` proves the log still holds that exact prefix.
 *
 * Entries hold ids, names, counts and locations, never raw personal values:
 * `assertNoPersonalData` refuses any string in which a detector recognises one.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createClassifier } from '../detection/classify.js';
import { maskValue } from '../detection/mask.js';
import { InternalError, TamperError, UsageError } from '../errors.js';

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

/** What a caller appends: seq and hash are the store's; `at` defaults to now. */
export type NewActivity = Omit<ActivityEntry, 'seq' | 'at'> & { readonly at?: string };

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

/** Finds which entry (if any) stores `hash`; used only once a break is found, to tell a reordering from an edit. */
export type SeqOfHash = (hash: string) => Promise<number | null>;

/**
 * Checks the log in seq order and names the first broken entry. Entries are
 * consumed as a stream (the store reads them in bounded batches) with one
 * entry of lookahead, so memory stays flat however long the log is. After the
 * first break the rest is only counted.
 */
export async function verifyChain(batches: AsyncIterable<readonly StoredActivity[]>, seqOfHash: SeqOfHash = async () => null): Promise<VerifyResult> {
  const it = entries(batches)[Symbol.asyncIterator]();
  const pull = async (): Promise<StoredActivity | undefined> => {
    const n = await it.next();
    return n.done ? undefined : n.value;
  };
  let count = 0;
  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  let prevHash = GENESIS_HASH;
  let prevPrevHash: string | null = null;
  let expected = 1;
  let broken: VerifyResult['firstBroken'];
  let cur = await pull();
  while (cur) {
    const next = await pull();
    count++;
    lastSeq = cur.seq;
    lastHash = cur.hash ?? '';
    if (!broken) broken = await check(cur, next);
    if (!broken) {
      prevPrevHash = prevHash;
      prevHash = cur.hash!;
      expected = cur.seq + 1;
    }
    cur = next;
  }
  return broken ? { ok: false, entries: count, lastSeq, lastHash, firstBroken: broken } : { ok: true, entries: count, lastSeq, lastHash };

  async function check(r: StoredActivity, next: StoredActivity | undefined): Promise<VerifyResult['firstBroken']> {
    const at = (seq: number, reason: BreakReason, detail: string) => ({ seq, reason, detail });
    if (r.seq > expected) return at(expected, 'removed', `entry ${expected} is missing (the next entry is ${r.seq})`);
    if (r.seq < expected) return at(r.seq, 'inserted', `entry ${r.seq} appears twice`);
    if (r.prevHash !== prevHash) {
      if (prevPrevHash !== null && r.prevHash === prevPrevHash) {
        return at(r.seq - 1, 'inserted', `entry ${r.seq - 1} was inserted: entry ${r.seq} links to the entry before it`);
      }
      const target = HEX64.test(r.prevHash) ? await seqOfHash(r.prevHash) : null;
      if (target !== null && target > r.seq) return at(r.seq, 'reordered', `entry ${r.seq} links to entry ${target}, which comes after it`);
      return at(r.seq, 'changed', `entry ${r.seq} does not link to entry ${r.seq - 1}`);
    }
    // A forged entry whose own hash is wrong: the entry after it still links to the one before it.
    const inserted = () => (next && next.seq === r.seq + 1 && next.prevHash === r.prevHash ? at(r.seq, 'inserted', `entry ${r.seq} was inserted: entry ${next.seq} links to the entry before it`) : undefined);
    if (r.hash === null || !HEX64.test(r.hash)) {
      if (!next) return at(r.seq, 'truncated', `the last entry (${r.seq}) was cut mid-write: it has no valid hash`);
      return inserted() ?? at(r.seq, 'changed', `entry ${r.seq} has no valid hash`);
    }
    if (entryHash(r.prevHash, r) !== r.hash) return inserted() ?? at(r.seq, 'changed', `entry ${r.seq} was altered after it was written`);
    return undefined;
  }
}

async function* entries(batches: AsyncIterable<readonly StoredActivity[]>): AsyncGenerator<StoredActivity> {
  for await (const batch of batches) yield* batch;
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
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`the checkpoint key is an ${key.asymmetricKeyType ?? 'unknown'} key, not an Ed25519 private key`, { hint: 'Create one with `openssl genpkey -algorithm ed25519 -out steward-log.pem`' });
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
/**
 * Categories whose value shapes are also the shapes of what a log entry
 * legitimately holds: server addresses (network.ip_address), timestamps
 * (identity.date_of_birth), names of things (identity.person_name) and number
 * pairs (location.geolocation). Every other category a detector recognises is
 * refused.
 */
const ALLOWED = new Set(['identity.person_name', 'identity.date_of_birth', 'network.ip_address', 'location.geolocation']);

/**
 * Keys whose values are identifiers: names of sources, schemas, tables, columns
 * and policies, introspected from a database or read from steward.yml (whole
 * objects under `location`/`sources`/`scope`). An identifier is a location, not a
 * personal value, even when it is shaped like one (a table named `ann@example.com`):
 * refusing it would let anyone who can create a table switch the log off.
 */
export const IDENTIFIER_KEYS: ReadonlySet<string> = new Set(['source', 'sources', 'schema', 'table', 'tableName', 'tables', 'column', 'columns', 'blindIndex', 'policy', 'location', 'scope']);

/**
 * The log holds ids, names of sources/tables/columns, counts and locations —
 * never a raw personal value. Entries are built that way by the code that
 * appends them; this guard is the safety net: any string leaf of `value` that
 * a Steward detector classifies as personal data (an email, a card number, a
 * phone number, a national ID, a secret…) is a bug in the caller, reported as
 * an InternalError naming where it was, never the value itself. Leaves under an
 * {@link IDENTIFIER_KEYS} key are identifiers and are not checked.
 */
export function assertNoPersonalData(value: unknown, where = 'entry', identifier = false): void {
  if (identifier) return;
  if (typeof value === 'string') {
    guard ??= createClassifier();
    const hit = guard.classifyValue(value);
    if (hit && !ALLOWED.has(hit.category)) {
      throw new InternalError(`refusing to write personal data to the activity log: ${where} holds a value classified as ${hit.category} (${maskValue(value, hit.category)})`, {
        hint: 'Log entries hold ids, counts and locations only; log the location of the value, not the value',
      });
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => assertNoPersonalData(v, `${where}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertNoPersonalData(v, `${where}.${k}`, IDENTIFIER_KEYS.has(k));
}

// ---- the log as a whole, on a state store

/** What the functions below need of a state store (`StateStore` has it; so does a test double). */
export interface ActivityLogAccess {
  appendActivity(entry: NewActivity): Promise<StoredActivity>;
  verifyActivityLog(): Promise<VerifyResult>;
  activityHash(seq: number): Promise<string | null>;
}

/** Appends one entry (serialised across writers; see StateStore.appendActivity). */
export function appendActivity(store: ActivityLogAccess, entry: NewActivity): Promise<StoredActivity> {
  return store.appendActivity(entry);
}

/** Verifies the whole chain, streaming it in bounded batches. */
export function verifyActivityLog(store: ActivityLogAccess): Promise<VerifyResult> {
  return store.verifyActivityLog();
}

/** Signs the current head of an intact, non-empty log. */
export async function exportCheckpoint(store: ActivityLogAccess, options: { readonly privateKeyPem: string; readonly at?: string }): Promise<Checkpoint> {
  const head = await store.verifyActivityLog();
  if (!head.ok) throw new TamperError(`refusing to checkpoint a broken log (entry ${head.firstBroken!.seq}, ${head.firstBroken!.reason})`, { hint: 'Run `steward log verify` first' });
  if (head.entries === 0) throw new UsageError('the activity log is empty: nothing to checkpoint', { hint: 'Run an audit first' });
  return checkpoint({ seq: head.lastSeq, hash: head.lastHash }, options.privateKeyPem, options.at ?? new Date().toISOString());
}

export type CheckpointCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'signature' | 'rewritten'; readonly detail: string };

/** The checkpoint is signed by `publicKeyPem` and the log still holds its hash at its seq. */
export async function verifyCheckpoint(c: Checkpoint, publicKeyPem: string, store: ActivityLogAccess): Promise<CheckpointCheck> {
  if (!checkpointSignatureValid(c, publicKeyPem)) return { ok: false, reason: 'signature', detail: 'the checkpoint is not signed by that public key, or was edited' };
  const held = await store.activityHash(c.seq);
  if (held !== c.hash) {
    return { ok: false, reason: 'rewritten', detail: held === null ? `the log no longer has entry ${c.seq}, checkpointed at ${c.at}` : `entry ${c.seq} no longer has the hash checkpointed at ${c.at}: the log was rewritten` };
  }
  return { ok: true };
}
