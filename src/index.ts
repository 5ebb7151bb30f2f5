/**
 * Steward's typed library API: the same functions the `steward` CLI is built on.
 *
 * @example
 *   import { loadConfig, runAudit, openSource, openAuditHistory, renderReport } from 'steward';
 *   const { config, patterns, dir } = await loadConfig({ cwd: process.cwd() });
 *   const history = await openAuditHistory(config.state.url, dir);
 *   const report = await runAudit({ config, patterns, history, openSource });
 *   await history.close();
 *   console.log(renderReport(report, 'markdown'));
 *
 * Data-subject requests (the same as `steward subject find`):
 *   const { map, schemas } = await discoverSubjectMap({ config, sources, store });
 *   const keyring = await openSubjectKeyring(store, () => openKeyring({ store, master: { env: 'STEWARD_MASTER_KEY' } }));   // openKeyring: steward/crypto
 *   const found = await findSubject({ map, schemas, sources, keyring, identifiers: parseIdentifiers({ email: ["alice@example.com"] }) });
 *
 * Request cases (the same as `steward request`):
 *   const { request } = await openRequest({ store, keyring, kind: 'access', identifiers, received: '2026-12-01' });
 *   await verifyRequest({ store, id: request.id, method: 'account login', by: 'portal' });
 *   await runRequest({ store, keyring, id: request.id, steps: subjectRequestSteps({ config, context, accessOut }) });
 */
export { runAudit, buildClassifier, resolvePurposes, type AuditOptions, type AuditProgress, type AuditHistory } from './audit/run-audit.js';
export { reviewInventory, findingId, coveringPurpose } from './audit/collection-review.js';
export { compareWithPrevious, type PreviousAudit } from './audit/compare.js';
export { runAuditStages, dueStages, loadStageStatuses, readSchedule, RUNNABLE_STAGES, type AuditStagesResult, type DueStage, type DueRetention, type RunAuditStagesOptions } from './audit/due.js';
export { computeSchedule, scheduleEntries, type StageStatus } from './audit/schedule.js';
export * from './audit/types.js';
export { loadConfig, loadConfigText, initConfigText, writeInitConfig, configSchema, type LoadedConfig, type StewardConfig, type SourceConfig } from './config/index.js';
export * from './detection/index.js';
export { openSource, createPostgresSource, redactUrl, dialectOf, type Source, type SourceCapabilities, type SourceConnection, type SourceDialect, type SourceKind, type TableInfo, type ColumnInfo, type ForeignKey } from './sources/index.js';
export { openStateStore, openAuditHistory, type StateStore } from './state/index.js';
export { renderReport, REPORT_FORMATS, type ReportFormat } from './interfaces/reports/index.js';
export * from './errors.js';
export { VERSION } from './version.js';
export { discoverSubjectMap, resolveSubjectConfig, type DiscoverOptions, type DiscoveredMap } from './subjects/discover.js';
export { findSubject, type FindOptions, type FindResult, type SubjectRow, type Mention, type UnsearchedColumn } from './subjects/find.js';
export { openSubjectKeyring, decryptSubjectRows, SubjectDecryptor, notDecryptedSummary, NOT_DECRYPTED_TEXT, type SubjectKeyring, type NotDecryptedReason, type NotDecryptedEntry, type DecryptedRow } from './subjects/decrypt.js';
export { buildAccessPackage, type AccessPackage } from './subjects/access.js';
export { exportSubject, exportRecipients, type ExportOptions, type ExportResult } from './subjects/export.js';
export { eraseSubject, type EraseOptions, type EraseResult, type ErasureCertificate } from './subjects/erase.js';
export { planErasure, placeholderValue, redactText, REDACTED, type ErasurePlan, type PlannedRow, type EraseAction } from './subjects/erase-plan.js';
export { correctSubject, parseSet, type CorrectOptions, type CorrectResult, type CorrectionCertificate, type EncryptHook } from './subjects/correct.js';
export { subjectKeysDigest } from './subjects/rows.js';
export { withSubjectLease, type AbandonedStep } from './subjects/lease.js';
export { parseIdentifiers, normaliseEmail, normalisePhone, normaliseNationalId, type Identifier, type IdentifierKind, type IdentifierInput } from './subjects/identifiers.js';
export { deriveSubjectMap, linkCandidates, type SubjectMap, type SubjectTable, type SubjectLink } from './subjects/map.js';
export {
  openRequest,
  listRequests,
  getRequest,
  verifyRequest,
  addRequestIdentifiers,
  refuseRequest,
  extendRequest,
  runRequest,
  shredRequests,
  RequestStepError,
  REQUEST_KEY_SOURCE,
  type OpenRequestOptions,
  type OpenRequestResult,
  type ListRequestsOptions,
  type RequestCase,
  type RequestCaseDetail,
  type RequestStep,
  type RequestSteps,
  type RequestStepInput,
  type RequestStepResult,
  type RunRequestResult,
  type RunRequestStepRecord,
} from './subjects/cases.js';
export { subjectRequestSteps, notWiredStep, accessRecipients, type SubjectContext, type SubjectRequestStepsOptions } from './subjects/request-steps.js';
export {
  parseRequestKind,
  resolveJurisdiction,
  dueDate,
  extendedDueDate,
  classifyDeadline,
  requestFindings,
  transitionRefusal,
  pendingSteps,
  BUILTIN_JURISDICTIONS,
  DEFAULT_REQUEST_SETTINGS,
  REQUEST_KINDS,
  REQUEST_STATES,
  REQUEST_KIND_ALIASES,
  STEPS_BY_KIND,
  REQUEST_FINDINGS_SOURCE,
  type RequestKind,
  type RequestState,
  type RequestStepName,
  type RequestSettings,
  type Jurisdiction,
  type DeadlineStatus,
} from './subjects/requests.js';
