/**
 * Loading `steward.yml`: find → parse YAML (keeping source positions) →
 * interpolate `${ENV_VAR}` → validate with zod → compile user patterns →
 * resolve relative paths → deep-freeze.
 *
 * Every problem is reported as `steward.yml:<line>:<col> <path>: <what is expected>`,
 * all of them at once. Values that came from the environment are never echoed:
 * an error about such a value shows the `${NAME}` reference and the path.
 */
import { constants as fsConstants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { deferSourceUrl } from './deferred-env.js';
import { ConfigError } from '../errors.js';
import { configSchema, type StewardConfig } from './schema.js';
import { tryCompileUserPattern } from './user-pattern.js';

/** The config file names looked for in the working directory, in order. */
export const CONFIG_FILE_NAMES = ['steward.yml', 'steward.yaml'] as const;

/**
 * User regexes compiled on the linear-time engine (see `user-pattern.ts`), in the
 * order of the config: `columnRules[i]` is `detection.columnRules[i].pattern`,
 * `detectors[i]` holds `detection.detectors[i].pattern` (unanchored, flags `l`;
 * anchor with `^(?:${re.source})$` for whole values) and its `columnNames`.
 */
export interface UserPatterns {
  readonly columnRules: readonly RegExp[];
  readonly detectors: readonly { readonly pattern: RegExp; readonly columnNames: readonly RegExp[] }[];
}

export interface LoadedConfig {
  /** Absolute path of the config file. */
  readonly path: string;
  /** Its directory: relative paths in the file were resolved against it. */
  readonly dir: string;
  /** The validated config with defaults applied; deeply frozen. */
  readonly config: StewardConfig;
  /** Compiled user patterns (compiled once here so that callers need not). */
  readonly patterns: UserPatterns;
  /** Problems that do not stop Steward (e.g. a password written in the file). */
  readonly warnings: readonly string[];
}

export interface LoadConfigOptions {
  /** Config file; relative to `cwd`. Default: `steward.yml` or `steward.yaml` in `cwd`. */
  readonly path?: string | undefined;
  /** Default: `process.cwd()`. */
  readonly cwd?: string | undefined;
  /** Variables for `${NAME}` interpolation. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /**
   * For commands that may not connect to every source (`log`, `keys list`, `hold list`):
   * an unset variable in a `sources[].url` is not an error yet; opening that source is
   * (CONFIG_ENV_MISSING, see src/config/deferred-env.ts).
   */
  readonly deferSourceUrls?: boolean | undefined;
}

type PathSeg = string | number;

interface Located {
  readonly where: string;
  readonly message: string;
  /** Source offset, to list problems in file order. */
  readonly offset?: number | undefined;
}

/**
 * Load, interpolate, validate and freeze `steward.yml`.
 *
 * @throws ConfigError CONFIG_NOT_FOUND | CONFIG_PARSE | CONFIG_ENV_MISSING | CONFIG_INVALID
 * @example
 *   const { config, dir } = await loadConfig({ cwd: process.cwd() });
 *   for (const s of config.sources) console.log(s.name, s.kind);
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const file = await findConfigFile(cwd, options.path, warnings);
  const shown = displayName(cwd, file);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw notFound(`Config file ${shown} does not exist`);
    throw new ConfigError('CONFIG_PARSE', `Cannot read config file ${shown}: ${code ?? String(e)}`, {
      hint: 'Check that the path names a readable file',
      cause: e,
    });
  }
  return parseConfigText(text, { file, shown, env, warnings, deferSourceUrls: options.deferSourceUrls ?? false });
}

/**
 * Validate config text that is not on disk (tests, `steward init` self-checks, editors).
 * `file` is used for messages and to resolve relative paths.
 */
export function loadConfigText(
  text: string,
  options: { file?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const file = path.resolve(cwd, options.file ?? 'steward.yml');
  return parseConfigText(text, { file, shown: displayName(cwd, file), env: options.env ?? process.env, warnings: [] });
}

function parseConfigText(
  text: string,
  ctx: { file: string; shown: string; env: NodeJS.ProcessEnv; warnings: string[]; deferSourceUrls?: boolean },
): LoadedConfig {
  const { file, shown, env, warnings } = ctx;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return shown;
    const { line, col } = lineCounter.linePos(offset);
    return `${shown}:${line}:${col}`;
  };

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => `${at(e.pos[0])} ${yamlReason(e.message)}`);
    throw new ConfigError('CONFIG_PARSE', `${issues[0]}${more(issues)}`, {
      hint: 'Fix the YAML syntax at that line (indentation, quotes, a missing ":")',
      issues,
    });
  }
  for (const w of doc.warnings) warnings.push(`${at(w.pos[0])} ${yamlReason(w.message)}`);

  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    throw new ConfigError('CONFIG_INVALID', `${shown} is empty`, {
      hint: 'Run `steward init --force` to write a commented template, then fill it in',
      issues: [`${shown}: is empty`],
    });
  }

  // ${NAME} interpolation, on parsed string scalars only: a value from the
  // environment is never parsed as YAML, so it cannot inject structure.
  const secrets = interpolate(doc, env, at, ctx.deferSourceUrls ? (p) => p.length === 3 && p[0] === 'sources' && typeof p[1] === 'number' && p[2] === 'url' : () => false);
  if (secrets.missing.length > 0) {
    const issues = secrets.missing.map((m) => `${m.where}: ${m.message}`);
    const first = secrets.missing[0]!;
    const reason = first.message.replace(/;.*$/, '');
    throw new ConfigError('CONFIG_ENV_MISSING', `${reason[0]!.toUpperCase()}${reason.slice(1)} (used at ${first.where})${more(issues)}`, {
      hint: firstFix(secrets.missingNames),
      issues,
    });
  }

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  // Deferred source URLs: a placeholder of the right kind, so the rest validates; opening it fails.
  const deferred = new Map<number, ConfigError>();
  for (const d of secrets.deferred) {
    const src = (data as { sources?: Record<string, unknown>[] }).sources?.[d.index];
    if (!src || deferred.has(d.index)) continue;
    const kind = String(src.kind ?? '');
    src.url = kind === 'postgres' ? `postgres://steward-unset-env.invalid/${d.index}` : kind === 'mysql' ? `mysql://steward-unset-env.invalid/${d.index}` : `steward-unset-env-${d.index}.invalid`;
    const reason = d.message.replace(/;.*$/, '');
    deferred.set(d.index, new ConfigError('CONFIG_ENV_MISSING', `${reason[0]!.toUpperCase()}${reason.slice(1)} (used at ${d.where})`, { hint: firstFix([d.name]), issues: [`${d.where}: ${d.message}`] }));
  }
  const redact = (s: string): string => secrets.redact(s);
  const located: Located[] = [];
  const result = configSchema.safeParse(data, { error: errorMap });
  if (!result.success) {
    for (const issue of flattenIssues(result.error.issues)) {
      for (const l of locateIssue(issue, doc, data, at)) located.push({ ...l, message: redact(l.message) });
    }
  }
  const patterns = compilePatterns(data, doc, at, located);
  if (located.length > 0) {
    const ordered = located.map((l, i) => ({ l, i })).sort((a, b) => (a.l.offset ?? -1) - (b.l.offset ?? -1) || a.i - b.i);
    const issues = dedupe(ordered.map(({ l }) => `${l.where}: ${l.message}`));
    throw new ConfigError('CONFIG_INVALID', `${issues[0]}${more(issues)}`, {
      hint: `Fix ${issues.length === 1 ? 'it' : 'them'} in ${shown} (the JSON Schema in schema/steward.schema.json lists every key)`,
      issues,
    });
  }

  const dir = path.dirname(file);
  const config = result.data as StewardConfig;
  resolvePaths(config, dir);
  for (const [i, error] of deferred) deferSourceUrl(config.sources[i]!.url, error);
  warnings.push(...configWarnings(config, secrets.fromEnv, (p) => at(nodeAt(doc, p)?.range?.[0])));
  return deepFreeze({ path: file, dir, config, patterns: patterns!, warnings });
}

// ---------------------------------------------------------------------------
// Finding the file

async function findConfigFile(cwd: string, given: string | undefined, warnings: string[]): Promise<string> {
  if (given !== undefined) return path.resolve(cwd, given);
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.join(cwd, name);
    try {
      await access(candidate, fsConstants.F_OK);
      found.push(candidate);
    } catch {
      /* not there */
    }
  }
  if (found.length === 0) throw notFound(`No steward.yml in ${cwd}`);
  if (found.length > 1) warnings.push(`both steward.yml and steward.yaml exist in ${cwd}; using steward.yml`);
  return found[0]!;
}

function notFound(message: string): ConfigError {
  return new ConfigError('CONFIG_NOT_FOUND', message, { hint: 'Run `steward init` to write one, or pass --config <file>' });
}

function displayName(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function more(issues: readonly string[]): string {
  return issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The yaml parser's reason without its own "at line X, column Y" suffix. */
function yamlReason(message: string): string {
  return message.replace(/ at line \d+, column \d+[\s\S]*$/, '').replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------
// ${ENV} interpolation

interface Interpolation {
  readonly missing: Located[];
  readonly missingNames: string[];
  /** Unset variables in `sources[i].url` of a load that defers them (see LoadConfigOptions.deferSourceUrls). */
  readonly deferred: readonly { index: number; where: string; message: string; name: string }[];
  /** Paths (`sources[0].url`) whose value used the environment. */
  readonly fromEnv: ReadonlySet<string>;
  readonly redact: (s: string) => string;
}

// `$${` (literal `${`) | `${NAME}` / `${NAME:-default}` | any other `${` (malformed)
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

function interpolate(doc: Document.Parsed, env: NodeJS.ProcessEnv, at: (offset: number | undefined) => string, deferrable: (p: PathSeg[]) => boolean): Interpolation {
  const missing: Located[] = [];
  const deferred: { index: number; where: string; message: string; name: string }[] = [];
  const missingNames: string[] = [];
  const fromEnv = new Set<string>();
  const replacements: { value: string; ref: string }[] = [];

  visit(doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const p = pathOf(ancestry, node);
      const where = `${at(node.range?.[0])} ${formatPath(p)}`;
      const raw = node.value;
      let usedEnv = false;
      const out = raw.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        if (name === undefined) {
          missing.push({
            where,
            message: 'malformed ${…} reference: write ${NAME} or ${NAME:-default}, or $${ for a literal "${"',
          });
          return match;
        }
        const value = env[name];
        if (value !== undefined && value !== '') {
          usedEnv = true;
          replacements.push({ value, ref: `\${${name}}` });
          return value;
        }
        if (fallback !== undefined) return fallback;
        if (deferrable(p)) {
          deferred.push({ index: p[1] as number, where, name, message: value === '' ? `environment variable ${name} is set but empty; set it to a value or write a default: \${${name}:-…}` : `environment variable ${name} is not set; export it (export ${name}=…) or write a default: \${${name}:-…}` });
          return '';
        }
        missingNames.push(name);
        missing.push({
          where,
          message:
            value === ''
              ? `environment variable ${name} is set but empty; set it to a value or write a default: \${${name}:-…}`
              : `environment variable ${name} is not set; export it (export ${name}=…) or write a default: \${${name}:-…}`,
        });
        return match;
      });
      if (usedEnv) fromEnv.add(formatPath(p));
      node.value = out;
    },
  });

  // Longest first, so that a value containing another is replaced whole. Very short
  // values are left alone: replacing "1" everywhere would garble messages.
  const secrets = replacements.filter((r) => r.value.length >= 3).sort((a, b) => b.value.length - a.value.length);
  const redact = (s: string): string => secrets.reduce((acc, r) => acc.split(r.value).join(r.ref), s);
  return { missing, missingNames: dedupe(missingNames), deferred, fromEnv, redact };
}

function firstFix(names: readonly string[]): string {
  if (names.length === 0) return 'Fix the ${…} reference';
  const n = names[0]!;
  return `Export ${names.length === 1 ? 'it' : names.join(', ')} before running Steward (export ${n}=…), or give a default in the file: \${${n}:-…}`;
}

/** The data path of a node from `visit`'s ancestry (Document, maps, pairs, seqs). */
function pathOf(ancestry: readonly unknown[], node: unknown): PathSeg[] {
  const chain = [...ancestry.slice(1), node];
  const out: PathSeg[] = [];
  for (let k = 0; k < chain.length - 1; k++) {
    const parent = chain[k];
    const child = chain[k + 1];
    if (isSeq(parent)) out.push(parent.items.indexOf(child as never));
    else if (isMap(parent)) {
      // child is the Pair; its key names the segment
      const pair = child as { key: unknown };
      out.push(isScalar(pair.key) ? (pair.key.value as string | number) : String(pair.key));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// zod issues → located, readable problems

type Issue = z.core.$ZodIssue;

/** Messages for issues the schema does not word itself. Never includes the input value. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? `is required: expected ${article(iss.expected)}` : `expected ${article(iss.expected)}, got ${kindOf(iss.input)}`;
    case 'invalid_value': {
      const options = iss.values.map((v) => JSON.stringify(v));
      const guess = typeof iss.input === 'string' ? closest(iss.input, iss.values.filter((v): v is string => typeof v === 'string')) : undefined;
      const expected = options.length === 1 ? `expected ${options[0]}` : `expected one of ${options.join(', ')}`;
      return guess ? `${expected}; did you mean "${guess}"?` : expected;
    }
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `needs at least ${iss.minimum} ${Number(iss.minimum) === 1 ? 'entry' : 'entries'}`;
      return `must be ${iss.inclusive ? 'at least' : 'greater than'} ${String(iss.minimum)}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${iss.maximum} entries`;
      return `must be ${iss.inclusive ? 'at most' : 'less than'} ${String(iss.maximum)}`;
    case 'invalid_format':
      return `expected ${iss.format === 'regex' ? 'a value in the documented format' : `a valid ${iss.format}`}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    default:
      return undefined;
  }
};

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping (key: value)',
    null: 'null',
  };
  return names[expected] ?? expected;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a number' : 'a decimal number';
  return `a ${typeof v}`;
}

/**
 * Unions (`purposes: [name | {inline}]`) report every branch; keep the branch
 * the input was evidently meant for: the one whose issues are not a type
 * mismatch at the union's own path.
 */
function flattenIssues(issues: readonly Issue[], prefix: readonly PathSeg[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const full = { ...issue, path: [...prefix, ...(issue.path as PathSeg[])] } as Issue;
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
      out.push(full);
      continue;
    }
    const typed = issue.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
    if (typed.length === 0) {
      const expected = dedupe(issue.errors.flatMap((b) => b.filter((x) => x.code === 'invalid_type').map((x) => article((x as { expected: string }).expected))));
      out.push({ ...full, message: `expected ${expected.join(' or ')}` } as Issue);
    } else {
      const best = typed.reduce((a, b) => (b.length < a.length ? b : a));
      out.push(...flattenIssues(best, full.path as PathSeg[]));
    }
  }
  return out;
}

function locateIssue(issue: Issue, doc: Document.Parsed, data: unknown, at: (offset: number | undefined) => string): Located[] {
  const p = issue.path as PathSeg[];
  if (issue.code === 'unrecognized_keys') {
    const parent = nodeAt(doc, p);
    const known = knownKeys(p, data);
    return issue.keys.map((key) => {
      const keyNode = isMap(parent) ? parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.key : undefined;
      const guess = closest(key, known);
      const offset = (keyNode as YamlNode | undefined)?.range?.[0] ?? parent?.range?.[0];
      const where = `${at(offset)} ${formatPath([...p, key])}`;
      const list = known.length > 0 ? `; known keys here: ${known.join(', ')}` : '';
      return { where, offset, message: guess ? `unknown key "${key}"; did you mean "${guess}"?` : `unknown key "${key}"${list}` };
    });
  }
  const offset = nearestNode(doc, p)?.range?.[0];
  return [{ where: `${at(offset)} ${formatPath(p)}`, offset, message: issue.message }];
}

/** The YAML node at a data path, or undefined. */
function nodeAt(doc: Document.Parsed, p: readonly PathSeg[]): YamlNode | undefined {
  if (p.length === 0) return doc.contents ?? undefined;
  const n = doc.getIn(p, true);
  return n && typeof n === 'object' && 'range' in (n as object) ? (n as YamlNode) : undefined;
}

/** The node at `p`, or at its longest existing prefix (for a missing key: the mapping that lacks it). */
function nearestNode(doc: Document.Parsed, p: readonly PathSeg[]): YamlNode | undefined {
  for (let k = p.length; k >= 0; k--) {
    const n = nodeAt(doc, p.slice(0, k));
    if (n) return n;
  }
  return undefined;
}

/** `sources[1].url`; odd keys quoted: `purposes["a b"]`. Empty path: `(top level)`. */
export function formatPath(p: readonly PathSeg[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(top level)';
}

/** Keys the schema accepts for the object at path `p`. */
function knownKeys(p: readonly PathSeg[], data: unknown): string[] {
  let schema: unknown = configSchema;
  let value: unknown = data;
  for (const seg of [...p, null]) {
    schema = unwrap(schema, value);
    if (seg === null) break;
    const def = defOf(schema);
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(seg)];
    else if (def?.type === 'array') schema = def.element;
    else return [];
    value = value !== null && typeof value === 'object' ? (value as Record<PathSeg, unknown>)[seg] : undefined;
  }
  const def = defOf(schema);
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

function defOf(schema: unknown): Record<string, unknown> | undefined {
  return schema && typeof schema === 'object' && 'def' in schema ? ((schema as { def: Record<string, unknown> }).def) : undefined;
}

/** Through optional/default/nullable/pipe wrappers, and into the union branch that fits `value`. */
function unwrap(schema: unknown, value: unknown): unknown {
  for (let guard = 0; guard < 20; guard++) {
    const def = defOf(schema);
    if (!def) return schema;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'readonly') {
      schema = def.innerType;
    } else if (def.type === 'pipe') schema = def.in;
    else if (def.type === 'union') {
      const options = def.options as unknown[];
      const wantObject = value !== null && typeof value === 'object' && !Array.isArray(value);
      schema = options.find((o) => (defOf(unwrap(o, value))?.type === 'object') === wantObject) ?? options[0];
    } else return schema;
  }
  return schema;
}

/** The candidate nearest to `word` by edit distance, if near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== undefined && bestD <= limit && best !== word ? best : undefined;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const prev = rows[i - 1]!;
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      cur[j] = d;
    }
    rows.push(cur);
  }
  return rows[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------
// User patterns

function compilePatterns(data: unknown, doc: Document.Parsed, at: (offset: number | undefined) => string, located: Located[]): UserPatterns | undefined {
  const detection = record(record(data)?.detection);
  const compile = (src: unknown, p: PathSeg[]): RegExp | undefined => {
    if (typeof src !== 'string' || src.length === 0) return undefined; // zod reports the type
    const r = tryCompileUserPattern(src);
    if (r.ok) return r.regex;
    const offset = nearestNode(doc, p)?.range?.[0];
    located.push({ where: `${at(offset)} ${formatPath(p)}`, offset, message: r.reason });
    return undefined;
  };
  const rules = Array.isArray(detection?.columnRules) ? detection.columnRules : [];
  const detectors = Array.isArray(detection?.detectors) ? detection.detectors : [];
  const columnRules = rules.map((r, i) => compile(record(r)?.pattern, ['detection', 'columnRules', i, 'pattern']));
  const compiledDetectors = detectors.map((d, i) => {
    const names = record(d)?.columnNames;
    return {
      pattern: compile(record(d)?.pattern, ['detection', 'detectors', i, 'pattern']),
      columnNames: (Array.isArray(names) ? names : []).map((n, j) => compile(n, ['detection', 'detectors', i, 'columnNames', j])),
    };
  });
  // Only used when validation passed, and then every entry compiled.
  return {
    columnRules: columnRules as RegExp[],
    detectors: compiledDetectors as { pattern: RegExp; columnNames: RegExp[] }[],
  };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

// ---------------------------------------------------------------------------
// Paths, warnings, freezing

const URL_SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/** A SQLite/state path as written → absolute, against the config file's directory. */
export function resolveLocalPath(value: string, dir: string): string {
  if (value === ':memory:') return value;
  if (value === '~' || value.startsWith('~/')) return path.join(os.homedir(), value.slice(1));
  if (/^file:/i.test(value)) {
    const rest = value.replace(/^file:(\/\/)?/i, '');
    return rest.startsWith('/') ? value : `file:${path.resolve(dir, rest)}`;
  }
  if (/^sqlite:/i.test(value)) return resolveLocalPath(value.replace(/^sqlite:(\/\/)?/i, ''), dir);
  if (URL_SCHEME.test(value) && !/^[a-z]:[\\/]/i.test(value)) return value;
  return path.resolve(dir, value);
}

function resolvePaths(config: StewardConfig, dir: string): void {
  if (!URL_SCHEME.test(config.state.url) || /^(file|sqlite):/i.test(config.state.url)) {
    config.state.url = resolveLocalPath(config.state.url, dir);
  }
  for (const s of config.sources) if (s.kind === 'sqlite') s.url = resolveLocalPath(s.url, dir);
}

/** Query parameters that carry a password in libpq / mysql2 / MariaDB connection strings. */
const PASSWORD_PARAMS = new Set(['password', 'pass', 'passwd', 'pwd', 'sslpassword', 'sslpass', 'sslkeypassword']);

/**
 * Where a connection string holds a password written out: in the user-info part
 * (`user:secret@host`) or in a query parameter (`?password=…`, `&sslpassword=…`).
 * Returns the place (never the value), or undefined.
 */
export function passwordInUrl(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:[^/@]+@/i.test(url)) return 'in the user-info part';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('#')[0]!.split('&')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim().toLowerCase();
    let value = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      /* kept as written */
    }
    if (PASSWORD_PARAMS.has(name) && value.length > 0) return `query parameter "${name}"`;
  }
  return undefined;
}

function configWarnings(config: StewardConfig, fromEnv: ReadonlySet<string>, at: (p: PathSeg[]) => string): string[] {
  const out: string[] = [];
  config.sources.forEach((s, i) => {
    const p = `sources[${i}].url`;
    const inUrl = s.kind !== 'sqlite' && !fromEnv.has(p) ? passwordInUrl(s.url) : undefined;
    if (inUrl) {
      out.push(`${at(['sources', i, 'url'])} ${p}: a password is written in the file; use \${ENV_VAR} so that it stays out of version control (${inUrl})`);
    }
    if (s.purposes.length === 0) {
      out.push(
        `${at(['sources', i])} sources[${i}].purposes: source "${s.name}" declares no purposes, so every personal-data column it holds will be reported as not covered by a purpose`,
      );
    }
  });
  return out;
}

/** Freeze an object graph (plain objects and arrays; RegExps are left as they are). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof RegExp || Object.isFrozen(value)) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return Object.freeze(value);
}
