/**
 * Legal hold rows in the state store (migration 0005), and the per-store secret
 * subject HMACs are keyed with. Plain storage: what a hold means, when it is
 * active and how it is logged is src/retention/holds.ts. Obtain it as
 * `store.holds`.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { StateError } from '../errors.js';
import { runStateOperation, type StateBackend } from './backend.js';
import type { LegalHoldsTable, StateDatabase } from './tables.js';

export type HoldKind = LegalHoldsTable['kind'];

/** The primary keys a subject hold keeps: column names, Steward's type class of each, and one value list per row. */
export interface HoldKeys {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  readonly values: readonly (readonly (string | number)[])[];
}

/** A hold as stored. Timestamps are ISO-8601 UTC. */
export interface StoredHold {
  readonly id: string;
  readonly source: string;
  /** The table as the operator wrote it. */
  readonly table: string;
  /** Where it resolved when the hold was placed. */
  readonly schema: string;
  readonly tableName: string;
  readonly kind: HoldKind;
  readonly predicate: string | null;
  readonly subjectColumn: string | null;
  readonly subjectHmac: string | null;
  readonly keys: HoldKeys | null;
  /** Rows the hold covered when it was placed. */
  readonly heldRows: number;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly until: string | null;
  readonly releasedAt: string | null;
  readonly releasedBy: string | null;
  readonly releaseReason: string | null;
  readonly addedLoggedAt: string | null;
  readonly releasedLoggedAt: string | null;
  readonly expiredLoggedAt: string | null;
}

export type NewHold = Omit<StoredHold, 'releasedAt' | 'releasedBy' | 'releaseReason' | 'addedLoggedAt' | 'releasedLoggedAt' | 'expiredLoggedAt'>;

export type HoldLogMark = 'added' | 'released' | 'expired';

const MARK_COLUMN = { added: 'added_logged_at', released: 'released_logged_at', expired: 'expired_logged_at' } as const;

export class StateHoldStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  readonly #assertOpen: () => void;

  /** @internal Use `StateStore.holds`. */
  constructor(backend: StateBackend, assertOpen: () => void) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#assertOpen = assertOpen;
  }

  async insert(hold: NewHold): Promise<void> {
    await this.#run('record a legal hold in', () =>
      this.#db
        .insertInto('legal_holds')
        .values({
          id: hold.id,
          source: hold.source,
          table_name: hold.table,
          table_schema: hold.schema,
          table_resolved: hold.tableName,
          kind: hold.kind,
          predicate: hold.predicate,
          subject_column: hold.subjectColumn,
          subject_hmac: hold.subjectHmac,
          keys_json: hold.keys === null ? null : JSON.stringify(hold.keys),
          held_rows: hold.heldRows,
          reason: hold.reason,
          created_by: hold.createdBy,
          created_at: hold.createdAt,
          until: hold.until,
          released_at: null,
          released_by: null,
          release_reason: null,
          added_logged_at: null,
          released_logged_at: null,
          expired_logged_at: null,
        })
        .execute(),
    );
  }

  /** Removes a hold that was never in force (its activity log entry could not be written). */
  async remove(id: string): Promise<void> {
    await this.#run('remove a legal hold from', () => this.#db.deleteFrom('legal_holds').where('id', '=', id).where('added_logged_at', 'is', null).execute());
  }

  async get(id: string): Promise<StoredHold | null> {
    return this.#run('read legal holds from', async () => {
      const row = await this.#db.selectFrom('legal_holds').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toHold(row) : null;
    });
  }

  /** Holds whose id starts with `prefix` (hex digits and dashes only; at most `limit`). */
  async byPrefix(prefix: string, limit = 2): Promise<StoredHold[]> {
    if (!/^[0-9a-f-]+$/.test(prefix)) return [];
    return this.#run('read legal holds from', async () => {
      const rows = await this.#db.selectFrom('legal_holds').selectAll().where('id', 'like', `${prefix}%`).orderBy('id').limit(limit).execute();
      return rows.map(toHold);
    });
  }

  /** Every hold (released ones included), optionally of one source and resolved table, oldest first. */
  async list(filter: { readonly source?: string; readonly schema?: string; readonly table?: string } = {}): Promise<StoredHold[]> {
    return this.#run('read legal holds from', async () => {
      let q = this.#db.selectFrom('legal_holds').selectAll();
      if (filter.source !== undefined) q = q.where('source', '=', filter.source);
      if (filter.table !== undefined) q = q.where('table_resolved', '=', filter.table);
      if (filter.schema !== undefined) q = q.where('table_schema', '=', filter.schema);
      return (await q.orderBy('created_at').orderBy('id').execute()).map(toHold);
    });
  }

  /** Releases a hold that is not released yet (compare-and-set: of two releases, one wins). */
  async release(id: string, release: { readonly at: string; readonly by: string; readonly reason: string }): Promise<boolean> {
    return this.#run('release a legal hold in', async () => {
      const r = await this.#db
        .updateTable('legal_holds')
        .set({ released_at: release.at, released_by: release.by, release_reason: release.reason })
        .where('id', '=', id)
        .where('released_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  /** Undoes a release made at `at` whose activity log entry could not be written (the hold stays in force). */
  async unrelease(id: string, at: string): Promise<void> {
    await this.#run('update a legal hold in', () =>
      this.#db
        .updateTable('legal_holds')
        .set({ released_at: null, released_by: null, release_reason: null })
        .where('id', '=', id)
        .where('released_at', '=', at)
        .where('released_logged_at', 'is', null)
        .execute(),
    );
  }

  /** Records that the activity log entry for this change was written. */
  async markLogged(id: string, mark: HoldLogMark, at: string): Promise<boolean> {
    return this.#run('update a legal hold in', async () => {
      const column = MARK_COLUMN[mark];
      const r = await this.#db.updateTable('legal_holds').set({ [column]: at }).where('id', '=', id).where(column, 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  /**
   * The store's secret `name` (32 random bytes), created on first use. Two
   * processes creating it at once end up with the same one (insert-or-ignore,
   * then read).
   */
  async secret(name: string): Promise<Buffer> {
    return this.#run('read a secret of', async () => {
      const read = async () => (await this.#db.selectFrom('store_secrets').select('secret').where('name', '=', name).executeTakeFirst())?.secret;
      let value = await read();
      if (value === undefined) {
        await this.#db
          .insertInto('store_secrets')
          .values({ name, secret: randomBytes(32).toString('base64'), created_at: new Date().toISOString() })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        value = await read();
      }
      if (value === undefined) throw new StateError('STATE_OPEN', `The secret "${name}" could not be created in the state store ${this.#backend.location}`);
      return Buffer.from(value, 'base64');
    });
  }

  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, this.#assertOpen, what, fn);
  }
}

function toHold(r: Selectable<LegalHoldsTable>): StoredHold {
  return {
    id: r.id,
    source: r.source,
    table: r.table_name,
    schema: r.table_schema,
    tableName: r.table_resolved,
    kind: r.kind,
    predicate: r.predicate,
    subjectColumn: r.subject_column,
    subjectHmac: r.subject_hmac,
    keys: r.keys_json === null ? null : (JSON.parse(r.keys_json) as HoldKeys),
    heldRows: Number(r.held_rows),
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    until: r.until,
    releasedAt: r.released_at,
    releasedBy: r.released_by,
    releaseReason: r.release_reason,
    addedLoggedAt: r.added_logged_at,
    releasedLoggedAt: r.released_logged_at,
    expiredLoggedAt: r.expired_logged_at,
  };
}
