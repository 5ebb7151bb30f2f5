import { sql } from 'kysely';
import type { IntegrityExpressions } from '../types.js';

/**
 * No `hash`: MySQL/MariaDB run a query on one thread, so grouping by a hash would
 * only add work; duplicates are grouped by the folded value itself.
 */
export const MYSQL_INTEGRITY: IntegrityExpressions = {
  exact: true,
  invalidEmail: (c) => sql`(${c} not regexp '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$')`,
  // Only digits and separators, 7–15 digits (as on the other dialects: letters are not separators).
  invalidPhone: (c) => sql`(${c} regexp '[^-() .+0-9]' or char_length(regexp_replace(${c}, '[^0-9]', '')) not between 7 and 15)`,
  impossibleBirthDate: (c) => sql`(cast(${c} as date) > current_date or cast(${c} as date) < '1900-01-01')`,
  olderThan: (c, iso) => sql`(${c} < ${iso.slice(0, 19).replace('T', ' ')})`,
  // TIMESTAMP columns compare in the session's time zone: the literal is converted from UTC to it.
  notAfter: (c, info, cutoff) =>
    info.typeClass === 'date'
      ? sql`(${c} <= ${cutoff.toISOString().slice(0, 10)})`
      : /^timestamp/.test(info.dataType)
        ? sql`(${c} <= convert_tz(${cutoff.toISOString().slice(0, 19).replace('T', ' ')}, '+00:00', @@session.time_zone))`
        : sql`(${c} <= ${cutoff.toISOString().slice(0, 19).replace('T', ' ')})`,
  folded: (c) => sql`lower(${c})`,
  // A single-column unique index (no prefix length) on a case-insensitive (_ci) column:
  // values equal after lower() are equal in that collation, which the index forbids.
  // (GROUP BY lower(c) compares in the same collation, so the skipped count would be 0.)
  foldedUniqueColumns: (table) => sql`
    select distinct s.column_name as ${sql.id('column')}
    from information_schema.statistics s
    join information_schema.columns c on c.table_schema = s.table_schema and c.table_name = s.table_name and c.column_name = s.column_name
    where s.table_schema = ${table.schema} and s.table_name = ${table.name}
      and s.non_unique = 0 and s.sub_part is null and c.collation_name like '%\\_ci'
      and not exists (select 1 from information_schema.statistics o
                      where o.table_schema = s.table_schema and o.table_name = s.table_name and o.index_name = s.index_name and o.seq_in_index > 1)`,
};
