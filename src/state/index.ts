export {
  DEFAULT_STATE_URL,
  openStateStore,
  runStatus,
  StateStore,
  type OpenStateStoreOptions,
  type PreviousRunOptions,
  type RunStatus,
  type StoredRun,
  type StoredRunSource,
} from './store.js';
export { auditHistory, openAuditHistory, type StateAuditHistory } from './audit-history.js';
export { MIGRATIONS, type StateMigration, type MigrationContext, type StateDialect } from './migrations/index.js';
