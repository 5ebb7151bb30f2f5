/**
 * How a person names a table on the command line or in steward.yml, resolved
 * against an introspection: `customers`, `public.customers`, `"Customers"`,
 * `` `db`.`t` `` — and names that hold dots themselves (`ops@corp.example`, a
 * table named like an email address). One resolver for every command, so a
 * spelling means the same physical table everywhere.
 *
 * A dot outside quotes may separate schema and table or belong to the name: every
 * reading is tried (the whole spelling as a name first, then each split), and two
 * tables that both match are an ambiguity the caller reports, with the quoted
 * spelling that picks one (`'"ops@corp.example"'` or `'ops@corp."example"'`).
 */
import type { TableInfo, TableRef } from './types.js';

/** One way to read a spelling: a table name, and the schema when the spelling gives one. */
export interface TableReading {
  readonly schema?: string;
  readonly name: string;
}

interface Part {
  readonly text: string;
  readonly quoted: boolean;
}

/** `a."b.c"` → parts split on dots outside double quotes or backticks, each unquoted (doubled quotes undone). */
function parts(arg: string): Part[] {
  const out: Part[] = [];
  let cur = '';
  let quoted = false;
  let quote: string | null = null;
  for (let i = 0; i < arg.length; i++) {
    const ch = arg[i]!;
    if (quote) {
      if (ch === quote && arg[i + 1] === quote) {
        cur += ch;
        i++;
      } else if (ch === quote) quote = null;
      else cur += ch;
    } else if ((ch === '"' || ch === '`') && cur === '' && !quoted) {
      quote = ch;
      quoted = true;
    } else if (ch === '.') {
      out.push({ text: cur, quoted });
      cur = '';
      quoted = false;
    } else cur += ch;
  }
  out.push({ text: cur, quoted });
  return out;
}

/**
 * Every reading of a spelling, most literal first. Unquoted dots may belong to the
 * name, so `ops@corp.example` reads as the table `ops@corp.example` and as the table
 * `example` of the schema `ops@corp`; `"ops@corp.example"` only as the first.
 */
export function tableReadings(spelling: string): TableReading[] {
  const p = parts(spelling);
  const out: TableReading[] = [];
  const seen = new Set<string>();
  const add = (r: TableReading) => {
    const k = JSON.stringify([r.schema ?? null, r.name]);
    if (r.name !== '' && r.schema !== '' && !seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  };
  // Split points: after part i (schema = parts[0..i], name = parts[i+1..]); no split: all one name.
  for (let split = -1; split < p.length - 1; split++) {
    const schema = split >= 0 ? p.slice(0, split + 1).map((x) => x.text).join('.') : undefined;
    const name = p.slice(split + 1).map((x) => x.text).join('.');
    add(schema === undefined ? { name } : { schema, name });
  }
  return out;
}

/** The index of the last dot outside quotes (for `TABLE.COLUMN`), or -1. */
export function lastUnquotedDot(arg: string): number {
  let quote: string | null = null;
  let last = -1;
  for (let i = 0; i < arg.length; i++) {
    const ch = arg[i]!;
    if (quote) {
      if (ch === quote && arg[i + 1] === quote) i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === '`') quote = ch;
    else if (ch === '.') last = i;
  }
  return last;
}

/** `"col.x"` → `col.x`; `email` → `email`. */
export function unquoteName(part: string): string {
  const p = parts(part);
  return p.map((x) => x.text).join('.');
}

/** The schemas a spelling may name, for introspecting schemas outside the default set. */
export function schemasNamed(spelling: string): string[] {
  return [...new Set(tableReadings(spelling).flatMap((r) => (r.schema === undefined ? [] : [r.schema])))];
}

const same = (t: TableRef, r: TableReading, fold: (s: string) => string) => fold(t.name) === fold(r.name) && (r.schema === undefined || fold(t.schema) === fold(r.schema));

/**
 * The tables a spelling names: exact matches of any reading first, and only when none
 * matches, names equal but for case (how MySQL and unquoted Postgres names fold).
 * Several results mean the spelling is ambiguous (same name in two schemas, or a
 * dotted name that also reads as schema.table).
 */
export function tablesNamed<T extends TableRef>(tables: readonly T[], spelling: string): T[] {
  const readings = tableReadings(spelling);
  const pick = (fold: (s: string) => string) => tables.filter((t) => readings.some((r) => same(t, r, fold)));
  const exact = pick((s) => s);
  return exact.length > 0 ? exact : pick((s) => s.toLowerCase());
}

/** A spelling that names exactly `t` and nothing else: `"schema"."name"` quoted as the user would type it. */
export function exactSpelling(t: TableRef): string {
  const q = (s: string) => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(s) ? s : `"${s.replaceAll('"', '""')}"`);
  return `${q(t.schema)}.${q(t.name)}`;
}

/** Convenience for resolvers: the single table (kind `table`) or a reason why not. */
export function oneTable<T extends TableInfo>(tables: readonly T[], spelling: string): { table: T } | { none: true } | { several: T[] } {
  const hits = tablesNamed(tables, spelling);
  if (hits.length === 0) return { none: true };
  if (hits.length > 1) return { several: hits };
  return { table: hits[0]! };
}
