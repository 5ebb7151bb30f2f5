import { sql, type RawBuilder } from 'kysely';
import type { IntegrityExpressions } from '../types.js';

/** Separators phone numbers are written with; what remains must be digits. */
const stripSeparators = (c: RawBuilder<unknown>) =>
  sql`replace(replace(replace(replace(replace(replace(${c}, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', '')`;

/**
 * SQLite has no regular expressions: emails are checked with LIKE/GLOB (one "@",
 * a dot after it, no spaces), phones by stripping the usual separators. Close to,
 * but not exactly, the other dialects' checks (`exact: false` says so in reports).
 */
export const SQLITE_INTEGRITY: IntegrityExpressions = {
  exact: false,
  invalidEmail: (c) =>
    sql`(not (${c} like '%_@_%._%' and ${c} not like '%@%@%' and ${c} not like '% %' and substr(${c}, instr(${c}, '@')) like '%.%'))`,
  invalidPhone: (c) => sql`(${stripSeparators(c)} glob '*[^0-9]*' or length(${stripSeparators(c)}) not between 7 and 15)`,
  impossibleBirthDate: (c) => sql`(date(${c}) > date('now') or date(${c}) < '1900-01-01')`,
  olderThan: (c, iso) => sql`(julianday(${c}) < julianday(${iso}))`,
  folded: (c) => sql`lower(${c})`,
};
