/**
 * Audit history: one row per run, per-source outcome, findings and the
 * inventory. Portable types only: text, integer, bigint, double precision;
 * timestamps as ISO-8601 UTC text (sortable as text); JSON as text.
 */
import { sql, type Kysely } from 'kysely';
import type { StateMigration } from './types.js';

export const migration: StateMigration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('audit_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['ok', 'partial', 'failed'])))
      .addColumn('tool_version', 'text', (c) => c.notNull())
      .addColumn('config_hash', 'text')
      .addColumn('summary_json', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_runs_stage_finished').on('audit_runs').columns(['stage', 'finished_at']).execute();

    await db.schema
      .createTable('run_sources')
      .addColumn('run_id', 'text', (c) => c.notNull().references('audit_runs.id').onDelete('cascade'))
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['ok', 'error'])))
      .addColumn('error_code', 'text')
      .addColumn('tables', 'integer', (c) => c.notNull())
      .addColumn('columns', 'integer', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_sources_pk', ['run_id', 'source'])
      .execute();
    await db.schema.createIndex('run_sources_source').on('run_sources').columns(['source', 'status']).execute();

    await db.schema
      .createTable('findings')
      .addColumn('run_id', 'text', (c) => c.notNull().references('audit_runs.id').onDelete('cascade'))
      .addColumn('finding_id', 'text', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('schema', 'text')
      .addColumn('table_name', 'text')
      .addColumn('column_name', 'text')
      .addColumn('category', 'text')
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('remedy', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('findings_pk', ['run_id', 'finding_id'])
      .execute();
    await db.schema.createIndex('findings_finding_id').on('findings').column('finding_id').execute();

    await db.schema
      .createTable('inventory')
      .addColumn('run_id', 'text', (c) => c.notNull().references('audit_runs.id').onDelete('cascade'))
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('schema', 'text', (c) => c.notNull())
      .addColumn('table_name', 'text', (c) => c.notNull())
      .addColumn('column_name', 'text', (c) => c.notNull())
      .addColumn('data_type', 'text', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('risk', 'text', (c) => c.notNull())
      .addColumn('confidence', 'double precision', (c) => c.notNull())
      .addColumn('row_estimate', 'bigint', (c) => c.notNull())
      .addColumn('purpose', 'text')
      .addColumn('evidence_json', 'text', (c) => c.notNull())
      .addColumn('free_text_json', 'text', (c) => c.notNull())
      // Masked values only (the audit masks before anything reaches the report).
      .addColumn('examples_json', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('inventory_pk', ['run_id', 'ordinal'])
      .execute();
    await db.schema
      .createIndex('inventory_location')
      .on('inventory')
      .columns(['source', 'schema', 'table_name', 'column_name'])
      .execute();
  },
};

function sqlIn(column: string, values: readonly string[]) {
  return sql`${sql.id(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
