/**
 * Legal holds: rows of a source table exempt from every retention method until
 * released or expired (src/retention/holds.ts). One row per hold; a released
 * hold stays, with who released it and why. Three kinds:
 * - `where`: the rows an operator's SQL predicate selects (`predicate`);
 * - `subject`: the rows whose `subject_column` matched a data subject's
 *   identifier when the hold was placed, stored as their primary keys
 *   (`keys_json`) and an HMAC of the identifier (`subject_hmac`) — never the
 *   identifier itself;
 * - `table`: the whole table.
 * The `*_logged_at` columns say which activity log entries were written, so an
 * entry lost to a crash between the change and its log entry is written later.
 *
 * `store_secrets` holds per-store random secrets (here: the key the subject
 * HMACs are derived from), created on first use.
 */
import { sql, type Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('legal_holds')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      // As the operator wrote it (`customers`, `public.customers`)…
      .addColumn('table_name', 'text', (c) => c.notNull())
      // …and as it resolved when the hold was placed.
      .addColumn('table_schema', 'text', (c) => c.notNull())
      .addColumn('table_resolved', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('where', 'subject', 'table')`))
      .addColumn('predicate', 'text')
      .addColumn('subject_column', 'text')
      .addColumn('subject_hmac', 'text')
      .addColumn('keys_json', 'text')
      .addColumn('held_rows', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('until', 'text')
      .addColumn('released_at', 'text')
      .addColumn('released_by', 'text')
      .addColumn('release_reason', 'text')
      .addColumn('added_logged_at', 'text')
      .addColumn('released_logged_at', 'text')
      .addColumn('expired_logged_at', 'text')
      .addCheckConstraint(
        'legal_holds_kind_fields',
        sql`(kind = 'where' and predicate is not null and keys_json is null and subject_hmac is null)
         or (kind = 'subject' and predicate is null and keys_json is not null and subject_column is not null and subject_hmac is not null)
         or (kind = 'table' and predicate is null and keys_json is null and subject_hmac is null)`,
      )
      .addCheckConstraint('legal_holds_release_fields', sql`(released_at is null) = (released_by is null)`)
      .execute();
    await db.schema.createIndex('legal_holds_target').on('legal_holds').columns(['source', 'table_resolved']).execute();

    await db.schema
      .createTable('store_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
};
