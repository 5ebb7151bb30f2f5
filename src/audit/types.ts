import type { Category, Risk } from '../detection/taxonomy.js';
import type { Evidence, FreeTextHit } from '../detection/types.js';
import type { SourceKind } from '../sources/kinds.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Higher is worse. */
export function severityRank(s: Severity): number {
  return 4 - SEVERITIES.indexOf(s);
}

export type AuditStage = 'collection' | 'access' | 'integrity';

/** Stable rule ids. Documented in docs/audit.md#findings. */
export type FindingRule =
  | 'collection.purpose-not-declared'
  | 'collection.plaintext-high-risk'
  | 'collection.free-text-pii'
  | 'collection.source-unreachable'
  | 'collection.table-unreadable'
  | 'collection.no-tables'
  | 'collection.column-not-sampled'
  | 'config.unknown-name'
  | 'schedule.stage-overdue'
  | 'subjects.request-overdue'
  | 'subjects.request-due-soon'
  | 'access.unauthorized-read'
  | 'access.file-readable'
  | 'access.directory-writable'
  | 'access.privileged-role'
  | 'access.password-no-expiry'
  | 'access.rls-disabled'
  | 'access.default-privileges'
  | 'access.weak-account'
  | 'retention.overdue-data'
  | 'retention.no-reference-date'
  | 'retention.policy-invalid'
  | 'transit.url-accepts-plaintext'
  | 'transit.url-unverified-tls'
  | 'transit.session-unencrypted'
  | 'transit.server-tls-not-required'
  | 'access.catalog-unreadable'
  | 'integrity.invalid-values'
  | 'integrity.duplicates'
  | 'integrity.required-null'
  | 'integrity.stale-records'
  | 'integrity.orphaned-rows'
  | 'integrity.encrypted-not-checked';

export interface Location {
  readonly source: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
}

export interface Finding {
  /** Stable across runs: a hash of rule + location (+ category). Same problem, same id. */
  readonly id: string;
  readonly rule: FindingRule;
  readonly severity: Severity;
  readonly title: string;
  /** What was found, with counts. Never a raw personal value. */
  readonly message: string;
  /** One sentence: what to do about it. */
  readonly remedy: string;
  readonly location: Location;
  readonly category?: Category;
  /** `new` if the previous run of this stage did not have it. */
  readonly status: 'new' | 'existing';
}

export interface InventoryItem {
  readonly source: string;
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly dataType: string;
  readonly category: Category;
  readonly risk: Risk;
  readonly confidence: number;
  readonly rowEstimate: number;
  readonly evidence: Evidence;
  /** Masked, at most three. */
  readonly examples: readonly string[];
  /** Personal data found inside this column's prose (the column itself may be `category` = null-like `free_text`). */
  readonly freeText: readonly FreeTextHit[];
  /** The declared purpose that covers this category, or null when none does. */
  readonly purpose: string | null;
  /** The sampled values are Steward ciphertexts (`stw1:`): the column is encrypted at rest. */
  readonly encrypted?: boolean;
}

export interface SourceReport {
  readonly name: string;
  readonly kind: SourceKind;
  readonly owner: string;
  readonly purposes: readonly { readonly name: string; readonly categories: readonly string[] }[];
  readonly status: 'ok' | 'error';
  readonly error?: { readonly code: string; readonly message: string };
  readonly tables: number;
  readonly columns: number;
  readonly inventory: readonly InventoryItem[];
  readonly durationMs: number;
  /** Access stage only: who reaches which personal data, and how. */
  readonly access?: SourceAccess;
  /** Integrity stage only: the figures per checked table, computed in SQL. */
  readonly integrity?: readonly TableIntegrity[];
}

/** When each stage of each audited source last ran and is next due (added by the CLI from the state store). */
export interface ReportScheduleEntry {
  readonly source: string;
  readonly stage: string;
  readonly frequency: string;
  readonly lastSuccess: string | null;
  readonly lastFailure: string | null;
  readonly nextDue: string;
  readonly due: boolean;
  readonly overdue: boolean;
}

/** One path from a principal to personal columns of one table. */
export interface AccessEdge {
  readonly principal: string;
  /** `app_ro`, `member of analyst`, `SELECT on public.customers`. */
  readonly path: readonly string[];
  /** The grant at the end of the path, as a label. */
  readonly grant: string;
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly { readonly column: string; readonly category: string; readonly authorized: boolean }[];
}

/** The access graph of one source (the HTML report draws it). */
export interface SourceAccess {
  /** Principals that reach personal data; `authorized` when every column they reach is. */
  readonly principals: readonly { readonly name: string; readonly kind: string; readonly login: boolean; readonly superuser: boolean; readonly authorized: boolean }[];
  readonly edges: readonly AccessEdge[];
  /** Whether the server refuses unencrypted connections, where it has such a setting. */
  readonly requireSecureTransport?: boolean;
  /** How Steward's own connection was protected, as the server reported it (absent when it could not tell). */
  readonly session?: { readonly encrypted: boolean | null; readonly protocol: string | null; readonly cipher: string | null; readonly serverRequiresTls: boolean | null };
  /** Catalogs Steward could not read. */
  readonly problems: readonly string[];
}

export interface AuditDiff {
  readonly previousRunId: string;
  readonly previousFinishedAt: string;
  /** Findings in this run and not in the previous one. */
  readonly appeared: readonly Finding[];
  /** Findings in the previous run that this run no longer has. */
  readonly fixed: readonly Finding[];
  /** Same id, different severity: `from` is the previous severity. */
  readonly changedSeverity: readonly { readonly finding: Finding; readonly from: Severity }[];
  /** Inventory columns that appeared / disappeared, as `source.schema.table.column`. */
  readonly inventoryAdded: readonly string[];
  readonly inventoryRemoved: readonly string[];
}

/**
 * The result of one audit run. Its JSON form (`steward audit --json`) is a
 * stable, documented interface: fields are added, never renamed or removed,
 * within one `schemaVersion`.
 */
export interface AuditReport {
  readonly schemaVersion: 1;
  readonly tool: { readonly name: 'steward'; readonly version: string };
  readonly run: {
    readonly id: string;
    readonly stage: AuditStage;
    readonly startedAt: string;
    readonly finishedAt: string;
  };
  readonly sources: readonly SourceReport[];
  readonly findings: readonly Finding[];
  readonly summary: {
    readonly sources: number;
    readonly tables: number;
    readonly columns: number;
    readonly personalColumns: number;
    readonly findingsBySeverity: Readonly<Record<Severity, number>>;
    readonly categories: Readonly<Record<string, number>>;
  };
  /** null on the first run. */
  readonly diff: AuditDiff | null;
  /** The schedule after this run, for the audited sources; absent without a state store. */
  readonly schedule?: readonly ReportScheduleEntry[];
}

/** Integrity stage: the figures of one column of a checked table (src/audit/integrity.ts computes them). */
export interface ColumnIntegrity {
  readonly column: string;
  readonly category: string;
  readonly nonNull: number;
  readonly invalid?: number;
  readonly invalidExamples?: readonly string[];
  /** Rows beyond the first of each duplicated value. */
  readonly duplicateRows?: number;
  readonly duplicatedValues?: number;
  readonly duplicateExamples?: readonly string[];
  /** True when a unique index on the folded value rules duplicates out, so they were not counted. */
  readonly uniqueIndex?: boolean;
  /** Values that are Steward ciphertexts (they parse as an envelope): left out of the format check, which cannot read them. */
  readonly encrypted?: number;
}

export interface TableIntegrity {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
  readonly columns: readonly ColumnIntegrity[];
  readonly requiredNulls: readonly { readonly column: string; readonly nulls: number }[];
  readonly stale?: { readonly column: string; readonly rows: number; readonly before: string };
  readonly orphans: readonly { readonly column: string; readonly references: string; readonly rows: number }[];
  /** False when the dialect approximates a check (SQLite has no regular expressions). */
  readonly exact: boolean;
  /** Why, when not exact: the dialect's words (`SQLite has no regular expressions`). */
  readonly approximation?: string;
}
