/**
 * Policies by data category (pure): "email addresses 2 years" as one policy
 * over every table the inventory found holding the category, in every source
 * (or the ones listed). Each such table becomes a policy of its own, named
 * `name[schema.table]`, that plan and apply run like a table policy:
 * - the reference date is the first of the policy's `from` columns the table has;
 * - `cleanup` overwrites the table's columns of that category with the one method given;
 * - erase and archive end the rows that hold the category.
 * A table policy written for the same table and the same end (rows, or a cleanup)
 * takes precedence: specific beats general, and the plan says so.
 */
import type { InventoryItem } from '../audit/types.js';
import type { RetentionPolicyConfig } from '../config/schema.js';
import { categoryMatches } from '../detection/taxonomy.js';
import type { SourceKind, TableInfo } from '../sources/types.js';
import { findTable, tablePolicy, validatePolicies, type PolicyProblem, type RetentionPolicy } from './policy.js';

export interface SourcePolicies {
  /** What runs on this source, each with its index in steward.yml (for messages). */
  readonly policies: readonly { readonly policy: RetentionPolicy; readonly index: number }[];
  /** Everything impossible, category expansion and validation together: nothing runs while one is left. */
  readonly problems: readonly PolicyProblem[];
  /**
   * What a category policy does not run on, and why: a table a table policy of the same
   * kind takes over (`coveredBy`), or the whole source while no audit has recorded an
   * inventory of it (`table` null): waiting for data, not an impossible policy, so the
   * source's other policies still run (and `steward audit --due`, which audits first, is not stuck).
   */
  readonly skipped: readonly { readonly policy: string; readonly table: string | null; readonly coveredBy?: string; readonly reason: string }[];
}

/** The sources a policy may touch: its source, or (category) its sources or every source. */
export function policySources(p: RetentionPolicyConfig, allSources: readonly string[]): string[] {
  if (p.category === undefined) return p.source ? [p.source] : [];
  return p.sources ? allSources.filter((s) => p.sources!.includes(s)) : [...allSources];
}

const ends = (m: RetentionPolicyConfig['method']) => m !== 'cleanup';

/**
 * The policies of one source: its table policies as written, and its tables of
 * every category policy, given the source's tables and the latest inventory
 * (null when no audit has recorded one yet: a category policy cannot know its
 * tables, which is a problem, not a silent no-op).
 */
export function policiesForSource(config: readonly RetentionPolicyConfig[], source: string, allSources: readonly string[], tables: readonly TableInfo[], inventory: readonly InventoryItem[] | null, kind?: SourceKind): SourcePolicies {
  const out: { policy: RetentionPolicy; index: number }[] = [];
  const problems: PolicyProblem[] = [];
  const skipped: { policy: string; table: string | null; coveredBy?: string; reason: string }[] = [];
  const explicit = config.flatMap((p, index) => {
    const t = p.source === source ? tablePolicy(p) : null;
    return t ? [{ policy: t, index }] : [];
  });
  out.push(...explicit);
  config.forEach((p, index) => {
    if (p.category === undefined || !policySources(p, allSources).includes(source)) return;
    const at = (field: string, message: string) => problems.push({ policy: p.name, path: `retention.policies[${index}]${field ? `.${field}` : ''}`, message });
    if (!inventory) {
      skipped.push({ policy: p.name, table: null, reason: `covers the data category ${p.category}, and no audit of source "${source}" has recorded an inventory yet: run \`steward audit\` first, so Steward knows which tables hold it` });
      return;
    }
    // Tables holding the category, with the columns that hold it.
    const byTable = new Map<string, { schema: string; table: string; columns: string[] }>();
    for (const item of inventory) {
      if (item.source !== source || !categoryMatches(p.category, item.category)) continue;
      if ((p.exclude ?? []).some((e) => e === item.table || e === `${item.schema}.${item.table}`)) continue;
      const key = `${item.schema}.${item.table}`;
      const entry = byTable.get(key) ?? { schema: item.schema, table: item.table, columns: [] };
      if (!entry.columns.includes(item.column)) entry.columns.push(item.column);
      byTable.set(key, entry);
    }
    for (const [key, { columns }] of [...byTable].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const t = findTable(tables, key);
      if (!t) continue; // gone since the audit (or a view): nothing to apply it to
      // Specific beats general, for what the table policy covers: the rows (an erase/archive of
      // the whole table), or the columns it cleans. A filtered erase beside a category erase is
      // left to the conflict rules.
      const same = explicit.filter((e) => findTable(tables, e.policy.table) === t && ends(e.policy.method) === ends(p.method));
      const rowsOwner = ends(p.method) ? same.find((e) => !e.policy.where) : undefined;
      const cleanedBy = new Map<string, string>();
      if (!ends(p.method)) for (const e of same) for (const c of Object.keys(e.policy.cleanup ?? {})) if (!e.policy.where) cleanedBy.set(c, e.policy.name);
      // Key columns are never overwritten (they identify the row), so they are never the category's to clean.
      const cleanable = ends(p.method) ? columns : columns.filter((c) => !t.primaryKey.includes(c));
      if (!ends(p.method) && cleanable.length === 0) {
        skipped.push({ policy: p.name, table: key, reason: `its ${p.category} column(s) ${columns.join(', ')} are the primary key, which cleanup never overwrites` });
        continue;
      }
      const mineCols = cleanable.filter((c) => !cleanedBy.has(c));
      const owner = rowsOwner?.policy.name ?? (!ends(p.method) && mineCols.length === 0 ? cleanedBy.get(cleanable[0]!) : undefined);
      if (owner) {
        skipped.push({ policy: p.name, table: key, coveredBy: owner, reason: `left to policy "${owner}" (a table policy on the same table takes precedence)` });
        continue;
      }
      if (!ends(p.method) && mineCols.length < cleanable.length) {
        const taken = cleanable.filter((c) => cleanedBy.has(c));
        skipped.push({ policy: p.name, table: key, coveredBy: cleanedBy.get(taken[0]!)!, reason: `column(s) ${taken.join(', ')} left to policy "${cleanedBy.get(taken[0]!)}" (a table policy on the same table takes precedence); the category policy cleans ${mineCols.join(', ')}` });
      }
      const froms = typeof p.from === 'string' ? [p.from] : p.from;
      const from = froms.find((f) => t.columns.some((c) => c.name === f));
      if (!from) {
        at('from', `${p.category} is in ${source}.${key}, which has none of the reference columns ${froms.join(', ')}: add its own to from, exclude the table, or give it a table policy`);
        continue;
      }
      const method = typeof p.cleanup === 'string' ? p.cleanup : undefined;
      if (p.method === 'cleanup' && !method) {
        at('cleanup', `a cleanup policy by category needs one method for the category's columns (cleanup: hash, null, year, month, prefix:N or fixed:VALUE)`);
        return;
      }
      const cleanup = p.method === 'cleanup' ? Object.fromEntries(mineCols.map((c) => [c, method!])) : undefined;
      out.push({
        index,
        policy: {
          name: `${p.name}[${key}]`,
          source,
          table: key,
          period: p.period,
          from,
          method: p.method,
          legalBasis: p.legalBasis,
          legalMinimum: p.legalMinimum,
          cascade: p.cascade,
          cleanup,
          origin: { policy: p.name, category: p.category },
        },
      });
    }
  });
  const indexOf = new Map(out.map((o) => [o.policy, o.index]));
  problems.push(...validatePolicies(out.map((o) => o.policy), (p) => indexOf.get(p) ?? -1, tables, kind));
  return { policies: out, problems, skipped };
}

/** Whether `--policy name` selects this policy: its own name, or the category policy it comes from. */
export function selectedBy(policy: RetentionPolicy, names: readonly string[] | undefined): boolean {
  return !names?.length || names.includes(policy.name) || (policy.origin !== undefined && names.includes(policy.origin.policy));
}
