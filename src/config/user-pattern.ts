/**
 * User-supplied regular expressions (`detection.columnRules[].pattern`,
 * `detection.detectors[].pattern` / `columnNames`) run on V8's linear-time
 * engine (the `l` flag), so a hostile or careless pattern such as `(a+)+$`
 * cannot stall an audit: matching time grows linearly with the input.
 *
 * What that engine refuses, and what Steward therefore rejects with a clear message:
 * - backreferences (`\1`, `\k<name>`) and lookaround (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`);
 * - counted repetition whose bounds multiply beyond 16 (`x{1,16}` is fine, `x{1,30}` is not:
 *   write `x+` and check the length elsewhere, or split the pattern);
 * - the `u`/`v` flags, so `\p{…}` Unicode property escapes are unavailable.
 *
 * V8's linear engine (Node 20) also refuses the `i` flag. Steward patterns are
 * case-insensitive all the same: {@link foldCase} rewrites every literal letter
 * into a class of its cases (`ab` → `[aA][bB]`, `[a-f]` → `[a-fA-F]`), so the
 * compiled RegExp has flags `l` only and its `source` is the folded pattern.
 */
import v8 from 'node:v8';
import { ConfigError } from '../errors.js';

// Flags are process-wide and must be set before the first RegExp with `l` is constructed.
v8.setFlagsFromString('--enable-experimental-regexp-engine');

export type UserPatternResult = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly reason: string };

export interface UserPatternOptions {
  /** Add the `g` flag (for scanning free text with `exec` in a loop). */
  readonly global?: boolean;
  /** Wrap as `^(?:…)$` so the whole value must match. */
  readonly whole?: boolean;
}

const LINEAR_HINT = 'must be a linear-time regular expression: no backreferences or lookaround';

/**
 * Compile a user pattern on the linear-time engine, case-insensitively.
 * Returns the reason instead of throwing; the reason never repeats the pattern.
 */
export function tryCompileUserPattern(source: string, options: UserPatternOptions = {}): UserPatternResult {
  try {
    // Syntax check with the ordinary engine (constructing does not run it).
    new RegExp(source);
  } catch (e) {
    return { ok: false, reason: `is not a valid regular expression: ${syntaxReason(e)}` };
  }
  if (/\\[pP]\{/.test(source)) {
    return { ok: false, reason: `${LINEAR_HINT}; Unicode property escapes (\\p{…}) are not supported, use a character class such as [a-zà-ÿ]` };
  }
  const folded = foldCase(source);
  const body = options.whole ? `^(?:${folded})$` : folded;
  try {
    return { ok: true, regex: new RegExp(body, options.global ? 'gl' : 'l') };
  } catch {
    return { ok: false, reason: linearReason(source) };
  }
}

/**
 * Compile a user pattern from `steward.yml` (or anywhere a user supplies one) on
 * the linear-time engine, case-insensitively. `path` names where it came from,
 * for the error (`detection.detectors[0].pattern`).
 *
 * @throws ConfigError `CONFIG_INVALID` when the pattern is malformed or needs backtracking.
 * @example
 *   const re = compileUserPattern('^cust_[0-9]{8}$', 'detection.detectors[0].pattern');
 *   re.test('CUST_12345678'); // true, in time linear in the input
 */
export function compileUserPattern(source: string, path: string, options: UserPatternOptions = {}): RegExp {
  const r = tryCompileUserPattern(source, options);
  if (r.ok) return r.regex;
  throw new ConfigError('CONFIG_INVALID', `${path}: ${r.reason}`, {
    hint: 'Rewrite the pattern without backreferences, lookaround or large {n,m} counts',
    issues: [`${path}: ${r.reason}`],
  });
}

function syntaxReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // "Invalid regular expression: /(/: Unterminated group" → "Unterminated group"
  const i = msg.lastIndexOf(': ');
  return i >= 0 ? msg.slice(i + 2) : msg;
}

/** Name what in the pattern the linear engine cannot do. */
function linearReason(source: string): string {
  const found: string[] = [];
  if (/\\[1-9]|\\k</.test(source)) found.push('it has a backreference');
  if (/\(\?<?[=!]/.test(source)) found.push('it has lookaround');
  const counts = [...source.matchAll(/\{(\d+)(?:,(\d*))?\}/g)].map((m) => Math.max(Number(m[1]), Number(m[2] || 0)));
  if (counts.some((n) => n > 16)) found.push('a counted repetition {n,m} goes above 16: use + or * instead');
  else if (counts.length > 1) found.push('nested counted repetitions multiply above 16');
  return found.length > 0 ? `${LINEAR_HINT}; here ${found.join('; ')}` : `${LINEAR_HINT}, and counted repetitions {n,m} up to 16`;
}

/**
 * Make a pattern case-insensitive without the `i` flag by expanding literal
 * letters into classes of their cases. Escapes, group syntax and `{n,m}` are
 * copied unchanged. Assumes a syntactically valid non-Unicode pattern.
 */
export function foldCase(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const n = escapeLength(source, i);
      out += source.slice(i, i + n);
      i += n;
    } else if (c === '[') {
      const end = classEnd(source, i);
      out += foldClass(source.slice(i, end));
      i = end;
    } else if (c === '(' && source[i + 1] === '?') {
      // (?:  (?=  (?!  (?<=  (?<!  or a named group (?<name>, whose name must not be folded.
      if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        const close = source.indexOf('>', i);
        out += source.slice(i, close + 1);
        i = close + 1;
      } else {
        out += source.slice(i, i + 3);
        i += 3;
      }
    } else {
      const cases = casesOf(c);
      out += cases.length > 1 ? `[${cases.join('')}]` : c;
      i++;
    }
  }
  return out;
}

/** Length of the escape starting at `source[i] === '\\'`. */
function escapeLength(source: string, i: number): number {
  const n = source[i + 1];
  const hex = (from: number, len: number): boolean => new RegExp(`^[0-9a-fA-F]{${len}}$`).test(source.slice(from, from + len));
  if (n === 'x' && hex(i + 2, 2)) return 4;
  if (n === 'u' && hex(i + 2, 4)) return 6;
  if (n === 'c' && /[A-Za-z]/.test(source[i + 2] ?? '')) return 3;
  if (n === 'k' && source[i + 2] === '<') {
    const close = source.indexOf('>', i);
    if (close > 0) return close - i + 1;
  }
  return n === undefined ? 1 : 2;
}

/** Index just past the `]` closing the class that starts at `source[i] === '['`. */
function classEnd(source: string, i: number): number {
  let j = i + 1;
  while (j < source.length) {
    if (source[j] === '\\') j += escapeLength(source, j);
    else if (source[j] === ']') return j + 1;
    else j++;
  }
  return source.length;
}

/** `[a-cx]` → `[a-cxA-CX]`: the body is kept and the other cases are appended. */
function foldClass(cls: string): string {
  const negated = cls[1] === '^';
  const bodyStart = negated ? 2 : 1;
  const body = cls.slice(bodyStart, cls.length - 1);
  const extra = new Set<string>();
  const covered = (ch: string, lo: number, hi: number): boolean => ch.charCodeAt(0) >= lo && ch.charCodeAt(0) <= hi;
  let j = 0;
  while (j < body.length) {
    if (body[j] === '\\') {
      j += escapeLength(body, j);
      continue;
    }
    const lo = body[j]!;
    if (body[j + 1] === '-' && j + 2 < body.length && body[j + 2] !== '\\') {
      const hi = body[j + 2]!;
      const a = lo.charCodeAt(0);
      const b = hi.charCodeAt(0);
      if (b - a <= 0x3000) {
        for (let code = a; code <= b; code++) {
          for (const k of casesOf(String.fromCharCode(code))) if (!covered(k, a, b)) extra.add(k);
        }
      }
      j += 3;
      continue;
    }
    for (const k of casesOf(lo)) if (k !== lo) extra.add(k);
    j++;
  }
  if (extra.size === 0) return cls;
  return `[${negated ? '^' : ''}${body}${compress([...extra])}]`;
}

/** Sorted characters as a class body with runs written as ranges. */
function compress(chars: string[]): string {
  const codes = [...new Set(chars.map((c) => c.charCodeAt(0)))].sort((x, y) => x - y);
  let out = '';
  for (let k = 0; k < codes.length; ) {
    let end = k;
    while (end + 1 < codes.length && codes[end + 1] === codes[end]! + 1) end++;
    const a = String.fromCharCode(codes[k]!);
    const b = String.fromCharCode(codes[end]!);
    out += end - k >= 2 ? `${a}-${b}` : codes.slice(k, end + 1).map((c) => String.fromCharCode(c)).join('');
    k = end + 1;
  }
  return out;
}

/** The character and its single-unit case variants (`a` → [a, A]; `ß` → [ß]). */
function casesOf(c: string): string[] {
  const set = new Set([c]);
  for (const v of [c.toLowerCase(), c.toUpperCase()]) if (v.length === 1) set.add(v);
  return [...set];
}
