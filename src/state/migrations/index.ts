import { migration as m0001 } from './0001_audit_runs.js';
import { migration as m0002 } from './0002_activity_log.js';
import { migration as m0003 } from './0003_keys.js';
import { migration as m0004 } from './0004_column_jobs.js';
import { migration as m0005 } from './0005_legal_holds.js';
import { migration as m0006 } from './0006_request_cases.js';
import type { StateMigration } from './types.js';

export type { MigrationContext, StateDialect, StateMigration } from './types.js';

/**
 * Every migration this Steward knows, served from code (not read from disk),
 * so the built package migrates the same wherever it is installed. Append only.
 */
export const MIGRATIONS: Readonly<Record<string, StateMigration>> = Object.freeze({
  '0001_audit_runs': m0001,
  '0002_activity_log': m0002,
  '0003_keys': m0003,
  '0004_column_jobs': m0004,
  '0005_legal_holds': m0005,
  '0006_request_cases': m0006,
});
