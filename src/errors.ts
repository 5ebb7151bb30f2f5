/**
 * Steward's one error family. Every error a user can cause or meet carries a
 * stable `code`, the process exit code the CLI maps it to, and a message that
 * names what failed, why, and what to do. Anything that is not a StewardError
 * is a bug and is reported as `InternalError`.
 */

/** Process exit codes, documented in docs/exit-codes.md. */
export const ExitCode = {
  /** Success; no finding reached `--fail-on`. */
  Ok: 0,
  /** The audit ran and findings reached the `--fail-on` severity. */
  Findings: 1,
  /** Bad command-line usage (unknown flag, missing argument). */
  Usage: 2,
  /** `steward.yml` is missing, malformed, or invalid; an env var it needs is unset. */
  Config: 3,
  /** A source database could not be reached, authenticated, or read. */
  Source: 4,
  /** Steward's own state store could not be opened or migrated. */
  State: 5,
  /** The activity log or a checkpoint does not verify: evidence was changed. */
  Tampered: 6,
  /**
   * Encryption: a master key that is missing, malformed, insecurely stored or
   * not the one the data keys were wrapped under; a ciphertext that is tampered
   * with, not Steward's, or needs a key version that is unknown or destroyed.
   */
  Crypto: 7,
  /**
   * Retention archives: an archive set does not verify (a chunk missing, extra,
   * changed or holding other rows than its manifest says, a key archived twice,
   * a manifest missing, malformed or not signed as required), or its target
   * cannot be written (read-only, full): nothing may be deleted on its account.
   */
  Archive: 8,
  /**
   * A file Steward was told to read or write cannot be: a missing folder, a path that
   * is a directory, no permission, a full disk (`--out`, `--config`, key files).
   */
  File: 9,
  /**
   * Stopped by SIGINT or SIGTERM (Ctrl-C): a destructive job stopped after the batch
   * in flight, recorded the interruption, and the same command resumes it.
   */
  Interrupted: 130,
  /** A bug in Steward. */
  Internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'CONFIG_EXISTS'
  | 'SOURCE_UNREACHABLE'
  | 'SOURCE_AUTH'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_PERMISSION'
  | 'SOURCE_QUERY'
  | 'STATE_OPEN'
  | 'STATE_MIGRATE'
  | 'LOG_TAMPERED'
  | 'CRYPTO_MASTER_KEY'
  | 'CRYPTO_WRONG_KEY'
  | 'CRYPTO_TAMPERED'
  | 'CRYPTO_UNKNOWN_KEY_VERSION'
  | 'CRYPTO_KEY_DESTROYED'
  | 'CRYPTO_NOT_CIPHERTEXT'
  | 'CRYPTO_RECIPIENT_KEY'
  | 'ARCHIVE_TARGET'
  | 'ARCHIVE_MANIFEST'
  | 'ARCHIVE_JOURNAL'
  | 'ARCHIVE_CHUNK_MISSING'
  | 'ARCHIVE_CHUNK_EXTRA'
  | 'ARCHIVE_CHUNK_CHANGED'
  | 'ARCHIVE_CHUNK_CONTENT'
  | 'ARCHIVE_DUPLICATE_KEY'
  | 'ARCHIVE_FINISHED'
  | 'HOLD_BROKEN'
  | 'FILE_WRITE'
  | 'FILE_READ'
  | 'INTERRUPTED'
  | 'TLS_UNREACHABLE'
  | 'TLS_HANDSHAKE'
  | 'INTERNAL';

export interface StewardErrorOptions {
  /** What the user should do about it; printed after the message. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class StewardError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, exitCode: ExitCode, message: string, options: StewardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }

  /** One line for a terminal: message, then the fix. */
  toUserString(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

export class UsageError extends StewardError {
  constructor(message: string, options?: StewardErrorOptions) {
    super('USAGE', ExitCode.Usage, message, options);
  }
}

export class ConfigError extends StewardError {
  /** Each problem found, as `file: path: expected …`, when there were several. */
  readonly issues: readonly string[];
  constructor(
    code: Extract<ErrorCode, `CONFIG_${string}`>,
    message: string,
    options: StewardErrorOptions & { issues?: readonly string[] } = {},
  ) {
    super(code, ExitCode.Config, message, options);
    this.issues = options.issues ?? [];
  }
}

export class SourceError extends StewardError {
  readonly source: string;
  constructor(
    code: Extract<ErrorCode, `SOURCE_${string}`>,
    source: string,
    message: string,
    options?: StewardErrorOptions,
  ) {
    super(code, ExitCode.Source, message, options);
    this.source = source;
  }
}

export class StateError extends StewardError {
  constructor(code: Extract<ErrorCode, `STATE_${string}`>, message: string, options?: StewardErrorOptions) {
    super(code, ExitCode.State, message, options);
  }
}

/** The activity log, or a checkpoint of it, does not verify. */
export class TamperError extends StewardError {
  constructor(message: string, options?: StewardErrorOptions) {
    super('LOG_TAMPERED', ExitCode.Tampered, message, options);
  }
}

/**
 * `steward tls check`: the host could not be reached (`TLS_UNREACHABLE`) or it
 * answered but no TLS handshake with it succeeded (`TLS_HANDSHAKE`). Exit 4, like
 * an unreachable source.
 */
export class TlsError extends StewardError {
  /** `host:port` as it was checked. */
  readonly target: string;
  constructor(code: Extract<ErrorCode, `TLS_${string}`>, target: string, message: string, options?: StewardErrorOptions) {
    super(code, ExitCode.Source, message, options);
    this.target = target;
  }
}

/**
 * Encryption failed safely (exit 7). Codes:
 * - `CRYPTO_MASTER_KEY`: the master key is missing, malformed, or its file is readable by others; or an
 *   external KMS holding it is unreachable, timed out, sealed or misconfigured (the master key is unavailable);
 * - `CRYPTO_WRONG_KEY`: the master key (or passphrase) is not the one the data keys were wrapped under;
 * - `CRYPTO_TAMPERED`: a ciphertext or wrapped key was changed, or copied to another row/column;
 * - `CRYPTO_UNKNOWN_KEY_VERSION`: the ciphertext names a key version the keyring does not have;
 * - `CRYPTO_KEY_DESTROYED`: the key version was destroyed (crypto-shredded): the data is gone;
 * - `CRYPTO_NOT_CIPHERTEXT`: the value is not a Steward ciphertext (`stw1:…`) or archive (an age file, or `steward-archive/1`);
 * - `CRYPTO_RECIPIENT_KEY`: an archive recipient key (`age1…`/`AGE-SECRET-KEY-1…`, or `stwpub1…`/`stwsec1…`) is malformed, mistyped (checksum),
 *   the wrong kind, or its private key file is readable by others.
 * Messages name key ids and versions only, never key material or plaintext.
 */
export class CryptoError extends StewardError {
  constructor(code: Extract<ErrorCode, `CRYPTO_${string}`>, message: string, options?: StewardErrorOptions) {
    super(code, ExitCode.Crypto, message, options);
  }
}

/**
 * A retention archive set (src/archive/set.ts) failed (exit 8). Codes:
 * - `ARCHIVE_TARGET`: the archive directory cannot be created or written (read-only, full, not a directory,
 *   already holding another set); nothing that failed to be written counts as archived;
 * - `ARCHIVE_MANIFEST`: `manifest.json` is missing (the run did not finish), malformed, of another format,
 *   its totals do not add up, its digest is not the one recorded, or its signature does not verify;
 * - `ARCHIVE_JOURNAL`: the writer's journal (`manifest.partial.jsonl`) is damaged other than a torn last line;
 * - `ARCHIVE_CHUNK_MISSING` / `ARCHIVE_CHUNK_EXTRA`: a listed chunk file is gone, or a chunk file is not listed;
 * - `ARCHIVE_CHUNK_CHANGED`: a chunk's size or SHA-256 is not the manifest's, or its ciphertext does not verify;
 * - `ARCHIVE_CHUNK_CONTENT`: a decrypted chunk holds another row count, other keys, or rows that do not parse;
 * - `ARCHIVE_DUPLICATE_KEY`: a primary key is in the set twice;
 * - `ARCHIVE_FINISHED`: rows were written to a set whose manifest is already written.
 * `chunk` names the first bad chunk file when there is one. Messages never contain row values.
 */
export class ArchiveError extends StewardError {
  /** The chunk file at fault (`chunk-000003.jsonl.gz.age`), when one is. */
  readonly chunk: string | undefined;
  constructor(code: Extract<ErrorCode, `ARCHIVE_${string}`>, message: string, options: StewardErrorOptions & { chunk?: string } = {}) {
    super(code, ExitCode.Archive, message, options);
    this.chunk = options.chunk;
  }
}

/**
 * A legal hold's predicate no longer runs on its table (a column renamed or dropped
 * since it was placed): exit 4. Retention fails closed for that table — nothing of it
 * is touched — and says which hold and how to place it again; other tables' policies run.
 */
export class HoldError extends StewardError {
  readonly holdId: string;
  constructor(holdId: string, message: string, options?: StewardErrorOptions) {
    super('HOLD_BROKEN', ExitCode.Source, message, options);
    this.holdId = holdId;
  }
}

/**
 * A file could not be read (`FILE_READ`) or written (`FILE_WRITE`), exit 9. `path`
 * is the path as the user gave it; `reason` the errno code (`ENOENT`, `EISDIR`,
 * `EACCES`, `ENOSPC`, …) when there is one.
 */
export class FileError extends StewardError {
  readonly path: string;
  readonly reason: string | undefined;
  constructor(code: Extract<ErrorCode, `FILE_${string}`>, path: string, message: string, options: StewardErrorOptions & { reason?: string } = {}) {
    super(code, ExitCode.File, message, options);
    this.path = path;
    this.reason = options.reason;
  }
}

/**
 * A job stopped on SIGINT/SIGTERM after the batch in flight (exit 130). The
 * interruption is in the activity log; the same command resumes the job.
 */
export class InterruptedError extends StewardError {
  constructor(message: string, options?: StewardErrorOptions) {
    super('INTERRUPTED', ExitCode.Interrupted, message, options);
  }
}

/** A bug. The CLI prints how to report it, with the stack trace. */
export class InternalError extends StewardError {
  constructor(message: string, options?: StewardErrorOptions) {
    super('INTERNAL', ExitCode.Internal, message, options);
  }
}

export function isStewardError(e: unknown): e is StewardError {
  return e instanceof StewardError;
}
