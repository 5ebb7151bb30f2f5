import { sql } from 'kysely';
import type { IntegrityExpressions } from '../types.js';

export const MYSQL_INTEGRITY: IntegrityExpressions = {
  exact: true,
  invalidEmail: (c) => sql`(${c} not regexp '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$')`,
  invalidPhone: (c) => sql`(char_length(regexp_replace(${c}, '[^0-9]', '')) not between 7 and 15)`,
  impossibleBirthDate: (c) => sql`(cast(${c} as date) > current_date or cast(${c} as date) < '1900-01-01')`,
  olderThan: (c, iso) => sql`(${c} < ${iso.slice(0, 19).replace('T', ' ')})`,
  folded: (c) => sql`lower(${c})`,
};
