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
import type { TableInfo } from '../sources/types.js';
import { findTable, tablePolicy, validatePolicies, type PolicyProblem, type RetentionPolicy } from './policy.js';

export interface SourcePolicies {
  /** What runs on this source, each with its index in steward.yml (for messages). */
  readonly policies: readonly { readonly policy: RetentionPolicy; readonly index: number }[];
  /** Everything impossible, category expansion and validation together: nothing runs while one is left. */
  readonly problems: readonly PolicyProblem[];
  /** Tables a category policy leaves to a table policy of the same kind. */
  readonly skipped: readonly { readonly policy: string; readonly table: string; readonly coveredBy: string }[];
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
export function policiesForSource(config: readonly RetentionPolicyConfig[], source: string, allSources: readonly string[], tables: readonly TableInfo[], inventory: readonly InventoryItem[] | null): SourcePolicies {
  const out: { policy: RetentionPolicy; index: number }[] = [];
  const problems: PolicyProblem[] = [];
  const skipped: { policy: string; table: string; coveredBy: string }[] = [];
  const explicit = config.flatMap((p, index) => {
    const t = p.source === source ? tablePolicy(p) : null;
    return t ? [{ policy: t, index }] : [];
  });
  out.push(...explicit);
  config.forEach((p, index) => {
    if (p.category === undefined || !policySources(p, allSources).includes(source)) return;
    const at = (field: string, message: string) => problems.push({ policy: p.name, path: `retention.policies[${index}]${field ? `.${field}` : ''}`, message });
    if (!inventory) {
      at('category', `covers the data category ${p.category}, and no audit of source "${source}" has recorded an inventory yet: run \`steward audit\` first, so Steward knows which tables hold it`);
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
      const covered = explicit.find((e) => {
        const et = findTable(tables, e.policy.table);
        return et === t && ends(e.policy.method) === ends(p.method);
      });
      if (covered) {
        skipped.push({ policy: p.name, table: key, coveredBy: covered.policy.name });
        continue;
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
      const cleanup = p.method === 'cleanup' ? Object.fromEntries(columns.filter((c) => !t.primaryKey.includes(c)).map((c) => [c, method!])) : undefined;
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
  problems.push(...validatePolicies(out.map((o) => o.policy), (p) => indexOf.get(p) ?? -1, tables));
  return { policies: out, problems, skipped };
}

/** Whether `--policy name` selects this policy: its own name, or the category policy it comes from. */
export function selectedBy(policy: RetentionPolicy, names: readonly string[] | undefined): boolean {
  return !names?.length || names.includes(policy.name) || (policy.origin !== undefined && names.includes(policy.origin.policy));
}
