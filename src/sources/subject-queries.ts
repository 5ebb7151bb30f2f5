/**
 * The dialect-specific SQL a data-subject search needs: which indexes lead with
 * which column or expression (to flag lookups that would scan), how a stored
 * identifier is compared with normalised values (emails case-folded, phones and
 * national IDs by their characters without separators), and how often a child
 * column's values are found in a parent key (the evidence for an inferred link).
 * Every identifier goes through `sql.id`; every value is a bound parameter.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { NATIONAL_ID_LOOKUP, PHONE_LOOKUP } from './lookup-expressions.js';
import type { SourceKind, TableInfo, TableRef } from './types.js';

const tableId = (t: TableRef, kind: SourceKind) => (kind === 'sqlite' ? sql.id(t.name) : sql.id(t.schema, t.name));

/**
 * `schema.table` → the first column (or expression, as `lower(email)`) of each
 * index on it (a table without index: no entry). Best effort: a catalog the role cannot read gives null,
 * and callers then say "unknown" rather than "not indexed".
 */
export async function indexLeads(db: Kysely<any>, kind: SourceKind, tables: readonly TableInfo[]): Promise<Map<string, string[]> | null> {
  const out = new Map<string, string[]>();
  const add = (schema: string, table: string, lead: string | null) => {
    if (!lead) return;
    const k = `${schema}.${table}`;
    out.set(k, [...(out.get(k) ?? []), lead]);
  };
  const schemas = [...new Set(tables.map((t) => t.schema))];
  if (schemas.length === 0) return out;
  try {
    if (kind === 'postgres') {
      // Indexes other than btree and hash serve no equality lookup: reported as `am:<expr> <opclass>` (`gin:lower(body) gin_trgm_ops`).
      const r = await sql<{ s: string; t: string; lead: string; am: string; opc: string | null }>`select n.nspname as s, c.relname as t, pg_get_indexdef(i.indexrelid, 1, true) as lead,
          am.amname as am, (select opcname from pg_opclass where oid = i.indclass[0]) as opc
        from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
          join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
        where n.nspname in (${sql.join(schemas)}) and i.indpred is null`.execute(db);
      for (const row of r.rows) add(row.s, row.t, row.am === 'btree' || row.am === 'hash' ? row.lead : `${row.am}:${row.lead} ${row.opc ?? ''}`.trim());
    } else if (kind === 'mysql') {
      const r = await sql<{ s: string; t: string; lead: string | null }>`select table_schema as s, table_name as t, column_name as lead
        from information_schema.statistics where seq_in_index = 1 and table_schema in (${sql.join(schemas)})`.execute(db);
      for (const row of r.rows) add(row.s, row.t, row.lead);
    } else {
      for (const t of tables) {
        const list = (await sql<{ name: string; partial: number }>`select name, partial from pragma_index_list(${t.name})`.execute(db)).rows;
        for (const idx of list) {
          if (Number(idx.partial) === 1) continue;
          const first = (await sql<{ cid: number; name: string | null }>`select cid, name from pragma_index_xinfo(${idx.name}) where seqno = 0`.execute(db)).rows[0];
          if (!first) continue;
          if (first.name) add(t.schema, t.name, first.name);
          else {
            const def = (await sql<{ sql: string | null }>`select sql from sqlite_master where type = 'index' and name = ${idx.name}`.execute(db)).rows[0]?.sql ?? '';
            add(t.schema, t.name, firstIndexExpression(def));
          }
        }
      }
    }
  } catch {
    return null;
  }
  return out;
}

/**
 * The first key expression of a `CREATE INDEX … ON t (expr, …)` statement as written
 * (nested parentheses and quoted strings kept whole); null when it cannot be read.
 */
export function firstIndexExpression(def: string): string | null {
  const on = def.search(/\bon\b/i);
  if (on < 0) return null;
  const open = def.indexOf('(', on);
  if (open < 0) return null;
  let depth = 0;
  for (let i = open + 1; i < def.length; i++) {
    const ch = def[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      const close = def.indexOf(ch, i + 1);
      if (close < 0) return null;
      i = close; // a doubled quote inside is read as two quoted runs: same span
    } else if (ch === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    else if ((ch === ')' || ch === ',') && depth === 0) return def.slice(open + 1, i).trim() || null;
  }
  return null;
}

// The separators are constants written as literals (lookup-expressions.ts checks they need no escaping): bound
// parameters would keep SQLite, and a generic plan on Postgres, from using an index on the same expression.
const stripped = (c: RawBuilder<unknown>, chars: readonly string[]) => chars.reduce<RawBuilder<unknown>>((e, ch) => sql`replace(${e}, ${sql.lit(ch)}, '')`, c);

/**
 * `column` compared with already-normalised values (see subjects/identifiers.ts):
 * emails by `lower(col)` (an index on `lower(col)` serves it; MySQL's collations fold
 * case by themselves, so a plain index does), phones by their digits in any of the
 * given variants, national IDs upper-cased without separators (the expressions of
 * lookup-expressions.ts: an index on exactly them serves the lookup where the dialect
 * has one, see `SourceDialect.lookupIndexStatement`).
 */
export function identifierMatch(kind: SourceKind, idKind: 'email' | 'phone' | 'nationalId', column: string, values: readonly string[]): RawBuilder<unknown> {
  const c = sql.id(column);
  const text = kind === 'mysql' ? sql`cast(${c} as char)` : kind === 'postgres' ? sql`${c}::text` : sql`cast(${c} as text)`;
  const list = sql.join(values.map((v) => sql`${v}`));
  if (idKind === 'email') return kind === 'mysql' ? sql`${c} in (${list})` : sql`lower(${c}) in (${list})`;
  if (idKind === 'phone') return sql`${stripped(text, PHONE_LOOKUP.strip)} in (${list})`;
  return sql`upper(${stripped(text, NATIONAL_ID_LOOKUP.strip)}) in (${list})`;
}

/** `col in (…)` with blind indexes (text, compared exactly: an index on the column serves it). */
export function blindIndexMatch(column: string, indexes: readonly string[]): RawBuilder<unknown> {
  return sql`${sql.id(column)} in (${sql.join(indexes.map((v) => sql`${v}`))})`;
}

/** `lower(col) like lower(pattern)` for every value, as one predicate: free-text mentions. */
export function mentionMatch(column: string, values: readonly string[], kind?: SourceKind): RawBuilder<unknown> {
  const c = sql.id(column);
  // PostgreSQL: one `like any (array)` lowers the text once per row (an `or` of likes lowers it once per
  // pattern: 2.5× the time of a scan with four patterns); a pg_trgm index on lower(col) serves both.
  // Its escape character is the default, a backslash: backslashes, `%` and `_` are escaped with one.
  if (kind === 'postgres') return sql`(lower(${c}) like any (${values.map((v) => `%${v.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`)}::text[]))`;
  const esc = (v: string) => `%${v.replace(/[!%_]/g, (m) => `!${m}`)}%`;
  return sql`(${sql.join(
    values.map((v) => sql`lower(${c}) like ${esc(v.toLowerCase())} escape '!'`),
    sql` or `,
  )})`;
}

/**
 * Of up to `sample` distinct non-null values of `child.column`, how many are found in
 * `parent.key`: the evidence for an inferred link. One statement.
 */
export async function inclusion(db: Kysely<any>, kind: SourceKind, child: TableRef & { column: string }, parent: TableRef & { column: string }, options: { readonly sample?: number; readonly sameType?: boolean } = {}): Promise<{ sampled: number; found: number }> {
  const sample = options.sample ?? 1000;
  const cc = sql.id(child.column);
  const pc = sql.id(parent.column);
  // Same types compare directly (the parent key's index serves each probe); others as text.
  const asText = (e: RawBuilder<unknown>) => (options.sameType !== false ? e : kind === 'mysql' ? sql`cast(${e} as char)` : sql`cast(${e} as text)`);
  const r = await sql<{ sampled: unknown; found: unknown }>`select count(*) as sampled,
      sum(case when exists (select 1 from ${tableId(parent, kind)} p where ${asText(sql`p.${pc}`)} = ${asText(sql`s.v`)}) then 1 else 0 end) as found
    from (select distinct ${cc} as v from ${tableId(child, kind)} where ${cc} is not null limit ${sample}) s`.execute(db);
  return { sampled: Number(r.rows[0]?.sampled ?? 0), found: Number(r.rows[0]?.found ?? 0) };
}

/** `from schema.table` for the dialect (SQLite has one schema). */
export const subjectTableSql = tableId;
