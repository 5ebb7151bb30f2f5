/**
 * Data-subject request cases in the state store (migration 0006): the case
 * rows, the lookup hashes of their identifiers, and the record of every step.
 * Plain storage: what a case means, which changes are legal and how its
 * identifiers are encrypted is src/subjects/requests.ts and src/subjects/cases.ts.
 * Obtain it as `store.requests`.
 *
 * Every change of a case is written together with its activity log entries, in
 * one transaction (the activity lock taken first, as every appender does): a
 * case never changes without its evidence, nor the evidence without the change.
 * Changes are compare-and-set on the case's state, so of two racing changes one
 * wins and the other is told.
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { isStewardError } from '../errors.js';
import { assertNoPersonalData, type NewActivity } from './activity-log.js';
import type { StateActivityStore } from './activity.js';
import { runStateOperation, stateError, type StateBackend } from './backend.js';
import type { RequestCasesTable, RequestStepsTable, StateDatabase } from './tables.js';

export type StoredRequestState = RequestCasesTable['state'];
export type StoredRequestKind = RequestCasesTable['kind'];
export type StoredStepStatus = RequestStepsTable['status'];

/** A case as stored. Dates `YYYY-MM-DD`; instants ISO-8601 UTC. */
export interface StoredRequest {
  readonly id: string;
  readonly kind: StoredRequestKind;
  readonly jurisdiction: string;
  readonly receivedOn: string;
  readonly respondWithin: string;
  readonly extendBy: string;
  readonly dueOn: string;
  readonly extendedDueOn: string | null;
  readonly extendedAt: string | null;
  readonly extendedBy: string | null;
  readonly extensionReason: string | null;
  readonly state: StoredRequestState;
  readonly verificationMethod: string | null;
  readonly verifiedBy: string | null;
  readonly verifiedAt: string | null;
  readonly refusalReason: string | null;
  readonly outcome: string | null;
  readonly openedAt: string;
  readonly openedBy: string;
  readonly closedAt: string | null;
  readonly closedBy: string | null;
  readonly shredDueAt: string | null;
  readonly shreddedAt: string | null;
  readonly keyId: string | null;
  /** The `stw1:` ciphertext of the identifiers; null once shredded. */
  readonly identifiersCiphertext: string | null;
  /** How many identifiers of each kind (`{ email: 1 }`): never the identifiers. */
  readonly identifierKinds: Readonly<Record<string, number>>;
  readonly identifiersVersion: number;
  readonly runner: string | null;
  readonly runnerAt: string | null;
  readonly updatedAt: string;
}

export type NewRequest = Omit<
  StoredRequest,
  'extendedDueOn' | 'extendedAt' | 'extendedBy' | 'extensionReason' | 'refusalReason' | 'outcome' | 'closedAt' | 'closedBy' | 'shredDueAt' | 'shreddedAt' | 'identifiersVersion' | 'runner' | 'runnerAt'
>;

export interface StoredRequestStep {
  readonly caseId: string;
  readonly seq: number;
  readonly step: string;
  readonly identifiersVersion: number;
  readonly status: StoredStepStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly outcome: string | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

/** The columns a change may set (camel-cased like {@link StoredRequest}). */
export type RequestChange = Partial<Omit<StoredRequest, 'id' | 'kind' | 'receivedOn' | 'openedAt' | 'openedBy' | 'identifierKinds'>> & {
  readonly identifierKinds?: Readonly<Record<string, number>>;
};

export interface StepFinish {
  readonly status: Exclude<StoredStepStatus, 'running'>;
  readonly at: string;
  readonly outcome: string | null;
  readonly counts: Readonly<Record<string, number>>;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

const COLUMN: Readonly<Record<keyof RequestChange, keyof RequestCasesTable>> = {
  jurisdiction: 'jurisdiction',
  respondWithin: 'respond_within',
  extendBy: 'extend_by',
  dueOn: 'due_on',
  extendedDueOn: 'extended_due_on',
  extendedAt: 'extended_at',
  extendedBy: 'extended_by',
  extensionReason: 'extension_reason',
  state: 'state',
  verificationMethod: 'verification_method',
  verifiedBy: 'verified_by',
  verifiedAt: 'verified_at',
  refusalReason: 'refusal_reason',
  outcome: 'outcome',
  closedAt: 'closed_at',
  closedBy: 'closed_by',
  shredDueAt: 'shred_due_at',
  shreddedAt: 'shredded_at',
  keyId: 'key_id',
  identifiersCiphertext: 'identifiers_ct',
  identifierKinds: 'identifier_kinds_json',
  identifiersVersion: 'identifiers_version',
  runner: 'runner',
  runnerAt: 'runner_at',
  updatedAt: 'updated_at',
};

function toColumns(change: RequestChange): Updateable<RequestCasesTable> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) continue;
    const col = COLUMN[k as keyof RequestChange];
    out[col] = k === 'identifierKinds' ? JSON.stringify(v) : v;
  }
  return out as Updateable<RequestCasesTable>;
}

/** What a compare-and-set change expects of the row. */
export interface RequestExpectation {
  readonly states?: readonly StoredRequestState[];
  readonly identifiersVersion?: number;
  /** The runner that must hold the case (its `host:pid`). */
  readonly runner?: string;
}

export class StateRequestStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  readonly #assertOpen: () => void;
  readonly #activity: StateActivityStore;

  /** @internal Use `StateStore.requests`. */
  constructor(backend: StateBackend, assertOpen: () => void, activity: StateActivityStore) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#assertOpen = assertOpen;
    this.#activity = activity;
  }

  /** Records a new case, its lookups and its activity entries; false when the id is taken (pick another). */
  async insert(row: NewRequest, lookups: readonly string[], activity: readonly NewActivity[]): Promise<boolean> {
    return this.#write('record a request case in', async (trx) => {
      const taken = await trx.selectFrom('request_cases').select('id').where('id', '=', row.id).executeTakeFirst();
      if (taken) return false;
      await trx
        .insertInto('request_cases')
        .values({
          id: row.id,
          kind: row.kind,
          jurisdiction: row.jurisdiction,
          received_on: row.receivedOn,
          respond_within: row.respondWithin,
          extend_by: row.extendBy,
          due_on: row.dueOn,
          extended_due_on: null,
          extended_at: null,
          extended_by: null,
          extension_reason: null,
          state: row.state,
          verification_method: row.verificationMethod,
          verified_by: row.verifiedBy,
          verified_at: row.verifiedAt,
          refusal_reason: null,
          outcome: null,
          opened_at: row.openedAt,
          opened_by: row.openedBy,
          closed_at: null,
          closed_by: null,
          shred_due_at: null,
          shredded_at: null,
          key_id: row.keyId,
          identifiers_ct: row.identifiersCiphertext,
          identifier_kinds_json: JSON.stringify(row.identifierKinds),
          identifiers_version: 1,
          runner: null,
          runner_at: null,
          updated_at: row.updatedAt,
        })
        .execute();
      await this.#addLookups(trx, row.id, lookups);
      return true;
    }, activity);
  }

  async get(id: string): Promise<StoredRequest | null> {
    return this.#run('read request cases from', async () => {
      const row = await this.#db.selectFrom('request_cases').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRequest(row) : null;
    });
  }

  /** Every case (or those in `states`), oldest received first. */
  async list(filter: { readonly states?: readonly StoredRequestState[]; readonly ids?: readonly string[] } = {}): Promise<StoredRequest[]> {
    return this.#run('read request cases from', async () => {
      let q = this.#db.selectFrom('request_cases').selectAll();
      if (filter.states) {
        if (filter.states.length === 0) return [];
        q = q.where('state', 'in', filter.states);
      }
      if (filter.ids) {
        if (filter.ids.length === 0) return [];
        q = q.where('id', 'in', filter.ids);
      }
      return (await q.orderBy('received_on').orderBy('opened_at').orderBy('id').execute()).map(toRequest);
    });
  }

  /** Ids of the cases holding any of these lookup hashes. */
  async idsByLookup(lookups: readonly string[]): Promise<string[]> {
    if (lookups.length === 0) return [];
    return this.#run('read request cases from', async () => {
      const rows = await this.#db.selectFrom('request_lookups').select('case_id').distinct().where('lookup', 'in', lookups).orderBy('case_id').execute();
      return rows.map((r) => r.case_id);
    });
  }

  /** The steps run for a case, in the order they started. */
  async steps(caseId: string): Promise<StoredRequestStep[]> {
    return this.#run('read request steps from', async () => {
      const rows = await this.#db.selectFrom('request_steps').selectAll().where('case_id', '=', caseId).orderBy('seq').execute();
      return rows.map(toStep);
    });
  }

  /**
   * Changes a case if it still is as `expected` (compare-and-set), with its
   * activity entries and, optionally, new lookup hashes, in one transaction.
   * False when the case changed in between (or does not exist).
   */
  async change(id: string, expected: RequestExpectation, change: RequestChange, activity: readonly NewActivity[], extra: { readonly lookups?: readonly string[] } = {}): Promise<boolean> {
    return this.#write('update a request case in', async (trx) => {
      const ok = await this.#cas(trx, id, expected, change);
      if (ok && extra.lookups) await this.#addLookups(trx, id, extra.lookups);
      return ok;
    }, activity);
  }

  /**
   * Takes the case for this runner when no runner holds it, or when `mayTakeOver`
   * says the recorded one is gone; its steps left `running` by a runner that is
   * gone become `interrupted`. Returns the runner that holds it otherwise.
   */
  async claim(id: string, runner: string, at: string, mayTakeOver: (runner: string, runnerAt: string) => boolean): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly heldBy: string; readonly since: string }> {
    return this.#write('claim a request case in', async (trx) => {
      const row = await trx.selectFrom('request_cases').select(['runner', 'runner_at']).where('id', '=', id).executeTakeFirst();
      if (row?.runner && row.runner !== runner && !mayTakeOver(row.runner, row.runner_at ?? '')) return { claimed: false as const, heldBy: row.runner, since: row.runner_at ?? '' };
      let q = trx.updateTable('request_cases').set({ runner, runner_at: at }).where('id', '=', id);
      q = row?.runner ? q.where('runner', '=', row.runner) : q.where('runner', 'is', null);
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return { claimed: false as const, heldBy: '(another process, just now)', since: at };
      await trx.updateTable('request_steps').set({ status: 'interrupted', finished_at: at, error_code: 'INTERRUPTED', error_message: 'The process running this step stopped before it finished' }).where('case_id', '=', id).where('status', '=', 'running').execute();
      return { claimed: true as const };
    });
  }

  /** Gives the case up (only when this runner holds it). */
  async release(id: string, runner: string): Promise<void> {
    await this.#run('release a request case in', () => this.#db.updateTable('request_cases').set({ runner: null, runner_at: null }).where('id', '=', id).where('runner', '=', runner).execute());
  }

  /** Records that a step started; returns its sequence number. */
  async startStep(caseId: string, step: string, identifiersVersion: number, at: string, runner: string): Promise<number> {
    return this.#write('record a request step in', async (trx) => {
      const last = await trx.selectFrom('request_steps').select('seq').where('case_id', '=', caseId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const seq = (last ? Number(last.seq) : 0) + 1;
      await trx
        .insertInto('request_steps')
        .values({ case_id: caseId, seq, step, identifiers_version: identifiersVersion, status: 'running', started_at: at, finished_at: null, outcome: null, counts_json: '{}', details_json: '{}', error_code: null, error_message: null })
        .execute();
      await trx.updateTable('request_cases').set({ runner_at: at }).where('id', '=', caseId).where('runner', '=', runner).execute();
      return seq;
    });
  }

  /** Records how a step ended, with its activity entry, in one transaction. */
  async finishStep(caseId: string, seq: number, finish: StepFinish, activity: readonly NewActivity[]): Promise<void> {
    assertNoPersonalData(finish.details, 'step details');
    assertNoPersonalData(finish.errorMessage, 'step error');
    await this.#write('record a request step in', async (trx) => {
      await trx
        .updateTable('request_steps')
        .set({
          status: finish.status,
          finished_at: finish.at,
          outcome: finish.outcome,
          counts_json: JSON.stringify(finish.counts),
          details_json: JSON.stringify(finish.details),
          error_code: finish.errorCode,
          error_message: finish.errorMessage,
        })
        .where('case_id', '=', caseId)
        .where('seq', '=', seq)
        .execute();
      return true;
    }, activity);
  }

  /**
   * Shredding, the state store's part: clears the identifiers' ciphertext and
   * deletes the case's lookup hashes, overwriting the freed bytes (SQLite
   * `secure_delete`), with the activity entry, in one transaction. The data key
   * is destroyed by the caller first (`store.keys.destroyKey`). False when the
   * case is not closed or already shredded.
   */
  async shred(id: string, at: string, activity: readonly NewActivity[]): Promise<boolean> {
    return this.#write('shred the identifiers of a request case in', async (trx) => {
      await this.#backend.overwriteFreedContent(trx);
      const r = await trx
        .updateTable('request_cases')
        .set({ identifiers_ct: null, shredded_at: at, updated_at: at })
        .where('id', '=', id)
        .where('state', 'in', ['completed', 'refused'])
        .where('shredded_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await trx.deleteFrom('request_lookups').where('case_id', '=', id).execute();
      return true;
    }, activity);
  }

  async #cas(trx: Kysely<StateDatabase>, id: string, expected: RequestExpectation, change: RequestChange): Promise<boolean> {
    let q = trx.updateTable('request_cases').set(toColumns(change)).where('id', '=', id);
    if (expected.states) q = q.where('state', 'in', expected.states);
    if (expected.identifiersVersion !== undefined) q = q.where('identifiers_version', '=', expected.identifiersVersion);
    if (expected.runner !== undefined) q = q.where('runner', '=', expected.runner);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async #addLookups(trx: Kysely<StateDatabase>, id: string, lookups: readonly string[]): Promise<void> {
    const unique = [...new Set(lookups)];
    if (unique.length === 0) return;
    await trx
      .insertInto('request_lookups')
      .values(unique.map((lookup) => ({ case_id: id, lookup })))
      .onConflict((oc) => oc.columns(['case_id', 'lookup']).doNothing())
      .execute();
  }

  /**
   * One write transaction: the activity lock first (when there are entries),
   * then `fn`, then the entries — all or nothing. The entries are appended only
   * when `fn` returns a truthy result (a compare-and-set that did not apply
   * changes nothing and logs nothing).
   */
  async #write<T>(what: string, fn: (trx: Kysely<StateDatabase>) => Promise<T>, activity: readonly NewActivity[] = []): Promise<T> {
    this.#assertOpen();
    for (const entry of activity) {
      assertNoPersonalData(entry.subject, 'subject');
      assertNoPersonalData(entry.details, 'details');
    }
    try {
      return await this.#db.transaction().execute(async (trx) => {
        if (activity.length > 0) await this.#activity.lockIn(trx);
        const result = await fn(trx);
        if (activity.length > 0 && result) await this.#activity.appendIn(trx, activity);
        return result;
      });
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw stateError(this.#backend, `Cannot ${what} the state store ${this.#backend.location}`, e);
    }
  }

  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, this.#assertOpen, what, fn);
  }
}

function toRequest(r: Selectable<RequestCasesTable>): StoredRequest {
  return {
    id: r.id,
    kind: r.kind,
    jurisdiction: r.jurisdiction,
    receivedOn: r.received_on,
    respondWithin: r.respond_within,
    extendBy: r.extend_by,
    dueOn: r.due_on,
    extendedDueOn: r.extended_due_on,
    extendedAt: r.extended_at,
    extendedBy: r.extended_by,
    extensionReason: r.extension_reason,
    state: r.state,
    verificationMethod: r.verification_method,
    verifiedBy: r.verified_by,
    verifiedAt: r.verified_at,
    refusalReason: r.refusal_reason,
    outcome: r.outcome,
    openedAt: r.opened_at,
    openedBy: r.opened_by,
    closedAt: r.closed_at,
    closedBy: r.closed_by,
    shredDueAt: r.shred_due_at,
    shreddedAt: r.shredded_at,
    keyId: r.key_id,
    identifiersCiphertext: r.identifiers_ct,
    identifierKinds: JSON.parse(r.identifier_kinds_json) as Record<string, number>,
    identifiersVersion: Number(r.identifiers_version),
    runner: r.runner,
    runnerAt: r.runner_at,
    updatedAt: r.updated_at,
  };
}

function toStep(r: Selectable<RequestStepsTable>): StoredRequestStep {
  return {
    caseId: r.case_id,
    seq: Number(r.seq),
    step: r.step,
    identifiersVersion: Number(r.identifiers_version),
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    outcome: r.outcome,
    counts: JSON.parse(r.counts_json) as Record<string, number>,
    details: JSON.parse(r.details_json) as Record<string, string | number | boolean | null>,
    errorCode: r.error_code,
    errorMessage: r.error_message,
  };
}
