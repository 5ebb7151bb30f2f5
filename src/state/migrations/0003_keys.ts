/**
 * The keyring: data keys (DEKs) and blind-index secrets, stored wrapped under a
 * master key, one row per (key, version); and the master keys seen, with the
 * scrypt parameters a passphrase key is re-derived with. No plaintext key
 * material is ever stored. See src/crypto/keyring.ts and src/state/keys.ts.
 */
import { sql, type Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('master_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('params_json', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('data_keys')
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('table_name', 'text', (c) => c.notNull())
      .addColumn('column_name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('dek', 'bidx')`))
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'retired', 'destroyed')`))
      .addColumn('kek_id', 'text', (c) => c.notNull())
      // Null once destroyed (crypto-shredding).
      .addColumn('wrapped', 'text')
      .addColumn('messages_reserved', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('message_limit', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('retired_at', 'text')
      .addColumn('destroyed_at', 'text')
      .addPrimaryKeyConstraint('data_keys_pk', ['key_id', 'version'])
      .addUniqueConstraint('data_keys_scope_version', ['source', 'table_name', 'column_name', 'kind', 'version'])
      .addCheckConstraint('data_keys_destroyed_empty', sql`(state = 'destroyed') = (wrapped is null)`)
      .execute();
    // At most one active version per column and kind, whatever the writers do.
    await db.schema
      .createIndex('data_keys_one_active')
      .on('data_keys')
      .columns(['source', 'table_name', 'column_name', 'kind'])
      .unique()
      .where(sql.id('state'), '=', 'active')
      .execute();
  },
};
