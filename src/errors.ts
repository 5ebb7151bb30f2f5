/**
 * Steward's one error family. Every error a user can cause or meet carries a
 * stable `code`, the process exit code the CLI maps it to, and a message that
 * names what failed, why, and what to do. Anything that is not a StewardError
 * is a bug and is reported as `InternalError`.
 */

/** Process exit codes, documented in the README. */
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

/** A bug. The CLI prints how to report it, with the stack trace. */
export class InternalError extends StewardError {
  constructor(message: string, options?: StewardErrorOptions) {
    super('INTERNAL', ExitCode.Internal, message, options);
  }
}

export function isStewardError(e: unknown): e is StewardError {
  return e instanceof StewardError;
}
