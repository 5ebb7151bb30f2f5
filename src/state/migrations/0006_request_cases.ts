/**
 * Data-subject request cases (src/subjects/cases.ts): one row per case in
 * `request_cases`, the lookup hashes of its identifiers in `request_lookups`,
 * and every step run for it in `request_steps`.
 *
 * The identifiers are never stored in plain text: `identifiers_ct` is a `stw1:`
 * ciphertext under the case's own data key (a keyring key of the scope
 * `@requests / request_cases / <case id>`, wrapped by the master key in
 * `data_keys`); `request_lookups.lookup` is a keyed hash (the keyring's
 * blind-index key of `@requests / request_cases / lookup`) of each identifier,
 * so a case can be found by whoever has the identifier and the master key.
 * Shredding a closed case destroys its data key, clears the ciphertext and
 * deletes its lookups; the row and its steps stay (`shredded_at` set).
 */
import { sql, type Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('request_cases')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('access', 'erasure', 'rectification', 'find')`))
      .addColumn('jurisdiction', 'text', (c) => c.notNull())
      .addColumn('received_on', 'text', (c) => c.notNull())
      // The jurisdiction's terms when the case was opened: a later change of steward.yml does not move its deadline.
      .addColumn('respond_within', 'text', (c) => c.notNull())
      .addColumn('extend_by', 'text', (c) => c.notNull())
      .addColumn('due_on', 'text', (c) => c.notNull())
      .addColumn('extended_due_on', 'text')
      .addColumn('extended_at', 'text')
      .addColumn('extended_by', 'text')
      .addColumn('extension_reason', 'text')
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('received', 'verified', 'in-progress', 'awaiting-identifier', 'completed', 'refused')`))
      .addColumn('verification_method', 'text')
      .addColumn('verified_by', 'text')
      .addColumn('verified_at', 'text')
      .addColumn('refusal_reason', 'text')
      // `found` or `no-data`, once completed.
      .addColumn('outcome', 'text')
      .addColumn('opened_at', 'text', (c) => c.notNull())
      .addColumn('opened_by', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'text')
      .addColumn('closed_by', 'text')
      .addColumn('shred_due_at', 'text')
      .addColumn('shredded_at', 'text')
      .addColumn('key_id', 'text')
      // Null once shredded.
      .addColumn('identifiers_ct', 'text')
      // The kinds of the identifiers and how many of each (["email","phone"]): not the identifiers.
      .addColumn('identifier_kinds_json', 'text', (c) => c.notNull())
      .addColumn('identifiers_version', 'integer', (c) => c.notNull().defaultTo(1))
      // The process running its steps (host:pid) and when it last said so.
      .addColumn('runner', 'text')
      .addColumn('runner_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addCheckConstraint('request_cases_closed', sql`(state in ('completed', 'refused')) = (closed_at is not null)`)
      .addCheckConstraint('request_cases_refused', sql`(state = 'refused') = (refusal_reason is not null)`)
      .addCheckConstraint('request_cases_verified', sql`(verified_at is null) = (verified_by is null)`)
      .addCheckConstraint('request_cases_shredded', sql`(shredded_at is null) = (identifiers_ct is not null)`)
      .addCheckConstraint('request_cases_extended', sql`(extended_due_on is null) = (extension_reason is null)`)
      .execute();
    await db.schema.createIndex('request_cases_state').on('request_cases').columns(['state', 'due_on']).execute();

    await db.schema
      .createTable('request_lookups')
      .addColumn('case_id', 'text', (c) => c.notNull().references('request_cases.id').onDelete('cascade'))
      .addColumn('lookup', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('request_lookups_pk', ['case_id', 'lookup'])
      .execute();
    await db.schema.createIndex('request_lookups_lookup').on('request_lookups').column('lookup').execute();

    await db.schema
      .createTable('request_steps')
      .addColumn('case_id', 'text', (c) => c.notNull().references('request_cases.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('identifiers_version', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'done', 'failed', 'ambiguous', 'skipped', 'interrupted')`))
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('outcome', 'text')
      .addColumn('counts_json', 'text', (c) => c.notNull())
      .addColumn('details_json', 'text', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addPrimaryKeyConstraint('request_steps_pk', ['case_id', 'seq'])
      .execute();
  },
};
