/**
 * Data-subject request cases: the operations `steward request` is built on,
 * for application code too (a self-service portal opens and tracks cases the
 * same way). A case is kept in the state store (src/state/requests.ts) with its
 * deadline, its identity verification, its state and every step's result, and
 * every change is in the activity log — never an identifier.
 *
 * How identifiers are kept:
 * - encrypted (AES-256-GCM, `stw1:`) under the case's own data key: a keyring
 *   key of the scope `@requests / request_cases / <case id>`, created for the
 *   case, stored wrapped by the master key like every column key (so `steward
 *   keys rotate` re-wraps it), with the case id bound as associated data;
 * - looked up by keyed hashes (HMAC-SHA256 under the keyring's blind-index key
 *   of `@requests / request_cases / lookup`): whoever has an identifier and the
 *   master key can find the person's cases; the store alone reveals nothing.
 * - crypto-shredded a while after the case is closed (`subjects.requests.shredAfter`,
 *   default 30 days): the case's data key is destroyed, the ciphertext cleared
 *   and the lookups deleted; the case, its deadline, verification and steps stay.
 *
 * @example
 *   const keyring = await openKeyring({ store, master: { env: 'STEWARD_MASTER_KEY' } });
 *   const { request } = await openRequest({ store, keyring, kind: 'erasure', identifiers: parseIdentifiers({ email: ['alice@example.com'] }), received: '2026-12-01' });
 *   await verifyRequest({ store, id: request.id, method: 'ID document', by: 'support' });
 *   await runRequest({ store, keyring, id: request.id, steps });
 */
import { CryptoError, InternalError, isStewardError, StewardError, UsageError } from '../errors.js';
import { createFieldEncryption } from '../crypto/field.js';
import { parseCiphertext, type ColumnScope } from '../crypto/format.js';
import type { Keyring } from '../crypto/keyring.js';
import { BlindIndexer } from '../crypto/blind-index.js';
import { checkReason } from '../retention/hold-rules.js';
import { assertNoPersonalData, type NewActivity } from '../state/activity-log.js';
import { currentActor } from '../state/audit-history.js';
import { THIS_PROCESS, ownerMayBeRunning } from '../state/jobs.js';
import type { StoredRequest, StoredRequestStep } from '../state/requests.js';
import type { StateStore } from '../state/store.js';
import { maskIdentifier, type Identifier } from './identifiers.js';
import {
  DEFAULT_REQUEST_SETTINGS,
  assertTransition,
  classifyDeadline,
  deadlineOf,
  dueDate,
  extendedDueDate,
  newRequestId,
  normaliseRequestId,
  parseReceived,
  pendingSteps,
  resolveJurisdiction,
  shredDueAt,
  type DeadlineStatus,
  type RequestKind,
  type RequestSettings,
  type RequestState,
  type RequestStepName,
} from './requests.js';

/** The keyring scope source of request keys: not a source name in steward.yml (those start with a letter). */
export const REQUEST_KEY_SOURCE = '@requests';
const KEY_TABLE = 'request_cases';
const LOOKUP_SCOPE: ColumnScope = { source: REQUEST_KEY_SOURCE, table: KEY_TABLE, column: 'lookup' };
const caseScope = (id: string): ColumnScope => ({ source: REQUEST_KEY_SOURCE, table: KEY_TABLE, column: id });

// ---- what callers see

/** A case as listed: no identifier, ever. */
export interface RequestCase {
  readonly id: string;
  readonly kind: RequestKind;
  readonly jurisdiction: string;
  readonly state: RequestState;
  /** Date the request reached you (YYYY-MM-DD). */
  readonly receivedOn: string;
  /** The deadline in force (extended, once extended). */
  readonly dueOn: string;
  readonly originalDueOn: string;
  readonly extension: { readonly dueOn: string; readonly reason: string; readonly at: string; readonly by: string } | null;
  readonly deadline: { readonly status: DeadlineStatus; readonly daysLeft: number | null };
  readonly verification: { readonly method: string; readonly by: string; readonly at: string } | null;
  readonly refusalReason: string | null;
  /** `found` or `no-data` once completed. */
  readonly outcome: string | null;
  readonly openedAt: string;
  readonly openedBy: string;
  readonly closedAt: string | null;
  readonly shredDueAt: string | null;
  readonly shreddedAt: string | null;
  /** How many identifiers of each kind the case holds (`{ email: 1 }`). */
  readonly identifierKinds: Readonly<Record<string, number>>;
}

/** A case with its steps and, when the keyring could decrypt them, its identifiers masked (`a***@example.com`). */
export interface RequestCaseDetail extends RequestCase {
  readonly steps: readonly StoredRequestStep[];
  /** Null when not decrypted: no keyring given, or shredded. */
  readonly identifiers: readonly string[] | null;
}

function view(r: StoredRequest, now: Date, settings: Pick<RequestSettings, 'dueSoonDays'>): RequestCase {
  const d = classifyDeadline(r, now, settings.dueSoonDays);
  return {
    id: r.id,
    kind: r.kind,
    jurisdiction: r.jurisdiction,
    state: r.state,
    receivedOn: r.receivedOn,
    dueOn: deadlineOf(r),
    originalDueOn: r.dueOn,
    extension: r.extendedDueOn ? { dueOn: r.extendedDueOn, reason: r.extensionReason ?? '', at: r.extendedAt ?? '', by: r.extendedBy ?? '' } : null,
    deadline: { status: d.status, daysLeft: d.daysLeft },
    verification: r.verifiedAt ? { method: r.verificationMethod ?? 'not stated', by: r.verifiedBy ?? '', at: r.verifiedAt } : null,
    refusalReason: r.refusalReason,
    outcome: r.outcome,
    openedAt: r.openedAt,
    openedBy: r.openedBy,
    closedAt: r.closedAt,
    shredDueAt: r.shredDueAt,
    shreddedAt: r.shreddedAt,
    identifierKinds: r.identifierKinds,
  };
}

interface Common {
  readonly store: StateStore;
  /** Who the activity log names (default: the OS user). */
  readonly actor?: string;
  readonly now?: Date;
  /** `subjects.requests` of steward.yml (default: GDPR, 7 days, shred after 30 days). */
  readonly settings?: RequestSettings;
}

const settingsOf = (c: { readonly settings?: RequestSettings }) => c.settings ?? DEFAULT_REQUEST_SETTINGS;
const nowOf = (c: { readonly now?: Date }) => c.now ?? new Date();

/** A case by id (as typed: `req-7kq3m9` works), or a UsageError naming the fix. */
async function load(store: StateStore, idText: string): Promise<StoredRequest> {
  const id = normaliseRequestId(idText);
  const found = id ? await store.requests.get(id) : null;
  if (!found) throw new UsageError(`no request case ${JSON.stringify(idText)}${id ? '' : ' (case ids look like REQ-7KQ3M9)'}`, { hint: 'List the cases with `steward request list`' });
  return found;
}

/** Free text that goes into the case and the activity log (who verified, why refused): present, short, no personal data. */
export function checkCaseText(text: string | undefined, flag: string, example: string): string {
  if ((text ?? '').trim() === '') throw new UsageError(`${flag} is required`, { hint: `For the record, without personal data: ${flag} ${JSON.stringify(example)}` });
  return checkReason(text, flag);
}

// ---- identifiers: sealing, lookups

const kindCounts = (ids: readonly Identifier[]) => {
  const out: Record<string, number> = {};
  for (const i of ids) out[i.kind] = (out[i.kind] ?? 0) + 1;
  return out;
};

const identifierKey = (i: Identifier) => `${i.kind}\0${i.table ?? ''}\0${i.column ?? ''}\0${i.value}`;

async function lookupsOf(keyring: Keyring, ids: readonly Identifier[]): Promise<string[]> {
  const indexer = new BlindIndexer(await keyring.blindIndexKey(LOOKUP_SCOPE), { bytes: 32 });
  return ids.map((i) => indexer.index(identifierKey(i)));
}

async function seal(keyring: Keyring, id: string, ids: readonly Identifier[]): Promise<{ ciphertext: string; keyId: string }> {
  const fields = createFieldEncryption(keyring);
  const ciphertext = await fields.encrypt(JSON.stringify(ids), { ...caseScope(id), rowKey: id });
  const parsed = parseCiphertext(ciphertext);
  return { ciphertext, keyId: 'invalid' in parsed ? '' : parsed.keyId };
}

/** The case's identifiers, decrypted. @throws CryptoError when shredded or the master key is not the one. */
async function unseal(keyring: Keyring, r: StoredRequest): Promise<Identifier[]> {
  if (r.identifiersCiphertext === null) {
    throw new UsageError(`${r.id}'s identifiers were shredded on ${(r.shreddedAt ?? '').slice(0, 10)}`, { hint: 'The case and its evidence stay; nothing can be run for it any more' });
  }
  const fields = createFieldEncryption(keyring);
  return JSON.parse(await fields.decrypt(r.identifiersCiphertext, { ...caseScope(r.id), rowKey: r.id })) as Identifier[];
}

const entry = (actor: string, at: string, action: string, id: string, details: Record<string, unknown>): NewActivity => ({ actor, at, action, subject: { request: id }, details });

// ---- open

export interface OpenRequestOptions extends Common {
  readonly keyring: Keyring;
  readonly kind: RequestKind;
  /** Normalised (parseIdentifiers). At least one. */
  readonly identifiers: readonly Identifier[];
  /** YYYY-MM-DD; default today (UTC). */
  readonly received?: string;
  /** Default `settings.defaultJurisdiction`. */
  readonly jurisdiction?: string;
  /** When the requester's identity was already checked: opens the case verified. */
  readonly verification?: { readonly method?: string; readonly by: string };
}

export interface OpenRequestResult {
  readonly request: RequestCase;
  /** Other cases that hold one of the same identifiers (found by lookup hash). */
  readonly related: readonly string[];
}

/** Opens a case: its deadline from the jurisdiction, its identifiers sealed, `request.opened` logged. */
export async function openRequest(options: OpenRequestOptions): Promise<OpenRequestResult> {
  const { store, keyring } = options;
  const now = nowOf(options);
  const settings = settingsOf(options);
  const actor = options.actor ?? currentActor();
  if (options.identifiers.length === 0) throw new UsageError('no identifier given', { hint: 'Name the person: --email, --phone, --national-id or --id TABLE.COLUMN=VALUE' });
  const jurisdiction = resolveJurisdiction(settings, options.jurisdiction);
  const receivedOn = parseReceived(options.received, now);
  const dueOn = dueDate(receivedOn, jurisdiction.respondWithin);
  const by = options.verification ? checkCaseText(options.verification.by, '--verified-by', 'support: ID document checked') : null;
  const method = options.verification ? (options.verification.method === undefined ? 'not stated' : checkCaseText(options.verification.method, '--verification-method', 'ID document')) : null;
  const at = now.toISOString();
  const lookups = await lookupsOf(keyring, options.identifiers);
  const related = await store.requests.idsByLookup(lookups);
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = newRequestId();
    if (await store.requests.get(id)) continue;
    const sealed = await seal(keyring, id, options.identifiers);
    const kinds = kindCounts(options.identifiers);
    const ok = await store.requests.insert(
      {
        id,
        kind: options.kind,
        jurisdiction: jurisdiction.name,
        receivedOn,
        respondWithin: jurisdiction.respondWithin,
        extendBy: jurisdiction.extendBy,
        dueOn,
        state: by ? 'verified' : 'received',
        verificationMethod: method,
        verifiedBy: by,
        verifiedAt: by ? at : null,
        openedAt: at,
        openedBy: actor,
        keyId: sealed.keyId,
        identifiersCiphertext: sealed.ciphertext,
        identifierKinds: kinds,
        updatedAt: at,
      },
      lookups,
      [
        entry(actor, at, 'request.opened', id, { kind: options.kind, jurisdiction: jurisdiction.name, received: receivedOn, due: dueOn, identifiers: kinds, related: related.length }),
        ...(by ? [entry(actor, at, 'request.verified', id, { method, by })] : []),
      ],
    );
    if (ok) return { request: view((await store.requests.get(id))!, now, settings), related };
  }
  throw new InternalError('Could not find a free request case id after 8 attempts');
}

// ---- read

export interface ListRequestsOptions extends Common {
  /** Only cases in these states. */
  readonly states?: readonly RequestState[];
  /** Only cases holding one of these identifiers (needs the keyring). */
  readonly identifiers?: { readonly keyring: Keyring; readonly values: readonly Identifier[] };
}

/** Every case (or those asked for), oldest received first, with its deadline status. */
export async function listRequests(options: ListRequestsOptions): Promise<RequestCase[]> {
  const now = nowOf(options);
  const ids = options.identifiers ? await options.store.requests.idsByLookup(await lookupsOf(options.identifiers.keyring, options.identifiers.values)) : undefined;
  const rows = await options.store.requests.list({ ...(options.states ? { states: options.states } : {}), ...(ids ? { ids } : {}) });
  return rows.map((r) => view(r, now, settingsOf(options)));
}

/** One case with its steps; its identifiers masked when `keyring` is given and they are not shredded. */
export async function getRequest(options: Common & { readonly id: string; readonly keyring?: Keyring }): Promise<RequestCaseDetail> {
  const r = await load(options.store, options.id);
  const steps = await options.store.requests.steps(r.id);
  let identifiers: string[] | null = null;
  if (options.keyring && r.identifiersCiphertext !== null) {
    try {
      identifiers = (await unseal(options.keyring, r)).map(maskIdentifier);
    } catch (e) {
      // Its key destroyed by hand (`steward keys destroy`): shredded in effect; the case is still shown.
      if (!(e instanceof CryptoError && e.code === 'CRYPTO_KEY_DESTROYED')) throw e;
    }
  }
  return { ...view(r, nowOf(options), settingsOf(options)), steps, identifiers };
}

// ---- changes

/** A compare-and-set change that lost a race: say so (nothing was changed). */
function raced(id: string): UsageError {
  return new UsageError(`${id} changed while this command ran (another command changed it first)`, { hint: `Nothing was changed by this command; see \`steward request show ${id}\` and try again` });
}

/** Records who checked the requester's identity, and how: received → verified. */
export async function verifyRequest(options: Common & { readonly id: string; readonly method: string; readonly by: string }): Promise<RequestCase> {
  const now = nowOf(options);
  const r = await load(options.store, options.id);
  assertTransition(r, 'verify', now);
  const method = checkCaseText(options.method, '--method', 'ID document');
  const by = checkCaseText(options.by, '--by', 'support: Sam');
  const at = now.toISOString();
  const actor = options.actor ?? currentActor();
  const ok = await options.store.requests.change(r.id, { states: ['received'] }, { state: 'verified', verificationMethod: method, verifiedBy: by, verifiedAt: at, updatedAt: at }, [entry(actor, at, 'request.verified', r.id, { method, by })]);
  if (!ok) throw raced(r.id);
  return view((await options.store.requests.get(r.id))!, now, settingsOf(options));
}

/**
 * Adds identifiers to an open case (the one that tells two people apart): a
 * case waiting for one becomes in progress again, and every step runs again
 * with the new set at the next `runRequest`.
 */
export async function addRequestIdentifiers(options: Common & { readonly id: string; readonly keyring: Keyring; readonly identifiers: readonly Identifier[] }): Promise<RequestCase> {
  const now = nowOf(options);
  const r = await load(options.store, options.id);
  assertTransition(r, 'add-identifier', now);
  if (options.identifiers.length === 0) throw new UsageError('no identifier given', { hint: 'Give the one that tells the people apart: --email, --phone, --national-id or --id TABLE.COLUMN=VALUE' });
  const current = await unseal(options.keyring, r);
  const have = new Set(current.map(identifierKey));
  const added = options.identifiers.filter((i) => !have.has(identifierKey(i)));
  if (added.length === 0) throw new UsageError(`${r.id} already holds every identifier given`, { hint: 'Give another one: the ones it holds are what matched more than one person' });
  const all = [...current, ...added];
  const sealed = await seal(options.keyring, r.id, all);
  const at = now.toISOString();
  const actor = options.actor ?? currentActor();
  const ok = await options.store.requests.change(
    r.id,
    { states: [r.state], identifiersVersion: r.identifiersVersion },
    {
      identifiersCiphertext: sealed.ciphertext,
      identifierKinds: kindCounts(all),
      identifiersVersion: r.identifiersVersion + 1,
      ...(r.state === 'awaiting-identifier' ? { state: 'in-progress' as const } : {}),
      updatedAt: at,
    },
    [entry(actor, at, 'request.identifier-added', r.id, { added: kindCounts(added), identifiers: kindCounts(all) })],
    { lookups: await lookupsOf(options.keyring, added) },
  );
  if (!ok) throw raced(r.id);
  return view((await options.store.requests.get(r.id))!, now, settingsOf(options));
}

/** Closes an open case as refused, with the reason (manifestly unfounded, identity not confirmed, withdrawn…). */
export async function refuseRequest(options: Common & { readonly id: string; readonly reason: string }): Promise<RequestCase> {
  const now = nowOf(options);
  const r = await load(options.store, options.id);
  assertTransition(r, 'refuse', now);
  const reason = checkCaseText(options.reason, '--reason', 'manifestly unfounded: third request this month');
  const at = now.toISOString();
  const actor = options.actor ?? currentActor();
  const shredAt = shredDueAt(at, settingsOf(options).shredAfter);
  const ok = await options.store.requests.change(
    r.id,
    { states: [r.state] },
    { state: 'refused', refusalReason: reason, closedAt: at, closedBy: actor, shredDueAt: shredAt, updatedAt: at },
    [entry(actor, at, 'request.refused', r.id, { reason, shredDue: shredAt })],
  );
  if (!ok) throw raced(r.id);
  return view((await options.store.requests.get(r.id))!, now, settingsOf(options));
}

/** Extends an open case's deadline once, by the jurisdiction's extension, with the reason (before the first deadline). */
export async function extendRequest(options: Common & { readonly id: string; readonly reason: string }): Promise<RequestCase> {
  const now = nowOf(options);
  const r = await load(options.store, options.id);
  assertTransition(r, 'extend', now);
  const reason = checkCaseText(options.reason, '--reason', 'complex: data in 4 systems, 2 of them archived');
  const at = now.toISOString();
  const actor = options.actor ?? currentActor();
  const extended = extendedDueDate(r.receivedOn, r.respondWithin, r.extendBy);
  const ok = await options.store.requests.change(
    r.id,
    { states: [r.state] },
    { extendedDueOn: extended, extensionReason: reason, extendedAt: at, extendedBy: actor, updatedAt: at },
    [entry(actor, at, 'request.extended', r.id, { reason, from: r.dueOn, to: extended })],
  );
  if (!ok) throw raced(r.id);
  return view((await options.store.requests.get(r.id))!, now, settingsOf(options));
}

// ---- shredding

/**
 * Crypto-shreds the identifiers of closed cases: every case whose shred time
 * has come (or, with `ids`, those cases now, even before their time). Destroys
 * the case's data key (wrapped bytes overwritten), clears the ciphertext and
 * deletes the lookups; the case and its steps stay. Returns the ids shredded.
 * Needs no master key: destroying a wrapped key does not unwrap it.
 */
export async function shredRequests(options: Common & { readonly ids?: readonly string[] }): Promise<string[]> {
  const now = nowOf(options);
  const actor = options.actor ?? currentActor();
  const at = now.toISOString();
  let targets: StoredRequest[];
  if (options.ids) {
    targets = [];
    for (const id of options.ids) {
      const r = await load(options.store, id);
      assertTransition(r, 'shred', now);
      targets.push(r);
    }
  } else {
    targets = (await options.store.requests.list({ states: ['completed', 'refused'] })).filter((r) => r.shreddedAt === null && r.shredDueAt !== null && r.shredDueAt <= at);
  }
  const done: string[] = [];
  for (const r of targets) {
    const keys = (await options.store.keys.listKeys({ scope: caseScope(r.id) })).filter((k) => k.state !== 'destroyed');
    for (const k of keys) await options.store.keys.destroyKey(k.keyId, k.version, at);
    const ok = await options.store.requests.shred(r.id, at, [entry(actor, at, 'request.shredded', r.id, { keys: keys.length, closed: r.closedAt, due: r.shredDueAt })]);
    if (ok) done.push(r.id);
  }
  return done;
}

// ---- running

/** What a step is given: the case and the person's identifiers (decrypted, normalised). */
export interface RequestStepInput {
  readonly caseId: string;
  readonly kind: RequestKind;
  readonly jurisdiction: string;
  readonly receivedOn: string;
  readonly identifiers: readonly Identifier[];
}

/**
 * What a step gives back, recorded with the case: counts and details only (no
 * identifier, no value: they are checked). `ambiguous`: the identifiers match
 * more than one person, and the case waits for one more; `no-data`: nothing is
 * held (a valid answer: the remaining steps are skipped and the case completes).
 */
export interface RequestStepResult {
  readonly outcome: 'found' | 'no-data' | 'ambiguous' | 'done';
  readonly counts: Readonly<Record<string, number>>;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export type RequestStep = (input: RequestStepInput) => Promise<RequestStepResult>;

/** The step of each name (src/subjects/request-steps.ts builds Steward's). */
export type RequestSteps = { readonly [K in RequestStepName]: RequestStep };

export interface RunRequestStepRecord {
  readonly step: RequestStepName;
  readonly status: 'done' | 'failed' | 'ambiguous' | 'skipped';
  readonly outcome: string | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface RunRequestResult {
  /** `completed` now, `already-completed` before this run, or `awaiting-identifier`. */
  readonly status: 'completed' | 'already-completed' | 'awaiting-identifier';
  readonly request: RequestCase;
  /** The steps this run ran (steps finished by an earlier run are not run again). */
  readonly ran: readonly RunRequestStepRecord[];
}

/** Raised by {@link runRequest} when a step failed: the case stays in progress with the error recorded. */
export class RequestStepError extends StewardError {
  readonly caseId: string;
  readonly step: RequestStepName;
  constructor(caseId: string, step: RequestStepName, error: StewardError) {
    super(error.code, error.exitCode, `${caseId}: the ${step} step failed: ${error.message}`, {
      hint: `${error.hint ? `${error.hint}. ` : ''}The case stays in progress with the error recorded; \`steward request run ${caseId}\` continues it`,
      cause: error,
    });
    this.caseId = caseId;
    this.step = step;
  }
}

const runnerName = `${THIS_PROCESS.host}:${THIS_PROCESS.pid}`;

function runnerGone(runner: string, runnerAt: string, now: Date): boolean {
  const i = runner.lastIndexOf(':');
  const owner = { host: runner.slice(0, i), pid: Number(runner.slice(i + 1)) };
  return !ownerMayBeRunning({ owner, updatedAt: runnerAt }, now);
}

/** A message that may be kept: Steward's own (checked), else none. */
function safeError(e: unknown): { code: string; message: string } {
  if (!isStewardError(e)) return { code: 'INTERNAL', message: 'An internal error (a bug in Steward)' };
  try {
    assertNoPersonalData(e.message, 'error');
    return { code: e.code, message: e.message };
  } catch {
    return { code: e.code, message: `${e.code} (the message is withheld: it quoted a value)` };
  }
}

/**
 * Runs a verified case's steps by its kind (find, then access / erase /
 * correct), recording each step's result with the case and in the activity log.
 * Resumable: a step that finished (with the case's current identifiers) is not
 * run again; a re-run continues where the last one stopped. A step that throws
 * leaves the case in progress with the error recorded and is rethrown as a
 * {@link RequestStepError}; an ambiguous find leaves it awaiting an identifier;
 * "no data found" completes it. One runner at a time per case.
 */
export async function runRequest(options: Common & { readonly id: string; readonly keyring: Keyring; readonly steps: RequestSteps; readonly clock?: () => Date }): Promise<RunRequestResult> {
  const clock = options.clock ?? (() => options.now ?? new Date());
  const { store } = options;
  const settings = settingsOf(options);
  const actor = options.actor ?? currentActor();
  let r = await load(store, options.id);
  assertTransition(r, 'run', clock());
  if (r.state === 'completed') return { status: 'already-completed', request: view(r, clock(), settings), ran: [] };

  const claim = await store.requests.claim(r.id, runnerName, clock().toISOString(), (runner, at) => runnerGone(runner, at, clock()));
  if (!claim.claimed) {
    throw new UsageError(`${r.id} is being run by ${claim.heldBy} (since ${claim.since})`, { hint: 'Wait for that run to finish; if its process is gone, run again (a run on another host is taken over two minutes after its last step)' });
  }
  const ran: RunRequestStepRecord[] = [];
  try {
    r = (await store.requests.get(r.id))!;
    assertTransition(r, 'run', clock());
    if (r.state === 'verified') {
      const at = clock().toISOString();
      if (!(await store.requests.change(r.id, { states: ['verified'] }, { state: 'in-progress', updatedAt: at }, [entry(actor, at, 'request.started', r.id, { kind: r.kind })]))) throw raced(r.id);
      r = (await store.requests.get(r.id))!;
    }
    const identifiers = await unseal(options.keyring, r);
    const input: RequestStepInput = { caseId: r.id, kind: r.kind, jurisdiction: r.jurisdiction, receivedOn: r.receivedOn, identifiers };
    const version = r.identifiersVersion;
    const history = await store.requests.steps(r.id);
    const pending = pendingSteps(r.kind, history.map((s) => ({ step: s.step as RequestStepName, status: s.status, identifiersVersion: s.identifiersVersion })), version);
    // "No data found" by an earlier run's find: the rest is skipped, as it would have been then.
    let noData = history.some((s) => s.step === 'find' && s.identifiersVersion === version && s.status === 'done' && s.outcome === 'no-data');
    for (const step of pending) {
      const startedAt = clock().toISOString();
      const seq = await store.requests.startStep(r.id, step, version, startedAt, runnerName);
      if (noData) {
        const at = clock().toISOString();
        const details = { reason: 'no data found' };
        await store.requests.finishStep(r.id, seq, { status: 'skipped', at, outcome: 'no-data', counts: {}, details, errorCode: null, errorMessage: null }, [entry(actor, at, 'request.step', r.id, { step, status: 'skipped', outcome: 'no-data' })]);
        ran.push({ step, status: 'skipped', outcome: 'no-data', counts: {}, details });
        continue;
      }
      let result: RequestStepResult;
      try {
        result = await options.steps[step](input);
        assertNoPersonalData(result.counts, 'step counts');
        assertNoPersonalData(result.details ?? {}, 'step details');
      } catch (e) {
        const at = clock().toISOString();
        const err = safeError(e);
        await store.requests.finishStep(r.id, seq, { status: 'failed', at, outcome: null, counts: {}, details: {}, errorCode: err.code, errorMessage: err.message }, [entry(actor, at, 'request.step', r.id, { step, status: 'failed', error: err.code })]);
        ran.push({ step, status: 'failed', outcome: null, counts: {}, details: {} });
        if (isStewardError(e) && !(e instanceof RequestStepError)) throw new RequestStepError(r.id, step, e);
        throw e;
      }
      const at = clock().toISOString();
      const details = result.details ?? {};
      if (result.outcome === 'ambiguous') {
        await store.requests.finishStep(r.id, seq, { status: 'ambiguous', at, outcome: 'ambiguous', counts: result.counts, details, errorCode: null, errorMessage: null }, [entry(actor, at, 'request.step', r.id, { step, status: 'ambiguous', counts: result.counts })]);
        ran.push({ step, status: 'ambiguous', outcome: 'ambiguous', counts: result.counts, details });
        if (!(await store.requests.change(r.id, { states: ['in-progress'], identifiersVersion: version }, { state: 'awaiting-identifier', updatedAt: at }, [entry(actor, at, 'request.awaiting-identifier', r.id, { step })]))) throw raced(r.id);
        return { status: 'awaiting-identifier', request: view((await store.requests.get(r.id))!, clock(), settings), ran };
      }
      await store.requests.finishStep(r.id, seq, { status: 'done', at, outcome: result.outcome, counts: result.counts, details, errorCode: null, errorMessage: null }, [entry(actor, at, 'request.step', r.id, { step, status: 'done', outcome: result.outcome, counts: result.counts })]);
      ran.push({ step, status: 'done', outcome: result.outcome, counts: result.counts, details });
      if (step === 'find' && result.outcome === 'no-data') noData = true;
    }
    const at = clock().toISOString();
    const shredAt = shredDueAt(at, settings.shredAfter);
    const outcome = noData ? 'no-data' : 'found';
    if (!(await store.requests.change(r.id, { states: ['in-progress'], identifiersVersion: version }, { state: 'completed', outcome, closedAt: at, closedBy: actor, shredDueAt: shredAt, updatedAt: at }, [entry(actor, at, 'request.completed', r.id, { kind: r.kind, outcome, shredDue: shredAt })]))) throw raced(r.id);
    return { status: 'completed', request: view((await store.requests.get(r.id))!, clock(), settings), ran };
  } finally {
    await store.requests.release(r.id, runnerName).catch(() => undefined);
  }
}
