/** Row types of the state store, as Kysely sees them (after all migrations). */

/** PostgreSQL returns `bigint` as a string; SQLite as a number. Read through `Number()`. */
type BigIntColumn = number | string;

export interface AuditRunsTable {
  id: string;
  stage: string;
  started_at: string;
  finished_at: string;
  status: 'ok' | 'partial' | 'failed';
  tool_version: string;
  config_hash: string | null;
  summary_json: string;
}

export interface RunSourcesTable {
  run_id: string;
  source: string;
  status: 'ok' | 'error';
  error_code: string | null;
  tables: number;
  columns: number;
  duration_ms: BigIntColumn;
}

export interface FindingsTable {
  run_id: string;
  finding_id: string;
  ordinal: number;
  rule: string;
  severity: string;
  source: string;
  schema: string | null;
  table_name: string | null;
  column_name: string | null;
  category: string | null;
  title: string;
  message: string;
  remedy: string;
}

export interface InventoryTable {
  run_id: string;
  ordinal: number;
  source: string;
  schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
  category: string;
  risk: string;
  confidence: number;
  row_estimate: BigIntColumn;
  purpose: string | null;
  evidence_json: string;
  free_text_json: string;
  examples_json: string;
}

export interface ActivityLogTable {
  seq: BigIntColumn;
  at: string;
  actor: string;
  action: string;
  subject_json: string;
  details_json: string;
  prev_hash: string;
  /** Null or malformed only when the entry was cut mid-write or tampered with. */
  hash: string | null;
}

/** Wrapped data keys and blind-index secrets (migration 0003); never plaintext keys. */
export interface DataKeysTable {
  key_id: string;
  version: number;
  source: string;
  table_name: string;
  column_name: string;
  kind: 'dek' | 'bidx';
  state: 'active' | 'retired' | 'destroyed';
  kek_id: string;
  /** Null once destroyed. */
  wrapped: string | null;
  messages_reserved: BigIntColumn;
  message_limit: BigIntColumn;
  created_at: string;
  retired_at: string | null;
  destroyed_at: string | null;
}

/** Master keys seen by the store (id = fingerprint), with scrypt parameters for passphrase keys. */
export interface MasterKeysTable {
  id: string;
  kind: string;
  params_json: string | null;
  created_at: string;
}

export interface ColumnJobsTable {
  id: string;
  source: string;
  table_name: string;
  column_name: string;
  operation: string;
  status: string;
  pass: number;
  last_key_json: string | null;
  counts_json: string;
  options_json: string;
  owner_host: string | null;
  owner_pid: number | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** Legal holds (migration 0005); see src/retention/holds.ts. */
export interface LegalHoldsTable {
  id: string;
  source: string;
  /** As the operator wrote it. */
  table_name: string;
  table_schema: string;
  table_resolved: string;
  kind: 'where' | 'subject' | 'table';
  predicate: string | null;
  subject_column: string | null;
  subject_hmac: string | null;
  keys_json: string | null;
  held_rows: BigIntColumn;
  reason: string;
  created_by: string;
  created_at: string;
  until: string | null;
  released_at: string | null;
  released_by: string | null;
  release_reason: string | null;
  added_logged_at: string | null;
  released_logged_at: string | null;
  expired_logged_at: string | null;
}

/** Per-store random secrets (migration 0005), base64. */
export interface StoreSecretsTable {
  name: string;
  secret: string;
  created_at: string;
}

/** Data-subject request cases (migration 0006); see src/subjects/cases.ts. */
export interface RequestCasesTable {
  id: string;
  kind: 'access' | 'erasure' | 'rectification' | 'find';
  jurisdiction: string;
  received_on: string;
  respond_within: string;
  extend_by: string;
  due_on: string;
  extended_due_on: string | null;
  extended_at: string | null;
  extended_by: string | null;
  extension_reason: string | null;
  state: 'received' | 'verified' | 'in-progress' | 'awaiting-identifier' | 'completed' | 'refused';
  verification_method: string | null;
  verified_by: string | null;
  verified_at: string | null;
  refusal_reason: string | null;
  outcome: string | null;
  opened_at: string;
  opened_by: string;
  closed_at: string | null;
  closed_by: string | null;
  shred_due_at: string | null;
  shredded_at: string | null;
  key_id: string | null;
  /** `stw1:` ciphertext of the identifiers under the case's data key; null once shredded. */
  identifiers_ct: string | null;
  identifier_kinds_json: string;
  identifiers_version: number;
  runner: string | null;
  runner_at: string | null;
  updated_at: string;
}

/** Keyed hashes of a case's identifiers (migration 0006). */
export interface RequestLookupsTable {
  case_id: string;
  lookup: string;
}

/** Every step run for a case (migration 0006). */
export interface RequestStepsTable {
  case_id: string;
  seq: number;
  step: string;
  identifiers_version: number;
  status: 'running' | 'done' | 'failed' | 'ambiguous' | 'skipped' | 'interrupted';
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  counts_json: string;
  details_json: string;
  error_code: string | null;
  error_message: string | null;
}

export interface StateDatabase {
  request_cases: RequestCasesTable;
  request_lookups: RequestLookupsTable;
  request_steps: RequestStepsTable;
  column_jobs: ColumnJobsTable;
  legal_holds: LegalHoldsTable;
  store_secrets: StoreSecretsTable;
  activity_log: ActivityLogTable;
  data_keys: DataKeysTable;
  master_keys: MasterKeysTable;
  audit_runs: AuditRunsTable;
  run_sources: RunSourcesTable;
  findings: FindingsTable;
  inventory: InventoryTable;
}
