/**
 * Retention policies (pure): periods, cut-offs, and the validation that names
 * impossible policies before anything runs. The source text's examples are the
 * shape: email addresses 2 years / permanent erasure, transaction records 5
 * years / secure archiving, support tickets 3 months / database cleanup.
 */
import { addDuration, parseIsoDuration, type IsoDuration } from '../audit/schedule.js';
import type { RetentionPolicyConfig } from '../config/schema.js';
import { RETENTION_PERIOD } from '../config/schema.js';
import { checkPredicate } from '../sources/predicate.js';
import { tablesNamed } from '../sources/table-names.js';
import type { ForeignKey, SourceKind, TableInfo } from '../sources/types.js';

/**
 * One policy on one table, as plan and apply run it: a table policy from
 * steward.yml as written, or one table of a category policy (src/retention/categories.ts).
 */
export interface RetentionPolicy {
  /** `name` in steward.yml; for a category policy's table, `name[schema.table]`. */
  readonly name: string;
  readonly source: string;
  readonly table: string;
  readonly where?: string | undefined;
  readonly period: string;
  readonly from: string;
  readonly method: RetentionPolicyConfig['method'];
  readonly legalBasis: string;
  readonly legalMinimum?: string | undefined;
  readonly cascade: readonly string[];
  readonly cleanup?: Readonly<Record<string, string>> | undefined;
  /** The category policy this table comes from (its name in steward.yml), and the category. */
  readonly origin?: { readonly policy: string; readonly category: string } | undefined;
}

/** A table policy from steward.yml as the policy it runs as (null for category policies). */
export function tablePolicy(p: RetentionPolicyConfig): RetentionPolicy | null {
  if (p.table === undefined || p.source === undefined || typeof p.from !== 'string' || typeof p.cleanup === 'string') return null;
  return { name: p.name, source: p.source, table: p.table, where: p.where, period: p.period, from: p.from, method: p.method, legalBasis: p.legalBasis, legalMinimum: p.legalMinimum, cascade: p.cascade, cleanup: p.cleanup };
}

const ZERO: IsoDuration = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };

/** `2y` / `18m` / `90d` / `12w` / `36h` / `P2Y` → a duration; null when it is neither. */
export function parsePeriod(text: string): IsoDuration | null {
  const t = text.trim();
  const m = RETENTION_PERIOD.exec(t);
  if (m) {
    const n = Number(m[1]);
    const unit = m[2]!.toLowerCase();
    return { ...ZERO, ...(unit === 'y' ? { years: n } : unit === 'm' ? { months: n } : unit === 'w' ? { weeks: n } : unit === 'd' ? { days: n } : { hours: n }) };
  }
  return /^P/i.test(t) ? parseIsoDuration(t) : null;
}

const negate = (d: IsoDuration): IsoDuration => ({ years: -d.years, months: -d.months, weeks: -d.weeks, days: -d.days, hours: -d.hours, minutes: -d.minutes, seconds: -d.seconds });

/** The instant at or before which a reference date makes a row due: `now − period` (calendar-aware, UTC). */
export function cutoffFor(period: string, now: Date): Date {
  const d = parsePeriod(period);
  if (!d) throw new RangeError(`not a period: ${period}`);
  return addDuration(now, negate(d));
}

/** Compares two periods by where they put the cut-off from one fixed instant (months and years vary in length). */
export function periodShorter(a: string, b: string): boolean {
  const at = new Date('2001-01-31T00:00:00Z');
  return cutoffFor(a, at).getTime() > cutoffFor(b, at).getTime();
}

export interface PolicyProblem {
  readonly policy: string;
  /** `retention.policies[i].field` for the message. */
  readonly path: string;
  readonly message: string;
}

/** How a policy's `where:` is named in the predicate check's messages. */
export function policyWhereLabel(index: number) {
  return { what: `retention.policies[${index}].where`, example: `e.g. where: "status = 'closed' and region = 'eu'"` };
}

/** `schema.table` or `table` → the table in an introspection. */
export function findTable(tables: readonly TableInfo[], name: string): TableInfo | undefined {
  const hits = tablesNamed(tables, name).filter((x) => x.kind === 'table');
  return hits.length === 1 ? hits[0] : undefined;
}

/** Tables with a foreign key to `parent`, and the key. */
export function childrenOf(tables: readonly TableInfo[], parent: TableInfo): { table: TableInfo; fk: ForeignKey }[] {
  const out: { table: TableInfo; fk: ForeignKey }[] = [];
  for (const t of tables) for (const fk of t.foreignKeys) if (fk.referencedTable === parent.name && fk.referencedSchema === parent.schema && !(t.name === parent.name && t.schema === parent.schema)) out.push({ table: t, fk });
  return out;
}

/**
 * Every problem with the policies of one source, given its tables: unknown
 * tables and columns, a reference column that is not a date, two policies that
 * disagree on one table, a period shorter than the declared legal minimum, a
 * method that needs a primary key on a table without one, and foreign-key
 * children that no policy covers (deleting the parent would fail or cascade).
 */
export function validatePolicies(policies: readonly RetentionPolicy[], indexOf: (p: RetentionPolicy) => number, tables: readonly TableInfo[], kind?: SourceKind): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const at = (p: RetentionPolicy, field: string, message: string) => problems.push({ policy: p.name, path: `retention.policies[${indexOf(p)}]${field ? `.${field}` : ''}`, message: p.origin ? `${p.origin.category} in ${p.source}.${p.table}: ${message}` : message });
  const byTable = new Map<string, RetentionPolicy[]>();
  for (const p of policies) {
    // The same check a legal hold's predicate gets: one expression that cannot leave its parentheses.
    if (p.where !== undefined) {
      try {
        checkPredicate(p.where, kind, policyWhereLabel(indexOf(p)));
      } catch (e) {
        at(p, 'where', (e as Error).message.replace(/^retention\.policies\[\d+\]\.where is not accepted: /, 'not accepted: '));
      }
    }
    const t = findTable(tables, p.table);
    if (!t) {
      at(p, 'table', `table "${p.table}" does not exist in source "${p.source}" (or is ambiguous: name its schema)`);
      continue;
    }
    const key = `${t.schema}.${t.name}`;
    byTable.set(key, [...(byTable.get(key) ?? []), p]);
    const from = t.columns.find((c) => c.name === p.from);
    if (!from) at(p, 'from', `column "${p.from}" does not exist in ${key}; its columns: ${t.columns.map((c) => c.name).join(', ')}`);
    else if (from.typeClass !== 'date' && from.typeClass !== 'timestamp' && !(t.kind === 'table' && from.typeClass === 'text' && /date|time/i.test(from.dataType))) {
      at(p, 'from', `column "${p.from}" of ${key} is ${from.dataType}, not a date or timestamp: it cannot say when a row's period started`);
    }
    if (t.primaryKey.length === 0) at(p, 'method', `${p.method} works row by row in key order, and ${key} has no primary key; add one first`);
    if (p.legalMinimum && periodShorter(p.period, p.legalMinimum)) at(p, 'period', `the period ${p.period} is shorter than the legal minimum ${p.legalMinimum} this policy declares`);
    if (p.method === 'cleanup') {
      if (!p.cleanup || Object.keys(p.cleanup).length === 0) at(p, 'cleanup', 'a cleanup policy needs cleanup: { column: method } for the personal columns to overwrite');
      for (const col of Object.keys(p.cleanup ?? {})) {
        const c = t.columns.find((x) => x.name === col);
        if (!c) at(p, `cleanup.${col}`, `column "${col}" does not exist in ${key}`);
        else if (t.primaryKey.includes(col)) at(p, `cleanup.${col}`, `"${col}" is part of the primary key of ${key} and cannot be overwritten`);
        else if (p.cleanup![col] === 'null' && !c.nullable) at(p, `cleanup.${col}`, `"${col}" is NOT NULL in ${key}: choose hash, fixed:VALUE or a generalisation`);
        else if (p.cleanup![col] !== 'null' && p.cleanup![col] !== 'hash' && (t.uniqueKeys ?? []).some((u) => u.includes(col))) {
          // Every cleaned row would get the same (or a coarser) value: the second one breaks the unique key mid-run.
          at(p, `cleanup.${col}`, `"${col}" is part of a unique key of ${key} (${(t.uniqueKeys ?? []).find((u) => u.includes(col))!.join(', ')}): ${p.cleanup![col]} gives many rows one value, which the key forbids; choose hash${c.nullable ? ' or null' : ''}`);
        }
      }
    } else if (p.cleanup) at(p, 'cleanup', `cleanup settings apply to method cleanup, not ${p.method}`);
    if (p.method !== 'cleanup') {
      // Children by foreign key, all the way down, must be listed: otherwise the delete fails or cascades silently.
      const seen = new Set<string>([key]);
      const walk = (parent: TableInfo) => {
        for (const { table: child, fk } of childrenOf(tables, parent)) {
          const ck = `${child.schema}.${child.name}`;
          if (seen.has(ck)) continue;
          seen.add(ck);
          const listed = p.cascade.some((c) => c === child.name || c === ck);
          if (!listed) {
            at(p, 'cascade', `${ck} references ${parent.schema}.${parent.name} (foreign key ${fk.name}) and no policy covers it: deleting ${key} rows would fail or cascade; add "${child.name}" to cascade (its rows go with their parent) or give it its own policy`);
          } else {
            if (child.primaryKey.length === 0) at(p, 'cascade', `${ck} has no primary key`);
            walk(child);
          }
        }
      };
      walk(t);
      for (const c of p.cascade) if (!findTable(tables, c)) at(p, 'cascade', `cascade table "${c}" does not exist`);
      // Self-references and cycles among the table and its cascade: deleting a row another row of
      // the same set points to would fail, or make the database delete (or null) rows Steward never
      // checked as due or held. Steward does not follow them; it says so.
      const members = [...seen].map((k) => tables.find((x) => `${x.schema}.${x.name}` === k)!).filter(Boolean);
      const inSet = new Set(members.map((m) => `${m.schema}.${m.name}`));
      const parentsOf = (m: TableInfo) => m.foreignKeys.filter((fk) => inSet.has(`${fk.referencedSchema}.${fk.referencedTable}`));
      for (const m of members) {
        const self = parentsOf(m).find((fk) => fk.referencedSchema === m.schema && fk.referencedTable === m.name);
        if (self) at(p, m === t ? 'table' : 'cascade', `${m.schema}.${m.name} references itself (foreign key ${self.name}): deleting a row another row points to would fail or cascade to rows nobody checked; Steward does not follow self-references yet, so ${m === t ? 'this table needs another way (e.g. cleanup, or clear the references first)' : 'leave it out of cascade and end its rows first'}`);
      }
      const state = new Map<string, 1 | 2>();
      const cycle = (m: TableInfo, trail: string[]): string[] | null => {
        const k = `${m.schema}.${m.name}`;
        if (state.get(k) === 2) return null;
        if (state.get(k) === 1) return [...trail.slice(trail.indexOf(k)), k];
        state.set(k, 1);
        for (const fk of parentsOf(m)) {
          const parent = members.find((x) => x.schema === fk.referencedSchema && x.name === fk.referencedTable)!;
          if (parent === m) continue;
          const found = cycle(parent, [...trail, k]);
          if (found) return found;
        }
        state.set(k, 2);
        return null;
      };
      for (const m of members) {
        const c = cycle(m, []);
        if (c) {
          at(p, 'cascade', `the foreign keys of ${c.join(' → ')} form a cycle: no order deletes them without breaking a reference; Steward refuses rather than let the database cascade to rows nobody checked`);
          break;
        }
      }
    }
  }
  for (const [table, ps] of byTable) {
    for (let i = 0; i < ps.length; i++) {
      for (let j = i + 1; j < ps.length; j++) {
        const a = ps[i]!;
        const b = ps[j]!;
        const sameRows = (a.where ?? '').trim() === (b.where ?? '').trim() || !a.where || !b.where;
        if (!sameRows) continue;
        // Anonymising some columns after 3 months and deleting the row after 2 years is one plan, not a
        // conflict. Two ends for the same rows (erase/archive), or two cleanups of the same column, are.
        const ends = (p: RetentionPolicy) => p.method !== 'cleanup';
        const shared = !ends(a) && !ends(b) ? Object.keys(a.cleanup ?? {}).filter((c) => c in (b.cleanup ?? {})) : [];
        const clash = ends(a) && ends(b) ? a.method !== b.method || a.period !== b.period || a.from !== b.from : shared.length > 0 && (a.period !== b.period || a.from !== b.from || shared.some((c) => a.cleanup![c] !== b.cleanup![c]));
        if (clash) {
          const what = shared.length ? `column ${shared.join(', ')} of ${table}` : `rows of ${table}`;
          at(b, '', `policies "${a.name}" and "${b.name}" both cover ${what} but disagree (${a.method} after ${a.period} from ${a.from} vs ${b.method} after ${b.period} from ${b.from}); give them disjoint where: filters or merge them`);
        }
      }
    }
  }
  return problems;
}
