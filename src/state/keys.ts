/**
 * Key rows in the state store (migration 0003): the {@link KeyStore} the
 * keyring (src/crypto/keyring.ts) persists wrapped keys through. Wrapped bytes
 * only — the store never sees a plaintext key. Obtain it as `store.keys`.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ColumnScope } from '../crypto/format.js';
import type { KeyKind, KeyStore, MasterKeyRecord, NewStoredKey, StoredKey } from '../crypto/types.js';
import { errorCode, runStateOperation, type StateBackend } from './backend.js';
import type { DataKeysTable, StateDatabase } from './tables.js';

const CONFLICT_CODES = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', '23505']);

export class StateKeyStore implements KeyStore {
  readonly #backend: StateBackend;
  readonly #db: Kysely<StateDatabase>;
  readonly #assertOpen: () => void;

  /** @internal Use `StateStore.keys`. */
  constructor(backend: StateBackend, assertOpen: () => void) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#assertOpen = assertOpen;
  }

  async listKeys(filter: { readonly scope?: ColumnScope; readonly kind?: KeyKind } = {}): Promise<StoredKey[]> {
    return this.#run('read the data keys from', async () => {
      let q = this.#db.selectFrom('data_keys').selectAll();
      if (filter.scope) {
        q = q.where('source', '=', filter.scope.source).where('table_name', '=', filter.scope.table).where('column_name', '=', filter.scope.column);
      }
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      const rows = await q.orderBy('source').orderBy('table_name').orderBy('column_name').orderBy('kind').orderBy('version').execute();
      return rows.map(toStoredKey);
    });
  }

  async createVersion(key: NewStoredKey, retire: number | null): Promise<boolean> {
    return this.#run('store a new data key in', async () => {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          if (retire !== null) {
            const r = await trx
              .updateTable('data_keys')
              .set({ state: 'retired', retired_at: key.createdAt })
              .where('key_id', '=', key.keyId)
              .where('version', '=', retire)
              .where('state', '=', 'active')
              .executeTakeFirst();
            if (Number(r.numUpdatedRows) !== 1) return false;
          }
          await trx
            .insertInto('data_keys')
            .values({
              key_id: key.keyId,
              version: key.version,
              source: key.scope.source,
              table_name: key.scope.table,
              column_name: key.scope.column,
              kind: key.kind,
              state: 'active',
              kek_id: key.kekId,
              wrapped: key.wrapped,
              messages_reserved: key.messagesReserved ?? 0,
              message_limit: key.messageLimit,
              created_at: key.createdAt,
              retired_at: null,
              destroyed_at: null,
            })
            .execute();
          return true;
        });
      } catch (e) {
        if (CONFLICT_CODES.has(errorCode(e) ?? '')) return false;
        throw e;
      }
    });
  }

  async reserveMessages(keyId: string, version: number, count: number): Promise<boolean> {
    return this.#run('reserve messages of a data key in', async () => {
      const r = await this.#db
        .updateTable('data_keys')
        .set({ messages_reserved: sql<number>`messages_reserved + ${count}` })
        .where('key_id', '=', keyId)
        .where('version', '=', version)
        .where('state', '=', 'active')
        .where(sql<boolean>`messages_reserved + ${count} <= message_limit`)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async retireKey(keyId: string, version: number, at: string): Promise<boolean> {
    return this.#run('retire a data key in', async () => {
      const r = await this.#db
        .updateTable('data_keys')
        .set({ state: 'retired', retired_at: at })
        .where('key_id', '=', keyId)
        .where('version', '=', version)
        .where('state', '=', 'active')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async destroyKey(keyId: string, version: number, at: string): Promise<boolean> {
    return this.#run('destroy a data key in', async () => {
      // Overwrite the wrapped key's bytes instead of leaving them in free pages (SQLite).
      await this.#backend.overwriteFreedContent(this.#db);
      const r = await this.#db
        .updateTable('data_keys')
        .set({ state: 'destroyed', wrapped: null, destroyed_at: at })
        .where('key_id', '=', keyId)
        .where('version', '=', version)
        .where('state', '!=', 'destroyed')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  async rewrapKeys(updates: readonly { readonly keyId: string; readonly version: number; readonly kekId: string; readonly wrapped: string }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.#run('re-wrap data keys in', () =>
      this.#db.transaction().execute(async (trx) => {
        for (const u of updates) {
          await trx
            .updateTable('data_keys')
            .set({ kek_id: u.kekId, wrapped: u.wrapped })
            .where('key_id', '=', u.keyId)
            .where('version', '=', u.version)
            .where('state', '!=', 'destroyed')
            .execute();
        }
      }),
    );
  }

  async listMasterKeys(): Promise<MasterKeyRecord[]> {
    return this.#run('read the master keys from', async () => {
      const rows = await this.#db.selectFrom('master_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map((r) => ({ id: r.id, kind: r.kind, params: r.params_json, createdAt: r.created_at }));
    });
  }

  async addMasterKey(record: MasterKeyRecord): Promise<void> {
    await this.#run('record a master key in', async () => {
      await this.#db
        .insertInto('master_keys')
        .values({ id: record.id, kind: record.kind, params_json: record.params, created_at: record.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    });
  }

  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return runStateOperation(this.#backend, this.#assertOpen, what, fn);
  }
}

function toStoredKey(r: Selectable<DataKeysTable>): StoredKey {
  return {
    scope: { source: r.source, table: r.table_name, column: r.column_name },
    kind: r.kind,
    keyId: r.key_id,
    version: Number(r.version),
    state: r.state,
    kekId: r.kek_id,
    wrapped: r.wrapped,
    messagesReserved: Number(r.messages_reserved),
    messageLimit: Number(r.message_limit),
    createdAt: r.created_at,
    retiredAt: r.retired_at,
    destroyedAt: r.destroyed_at,
  };
}
