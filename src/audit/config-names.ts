/**
 * Names in steward.yml that match nothing in the database: a schema in
 * `schemas:`, a table or column in `integrity.required`, `updatedColumns` or
 * `references`, a principal, table or category in `access.authorized`, a
 * table in `access.rowLevelSecurity`. Each would make a check the user
 * believes runs do nothing, silently. Pure: from the introspection (and, for
 * the access stage, the privilege snapshot) to findings, one per name, the way
 * retention policies are validated (src/retention/policy.ts).
 *
 * Names come from the file and from the database: untrusted text. Findings
 * carry them as they are; every report format escapes them.
 */
import { dialectOf } from '../sources/dialects.js';
import type { AccessSnapshot, SourceKind, TableInfo } from '../sources/types.js';
import { categoryMatches } from '../detection/taxonomy.js';
import { principalMatches, tableMatches, type AccessConfig } from './access.js';
import { findingId, type DraftFinding } from './collection-review.js';
import type { IntegrityConfig } from './integrity.js';

/** One name that matches nothing: where it is in the file, and why it does nothing. */
export interface NameProblem {
  /** `sources[0].integrity.required[1]`. */
  readonly path: string;
  /** The setting, without indexes (`integrity.required`): with `name`, the finding's identity. */
  readonly setting: string;
  readonly name: string;
  /** What is wrong and what does not run, one sentence without the path. */
  readonly message: string;
}

/** At most `max` names, then how many more. */
function some(names: readonly string[], max = 8): string {
  const list = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${list} and ${names.length - max} more` : list;
}

/** Edit distance with adjacent transpositions (optimal string alignment): "emial" is one step from "email". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** ` Did you mean "customers"?` when one known name is a near miss (case, a typo or two). */
export function didYouMean(name: string, known: readonly string[]): string {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of new Set(known)) {
    if (Math.abs(k.length - name.length) > 3 || k.length > 128) continue;
    const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 4)) ? ` Did you mean "${best}"?` : '';
}

/** `schemas:` entries that no introspected table is in. `existing`: the schemas Steward sees without the filter, when known. */
export function schemaProblems(sourceIndex: number, sourceName: string, schemas: readonly string[] | undefined, tables: readonly TableInfo[], existing?: readonly string[]): NameProblem[] {
  const out: NameProblem[] = [];
  (schemas ?? []).forEach((s, i) => {
    if (tables.some((t) => t.schema === s || t.schema.toLowerCase() === s.toLowerCase())) return;
    const seen = existing?.length ? ` Schemas with tables Steward sees: ${some(existing)}.${didYouMean(s, existing)}` : '';
    out.push({
      path: `sources[${sourceIndex}].schemas[${i}]`,
      setting: 'schemas',
      name: s,
      message: `schema "${s}" has no table or view Steward can see in source "${sourceName}" (it does not exist, is empty, or Steward's user may not read it), so nothing in it is audited.${seen}`,
    });
  });
  return out;
}

/**
 * How one `table.column` of the integrity settings resolves: the tables it
 * checks, or why it checks none. `tables` is the introspection, `audited`
 * whether `sources[].exclude` leaves a table in.
 */
function resolveColumn(
  ref: string,
  column: string | undefined,
  tables: readonly TableInfo[],
  audited: (t: TableInfo) => boolean,
  sourceName: string,
): { tables: TableInfo[] } | { problem: string; hint?: string } {
  const named = tables.filter((t) => t.name === ref);
  if (named.length === 0) {
    return { problem: `table "${ref}" does not exist in source "${sourceName}"`, hint: didYouMean(ref, tables.map((t) => t.name)) };
  }
  const inScope = named.filter(audited);
  if (inScope.length === 0) return { problem: `table "${ref}" is excluded by sources[].exclude` };
  const real = inScope.filter((t) => t.kind === 'table');
  if (real.length === 0) return { problem: `"${ref}" is a view; integrity checks run on tables only` };
  if (column === undefined) return { tables: real };
  const withColumn = real.filter((t) => t.columns.some((c) => c.name === column));
  if (withColumn.length === 0) {
    const t = real[0]!;
    return { problem: `column "${column}" does not exist in ${t.schema}.${t.name}`, hint: didYouMean(column, t.columns.map((c) => c.name)) };
  }
  return { tables: withColumn };
}

/** Why `references` entry `from → to` cannot be checked on table `t` (the parent is looked up in t's schema), or null. */
export function referenceProblem(t: TableInfo, to: string, tables: readonly TableInfo[]): { problem: string; hint?: string } | null {
  const [pt, pc] = to.split('.') as [string, string];
  const parent = tables.find((x) => x.schema === t.schema && x.name === pt);
  if (!parent) return { problem: `the referenced table "${pt}" does not exist in ${t.schema}`, hint: didYouMean(pt, tables.filter((x) => x.schema === t.schema).map((x) => x.name)) };
  if (!parent.columns.some((c) => c.name === pc)) return { problem: `the referenced column "${pc}" does not exist in ${parent.schema}.${parent.name}`, hint: didYouMean(pc, parent.columns.map((c) => c.name)) };
  return null;
}

/** Every name of the integrity settings that checks nothing. */
export function integrityProblems(
  sourceIndex: number,
  sourceName: string,
  config: IntegrityConfig,
  tables: readonly TableInfo[],
  audited: (t: TableInfo) => boolean,
): NameProblem[] {
  const out: NameProblem[] = [];
  const base = `sources[${sourceIndex}].integrity`;
  config.required.forEach((r, i) => {
    const [table, column] = r.split('.') as [string, string];
    const got = resolveColumn(table, column, tables, audited, sourceName);
    if ('problem' in got) out.push({ path: `${base}.required[${i}]`, setting: 'integrity.required', name: r, message: `${got.problem}, so the required-value check of ${r} does not run.${got.hint ?? ''}` });
  });
  for (const [table, column] of Object.entries(config.updatedColumns)) {
    const got = resolveColumn(table, column, tables, audited, sourceName);
    if ('problem' in got) out.push({ path: `${base}.updatedColumns.${table}`, setting: 'integrity.updatedColumns', name: `${table}.${column}`, message: `${got.problem}, so no record of ${table} is checked for staleness.${got.hint ?? ''}` });
  }
  for (const [from, to] of Object.entries(config.references)) {
    const [table, column] = from.split('.') as [string, string];
    const got = resolveColumn(table, column, tables, audited, sourceName);
    const problem = 'problem' in got ? got : got.tables.map((t) => referenceProblem(t, to, tables)).find((p) => p !== null);
    if (problem) out.push({ path: `${base}.references.${from}`, setting: 'integrity.references', name: `${from} → ${to}`, message: `${problem.problem}, so the orphaned-row check of ${from} does not run.${problem.hint ?? ''}` });
  }
  return out;
}

/**
 * Every name of the access settings that matches nothing: principals the
 * review does not see (skipped when a catalog could not be read: the list
 * would be partial), table patterns that match no table, categories no
 * detector produces, row-level security required where the database has none.
 */
export function accessProblems(
  sourceIndex: number,
  sourceName: string,
  kind: SourceKind,
  config: AccessConfig,
  snapshot: AccessSnapshot,
  tables: readonly TableInfo[],
  knownCategories: readonly string[],
): NameProblem[] {
  const out: NameProblem[] = [];
  const base = `sources[${sourceIndex}].access`;
  const names = snapshot.principals.map((p) => p.name);
  const fixed = dialectOf(kind).fixedPrincipals;
  config.authorized.forEach((e, i) => {
    const at = `${base}.authorized[${i}]`;
    // A database without accounts (SQLite): the principals are file-permission classes, present only when they can read.
    const known = fixed ? fixed.pattern.test(e.principal.trim()) : snapshot.problems.length > 0 || snapshot.principals.some((p) => principalMatches(e.principal, p.name));
    if (!known) {
      const seen = fixed ? ` ${fixed.explanation}` : ` The review sees ${some(names)}.${didYouMean(e.principal, names.map((n) => n.replace(/^'([^']*)'(@.*)?$/, '$1')))}`;
      out.push({
        path: `${at}.principal`,
        setting: 'access.authorized.principal',
        name: e.principal,
        message: `no principal "${e.principal}" exists in source "${sourceName}", so this entry authorizes nobody now, and whoever later creates it is authorized at once.${seen}`,
      });
    }
    (e.tables ?? []).forEach((pattern, j) => {
      if (tables.some((t) => tableMatches(pattern, t.schema, t.name))) return;
      out.push({
        path: `${at}.tables[${j}]`,
        setting: 'access.authorized.tables',
        name: pattern,
        message: `"${pattern}" matches no table or view in source "${sourceName}", so this entry authorizes nothing there.${didYouMean(pattern, tables.map((t) => t.name))}`,
      });
    });
    (e.categories ?? []).forEach((pattern, j) => {
      if (knownCategories.some((c) => categoryMatches(pattern, c))) return;
      out.push({
        path: `${at}.categories[${j}]`,
        setting: 'access.authorized.categories',
        name: pattern,
        message: `"${pattern}" is no data category Steward knows (built-in, or from detection.detectors and detection.columnRules), so this entry authorizes nothing.${didYouMean(pattern, knownCategories)}`,
      });
    });
  });
  config.rowLevelSecurity.forEach((pattern, j) => {
    const path = `${base}.rowLevelSecurity[${j}]`;
    const matching = tables.filter((t) => tableMatches(pattern, t.schema, t.name));
    if (matching.length === 0) {
      out.push({ path, setting: 'access.rowLevelSecurity', name: pattern, message: `"${pattern}" matches no table in source "${sourceName}", so no row-level security is checked for it.${didYouMean(pattern, tables.map((t) => t.name))}` });
    } else if (!snapshot.tableSecurity.some((s) => tableMatches(pattern, s.schema, s.table))) {
      out.push({ path, setting: 'access.rowLevelSecurity', name: pattern, message: `"${pattern}" matches ${matching.length === 1 ? 'a table' : 'tables'} of source "${sourceName}", but this database (${kind}) has no row-level security Steward can check, so the requirement is not checked.` });
    }
  });
  return out;
}

/** One finding per problem. Its id keys on the setting and the name, not the index: reordering the file keeps it. */
export function nameFindings(sourceName: string, problems: readonly NameProblem[], configFile = 'steward.yml'): DraftFinding[] {
  return problems.map((p) => {
    const location = { source: sourceName };
    return {
      id: findingId('config.unknown-name', location, `${p.setting}\u0000${p.name}`),
      rule: 'config.unknown-name',
      severity: 'medium',
      location,
      title: `A name in ${configFile} matches nothing`,
      message: `${p.path}: ${p.message}`,
      remedy: `Correct ${p.path} in ${configFile} (names are matched as the database spells them), or remove it; until then the check it configures does nothing.`,
    };
  });
}
