/**
 * A source whose connection string names an environment variable that is not set,
 * in a command that may not need that source (`log`, `keys list`, `hold list`): the
 * config loads with a placeholder URL registered here, and opening that source fails
 * with the same CONFIG_ENV_MISSING error the load would have given (exit 3).
 */
import type { ConfigError } from '../errors.js';

const pending = new Map<string, ConfigError>();

export function deferSourceUrl(placeholder: string, error: ConfigError): void {
  pending.set(placeholder, error);
}

/** The error to throw instead of connecting to `url`, when it is such a placeholder. */
export function deferredSourceError(url: string): ConfigError | undefined {
  return pending.get(url);
}
