/**
 * Column jobs: the checkpoint of every online column migration (encrypt,
 * decrypt, rotate). One row per job; the row says how far the job got (the last
 * primary key done in the current pass), what it counted, and who holds it
 * (host and pid, so that a second runner refuses while the first is alive and
 * takes over once it died). See src/crypto/column-migration.ts.
 */
import type { Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('column_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('table_name', 'text', (c) => c.notNull())
      .addColumn('column_name', 'text', (c) => c.notNull())
      .addColumn('operation', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('pass', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('last_key_json', 'text')
      .addColumn('counts_json', 'text', (c) => c.notNull())
      .addColumn('options_json', 'text', (c) => c.notNull())
      .addColumn('owner_host', 'text')
      .addColumn('owner_pid', 'integer')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    await db.schema.createIndex('column_jobs_target').on('column_jobs').columns(['source', 'table_name', 'column_name', 'status']).execute();
  },
};
