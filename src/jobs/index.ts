/**
 * Batched destructive jobs: one engine (engine.ts) that claims, batches, checkpoints,
 * reports, logs and stops every job; the jobs themselves supply their steps
 * (src/crypto/column-migration.ts, src/retention/apply.ts, src/retention/archive-restore.ts).
 */
export { CRASH_POINTS, HEARTBEAT_MS, JobRun, RateMeter, recordEmptyRun, runJob, type CheckpointState, type CrashHook, type CrashPoint, type JobOutcome, type JobProgress, type JobSpec, type NewJob, type Phase, type Selected } from './engine.js';
export { keyColumns, keyOfRow, selectAfter, type KeysetQuery } from './keyset.js';
export { BATCH_ATTEMPTS, batchTransaction, DEFAULT_LOCK_TIMEOUT_MS, isLockTimeout } from './transaction.js';
