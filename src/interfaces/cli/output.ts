/**
 * Terminal concerns shared by commands: colour (NO_COLOR, --no-color, TTY),
 * a progress bar on stderr when attached to a terminal, and error printing.
 */
import pc from 'picocolors';
import { ConfigError, isStewardError, InternalError, type StewardError } from '../../errors.js';
import { withoutDriverText } from '../../sources/errors.js';
import { stringifyJson } from '../reports/format.js';
import { terminalSafe } from '../reports/text.js';

export { stringifyJson };

/**
 * A value from a database, the state store or the operator (a table, a role, a hold's
 * reason, a legal basis) as a terminal may show it: control characters, escape
 * sequences, newlines and bidi overrides made visible (`\u001b`, `\n`). Every
 * human-readable line of every command passes such values through it.
 */
export function shown(value: unknown): string {
  return terminalSafe(String(value));
}

export interface OutputOptions {
  readonly color?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or --no-color given. */
export function useColor(io: Io, flag: boolean | undefined, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return Boolean(io[stream].isTTY) && io.env.TERM !== 'dumb';
}

export interface Progress {
  update(done: number, total: number, label: string): void;
  done(): void;
}

/** A one-line bar on stderr, redrawn in place; silent when stderr is not a terminal. */
export function progressBar(io: Io, enabled: boolean): Progress {
  if (!enabled || !io.stderr.isTTY) return { update() {}, done() {} };
  const started = Date.now();
  let drawn = false;
  return {
    update(done, total, label) {
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const secs = (Date.now() - started) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const eta = rate > 0 && total > done ? ` eta ${Math.ceil((total - done) / rate)}s` : '';
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${shown(label)}${eta}`;
      const cols = io.stderr.columns ?? 80;
      io.stderr.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, 80))}`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr.write(`\r${' '.repeat(Math.min((io.stderr.columns ?? 80) - 1, 80))}\r`);
    },
  };
}

/** Prints an error the way users should see it; returns the exit code. */
export function reportError(io: Io, error: unknown, options: { json?: boolean; color?: boolean }): number {
  // A raw driver error here is a bug, and its text may quote a row value: show Steward's description of it only.
  const raw = withoutDriverText(error);
  const e: StewardError = isStewardError(raw)
    ? raw
    : new InternalError(raw instanceof Error ? raw.message : String(raw), { cause: raw });
  if (options.json) {
    io.stdout.write(`${stringifyJson({ error: e.toJSON() }, 2)}\n`);
  } else {
    const c = pc.createColors(options.color ?? false);
    io.stderr.write(`${c.red(c.bold('steward: error:'))} ${shown(e.toUserString())}\n`);
    if (e instanceof ConfigError && e.issues.length > 1) {
      for (const issue of e.issues.slice(1, 20)) io.stderr.write(`  ${shown(issue)}\n`);
    }
  }
  if (e.code === 'INTERNAL') {
    const cause = e.cause instanceof Error ? e.cause : e;
    io.stderr.write(`\nThis is a bug in Steward. Please report it with the trace below:\n${cause.stack ?? cause.message}\n`);
  }
  return e.exitCode;
}
