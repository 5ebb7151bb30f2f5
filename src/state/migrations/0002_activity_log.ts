/**
 * The activity log: an append-only, hash-chained record of every Steward
 * action that touches data or evidence; see src/state/activity-log.ts.
 * Format: docs/state.md#format-of-the-log
 */
import type { Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('activity_log')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('subject_json', 'text', (c) => c.notNull())
      .addColumn('details_json', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text')
      .execute();
    await db.schema.createIndex('activity_log_action').on('activity_log').columns(['action', 'at']).execute();
  },
};
