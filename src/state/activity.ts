/**
 * The activity log's rows in the state store (migration 0002): appends
 * serialised across writers, the repair of a cut last entry, and streaming
 * reads for verification. What the chain guarantees, and the pure hashing and
 * checks, are in activity-log.ts. Obtain it as `store.activity`.
 */
import type { Kysely, Selectable } from 'kysely';
import { StateError, isStewardError } from '../errors.js';
import { GENESIS_HASH, assertNoPersonalData, entryHash, verifyChain, type ActivityEntry, type NewActivity, type StoredActivity, type VerifyResult } from './activity-log.js';
import { runStateOperation, stateError, type StateBackend } from './backend.js';
import type { ActivityLogTable, StateDatabase } from './tables.js';

export class StateActivityStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  readonly #assertOpen: () => void;

  /** @internal Use `StateStore.activity`. */
  constructor(backend: StateBackend, assertOpen: () => void) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#assertOpen = assertOpen;
  }

  /**
   * Appends one entry to the hash-chained activity log and returns it. Appends
   * are serialised (SQLite: the write lock `BEGIN IMMEDIATE` takes; PostgreSQL:
   * an exclusive table lock), so concurrent writers never fork the chain.
   * A string recognised as personal data is refused (InternalError): the log
   * holds ids, counts and locations only.
   */
  async append(entry: NewActivity): Promise<StoredActivity> {
    return (await this.appendAll([entry]))[0]!;
  }

  /**
   * Appends several entries in one transaction (all or none), chained in order.
   * Same serialisation and personal-data guard as {@link append}.
   */
  async appendAll(entries: readonly NewActivity[]): Promise<StoredActivity[]> {
    this.#assertOpen();
    for (const entry of entries) {
      assertNoPersonalData(entry.subject, 'subject');
      assertNoPersonalData(entry.details, 'details');
    }
    if (entries.length === 0) return [];
    try {
      return await this.#db.transaction().execute(async (trx) => {
        await this.lockIn(trx);
        return this.appendIn(trx, entries);
      });
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw stateError(this.#backend, `Cannot append to the activity log in ${this.#backend.location}`, e);
    }
  }

  /** @internal Chains `entries` after the last one, inside `trx` (which holds the activity lock). */
  async appendIn(trx: Kysely<StateDatabase>, entries: readonly NewActivity[]): Promise<StoredActivity[]> {
    const last = await trx.selectFrom('activity_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    if (last && (last.hash === null || !/^[0-9a-f]{64}$/.test(last.hash))) {
      throw new StateError('STATE_OPEN', `The activity log's last entry (${last.seq}) is incomplete or damaged, so nothing can be chained to it`, {
        hint: 'Run `steward log verify` to see what is wrong; if it says the last entry was cut mid-write, `steward log repair` completes it (and logs that it did); if the log was tampered with, restore the state store from a backup',
      });
    }
    let prevHash = last?.hash ?? GENESIS_HASH;
    let seq = last ? Number(last.seq) : 0;
    const out: StoredActivity[] = [];
    for (const entry of entries) {
      const full: ActivityEntry = {
        seq: ++seq,
        at: entry.at ?? new Date().toISOString(),
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        details: entry.details,
      };
      const hash = entryHash(prevHash, full);
      await trx
        .insertInto('activity_log')
        .values({
          seq: full.seq,
          at: full.at,
          actor: full.actor,
          action: full.action,
          subject_json: JSON.stringify(full.subject),
          details_json: JSON.stringify(full.details),
          prev_hash: prevHash,
          hash,
        })
        .execute();
      out.push({ ...full, prevHash, hash });
      prevHash = hash;
    }
    return out;
  }

  /**
   * Completes a last entry that was cut mid-write (it has no valid hash but links
   * correctly to the entry before it and its content is whole JSON): computes its
   * hash, then appends a `log.repaired` entry saying so, in one transaction.
   * Anything else that is broken is not a cut write and is refused: that is
   * tampering, and only a backup restores it. `dryRun` says what it would do.
   */
  async repair(options: { readonly actor: string; readonly dryRun?: boolean; readonly at?: string }): Promise<{ readonly repaired: StoredActivity | null; readonly message: string }> {
    this.#assertOpen();
    try {
      return await this.#db.transaction().execute(async (trx) => {
        await this.lockIn(trx);
        const rows = await trx.selectFrom('activity_log').selectAll().orderBy('seq', 'desc').limit(2).execute();
        const last = rows[0];
        if (!last || (last.hash !== null && /^[0-9a-f]{64}$/.test(last.hash))) return { repaired: null, message: 'The last entry of the activity log is complete: nothing to repair' };
        const before = rows[1];
        const expectedPrev = before ? before.hash : GENESIS_HASH;
        if (before && Number(before.seq) !== Number(last.seq) - 1) {
          throw new StateError('STATE_OPEN', `The activity log's last entry (${last.seq}) does not follow entry ${before.seq}: entries are missing, which a cut write cannot cause`, { hint: 'Run `steward log verify` and restore the state store from a backup' });
        }
        if (last.prev_hash !== expectedPrev) {
          throw new StateError('STATE_OPEN', `The activity log's last entry (${last.seq}) does not link to the entry before it: it was altered, not cut mid-write`, { hint: 'Run `steward log verify` and restore the state store from a backup' });
        }
        let entry: Pick<ActivityEntry, 'subject' | 'details'>;
        try {
          entry = { subject: JSON.parse(last.subject_json) as ActivityEntry['subject'], details: JSON.parse(last.details_json) as ActivityEntry['details'] };
        } catch {
          throw new StateError('STATE_OPEN', `The activity log's last entry (${last.seq}) was cut inside its content, which cannot be completed`, { hint: 'Restore the state store from a backup taken before the interruption' });
        }
        const full: ActivityEntry = { seq: Number(last.seq), at: last.at, actor: last.actor, action: last.action, subject: entry.subject, details: entry.details };
        const hash = entryHash(last.prev_hash, full);
        const message = `Entry ${full.seq} (${full.action} at ${full.at}) had no valid hash: it was completed, and a log.repaired entry records that`;
        if (options.dryRun) return { repaired: null, message: `Would repair: ${message.replace(': it was completed', '; it would be completed')}` };
        await trx.updateTable('activity_log').set({ hash }).where('seq', '=', full.seq).execute();
        const note: ActivityEntry = {
          seq: full.seq + 1,
          at: options.at ?? new Date().toISOString(),
          actor: options.actor,
          action: 'log.repaired',
          subject: { seq: full.seq },
          details: { reason: 'last entry had no valid hash (cut mid-write)', action: full.action, at: full.at, storedHash: last.hash ?? null, completedHash: hash },
        };
        const noteHash = entryHash(hash, note);
        await trx
          .insertInto('activity_log')
          .values({ seq: note.seq, at: note.at, actor: note.actor, action: note.action, subject_json: JSON.stringify(note.subject), details_json: JSON.stringify(note.details), prev_hash: hash, hash: noteHash })
          .execute();
        return { repaired: { ...note, prevHash: hash, hash: noteHash }, message };
      });
    } catch (e) {
      if (isStewardError(e)) throw e;
      throw stateError(this.#backend, `Cannot repair the activity log in ${this.#backend.location}`, e);
    }
  }

  /** @internal Takes the activity lock for the rest of `trx` (every appender takes it first). */
  lockIn(trx: Kysely<StateDatabase>): Promise<void> {
    return this.#backend.lockTable(trx, 'activity_log');
  }

  /**
   * Activity log entries in seq order, read in batches of `batch` (memory stays
   * bounded per batch), optionally only one action and/or from `since` (ISO) on.
   * With `last`, only the last `last` matching entries (still in seq order).
   */
  async *batches(
    options: { readonly afterSeq?: number; readonly batch?: number; readonly action?: string; readonly since?: string; readonly last?: number } = {},
  ): AsyncGenerator<StoredActivity[]> {
    const size = options.batch ?? 1000;
    let after = options.afterSeq ?? 0;
    const filtered = () => {
      let q = this.#db.selectFrom('activity_log').selectAll();
      if (options.action !== undefined) q = q.where('action', '=', options.action);
      if (options.since !== undefined) q = q.where('at', '>=', options.since);
      return q;
    };
    if (options.last !== undefined) {
      const rows = await this.#read(() => filtered().where('seq', '>', after).orderBy('seq', 'desc').limit(options.last!).execute());
      if (rows.length) yield rows.reverse().map(toActivity);
      return;
    }
    for (;;) {
      const rows = await this.#read(() => filtered().where('seq', '>', after).orderBy('seq').limit(size).execute());
      if (rows.length === 0) return;
      yield rows.map(toActivity);
      after = Number(rows[rows.length - 1]!.seq);
      if (rows.length < size) return;
    }
  }

  /** Checks the whole chain; names the first broken entry. */
  async verify(): Promise<VerifyResult> {
    return verifyChain(this.batches(), async (hash) => {
      const row = await this.#read(() => this.#db.selectFrom('activity_log').select('seq').where('hash', '=', hash).limit(1).executeTakeFirst());
      return row ? Number(row.seq) : null;
    });
  }

  /** The stored hash of entry `seq`, or null when there is no such entry. */
  async hash(seq: number): Promise<string | null> {
    const row = await this.#read(() => this.#db.selectFrom('activity_log').select('hash').where('seq', '=', seq).executeTakeFirst());
    return row?.hash ?? null;
  }

  #read<T>(fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, () => this.#assertOpen(), 'read', fn);
  }

}

function toActivity(r: Selectable<ActivityLogTable>): StoredActivity {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: parseJson(r.subject_json),
    details: parseJson(r.details_json),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A JSON object column; a value that does not parse (tampering) is kept as text so verify can report it. */
function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unparsable: text };
  }
}
