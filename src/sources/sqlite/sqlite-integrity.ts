import { sql, type RawBuilder } from 'kysely';
import type { IntegrityExpressions } from '../types.js';

/** Separators phone numbers are written with; what remains must be digits. */
const stripSeparators = (c: RawBuilder<unknown>) =>
  sql`replace(replace(replace(replace(replace(replace(${c}, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', '')`;

/**
 * SQLite has no regular expressions: emails are checked with LIKE/GLOB (one "@",
 * a dot after it, no spaces), phones by stripping the usual separators. Close to,
 * but not exactly, the other dialects' checks (`exact: false` says so in reports).
 * No `hash`: SQLite runs a query on one thread; duplicates are grouped by value.
 */
export const SQLITE_INTEGRITY: IntegrityExpressions = {
  exact: false,
  approximation: 'SQLite has no regular expressions',
  invalidEmail: (c) =>
    sql`(not (${c} like '%_@_%._%' and ${c} not like '%@%@%' and ${c} not like '% %' and substr(${c}, instr(${c}, '@')) like '%.%'))`,
  invalidPhone: (c) => sql`(${stripSeparators(c)} glob '*[^0-9]*' or length(${stripSeparators(c)}) not between 7 and 15)`,
  impossibleBirthDate: (c) => sql`(date(${c}) > date('now') or date(${c}) < '1900-01-01')`,
  olderThan: (c, iso) => sql`(julianday(${c}) < julianday(${iso}))`,
  // Text dates and times (ISO 8601) and numbers (Julian days) alike, through julianday(); dates as UTC days.
  notAfter: (c, info, cutoff) =>
    info.typeClass === 'date' ? sql`(date(${c}) <= ${cutoff.toISOString().slice(0, 10)})` : sql`(julianday(${c}) <= julianday(${cutoff.toISOString().slice(0, 19)}))`,
  folded: (c) => sql`lower(${c})`,
  // A single-column, non-partial unique index with NOCASE collation (declared on the
  // index or the column): NOCASE and lower() both fold ASCII letters only, so values
  // equal after lower() are equal under NOCASE, which the index forbids.
  foldedUniqueColumns: (table) => sql`
    select distinct k.name as "column"
    from pragma_index_list(${table.name}, ${table.schema}) il
    join pragma_index_xinfo(il.name, ${table.schema}) k
    where il."unique" = 1 and il.partial = 0 and k.key = 1 and k.name is not null and upper(k.coll) = 'NOCASE'
      and (select count(*) from pragma_index_xinfo(il.name, ${table.schema}) x where x.key = 1) = 1`,
};
